//! Where messages go out: the SMTP relay's settings (`Config::smtp`), apart
//! from the outbox that uses them.

use lettre::message::Mailbox;

/// Where messages go out: a plain SMTP relay (no TLS: loopback or a trusted
/// network only) and the sender address.
#[derive(Clone, Debug)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub from: Mailbox,
}

impl SmtpConfig {
    /// From `smtp://HOST:PORT` (port 25 when left out) and a sender address.
    pub fn parse(url: &str, from: &str) -> Result<SmtpConfig, String> {
        let rest = url
            .trim()
            .strip_prefix("smtp://")
            .ok_or("the SMTP URL must look like smtp://HOST:PORT")?;
        let rest = rest.trim_end_matches('/');
        if rest.is_empty() || rest.contains(['/', '@', '?']) {
            return Err("the SMTP URL must look like smtp://HOST:PORT".into());
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse::<u16>()
                    .map_err(|_| "the SMTP port must be a number from 1 to 65535")?,
            ),
            None => (rest, 25),
        };
        if host.is_empty() || port == 0 {
            return Err("the SMTP URL must look like smtp://HOST:PORT".into());
        }
        let from = from
            .trim()
            .parse::<Mailbox>()
            .map_err(|_| "the sender (--mail-from) is not a valid email address")?;
        Ok(SmtpConfig {
            host: host.trim_matches(['[', ']']).to_owned(),
            port,
            from,
        })
    }
}

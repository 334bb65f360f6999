//! The outbox: messages to a company's owner (key expiry notices, leak
//! alerts), and the worker that sends each once over SMTP when SMTP is
//! configured. Without SMTP the messages wait in the outbox, which the
//! account site shows. The worker's time is the service's clock, and one pass
//! (`run_once`) can be driven by tests without waiting.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use web::i18n::{Lang, T};

use crate::audit::{self, action};
use crate::store::{self, KeyRow, NewEvent, NewMessage};
use crate::Services;

pub use crate::smtp::SmtpConfig;

/// The kinds of message.
pub mod kind {
    pub const EXPIRY_NOTICE: &str = "key_expiry";
    pub const KEY_LEAKED: &str = "key_leaked";
    pub const MEMBER_INVITE: &str = crate::members::KIND;
}

/// Expiry notices go out this many days before a key expires.
pub const NOTICE_DAYS: [i64; 2] = [14, 3];
/// A message is tried at most this many times.
pub const MAX_ATTEMPTS: i64 = 10;
/// How long a worker holds a message it is sending.
const CLAIM_SECS: i64 = 300;
const BATCH: i64 = 500;

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    pub queued: usize,
    pub sent: usize,
    pub failed: usize,
}

/// A message's body as sent: an invitation's, a password reset's or an
/// email confirmation's with its link's token put in.
pub fn message_body(state: &Services, m: &store::MessageRow) -> String {
    let key = &state.cfg.link_key;
    let mut body = m.body.clone();
    if let Some(id) = &m.invitation_id {
        body = body.replace(crate::members::TOKEN_PLACEHOLDER, &key.token(id));
    }
    if let Some(id) = &m.verification_id {
        body = body.replace(
            crate::email_verification::TOKEN_PLACEHOLDER,
            &key.token_for(crate::link_key::Purpose::EmailVerification, id),
        );
        body = body.replace(
            crate::email_verification::CANCEL_PLACEHOLDER,
            &key.token_for(crate::link_key::Purpose::EmailChangeCancel, id),
        );
    }
    if let Some(id) = &m.reset_id {
        body = body.replace(
            crate::password_reset::TOKEN_PLACEHOLDER,
            &key.token_for(crate::link_key::Purpose::PasswordReset, id),
        );
    }
    body
}

/// A message's body as the outbox page shows it to `viewer` (the owner): a
/// password reset link only to the account it is for, so that no one signs
/// in as a member with a link read there.
pub fn shown_body(state: &Services, m: &store::MessageRow, viewer: &str, hidden: &str) -> String {
    if m.reset_id.is_some() && m.recipient != viewer {
        return m
            .body
            .replace(crate::password_reset::TOKEN_PLACEHOLDER, hidden);
    }
    message_body(state, m)
}

/// Queues a message to the company's owner; false when it was queued before
/// (same dedupe key) or the company has no owner.
pub async fn notify_owner(
    state: &Services,
    company_id: &str,
    kind: &str,
    dedupe_key: Option<&str>,
    compose: impl FnOnce(T) -> (String, String),
    event: Option<&NewEvent<'_>>,
) -> Result<bool, sqlx::Error> {
    let Some((email, locale)) = store::company_owner(&state.db, company_id).await? else {
        return Ok(false);
    };
    let (subject, body) = compose(crate::i18n::in_locale(locale.as_deref(), Lang::default()));
    store::enqueue_message(
        &state.db,
        &NewMessage {
            company_id: Some(company_id),
            recipient: &email,
            kind,
            subject: &subject,
            body: &body,
            dedupe_key,
            at: state.clock.now(),
        },
        event,
    )
    .await
}

/// The words of a key in messages: its name, environment and hint.
fn describe(t: T, key: &KeyRow) -> String {
    let env = if key.environment == keys::Environment::Sandbox {
        t.get("env.sandbox")
    } else {
        t.get("env.production")
    };
    format!("\"{}\" ({env}, {})", key.name, key.hint)
}

/// Queues the notices due now: a key expiring within 14 days gets the 14-day
/// notice, within 3 days the 3-day one; each key gets each notice at most
/// once, and a key first seen within 3 days gets only the 3-day one.
pub async fn queue_expiry_notices(state: &Services) -> Result<usize, sqlx::Error> {
    let now = state.clock.now();
    let mut queued = 0;
    let mut lower = now;
    for days in NOTICE_DAYS.iter().rev() {
        let upper = now + days * 86400;
        let prefix = format!("expiry:{days}:");
        let keys = store::keys_to_notify(&state.db, lower, upper, &prefix, BATCH).await?;
        for key in keys {
            let Some(expires_at) = key.expires_at else {
                continue;
            };
            let dedupe = format!("{prefix}{}", key.id);
            let date = web::clock::human(expires_at);
            let detail = audit::key_detail(
                &key.name,
                key.environment,
                &key.hint,
                serde_json::json!({"days": days, "expires_at": web::clock::rfc3339(expires_at)}),
            );
            let event = NewEvent {
                company_id: Some(&key.company_id),
                actor_id: None,
                actor: None,
                action: action::KEY_EXPIRY_NOTIFIED,
                target: Some(&key.id),
                detail: Some(&detail),
                ip: None,
                at: now,
            };
            let compose = |t: T| {
                let what = describe(t, &key);
                let subject = t.fmt("mail.expiry_subject", "name", &key.name);
                let body = crate::i18n::letter(
                    t,
                    [
                        t.get("mail.expiry_body")
                            .replace("{key}", &what)
                            .replace("{date}", &date),
                        t.get("mail.expiry_action").to_owned(),
                    ],
                );
                (subject, body)
            };
            if notify_owner(
                state,
                &key.company_id,
                kind::EXPIRY_NOTICE,
                Some(&dedupe),
                compose,
                Some(&event),
            )
            .await?
            {
                queued += 1;
            }
        }
        lower = upper;
    }
    Ok(queued)
}

/// Sends the unsent messages once each (when SMTP is configured).
pub async fn send_pending(state: &Services, smtp: &SmtpConfig) -> Result<Pass, sqlx::Error> {
    let mut pass = Pass::default();
    let now = state.clock.now();
    let pending = store::unsent_messages(&state.db, now, MAX_ATTEMPTS, BATCH).await?;
    if pending.is_empty() {
        return Ok(pass);
    }
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.as_str())
        .port(smtp.port)
        .timeout(Some(Duration::from_secs(10)))
        .build();
    for m in pending {
        if !store::claim_message(&state.db, m.id, now, now + CLAIM_SECS).await? {
            continue;
        }
        let email = m
            .recipient
            .parse::<Mailbox>()
            .map_err(|e| e.to_string())
            .and_then(|to| {
                // Stable per message: should a retry follow a lost reply,
                // the receiver can tell it is the same message.
                let id = format!(
                    "<outbox-{}-{}@{}>",
                    m.id,
                    m.created_at,
                    smtp.from.email.domain()
                );
                Message::builder()
                    .message_id(Some(id))
                    .from(smtp.from.clone())
                    .to(to)
                    .subject(m.subject.as_str())
                    .header(ContentType::TEXT_PLAIN)
                    .body(message_body(state, &m))
                    .map_err(|e| e.to_string())
            });
        let sent = match email {
            Ok(email) => mailer
                .send(email)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        match sent {
            Ok(()) => {
                store::mark_sent(&state.db, m.id, state.clock.now()).await?;
                pass.sent += 1;
            }
            Err(e) => {
                tracing::warn!(message = m.id, error = %e, "could not send a message; will retry");
                store::mark_failed(&state.db, m.id, &e).await?;
                pass.failed += 1;
            }
        }
    }
    Ok(pass)
}

/// One pass of the worker: queue the notices due, then send what waits.
pub async fn run_once(state: &Services) -> Result<Pass, sqlx::Error> {
    let queued = queue_expiry_notices(state).await?;
    let purged = store::purge(
        &state.db,
        state.clock.now(),
        crate::auth::SESSION_IDLE_SECS,
        crate::auth::SESSION_ABSOLUTE_SECS,
    )
    .await?;
    if purged != store::Purged::default() {
        tracing::info!(
            ?purged,
            "purged ended sessions, invitations and sent messages"
        );
    }
    let mut pass = match &state.cfg.smtp {
        Some(smtp) => send_pending(state, smtp).await?,
        None => Pass::default(),
    };
    pass.queued = queued;
    Ok(pass)
}

/// Runs a pass every `every`, for as long as the service runs.
pub async fn worker(state: impl std::ops::Deref<Target = Services>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = run_once(&state).await {
            tracing::warn!(error = %e, "the outbox pass failed; will retry");
        }
    }
}

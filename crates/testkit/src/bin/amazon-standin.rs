//! The Amazon stand-in as a program, for the browser suite: the LWA token
//! endpoint and Seller Central's consent pages on loopback.
//!
//! ```text
//! amazon-standin [--addr 127.0.0.1:0] [--application-id ID] [--client-id ID]
//!                [--client-secret SECRET | --client-secret-file FILE]
//!                [--login-uri URL] [--seller-id ID]
//! ```
//!
//! Prints `LWA: <token URL>` and `SELLER_CENTRAL: <base URL>` on stdout, then
//! serves until killed. With `--client-secret-file` the accepted secret is
//! read from the file on every token request (rotate it by rewriting the file).

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use testkit::amazon::{AmazonStandIn, StandInConfig};

fn main() -> ExitCode {
    let mut cfg = StandInConfig::default();
    let mut addr = "127.0.0.1:0".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            println!("amazon-standin [--addr ADDR] [--application-id ID] [--client-id ID] [--client-secret SECRET | --client-secret-file FILE] [--login-uri URL] [--seller-id ID]");
            return ExitCode::SUCCESS;
        }
        let Some(value) = args.next() else {
            eprintln!("amazon-standin: {flag} needs a value");
            return ExitCode::from(2);
        };
        match flag.as_str() {
            "--addr" => addr = value,
            "--application-id" => cfg.application_id = value,
            "--client-id" => cfg.client_id = value,
            "--client-secret" => cfg.client_secret = value,
            "--client-secret-file" => {
                if std::fs::metadata(&value).is_err() {
                    eprintln!("amazon-standin: --client-secret-file {value} cannot be read");
                    return ExitCode::from(2);
                }
                cfg.client_secret_file = Some(value.into());
            }
            "--login-uri" => cfg.login_uri = Some(value),
            "--seller-id" => cfg.seller_id = value,
            other => {
                eprintln!("amazon-standin: unknown flag {other}");
                return ExitCode::from(2);
            }
        }
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("amazon-standin: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        let standin = AmazonStandIn::start_with(cfg, Arc::new(web::SystemClock), &addr).await;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "LWA: {}", standin.token_url());
        let _ = writeln!(out, "SELLER_CENTRAL: {}", standin.seller_central_url());
        let _ = out.flush();
        drop(out);
        std::future::pending::<()>().await;
    });
    ExitCode::SUCCESS
}

//! `serve`'s Amazon flags, checked and turned into the account service's
//! settings: a bad value stops the command with one line naming the flag.

use std::path::Path;
use std::sync::Arc;

use anyhow::anyhow;

use crate::cli::AmazonArgs;

/// The Amazon settings (`None`: not set up) and the refresh tokens' key.
pub fn settings(
    data_dir: &Path,
    args: &AmazonArgs,
) -> anyhow::Result<(
    Option<account::amazon::AmazonConfig>,
    Arc<web::crypto::Crypto>,
)> {
    use account::amazon::config::{check_id, check_url};
    use account::amazon::{AmazonConfig, ClientSecret};
    let key_path = args
        .token_key_file
        .clone()
        .unwrap_or_else(|| data_dir.join("token.key"));
    let crypto = web::crypto::Crypto::open_or_create(&key_path)
        .map_err(|e| anyhow!("--token-key-file: {e}"))?;
    // The other flags are checked even when Amazon is not set up.
    check_url(&args.lwa_token_url).map_err(|e| anyhow!("--lwa-token-url: {e}"))?;
    let given = [
        args.amazon_application_id.is_some(),
        args.lwa_client_id.is_some(),
        args.lwa_client_secret_file.is_some(),
    ];
    let cfg = match (
        &args.amazon_application_id,
        &args.lwa_client_id,
        &args.lwa_client_secret_file,
    ) {
        (Some(app), Some(client), Some(file)) => {
            let app = check_id("--amazon-application-id", app).map_err(|e| anyhow!(e))?;
            let client = check_id("--lwa-client-id", client).map_err(|e| anyhow!(e))?;
            let secret = ClientSecret::from_file(file).map_err(|e| anyhow!(e))?;
            let mut cfg = AmazonConfig::new(&app, &client, secret)
                .with_token_url(&args.lwa_token_url)
                .map_err(|e| anyhow!(e))?
                .with_seller_central(&args.seller_central_url)
                .map_err(|e| anyhow!(e))?;
            cfg.draft_app = args.amazon_draft_app;
            Some(cfg)
        }
        _ if given.iter().any(|g| *g) => {
            return Err(anyhow!(
                "--amazon-application-id, --lwa-client-id and --lwa-client-secret-file go together: give all three to set up Amazon authorization"
            ))
        }
        _ => {
            // Checked all the same, so a typo is not found only later.
            AmazonConfig::new("-", "-", ClientSecret::fixed("-"))
                .with_seller_central(&args.seller_central_url)
                .map_err(|e| anyhow!(e))?;
            None
        }
    };
    Ok((cfg, Arc::new(crypto)))
}

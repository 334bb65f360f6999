//! The command line, as SPEC §3 names it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "commerce",
    version,
    about = "API keys for the Amazon Sales Channel: the account service and the Commerce Admin"
)]
pub struct Cli {
    /// Where the embedded databases and the encryption key file live.
    #[arg(
        long,
        global = true,
        default_value = "./var",
        env = "COMMERCE_DATA_DIR"
    )]
    pub data_dir: PathBuf,

    /// How log lines are written on stderr: `text` for people, `json` (one
    /// object a line) for log collectors. Each request's lines carry its
    /// `request_id`.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "COMMERCE_LOG_FORMAT"
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

// Parsed once at start-up: the size of `serve`'s arguments costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the account service and the Admin (or one of them).
    Serve(ServeArgs),
    /// Create an Admin user.
    #[command(name = "admin:user:create")]
    AdminUserCreate {
        #[arg(long)]
        username: String,
        #[arg(long)]
        password: String,
        #[arg(long)]
        email: String,
        #[command(flatten)]
        db: AdminDb,
    },
    /// Set an Admin user's password and end that user's sessions.
    #[command(name = "admin:user:password")]
    AdminUserPassword {
        #[arg(long)]
        username: String,
        /// Read the new password from FILE, or from standard input with `-`
        /// (one trailing newline is dropped). Without it a password is
        /// generated and printed once.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
        #[command(flatten)]
        db: AdminDb,
    },
    /// Remove an Admin user's second steps (authenticator app, recovery
    /// codes) and end their sessions; they set one up at their next sign-in.
    #[command(name = "admin:user:2fa:reset")]
    AdminUser2faReset {
        #[arg(long)]
        username: String,
        #[command(flatten)]
        db: AdminDb,
    },
    /// Remove a person's second steps on the account service (authenticator
    /// app, passkeys, recovery codes) for someone who lost every device: their
    /// sessions end, a notice is mailed, and the audit log records it.
    #[command(name = "account:2fa:reset")]
    Account2faReset {
        #[arg(long)]
        email: String,
        /// The account service's database (default: sqlite under --data-dir).
        #[arg(long, env = "COMMERCE_DATABASE_URL")]
        database_url: Option<String>,
    },
    /// Set a configuration value (an empty VALUE clears it).
    #[command(name = "config:set")]
    ConfigSet {
        path: String,
        /// May start with a dash (a PEM private key does). Leave it out and
        /// use --value-file to keep a secret out of `ps` and shell history.
        #[arg(
            allow_hyphen_values = true,
            required_unless_present = "value_file",
            conflicts_with = "value_file"
        )]
        value: Option<String>,
        /// Read the value from FILE, or from standard input with `-` (one
        /// trailing newline is dropped).
        #[arg(long, value_name = "FILE")]
        value_file: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "default")]
        scope: ScopeArg,
        /// The website or store view code, for --scope websites or stores.
        #[arg(long)]
        scope_code: Option<String>,
        #[command(flatten)]
        db: AdminDb,
    },
    /// Print configuration values as `PATH = VALUE`; secrets are masked.
    #[command(name = "config:show")]
    ConfigShow {
        path: Option<String>,
        #[arg(long, value_enum, default_value = "default")]
        scope: ScopeArg,
        #[arg(long)]
        scope_code: Option<String>,
        #[command(flatten)]
        db: AdminDb,
    },
    /// Seed many keys through the bulk path (benchmarks); writes a sample of them to --out.
    #[command(name = "account:seed-keys", hide = true)]
    AccountSeedKeys {
        #[arg(long)]
        count: usize,
        #[arg(long, default_value_t = 10_000)]
        sample: usize,
        #[arg(long)]
        out: PathBuf,
        /// How many keys get a signing public key (written with a signed
        /// ping's token, valid ten minutes, to --signed-out).
        #[arg(long, default_value_t = 100)]
        signed: usize,
        /// Where the signed keys and their tokens go, one "KEY TOKEN" per line.
        #[arg(long)]
        signed_out: Option<PathBuf>,
        /// Give every key the heaviest policy (50 allowed ranges, loopback
        /// last; the Amazon Sales Channel only).
        #[arg(long)]
        policy: bool,
        /// The account service's database (default: sqlite under --data-dir).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Check the stored Production key as opening the channel does.
    #[command(name = "channel:amazon:verify")]
    ChannelAmazonVerify {
        /// The account service, over the configured gateway URL.
        #[arg(long)]
        account_url: Option<String>,
        #[command(flatten)]
        db: AdminDb,
    },
    /// An online, consistent copy of a SQLite database (PostgreSQL: use pg_dump).
    #[command(name = "db:backup")]
    DbBackup {
        /// Where the copy goes: a new file (an existing one is never overwritten).
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
        /// The database to copy (default: the account service's, sqlite under --data-dir).
        #[arg(long, env = "COMMERCE_DATABASE_URL")]
        database_url: Option<String>,
    },
    /// Add a new data key to crypt.key and re-encrypt every stored secret under it.
    #[command(name = "encryption:key:change")]
    EncryptionKeyChange {
        #[command(flatten)]
        db: AdminDb,
    },
}

#[derive(Args, Debug)]
pub struct AdminDb {
    /// The Admin's database (default: sqlite under --data-dir).
    #[arg(long, env = "COMMERCE_ADMIN_DATABASE_URL")]
    pub database_url: Option<String>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
pub enum ScopeArg {
    Default,
    Websites,
    Stores,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Run only one side.
    #[arg(value_enum)]
    pub side: Option<Side>,
    /// The account service's address (port 0: any free port; the URL printed says which).
    #[arg(long, default_value = "127.0.0.1:8080", env = "COMMERCE_ACCOUNT_ADDR")]
    pub account_addr: String,
    /// The Commerce Admin's address (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8081", env = "COMMERCE_ADMIN_ADDR")]
    pub admin_addr: String,
    /// The database of the side being run: `sqlite://…` (default, under
    /// --data-dir) or `postgres://…`. With both sides, the account service's.
    #[arg(long, env = "COMMERCE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// The Admin's database when both sides run (default: sqlite under --data-dir).
    #[arg(long)]
    pub admin_database_url: Option<String>,
    /// Where the Admin reaches the account service (default: the one started,
    /// or the configured gateway URL).
    #[arg(long)]
    pub account_url: Option<String>,
    /// Mark cookies Secure (serve behind HTTPS).
    #[arg(long)]
    pub secure_cookies: bool,
    /// Whether every Admin user signs in with a second step (an
    /// authenticator app): `required`, or `optional` for development.
    #[arg(
        long,
        value_enum,
        default_value = "required",
        env = "COMMERCE_ADMIN_TWO_FACTOR"
    )]
    pub admin_two_factor: TwoFactorArg,
    /// Seconds between writes of batched last-use times and usage counts.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub last_used_flush_secs: u64,
    /// The most keys the verification cache holds (the default takes about
    /// 100 MB when full; see docs/benchmarks.md). A key not held costs a
    /// storage read.
    #[arg(long, value_name = "N", default_value_t = account::config::DEFAULT_CACHE_KEYS,
          value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub verify_cache_keys: u64,
    /// Send the outbox (key expiry notices, leak alerts) through this SMTP
    /// relay, `smtp://HOST:PORT`, without TLS: loopback or a trusted network
    /// only. Without it messages wait in the outbox shown on the account site.
    #[arg(long, requires = "mail_from")]
    pub smtp_url: Option<String>,
    /// The sender address of the outbox's messages (with --smtp-url).
    #[arg(long, requires = "smtp_url")]
    pub mail_from: Option<String>,
    /// Trust secret-scanning reports signed with these ECDSA P-256 public keys
    /// (a PEM file, or the JSON GitHub publishes); enables
    /// POST /api/v1/secret-scanning/verify.
    #[arg(long, value_name = "FILE")]
    pub secret_scanning_public_key: Option<PathBuf>,
    /// The key that signs invitation links (made if missing; default
    /// `account-link.key` under --data-dir). Nodes that share a database
    /// must share this file.
    #[arg(long, value_name = "FILE")]
    pub link_key_file: Option<PathBuf>,
    /// Share the sign-in, sign-up and failed-verification throttles of every
    /// node through this Redis, `redis://[:PASSWORD@]HOST[:PORT][/DB]`.
    /// Without it each process counts alone; when Redis does not answer,
    /// the throttles count in each process until it does.
    #[arg(long, value_name = "URL")]
    pub redis_url: Option<String>,
    /// The prefix of the throttles' keys in Redis: every node of one
    /// deployment uses the same; deployments sharing a Redis use their own.
    #[arg(long, default_value = "commerce", requires = "redis_url")]
    pub redis_prefix: String,
    /// Serve Prometheus metrics at `GET /metrics` on this address (its own
    /// listener, never the public ports), e.g. `127.0.0.1:9100`. Off by default.
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<String>,
    /// The account site's public address for links in emails, e.g.
    /// `https://accounts.example.com` (default: the address the inviting
    /// request came to).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// A reverse proxy in front of the service, as an address or CIDR range
    /// (repeatable): from such a peer, the client's address is the
    /// rightmost one of `X-Forwarded-For` that is not itself a trusted
    /// proxy. Throttles, allowed IPs, session lists and audit use it.
    /// Without it, the TCP peer is the client and `X-Forwarded-For` is ignored.
    #[arg(long, value_name = "CIDR")]
    pub trusted_proxy: Vec<String>,
    /// A service keys may be limited to, `NAME` or `NAME=Label`
    /// (repeatable; a name is a-z, 0-9 and _). `amazon_sales_channel`
    /// ("Amazon Sales Channel") always exists; stores name the service they
    /// call for in `X-Service`.
    #[arg(long, value_name = "NAME[=Label]")]
    pub service: Vec<String>,
    #[command(flatten)]
    pub amazon: AmazonArgs,
}

/// Connect to Amazon (SPEC §5): the SP-API application this service is.
/// Set up when the application id, the LWA client id and its secret file
/// are all given; otherwise Connect store answers `amazon_not_configured`.
#[derive(Args, Debug)]
pub struct AmazonArgs {
    /// The SP-API application's id (`amzn1.sellerapps.app.…`).
    #[arg(long, value_name = "ID")]
    pub amazon_application_id: Option<String>,
    /// The Login with Amazon client id of the application.
    #[arg(long, value_name = "ID")]
    pub lwa_client_id: Option<String>,
    /// A file holding the LWA client secret (read again when it changes).
    #[arg(long, value_name = "FILE")]
    pub lwa_client_secret_file: Option<PathBuf>,
    /// The LWA token endpoint.
    #[arg(
        long,
        value_name = "URL",
        default_value = "https://api.amazon.com/auth/o2/token"
    )]
    pub lwa_token_url: String,
    /// Seller Central of a country, `CC=URL` (repeatable), overriding the
    /// defaults for US, CA, MX and GB.
    #[arg(long, value_name = "CC=URL")]
    pub seller_central_url: Vec<String>,
    /// The application is a draft: consent and log-in redirects add `version=beta`.
    #[arg(long)]
    pub amazon_draft_app: bool,
    /// The key that encrypts Amazon refresh tokens (made, mode 0600, if
    /// missing; default `token.key` under --data-dir). Nodes sharing a
    /// database share it.
    #[arg(long, value_name = "FILE")]
    pub token_key_file: Option<PathBuf>,
}

/// `--admin-two-factor`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum TwoFactorArg {
    Required,
    Optional,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Side {
    Account,
    Admin,
}

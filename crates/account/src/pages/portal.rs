//! My Account and its API Portal tab: the company's keys and Add New (a
//! key's own pages: `revoke`, `roll`, `public_key`).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use web::clock::human;
use web::i18n::T;
use web::page::{CsrfForm, SignedIn};
use web::Error;

use super::{field_refusal, Chrome, FormErrors, NoticeQuery, Page, PageResult};
use crate::api_keys::{self, NewKeyInput, Signing};
use crate::store::{Account, KeyRow};
use crate::verify::Status;
use crate::AccountError;
use crate::AppState;
use keys::Environment;

pub const PORTAL: &str = "/account/api-portal";

/// What a page about one of the company's keys (`{PORTAL}/keys/{id}/{what}`)
/// starts from: the key (another company's is not found), the texts, the
/// chrome and the cookie to set.
pub(super) async fn key_page(
    state: &AppState,
    headers: &HeaderMap,
    user: Account,
    id: &str,
    what: &str,
) -> Result<(KeyRow, T, Chrome, Option<HeaderValue>), AccountError> {
    // A viewer changes no key: no page that asks to.
    crate::members::require_writer(&user)?;
    let key = api_keys::company_key(state, &user.company_id, id).await?;
    let path = format!("{PORTAL}/keys/{id}/{what}");
    let (t, c, cookie) = Page::new(state, headers, Some(user), &path).parts();
    Ok((key, t, c, cookie))
}
/// Keys expiring within this many seconds are highlighted.
pub const EXPIRY_WARNING_SECS: i64 = 14 * 86400;

pub struct KeyLine {
    id: String,
    name: String,
    env_label: &'static str,
    hint: String,
    status: Status,
    status_label: &'static str,
    created: String,
    created_by: String,
    expires: String,
    last_used: String,
    expiring_soon: bool,
    fingerprint: String,
    /// Rolled: replaced by a new key, valid until its grace period ends.
    rolled: bool,
}

pub struct CreatedKey {
    pub name: String,
    pub key: String,
    pub private_key: String,
    /// Made with a signing key pair: it works only with calls signed by its
    /// private key, which belongs in the Admin's Production Private key.
    pub signed: bool,
    /// For a rolled key: when the key it replaces stops working.
    pub replaces_until: String,
}

#[derive(Template)]
#[template(path = "portal.html")]
pub struct PortalPage {
    t: T,
    c: Chrome,
    keys: Vec<KeyLine>,
    created: Option<CreatedKey>,
    notice: &'static str,
    errors: FormErrors,
    form_name: String,
    form_env: String,
    form_expiry: String,
    form_date: String,
    form_signing: String,
    form_public_key: String,
    /// A fresh one-time nonce for the create form.
    nonce: String,
}

impl PortalPage {
    /// The API Portal with an empty create form.
    pub fn new(
        t: T,
        c: Chrome,
        keys: Vec<KeyLine>,
        created: Option<CreatedKey>,
        notice: &'static str,
    ) -> Self {
        PortalPage {
            t,
            c,
            keys,
            created,
            notice,
            errors: FormErrors::default(),
            form_name: String::new(),
            form_env: "production".into(),
            form_expiry: "365".into(),
            form_date: String::new(),
            form_signing: "generate".into(),
            form_public_key: String::new(),
            nonce: web::cookies::new_token(),
        }
    }
}

impl PortalPage {
    /// Whether the reader may change the company's keys (a viewer only looks).
    fn can_write(&self) -> bool {
        self.c.user.as_ref().is_some_and(|u| u.role.can_write())
    }

    /// The current company's name, for the notices that name it.
    fn company_name(&self) -> &str {
        self.c.user.as_ref().map_or("", |u| u.company_name.as_str())
    }
}

fn status_label(status: Status) -> &'static str {
    match status {
        Status::Valid => "status.valid",
        Status::Expired => "status.expired",
        Status::Revoked => "status.revoked",
        Status::Invalid => "status.invalid",
        Status::Disabled => "status.disabled",
        Status::IpNotAllowed => "status.ip_not_allowed",
        Status::InsufficientScope => "status.insufficient_scope",
    }
}

fn env_label(env: Environment) -> &'static str {
    match env {
        Environment::Sandbox => "env.sandbox",
        Environment::Production => "env.production",
    }
}

pub async fn key_lines(state: &AppState, user: &Account) -> Result<Vec<KeyLine>, Error> {
    let now = state.clock.now();
    // The page shows the newest keys, as many as a company may hold live.
    let page = api_keys::KeyPage {
        page: 1,
        per_page: api_keys::MAX_PER_PAGE,
    };
    let (rows, _) = api_keys::list_page(state, user, page).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let status = api_keys::key_status(&r, now);
            KeyLine {
                expiring_soon: status.is_valid()
                    && r.expires_at.is_some_and(|e| e - now <= EXPIRY_WARNING_SECS),
                status_label: status_label(status),
                env_label: env_label(r.environment),
                status,
                created: human(r.created_at),
                created_by: r.created_by_email,
                expires: r.expires_at.map(human).unwrap_or_default(),
                last_used: r.last_used_at.map(human).unwrap_or_default(),
                fingerprint: api_keys::fingerprint(r.public_key.as_deref()).unwrap_or_default(),
                rolled: r.replaced_by.is_some(),
                id: r.id,
                name: r.name,
                hint: r.hint,
            }
        })
        .collect())
}

pub async fn show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    let keys = key_lines(&state, &user).await?;
    let notice = q.key(&[
        ("revoked", "portal.revoked"),
        ("public_key", "portal.public_key_saved"),
        ("already_created", "portal.already_created"),
        ("switched", "companies.switched"),
        ("company_created", "companies.created"),
    ]);
    let (t, c, cookie) = Page::new(&state, &headers, Some(user), PORTAL).parts();
    let page = PortalPage::new(t, c, keys, None, notice);
    Ok(Page::render(cookie, StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct CreateForm {
    name: String,
    environment: Option<String>,
    expiry: Option<String>,
    expiry_date: Option<String>,
    signing: Option<String>,
    public_key: Option<String>,
    nonce: Option<String>,
}

/// The expiry choice of the form: days from now, a date (end of that day, UTC), or never.
fn expiry_from_form(
    choice: &str,
    date: Option<&str>,
    now: i64,
) -> Result<Option<i64>, &'static str> {
    match choice {
        "never" => Ok(None),
        "custom" => {
            let d = date
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .ok_or("error.expiry_format")?;
            let ts = web::clock::parse_rfc3339_checked(&format!("{d}T23:59:59Z"))
                .map_err(api_keys::expiry_error)?;
            Ok(Some(ts))
        }
        days => {
            let n: i64 = days.parse().map_err(|_| "error.expiry_format")?;
            if ![30, 90, 365].contains(&n) {
                return Err("error.expiry_format");
            }
            Ok(Some(now + n * 86400))
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<CreateForm>,
) -> PageResult {
    let expiry_choice = form.expiry.clone().unwrap_or_else(|| "365".into());
    let now = state.clock.now();
    let mut errors = FormErrors::default();
    let mut created = None;
    let environment = api_keys::parse_environment(form.environment.as_deref());
    let expires = expiry_from_form(&expiry_choice, form.expiry_date.as_deref(), now);
    match (environment, expires) {
        (Err(e), _) => errors = field_refusal(e)?.errors,
        (_, Err(msg)) => errors.add("expires_at", msg),
        (Ok(environment), Ok(expires_at)) => {
            let signing = match form.signing.as_deref().unwrap_or("generate") {
                "own" => Signing::PublicKey(form.public_key.clone().unwrap_or_default()),
                "none" => Signing::None,
                _ => Signing::Generate,
            };
            let input = NewKeyInput {
                name: form.name.clone(),
                environment,
                expires_at,
                signing,
                nonce: form
                    .nonce
                    .clone()
                    .filter(|n| !n.is_empty() && n.len() <= 64),
                allowed_ips: None,
                services: None,
            };
            match api_keys::create_key(&state, &user, input).await {
                Ok(c) => {
                    created = Some(CreatedKey {
                        signed: c.row.public_key.is_some(),
                        name: c.row.name,
                        key: c.key.expose().to_owned(),
                        private_key: c
                            .private_key
                            .map(|p| p.expose().to_owned())
                            .unwrap_or_default(),
                        replaces_until: String::new(),
                    })
                }
                Err(AccountError::AlreadySubmitted) => {
                    // A repeated submission: the key exists and was shown once already.
                    return Ok(
                        Redirect::to(&format!("{PORTAL}?notice=already_created")).into_response()
                    );
                }
                Err(e) => errors = field_refusal(e)?.errors,
            }
        }
    }
    let keys = key_lines(&state, &user).await?;
    let status = if created.is_some() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let keep_form = created.is_none();
    let (t, c, cookie) = Page::new(&state, &headers, Some(user), PORTAL).parts();
    let page = PortalPage {
        t,
        c,
        keys,
        created,
        notice: "",
        errors,
        form_name: if keep_form { form.name } else { String::new() },
        form_env: form
            .environment
            .filter(|_| keep_form)
            .unwrap_or_else(|| "production".into()),
        form_expiry: if keep_form {
            expiry_choice
        } else {
            "365".into()
        },
        form_date: form.expiry_date.filter(|_| keep_form).unwrap_or_default(),
        form_signing: form
            .signing
            .filter(|_| keep_form)
            .unwrap_or_else(|| "generate".into()),
        form_public_key: form.public_key.filter(|_| keep_form).unwrap_or_default(),
        nonce: web::cookies::new_token(),
    };
    Ok(Page::render(cookie, status, &page))
}

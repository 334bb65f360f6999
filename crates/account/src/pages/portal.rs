//! My Account and its API Portal tab: the company's keys and Add New (a
//! key's own pages: `revoke`, `roll`, `public_key`, `key_settings`).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect};
use web::clock::human;
use web::i18n::T;
use web::page::{CsrfForm, SignedIn};
use web::Error;

use super::key_policy_form::{self as policy, ExpiryChoice, FormPairs, ServiceBox};
use super::{field_refusal, Chrome, FormErrors, NoticeQuery, Page, PageResult};
use crate::api_keys::{self, NewKeyInput, Signing};
use crate::key_policy::ServiceCatalog;
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
    /// Neither revoked nor expired: it may still be revoked or changed.
    live: bool,
    /// The labels of the services it is limited to (empty: every service).
    services_only: String,
    /// How many addresses and ranges it may be used from (empty: any).
    addresses: String,
}

/// The company's keys and what Add New offers: the operator's services and
/// the expiries within the company's maximum key lifetime.
pub struct KeyList {
    lines: Vec<KeyLine>,
    services: ServiceCatalog,
    max_days: Option<i64>,
    now: i64,
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
    /// The company's maximum key lifetime in days, for the hint (empty: none).
    lifetime_days: String,
    expiry_choices: Vec<ExpiryChoice>,
    /// The last date the date field allows (empty: no limit).
    last_date: String,
    services: Vec<ServiceBox>,
    form_ips: String,
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
        keys: KeyList,
        created: Option<CreatedKey>,
        notice: &'static str,
    ) -> Self {
        PortalPage {
            t,
            c,
            lifetime_days: keys.max_days.map(|d| d.to_string()).unwrap_or_default(),
            expiry_choices: policy::expiry_choices(keys.max_days),
            last_date: policy::last_date(keys.max_days, keys.now),
            services: policy::service_boxes(&keys.services, |_| true),
            form_ips: String::new(),
            form_expiry: policy::default_expiry(keys.max_days),
            keys: keys.lines,
            created,
            notice,
            errors: FormErrors::default(),
            form_name: String::new(),
            form_env: "production".into(),
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

pub(super) fn status_label(status: Status) -> &'static str {
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

pub async fn key_lines(state: &AppState, user: &Account) -> Result<KeyList, Error> {
    let now = state.clock.now();
    let services = state.cfg.services.clone();
    let max_days = crate::store::key_lifetime(&state.db, &user.company_id).await?;
    // The page shows the newest keys, as many as a company may hold live.
    let page = api_keys::KeyPage {
        page: 1,
        per_page: api_keys::MAX_PER_PAGE,
    };
    let (rows, _) = api_keys::list_page(state, user, page).await?;
    let lines = rows
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
                live: matches!(status, Status::Valid | Status::Disabled),
                services_only: policy::service_labels(&services, r.services.as_deref()),
                addresses: match crate::key_policy::allowed_list(r.allowed_ips.as_deref()).len() {
                    0 => String::new(),
                    n => n.to_string(),
                },
                id: r.id,
                name: r.name,
                hint: r.hint,
            }
        })
        .collect();
    Ok(KeyList {
        lines,
        services,
        max_days,
        now,
    })
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

pub async fn create(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<FormPairs>,
) -> PageResult {
    let field = |name| form.owned(name).unwrap_or_default();
    let max_days = crate::store::key_lifetime(&state.db, &user.company_id).await?;
    let expiry_choice = form
        .owned("expiry")
        .unwrap_or_else(|| policy::default_expiry(max_days));
    let now = state.clock.now();
    let allowed_ips = policy::ips_of_text(&field("allowed_ips"));
    let services = policy::services_of_form(&state.cfg.services, &form);
    // Every field's refusal at once, beside it.
    let mut errors = policy::field_errors(
        &state.cfg.services,
        Some(&field("name")),
        allowed_ips.as_deref(),
        services.as_deref(),
    );
    let mut created = None;
    let environment = match api_keys::parse_environment(form.get("environment")) {
        Ok(env) => Some(env),
        Err(e) => {
            let fe = e.field().ok_or(e)?;
            errors.add(fe.field, fe.msg);
            None
        }
    };
    let expires = policy::expiry_of_form(&expiry_choice, form.get("expiry_date"), now, max_days)
        .map_err(|msg| errors.add("expires_at", msg))
        .ok();
    if let (Some(environment), Some(expires_at), true) = (environment, expires, errors.is_empty()) {
        let signing = match form.get("signing").unwrap_or("generate") {
            "own" => Signing::PublicKey(field("public_key")),
            "none" => Signing::None,
            _ => Signing::Generate,
        };
        let input = NewKeyInput {
            name: field("name"),
            environment,
            expires_at,
            signing,
            nonce: form
                .owned("nonce")
                .filter(|n| !n.is_empty() && n.len() <= 64),
            allowed_ips,
            services,
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
    let keys = key_lines(&state, &user).await?;
    let status = if created.is_some() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let keep_form = created.is_none();
    let (t, c, cookie) = Page::new(&state, &headers, Some(user), PORTAL).parts();
    let mut page = PortalPage::new(t, c, keys, created, "");
    page.errors = errors;
    if keep_form {
        // The form again with what was entered, its errors beside the fields.
        page.services = policy::boxes_of_form(&state.cfg.services, &form);
        page.form_ips = field("allowed_ips");
        page.form_name = field("name");
        page.form_env = form.owned("environment").unwrap_or(page.form_env);
        page.form_expiry = expiry_choice;
        page.form_date = field("expiry_date");
        page.form_signing = form.owned("signing").unwrap_or(page.form_signing);
        page.form_public_key = field("public_key");
    }
    Ok(Page::render(cookie, status, &page))
}

//! Sign up, sign in, sign out.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use web::extract::{ApiJson, ClientIp};
use web::{Error, Secret};

use crate::accounts::{self, SignupInput};
use crate::auth::{self, check_same_origin};
use crate::members;
use crate::store::{Account, Role};
use crate::two_factor::{self, Next};
use crate::{AccountError, AppState};

use super::openapi::ErrorBody;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    email: String,
    #[schema(value_type = String)]
    password: Secret,
    name: String,
    /// The new company's name; left out when joining by `invitation`.
    company: Option<String>,
    /// An invitation link's token: join its company instead of making one.
    invitation: Option<String>,
}

/// The signed-in account as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct AccountView {
    id: String,
    email: String,
    name: String,
    /// The role in the session's current company; `null` in no company.
    #[schema(required = true)]
    role: Option<Role>,
    /// Whether the email was confirmed with a mailed link.
    email_verified: bool,
    /// The session's current company; `null` when the account belongs to
    /// none (removed from its last one, or it was closed).
    #[schema(required = true)]
    company: Option<CompanyView>,
    /// The account's second steps (`GET /api/v1/account` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    two_factor: Option<TwoFactorView>,
}

/// An account's two-step sign-in.
#[derive(Serialize, ToSchema)]
pub struct TwoFactorView {
    /// A second step is asked for at sign-in.
    enabled: bool,
    /// An authenticator app is set up.
    totp: bool,
    /// Passkeys registered.
    passkeys: i64,
    /// Unused recovery codes.
    recovery_codes_left: i64,
}

#[derive(Serialize, ToSchema)]
pub struct CompanyView {
    id: String,
    name: String,
}

impl AccountView {
    pub(crate) fn new(a: &Account) -> Self {
        AccountView {
            id: a.id.clone(),
            email: a.email.clone(),
            name: a.name.clone(),
            role: a.in_company().then_some(a.role),
            email_verified: a.email_verified_at.is_some(),
            company: a.in_company().then(|| CompanyView {
                id: a.company_id.clone(),
                name: a.company_name.clone(),
            }),
            two_factor: None,
        }
    }
}

/// The answer of sign-up and sign-in: `{"account": {...}}`.
#[derive(Serialize, ToSchema)]
pub struct AccountAnswer {
    account: AccountView,
}

impl AccountAnswer {
    pub(crate) fn new(a: &Account) -> Self {
        AccountAnswer {
            account: AccountView::new(a),
        }
    }

    /// The answer with the account's second steps.
    pub(crate) fn with_two_factor(mut self, s: &two_factor::Status) -> Self {
        self.account.two_factor = Some(TwoFactorView {
            enabled: s.enabled(),
            totp: s.totp,
            passkeys: s.passkeys,
            recovery_codes_left: s.recovery_codes_left,
        });
        self
    }
}

/// Creates an account and its company (or joins one by invitation) and signs in.
#[utoipa::path(
    post,
    path = "/api/v1/signup",
    operation_id = "signup",
    tag = "sessions",
    request_body(content = inline(SignupBody)),
    responses(
        (status = 201, description = "Signed up and signed in; the session cookie is set.", body = AccountAnswer),
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 403, description = "Cross-origin request.", body = ErrorBody),
        (status = 404, description = "No such invitation.", body = ErrorBody),
        (status = 409, description = "The email has an account.", body = ErrorBody),
        (status = 410, description = "The invitation has expired or was used.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not application/json.", body = ErrorBody),
        (status = 422, description = "A field is not valid.", body = ErrorBody),
        (status = 429, description = "Too many attempts.", body = ErrorBody),
        (status = 503, description = "Busy; try again.", body = ErrorBody),
    )
)]
pub async fn signup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SignupBody>,
) -> Result<Response, Error> {
    check_same_origin(&headers, state.cfg.secure_cookies)?;
    let lang = crate::i18n::for_request(&headers, None).lang;
    let account = match body.invitation {
        Some(token) => {
            members::accept_new_account(
                &state,
                ip,
                &token,
                Some(&body.email),
                &body.name,
                body.password,
                lang.code(),
            )
            .await?
        }
        None => {
            accounts::signup(
                &state,
                SignupInput {
                    ip,
                    email: body.email,
                    password: body.password,
                    name: body.name,
                    company: body.company.unwrap_or_default(),
                    link_base: members::link_base(&state, &headers)?,
                },
                lang.code(),
            )
            .await?
        }
    };
    let cookie = auth::start_session(
        &state,
        &account.id,
        &web::sessions::Client::new(&headers, ip),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        [(header::SET_COOKIE, cookie)],
        Json(AccountAnswer::new(&account)),
    )
        .into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    email: String,
    #[schema(value_type = String)]
    password: Secret,
}

/// What `POST /api/v1/login` answers with a right password when a second
/// step must follow: `{"two_factor": "required", "methods": [...]}` or
/// `{"two_factor": "setup_required"}`, with the pending sign-in's cookie
/// (`acct_2fa`, 5 minutes) and no session.
#[derive(Serialize, ToSchema)]
pub struct TwoFactorPending {
    /// `required` (prove it: `POST /api/v1/login/two-factor`) or
    /// `setup_required` (set one up: `POST /api/v1/account/two-factor/totp`).
    two_factor: &'static str,
    /// The second steps the account may use: `totp`, `passkey`, `recovery_code`.
    #[serde(skip_serializing_if = "Option::is_none")]
    methods: Option<Vec<&'static str>>,
}

/// The answer of a right password: the account (signed in), or the second
/// step that must follow.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum LoginAnswer {
    SignedIn(AccountAnswer),
    TwoFactor(TwoFactorPending),
}

/// Signs in with email and password. An account with a second step (or
/// whose company requires one) is answered with the step that must follow
/// and a pending sign-in cookie instead of a session.
#[utoipa::path(
    post,
    path = "/api/v1/login",
    operation_id = "login",
    tag = "sessions",
    request_body(content = inline(LoginBody)),
    responses(
        (status = 200, description = "Signed in (the session cookie is set), or `{\"two_factor\": \"required\"|\"setup_required\"}` with the pending sign-in cookie and no session.", body = LoginAnswer),
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 401, description = "The email or password is not correct.", body = ErrorBody),
        (status = 403, description = "Cross-origin request.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not application/json.", body = ErrorBody),
        (status = 422, description = "A field is not valid.", body = ErrorBody),
        (status = 429, description = "Too many attempts.", body = ErrorBody),
        (status = 503, description = "Busy; try again.", body = ErrorBody),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, Error> {
    check_same_origin(&headers, state.cfg.secure_cookies)?;
    let device = state.devices.read(&headers);
    let Some(account) =
        accounts::authenticate(&state, &body.email, body.password, ip, device).await?
    else {
        return Err(AccountError::WrongCredentials.into());
    };
    let (two_factor, methods) = match two_factor::after_password(&state, &account).await? {
        Next::Session => {
            return signed_in(&state, &headers, ip, &account, &body.email, false).await
        }
        Next::Required(methods) => ("required", Some(methods)),
        Next::Setup => ("setup_required", None),
    };
    let cookie = two_factor::begin(&state, &account, &body.email, methods.is_none()).await?;
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(LoginAnswer::TwoFactor(TwoFactorPending {
            two_factor,
            methods,
        })),
    )
        .into_response())
}

/// Starts `account`'s session: 200 with the account, the session cookie and
/// the device cookie for `email` (as signed in with); a pending sign-in's
/// cookie is cleared. `stepped`: the sign-in proved a second step.
pub(super) async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    ip: std::net::IpAddr,
    account: &Account,
    email: &str,
    stepped: bool,
) -> Result<Response, Error> {
    let client = web::sessions::Client::new(headers, ip);
    let cookie = web::sessions::start_stepped(state, &account.id, &client, stepped).await?;
    let device = state.devices.set_cookie(email, state.cfg.secure_cookies);
    // Several Set-Cookie headers: appended (a header array would replace).
    let mut res = Json(LoginAnswer::SignedIn(AccountAnswer::new(account))).into_response();
    res.headers_mut().append(header::SET_COOKIE, cookie);
    res.headers_mut().append(header::SET_COOKIE, device);
    if web::cookies::get(
        headers,
        &web::cookies::host_only(two_factor::PENDING_COOKIE, state.cfg.secure_cookies),
    )
    .is_some()
    {
        res.headers_mut()
            .append(header::SET_COOKIE, two_factor::clear_cookie(state));
    }
    Ok(res)
}

/// Signs out: ends the session and clears its cookie.
#[utoipa::path(
    post,
    path = "/api/v1/logout",
    operation_id = "logout",
    tag = "sessions",
    responses(
        (status = 204, description = "Signed out; the session cookie is cleared."),
        (status = 403, description = "Cross-origin request.", body = ErrorBody),
    )
)]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Error> {
    check_same_origin(&headers, state.cfg.secure_cookies)?;
    let cookie = auth::end_session(&state, &headers).await?;
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

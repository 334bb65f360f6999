//! Forms shown for another company (SPEC §9): a page form that changes a
//! company's data carries the company it was shown for (`company`, see
//! `templates/company_field.html`). When the session's current company has
//! changed since (switched in another tab), the form is refused with a page
//! that says so, before any handler runs: nothing changes.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use web::page::PageErr;
use web::Error;

use crate::{auth, AccountError, AppState};

/// The form field that names the company a form was shown for.
pub const COMPANY_FIELD: &str = "company";

/// Forms that carry no company's data: the switch itself, the language,
/// signing out; and signing up, whose `company` is the new company's name.
fn exempt(path: &str) -> bool {
    matches!(path, "/lang" | "/logout" | "/signup")
        || (path.starts_with("/account/companies/") && path.ends_with("/switch"))
}

/// The `company` values of a form body (none when it names none).
fn shown_for(bytes: &[u8]) -> Vec<String> {
    form_urlencoded::parse(bytes)
        .filter(|(k, _)| k == COMPANY_FIELD)
        .map(|(_, v)| v.into_owned())
        .collect()
}

/// The middleware (`axum::middleware::from_fn_with_state`): a form post
/// whose `company` is not the session's current company answers the
/// `company_switched` page (409) without running its handler. A form that
/// names no company passes, as does one of no one signed in in a company
/// (its handler sends them to sign in).
pub async fn refuse_stale(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST
        || !web::forms::is_form(req.headers())
        || exempt(req.uri().path())
    {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    // The edge's body limit, read here as the form's own extractor would.
    let Ok(bytes) = axum::body::to_bytes(body, web::headers::MAX_BODY).await else {
        return PageErr(Error::of_status(StatusCode::PAYLOAD_TOO_LARGE)).into_response();
    };
    let companies = shown_for(&bytes);
    if !companies.is_empty() {
        match auth::current_account(&state, &parts.headers).await {
            Ok(Some(user)) if companies.iter().any(|c| *c != user.company_id) => {
                tracing::debug!("form for another company than the session's");
                return PageErr(AccountError::StaleCompany.into()).into_response();
            }
            Ok(_) => {}
            Err(e) => return PageErr(e).into_response(),
        }
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_company_forms_are_checked() {
        assert!(exempt("/lang"));
        assert!(exempt("/logout"));
        assert!(exempt("/signup"));
        assert!(exempt("/account/companies/co_1/switch"));
        assert!(!exempt("/account/companies/co_1/close"));
        assert!(!exempt("/account/api-portal"));
    }

    #[test]
    fn reads_every_company_value() {
        assert_eq!(
            shown_for(b"csrf=x&company=co_a&name=n&company=co%5Fb"),
            ["co_a", "co_b"]
        );
        assert!(shown_for(b"csrf=x").is_empty());
    }
}

//! `GET /api/v1/usage`: the current company's verifications by hour or day
//! and outcome, as JSON or (with `Accept: text/csv`) CSV.

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use web::Error;

use crate::auth::CurrentUser;
use crate::store::Counts;
use crate::usage::{self, Report, UsageQuery};
use crate::{AccountError, AppState, FieldError};

use super::openapi::ErrorBody;

/// Verifications of one bucket (or of the whole report), by outcome.
#[derive(Serialize, ToSchema)]
pub struct UsageCounts {
    valid: i64,
    invalid: i64,
    expired: i64,
    revoked: i64,
    disabled: i64,
    ip_not_allowed: i64,
    insufficient_scope: i64,
    /// Refused by the failed-verification throttle (429).
    throttled: i64,
}

impl From<Counts> for UsageCounts {
    fn from(c: Counts) -> Self {
        let [valid, invalid, expired, revoked, disabled, ip_not_allowed, insufficient_scope, throttled] =
            c;
        UsageCounts {
            valid,
            invalid,
            expired,
            revoked,
            disabled,
            ip_not_allowed,
            insufficient_scope,
            throttled,
        }
    }
}

/// One hour or day.
#[derive(Serialize, ToSchema)]
pub struct UsagePoint {
    /// The start of the hour or (UTC) day.
    #[schema(format = DateTime)]
    start: String,
    #[serde(flatten)]
    counts: UsageCounts,
}

/// Every bucket of the range (zero-filled) and the totals.
#[derive(Serialize, ToSchema)]
pub struct UsageReport {
    /// `hour` or `day`.
    granularity: &'static str,
    series: Vec<UsagePoint>,
    totals: UsageCounts,
}

impl From<Report> for UsageReport {
    fn from(r: Report) -> Self {
        UsageReport {
            granularity: usage::grain_name(r.grain),
            series: r
                .points
                .into_iter()
                .map(|p| UsagePoint {
                    start: web::clock::rfc3339(p.start),
                    counts: p.counts.into(),
                })
                .collect(),
            totals: r.totals.into(),
        }
    }
}

/// The report's range.
#[derive(Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageParams {
    /// RFC 3339; default: 24 hours (by hour) or 30 days (by day) before `to`.
    #[param(value_type = String, format = DateTime, required = false)]
    from: Option<String>,
    /// RFC 3339; default: the end of the current hour or day.
    #[param(value_type = String, format = DateTime, required = false)]
    to: Option<String>,
    /// `hour` (default; at most 31 days) or `day` (at most 400 days).
    #[param(value_type = String, required = false, pattern = "^(hour|day)$")]
    granularity: Option<String>,
    /// One of the company's keys; default: all of them.
    #[param(value_type = String, required = false)]
    key_id: Option<String>,
}

impl UsageParams {
    /// From the query string; a parameter given twice is refused.
    fn read(query: Option<&str>) -> Result<UsageParams, AccountError> {
        let mut p = UsageParams::default();
        for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            let (slot, field) = match &*name {
                "from" => (&mut p.from, "from"),
                "to" => (&mut p.to, "to"),
                "granularity" => (&mut p.granularity, "granularity"),
                "key_id" => (&mut p.key_id, "key_id"),
                _ => continue,
            };
            if slot.replace(value.into_owned()).is_some() {
                return Err(AccountError::Invalid(FieldError::new(
                    field,
                    "error.usage_twice",
                )));
            }
        }
        Ok(p)
    }
}

/// Whether the client asks for CSV rather than JSON.
fn wants_csv(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|part| {
            part.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("text/csv"))
        })
}

/// The CSV answer of a report, as a download.
pub fn csv_response(report: &Report) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"usage.csv\""),
            ),
        ],
        usage::to_csv(report),
    )
        .into_response()
}

/// The current company's verifications: every route that checks one of its
/// keys (verify, the gateway check, the signed ping, the Amazon store
/// routes), by outcome, zero-filled. Counts reach it within a minute.
#[utoipa::path(
    get,
    path = "/api/v1/usage",
    operation_id = "usage",
    tag = "keys",
    security(("session" = [])),
    params(UsageParams),
    responses(
        (status = 200, description = "The report; with `Accept: text/csv`, the same rows as CSV with a header line.",
            content((UsageReport = "application/json"), (String = "text/csv"))),
        (status = 401, description = "Not signed in.", body = ErrorBody),
        (status = 403, description = "`no_company`: the account belongs to no company.", body = ErrorBody),
        (status = 404, description = "No key of the company has this `key_id`.", body = ErrorBody),
        (status = 422, description = "A parameter is not valid; the message names it.", body = ErrorBody),
    )
)]
pub async fn usage(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let p = UsageParams::read(query.as_deref())?;
    let q = UsageQuery::parse(
        p.granularity.as_deref(),
        p.from.as_deref(),
        p.to.as_deref(),
        p.key_id.as_deref(),
        state.clock.now(),
    )?;
    let report = usage::report(&state, &user, &q).await?;
    if wants_csv(&headers) {
        return Ok(csv_response(&report));
    }
    Ok(Json(UsageReport::from(report)).into_response())
}

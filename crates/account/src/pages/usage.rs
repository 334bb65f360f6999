//! My Account > Usage (SPEC §11): the company's verifications over the last
//! 24 hours (by hour) and the last 30 days (by day), each as a stacked bar
//! chart by outcome drawn on the server (`usage_chart`), with the same
//! numbers in a table and a CSV download; filtered by one key on request.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use web::i18n::T;
use web::page::SignedIn;

use super::usage_chart::{self, Bar, Chart, Tick};
use super::{encode, Chrome, Page, PageErr, PageResult};
use crate::api_keys::{self, KeyPage};
use crate::store::{Account, Counts, Grain};
use crate::usage::{self, Report, UsageQuery};
use crate::AppState;

pub const USAGE: &str = "/account/usage";
pub const USAGE_CSV: &str = "/account/usage.csv";

/// The outcomes' names, in the order of `store::OUTCOMES`.
const OUTCOME_KEYS: [&str; 8] = [
    "status.valid",
    "status.invalid",
    "status.expired",
    "status.revoked",
    "status.disabled",
    "status.ip_not_allowed",
    "status.insufficient_scope",
    "status.throttled",
];

const MONTHS: [&str; 12] = [
    "usage.month_1",
    "usage.month_2",
    "usage.month_3",
    "usage.month_4",
    "usage.month_5",
    "usage.month_6",
    "usage.month_7",
    "usage.month_8",
    "usage.month_9",
    "usage.month_10",
    "usage.month_11",
    "usage.month_12",
];

/// An outcome as the legend and the table's header show it.
pub struct Outcome {
    name: &'static str,
    colour: &'static str,
}

/// A key of the filter.
pub struct KeyChoice {
    id: String,
    label: String,
    selected: bool,
}

/// A line of a chart's table.
pub struct Line {
    when: String,
    counts: Counts,
    total: i64,
}

/// One chart with its table and download.
pub struct ChartView {
    id: &'static str,
    heading: &'static str,
    /// "12 verifications".
    summary: String,
    wide: String,
    narrow: String,
    col_when: &'static str,
    lines: Vec<Line>,
    totals: Counts,
    total: i64,
    csv: String,
    download_what: &'static str,
}

#[derive(Template)]
#[template(path = "usage.html")]
struct UsagePage {
    t: T,
    c: Chrome,
    keys: Vec<KeyChoice>,
    outcomes: Vec<Outcome>,
    charts: Vec<ChartView>,
}

#[derive(Deserialize)]
pub struct UsageParams {
    key_id: Option<String>,
}

#[derive(Deserialize)]
pub struct CsvParams {
    granularity: Option<String>,
    key_id: Option<String>,
}

/// A time (UTC) in parts: its year, month (1-12), day without a leading
/// zero and "HH:MM".
fn parts(ts: i64) -> (String, usize, String, String) {
    let h = web::clock::human(ts);
    let year = h.get(0..4).unwrap_or_default().to_owned();
    let month = h.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(1);
    let day = h
        .get(8..10)
        .unwrap_or_default()
        .trim_start_matches('0')
        .to_owned();
    (
        year,
        month,
        day,
        h.get(11..16).unwrap_or_default().to_owned(),
    )
}

/// The bars of a report: hours labelled 08:00 (every third in the wide
/// drawing, every sixth in both), days 15 Jan (every third counted back
/// from today in the wide drawing, every sixth in both).
fn bars(t: T, report: &Report) -> Vec<Bar> {
    let n = report.points.len();
    report
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (year, month, day, clock) = parts(p.start);
            let mon = t.get(MONTHS[month.saturating_sub(1).min(11)]);
            let date = format!("{day} {mon}");
            let (tick, label, show) = match report.grain {
                Grain::Hour => {
                    let hour = p.start.div_euclid(3600).rem_euclid(24);
                    let show = match hour {
                        h if h % 6 == 0 => Tick::Always,
                        h if h % 3 == 0 => Tick::Wide,
                        _ => Tick::None,
                    };
                    (clock.clone(), format!("{date} {clock}"), show)
                }
                Grain::Day => {
                    let back = n - 1 - i;
                    let show = if back.is_multiple_of(6) {
                        Tick::Always
                    } else if back.is_multiple_of(3) {
                        Tick::Wide
                    } else {
                        Tick::None
                    };
                    (date.clone(), format!("{date} {year}"), show)
                }
            };
            Bar {
                tick,
                label,
                show,
                counts: p.counts,
            }
        })
        .collect()
}

/// "12 verifications" (or "1 verification").
fn count_text(t: T, n: i64) -> String {
    if n == 1 {
        t.get("usage.count_one").to_owned()
    } else {
        t.fmt("usage.count", "n", &n.to_string())
    }
}

fn chart_view(t: T, report: &Report, key_id: Option<&str>) -> ChartView {
    let hourly = report.grain == Grain::Hour;
    let (id, heading, title) = if hourly {
        ("usage-hours", "usage.hours_title", "usage.hours_chart")
    } else {
        ("usage-days", "usage.days_title", "usage.days_chart")
    };
    let bars = bars(t, report);
    let total = usage_chart::total(&report.totals);
    let mut desc = t
        .get("usage.chart_desc")
        .replace("{total}", &count_text(t, total))
        .replace("{from}", bars.first().map_or("", |b| &b.label))
        .replace("{to}", bars.last().map_or("", |b| &b.label));
    for (key, n) in OUTCOME_KEYS.iter().zip(report.totals) {
        if n > 0 {
            desc.push_str(&format!(" {}: {n}.", t.get(key)));
        }
    }
    let outcomes = OUTCOME_KEYS.map(|k| t.get(k));
    let chart = Chart {
        id,
        title: t.get(title),
        desc: &desc,
        empty: t.get("usage.empty"),
        outcomes,
        bars: &bars,
    };
    let mut csv = format!(
        "{USAGE_CSV}?granularity={}",
        usage::grain_name(report.grain)
    );
    if let Some(k) = key_id {
        csv.push_str(&format!("&key_id={}", encode(k)));
    }
    ChartView {
        id,
        heading: t.get(heading),
        summary: count_text(t, total),
        wide: usage_chart::svg(&chart, usage_chart::WIDE),
        narrow: usage_chart::svg(&chart, usage_chart::NARROW),
        col_when: t.get(if hourly {
            "usage.col_hour"
        } else {
            "usage.col_day"
        }),
        lines: bars
            .iter()
            .map(|b| Line {
                when: b.label.clone(),
                counts: b.counts,
                total: usage_chart::total(&b.counts),
            })
            .collect(),
        totals: report.totals,
        total,
        csv,
        download_what: t.get(if hourly {
            "usage.download_hours"
        } else {
            "usage.download_days"
        }),
    }
}

/// The key of `?key_id=` (none when empty: "All keys").
fn chosen(key_id: Option<String>) -> Option<String> {
    key_id.filter(|k| !k.is_empty())
}

pub async fn show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
    Query(q): Query<UsageParams>,
) -> PageResult {
    let now = state.clock.now();
    let key_id = chosen(q.key_id);
    let hours_q = UsageQuery::parse(Some("hour"), None, None, key_id.as_deref(), now)?;
    let days_q = UsageQuery::recent(Grain::Day, now, key_id.clone());
    // Another company's key is not found (404) before anything is shown.
    let hours = usage::report(&state, &user, &hours_q).await?;
    let days = usage::report(&state, &user, &days_q).await?;
    let all = KeyPage {
        page: 1,
        per_page: api_keys::MAX_PER_PAGE,
    };
    let (mut rows, _) = api_keys::list_page(&state, &user, all).await?;
    if let Some(id) = &key_id {
        if !rows.iter().any(|r| &r.id == id) {
            rows.push(api_keys::company_key(&state, &user.company_id, id).await?);
        }
    }
    let keys = rows
        .into_iter()
        .map(|r| KeyChoice {
            selected: key_id.as_deref() == Some(r.id.as_str()),
            label: format!("{} ({})", r.name, r.hint),
            id: r.id,
        })
        .collect();
    let (t, c, cookie) = Page::new(&state, &headers, Some(user), USAGE).parts();
    let outcomes = OUTCOME_KEYS
        .iter()
        .zip(usage_chart::COLOURS)
        .map(|(k, colour)| Outcome {
            name: t.get(k),
            colour,
        })
        .collect();
    let charts = vec![
        chart_view(t, &hours, key_id.as_deref()),
        chart_view(t, &days, key_id.as_deref()),
    ];
    let page = UsagePage {
        t,
        c,
        keys,
        outcomes,
        charts,
    };
    Ok(Page::render(cookie, StatusCode::OK, &page))
}

/// `GET /account/usage.csv?granularity=hour|day[&key_id=]`: a chart's rows
/// as the API's CSV (`usage::to_csv`), as a download.
pub async fn csv(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    Query(q): Query<CsvParams>,
) -> Result<Response, PageErr> {
    let key_id = chosen(q.key_id);
    let query = UsageQuery::parse(
        q.granularity.as_deref(),
        None,
        None,
        key_id.as_deref(),
        state.clock.now(),
    )?;
    let report = usage::report(&state, &user, &query).await?;
    let name = match query.grain {
        Grain::Hour => "attachment; filename=\"usage-24-hours.csv\"",
        Grain::Day => "attachment; filename=\"usage-30-days.csv\"",
    };
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, HeaderValue::from_static(name)),
        ],
        usage::to_csv(&report),
    )
        .into_response())
}

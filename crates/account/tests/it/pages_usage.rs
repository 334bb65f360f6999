//! My Account > Usage (SPEC §11), as a browser reads it: after verifications
//! (flushed), the counts are in the tables and the bars in the charts, in
//! English and Dutch, for owners, members and viewers; the key filter
//! narrows both charts; another company's key is the 404 page; the CSV
//! download is the API's CSV; a signed-out visit is sent to sign in.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::companies::join_as;
use crate::common::*;

both_backends!(
    counts_show_in_tables_and_charts,
    the_key_filter_narrows_and_csv_matches_the_api,
    signed_out_visits_go_to_sign_in
);

const USAGE: &str = "/account/usage";

/// A browser signed in with a session of the JSON API; with `lang`, that
/// language chosen on the site (its cookie).
fn browser(app: &App, sid: &str, lang: Option<&str>) -> Browser {
    let b = Browser::new(app);
    b.set_cookie("acct_sid", sid);
    if let Some(l) = lang {
        b.set_cookie("acct_lang", l);
    }
    b
}

async fn page(b: &Browser, path: &str) -> String {
    let r = b.get(path).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    r.text
}

/// (id, key) of a new key.
async fn new_key(app: &App, sid: &str, name: &str) -> (String, String) {
    let v: Value = app.create_key(sid, json!({ "name": name })).await;
    (
        v["id"].as_str().expect("id").to_owned(),
        v["key"].as_str().expect("key").to_owned(),
    )
}

async fn verify_n(app: &App, key: &str, n: usize, want: &str) {
    for _ in 0..n {
        assert_eq!(app.verify_status(key).await, want);
    }
}

async fn flush(app: &App) {
    app.running
        .state
        .verifier
        .flush_usage()
        .await
        .expect("flush the counts");
}

/// The table row whose header cell is `when`, up to its end.
fn row<'a>(html: &'a str, when: &str) -> &'a str {
    let head = format!("<th scope=\"row\">{when}</th>");
    let at = html
        .find(&head)
        .unwrap_or_else(|| panic!("a row for {when}: {html}"));
    let rest = &html[at..];
    &rest[..rest.find("</tr>").expect("the row's end")]
}

/// The cell of `label`'s column in a row.
fn cell(row: &str, label: &str) -> i64 {
    let attr = format!("data-label=\"{label}\"");
    let at = row
        .find(&attr)
        .unwrap_or_else(|| panic!("a {label} cell in {row}"));
    let text = &row[at + row[at..].find('>').expect("the tag's end") + 1..];
    text[..text.find('<').expect("the cell's end")]
        .parse()
        .expect("a number")
}

/// How many bar segments of `outcome` with `value` the page draws.
fn segments(html: &str, outcome: &str, value: i64) -> usize {
    html.matches(&format!(
        "data-outcome=\"{outcome}\" data-value=\"{value}\""
    ))
    .count()
}

async fn counts_show_in_tables_and_charts(db: &TestDb) {
    // 2027-01-15T08:00:00Z.
    let (app, _clock) = App::start_clocked(db).await;
    let owner = app.signup(&unique_email("usage-page"), "Usage Co").await;
    let (_, plain) = new_key(&app, &owner, "Storefront").await;
    let (gone_id, gone) = new_key(&app, &owner, "Old store").await;

    // Nothing yet: both charts say so, every count is 0.
    let empty = page(&browser(&app, &owner, None), USAGE).await;
    assert_eq!(
        empty
            .matches(">No verifications in this period</text>")
            .count(),
        4
    );
    assert_eq!(segments(&empty, "valid", 0), 0);
    assert_eq!(cell(row(&empty, "15 Jan 08:00"), "Total"), 0);

    verify_n(&app, &plain, 3, "valid").await;
    let r = app
        .delete(&format!("/api/v1/keys/{gone_id}"), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    verify_n(&app, &gone, 2, "revoked").await;
    flush(&app).await;

    let en = page(&browser(&app, &owner, None), USAGE).await;
    assert!(en.contains("<a href=\"/account/usage\" aria-current=\"page\">Usage</a>"));
    assert!(en.contains("<h3 id=\"usage-hours-heading\">Last 24 hours</h3>"));
    assert!(en.contains("<h3 id=\"usage-days-heading\">Last 30 days</h3>"));
    for (when, col) in [("15 Jan 08:00", "Hour (UTC)"), ("15 Jan 2027", "Day (UTC)")] {
        let r = row(&en, when);
        assert_eq!(
            (
                cell(r, "Valid"),
                cell(r, "Revoked"),
                cell(r, "Invalid"),
                cell(r, "Total")
            ),
            (3, 2, 0, 5),
            "{when}: {r}"
        );
        assert!(en.contains(&format!("<th scope=\"col\">{col}</th>")));
    }
    let totals = row(&en, "Total");
    assert_eq!((cell(totals, "Valid"), cell(totals, "Total")), (3, 5));
    assert_eq!(cell(row(&en, "15 Jan 07:00"), "Total"), 0, "zero-filled");
    // A bar per chart and drawing (wide, narrow), stacked valid then revoked.
    assert_eq!(segments(&en, "valid", 3), 4, "{en}");
    assert_eq!(segments(&en, "revoked", 2), 4);
    assert!(en.contains("<title>15 Jan 08:00: Valid 3, Revoked 2</title>"));
    assert!(en
        .contains("role=\"img\" aria-labelledby=\"usage-hours-wide-title\" aria-describedby=\"usage-hours-wide-desc\""));
    assert!(en.contains(
        "5 verifications from 14 Jan 09:00 to 15 Jan 08:00 (UTC). Valid: 3. Revoked: 2."
    ));
    assert!(!en.contains("No verifications in this period"));
    assert!(en.contains(">Throttled</th>") && en.contains(">Not from this address</th>"));
    assert!(en.contains("href=\"/account/usage.csv?granularity=hour\""));
    assert!(en.contains("href=\"/account/usage.csv?granularity=day\""));
    assert!(!en.contains(" style="), "the CSP allows no inline style");

    let nl = page(&browser(&app, &owner, Some("nl")), USAGE).await;
    assert!(nl.contains("<html lang=\"nl\">"));
    assert!(nl.contains("aria-current=\"page\">Gebruik</a>"));
    assert!(nl.contains(">Afgelopen 24 uur</h3>") && nl.contains(">Afgelopen 30 dagen</h3>"));
    let r = row(&nl, "15 jan 08:00");
    assert_eq!(
        (cell(r, "Geldig"), cell(r, "Ingetrokken"), cell(r, "Totaal")),
        (3, 2, 5)
    );
    assert_eq!(cell(row(&nl, "15 jan 2027"), "Geldig"), 3);
    assert!(nl.contains("<title>15 jan 08:00: Geldig 3, Ingetrokken 2</title>"));
    assert!(nl.contains(">5 controles</p>"));
    assert!(nl.contains(">Te veel pogingen</th>") && nl.contains(">CSV downloaden<"));
    assert_eq!(segments(&nl, "valid", 3), 4);

    // Members and viewers see the same page (and its tab).
    for role in ["member", "viewer"] {
        let (_, _, sid) = join_as(&app, &owner, role).await;
        let html = page(&browser(&app, &sid, None), USAGE).await;
        assert_eq!(cell(row(&html, "15 Jan 08:00"), "Valid"), 3, "{role}");
        let portal = page(&browser(&app, &sid, None), "/account/api-portal").await;
        assert!(
            portal.contains("<a href=\"/account/usage\">Usage</a>"),
            "{role}"
        );
    }
    app.stop().await;
}

async fn the_key_filter_narrows_and_csv_matches_the_api(db: &TestDb) {
    let (app, _clock) = App::start_clocked(db).await;
    let owner = app.signup(&unique_email("usage-filter"), "Filter Co").await;
    let (a_id, a) = new_key(&app, &owner, "Store A").await;
    let (b_id, b) = new_key(&app, &owner, "Store B").await;
    verify_n(&app, &a, 2, "valid").await;
    verify_n(&app, &b, 1, "valid").await;
    let patch = app
        .http
        .patch(app.url(&format!("/api/v1/keys/{b_id}")))
        .json(&json!({"disabled": true}));
    assert_eq!(app.send(patch, Some(&owner)).await.status, StatusCode::OK);
    verify_n(&app, &b, 4, "disabled").await;
    flush(&app).await;
    let web = browser(&app, &owner, None);

    let all = page(&web, USAGE).await;
    let r = row(&all, "15 Jan 08:00");
    assert_eq!((cell(r, "Valid"), cell(r, "Disabled")), (3, 4));
    assert!(all.contains("<option value=\"\">All keys</option>"));
    assert!(all.contains(&format!(
        "<option value=\"{a_id}\">Store A (cmk_live_…{})</option>",
        &a[a.len() - 4..]
    )));

    // Store B only: both charts narrow, the choice stays selected, the
    // downloads carry it.
    let only_b = page(&web, &format!("{USAGE}?key_id={b_id}")).await;
    for when in ["15 Jan 08:00", "15 Jan 2027"] {
        let r = row(&only_b, when);
        assert_eq!((cell(r, "Valid"), cell(r, "Disabled")), (1, 4), "{when}");
    }
    assert!(only_b.contains(&format!("<option value=\"{b_id}\" selected>Store B")));
    assert!(only_b.contains(&format!(
        "href=\"/account/usage.csv?granularity=day&#38;key_id={b_id}\""
    )));
    let only_a = page(&web, &format!("{USAGE}?key_id={a_id}&")).await;
    assert_eq!(cell(row(&only_a, "Total"), "Total"), 2);
    assert_eq!(segments(&only_a, "disabled", 4), 0);
    // "All keys" sends an empty key_id.
    let none = page(&web, &format!("{USAGE}?key_id=")).await;
    assert_eq!(cell(row(&none, "Total"), "Total"), 7);

    // Another company's key, and no key at all: the 404 page.
    let other = app.signup(&unique_email("usage-other"), "Other Co").await;
    let (theirs, _) = new_key(&app, &other, "Theirs").await;
    for path in [
        format!("{USAGE}?key_id={theirs}"),
        format!("{USAGE}?key_id=key_nope"),
        format!("{USAGE}?key_id=%00"),
        format!("/account/usage.csv?granularity=hour&key_id={theirs}"),
    ] {
        let r = web.get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(r.header("content-type").starts_with("text/html"), "{path}");
        assert!(!r.text.contains("Theirs"));
    }

    // The downloads are the API's CSV.
    for query in [
        "granularity=hour",
        "granularity=day",
        &format!("granularity=hour&key_id={a_id}"),
    ] {
        let r = web.get(&format!("/account/usage.csv?{query}")).await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
        assert!(r.header("content-type").starts_with("text/csv"));
        assert!(r
            .header("content-disposition")
            .starts_with("attachment; filename="));
        let api = app
            .http
            .get(app.url(&format!("/api/v1/usage?{query}")))
            .header("cookie", sid_cookie(&owner))
            .header("accept", "text/csv")
            .send()
            .await
            .expect("request");
        assert_eq!(api.status(), StatusCode::OK);
        assert_eq!(r.text, api.text().await.expect("body"), "{query}");
    }
    let hours = web.get("/account/usage.csv?granularity=hour").await.text;
    assert!(hours.starts_with("start,valid,invalid,expired,revoked,disabled,"));
    assert!(
        hours.contains("\r\n2027-01-15T08:00:00Z,3,0,0,0,4,0,0,0\r\n"),
        "{hours}"
    );
    let r = web.get("/account/usage.csv?granularity=minute").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.stop().await;
}

async fn signed_out_visits_go_to_sign_in(db: &TestDb) {
    let app = App::start(db).await;
    let stranger = Browser::new(&app);
    for (path, next) in [
        (USAGE, "/account/usage"),
        ("/account/usage.csv?granularity=day", "/account/usage.csv"),
    ] {
        let r = stranger.get(path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.location(), Some(format!("/login?next={next}").as_str()));
    }
    // A session that ended is signed out too.
    let sid = app.signup(&unique_email("usage-out"), "Out Co").await;
    let web = browser(&app, &sid, None);
    assert_eq!(web.get(USAGE).await.status, StatusCode::OK);
    let r = app
        .post_json("/api/v1/logout", Some(&sid), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(web.get(USAGE).await.status, StatusCode::SEE_OTHER);
    app.stop().await;
}

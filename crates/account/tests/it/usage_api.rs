//! Usage (SPEC §11): verifications counted per key, hour and outcome on
//! two nodes add up exactly after a flush; hours without traffic are zeros;
//! JSON and CSV agree; another company's key is 404; old hours roll up by day.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::*;

both_backends!(
    counts_from_two_nodes_add_up,
    refused_queries,
    old_hours_roll_up_by_day
);

/// `POST /api/v1/keys/verify` with optional `X-Service`; asserts 200, returns the status.
async fn verify_as(app: &App, key: &str, service: Option<&str>) -> String {
    let mut req = app
        .http
        .post(app.url("/api/v1/keys/verify"))
        .header("X-Api-Key", key);
    if let Some(s) = service {
        req = req.header("X-Service", s);
    }
    let r = Resp::read(req.send().await.expect("request")).await;
    assert_eq!(r.status, StatusCode::OK, "verify: {}", r.text);
    r.json()["status"].as_str().expect("status").to_owned()
}

async fn usage(app: &App, sid: &str, query: &str) -> Value {
    let r = app.get(&format!("/api/v1/usage?{query}"), Some(sid)).await;
    assert_eq!(r.status, StatusCode::OK, "usage: {}", r.text);
    r.json()
}

async fn usage_csv(app: &App, sid: &str, query: &str) -> String {
    let r = app
        .http
        .get(app.url(&format!("/api/v1/usage?{query}")))
        .header("cookie", sid_cookie(sid))
        .header("accept", "text/csv")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .expect("present")
        .starts_with("text/csv"));
    r.text().await.expect("body")
}

const OUTCOMES: [&str; 8] = [
    "valid",
    "invalid",
    "expired",
    "revoked",
    "disabled",
    "ip_not_allowed",
    "insufficient_scope",
    "throttled",
];

/// The counts of the bucket starting at `start`.
fn bucket<'a>(report: &'a Value, start: &str) -> &'a Value {
    report["series"]
        .as_array()
        .expect("series")
        .iter()
        .find(|p| p["start"] == start)
        .unwrap_or_else(|| panic!("a bucket at {start}: {report}"))
}

fn count(v: &Value, outcome: &str) -> i64 {
    v[outcome]
        .as_i64()
        .unwrap_or_else(|| panic!("{outcome} in {v}"))
}

async fn counts_from_two_nodes_add_up(db: &TestDb) {
    let (a, clock) = App::start_clocked(db).await;
    let b = App::start_with(db, &clock, account::Config::default()).await;
    let sid = a.signup(&unique_email("usage"), "Usage Co").await;
    let key = |v: &Value| {
        (
            v["id"].as_str().expect("present").to_owned(),
            v["key"].as_str().expect("present").to_owned(),
        )
    };
    let (plain_id, plain) = key(&a.create_key(&sid, json!({"name": "plain"})).await);
    let (fenced_id, fenced) = key(&a
        .create_key(
            &sid,
            json!({"name": "fenced", "allowed_ips": ["203.0.113.7"]}),
        )
        .await);
    let (off_id, off) = key(&a.create_key(&sid, json!({"name": "off"})).await);
    let patch = a
        .http
        .patch(a.url(&format!("/api/v1/keys/{off_id}")))
        .json(&json!({"disabled": true}));
    let r = a.send(patch, Some(&sid)).await;
    assert_eq!(r.status, StatusCode::OK, "disable: {}", r.text);
    let (gone_id, gone) = key(&a.create_key(&sid, json!({"name": "gone"})).await);
    assert_eq!(
        a.delete(&format!("/api/v1/keys/{gone_id}"), Some(&sid))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let soon = web::clock::rfc3339(CLOCK_START + 2 * 3600);
    let (_, ending) = key(&a
        .create_key(&sid, json!({"name": "ending", "expires_at": soon}))
        .await);

    // Hour 08:00 on node a: 3 valid verifications, 2 valid gateway checks,
    // 2 from outside the fence, 1 for a service nobody runs; on node b: 4
    // valid, 1 disabled, 1 revoked.
    for _ in 0..3 {
        assert_eq!(verify_as(&a, &plain, None).await, "valid");
    }
    for _ in 0..2 {
        assert_eq!(
            a.gateway(Some(("magento-api-key", &plain))).await,
            StatusCode::OK
        );
    }
    for _ in 0..2 {
        assert_eq!(verify_as(&a, &fenced, None).await, "ip_not_allowed");
    }
    assert_eq!(
        verify_as(&a, &plain, Some("no_such_service")).await,
        "insufficient_scope"
    );
    for _ in 0..4 {
        assert_eq!(verify_as(&b, &plain, None).await, "valid");
    }
    assert_eq!(verify_as(&b, &off, None).await, "disabled");
    assert_eq!(verify_as(&b, &gone, None).await, "revoked");
    // Unknown keys belong to no company: never counted.
    assert_eq!(verify_as(&b, &mistype(&plain), None).await, "invalid");
    // Hour 11:00: the ending key has expired.
    clock.advance(3 * 3600);
    assert_eq!(verify_as(&a, &ending, None).await, "expired");

    for node in [&a, &b] {
        node.running
            .state
            .verifier
            .flush_usage()
            .await
            .expect("flush");
    }
    let from = web::clock::rfc3339(CLOCK_START - 3600);
    let to = web::clock::rfc3339(CLOCK_START + 5 * 3600);
    let q = format!("granularity=hour&from={from}&to={to}");
    let report = usage(&a, &sid, &q).await;
    assert_eq!(report["granularity"], "hour");
    let series = report["series"].as_array().expect("series");
    assert_eq!(
        series.len(),
        6,
        "one bucket per hour, zero-filled: {report}"
    );
    let eight = bucket(&report, &web::clock::rfc3339(CLOCK_START));
    let want = [9, 0, 0, 1, 1, 2, 1, 0];
    for (outcome, n) in OUTCOMES.iter().zip(want) {
        assert_eq!(count(eight, outcome), n, "{outcome} at 08:00: {eight}");
    }
    let eleven = bucket(&report, &web::clock::rfc3339(CLOCK_START + 3 * 3600));
    assert_eq!(count(eleven, "expired"), 1);
    for hour in [-1, 1, 2, 4] {
        let empty = bucket(&report, &web::clock::rfc3339(CLOCK_START + hour * 3600));
        for outcome in OUTCOMES {
            assert_eq!(count(empty, outcome), 0, "{outcome} at {hour}: {empty}");
        }
    }
    for (outcome, n) in OUTCOMES.iter().zip([9, 0, 1, 1, 1, 2, 1, 0]) {
        assert_eq!(count(&report["totals"], outcome), n, "total {outcome}");
    }
    // One key's usage.
    let fenced_only = usage(&a, &sid, &format!("{q}&key_id={fenced_id}")).await;
    assert_eq!(count(&fenced_only["totals"], "ip_not_allowed"), 2);
    assert_eq!(count(&fenced_only["totals"], "valid"), 0);
    let plain_only = usage(&b, &sid, &format!("{q}&key_id={plain_id}")).await;
    assert_eq!(count(&plain_only["totals"], "valid"), 9);
    // The CSV has the same rows.
    let csv = usage_csv(&a, &sid, &q).await;
    let mut lines = csv.split("\r\n");
    assert_eq!(
        lines.next(),
        Some(format!("start,{}", OUTCOMES.join(",")).as_str())
    );
    for point in series {
        let line = lines.next().expect("a line per bucket");
        let mut fields = line.split(',');
        assert_eq!(fields.next(), point["start"].as_str());
        for outcome in OUTCOMES {
            assert_eq!(
                fields.next().map(|f| f.parse::<i64>().expect("present")),
                Some(count(point, outcome))
            );
        }
    }
    assert_eq!(lines.next(), Some(""), "CRLF after the last line");
    // By day: one bucket with the totals.
    let day = usage(&a, &sid, "granularity=day").await;
    let days = day["series"].as_array().expect("present");
    assert_eq!(days.len(), 30);
    assert_eq!(count(&day["totals"], "valid"), 9);
    assert_eq!(count(&days[29], "valid"), 9, "today is the last bucket");

    // Throttled: a client refused after 600 failures; its next request
    // presents a key node a holds in memory.
    for _ in 0..600 {
        let _ = a.verify(&mistype(&plain)).await;
    }
    assert_eq!(a.verify(&plain).await.status, StatusCode::TOO_MANY_REQUESTS);
    a.running.state.verifier.flush_usage().await.expect("flush");
    let after = usage(&a, &sid, &format!("{q}&key_id={plain_id}")).await;
    assert_eq!(count(&after["totals"], "throttled"), 1, "{after}");
    b.stop().await;
    a.stop().await;
}

async fn refused_queries(db: &TestDb) {
    let app = App::start(db).await;
    let sid = app.signup(&unique_email("usage-a"), "A").await;
    let other = app.signup(&unique_email("usage-b"), "B").await;
    let theirs = app.create_key(&other, json!({"name": "theirs"})).await;
    let id = theirs["id"].as_str().expect("present");
    let r = app
        .get(&format!("/api/v1/usage?key_id={id}"), Some(&sid))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    for (query, field) in [
        ("granularity=minute", "granularity"),
        ("from=yesterday", "from"),
        ("from=2027-01-02T00:00:00Z&to=2027-01-01T00:00:00Z", "to"),
        ("from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z", "from"),
        ("granularity=hour&granularity=day", "granularity"),
    ] {
        let r = app.get(&format!("/api/v1/usage?{query}"), Some(&sid)).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            r.text
        );
        let msg = r.json()["error"]["message"]
            .as_str()
            .expect("present")
            .to_owned();
        assert!(msg.starts_with(&format!("{field}:")), "{query}: {msg}");
    }
    let r = app.get("/api/v1/usage?key_id=%00", Some(&sid)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/usage", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    // A fresh company: every bucket zero.
    let report = usage(&app, &sid, "").await;
    assert_eq!(report["series"].as_array().expect("present").len(), 24);
    for outcome in OUTCOMES {
        assert_eq!(count(&report["totals"], outcome), 0);
    }
    app.stop().await;
}

async fn old_hours_roll_up_by_day(db: &TestDb) {
    let (app, _clock) = App::start_clocked(db).await;
    let sid = app.signup(&unique_email("usage-old"), "Old").await;
    let k = app.create_key(&sid, json!({"name": "old"})).await;
    let id = k["id"].as_str().expect("present").to_owned();
    let state = &app.running.state;
    let day = CLOCK_START / 86400;
    let old_hour = (day - 100) * 24 + 5;
    let ancient_hour = (day - 500) * 24;
    let recent_hour = CLOCK_START / 3600 - 2;
    let rows = vec![
        (id.clone(), old_hour, [5, 0, 0, 0, 0, 0, 0, 0]),
        (id.clone(), old_hour + 1, [1, 1, 0, 0, 0, 0, 0, 0]),
        (id.clone(), ancient_hour, [7, 0, 0, 0, 0, 0, 0, 0]),
        (id.clone(), recent_hour, [3, 0, 0, 0, 0, 0, 0, 0]),
        // A key that is not stored is dropped, not an error.
        ("key_nope".to_owned(), recent_hour, [1, 0, 0, 0, 0, 0, 0, 0]),
    ];
    account::store::add_usage(&state.db, &rows)
        .await
        .expect("add");
    // Two roll-ups at once (two nodes' purges) move each hour once.
    let (x, y) = tokio::join!(
        account::store::roll_up_usage(&state.db, CLOCK_START),
        account::store::roll_up_usage(&state.db, CLOCK_START)
    );
    assert_eq!(x.expect("roll up") + y.expect("roll up"), 3);
    let from = web::clock::rfc3339((day - 120) * 86400);
    let to = web::clock::rfc3339((day + 1) * 86400);
    let report = usage(&app, &sid, &format!("granularity=day&from={from}&to={to}")).await;
    let old = bucket(&report, &web::clock::rfc3339((day - 100) * 86400));
    assert_eq!(
        (count(old, "valid"), count(old, "invalid")),
        (6, 1),
        "{old}"
    );
    assert_eq!(
        count(&report["totals"], "valid"),
        9,
        "the recent hours are counted too"
    );
    // Hourly buckets of those days are gone; the recent hour is kept.
    let hours = usage(
        &app,
        &sid,
        &format!(
            "granularity=hour&from={}&to={}",
            web::clock::rfc3339(recent_hour * 3600),
            web::clock::rfc3339((recent_hour + 1) * 3600)
        ),
    )
    .await;
    assert_eq!(count(&hours["totals"], "valid"), 3);
    // More than 13 months old: gone.
    let ancient = usage(
        &app,
        &sid,
        &format!(
            "granularity=day&from={}&to={}",
            web::clock::rfc3339((day - 501) * 86400),
            web::clock::rfc3339((day - 499) * 86400)
        ),
    )
    .await;
    assert_eq!(count(&ancient["totals"], "valid"), 0);
    app.stop().await;
}

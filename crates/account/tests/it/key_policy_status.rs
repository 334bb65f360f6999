//! The key policy's statuses (SPEC §10) as every caller meets them: a
//! disabled key, a key called from outside its allowed IPs, a key asked for
//! a service it may not be used for. `POST /api/v1/keys/verify` answers 200
//! with `"valid": false` and the status (`service` with
//! `insufficient_scope`), the gateway check and the signed ping 401 (the
//! ping's code is the status), and the Amazon store routes, which need
//! `amazon_sales_channel`, 401 with the status. Revoked > expired >
//! disabled > ip_not_allowed > insufficient_scope. Allowed IPs over IPv6
//! (the service on ::1, and clients behind a trusted proxy) and with
//! IPv4-mapped addresses either way (in the list, and as the TCP peer of a
//! service bound to `::ffff:127.0.0.1`). On both backends, real HTTP.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::{unique_email, TestDb};
use crate::key_policy_common::{
    create, create_signed, loopback, patch_ok, start, start_on, Caller, AMAZON, BILLING,
};
use reqwest::StatusCode;
use serde_json::json;

both_backends!(
    each_new_status_on_every_route,
    an_x_service_that_is_no_name_is_refused,
    the_strongest_reason_wins,
    allowed_ips_over_ipv6_and_ipv4_mapped,
);

const ELSEWHERE: [&str; 2] = ["192.0.2.0/24", "2001:db8::/32"];

async fn each_new_status_on_every_route(db: &TestDb) {
    let (app, _clock) = start(db, &[]).await;
    let sid = app.signup(&unique_email("policy"), "Policy Co").await;
    let (_, any, sig) = create_signed(&app, &sid, "no policy").await;
    let (off_id, off, off_sig) = create_signed(&app, &sid, "switched off").await;
    let (_, far, _) = create(&app, &sid, json!({"name": "far", "allowed_ips": ELSEWHERE})).await;
    let (_, billing_only, _) = create(
        &app,
        &sid,
        json!({"name": "billing", "services": [BILLING]}),
    )
    .await;
    let plain = Caller::new(&app);
    let amazon = Caller::new(&app).service(AMAZON);
    let billing = Caller::new(&app).service(BILLING);

    // A key without a policy is valid everywhere, whatever configured
    // service the caller names; so is the key to be disabled, until it is.
    for caller in [&plain, &amazon, &billing] {
        caller.assert_valid(&any, &sig).await;
        caller.assert_valid(&off, &off_sig).await;
    }

    // Disabled: at once on this node (the valid answer was in memory),
    // even for a ping whose signature was verified before.
    let view = patch_ok(&app, &sid, &off_id, json!({"disabled": true})).await;
    assert_eq!(
        (view["disabled"].clone(), view["status"].clone()),
        (json!(true), json!("disabled"))
    );
    for caller in [&plain, &amazon, &billing] {
        caller.assert_refused(&off, &off_sig, "disabled").await;
        let v = caller.verify(&off).await;
        assert_eq!(v["environment"], "production", "{v}");
        assert!(
            v.get("service").is_none(),
            "service only with insufficient_scope: {v}"
        );
    }
    let stores = plain.stores(&off, Some(&off_sig)).await;
    assert_eq!(stores, (StatusCode::UNAUTHORIZED, "disabled".to_owned()));

    // Called from 127.0.0.1, outside the key's allowed IPs.
    for caller in [&plain, &amazon, &billing] {
        caller.assert_refused(&far, &sig, "ip_not_allowed").await;
        assert!(caller.verify(&far).await.get("service").is_none());
    }
    let stores = plain.stores(&far, None).await;
    assert_eq!(
        stores,
        (StatusCode::UNAUTHORIZED, "ip_not_allowed".to_owned())
    );

    // A key for billing only: valid for billing and for a caller that names
    // no service; insufficient_scope, naming the service, for Amazon.
    for caller in [&plain, &billing] {
        for _ in 0..2 {
            assert_eq!(caller.status(&billing_only).await, "valid");
            assert_eq!(caller.gateway(&billing_only).await, StatusCode::OK);
        }
    }
    amazon
        .assert_refused(&billing_only, &sig, "insufficient_scope")
        .await;
    let v = amazon.verify(&billing_only).await;
    assert_eq!(v["service"], AMAZON, "{v}");
    assert_eq!(v["environment"], "production", "{v}");
    // The store routes are the Amazon Sales Channel's, whatever X-Service says.
    for caller in [&plain, &billing] {
        let stores = caller.stores(&billing_only, None).await;
        assert_eq!(
            stores,
            (StatusCode::UNAUTHORIZED, "insufficient_scope".to_owned())
        );
    }

    // A well-formed name the operator does not run: no key may be used
    // for it, not even one without a policy.
    let shipping = Caller::new(&app).service("shipping");
    for key in [&any, &billing_only] {
        shipping
            .assert_refused(key, &sig, "insufficient_scope")
            .await;
        assert_eq!(shipping.verify(key).await["service"], "shipping");
    }
    // And the key without a policy is still valid for the rest.
    amazon.assert_valid(&any, &sig).await;
    app.stop().await;
}

async fn an_x_service_that_is_no_name_is_refused(db: &TestDb) {
    let (app, _clock) = start(db, &[]).await;
    let sid = app.signup(&unique_email("names"), "Names Co").await;
    let (_, key, sig) = create_signed(&app, &sid, "no policy").await;
    let long = "a".repeat(65);
    let bad: [&[u8]; 8] = [
        b"Bad Name",
        b"Billing",
        b"billing-eu",
        b"1billing",
        b"_billing",
        b"",
        long.as_bytes(),
        b"billing\xff",
    ];
    for raw in bad {
        let what = String::from_utf8_lossy(raw);
        let caller = Caller::new(&app).service_bytes(raw);
        let r = caller.verify_raw(&key).await;
        assert_eq!(
            r.assert_api_error_status(StatusCode::BAD_REQUEST, &what),
            "invalid_service",
            "{what:?}"
        );
        assert_eq!(
            caller.gateway(&key).await,
            StatusCode::UNAUTHORIZED,
            "{what:?}"
        );
        assert_eq!(
            caller.ping(&key, &sig).await.0,
            StatusCode::UNAUTHORIZED,
            "{what:?}"
        );
    }
    // The longest name is a name (of no service here); the key itself is fine.
    let longest = Caller::new(&app).service(&"a".repeat(64));
    assert_eq!(longest.status(&key).await, "insufficient_scope");
    Caller::new(&app)
        .service(AMAZON)
        .assert_valid(&key, &sig)
        .await;
    app.stop().await;
}

async fn the_strongest_reason_wins(db: &TestDb) {
    let (app, clock) = start(db, &[]).await;
    let sid = app.signup(&unique_email("order"), "Order Co").await;
    let now = crate::common::CLOCK_START;
    let everything = |name: &str, expires: Option<i64>| {
        let mut body = json!({"name": name, "allowed_ips": ELSEWHERE, "services": [BILLING]});
        if let Some(at) = expires {
            body["expires_at"] = json!(web::clock::rfc3339(at));
        }
        body
    };
    // Every reason at once, then one fewer each time.
    let (revoked_id, revoked, _) = create(&app, &sid, everything("revoked", None)).await;
    let (expiring_id, expiring, _) =
        create(&app, &sid, everything("expired", Some(now + 60))).await;
    let (off_id, off, _) = create(&app, &sid, everything("disabled", None)).await;
    let (_, far, _) = create(&app, &sid, everything("far", None)).await;
    let (_, scoped, _) = create(&app, &sid, json!({"name": "scoped", "services": [BILLING]})).await;
    for id in [&revoked_id, &expiring_id, &off_id] {
        patch_ok(&app, &sid, id, json!({"disabled": true})).await;
    }
    app.revoke_key(&sid, &revoked_id).await;
    clock.advance(61);

    let amazon = Caller::new(&app).service(AMAZON);
    let (_, _, sig) = create_signed(&app, &sid, "signer").await;
    for (key, want) in [
        (&revoked, "revoked"),
        (&expiring, "expired"),
        (&off, "disabled"),
        (&far, "ip_not_allowed"),
        (&scoped, "insufficient_scope"),
    ] {
        amazon.assert_refused(key, &sig, want).await;
        let stores = Caller::new(&app).stores(key, None).await;
        assert_eq!(
            stores,
            (StatusCode::UNAUTHORIZED, want.to_owned()),
            "stores"
        );
        let v = amazon.verify(key).await;
        assert_eq!(
            v.get("service").is_some(),
            want == "insufficient_scope",
            "{v}"
        );
    }
    // The listing agrees where the status does not depend on the caller.
    for (id, want) in [
        (&revoked_id, "revoked"),
        (&expiring_id, "expired"),
        (&off_id, "disabled"),
    ] {
        let listed = app.listed_key(&sid, id).await;
        assert_eq!(listed["status"], want, "{listed}");
        assert_eq!(listed["disabled"], true, "{listed}");
    }
    app.stop().await;
}

async fn allowed_ips_over_ipv6_and_ipv4_mapped(db: &TestDb) {
    // The service on ::1: its clients come from ::1.
    let clock = web::ManualClock::new(crate::common::CLOCK_START);
    let v6 = start_on(db, "[::1]:0", &clock).await;
    assert!(v6.base.starts_with("http://[::1]:"), "{}", v6.base);
    let sid = v6.signup(&unique_email("six"), "Six Co").await;
    let (_, here, v) = create(&v6, &sid, json!({"name": "here", "allowed_ips": ["::1"]})).await;
    assert_eq!(v["allowed_ips"], json!(["::1/128"]));
    let elsewhere = json!({"name": "elsewhere", "allowed_ips": ["fd00::/8", "127.0.0.1"]});
    let (_, there, _) = create(&v6, &sid, elsewhere).await;
    let caller = Caller::new(&v6);
    for _ in 0..2 {
        assert_eq!(caller.status(&here).await, "valid");
        assert_eq!(caller.gateway(&here).await, StatusCode::OK);
        assert_eq!(caller.status(&there).await, "ip_not_allowed");
        assert_eq!(caller.gateway(&there).await, StatusCode::UNAUTHORIZED);
    }
    v6.stop().await;

    // Behind a trusted proxy (127.0.0.1): the forwarded client counts,
    // IPv6 or IPv4-mapped.
    let (app, _clock) = start(db, &["127.0.0.1"]).await;
    let sid = app.signup(&unique_email("proxied"), "Proxied Co").await;
    let body = |ips: &[&str]| json!({"name": "limited", "allowed_ips": ips});
    let (_, net6, _) = create(&app, &sid, body(&["2001:db8:7::/48"])).await;
    let (_, mapped, v) = create(&app, &sid, body(&["::ffff:203.0.113.7"])).await;
    assert_eq!(
        v["allowed_ips"],
        json!(["203.0.113.7/32"]),
        "stored as IPv4"
    );
    let (_, plain4, _) = create(&app, &sid, body(&["203.0.113.7"])).await;
    let cases = [
        (&net6, "2001:db8:7::9", "valid"),
        (&net6, "2001:db8:7:ffff::1", "valid"),
        (&net6, "2001:db8:8::9", "ip_not_allowed"),
        (&mapped, "203.0.113.7", "valid"),
        (&mapped, "::ffff:203.0.113.7", "valid"),
        (&mapped, "203.0.113.8", "ip_not_allowed"),
        (&plain4, "::ffff:203.0.113.7", "valid"),
        (&plain4, "::ffff:203.0.113.8", "ip_not_allowed"),
        (&plain4, "2001:db8:7::9", "ip_not_allowed"),
    ];
    for (key, client, want) in cases {
        let caller = Caller::new(&app).from(loopback(1)).forwarded(client);
        for _ in 0..2 {
            assert_eq!(caller.status(key).await, want, "{client}");
            let gateway = caller.gateway(key).await;
            assert_eq!(gateway == StatusCode::OK, want == "valid", "{client}");
        }
    }
    // Without the header the client is the proxy, which no key allows.
    assert_eq!(Caller::new(&app).status(&net6).await, "ip_not_allowed");

    // A service bound to ::ffff:127.0.0.1 sees IPv4 clients as IPv4-mapped
    // peers; a key that allows 127.0.0.41 (either way written) takes them.
    let (_, by4, _) = create(&app, &sid, body(&["127.0.0.41"])).await;
    let (_, by_mapped, _) = create(&app, &sid, body(&["::ffff:127.0.0.41/128"])).await;
    let mut node = start_on(db, "[::ffff:127.0.0.1]:0", &clock).await;
    // The verification routes answer any Host: reach the node over IPv4.
    node.api.base = format!("http://127.0.0.1:{}", node.running.addr.port());
    for key in [&by4, &by_mapped] {
        let near = Caller::new(&node).from(loopback(41));
        let far = Caller::new(&node).from(loopback(42));
        for _ in 0..2 {
            assert_eq!(near.status(key).await, "valid");
            assert_eq!(near.gateway(key).await, StatusCode::OK);
            assert_eq!(far.status(key).await, "ip_not_allowed");
            assert_eq!(far.gateway(key).await, StatusCode::UNAUTHORIZED);
        }
    }
    node.stop().await;
    app.stop().await;
}

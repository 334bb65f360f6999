//! Company members: the owner invites by email (a single-use link that
//! expires after 7 days, sent through the outbox), the invitee joins with a
//! new or an existing account. Who manages members, roles and leaving are
//! in `lifecycle_roles.rs`. On both backends, with the clock passed in.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::companies::company_lines;
use crate::common::members::{actions, invite, join_new, DAY};
use crate::common::{form_input, unique_email, App, Browser, TestDb, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;

both_backends!(
    invite_join_remove_through_the_api,
    links_are_single_use_expire_and_can_be_withdrawn,
    existing_accounts_join_through_the_pages,
);

async fn invite_join_remove_through_the_api(db: &TestDb) {
    let (app, clock) = App::start_clocked(db).await;
    let owner_email = unique_email("owner");
    let owner = app.signup(&owner_email, "Members Co").await;
    let key = app
        .create_key(&owner, json!({"name": "Amazon Sales Channel"}))
        .await;
    let key_secret = key["key"].as_str().unwrap().to_owned();

    let member_email = unique_email("member");
    // (Emails compare case-insensitively: the invitation is stored lower-cased.)
    let (inv_id, token, _) = invite(&app, &owner, &member_email.to_uppercase(), "member").await;
    let listed = app.get("/api/v1/invitations", Some(&owner)).await.json();
    assert_eq!(listed["invitations"][0]["id"], inv_id.as_str());
    assert_eq!(
        listed["invitations"][0]["email"],
        member_email.to_lowercase()
    );
    assert_eq!(listed["invitations"][0]["invited_by"], owner_email);

    // The message waits in the outbox; what is stored cannot open the link.
    let pool = app.running.state.db.pool.clone();
    let (recipient, body): (String, String) =
        sqlx::query_as("SELECT recipient, body FROM outbox WHERE kind = 'member_invite'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(recipient, member_email.to_lowercase());
    let mac = token.split('.').nth(1).unwrap();
    assert!(!body.contains(mac), "the stored message holds no token");
    assert!(body.contains("{invitation_token}"));
    assert!(
        !crate::common::contains_bytes(&db.stored_bytes().await, mac.as_bytes()),
        "no token anywhere in the database"
    );

    // Signing up through the link with another email is refused.
    let r = join_new(&app, &unique_email("someone-else"), &token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.assert_api_error("other email"), "wrong_account");

    // The invitee creates an account and is in the company at once.
    let r = join_new(&app, &member_email, &token).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let member = r.cookie("acct_sid").unwrap();
    let account = r.json()["account"].clone();
    assert_eq!(account["role"], "member");
    assert_eq!(account["company"]["name"], "Members Co");
    let member_id = account["id"].as_str().unwrap().to_owned();

    // Single use: the same link again is gone.
    let r = join_new(&app, &unique_email("late"), &token).await;
    assert_eq!(r.status, StatusCode::GONE, "{}", r.text);
    assert_eq!(r.assert_api_error("used link"), "invitation_used");
    let listed = app.get("/api/v1/invitations", Some(&owner)).await.json();
    assert_eq!(listed["invitations"], json!([]), "no longer pending");

    // The member sees and manages the company's keys.
    let (_, keys) = app.list_keys(&member).await;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["id"], key["id"]);
    let made = app
        .create_key(
            &member,
            json!({"name": "Second store", "environment": "sandbox"}),
        )
        .await;
    let made_secret = made["key"].as_str().unwrap().to_owned();
    let members = app.get("/api/v1/members", Some(&member)).await.json();
    let roles: Vec<(&str, &str)> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["email"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    let member_lc = member_email.to_lowercase();
    assert_eq!(
        roles,
        [
            (owner_email.as_str(), "owner"),
            (member_lc.as_str(), "member")
        ]
    );

    // The owner cannot remove themself.
    let me = members["members"][0]["id"].as_str().unwrap().to_owned();
    let r = app
        .delete(&format!("/api/v1/members/{me}"), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);

    // Removal: the membership ends; the member's session stays signed in
    // but, in no company now, acts on none from the next request…
    clock.advance(60);
    let r = app
        .delete(&format!("/api/v1/members/{member_id}"), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    for path in ["/api/v1/keys", "/api/v1/members"] {
        let r = app.get(path, Some(&member)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.text);
        assert_eq!(r.assert_api_error(path), "no_company");
    }
    let me = app.get("/api/v1/account", Some(&member)).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    let me = me.json();
    assert_eq!(me["account"]["email"], member_email.to_lowercase());
    assert_eq!(me["account"]["company"], serde_json::Value::Null, "{me}");
    assert_eq!(me["account"]["role"], serde_json::Value::Null, "{me}");
    let r = app.get("/api/v1/companies", Some(&member)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json(), json!({"companies": []}), "in no company");
    let r = app
        .delete(&format!("/api/v1/members/{member_id}"), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "removed once");

    // …while the company's keys stay and keep verifying.
    assert_eq!(app.verify_status(&key_secret).await, "valid");
    assert_eq!(app.verify_status(&made_secret).await, "valid");
    let (_, keys) = app.list_keys(&owner).await;
    assert_eq!(keys.len(), 2);
    let members = app.get("/api/v1/members", Some(&owner)).await.json();
    assert_eq!(members["members"].as_array().unwrap().len(), 1);

    // The former member can still sign in (in no company) and make a
    // company of their own, empty.
    let r = app.login_raw(&member_email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let again = r.cookie("acct_sid").unwrap();
    assert_eq!(r.json()["account"]["company"], serde_json::Value::Null);
    let r = app.get("/api/v1/keys", Some(&again)).await;
    assert_eq!(r.assert_api_error("signed in anew"), "no_company");
    let r = app
        .post_json(
            "/api/v1/companies",
            Some(&again),
            &json!({"name": "Own Co"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["role"], "owner");
    let account = app.get("/api/v1/account", Some(&again)).await.json();
    assert_eq!(account["account"]["role"], "owner");
    assert_eq!(account["account"]["company"]["name"], "Own Co");
    let (_, keys) = app.list_keys(&again).await;
    assert!(keys.is_empty(), "none of the old company's keys");

    // The audit log tells the story, newest first.
    let audit = app.get("/api/v1/audit?limit=50", Some(&owner)).await.json();
    let got = actions(&audit);
    let member_events: Vec<&str> = got
        .iter()
        .map(String::as_str)
        .filter(|a| a.starts_with("member.") || *a == "key.created")
        .collect();
    assert_eq!(
        member_events,
        [
            "member.removed",
            "key.created",
            "member.joined",
            "member.invited",
            "key.created"
        ]
    );
    let events = audit["events"].as_array().unwrap();
    let find = |action: &str| events.iter().find(|e| e["action"] == action).unwrap();
    assert_eq!(find("member.invited")["actor"], owner_email);
    assert_eq!(find("member.invited")["detail"]["email"], member_lc);
    assert_eq!(find("member.invited")["target"], inv_id.as_str());
    assert_eq!(find("member.joined")["actor"], member_lc);
    assert_eq!(find("member.joined")["detail"]["role"], "member");
    assert_eq!(find("member.removed")["actor"], owner_email);
    assert_eq!(find("member.removed")["target"], member_id.as_str());
    assert_eq!(find("member.removed")["detail"]["email"], member_lc);
    assert!(
        !audit.to_string().contains(mac),
        "no token in the audit log"
    );
    app.stop().await;
}

async fn links_are_single_use_expire_and_can_be_withdrawn(db: &TestDb) {
    let (app, clock) = App::start_clocked(db).await;
    let owner_email = unique_email("owner");
    let owner = app.signup(&owner_email, "Links Co").await;

    // Expiry: valid for 7 days, gone a second after.
    let late = unique_email("late");
    let (_, token, _) = invite(&app, &owner, &late, "member").await;
    clock.advance(7 * DAY - 1);
    let page = app.get(&format!("/join/{token}"), None).await;
    assert_eq!(page.status, StatusCode::OK, "still open: {}", page.text);
    assert!(page.text.contains("Links Co"));
    clock.advance(1);
    let page = app.get(&format!("/join/{token}"), None).await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(
        page.text.contains("This invitation has expired"),
        "{}",
        page.text
    );
    let r = join_new(&app, &late, &token).await;
    assert_eq!(r.status, StatusCode::GONE);
    assert_eq!(r.assert_api_error("expired"), "invitation_expired");
    // (A week is past the session's idle limit: sign in again.)
    let owner = app
        .login_raw(&owner_email, PASSWORD)
        .await
        .cookie("acct_sid")
        .unwrap();

    // Inviting again makes a new link; only the newest works.
    let again = unique_email("again");
    let (_, first, _) = invite(&app, &owner, &again, "member").await;
    let (second_id, second, _) = invite(&app, &owner, &again, "owner").await;
    let r = join_new(&app, &again, &first).await;
    assert_eq!(r.assert_api_error("replaced"), "invitation_revoked");
    let listed = app.get("/api/v1/invitations", Some(&owner)).await.json();
    assert_eq!(listed["invitations"].as_array().unwrap().len(), 1);

    // Withdrawn: the link stops working; withdrawing again is 404.
    let r = app
        .delete(&format!("/api/v1/invitations/{second_id}"), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = join_new(&app, &again, &second).await;
    assert_eq!(r.status, StatusCode::GONE);
    assert_eq!(r.assert_api_error("withdrawn"), "invitation_revoked");
    let r = app
        .delete(&format!("/api/v1/invitations/{second_id}"), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // A link that was not made here (tampered, or with a made-up id) opens nothing.
    let (id, good, _) = invite(&app, &owner, &unique_email("forged"), "member").await;
    let (_, mac) = good.split_once('.').unwrap();
    let flipped = if mac.starts_with('A') { "B" } else { "A" };
    for bad in [
        format!("{id}.{flipped}{}", &mac[1..]),
        format!("inv_doesnotexist0000.{mac}"),
        id.clone(),
        "nonsense".to_owned(),
    ] {
        let r = join_new(&app, "x@example.com", &bad).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad}: {}", r.text);
        let page = app.get(&format!("/join/{bad}"), None).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        assert!(page.text.contains("This invitation link is not valid"));
    }
    // Another service's key does not make valid links here.
    let other = account::members::LinkKey::random();
    let r = join_new(&app, "x@example.com", &other.token(&id)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Bad input is a clear 4xx.
    for (body, code) in [
        (json!({"email": "not an email"}), "invalid_field"),
        (
            json!({"email": "a@b.example", "role": "admin"}),
            "invalid_field",
        ),
    ] {
        let r = app
            .post_json("/api/v1/invitations", Some(&owner), &body)
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(r.assert_api_error("bad invite"), code);
    }
    app.stop().await;
}

async fn existing_accounts_join_through_the_pages(db: &TestDb) {
    let (app, _clock) = App::start_clocked(db).await;
    let owner_email = unique_email("owner");
    app.signup(&owner_email, "Pages Co").await;
    let owner = Browser::new(&app);
    owner.login(&owner_email, PASSWORD).await;

    // The owner invites on the Members page and is shown the link once.
    let page = owner.get("/account/members").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("Invite a member"));
    let csrf = form_input(&page.text, "/account/members", "csrf").unwrap();
    let guest_email = unique_email("guest");
    let r = owner
        .post_form(
            "/account/members",
            &[("csrf", &csrf), ("email", &guest_email), ("role", "member")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("Email is not configured"), "no SMTP here");
    let start = r.text.find("/join/").expect("the link on the page");
    let token: String = r.text[start + 6..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-' || *c == '.')
        .collect();
    assert!(r.text.contains(&guest_email), "pending invitation listed");
    // A bad email re-shows the form with the error.
    let r = owner
        .post_form(
            "/account/members",
            &[("csrf", &csrf), ("email", "nope"), ("role", "member")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("Email is invalid."));

    // The owner's outbox shows the message with the working link.
    let outbox = owner.get("/account/outbox").await;
    assert!(
        outbox.text.contains(&format!("/join/{token}")),
        "{}",
        outbox.text
    );
    assert!(outbox.text.contains("You are invited to join Pages Co"));

    // The guest has an account of their own (and a key in it): joining
    // adds a membership and takes nothing from that company.
    let guest_sid = app.signup(&guest_email, "Guest Ltd").await;
    let key = app
        .create_key(&guest_sid, json!({"name": "Old store"}))
        .await;
    let key_secret = key["key"].as_str().unwrap().to_owned();
    let guest = Browser::new(&app);
    guest.login(&guest_email, PASSWORD).await;
    let page = guest.get(&format!("/join/{token}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.text.contains("still has keys that work"),
        "keys elsewhere are no obstacle: {}",
        page.text
    );

    // The join button works, once.
    let page = guest.get(&format!("/join/{token}")).await;
    assert!(page.text.contains("Join Pages Co"), "{}", page.text);
    let csrf = form_input(&page.text, &format!("/join/{token}"), "csrf").unwrap();
    let r = guest.post_button(&format!("/join/{token}"), &csrf).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.location(), Some("/account/members?notice=joined"));
    let page = guest.get("/account/members?notice=joined").await;
    assert!(page.text.contains("You are now a member"));
    assert!(page.text.contains(&owner_email));
    assert!(
        !page.text.contains("Invite a member"),
        "members do not invite"
    );
    let r = guest.post_button(&format!("/join/{token}"), &csrf).await;
    assert!(r.status.is_client_error(), "{}", r.status);
    // Still in Guest Ltd too (this API session stays in it: joining was in
    // another browser), whose key still works.
    assert_eq!(
        company_lines(&app, &guest_sid).await,
        [
            ("Guest Ltd".to_owned(), "owner".to_owned(), true),
            ("Pages Co".to_owned(), "member".to_owned(), false)
        ]
    );
    assert_eq!(app.verify_status(&key_secret).await, "valid");

    // The owner removes the guest through the pages; the guest stays signed
    // in, back in Guest Ltd.
    let page = owner.get("/account/members").await;
    let guest_id = {
        let marker = "/account/members/";
        let mut ids = page
            .text
            .match_indices(marker)
            .map(|(i, _)| &page.text[i + marker.len()..])
            .filter_map(|rest| {
                let (id, after) = rest.split_once('/')?;
                after.starts_with("remove\"").then(|| id.to_owned())
            });
        ids.next().expect("a Remove link")
    };
    let confirm = owner
        .get(&format!("/account/members/{guest_id}/remove"))
        .await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.text.contains(&guest_email));
    let csrf = form_input(
        &confirm.text,
        &format!("/account/members/{guest_id}/remove"),
        "csrf",
    )
    .unwrap();
    let r = owner
        .post_button(&format!("/account/members/{guest_id}/remove"), &csrf)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let r = guest.get("/account/members").await;
    assert_eq!(r.status, StatusCode::OK, "still signed in: {}", r.text);
    assert!(!r.text.contains(&owner_email), "no longer in Pages Co");
    let me = app.get("/api/v1/account", Some(&guest_sid)).await.json();
    assert_eq!(me["account"]["company"]["name"], "Guest Ltd");
    assert_eq!(me["account"]["role"], "owner");
    assert_eq!(app.verify_status(&key_secret).await, "valid");

    // The owner's audit page names the member events, roles in words.
    let audit = owner.get("/account/audit").await;
    assert!(audit.text.contains("Member invited"), "{}", audit.text);
    assert!(audit.text.contains("Member joined"));
    assert!(audit.text.contains("Member removed"));
    assert!(
        audit.text.contains(&format!("{guest_email} · Member")),
        "{}",
        audit.text
    );

    // The used link says so.
    let page = app.get(&format!("/join/{token}"), None).await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(page.text.contains("has been used already"));
    app.stop().await;
}

//! Company members: only the owner manages members, owners change roles,
//! join forms show every error, and members can leave; removing a member
//! ends their membership at once (their sessions stay, in their other
//! companies or in none) while the company's keys stay. On both
//! backends, with the clock passed in.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::members::{accept, invite, join_new};
use crate::common::{form_input, unique_email, App, Browser, TestDb, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;

both_backends!(
    only_the_owner_manages_members,
    owners_change_roles,
    join_forms_show_every_error_and_the_wrong_account_signs_out_back_to_the_link,
    members_can_leave,
);

async fn only_the_owner_manages_members(db: &TestDb) {
    let app = App::start(db).await;
    let owner_email = unique_email("owner");
    let owner = app.signup(&owner_email, "Roles Co").await;
    let member_email = unique_email("member");
    let (_, token, _) = invite(&app, &owner, &member_email, "member").await;
    let member = join_new(&app, &member_email, &token)
        .await
        .cookie("acct_sid")
        .unwrap();
    let members = app.get("/api/v1/members", Some(&owner)).await.json();
    let owner_id = members["members"][0]["id"].as_str().unwrap().to_owned();
    let (inv_id, _, _) = invite(&app, &owner, &unique_email("x"), "member").await;

    for r in [
        app.post_json(
            "/api/v1/invitations",
            Some(&member),
            &json!({"email": "a@b.example"}),
        )
        .await,
        app.get("/api/v1/invitations", Some(&member)).await,
        app.delete(&format!("/api/v1/invitations/{inv_id}"), Some(&member))
            .await,
        app.delete(&format!("/api/v1/members/{owner_id}"), Some(&member))
            .await,
        app.get("/api/v1/audit", Some(&member)).await,
    ] {
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
        assert_eq!(r.assert_api_error("member"), "owner_only");
    }
    // Without a session: 401.
    for r in [
        app.get("/api/v1/members", None).await,
        app.post_json(
            "/api/v1/invitations",
            None,
            &json!({"email": "a@b.example"}),
        )
        .await,
        accept(&app, "0123456789abcdef0123456789abcdef", &token).await,
    ] {
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    }
    // A member cannot be invited twice.
    let r = app
        .post_json(
            "/api/v1/invitations",
            Some(&owner),
            &json!({"email": member_email}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.assert_api_error("twice"), "already_member");

    // An invited owner can manage members too; the signed-in accept path
    // needs the invited email.
    let co_owner_email = unique_email("co-owner");
    let co_owner = app.signup(&co_owner_email, "Own Co").await;
    let (_, token, _) = invite(&app, &owner, &co_owner_email, "owner").await;
    let r = accept(&app, &member, &token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.assert_api_error("other account"), "wrong_account");
    let r = accept(&app, &co_owner, &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["account"]["role"], "owner");
    assert_eq!(r.json()["account"]["company"]["name"], "Roles Co");
    // Same session, new company: the co-owner lists invitations now.
    let r = app.get("/api/v1/invitations", Some(&co_owner)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // A member sees no Remove links for others (only Leave company).
    let browser = Browser::new(&app);
    browser.login(&member_email, PASSWORD).await;
    let page = browser.get("/account/members").await;
    assert!(page.text.contains(&co_owner_email));
    assert_eq!(page.text.matches("/remove\"").count(), 1, "{}", page.text);
    assert!(!page
        .text
        .contains(&format!("/account/members/{owner_id}/remove")));
    assert!(page.text.contains("Leave company"));
    let r = browser
        .get(&format!("/account/members/{owner_id}/remove"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    app.stop().await;
}

async fn owners_change_roles(db: &TestDb) {
    let app = App::start(db).await;
    let owner = app.signup(&unique_email("owner"), "Roles Co").await;
    let member_email = unique_email("member");
    let (_, token, _) = invite(&app, &owner, &member_email, "member").await;
    let member = join_new(&app, &member_email, &token)
        .await
        .cookie("acct_sid")
        .unwrap();
    let list = app.get("/api/v1/members", Some(&owner)).await.json();
    let owner_id = list["members"][0]["id"].as_str().unwrap().to_owned();
    let member_id = list["members"][1]["id"].as_str().unwrap().to_owned();
    let set = |sid: String, id: String, role: &'static str| {
        let app = &app;
        async move {
            let r = app
                .http
                .patch(app.url(&format!("/api/v1/members/{id}")))
                .header("cookie", crate::common::sid_cookie(&sid))
                .json(&json!({ "role": role }))
                .send()
                .await
                .unwrap();
            crate::common::Resp::read(r).await
        }
    };

    // A member cannot change roles, not even their own.
    let r = set(member.clone(), member_id.clone(), "owner").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    // The owner promotes: the member's very next request has owner rights.
    let r = set(owner.clone(), member_id.clone(), "owner").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["member"]["role"], "owner");
    let r = app.get("/api/v1/invitations", Some(&member)).await;
    assert_eq!(r.status, StatusCode::OK, "promoted: {}", r.text);
    // …and demotes again.
    let r = set(owner.clone(), member_id.clone(), "member").await;
    assert_eq!(r.json()["member"]["role"], "member");
    let r = app.get("/api/v1/invitations", Some(&member)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "demoted: {}", r.text);
    // Setting the role it has changes nothing and records nothing.
    let r = set(owner.clone(), member_id.clone(), "member").await;
    assert_eq!(r.status, StatusCode::OK);

    // Owners cannot change their own role; bad roles and ids are 4xx.
    let r = set(owner.clone(), owner_id.clone(), "member").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.assert_api_error("own role"), "cannot_change_own_role");
    let r = set(owner.clone(), member_id.clone(), "admin").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = set(owner.clone(), "acct_nosuchmember000".into(), "owner").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Through the page: Make owner, as the owner.
    let browser = Browser::new(&app);
    let owner_email = app.get("/api/v1/members", Some(&owner)).await.json()["members"][0]["email"]
        .as_str()
        .unwrap()
        .to_owned();
    browser.login(&owner_email, PASSWORD).await;
    let page = browser.get("/account/members").await;
    let action = format!("/account/members/{member_id}/role");
    let csrf = form_input(&page.text, &action, "csrf").unwrap();
    assert!(page.text.contains("Make owner"));
    let r = browser
        .post_form(&action, &[("csrf", &csrf), ("role", "owner")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let page = browser.get("/account/members?notice=role").await;
    assert!(page.text.contains("The role was changed"));
    assert!(page.text.contains("Make member"));

    // Each change is in the audit log with the roles before and after.
    let audit = app.get("/api/v1/audit", Some(&owner)).await.json();
    let changes: Vec<(String, String)> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "member.role_changed")
        .map(|e| {
            (
                e["detail"]["previous_role"].as_str().unwrap().to_owned(),
                e["detail"]["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let pairs = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        changes,
        [
            pairs("member", "owner"),
            pairs("owner", "member"),
            pairs("member", "owner")
        ]
    );
    app.stop().await;
}

async fn join_forms_show_every_error_and_the_wrong_account_signs_out_back_to_the_link(db: &TestDb) {
    let app = App::start(db).await;
    let owner = app.signup(&unique_email("owner"), "Forms Co").await;
    let invited = unique_email("invited");
    let (_, token, _) = invite(&app, &owner, &invited, "member").await;
    let path = format!("/join/{token}");

    // A new account with no name and a short password: both errors at once.
    let visitor = Browser::new(&app);
    let page = visitor.get(&path).await;
    let csrf = form_input(&page.text, &path, "csrf").unwrap();
    let r = visitor
        .post_form(
            &path,
            &[("csrf", &csrf), ("name", " "), ("password", "short")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("id=\"name-error\""), "{}", r.text);
    assert!(r.text.contains("id=\"password-error\""));
    assert!(r.text.contains("at least 12 characters"));

    // Signed in as someone else: the page says so, and signing out comes
    // back to the link.
    let other = unique_email("other");
    app.signup(&other, "Other Co").await;
    let browser = Browser::new(&app);
    browser.login(&other, PASSWORD).await;
    let page = browser.get(&path).await;
    assert!(page
        .text
        .contains("This invitation is for another email address"));
    assert!(!page.text.contains("Join Forms Co</button>"));
    let csrf = form_input(&page.text, "/logout", "csrf").unwrap();
    let next = form_input(&page.text, "/logout", "next");
    assert_eq!(next.as_deref(), Some(path.as_str()));
    let r = browser
        .post_form("/logout", &[("csrf", &csrf), ("next", &path)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), Some(path.as_str()));
    let page = browser.get(&path).await;
    assert!(page.text.contains("Create your account"));
    // A foreign next is ignored.
    browser.login(&other, PASSWORD).await;
    let page = browser.get("/account/members").await;
    let csrf = form_input(&page.text, "/logout", "csrf").unwrap();
    let r = browser
        .post_form("/logout", &[("csrf", &csrf), ("next", "//evil.example/")])
        .await;
    assert_eq!(r.location(), Some("/login"));

    // The sign-up page shows every invalid field at once too.
    let r = visitor
        .submit(
            "/signup",
            "/signup",
            &[
                ("name", ""),
                ("company", ""),
                ("email", "nope"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for id in [
        "name-error",
        "company-error",
        "email-error",
        "password-error",
    ] {
        assert!(r.text.contains(&format!("id=\"{id}\"")), "{id}: {}", r.text);
    }
    app.stop().await;
}

async fn members_can_leave(db: &TestDb) {
    let app = App::start(db).await;
    let owner_email = unique_email("owner");
    let owner = app.signup(&owner_email, "Leave Co").await;
    let mut joined = Vec::new();
    for tag in ["api-leaver", "page-leaver"] {
        let email = unique_email(tag);
        let (_, token, _) = invite(&app, &owner, &email, "member").await;
        let r = join_new(&app, &email, &token).await;
        let id = r.json()["account"]["id"].as_str().unwrap().to_owned();
        joined.push((email, id, r.cookie("acct_sid").unwrap()));
    }
    let key = app
        .create_key(&joined[0].2, json!({"name": "Made by a leaver"}))
        .await;

    // Through the API: a member removes themself; their session stays, in
    // no company now (it was their only one).
    let (email, id, sid) = &joined[0];
    let r = app
        .delete(&format!("/api/v1/members/{id}"), Some(sid))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app.get("/api/v1/keys", Some(sid)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.assert_api_error("left"), "no_company");
    let r = app.get("/api/v1/companies", Some(sid)).await;
    assert_eq!(r.json(), json!({"companies": []}), "{}", r.text);
    assert_eq!(
        app.verify_status(key["key"].as_str().unwrap()).await,
        "valid"
    );
    // A member cannot remove anyone else.
    let (_, other_id, other_sid) = &joined[1];
    let owner_id = app.get("/api/v1/members", Some(&owner)).await.json()["members"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .delete(&format!("/api/v1/members/{owner_id}"), Some(other_sid))
        .await;
    assert_eq!(r.assert_api_error("remove another"), "owner_only");

    // Through the pages: Leave company → confirmation → the companies page,
    // still signed in.
    let page_email = &joined[1].0;
    let browser = Browser::new(&app);
    browser.login(page_email, PASSWORD).await;
    let page = browser.get("/account/members").await;
    let confirm_path = format!("/account/members/{other_id}/remove");
    assert!(
        page.text.contains(&format!("href=\"{confirm_path}\"")),
        "{}",
        page.text
    );
    assert!(page.text.contains("Leave company"));
    let confirm = browser.get(&confirm_path).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.text);
    assert!(confirm.text.contains("Leave Leave Co?"), "{}", confirm.text);
    let csrf = form_input(&confirm.text, &confirm_path, "csrf").unwrap();
    let r = browser.post_button(&confirm_path, &csrf).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.location(), Some("/account/companies?notice=left"));
    let page = browser.get("/account/companies?notice=left").await;
    assert_eq!(page.status, StatusCode::OK, "signed in: {}", page.text);
    assert!(page.text.contains("You left the company"), "{}", page.text);
    let r = app.get("/api/v1/companies", Some(other_sid)).await;
    assert_eq!(r.json(), json!({"companies": []}), "{}", r.text);
    let r = app.get("/api/v1/keys", Some(other_sid)).await;
    assert_eq!(r.assert_api_error("left on the page"), "no_company");

    // The owner is alone again; the trail says who left.
    let members = app.get("/api/v1/members", Some(&owner)).await.json();
    assert_eq!(members["members"].as_array().unwrap().len(), 1);
    let audit = app.get("/api/v1/audit", Some(&owner)).await.json();
    let left: Vec<(String, bool)> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "member.removed")
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_owned(),
                e["detail"]["left"] == json!(true),
            )
        })
        .collect();
    assert_eq!(
        left,
        [(page_email.clone(), true), (email.clone(), true)],
        "newest first"
    );
    // Owners cannot leave (the company needs its owner), on the page either.
    let owner_browser = Browser::new(&app);
    owner_browser.login(&owner_email, PASSWORD).await;
    let r = owner_browser
        .get(&format!("/account/members/{owner_id}/remove"))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    app.stop().await;
}

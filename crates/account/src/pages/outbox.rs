//! My Account > Outbox: the messages sent to the company (expiry notices, leak
//! alerts), and whether they went out. Without SMTP they wait here.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use web::clock::human;
use web::i18n::T;
use web::Error;

use super::{Chrome, Page, PageResult};
use crate::store::{self, Account};
use crate::AppState;
use web::page::SignedIn;

const OUTBOX: &str = "/account/outbox";

pub struct MessageLine {
    created: String,
    recipient: String,
    subject: String,
    /// The body's paragraphs.
    body: Vec<String>,
    sent: String,
}

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxPage {
    t: T,
    c: Chrome,
    messages: Vec<MessageLine>,
    smtp: bool,
}

pub async fn show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
) -> PageResult {
    if !user.role.is_owner() {
        return Err(
            Error::forbidden("owner_only", "Only the company's owner reads its messages.").into(),
        );
    }
    let hidden = crate::i18n::for_request(&headers, Some(&user))
        .get("outbox.link_hidden")
        .to_owned();
    let messages = store::list_messages(&state.db, &user.company_id, 100)
        .await?
        .into_iter()
        .map(|m| MessageLine {
            body: crate::outbox::shown_body(&state, &m, &user.email, &hidden)
                .split("\n\n")
                .map(str::to_owned)
                .collect(),
            created: human(m.created_at),
            recipient: m.recipient,
            subject: m.subject,
            sent: m.sent_at.map(human).unwrap_or_default(),
        })
        .collect();
    let (t, c, cookie) = Page::new(&state, &headers, Some(user), OUTBOX).parts();
    let page = OutboxPage {
        t,
        c,
        messages,
        smtp: state.cfg.smtp.is_some(),
    };
    Ok(Page::render(cookie, StatusCode::OK, &page))
}

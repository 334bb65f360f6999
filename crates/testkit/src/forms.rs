//! Reading the pages' forms: hidden inputs (the CSRF token), a form's fields,
//! and text as the templates escape it.

/// The `value` of the first input named `name` in an HTML page.
pub fn hidden_input(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

/// The value of the first hidden `csrf` field of a page.
pub fn hidden_csrf(html: &str) -> Option<String> {
    hidden_input(html, "csrf")
}

/// The `value` of the input named `name` inside the form posting to `action`
/// (the layout's own forms come first on every page).
pub fn form_input(html: &str, action: &str, name: &str) -> Option<String> {
    let start = html.find(&format!("action=\"{action}\""))?;
    hidden_input(&html[start..], name)
}

/// `text` as the pages' templates (askama) write it into HTML: the five
/// characters that need it as numeric character references.
pub fn html_escaped(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

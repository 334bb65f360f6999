//! API keys in text: finding them, and mistyping one.

/// Every substring of `text` that looks like an API key (`cmk_live_`/`cmk_test_` + 36 base62).
pub fn find_keys(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for prefix in ["cmk_live_", "cmk_test_"] {
        let mut rest = text;
        while let Some(i) = rest.find(prefix) {
            let tail = &rest[i + prefix.len()..];
            let body: String = tail
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            if body.len() == keys::KEY_LEN - prefix.len() {
                out.push(format!("{prefix}{body}"));
            }
            rest = tail;
        }
    }
    out
}

/// The key with one character of its random part changed (checksum now wrong).
pub fn mistype(key: &str) -> String {
    let mut chars: Vec<char> = key.chars().collect();
    let i = 12;
    chars[i] = if chars[i] == 'a' { 'b' } else { 'a' };
    chars.into_iter().collect()
}

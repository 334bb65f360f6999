//! What text people type may hold: no control characters (NUL among them),
//! no invisible formatting (Unicode category Cf: bidi overrides such as
//! U+202E, zero-width spaces such as U+200B), and only valid UTF-8.

/// Unicode general category Cf (format characters), Unicode 15.
pub fn is_format(c: char) -> bool {
    matches!(c as u32,
        0x00AD
        | 0x0600..=0x0605
        | 0x061C
        | 0x06DD
        | 0x070F
        | 0x0890..=0x0891
        | 0x08E2
        | 0x180E
        | 0x200B..=0x200F
        | 0x202A..=0x202E
        | 0x2060..=0x2064
        | 0x2066..=0x206F
        | 0xFEFF
        | 0xFFF9..=0xFFFB
        | 0x110BD
        | 0x110CD
        | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A
        | 0xE0001
        | 0xE0020..=0xE007F)
}

/// A character that shows nothing, or changes how the rest reads.
pub fn is_hidden(c: char) -> bool {
    c.is_control() || is_format(c)
}

/// The script a letter is written in, coarsely (by block): Latin, Greek,
/// Cyrillic, Armenian, Hebrew, Arabic, or another block by its number.
/// Digits, marks and punctuation belong to none.
fn script(c: char) -> Option<u32> {
    if !c.is_alphabetic() {
        return None;
    }
    Some(match c as u32 {
        0x0041..=0x024F | 0x1E00..=0x1EFF | 0x2C60..=0x2C7F | 0xA720..=0xA7FF => 1,
        0x0370..=0x03FF | 0x1F00..=0x1FFF => 2,
        0x0400..=0x052F | 0x1C80..=0x1C8F | 0x2DE0..=0x2DFF | 0xA640..=0xA69F => 3,
        0x0530..=0x058F => 4,
        0x0590..=0x05FF => 5,
        0x0600..=0x06FF | 0x0750..=0x077F => 6,
        other => 0x1000 + (other >> 7),
    })
}

/// Whether every letter of `label` is of one script: mixed scripts make one
/// name read like another (`pаypal` with a Cyrillic `а`).
pub fn one_script(label: &str) -> bool {
    let mut seen = None;
    label
        .chars()
        .filter_map(script)
        .all(|s| *seen.get_or_insert(s) == s)
}

/// Whether `s` has a hidden character (names, descriptions: what people read).
pub fn has_hidden(s: &str) -> bool {
    s.chars().any(is_hidden)
}

/// Whether every name and value of an `application/x-www-form-urlencoded`
/// body is valid UTF-8 without NUL once percent-decoded (a form parser would
/// quietly turn invalid bytes into U+FFFD and keep the NUL).
pub fn form_is_text(body: &[u8]) -> bool {
    body.split(|&b| b == b'&').all(|pair| {
        pair.split(|&b| b == b'=').all(|part| {
            let bytes = percent_decode(part);
            !bytes.contains(&0) && std::str::from_utf8(&bytes).is_ok()
        })
    })
}

fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' if i + 2 < s.len() => match (hex(s[i + 1]), hex(s[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters() {
        for c in [
            '\u{0}',
            '\u{7}',
            '\u{202E}',
            '\u{200B}',
            '\u{FEFF}',
            '\u{2066}',
            '\u{E0041}',
        ] {
            assert!(is_hidden(c), "{:X}", c as u32);
        }
        for c in ['a', 'é', 'ß', '中', ' ', '-', '\u{1F600}'] {
            assert!(!is_hidden(c), "{:X}", c as u32);
        }
        assert!(has_hidden("Acme\u{202E}moc.exe"));
        assert!(!has_hidden("Acme B.V."));
    }

    #[test]
    fn forms_with_invalid_utf8_are_found() {
        assert!(form_is_text(b"name=Caf%C3%A9&x=a+b"));
        assert!(form_is_text(b"a=%&b=%4"));
        assert!(!form_is_text(b"name=%FF"));
        assert!(!form_is_text(b"name=%C3"));
        assert!(!form_is_text(b"%FF=x"));
        assert!(!form_is_text(b"name=\xff"));
        assert!(!form_is_text(b"name=a%00b"));
    }
}

//! The QR code of an `otpauth://` link, drawn on the server as inline SVG.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// An `<svg>` element showing `text` as a QR code, labelled `label` for
/// screen readers (`role="img"`). Empty when the text is too long for a code.
pub fn svg(text: &str, label: &str) -> String {
    let Ok(code) = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M) else {
        return String::new();
    };
    let drawn = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // The renderer writes an XML declaration and a bare <svg ...>: drop the
    // first and name the picture.
    let start = drawn.find("<svg").unwrap_or(0);
    let label = escape(label);
    drawn[start..].replacen(
        "<svg ",
        &format!("<svg role=\"img\" aria-label=\"{label}\" class=\"qr\" "),
        1,
    )
}

/// Escapes text for an HTML attribute.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn draws_a_labelled_svg() {
        let s = super::svg("otpauth://totp/x?secret=ABC", "QR \"code\"");
        assert!(
            s.starts_with("<svg role=\"img\" aria-label=\"QR &quot;code&quot;\""),
            "{s}"
        );
        assert!(s.contains("<path") || s.contains("<rect"), "{s}");
        assert!(s.trim_end().ends_with("</svg>"));
        assert_eq!(super::svg(&"x".repeat(5000), "l"), "");
    }
}

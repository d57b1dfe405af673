//! A minimal JSON object writer (RFC 8259): enough for one flat result object.

use std::fmt::Write as _;
use std::time::Duration;

/// Builds `{"key":value,...}` in insertion order.
pub struct JsonObject {
    text: String,
}

impl Default for JsonObject {
    fn default() -> Self {
        Self::new()
    }
}

impl JsonObject {
    pub fn new() -> Self {
        Self {
            text: String::from("{"),
        }
    }

    fn key(&mut self, key: &str) -> &mut String {
        if self.text.len() > 1 {
            self.text.push(',');
        }
        push_string(&mut self.text, key);
        self.text.push(':');
        &mut self.text
    }

    pub fn string(&mut self, key: &str, value: &str) -> &mut Self {
        push_string(self.key(key), value);
        self
    }

    /// Bytes as a string; invalid UTF-8 becomes U+FFFD.
    pub fn bytes(&mut self, key: &str, value: &[u8]) -> &mut Self {
        self.string(key, &String::from_utf8_lossy(value))
    }

    pub fn uint(&mut self, key: &str, value: u64) -> &mut Self {
        let _ = write!(self.key(key), "{value}");
        self
    }

    /// An integer, or `null` when absent.
    pub fn int_or_null(&mut self, key: &str, value: Option<i32>) -> &mut Self {
        let out = self.key(key);
        match value {
            Some(v) => {
                let _ = write!(out, "{v}");
            }
            None => out.push_str("null"),
        }
        self
    }

    /// A duration in seconds, exact to the nanosecond (e.g. `0.001500000`).
    pub fn seconds(&mut self, key: &str, value: Duration) -> &mut Self {
        let _ = write!(
            self.key(key),
            "{}.{:09}",
            value.as_secs(),
            value.subsec_nanos()
        );
        self
    }

    /// A number with `decimals` digits after the point; `null` if not finite.
    pub fn number(&mut self, key: &str, value: f64, decimals: usize) -> &mut Self {
        let out = self.key(key);
        if value.is_finite() {
            let _ = write!(out, "{value:.decimals$}");
        } else {
            out.push_str("null");
        }
        self
    }

    /// A nested object, already written by another `JsonObject`.
    pub fn object(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key).push_str(value);
        self
    }

    pub fn finish(&mut self) -> String {
        let mut text = std::mem::take(&mut self.text);
        text.push('}');
        text
    }
}

/// Appends `value` as a quoted JSON string.
pub fn push_string(out: &mut String, value: &str) {
    out.reserve(value.len() + 2);
    out.push('"');
    // Copy runs of characters that need no escape in one go: captured output can
    // be tens of megabytes.
    let mut run_start = 0;
    for (i, byte) in value.bytes().enumerate() {
        let short_escape = match byte {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            // Other control characters (and DEL, which terminals act on) as \u00XX.
            0..=0x1f | 0x7f => None,
            _ => continue,
        };
        // Escaped characters are ASCII, so `i` is on a character boundary.
        out.push_str(&value[run_start..i]);
        run_start = i + 1;
        match short_escape {
            Some(escape) => out.push_str(escape),
            None => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 0xf)]));
            }
        }
    }
    out.push_str(&value[run_start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(value: &str) -> String {
        let mut out = String::new();
        push_string(&mut out, value);
        out
    }

    #[test]
    fn plain_text_is_quoted() {
        assert_eq!(quoted(""), r#""""#);
        assert_eq!(quoted("hi there"), r#""hi there""#);
        assert_eq!(quoted("héllo ✓ 😀"), "\"héllo ✓ 😀\"");
    }

    #[test]
    fn quotes_and_backslashes_are_escaped() {
        assert_eq!(quoted(r#"say "hi" \o/"#), r#""say \"hi\" \\o/""#);
        assert_eq!(quoted("/"), r#""/""#);
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(quoted("a\nb\tc\rd"), r#""a\nb\tc\rd""#);
        assert_eq!(quoted("\0\u{1}\u{8}\u{c}\u{1b}[31m\u{1f}\u{7f}"), {
            r#""\u0000\u0001\u0008\u000c\u001b[31m\u001f\u007f""#
        });
    }

    #[test]
    fn escapes_between_multibyte_characters() {
        assert_eq!(quoted("é\n✓\"😀\u{1}ü"), "\"é\\n✓\\\"😀\\u0001ü\"");
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let mut object = JsonObject::new();
        object.bytes("out", b"ok\xff\xfe!");
        assert_eq!(object.finish(), "{\"out\":\"ok\u{fffd}\u{fffd}!\"}");
    }

    #[test]
    fn object_with_every_kind_of_value() {
        let json = JsonObject::new()
            .string("status", "OK")
            .int_or_null("exit_code", Some(-3))
            .int_or_null("signal", None)
            .seconds("wall_time", Duration::from_micros(1500))
            .seconds("long", Duration::new(12, 5))
            .uint("memory", 2_117_632)
            .number("ratio", 1.23456, 2)
            .number("nan", f64::NAN, 2)
            .string("key \"q\"", "v")
            .finish();
        assert_eq!(
            json,
            r#"{"status":"OK","exit_code":-3,"signal":null,"wall_time":0.001500000,"long":12.000000005,"memory":2117632,"ratio":1.23,"nan":null,"key \"q\"":"v"}"#
        );
    }

    #[test]
    fn empty_object() {
        assert_eq!(JsonObject::new().finish(), "{}");
    }
}

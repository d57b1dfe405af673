//! How the JSON output is written: one line per object, durations as seconds
//! with nine decimals (whole nanoseconds, so that user_time and system_time add
//! up to cpu_time in the text too), and every control character and DEL (which
//! terminals act on) escaped.

use serde::{Serialize, Serializer};
use serde_json::ser::{CharEscape, Formatter};
use serde_json::value::RawValue;
use std::io::{self, Write};
use std::time::Duration;

/// `value` as one line of JSON.
pub fn to_line<T: Serialize>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::new();
    value.serialize(&mut serde_json::Serializer::with_formatter(
        &mut out, Escaping,
    ))?;
    // The serializer writes only UTF-8: str values and ASCII escapes.
    Ok(String::from_utf8(out).expect("serde_json writes UTF-8"))
}

/// serde_json's compact form, but with `\u00XX` for control characters that have
/// no two-character escape in RFC 8259 (`\b` and `\f` too) and for DEL.
struct Escaping;

impl Formatter for Escaping {
    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        let byte = match escape {
            CharEscape::Quote => return writer.write_all(b"\\\""),
            CharEscape::ReverseSolidus => return writer.write_all(b"\\\\"),
            CharEscape::LineFeed => return writer.write_all(b"\\n"),
            CharEscape::CarriageReturn => return writer.write_all(b"\\r"),
            CharEscape::Tab => return writer.write_all(b"\\t"),
            CharEscape::Solidus => return writer.write_all(b"/"),
            CharEscape::Backspace => 0x08,
            CharEscape::FormFeed => 0x0c,
            CharEscape::AsciiControl(byte) => byte,
        };
        write_unicode_escape(writer, byte)
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // serde_json passes DEL through unescaped.
        let mut parts = fragment.split('\u{7f}');
        writer.write_all(parts.next().unwrap_or_default().as_bytes())?;
        for part in parts {
            write_unicode_escape(writer, 0x7f)?;
            writer.write_all(part.as_bytes())?;
        }
        Ok(())
    }
}

fn write_unicode_escape<W: ?Sized + Write>(writer: &mut W, byte: u8) -> io::Result<()> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let escape = [
        b'\\',
        b'u',
        b'0',
        b'0',
        HEX[usize::from(byte >> 4)],
        HEX[usize::from(byte & 0xf)],
    ];
    writer.write_all(&escape)
}

/// A duration in seconds, exact to the nanosecond (e.g. `0.001500000`).
pub fn seconds<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    let text = format!("{}.{:09}", value.as_secs(), value.subsec_nanos());
    raw(text, serializer)
}

/// Writes `text`, a valid JSON number, as it is.
fn raw<S: Serializer>(text: String, serializer: S) -> Result<S::Ok, S::Error> {
    RawValue::from_string(text)
        .map_err(serde::ser::Error::custom)?
        .serialize(serializer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(value: &str) -> String {
        to_line(&value).unwrap()
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
    fn control_characters_and_del_are_escaped() {
        assert_eq!(quoted("a\nb\tc\rd"), r#""a\nb\tc\rd""#);
        assert_eq!(quoted("\0\u{1}\u{8}\u{c}\u{1b}[31m\u{1f}\u{7f}x\u{7f}"), {
            r#""\u0000\u0001\u0008\u000c\u001b[31m\u001f\u007fx\u007f""#
        });
    }

    #[test]
    fn escapes_between_multibyte_characters() {
        assert_eq!(
            quoted("é\n✓\"😀\u{1}ü\u{7f}ß"),
            "\"é\\n✓\\\"😀\\u0001ü\\u007fß\""
        );
    }

    #[derive(Serialize)]
    struct Sample {
        #[serde(serialize_with = "seconds")]
        short: Duration,
        #[serde(serialize_with = "seconds")]
        long: Duration,
    }

    #[test]
    fn durations_keep_their_nanoseconds() {
        let json = to_line(&Sample {
            short: Duration::from_micros(1500),
            long: Duration::new(12, 5),
        })
        .unwrap();
        assert_eq!(json, r#"{"short":0.001500000,"long":12.000000005}"#);
    }
}

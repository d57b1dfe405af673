//! Time arguments: seconds as a decimal number.

use std::time::Duration;

/// Parses a positive, finite number of seconds such as `2`, `0.5` or `1e-3`.
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    let invalid = || format!("invalid time '{text}': expected seconds, e.g. 2 or 0.5");
    // f64's parser also takes "inf", "NaN" and a leading '+': accept digits only.
    let looks_numeric = text.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'));
    if !looks_numeric {
        return Err(invalid());
    }
    let seconds: f64 = text.parse().map_err(|_| invalid())?;
    if seconds <= 0.0 {
        return Err(format!("time '{text}' must be positive"));
    }
    let duration =
        Duration::try_from_secs_f64(seconds).map_err(|_| format!("time '{text}' is too large"))?;
    if duration.is_zero() {
        return Err(format!("time '{text}' is shorter than a nanosecond"));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::parse_seconds;
    use std::time::Duration;

    #[test]
    fn decimal_seconds() {
        assert_eq!(parse_seconds("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_seconds("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_seconds(".25"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_seconds("1e-3"), Ok(Duration::from_millis(1)));
        assert_eq!(parse_seconds("1.5E1"), Ok(Duration::from_secs(15)));
    }

    #[test]
    fn garbage_is_rejected() {
        for bad in [
            "", "abc", "1s", "-1", "+1", "inf", "NaN", "1..2", " 1", "1,5", "e3",
        ] {
            let err = parse_seconds(bad).unwrap_err();
            assert!(err.contains("invalid time"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn zero_and_out_of_range_are_rejected() {
        assert!(parse_seconds("0").unwrap_err().contains("positive"));
        assert!(parse_seconds("0.0").unwrap_err().contains("positive"));
        assert!(parse_seconds("1e-12").unwrap_err().contains("nanosecond"));
        assert!(parse_seconds("1e300").unwrap_err().contains("too large"));
    }
}

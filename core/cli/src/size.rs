//! SIZE arguments: a byte count with an optional binary suffix.

/// Parses `1048576`, `512K`, `64m`, `1GiB`... Suffixes are powers of 1024 and
/// case-insensitive: K/KiB, M/MiB, G/GiB, T/TiB, and B for plain bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(digits_end);
    let invalid = || {
        format!(
            "invalid size '{text}': expected a byte count with an optional suffix \
             K, M, G or T (powers of 1024), e.g. 65536, 512K, 256MiB"
        )
    };
    if digits.is_empty() {
        return Err(invalid());
    }
    let shift = match suffix.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" => 10,
        "m" | "mib" => 20,
        "g" | "gib" => 30,
        "t" | "tib" => 40,
        _ => return Err(invalid()),
    };
    let count: u64 = digits.parse().map_err(|_| invalid())?;
    count
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("size '{text}' is too large"))
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn plain_byte_counts() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("100B"), Ok(100));
    }

    #[test]
    fn binary_suffixes_in_any_case() {
        assert_eq!(parse_size("1K"), Ok(1024));
        assert_eq!(parse_size("1k"), Ok(1024));
        assert_eq!(parse_size("2KiB"), Ok(2048));
        assert_eq!(parse_size("3M"), Ok(3 << 20));
        assert_eq!(parse_size("3m"), Ok(3 << 20));
        assert_eq!(parse_size("256MiB"), Ok(256 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("4GiB"), Ok(4 << 30));
        assert_eq!(parse_size("1T"), Ok(1 << 40));
    }

    #[test]
    fn garbage_is_rejected() {
        for bad in [
            "", "K", "-1", "+1", "1.5M", "1 M", " 1", "1KB", "1X", "M1", "0x10", "1e6", "1Kk",
        ] {
            let err = parse_size(bad).unwrap_err();
            assert!(err.contains("invalid size"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn overflow_is_rejected() {
        assert!(parse_size("18446744073709551616").is_err());
        assert!(parse_size("17179869184G")
            .unwrap_err()
            .contains("too large"));
        assert_eq!(parse_size("18446744073709551615"), Ok(u64::MAX));
    }
}

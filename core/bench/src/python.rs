//! The pooled run through the Python module: `PYTHON -m scpool.bench` measures it in
//! its own interpreter, in the same benchmark run as the other figures.

use crate::error::BenchError;
use crate::stats::Summary;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs the Python benchmark for `runs` runs of `program` and reads its medians.
pub fn measure(python: &Path, runs: usize, program: &Path) -> Result<Summary, BenchError> {
    let output = Command::new(python)
        .args(["-m", "scpool.bench", "--json", "--runs"])
        .arg(runs.to_string())
        .arg("--program")
        .arg(program)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| BenchError::runtime(format!("running {}: {e}", python.display())))?;
    if !output.status.success() {
        return Err(BenchError::runtime(format!(
            "{} -m scpool.bench failed ({}); is the scpool module installed?",
            python.display(),
            output.status
        )));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let json = text.lines().last().unwrap_or_default();
    Ok(Summary {
        median_us: number(json, "pooled_median_us")?,
        p99_us: number(json, "pooled_p99_us")?,
    })
}

/// The number after `"key":` in a flat JSON object.
fn number(json: &str, key: &str) -> Result<f64, BenchError> {
    let missing = || BenchError::runtime(format!("scpool.bench printed no {key}: {json}"));
    let at = json.find(&format!("\"{key}\"")).ok_or_else(missing)?;
    let rest = json[at + key.len() + 2..].trim_start();
    let rest = rest.strip_prefix(':').ok_or_else(missing)?.trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(rest.len());
    rest[..end].parse().map_err(|_| missing())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_numbers_from_the_json_line() {
        let json = r#"{"runs": 100, "pooled_median_us": 612.5, "pooled_p99_us":1.2e3}"#;
        assert_eq!(number(json, "pooled_median_us").unwrap(), 612.5);
        assert_eq!(number(json, "pooled_p99_us").unwrap(), 1200.0);
        assert!(number(json, "absent").is_err());
        assert!(number(r#"{"pooled_median_us": "x"}"#, "pooled_median_us").is_err());
    }
}

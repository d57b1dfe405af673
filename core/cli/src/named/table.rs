//! `scpool ps` output: an aligned table, or a JSON array.

use super::state::State;
use serde::Serialize;

/// UTC date and time of `secs` since the epoch, as 2026-12-01T18:29:15Z.
pub fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rest = secs % 86_400;
    // Civil date from days since 1970-01-01 (proleptic Gregorian calendar).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

fn image(state: &State) -> String {
    match (&state.image, state.image_layers.as_slice()) {
        (Some(name), _) => name.clone(),
        (None, []) => "-".into(),
        (None, [only]) => only.display().to_string(),
        (None, [.., top]) => format!("{} (+{})", top.display(), state.image_layers.len() - 1),
    }
}

fn exit_status(state: &State) -> String {
    match (&state.exit, &state.error) {
        (Some(exit), _) => exit.exit_status.to_string(),
        (None, Some(_)) => "error".into(),
        (None, None) => "-".into(),
    }
}

pub fn text(states: &[State]) -> String {
    let mut rows = vec![[
        "NAME".to_string(),
        "ID".into(),
        "IMAGE".into(),
        "STATE".into(),
        "STATUS".into(),
        "CREATED".into(),
        "COMMAND".into(),
    ]];
    for s in states {
        rows.push([
            s.name.clone(),
            s.id.clone(),
            image(s),
            s.state.name().into(),
            exit_status(s),
            utc(s.created),
            s.command.join(" "),
        ]);
    }
    let mut widths = [0usize; 7];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[derive(Serialize)]
struct Row<'a> {
    name: &'a str,
    id: &'a str,
    image: Option<&'a str>,
    image_layers: &'a [std::path::PathBuf],
    state: &'static str,
    status: Option<&'a str>,
    exit_code: Option<i32>,
    signal: Option<i32>,
    exit_status: Option<u8>,
    error: Option<&'a str>,
    created: String,
    command: &'a [String],
}

pub fn json(states: &[State]) -> String {
    let rows: Vec<Row<'_>> = states
        .iter()
        .map(|s| Row {
            name: &s.name,
            id: &s.id,
            image: s.image.as_deref(),
            image_layers: &s.image_layers,
            state: s.state.name(),
            status: s.exit.as_ref().map(|e| e.status.as_str()),
            exit_code: s.exit.as_ref().and_then(|e| e.exit_code),
            signal: s.exit.as_ref().and_then(|e| e.signal),
            exit_status: s.exit.as_ref().map(|e| e.exit_status),
            error: s.error.as_deref(),
            created: utc(s.created),
            command: &s.command,
        })
        .collect();
    let mut out = serde_json::to_string(&rows).expect("rows serialise");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::utc;

    #[test]
    fn dates_are_utc_civil_dates() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_798_738_155), "2026-12-31T17:29:15Z");
    }
}

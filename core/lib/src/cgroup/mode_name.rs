//! The names of the cgroup modes, shared by every layer that reads them from text.

use super::CgroupMode;
use std::str::FromStr;

impl CgroupMode {
    /// The names [`FromStr`] accepts, for messages.
    pub const NAMES: &'static str = "\"auto\", \"required\" or \"off\"";

    /// The mode's name: "auto", "required" or "off".
    pub fn name(&self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Required => "required",
            Self::Off => "off",
        }
    }
}

impl FromStr for CgroupMode {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        match name {
            "auto" => Ok(Self::Auto),
            "required" => Ok(Self::Required),
            "off" => Ok(Self::Off),
            other => Err(format!("cgroup mode {other:?}: expected {}", Self::NAMES)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CgroupMode;

    #[test]
    fn every_mode_parses_back_from_its_name() {
        for mode in [CgroupMode::Auto, CgroupMode::Required, CgroupMode::Off] {
            assert_eq!(mode.name().parse::<CgroupMode>(), Ok(mode));
        }
        let err = "Auto".parse::<CgroupMode>().unwrap_err();
        assert!(err.contains(CgroupMode::NAMES), "{err}");
    }
}

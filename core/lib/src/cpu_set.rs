//! A set of CPUs in the kernel's list syntax ("0-3,5"), as cpuset.cpus takes it.

use crate::error::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// CPU numbers stop below this: no kernel is built for more (x86's MAXSMP,
/// the largest NR_CPUS of any architecture, is 8192).
pub const MAX_CPUS: u32 = 8192;

/// A non-empty set of CPU numbers, kept as sorted, disjoint, non-adjacent ranges
/// so that two equal sets compare equal however they were written.
///
/// Parsed from the list syntax of `cpuset.cpus` and `taskset -c`: numbers and
/// inclusive ranges separated by commas, e.g. `"0"`, `"0-1,3"`. Displayed the
/// same way, in the kernel's form (ranges merged, ascending).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CpuSet {
    ranges: Vec<(u32, u32)>,
}

impl CpuSet {
    /// Parses a CPU list such as `"0-1,3"`; whitespace around it is ignored.
    /// Empty lists, garbage, reversed ranges and numbers of [`MAX_CPUS`] or more
    /// are an [`Error::InvalidArgument`] that quotes the list.
    pub fn parse(list: &str) -> Result<Self> {
        match parse_ranges(list) {
            Ok(ranges) if ranges.is_empty() => Err(Error::invalid(format!(
                "CPU set {list:?} is empty: give CPU numbers such as \"0\" or \"0-1,3\""
            ))),
            Ok(ranges) => Ok(Self { ranges }),
            Err(why) => Err(Error::invalid(format!(
                "CPU set {list:?}: {why} (expected CPU numbers and ranges such as \"0-1,3\")"
            ))),
        }
    }

    /// The set of the given CPU numbers; empty or too large is an
    /// [`Error::InvalidArgument`].
    pub fn from_cpus(cpus: impl IntoIterator<Item = u32>) -> Result<Self> {
        let mut ranges = Vec::new();
        for cpu in cpus {
            if cpu >= MAX_CPUS {
                return Err(Error::invalid(format!(
                    "CPU {cpu} is beyond the largest number a kernel has ({})",
                    MAX_CPUS - 1
                )));
            }
            ranges.push((cpu, cpu));
        }
        if ranges.is_empty() {
            return Err(Error::invalid("a CPU set needs at least one CPU"));
        }
        Ok(Self {
            ranges: normalize(ranges),
        })
    }

    /// Whether `cpu` is in the set.
    pub fn contains(&self, cpu: u32) -> bool {
        self.ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&cpu))
    }

    /// The CPU numbers, ascending.
    pub fn cpus(&self) -> impl Iterator<Item = u32> + '_ {
        self.ranges.iter().flat_map(|&(lo, hi)| lo..=hi)
    }

    /// How many CPUs the set holds.
    pub fn len(&self) -> usize {
        self.ranges
            .iter()
            .map(|&(lo, hi)| (hi - lo) as usize + 1)
            .sum()
    }

    /// Always false: a `CpuSet` holds at least one CPU.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Whether every CPU of the set is in `other`.
    pub fn is_subset(&self, other: &CpuSet) -> bool {
        self.ranges.iter().all(|&(lo, hi)| {
            other
                .ranges
                .iter()
                .any(|&(olo, ohi)| olo <= lo && hi <= ohi)
        })
    }

    /// The CPUs of the set that are not in `other`.
    pub(crate) fn outside(&self, other: &CpuSet) -> Vec<u32> {
        self.cpus().filter(|&cpu| !other.contains(cpu)).collect()
    }

    /// A list the kernel wrote (cpuset.cpus, cpuset.cpus.effective): `None` when
    /// it holds no CPU.
    pub(crate) fn from_kernel(text: &str) -> std::result::Result<Option<Self>, String> {
        let ranges = parse_ranges(text)?;
        Ok((!ranges.is_empty()).then_some(Self { ranges }))
    }
}

/// The ranges of a list, normalized; an empty list gives none.
fn parse_ranges(list: &str) -> std::result::Result<Vec<(u32, u32)>, String> {
    let list = list.trim();
    if list.is_empty() {
        return Ok(Vec::new());
    }
    let number = |text: &str| -> std::result::Result<u32, String> {
        let text = text.trim();
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{text:?} is not a CPU number"));
        }
        match text.parse::<u32>() {
            Ok(cpu) if cpu < MAX_CPUS => Ok(cpu),
            _ => Err(format!(
                "CPU {text} is beyond the largest number a kernel has ({})",
                MAX_CPUS - 1
            )),
        }
    };
    let mut ranges = Vec::new();
    for item in list.split(',') {
        let range = match item.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi) = (number(lo)?, number(hi)?);
                if lo > hi {
                    return Err(format!("range {}-{} runs backwards", lo, hi));
                }
                (lo, hi)
            }
            None => {
                let cpu = number(item)?;
                (cpu, cpu)
            }
        };
        ranges.push(range);
    }
    Ok(normalize(ranges))
}

/// Sorts and merges overlapping and adjacent ranges.
fn normalize(mut ranges: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    ranges.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
    for (lo, hi) in ranges {
        match merged.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => merged.push((lo, hi)),
        }
    }
    merged
}

impl FromStr for CpuSet {
    type Err = Error;

    fn from_str(list: &str) -> Result<Self> {
        Self::parse(list)
    }
}

impl fmt::Display for CpuSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &(lo, hi)) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if lo == hi {
                write!(f, "{lo}")?;
            } else {
                write!(f, "{lo}-{hi}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(list: &str) -> String {
        CpuSet::parse(list).unwrap().to_string()
    }

    #[test]
    fn lists_are_parsed_and_shown_as_the_kernel_shows_them() {
        assert_eq!(shown("0"), "0");
        assert_eq!(shown("0-1,3"), "0-1,3");
        assert_eq!(shown("1,0"), "0-1");
        assert_eq!(shown(" 3,0-2\n"), "0-3");
        assert_eq!(shown("5,1,2,3,7-9,8"), "1-3,5,7-9");
        assert_eq!(shown("4-4"), "4");
        assert_eq!(shown("8191"), "8191");
        let set = CpuSet::parse("0-2,6").unwrap();
        assert_eq!(set.cpus().collect::<Vec<_>>(), [0, 1, 2, 6]);
        assert_eq!(set.len(), 4);
        assert!(set.contains(6) && !set.contains(3));
        assert_eq!(set, CpuSet::from_cpus([6, 2, 1, 0]).unwrap());
    }

    #[test]
    fn bad_lists_are_invalid_arguments_that_quote_the_list() {
        for bad in [
            "",
            " ",
            ",",
            "0,",
            "-1",
            "1-",
            "a",
            "0-1-2",
            "3-1",
            "1.5",
            "0x1",
            "+1",
            "8192",
            "99999999999",
            "0 1",
            "0-1:1/2",
        ] {
            match CpuSet::parse(bad) {
                Err(Error::InvalidArgument(message)) => {
                    assert!(message.contains(&format!("{bad:?}")), "{message}")
                }
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
        assert!(matches!(
            CpuSet::from_cpus([]),
            Err(Error::InvalidArgument(_))
        ));
        assert!(matches!(
            CpuSet::from_cpus([MAX_CPUS]),
            Err(Error::InvalidArgument(_))
        ));
    }

    #[test]
    fn subsets_and_the_cpus_outside() {
        let host = CpuSet::parse("0-3,8-11").unwrap();
        assert!(CpuSet::parse("1-2,9").unwrap().is_subset(&host));
        assert!(host.is_subset(&host));
        let wide = CpuSet::parse("2-9").unwrap();
        assert!(!wide.is_subset(&host));
        assert_eq!(wide.outside(&host), [4, 5, 6, 7]);
    }

    #[test]
    fn kernel_lists_may_be_empty() {
        assert_eq!(CpuSet::from_kernel("\n"), Ok(None));
        assert_eq!(
            CpuSet::from_kernel("0-1\n").unwrap().unwrap().to_string(),
            "0-1"
        );
        assert!(CpuSet::from_kernel("x").is_err());
    }
}

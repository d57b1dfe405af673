//! cgroup v2: cpu.stat, memory.max / swap.max / peak / events, pids.max, cpu.max.

use super::knob::Knob;
use super::Controllers;
use std::io;
use std::path::Path;

pub(crate) struct V2 {
    dir: std::path::PathBuf,
    /// Read at the start of each run (open during the run, like every knob).
    memory_current: Knob,
    cpu_stat: Knob,
    memory_max: Knob,
    /// Per-descriptor peak: writing to it resets what this descriptor reads (6.12+);
    /// the descriptor stays open from the reset to the end of the run. Absent before
    /// 5.19.
    memory_peak: Option<Knob>,
    peak_resettable: bool,
    memory_events: Knob,
    pids_max: Knob,
    cpu_max: Knob,
}

const PERIOD_US: u64 = 100_000;

impl V2 {
    pub fn open(dir: &Path) -> io::Result<Self> {
        // No swap: a memory limit must mean a memory limit.
        if let Some(swap) = Knob::open_optional(dir, "memory.swap.max", true)? {
            swap.write("0")?;
        }
        let memory_peak = Knob::open_optional(dir, "memory.peak", true)?;
        let peak_resettable = memory_peak
            .as_ref()
            .is_some_and(|peak| peak.write("reset").is_ok());
        Ok(Self {
            dir: dir.to_path_buf(),
            memory_current: Knob::open(dir, "memory.current", false)?,
            cpu_stat: Knob::open(dir, "cpu.stat", false)?,
            memory_max: Knob::open(dir, "memory.max", true)?,
            memory_peak,
            peak_resettable,
            memory_events: Knob::open(dir, "memory.events", false)?,
            pids_max: Knob::open(dir, "pids.max", true)?,
            cpu_max: Knob::open(dir, "cpu.max", true)?,
        })
    }
}

impl V2 {
    /// Whether runs can share this cgroup and still each get a peak of their own;
    /// if not, each run needs a cgroup of its own (`run_leaf`).
    pub fn peak_resettable(&self) -> bool {
        self.peak_resettable
    }
}

impl Controllers for V2 {
    fn close_files(&self) {
        for knob in [
            &self.memory_current,
            &self.cpu_stat,
            &self.memory_max,
            &self.memory_events,
            &self.pids_max,
            &self.cpu_max,
        ] {
            knob.close();
        }
        if let Some(peak) = &self.memory_peak {
            peak.close();
        }
    }

    /// The kernel takes a limit below what the cgroup holds and reclaims what it
    /// can; what stays above it (the loan's files in /w and /tmp, without swap) is
    /// refused as v1 refuses it (EBUSY), rather than failing the next clone.
    fn apply_memory(&self, limit: Option<u64>) -> io::Result<()> {
        self.memory_max
            .write(&limit.map_or("max".to_string(), |v| v.to_string()))?;
        match limit {
            Some(limit) if self.current_memory()? > limit => Err(io::Error::new(
                io::ErrorKind::ResourceBusy,
                format!("memory.max {limit}: the cgroup holds more and cannot reclaim it"),
            )),
            _ => Ok(()),
        }
    }

    fn apply_processes(&self, limit: Option<u32>) -> io::Result<()> {
        self.pids_max
            .write(&limit.map_or("max".to_string(), |v| v.to_string()))
    }

    fn apply_cpu_rate(&self, cores: Option<f64>) -> io::Result<()> {
        let quota = match cores {
            Some(cores) => ((cores * PERIOD_US as f64) as u64).max(1000).to_string(),
            None => "max".to_string(),
        };
        self.cpu_max.write(&format!("{quota} {PERIOD_US}"))
    }

    /// cpu.stat cannot be reset: runs use deltas. memory.peak is reset through our
    /// descriptor where the kernel allows it (6.12+); before that it is the peak
    /// since the container was created, and runs use leaves of their own.
    fn reset_counters(&self) -> io::Result<()> {
        if let Some(peak) = self.memory_peak.as_ref().filter(|_| self.peak_resettable) {
            peak.write("reset")?;
        }
        Ok(())
    }

    fn cpu_ns(&self) -> io::Result<u64> {
        Ok(self.cpu_stat.field("usage_usec")? * 1000)
    }

    /// Without memory.peak (before 5.19), what the cgroup holds now; runs then read
    /// their own leaf's figure instead (`run_leaf`).
    fn peak_memory(&self) -> io::Result<u64> {
        match &self.memory_peak {
            Some(peak) => peak.number(),
            None => self.current_memory(),
        }
    }

    fn oom_kills(&self) -> io::Result<u64> {
        self.memory_events.field("oom_kill")
    }

    fn reclaimable_cache(&self) -> io::Result<u64> {
        let stat = super::read_text(&self.dir, "memory.stat")?;
        Ok(super::stat_field(&stat, "file").saturating_sub(super::stat_field(&stat, "shmem")))
    }

    /// memory.reclaim (5.19+) takes an amount: all that is charged asks for what can
    /// be had (EAGAIN when less, as expected). Before 5.19, lowering memory.high
    /// below the usage reclaims without the OOM killer that memory.max would bring,
    /// and it is lifted again at once.
    fn reclaim(&self) -> io::Result<()> {
        let current = self.current_memory()?;
        match super::write_once(&self.dir, "memory.reclaim", &current.to_string()) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let lowered = super::write_once(&self.dir, "memory.high", "0");
                super::write_once(&self.dir, "memory.high", "max")?;
                lowered
            }
            _ => Ok(()),
        }
    }

    fn current_memory(&self) -> io::Result<u64> {
        self.memory_current.number()
    }
}

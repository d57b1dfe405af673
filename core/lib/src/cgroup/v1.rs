//! cgroup v1: cpuacct for CPU time, memory for the limit, peak and OOM kills, pids,
//! and cpu for the CFS quota.

use super::knob::Knob;
use super::Controllers;
use std::io;
use std::path::Path;

pub(crate) struct V1 {
    memory_dir: std::path::PathBuf,
    /// Read at the start of each run (open during the run, like every knob).
    memory_usage: Knob,
    cpu_usage: Knob,
    memory_limit: Knob,
    memsw_limit: Option<Knob>,
    memory_peak: Knob,
    oom_control: Knob,
    pids_max: Knob,
    cfs_quota: Knob,
}

const CFS_PERIOD_US: u64 = 100_000;

impl V1 {
    pub fn open(cpu: &Path, cpuacct: &Path, memory: &Path, pids: &Path) -> io::Result<Self> {
        let v1 = Self {
            memory_dir: memory.to_path_buf(),
            memory_usage: Knob::open(memory, "memory.usage_in_bytes", false)?,
            cpu_usage: Knob::open(cpuacct, "cpuacct.usage", true)?,
            memory_limit: Knob::open(memory, "memory.limit_in_bytes", true)?,
            memsw_limit: Knob::open_optional(memory, "memory.memsw.limit_in_bytes", true)?,
            memory_peak: Knob::open(memory, "memory.max_usage_in_bytes", true)?,
            oom_control: Knob::open(memory, "memory.oom_control", false)?,
            pids_max: Knob::open(pids, "pids.max", true)?,
            cfs_quota: Knob::open(cpu, "cpu.cfs_quota_us", true)?,
        };
        Knob::open(cpu, "cpu.cfs_period_us", true)?.write(&CFS_PERIOD_US.to_string())?;
        Ok(v1)
    }
}

impl Controllers for V1 {
    fn close_files(&self) {
        for knob in [
            &self.memory_usage,
            &self.cpu_usage,
            &self.memory_limit,
            &self.memory_peak,
            &self.oom_control,
            &self.pids_max,
            &self.cfs_quota,
        ] {
            knob.close();
        }
        if let Some(memsw) = &self.memsw_limit {
            memsw.close();
        }
    }

    fn apply_memory(&self, limit: Option<u64>) -> io::Result<()> {
        let value = limit.map_or("-1".to_string(), |v| v.to_string());
        // memsw must stay >= the memory limit: lift it, set memory, then match it.
        if let Some(memsw) = &self.memsw_limit {
            memsw.write("-1")?;
        }
        self.memory_limit.write(&value)?;
        if let Some(memsw) = &self.memsw_limit {
            memsw.write(&value)?;
        }
        Ok(())
    }

    fn apply_processes(&self, limit: Option<u32>) -> io::Result<()> {
        self.pids_max
            .write(&limit.map_or("max".to_string(), |v| v.to_string()))
    }

    fn apply_cpu_rate(&self, cores: Option<f64>) -> io::Result<()> {
        let quota = match cores {
            Some(cores) => ((cores * CFS_PERIOD_US as f64) as u64)
                .max(1000)
                .to_string(),
            None => "-1".to_string(),
        };
        self.cfs_quota.write(&quota)
    }

    /// Zeroes the CPU counter and the memory peak for a new run.
    fn reset_counters(&self) -> io::Result<()> {
        self.cpu_usage.write("0")?;
        self.memory_peak.write("0")
    }

    fn cpu_ns(&self) -> io::Result<u64> {
        self.cpu_usage.number()
    }

    fn peak_memory(&self) -> io::Result<u64> {
        self.memory_peak.number()
    }

    fn oom_kills(&self) -> io::Result<u64> {
        self.oom_control.field("oom_kill")
    }

    fn reclaimable_cache(&self) -> io::Result<u64> {
        let stat = super::read_text(&self.memory_dir, "memory.stat")?;
        Ok(super::stat_field(&stat, "cache").saturating_sub(super::stat_field(&stat, "shmem")))
    }

    /// force_empty reclaims what it can; what cannot be (tmpfs files) stays.
    fn reclaim(&self) -> io::Result<()> {
        super::write_once(&self.memory_dir, "memory.force_empty", "0")
    }

    fn current_memory(&self) -> io::Result<u64> {
        self.memory_usage.number()
    }
}

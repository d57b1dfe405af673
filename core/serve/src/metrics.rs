//! Prometheus metrics (`GET /metrics`, and optionally on an address of its own).

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

pub struct Metrics {
    registry: Registry,
    /// Commands run, by go-judge status.
    pub runs: Family<Labels, Counter>,
    /// Requests refused with 503, by reason (queue_full, queue_timeout).
    pub rejected: Family<Labels, Counter>,
    /// Requests waiting for a container, and those running.
    pub waiting: Gauge,
    pub running: Gauge,
    /// Seconds from a request's arrival to its results (queue wait included).
    pub request_seconds: Histogram,
    pub store_bytes: Gauge,
    pub store_files: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("scpool_serve");
        let runs = Family::<Labels, Counter>::default();
        let rejected = Family::<Labels, Counter>::default();
        let waiting = Gauge::default();
        let running = Gauge::default();
        // 100 µs to about 100 s.
        let request_seconds = Histogram::new(exponential_buckets(0.0001, 4.0, 11));
        let store_bytes = Gauge::default();
        let store_files = Gauge::default();
        registry.register("runs", "Commands run, by status", runs.clone());
        registry.register("rejected", "Requests refused with 503", rejected.clone());
        registry.register(
            "waiting",
            "Requests waiting for a container",
            waiting.clone(),
        );
        registry.register("running", "Requests running", running.clone());
        registry.register(
            "request_seconds",
            "Time from a run request's arrival to its results",
            request_seconds.clone(),
        );
        registry.register(
            "file_store_bytes",
            "Bytes in the file store",
            store_bytes.clone(),
        );
        registry.register(
            "file_store_files",
            "Files in the file store",
            store_files.clone(),
        );
        Self {
            registry,
            runs,
            rejected,
            waiting,
            running,
            request_seconds,
            store_bytes,
            store_files,
        }
    }
}

impl Metrics {
    pub fn count_run(&self, status: &str) {
        self.runs
            .get_or_create(&vec![("status", status.to_owned())])
            .inc();
    }

    pub fn count_rejected(&self, reason: &'static str) {
        self.rejected
            .get_or_create(&vec![("reason", reason.to_owned())])
            .inc();
    }

    /// The text exposition format.
    pub fn render(&self, store: (u64, usize)) -> String {
        self.store_bytes
            .set(i64::try_from(store.0).unwrap_or(i64::MAX));
        self.store_files
            .set(i64::try_from(store.1).unwrap_or(i64::MAX));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

//! Latency samples, result rows, the Markdown table and the description of the machine.

use std::fmt::Write as _;
use std::time::Duration;

/// Latencies (microseconds) of the successful operations of one kind, and their errors.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    /// Latency of each successful operation, in microseconds.
    pub micros: Vec<u32>,
    /// Operations that did not succeed.
    pub errors: u64,
}

impl Samples {
    /// Records one successful operation.
    pub fn ok(&mut self, d: Duration) {
        self.micros
            .push(u32::try_from(d.as_micros()).unwrap_or(u32::MAX));
    }

    /// Adds another worker's samples.
    pub fn merge(&mut self, other: Samples) {
        self.micros.extend(other.micros);
        self.errors += other.errors;
    }
}

/// One line of the result table.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// Workload name.
    pub workload: String,
    /// Concurrent workers.
    pub concurrency: usize,
    /// Successful operations per second.
    pub ops_per_sec: f64,
    /// Median latency, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency, milliseconds.
    pub p99_ms: f64,
    /// Failed operations.
    pub errors: u64,
}

impl Row {
    /// A row from samples gathered over `elapsed`.
    pub fn new(workload: &str, concurrency: usize, mut s: Samples, elapsed: Duration) -> Row {
        s.micros.sort_unstable();
        let secs = elapsed.as_secs_f64().max(1e-9);
        Row {
            workload: workload.to_string(),
            concurrency,
            ops_per_sec: s.micros.len() as f64 / secs,
            p50_ms: percentile(&s.micros, 0.50),
            p99_ms: percentile(&s.micros, 0.99),
            errors: s.errors,
        }
    }
}

/// The `q` quantile of sorted microsecond samples, in milliseconds (nearest rank; 0 if empty).
pub fn percentile(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    let i = rank.clamp(1, sorted.len()) - 1;
    f64::from(sorted[i]) / 1000.0
}

/// Renders rows as a Markdown table.
pub fn table(rows: &[Row]) -> String {
    let mut t = String::from(
        "| workload | concurrency | ops/s | p50 ms | p99 ms | errors |\n\
         |---|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let _ = writeln!(
            t,
            "| {} | {} | {:.0} | {:.2} | {:.2} | {} |",
            r.workload, r.concurrency, r.ops_per_sec, r.p50_ms, r.p99_ms, r.errors
        );
    }
    t
}

/// Processor count, CPU model, memory, load and the commit, as Markdown list items.
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get().to_string())
        .unwrap_or_else(|_| "?".into());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".into());
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let dirty = std::process::Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .is_some_and(|o| !o.stdout.is_empty());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into());
    format!(
        "- commit: `{commit}`{}\n- machine: {cpus} CPUs ({model}), {memory} memory; load average {load} at start\n",
        if dirty { " (with local changes)" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<u32> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(percentile(&v, 0.5), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&[7000], 0.99), 7.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }

    #[test]
    fn rows_render_as_markdown() {
        let mut s = Samples::default();
        s.ok(Duration::from_millis(2));
        s.errors = 1;
        let t = table(&[Row::new("x", 4, s, Duration::from_secs(1))]);
        assert!(t.contains("| x | 4 | 1 | 2.00 | 2.00 | 1 |"), "{t}");
    }
}

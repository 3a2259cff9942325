//! Shared by the oxnic-sim test files.

/// Seed for a randomised test: `OXNIC_SEED`, else from the clock; printed so a
/// failing run can be replayed.
pub fn seed(test: &str) -> u64 {
    let s = std::env::var("OXNIC_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64 % 1_000_000)
        });
    eprintln!("{test}: seed {s} (rerun with OXNIC_SEED={s})");
    s
}

//! Benchmark: write and load a Fujian-wide profile (every county/district as tier 1, 1,100+
//! townships, all 17,498 villages and their generated grid cells).
//!
//! Run: `cargo bench -p m110 --bench profile_load` (peak memory: wrap the bench binary in
//! `/usr/bin/time -v`). Prints the time of `init` (starter text), and of `load` (read + parse +
//! validate + compile), best and median of 5 runs. Not a pass/fail test: speed is reported, not
//! asserted.

use std::time::{Duration, Instant};

use m110::divisions::embedded_villages;
use m110::profile::{load, starter::starter};

fn fill(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.trim_start().starts_with('#') {
                return l.to_string();
            }
            l.replace("population: FILL_IN", "population: 41540000")
                .replace("area_km2: FILL_IN", "area_km2: 124000")
                .replace("hotline: FILL_IN", "hotline: \"0591-87000000\"")
                .replace("name: FILL_IN", "name: 值班室")
                .replace("phone: FILL_IN", "phone: \"13900000000\"")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn main() {
    let t = Instant::now();
    let villages = embedded_villages("350000").expect("embedded villages");
    let text = starter("350000", Some(&villages)).expect("Fujian starter");
    let init = t.elapsed();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fujian.yaml");
    std::fs::write(&path, fill(&text)).unwrap();

    let mut runs: Vec<Duration> = Vec::new();
    let mut units = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let loaded = load(&path).unwrap_or_else(|d| panic!("{d}"));
        runs.push(t.elapsed());
        units = loaded.region.grid_units.len();
    }
    runs.sort();
    println!(
        "fujian-wide profile: {} bytes, {units} grid units",
        std::fs::metadata(&path).unwrap().len()
    );
    println!("init (starter text): {init:?}");
    println!(
        "load (parse+validate+compile): best {:?}, median {:?}",
        runs[0], runs[2]
    );
}

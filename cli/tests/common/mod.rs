//! Shared helpers of the cli integration tests: the fixture region and golden-file comparison.

#![allow(dead_code)]

pub mod fixture;

use std::path::{Path, PathBuf};

/// `cli/tests/golden/<name>`.
pub fn golden_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// True when goldens should be rewritten instead of compared (`UPDATE_GOLDEN=1`).
pub fn updating() -> bool {
    std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1")
}

/// Compares `actual` with the golden file `rel` under `dir`, or rewrites it when updating.
pub fn check_golden(dir: &Path, rel: &Path, actual: &[u8]) {
    let path = dir.join(rel);
    if updating() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "golden {} missing ({e}); run with UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        let exp = String::from_utf8_lossy(&expected);
        let act = String::from_utf8_lossy(actual);
        let line = exp
            .lines()
            .zip(act.lines())
            .position(|(a, b)| a != b)
            .map(|i| i + 1)
            .unwrap_or_else(|| exp.lines().count().min(act.lines().count()) + 1);
        panic!(
            "{} differs from the golden file at line {line}\n--- expected: {:?}\n+++ actual:   {:?}\n(UPDATE_GOLDEN=1 rewrites goldens after a deliberate change)",
            path.display(),
            exp.lines().nth(line - 1),
            act.lines().nth(line - 1),
        );
    }
}

/// Every file under `dir`, relative, sorted.
pub fn list_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The small valid YAML profile under `cli/tests/fixtures`.
pub fn small_profile() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small.yaml")
}

/// Writes an invalid copy of the small profile (unknown key, bad population) into `dir`.
pub fn broken_profile(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(small_profile())
        .unwrap()
        .replace("population: 300000", "population: -3\n  colour: blue");
    let path = dir.join("broken.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the real `m110` binary.
pub fn m110(args: &[&std::ffi::OsStr]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_m110"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("spawn m110")
}

/// `OsStr` arguments from anything path- or string-like.
#[macro_export]
macro_rules! args {
    ($($a:expr),* $(,)?) => { &[$(::std::ffi::OsStr::new(&$a)),*] };
}

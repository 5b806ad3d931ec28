//! The fuzz harnesses' shared kit (issue 14, item 7): the corpus kept in the repo
//! (`tests/fuzz-corpus/<target>/`), structured mutations of its seeds as a proptest strategy, and
//! a runner with a fixed seed that writes every failing input, minimized, into the corpus.
//!
//! Included by `runtime/tests/fuzz_*.rs` and, by path, by `cli/tests/fuzz_profile.rs` (one copy
//! of the mutation engine for both crates).
//!
//! - Deterministic: the RNG seed is fixed unless `PROPTEST_RNG_SEED` is set; `PROPTEST_CASES`
//!   (default 256) bounds the generated cases, so CI time is bounded and a run can be lengthened
//!   locally (`PROPTEST_CASES=20000 cargo test -p m110-runtime --test fuzz_open311 --release`).
//! - Failures are not left in `proptest-regressions/`: the failing input is shrunk by proptest
//!   (fewer, smaller mutations), then cut down byte-wise, and saved as
//!   `tests/fuzz-corpus/<target>/crash-<hash>`; the replay test runs every corpus file on each
//!   run, so a fixed bug stays fixed.

#![allow(dead_code, reason = "each harness uses a different part of the kit")]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};

/// The seed a run uses unless `PROPTEST_RNG_SEED` says otherwise.
const FIXED_SEED: u64 = 0x6d31_3130_667a_7a31; // "m110fzz1"

/// Cases when `PROPTEST_CASES` is unset (proptest's own default).
pub const DEFAULT_CASES: u32 = 256;

/// `tests/fuzz-corpus/<target>` from the crate being tested (`cli/` or `runtime/`).
pub fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fuzz-corpus")
        .join(target)
}

/// Every corpus file of `target`, sorted by name (seeds and saved failures alike).
pub fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    corpus_with(target, |_| true)
}

/// The corpus files of `target` whose name ends in `.ext`.
pub fn corpus_ext(target: &str, ext: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let suffix = format!(".{ext}");
    corpus_with(target, |name| name.ends_with(&suffix))
}

fn corpus_with(target: &str, keep: impl Fn(&str) -> bool) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = corpus_dir(target);
    let mut out: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read corpus {}: {e}", dir.display()))
        .map(|e| e.expect("corpus entry").path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            p.is_file() && name != "README.md" && keep(name)
        })
        .map(|p| {
            let bytes = std::fs::read(&p).expect("read corpus file");
            (p, bytes)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "corpus {} is empty", dir.display());
    out
}

/// Fragments every target gets: the classic troublemakers.
pub const COMMON_FRAGMENTS: &[&[u8]] = &[
    b"\0",
    b"\xff\xfe",
    b"\xc0\x80",           // overlong NUL
    b"\xed\xa0\x80",       // UTF-16 surrogate in UTF-8
    b"\xe8\xb7",           // a truncated 3-byte sequence (路)
    "\u{feff}".as_bytes(), // BOM
    "\u{202e}".as_bytes(), // right-to-left override
    "𠮷".as_bytes(),
    b"99999999999999999999999999999999",
    b"-9223372036854775809",
    b"18446744073709551616",
    b"4294967296",
    b"1e999",
    b"-0",
    b"NaN",
    b"inf",
    b"0x1F",
    b"\r\n",
    b"\t",
    b" ",
    b"",
];

/// One structured change to an input.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Flip one bit of one byte.
    FlipBit(Index, u8),
    /// Overwrite one byte with a chosen one.
    SetByte(Index, u8),
    /// Cut the input at a point.
    Truncate(Index),
    /// Remove a run of bytes.
    Delete(Index, usize),
    /// Repeat a run of bytes in place.
    Duplicate(Index, usize, usize),
    /// Insert a fragment (the target's or a common one) at a point; `line` snaps the point to
    /// the start of a line.
    Insert(Index, Index, bool),
    /// Insert `fragment` repeated `n` times (deep nesting, long strings).
    Repeat(Index, Index, usize),
    /// Replace what follows the separator on one line with a fragment (a YAML value, a form
    /// value, a JSON value).
    ReplaceValue(Index, Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        (
            any::<Index>(),
            prop::sample::select(b"\0\xff\x80\xc3\n :-\"'{}[]&*%+=,#!|>\\".to_vec())
        )
            .prop_map(|(i, b)| Mutation::SetByte(i, b)),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<Index>(), 1usize..256, 1usize..4).prop_map(|(i, n, k)| Mutation::Duplicate(i, n, k)),
        (any::<Index>(), any::<Index>(), any::<bool>())
            .prop_map(|(i, f, l)| Mutation::Insert(i, f, l)),
        (any::<Index>(), any::<Index>(), 1usize..400)
            .prop_map(|(i, f, n)| Mutation::Repeat(i, f, n)),
        (any::<Index>(), any::<Index>()).prop_map(|(l, f)| Mutation::ReplaceValue(l, f)),
    ]
}

/// How a target's text is shaped, for the mutations that need to know.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// What separates records: `\n` for YAML, `&` for forms, `,` for JSON.
    pub record: u8,
    /// What separates a key from its value: `: ` for YAML, `=` for forms, `:` for JSON.
    pub value_sep: &'static [u8],
    /// The target's own fragments (tried as often as the common ones).
    pub fragments: &'static [&'static [u8]],
}

impl Shape {
    fn fragment(&self, i: &Index) -> &'static [u8] {
        let n = self.fragments.len() + COMMON_FRAGMENTS.len();
        let k = i.index(n);
        if k < self.fragments.len() {
            self.fragments[k]
        } else {
            COMMON_FRAGMENTS[k - self.fragments.len()]
        }
    }
}

/// Applies `m` to `data` (never panics, whatever the indexes).
pub fn apply(shape: &Shape, data: &mut Vec<u8>, m: &Mutation) {
    let at = |i: &Index, len: usize| if len == 0 { 0 } else { i.index(len + 1) };
    match m {
        Mutation::FlipBit(i, bit) if !data.is_empty() => {
            let k = i.index(data.len());
            data[k] ^= 1 << bit;
        }
        Mutation::SetByte(i, b) if !data.is_empty() => {
            let k = i.index(data.len());
            data[k] = *b;
        }
        Mutation::Truncate(i) => {
            let k = at(i, data.len());
            data.truncate(k);
        }
        Mutation::Delete(i, n) if !data.is_empty() => {
            let k = i.index(data.len());
            let end = (k + n).min(data.len());
            data.drain(k..end);
        }
        Mutation::Duplicate(i, n, times) if !data.is_empty() => {
            let k = i.index(data.len());
            let end = (k + n).min(data.len());
            let run = data[k..end].to_vec();
            for _ in 0..*times {
                data.splice(end..end, run.iter().copied());
            }
        }
        Mutation::Insert(i, f, line) => {
            let mut k = at(i, data.len());
            if *line {
                k = data[..k]
                    .iter()
                    .rposition(|b| *b == shape.record)
                    .map_or(0, |p| p + 1);
            }
            let frag = shape.fragment(f);
            data.splice(k..k, frag.iter().copied());
        }
        Mutation::Repeat(i, f, n) => {
            let k = at(i, data.len());
            let frag = shape.fragment(f);
            let run: Vec<u8> = frag.iter().copied().cycle().take(frag.len() * n).collect();
            data.splice(k..k, run);
        }
        Mutation::ReplaceValue(l, f) => {
            let records: Vec<(usize, usize)> = split_records(data, shape.record);
            let (start, end) = records[l.index(records.len())];
            let Some(sep) = find(&data[start..end], shape.value_sep) else {
                return;
            };
            let from = start + sep + shape.value_sep.len();
            let frag = shape.fragment(f);
            data.splice(from..end, frag.iter().copied());
        }
        _ => {}
    }
}

/// `(start, end)` of every record (never empty: an empty input is one empty record).
fn split_records(data: &[u8], sep: u8) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in data.iter().enumerate() {
        if *b == sep {
            out.push((start, i));
            start = i + 1;
        }
    }
    out.push((start, data.len()));
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A seed from `seeds` with 0–8 mutations applied; shrinks towards the seed itself.
pub fn mutated(seeds: Vec<Vec<u8>>, shape: Shape) -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(seeds),
        prop::collection::vec(mutation(), 0..8),
    )
        .prop_map(move |(seed, muts)| {
            let mut data = seed;
            for m in &muts {
                apply(&shape, &mut data, m);
            }
            data
        })
}

/// Runs `check`, turning a panic into an error carrying its message.
pub fn guarded(check: &dyn Fn(&[u8]) -> Result<(), String>, input: &[u8]) -> Result<(), String> {
    match catch_unwind(AssertUnwindSafe(|| check(input))) {
        Ok(r) => r,
        Err(p) => Err(format!(
            "panicked: {}",
            p.downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| p.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)")
        )),
    }
}

/// Cuts `input` down while `check` still fails (chunks removed, halving their size), within a
/// time bound, so a saved failure is short enough to read.
pub fn minimize(check: &dyn Fn(&[u8]) -> Result<(), String>, input: Vec<u8>) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut best = input;
    let mut chunk = best.len().div_ceil(2).max(1);
    // Quiet while probing: each probe may panic on purpose.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    while chunk >= 1 && Instant::now() < deadline {
        let mut progressed = false;
        let mut start = 0;
        while start < best.len() && Instant::now() < deadline {
            let end = (start + chunk).min(best.len());
            let mut candidate = best[..start].to_vec();
            candidate.extend_from_slice(&best[end..]);
            if guarded(check, &candidate).is_err() {
                best = candidate;
                progressed = true;
            } else {
                start = end;
            }
        }
        if !progressed {
            if chunk == 1 {
                break;
            }
            chunk /= 2;
        }
    }
    std::panic::set_hook(hook);
    best
}

/// FNV-1a, for naming saved failures by content (stable across runs and platforms).
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Saves a failing input into the corpus; returns its path.
pub fn save_failure(target: &str, ext: &str, input: &[u8]) -> PathBuf {
    let path = corpus_dir(target).join(format!("crash-{:016x}.{ext}", fnv(input)));
    std::fs::write(&path, input)
        .unwrap_or_else(|e| panic!("save failing input to {}: {e}", path.display()));
    path
}

/// What a generation run did, for the log (`--nocapture`) and the note.
#[derive(Debug)]
pub struct Stats {
    pub cases: u32,
    pub elapsed: Duration,
}

/// The config of every run: `PROPTEST_CASES` or [`DEFAULT_CASES`], the fixed seed unless
/// `PROPTEST_RNG_SEED` is set, no proptest-regressions files, bounded shrinking.
pub fn config(cases_default: u32) -> Config {
    let mut c = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = cases_default;
    }
    if matches!(c.rng_seed, RngSeed::Random) {
        c.rng_seed = RngSeed::Fixed(FIXED_SEED);
    }
    c.failure_persistence = None;
    c.max_shrink_time = 30_000;
    c.max_shrink_iters = 2_000;
    c
}

/// Generates inputs with `strategy` and runs `check` on each. On a failure the input is shrunk,
/// minimized and saved as `crash-<hash>.<ext>` in the corpus of `target`, and the test fails
/// naming the file.
pub fn run<S>(
    target: &str,
    ext: &str,
    cases_default: u32,
    strategy: S,
    check: &dyn Fn(&[u8]) -> Result<(), String>,
) -> Stats
where
    S: Strategy<Value = Vec<u8>>,
{
    let config = config(cases_default);
    let cases = config.cases;
    let mut runner = TestRunner::new(config);
    let start = Instant::now();
    let result = runner.run(&strategy, |input| {
        guarded(check, &input).map_err(TestCaseError::fail)
    });
    let elapsed = start.elapsed();
    match result {
        Ok(()) => {
            eprintln!(
                "fuzz {target}: {cases} generated cases in {:.1} s, no failure",
                elapsed.as_secs_f64()
            );
            Stats { cases, elapsed }
        }
        Err(TestError::Fail(reason, input)) => {
            let small = minimize(check, input);
            let path = save_failure(target, ext, &small);
            let why = guarded(check, &small)
                .err()
                .unwrap_or_else(|| reason.to_string());
            panic!(
                "fuzz {target}: failing input saved to {} ({} bytes): {why}",
                path.display(),
                small.len()
            );
        }
        Err(TestError::Abort(why)) => panic!("fuzz {target}: aborted: {why}"),
    }
}

/// Runs `check` on every corpus file of `target` (seeds and saved failures); fails listing
/// every file that fails.
pub fn replay(target: &str, check: &dyn Fn(&[u8]) -> Result<(), String>) -> usize {
    replay_files(corpus(target), check)
}

/// [`replay`] over a chosen set of corpus files.
pub fn replay_files(
    files: Vec<(PathBuf, Vec<u8>)>,
    check: &dyn Fn(&[u8]) -> Result<(), String>,
) -> usize {
    let failures: Vec<String> = files
        .iter()
        .filter_map(|(path, bytes)| {
            guarded(check, bytes)
                .err()
                .map(|e| format!("{}: {e}", path.display()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "corpus failures:\n{}",
        failures.join("\n")
    );
    files.len()
}

//! Fuzzing the profile loader (issue 14, item 7): `profile::load` (read → `yaml::parse` →
//! typed read → validate → CSV data → compile) with three generators:
//!
//! - the example profiles mutated byte-wise — flips, truncation, inserted YAML fragments
//!   (anchors, aliases, merge keys, tags, flow brackets, documents), values replaced by huge
//!   numbers, NUL, invalid UTF-8, deep nesting, long runs;
//! - the example profiles parsed and changed as trees — nodes replaced by odd values or by
//!   copies of other nodes (duplicate ids, self-parents), removed, repeated — so that most cases
//!   reach validation and compilation;
//! - the directory CSVs of `profiles/shaowu.yaml` mutated byte-wise.
//!
//! The property: nothing panics, and a profile either loads or fails with diagnostics that each
//! say what is wrong and name a file of the profile's directory, a line and a column inside it.
//!
//! Corpus: `tests/fuzz-corpus/profile/` (`*.yaml` profiles, `*.csvcase` CSV cases; saved failures
//! `crash-*`). Each input is written next to a copy of `profiles/shaowu/` so the example
//! profiles' CSV references resolve. Bounded by `PROPTEST_CASES` (default 256), seeded; the
//! mutation engine is shared with the runtime's harnesses (`runtime/tests/fuzzkit/mod.rs`).

#[path = "../../runtime/tests/fuzzkit/mod.rs"]
mod fuzzkit;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use fuzzkit::Shape;
use m110::profile::{self, yaml};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_yaml::Value;

const SHAPE: Shape = Shape {
    record: b'\n',
    value_sep: b": ",
    fragments: &[
        b"- ",
        b"  - ",
        b": ",
        b":",
        b"? ",
        b"&a ",
        b"*a",
        b"*undefined",
        b"<<: *a\n",
        b"<<: [*a, *a]\n",
        b"<<: 1\n",
        b"x: &a {k: v}\n",
        b"!!binary aGVsbG8=",
        b"!!int",
        b"!!str ",
        b"!custom ",
        b"~",
        b"null",
        b"yes",
        b"0o777",
        b"0x_1",
        b".inf",
        b"-.inf",
        b".nan",
        b"1_000",
        b"12e",
        b"'",
        b"\"",
        b"\"\\u0000\"",
        b"\"\\x00\\uD800\"",
        b"|\n",
        b">-\n",
        b"#",
        b" #",
        b"---\n",
        b"...\n",
        b"%YAML 1.2\n",
        b"%TAG ! tag:x,2000:\n",
        b"{",
        b"}",
        b"[",
        b"]",
        b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        b"{a: {a: {a: {a: {a: {a: {a: {a: ",
        b"- - - - - - - - - - - - - - - - ",
        b"\n    ",
        b"\t",
        b"FILL_IN",
        b"\"350781\"",
        b"\"350781999999\"",
        b"\"999999\"",
        b"-1",
        b"0",
        b"[]",
        b"{}",
        b"\"\"",
        b"units_file: ../../../../etc/passwd\n",
        b"units_file: /dev/zero\n",
        b"cameras_csv: .\n",
        b"renamed_from: x\n",
        b"version: 2\n",
    ],
};

/// A directory with a copy of `profiles/shaowu/` (the CSVs the example profiles name), shared
/// by every case of this run.
fn workdir() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles/shaowu");
        let dst = dir.path().join("shaowu");
        std::fs::create_dir(&dst).expect("mkdir");
        for e in std::fs::read_dir(src).expect("profiles/shaowu") {
            let p = e.expect("entry").path();
            std::fs::copy(&p, dst.join(p.file_name().expect("name"))).expect("copy csv");
        }
        dir
    })
    .path()
}

fn fresh_path() -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    workdir().join(format!("case-{}.yaml", N.fetch_add(1, Ordering::Relaxed)))
}

/// Loads `bytes` as a profile file; checks the outcome.
fn check(bytes: &[u8]) -> Result<(), String> {
    let path = fresh_path();
    std::fs::write(&path, bytes).map_err(|e| format!("write case: {e}"))?;
    let outcome = profile::load(&path);
    let _ = std::fs::remove_file(&path);
    // `yaml::parse` is also called directly (drafts, patches) on text that read as UTF-8.
    if let Ok(text) = std::str::from_utf8(bytes)
        && let Err(d) = yaml::parse(&path, text)
    {
        check_diagnostics(&path, bytes, &d)?;
    }
    match outcome {
        Ok(loaded) => {
            if loaded.sha256.len() != 64 {
                return Err(format!("sha256 {:?}", loaded.sha256));
            }
            Ok(())
        }
        Err(d) => check_diagnostics(&path, bytes, &d),
    }
}

fn check_diagnostics(path: &Path, bytes: &[u8], d: &profile::Diagnostics) -> Result<(), String> {
    check_positions(&[(path, bytes)], d)
}

/// The lines of a file as YAML and editors count them: a line ends at LF, CRLF or a lone CR.
fn split_lines(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                out.push(&bytes[start..i]);
                start = i + 1;
            }
            b'\r' => {
                out.push(&bytes[start..i]);
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&bytes[start..]);
    out
}

/// Whether `(line, col)` is inside `lines`: a line that exists (or the one after the last, where
/// an unexpected end is reported), a column within it (or just past its end).
fn inside(lines: &[&[u8]], line: usize, col: usize) -> Result<(), String> {
    if line > lines.len() + 1 {
        return Err(format!("line past the end of a {}-line file", lines.len()));
    }
    if let Some(text) = lines.get(line - 1) {
        let width = String::from_utf8_lossy(text).chars().count();
        if col > width + 2 {
            return Err(format!("column past the end of a {width}-character line"));
        }
    }
    Ok(())
}

/// Every diagnostic says something and points at a line and column of one of `files` (whose
/// contents are given), or names another file of the profile's directory.
fn check_positions(files: &[(&Path, &[u8])], d: &profile::Diagnostics) -> Result<(), String> {
    if d.is_empty() {
        return Err("load failed with no diagnostic".into());
    }
    for diag in d.iter() {
        let bad = |why: &str| Err(format!("{why}: {diag}"));
        if diag.message.trim().is_empty() {
            return bad("diagnostic without a message");
        }
        if diag.line == 0 || diag.col == 0 {
            return bad("diagnostic at line or column 0");
        }
        let Some((_, bytes)) = files.iter().find(|(p, _)| *p == diag.file) else {
            // Only the other files beside the profile may be named instead.
            if !diag.file.starts_with(workdir()) {
                return bad("diagnostic names a file outside the profile's directory");
            }
            continue;
        };
        // The csv reader counts LFs only (a lone CR ends a record, not a line), so a CSV's
        // positions may follow either count.
        let by_lf: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
        let is_csv = diag.file.extension().is_some_and(|e| e == "csv");
        if let Err(why) = inside(&split_lines(bytes), diag.line, diag.col)
            && !(is_csv && inside(&by_lf, diag.line, diag.col).is_ok())
        {
            return bad(&why);
        }
    }
    Ok(())
}

#[test]
fn corpus_replays_clean() {
    let n = fuzzkit::replay_files(fuzzkit::corpus_ext("profile", "yaml"), &check);
    eprintln!("fuzz profile: {n} corpus files replayed");
}

#[test]
fn mutated_profiles_load_or_explain() {
    let seeds = fuzzkit::corpus_ext("profile", "yaml")
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    fuzzkit::run(
        "profile",
        "yaml",
        fuzzkit::DEFAULT_CASES,
        fuzzkit::mutated(seeds, SHAPE),
        &check,
    );
}

/// The directory CSVs `profiles/shaowu.yaml` names.
const CSVS: &[&str] = &[
    "government_services.csv",
    "welfare_facilities.csv",
    "social_organizations.csv",
    "market_providers.csv",
    "vulnerable_households.csv",
    "portal_services.csv",
];

/// A CSV case is `NAME.csv` on the first line, then the file's bytes: the example profile
/// `profiles/shaowu.yaml` is loaded with that one of its CSVs replaced (a first line that is
/// no longer a known name puts the whole input in place of `government_services.csv`).
fn check_csv(bytes: &[u8]) -> Result<(), String> {
    static N: AtomicU64 = AtomicU64::new(0);
    let (name, csv) = match bytes.iter().position(|b| *b == b'\n') {
        Some(i) if CSVS.iter().any(|n| n.as_bytes() == &bytes[..i]) => (
            std::str::from_utf8(&bytes[..i]).expect("ascii name"),
            &bytes[i + 1..],
        ),
        _ => (CSVS[0], bytes),
    };
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = workdir().join(format!("csv-{}", N.fetch_add(1, Ordering::Relaxed)));
    let data = dir.join("shaowu");
    std::fs::create_dir_all(&data).map_err(|e| format!("mkdir: {e}"))?;
    let profile_path = dir.join("shaowu.yaml");
    let profile_text = std::fs::read(repo.join("profiles/shaowu.yaml")).expect("shaowu.yaml");
    std::fs::write(&profile_path, &profile_text).map_err(|e| format!("write: {e}"))?;
    for n in CSVS {
        let from = repo.join("profiles/shaowu").join(n);
        std::fs::copy(&from, data.join(n)).map_err(|e| format!("copy {n}: {e}"))?;
    }
    let csv_path = data.join(name);
    std::fs::write(&csv_path, csv).map_err(|e| format!("write csv: {e}"))?;
    let outcome = profile::load(&profile_path);
    let _ = std::fs::remove_dir_all(&dir);
    match outcome {
        Ok(_) => Ok(()),
        Err(d) => check_positions(&[(&profile_path, &profile_text), (&csv_path, csv)], &d),
    }
}

const CSV_SHAPE: Shape = Shape {
    record: b'\n',
    value_sep: b",",
    fragments: &[
        b",",
        b",,,,,,,,,,,,,,,,,,,,",
        b"\"",
        b"\"\"",
        b"\"a,\nb\"",
        b"\r",
        b"\xef\xbb\xbf",
        b"=cmd|' /C calc'!A0",
        b"+8613800001234",
        b"138-0000-1234",
        b"350781999999",
        b"350781001001",
        b"-1",
        b"0",
        b"4294967296",
        b"dibao",
        b"elderly_alone",
        b"civil-affairs",
        b"no-such-unit",
        b"110101199003077777",
        b"11010119900307777X",
        b"name,category,phone,address,grid,description,unit\n",
    ],
};

#[test]
fn csv_corpus_replays_clean() {
    let n = fuzzkit::replay_files(fuzzkit::corpus_ext("profile", "csvcase"), &check_csv);
    eprintln!("fuzz profile CSVs: {n} corpus files replayed");
}

#[test]
fn mutated_directory_csvs_load_or_explain() {
    let seeds = fuzzkit::corpus_ext("profile", "csvcase")
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    fuzzkit::run(
        "profile",
        "csvcase",
        fuzzkit::DEFAULT_CASES,
        fuzzkit::mutated(seeds, CSV_SHAPE),
        &check_csv,
    );
}

/// One step into a YAML tree.
#[derive(Debug, Clone)]
enum Seg {
    Key(Value),
    Idx(usize),
}

/// A change to a parsed profile: typed values in odd places, so that most cases get past the
/// YAML syntax and the typed read into validation and compilation.
#[derive(Debug, Clone)]
enum TreeMutation {
    /// Replace a node with one of [`odd_values`].
    Replace(Index, Index),
    /// Replace a node with a copy of another node (duplicate ids, self-parents, cycles).
    CopyFrom(Index, Index),
    /// Remove a node from its mapping or sequence.
    Remove(Index),
    /// Append copies of a sequence's item (duplicates, long lists).
    Repeat(Index, usize),
}

fn tree_mutation() -> impl Strategy<Value = TreeMutation> {
    prop_oneof![
        3 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| TreeMutation::Replace(a, b)),
        3 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| TreeMutation::CopyFrom(a, b)),
        2 => any::<Index>().prop_map(TreeMutation::Remove),
        1 => (any::<Index>(), 1usize..50).prop_map(|(a, n)| TreeMutation::Repeat(a, n)),
    ]
}

/// Values a county team (or a broken export) could put anywhere.
fn odd_values() -> Vec<Value> {
    let s = |x: &str| Value::String(x.to_string());
    vec![
        Value::Null,
        Value::Bool(true),
        Value::from(0),
        Value::from(-1),
        Value::from(u64::MAX),
        Value::from(i64::MIN),
        Value::from(1e308),
        Value::from(-0.0),
        Value::from(f64::NAN),
        Value::from(f64::INFINITY),
        Value::from(0.5),
        s(""),
        s(" "),
        s("FILL_IN"),
        s("350781"),
        s("350781001001"),
        s("999999999999"),
        s("civil-affairs"),
        s("110"),
        s("0599-6300000"),
        s("\u{0}"),
        s("𠮷"),
        s(&"路".repeat(5000)),
        s("../../etc/passwd"),
        s("https://example.cn/{id}{id}"),
        s("{{ x }}"),
        Value::Sequence(vec![]),
        Value::Mapping(Default::default()),
        Value::Sequence(vec![Value::Null; 3]),
    ]
}

/// Every node's path, depth first (the root's is empty).
fn paths(v: &Value, at: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    out.push(at.clone());
    match v {
        Value::Mapping(m) => {
            for (k, child) in m {
                at.push(Seg::Key(k.clone()));
                paths(child, at, out);
                at.pop();
            }
        }
        Value::Sequence(s) => {
            for (i, child) in s.iter().enumerate() {
                at.push(Seg::Idx(i));
                paths(child, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn node_mut<'v>(v: &'v mut Value, path: &[Seg]) -> Option<&'v mut Value> {
    let mut cur = v;
    for seg in path {
        cur = match (seg, cur) {
            (Seg::Key(k), Value::Mapping(m)) => m.get_mut(k)?,
            (Seg::Idx(i), Value::Sequence(s)) => s.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn apply_tree(v: &mut Value, m: &TreeMutation) {
    let mut all = Vec::new();
    paths(v, &mut Vec::new(), &mut all);
    let pick = |i: &Index| all[i.index(all.len())].clone();
    match m {
        TreeMutation::Replace(at, what) => {
            let odd = odd_values();
            let value = odd[what.index(odd.len())].clone();
            if let Some(n) = node_mut(v, &pick(at)) {
                *n = value;
            }
        }
        TreeMutation::CopyFrom(at, from) => {
            let Some(value) = node_mut(v, &pick(from)).map(|n| n.clone()) else {
                return;
            };
            if let Some(n) = node_mut(v, &pick(at)) {
                *n = value;
            }
        }
        TreeMutation::Remove(at) => {
            let mut path = pick(at);
            let Some(last) = path.pop() else { return };
            match (node_mut(v, &path), last) {
                (Some(Value::Mapping(m)), Seg::Key(k)) => {
                    m.remove(&k);
                }
                (Some(Value::Sequence(s)), Seg::Idx(i)) if i < s.len() => {
                    s.remove(i);
                }
                _ => {}
            }
        }
        TreeMutation::Repeat(at, n) => {
            if let Some(Value::Sequence(s)) = node_mut(v, &pick(at))
                && let Some(first) = s.first().cloned()
            {
                s.extend(std::iter::repeat_n(first, *n));
            }
        }
    }
}

#[test]
fn restructured_profiles_load_or_explain() {
    let trees: Vec<Value> = fuzzkit::corpus_ext("profile", "yaml")
        .into_iter()
        .filter_map(|(_, b)| serde_yaml::from_slice::<Value>(&b).ok())
        .filter(Value::is_mapping)
        .collect();
    assert!(trees.len() >= 4, "the example profiles parse");
    let strategy = (
        prop::sample::select(trees),
        prop::collection::vec(tree_mutation(), 1..6),
    )
        .prop_map(|(mut tree, muts)| {
            for m in &muts {
                apply_tree(&mut tree, m);
            }
            serde_yaml::to_string(&tree)
                .unwrap_or_default()
                .into_bytes()
        });
    fuzzkit::run("profile", "yaml", fuzzkit::DEFAULT_CASES, strategy, &check);
}

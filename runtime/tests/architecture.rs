//! The architecture, checked (as rust-analyzer's `tidy` tests do): the layers of `runtime/src`
//! depend one way — model ← policy ← store ← engine ← jobs ← front-ends (http, open311, console)
//! ← server — source files stay small, lints are not silenced without a reason, and every message
//! key an engine raises has a console translation.
//!
//! It reads the source tree as text: a `use crate::x` or a `crate::x::` path anywhere in a file
//! (code or doc links) counts as a dependency on `x`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Layers from the bottom; each may use only layers before it (and itself).
const LAYERS: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("policy", &["model"]),
    ("store", &["model", "policy"]),
    ("engine", &["model", "policy", "store"]),
    ("jobs", &["model", "policy", "store", "engine"]),
    // Front-ends: `http` holds the shared state, authentication and error mapping the other two
    // reuse; it never reaches into them.
    (
        "http",
        &["model", "policy", "store", "engine", "jobs", "config"],
    ),
    (
        "open311",
        &[
            "model", "policy", "store", "engine", "jobs", "config", "http",
        ],
    ),
    (
        "console",
        &[
            "model", "policy", "store", "engine", "jobs", "config", "http",
        ],
    ),
];

/// The front-ends may use only these parts of `http`: the state, authentication and error types —
/// never its resource handlers (business rules belong in `engine` or `policy`).
const HTTP_SHARED: &[&str] = &["AppState", "auth", "error"];

/// Files exempt from the layer rule, each with the reason.
const LAYER_EXEMPT: &[(&str, &str)] = &[(
    "store/testdb.rs",
    "test support (feature `testkit`, never in a release build): provisions its fixture region \
     through the provisioning engine",
)];

/// Longest source file, in lines (tests included).
const MAX_LINES: usize = 1000;

/// Files allowed past [`MAX_LINES`], each with the reason (none today: split instead).
const LONG_FILES: &[(&str, &str)] = &[];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`engine/intake/mod.rs` → `engine`).
fn layer_of(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Every `crate::<module>` a source text names.
fn crate_deps(text: &str) -> BTreeSet<String> {
    let mut deps = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        // `m110_runtime::crate::` cannot occur; skip `super::crate` oddities by checking the
        // character before is not an identifier character.
        if i > 0 {
            let prev = text.as_bytes()[i - 1];
            if prev.is_ascii_alphanumeric() || prev == b'_' {
                continue;
            }
        }
        let rest = &text[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            deps.insert(name);
        }
        // `use crate::{a, b}`
        if rest.starts_with('{') {
            let inner = &rest[1..rest.find('}').unwrap_or(rest.len())];
            for part in inner.split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    deps.insert(name);
                }
            }
        }
    }
    deps
}

#[test]
fn layers_depend_one_way() {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut problems = Vec::new();
    for path in &files {
        let rel = path.strip_prefix(&root).unwrap();
        let layer = layer_of(rel);
        let rel_s = rel.to_string_lossy().replace('\\', "/");
        if LAYER_EXEMPT.iter().any(|(f, _)| *f == rel_s) {
            continue;
        }
        let Some((_, allowed)) = LAYERS.iter().find(|(l, _)| *l == layer) else {
            continue; // server, config, bin, lib: the top
        };
        let text = std::fs::read_to_string(path).unwrap();
        for dep in crate_deps(&text) {
            if dep == layer || dep == "VERSION" || allowed.contains(&dep.as_str()) {
                continue;
            }
            problems.push(format!(
                "{}: `{layer}` may not use `crate::{dep}`",
                rel.display()
            ));
        }
        if matches!(layer.as_str(), "open311" | "console") {
            for (i, _) in text.match_indices("crate::http::") {
                let rest = &text[i + "crate::http::".len()..];
                let names: Vec<String> = if let Some(inner) = rest.strip_prefix('{') {
                    inner[..inner.find('}').unwrap_or(inner.len())]
                        .split(',')
                        .map(|p| p.trim().split("::").next().unwrap_or("").to_string())
                        .collect()
                } else {
                    vec![
                        rest.chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                            .collect(),
                    ]
                };
                for name in names.into_iter().filter(|n| !n.is_empty()) {
                    if !HTTP_SHARED.contains(&name.as_str()) {
                        problems.push(format!(
                            "{}: front-end `{layer}` may not use the HTTP handler module \
                             `crate::http::{name}` (move the rule to engine/ or policy/)",
                            rel.display()
                        ));
                    }
                }
            }
        }
        if layer == "model" {
            for banned in ["sqlx", "axum", "minijinja", "serde_yaml", "tokio"] {
                if text.contains(&format!("{banned}::")) {
                    problems.push(format!(
                        "{}: the model knows no I/O, but names `{banned}`",
                        rel.display()
                    ));
                }
            }
        }
        if matches!(
            layer.as_str(),
            "model" | "policy" | "store" | "engine" | "jobs"
        ) {
            for banned in ["axum::", "minijinja::", "ApiError"] {
                if text.contains(banned) {
                    problems.push(format!(
                        "{}: below the front-ends, but names `{banned}`",
                        rel.display()
                    ));
                }
            }
        }
        if layer != "store" && layer != "jobs" && text.contains("sqlx::query") {
            problems.push(format!(
                "{}: SQL outside store/ (`sqlx::query`)",
                rel.display()
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn the_checker_sees_violations() {
    // The scanner itself must not be blind: a planted upward import is found.
    let deps = crate_deps("use crate::http::error::ApiError;\nuse crate::{model, store::Store};");
    assert!(deps.contains("http") && deps.contains("model") && deps.contains("store"));
    assert!(!crate_deps("m110_runtime::model").contains("model"));
}

#[test]
fn files_stay_small() {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut long = Vec::new();
    for path in &files {
        let rel = path.strip_prefix(&root).unwrap();
        let rel_s = rel.to_string_lossy().replace('\\', "/");
        let lines = std::fs::read_to_string(path).unwrap().lines().count();
        if lines > MAX_LINES && !LONG_FILES.iter().any(|(f, _)| *f == rel_s) {
            long.push(format!(
                "{rel_s}: {lines} lines (max {MAX_LINES}); split it"
            ));
        }
    }
    assert!(long.is_empty(), "\n{}", long.join("\n"));
}

#[test]
fn silenced_lints_say_why() {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut bare = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            if (t.starts_with("#[allow(") || t.starts_with("#![allow("))
                && !t.contains("reason")
                && !(i > 0 && lines[i - 1].trim_start().starts_with("//"))
                && !line.contains("//")
            {
                bare.push(format!(
                    "{}:{}: `{t}` without a reason (add `reason = \"…\"` or a comment)",
                    path.strip_prefix(&root).unwrap().display(),
                    i + 1
                ));
            }
        }
    }
    assert!(bare.is_empty(), "\n{}", bare.join("\n"));
}

/// Message keys of `Error::invalid(field, "key", …)`, `Error::forbidden("key", …)`,
/// `Error::not_found("key", …)` and `Error::conflict("key", …)` in a source text.
fn error_keys(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    for ctor in ["invalid(", "forbidden(", "not_found(", "conflict("] {
        for prefix in ["Error::", "EngineError::"] {
            let pat = format!("{prefix}{ctor}");
            for (i, _) in text.match_indices(&pat) {
                let args = &text[i + pat.len()..];
                let mut quoted = args.split('"');
                let first_is_literal = args.trim_start().starts_with('"');
                let key = if ctor == "invalid(" {
                    // (field, "key", …): the field may be a literal or a variable.
                    if first_is_literal {
                        quoted.nth(3)
                    } else {
                        quoted.nth(1)
                    }
                } else {
                    quoted.nth(1)
                };
                if let Some(k) =
                    key.filter(|k| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
                {
                    keys.push(k.to_string());
                }
            }
        }
    }
    keys
}

#[test]
fn every_engine_error_key_has_a_console_translation() {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root.join("engine"), &mut files);
    rust_files(&root.join("console"), &mut files);
    let catalog = catalog_text(&root);
    let mut missing = BTreeSet::new();
    let mut seen = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        // Unit tests may raise made-up keys on purpose.
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for key in error_keys(code) {
            seen += 1;
            if !catalog.contains(&format!("\"err.{key}\"")) {
                missing.insert(format!("{key} ({})", path.display()));
            }
        }
    }
    assert!(seen > 30, "the key scanner found only {seen} keys");
    // Keys built outside the constructors (store errors, lifecycle errors).
    for key in ["record_not_found", "conflict", "constraint", "internal"] {
        assert!(catalog.contains(&format!("\"err.{key}\"")), "err.{key}");
    }
    assert!(
        missing.is_empty(),
        "no `err.<key>` in console/catalog/ for: {missing:?}"
    );
}

/// Every event kind the code writes to a case timeline is one the model lists
/// (`model::event_kinds`), and each has a name in both languages of the console (`event.<kind>`):
/// a new kind without a name fails here instead of showing a raw code on the timeline.
#[test]
fn every_timeline_event_kind_is_named_in_the_console() {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let known: BTreeSet<&str> = m110_runtime::model::event_kinds().into_iter().collect();
    let mut written = BTreeSet::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        // `NewEvent { kind: "overdue_sign".into(), …` and the lifecycle's `event = "redo"`.
        for needle in ["kind: \"", "event = \""] {
            for (pos, _) in code.match_indices(needle) {
                let rest = &code[pos + needle.len()..];
                let kind = &rest[..rest.find('"').unwrap()];
                if rest[kind.len()..].starts_with("\".into()") || needle.starts_with("event") {
                    written.insert(kind.to_string());
                }
            }
        }
    }
    assert!(written.len() >= 8, "the scanner found only {written:?}");
    let unlisted: Vec<_> = written
        .iter()
        .filter(|k| !known.contains(k.as_str()))
        .collect();
    assert!(
        unlisted.is_empty(),
        "event kinds missing from model::event_kinds: {unlisted:?}"
    );
    let catalog = catalog_text(&root);
    let unnamed: Vec<_> = known
        .iter()
        .filter(|k| !catalog.contains(&format!("\"event.{k}\"")))
        .collect();
    assert!(
        unnamed.is_empty(),
        "no `event.<kind>` in console/catalog/ for: {unnamed:?}"
    );
}

/// The console's message catalogue, all its parts (`console/catalog/*.rs`) as one text.
fn catalog_text(root: &Path) -> String {
    let mut files = Vec::new();
    rust_files(&root.join("console/catalog"), &mut files);
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect()
}

/*!
The one place that reads and parses profile YAML, so the parser can be swapped.

Three steps, each defending against hostile files:

1. [`read_capped`]: refuse directories, missing files and anything above [`MAX_BYTES`] *before*
   reading (and read at most that much, so `/dev/zero` cannot hang us); reject invalid UTF-8 with
   the line and column of the first bad byte.
2. [`parse`]: serde_yaml builds a `Value` first — it rejects syntax errors with a location, caps
   recursion depth (deep nesting) and alias expansion (billion laughs). Only then does yaml-rust2's
   event parser, which recurses on nesting, walk the same text to build a [`PosIndex`]: field path
   (`grid.units[3].parent`) → line and column of the key and the value. Aliases are not expanded
   by the index, so it stays linear in the file size.
3. [`deserialize`]: typed deserialisation into the raw structs with `serde_path_to_error`, so
   every structural error carries its path. After an unknown key or a bad optional value the
   offending entry is removed and deserialisation retried, so one run reports every such error.
*/

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde_yaml::Value;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use super::diag::{Diagnostic, Diagnostics};

/// Profiles larger than this are refused before reading (a Fujian-wide profile is ~3 MB).
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// Structural errors reported per file before giving up (each retry re-deserialises the file).
const MAX_STRUCTURAL_ERRORS: usize = 100;

/// Reads a file as UTF-8 text, refusing what is not a regular, reasonably sized text file.
pub fn read_capped(path: &Path, what: &str) -> Result<String, Diagnostic> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Diagnostic::file_level(
                path,
                format!("{what} not found / 文件不存在"),
                "check the path (relative paths inside a profile are relative to the profile file)",
            ));
        }
        Err(e) => {
            return Err(Diagnostic::file_level(
                path,
                format!("cannot read {what}: {e}"),
                "check the path and its permissions",
            ));
        }
    };
    if meta.is_dir() {
        return Err(Diagnostic::file_level(
            path,
            format!("{what} is a directory, not a file / 这是目录"),
            "pass the path of a file",
        ));
    }
    if !meta.is_file() {
        // FIFOs and devices could block or never end.
        return Err(Diagnostic::file_level(
            path,
            format!("{what} is not a regular file"),
            "pass the path of a regular file",
        ));
    }
    if meta.len() > MAX_BYTES {
        return Err(Diagnostic::file_level(
            path,
            format!(
                "{what} is too large ({} bytes, limit {} bytes)",
                meta.len(),
                MAX_BYTES
            ),
            "a profile or directory CSV this large is not a plausible input; split it or check the file",
        ));
    }
    let file = File::open(path).map_err(|e| {
        Diagnostic::file_level(
            path,
            format!("cannot open {what}: {e}"),
            "check its permissions",
        )
    })?;
    let mut bytes = Vec::new();
    // Character devices and growing files report a small length: cap the read itself too.
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            Diagnostic::file_level(path, format!("cannot read {what}: {e}"), "check the file")
        })?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(Diagnostic::file_level(
            path,
            format!("{what} is larger than {MAX_BYTES} bytes"),
            "check the file",
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let valid = std::str::from_utf8(&e.as_bytes()[..at]).unwrap_or_default();
        // Lines as the YAML parser and editors count them (a lone CR breaks a line too).
        let (line, col) = yaml_lines(valid)
            .enumerate()
            .last()
            .map_or((1, 1), |(i, last)| (i + 1, last.chars().count() + 1));
        Diagnostic::new(
            path,
            (line, col),
            "",
            format!("{what} is not valid UTF-8 (byte offset {at}) / 不是 UTF-8 编码"),
            "save the file as UTF-8 (GBK/GB18030 files must be converted, e.g. `iconv -f GB18030 -t UTF-8`)",
        )
    })
}

/// Where a field's key and value sit in the file (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    value: Pos,
    key: Option<Pos>,
}

/// Field path → position, for pointing diagnostics at the exact line and column.
#[derive(Debug, Default)]
pub struct PosIndex {
    map: HashMap<String, Entry>,
}

impl PosIndex {
    /// Position of the value at `path`, or of its nearest indexed ancestor (e.g. a field that is
    /// absent points at the object that should hold it).
    pub fn locate(&self, path: &str) -> (usize, usize) {
        let mut p = path;
        loop {
            if let Some(e) = self.map.get(p) {
                return (e.value.line, e.value.col);
            }
            match parent_path(p) {
                Some(parent) => p = parent,
                None => return (1, 1),
            }
        }
    }

    /// Position of the key of `path` (for unknown keys), falling back to [`PosIndex::locate`].
    pub fn locate_key(&self, path: &str) -> (usize, usize) {
        match self.map.get(path).and_then(|e| e.key) {
            Some(k) => (k.line, k.col),
            None => self.locate(path),
        }
    }

    /// True when the file spells out `path` (used to tell defaults from explicit values).
    pub fn has(&self, path: &str) -> bool {
        self.map.contains_key(path)
    }
}

/// `a.b[3].c` → `a.b[3]` → `a.b` → `a` → `` → None.
fn parent_path(p: &str) -> Option<&str> {
    if p.is_empty() {
        return None;
    }
    let cut = p.rfind(['.', '[']).unwrap_or(0);
    Some(&p[..cut])
}

enum Frame {
    Map {
        path: String,
        key: Option<(String, Pos)>,
        /// A non-scalar key (complex key) is being skipped; its nesting depth.
        complex_depth: usize,
    },
    Seq {
        path: String,
        index: usize,
    },
}

struct IndexBuilder {
    stack: Vec<Frame>,
    index: PosIndex,
}

fn pos(m: Marker) -> Pos {
    // yaml-rust2 markers: 1-based lines, 0-based columns.
    Pos {
        line: m.line(),
        col: m.col() + 1,
    }
}

impl IndexBuilder {
    /// The path a value starting now would have; `None` while reading a mapping key.
    fn child_path(&self) -> Option<(String, Option<Pos>)> {
        match self.stack.last() {
            None => Some((String::new(), None)),
            Some(Frame::Seq { path, index }) => Some((format!("{path}[{index}]"), None)),
            Some(Frame::Map { key: None, .. }) => None,
            Some(Frame::Map {
                path,
                key: Some((k, kpos)),
                ..
            }) => {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                Some((p, Some(*kpos)))
            }
        }
    }

    /// A value just finished: move the enclosing container on.
    fn advance(&mut self) {
        match self.stack.last_mut() {
            Some(Frame::Seq { index, .. }) => *index += 1,
            Some(Frame::Map { key, .. }) => *key = None,
            None => {}
        }
    }

    fn in_complex_key(&mut self) -> Option<&mut usize> {
        match self.stack.last_mut() {
            Some(Frame::Map { complex_depth, .. }) if *complex_depth > 0 => Some(complex_depth),
            _ => None,
        }
    }
}

impl MarkedEventReceiver for IndexBuilder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        // Complex keys (a mapping or sequence used as a key) are skipped wholesale; serde
        // rejects them anyway, the index only has to survive them.
        if let Some(depth) = self.in_complex_key() {
            match ev {
                Event::MappingStart(..) | Event::SequenceStart(..) => *depth += 1,
                Event::MappingEnd | Event::SequenceEnd => {
                    *depth -= 1;
                    if *depth == 0
                        && let Some(Frame::Map { key, .. }) = self.stack.last_mut()
                    {
                        *key = Some(("?".to_string(), pos(mark)));
                    }
                }
                _ => {}
            }
            return;
        }
        match ev {
            Event::Scalar(value, ..) => match self.child_path() {
                None => {
                    if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
                        *key = Some((value, pos(mark)));
                    }
                }
                Some((path, key)) => {
                    self.index.map.insert(
                        path,
                        Entry {
                            value: pos(mark),
                            key,
                        },
                    );
                    self.advance();
                }
            },
            Event::Alias(_) => match self.child_path() {
                None => {
                    if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
                        *key = Some(("*alias".to_string(), pos(mark)));
                    }
                }
                Some((path, key)) => {
                    self.index.map.insert(
                        path,
                        Entry {
                            value: pos(mark),
                            key,
                        },
                    );
                    self.advance();
                }
            },
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let is_map = matches!(ev, Event::MappingStart(..));
                match self.child_path() {
                    None => {
                        if let Some(Frame::Map { complex_depth, .. }) = self.stack.last_mut() {
                            *complex_depth = 1;
                        }
                    }
                    Some((path, key)) => {
                        self.index.map.insert(
                            path.clone(),
                            Entry {
                                value: pos(mark),
                                key,
                            },
                        );
                        self.stack.push(if is_map {
                            Frame::Map {
                                path,
                                key: None,
                                complex_depth: 0,
                            }
                        } else {
                            Frame::Seq { path, index: 0 }
                        });
                    }
                }
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.advance();
            }
            _ => {}
        }
    }
}

/// Strips serde_yaml's " at line L column C" suffix (we report the position separately).
fn strip_location(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Deepest nesting a profile may use; real profiles nest about 6 levels.
pub const MAX_DEPTH: usize = 64;

/// Finds where a text nests deeper than [`MAX_DEPTH`], before any YAML parser sees it: libyaml
/// handles deep block nesting in quadratic time (`- - - - …` takes minutes) and yaml-rust2
/// recurses. Counts flow brackets outside quoted scalars and comments, and block nesting from
/// indentation plus leading `- ` indicators. Over-counting is impossible for valid profiles
/// that stay below the limit; the estimate only errs towards accepting.
pub fn too_deep(text: &str) -> Option<(usize, usize)> {
    let mut flow = 0usize;
    for (ln, line) in yaml_lines(text).enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let mut rest = &line[indent..];
        let mut dashes = 0;
        while let Some(r) = rest.strip_prefix('-') {
            if r.is_empty() || r.starts_with(' ') {
                dashes += 1;
                rest = r.trim_start_matches(' ');
            } else {
                break;
            }
        }
        if indent / 2 + dashes > MAX_DEPTH * 2 {
            return Some((ln + 1, indent + 1));
        }
        let (mut single, mut double, mut prev_space) = (false, false, true);
        let mut escaped = false;
        for (col, ch) in line.chars().enumerate() {
            if double {
                match ch {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => double = false,
                    _ => {}
                }
            } else if single {
                if ch == '\'' {
                    single = false;
                }
            } else {
                match ch {
                    '#' if prev_space => break,
                    '"' => double = true,
                    '\'' => single = true,
                    '[' | '{' => {
                        flow += 1;
                        if flow > MAX_DEPTH {
                            return Some((ln + 1, col + 1));
                        }
                    }
                    ']' | '}' => flow = flow.saturating_sub(1),
                    _ => {}
                }
            }
            prev_space = ch == ' ' || ch == '\t';
        }
    }
    None
}

/// The lines of `text` as YAML (and editors) count them: a line ends at LF, CRLF or a lone CR.
/// (`str::lines` keeps a lone CR inside the line, which put positions after one a line early.)
fn yaml_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let t = rest?;
        match t.find(['\n', '\r']) {
            Some(i) => {
                let skip = if t[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&t[i + skip..]);
                Some(&t[..i])
            }
            None => {
                rest = None;
                Some(t)
            }
        }
    })
}

/// Parses profile text into a generic YAML value plus the position index of every field.
pub fn parse(file: &Path, text: &str) -> Result<(Value, PosIndex), Diagnostics> {
    if let Some(at) = too_deep(text) {
        return Err(Diagnostic::new(
            file,
            at,
            "",
            format!("YAML nests deeper than {MAX_DEPTH} levels"),
            "a profile nests a few levels deep; check for runaway indentation or brackets",
        )
        .into());
    }
    let mut value: Value = serde_yaml::from_str(text).map_err(|e| {
        let at = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        let msg = strip_location(&e.to_string());
        let hint = if msg.contains("recursion limit") {
            "the file nests too deeply for a profile; check for runaway indentation or brackets"
        } else if msg.contains("repetition limit") {
            "the file expands aliases (*name) too often; write the values out or use fewer aliases"
        } else if msg.contains("more than one document") {
            "a profile is one YAML document; remove the extra `---`"
        } else {
            "fix the YAML syntax (indent with spaces, quote values containing `: ` or `#`)"
        };
        Diagnostics::from(Diagnostic::new(
            file,
            at,
            "",
            format!("YAML syntax error: {msg}"),
            hint,
        ))
    })?;
    // `<<: *defaults` merge keys, so teams can share contact blocks between units.
    value.apply_merge().map_err(|e| {
        Diagnostics::from(Diagnostic::new(
            file,
            (1, 1),
            "",
            format!("YAML merge key error: {}", strip_location(&e.to_string())),
            "`<<:` must refer to a mapping or a list of mappings",
        ))
    })?;
    if value.is_null() {
        return Err(Diagnostic::new(
            file,
            (1, 1),
            "",
            "the profile is empty",
            "run `m110 init --division CODE` to write a starter profile",
        )
        .into());
    }
    let mut builder = IndexBuilder {
        stack: Vec::new(),
        index: PosIndex::default(),
    };
    // serde_yaml accepted the text, so its nesting depth is bounded by serde_yaml's recursion
    // limit and yaml-rust2's recursive loader is safe to run on it.
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, false) {
        let m = e.marker();
        return Err(Diagnostic::new(
            file,
            (m.line(), m.col() + 1),
            "",
            format!("YAML syntax error: {}", e.info()),
            "fix the YAML syntax",
        )
        .into());
    }
    Ok((value, builder.index))
}

/// The node at a serde_path_to_error path, if present.
fn node_at<'v>(value: &'v mut Value, path: &serde_path_to_error::Path) -> Option<&'v mut Value> {
    use serde_path_to_error::Segment;
    let mut cur = value;
    for s in path.iter() {
        cur = match (s, cur) {
            (Segment::Map { key }, Value::Mapping(m)) => m.get_mut(key.as_str())?,
            (Segment::Seq { index }, Value::Sequence(v)) => v.get_mut(*index)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Removes the node at a serde_path_to_error path from `value`; false when not found.
fn remove_at(value: &mut Value, path: &serde_path_to_error::Path) -> bool {
    use serde_path_to_error::Segment;
    let segs: Vec<Segment> = path.iter().cloned().collect();
    let Some((Segment::Map { key }, parents)) = segs.split_last() else {
        return false;
    };
    let mut cur = value;
    for s in parents {
        let next = match (s, cur) {
            (Segment::Map { key }, Value::Mapping(m)) => m.get_mut(key.as_str()),
            (Segment::Seq { index }, Value::Sequence(v)) => v.get_mut(*index),
            _ => None,
        };
        match next {
            Some(n) => cur = n,
            None => return false,
        }
    }
    match cur {
        Value::Mapping(m) => m.remove(key.as_str()).is_some(),
        _ => false,
    }
}

/// An unquoted code (`code: 350781`) is reported once, then read as the string it was meant to
/// be, so the rest of the file is still checked (every unquoted code is listed in one run).
fn quote_scalar(value: &mut Value, path: &serde_path_to_error::Path) -> bool {
    let Some(node) = node_at(value, path) else {
        return false;
    };
    let s = match node {
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return false,
    };
    *node = Value::String(s);
    true
}

/// Replaces the value at `path` with the FILL_IN marker; false when there is no such value.
fn placeholder_at(value: &mut Value, path: &serde_path_to_error::Path) -> bool {
    let Some(node) = node_at(value, path) else {
        return false;
    };
    if node.as_str() == Some(super::raw::FILL_IN) {
        return false;
    }
    *node = Value::String(super::raw::FILL_IN.to_string());
    true
}

fn hint_for(message: &str) -> String {
    if message.starts_with("unknown field") {
        "remove the key or fix its spelling; see docs/profile.md".to_string()
    } else if message.starts_with("missing field") {
        let field = message.split('`').nth(1).unwrap_or("it");
        format!("add `{field}`; see docs/profile.md")
    } else if message.contains("expected a string") {
        "quote the value, e.g. code: \"350781\"".to_string()
    } else if message.contains("unknown variant") {
        "use one of the listed values".to_string()
    } else if message.contains("expected u") || message.contains("expected i") {
        "write a whole number without quotes or units".to_string()
    } else if message.contains("expected f64") {
        "write a number without quotes or units".to_string()
    } else if message.contains("expected a sequence") {
        "write a list (`- item` lines or `[a, b]`)".to_string()
    } else if message.contains("expected struct") || message.contains("expected a map") {
        "write a mapping (`key: value` lines)".to_string()
    } else {
        "see docs/profile.md for the expected form".to_string()
    }
}

/// Deserialises a parsed profile into the raw structs, reporting every structural error.
pub fn deserialize<T: DeserializeOwned>(
    file: &Path,
    value: &Value,
    index: &PosIndex,
) -> Result<T, Diagnostics> {
    match deserialize_lenient(file, value, index) {
        (Some(t), d) if d.is_empty() => Ok(t),
        (_, d) => Err(d),
    }
}

/// Like [`deserialize`], but when the errors could be skipped (unknown keys, bad optional
/// values) also returns the structs read without them, so semantic checks can still run and
/// report their problems in the same pass.
pub fn deserialize_lenient<T: DeserializeOwned>(
    file: &Path,
    value: &Value,
    index: &PosIndex,
) -> (Option<T>, Diagnostics) {
    let mut work = value.clone();
    let mut diags = Diagnostics::default();
    let mut removed: Vec<String> = Vec::new();
    let mut placeholders: Vec<String> = Vec::new();
    loop {
        match serde_path_to_error::deserialize::<_, T>(work.clone()) {
            Ok(t) => {
                diags.sort();
                return (Some(t), diags);
            }
            Err(err) => {
                let path = err.path().clone();
                let path_str = path.to_string();
                let path_str = if path_str == "." {
                    String::new()
                } else {
                    path_str
                };
                let message = strip_location(&err.inner().to_string());
                if placeholders.contains(&path_str) {
                    // The placeholder does not fit this field either: already reported, so
                    // drop the value and carry on as for any other bad value.
                    if !remove_at(&mut work, &path) {
                        diags.sort();
                        return (None, diags);
                    }
                    removed.push(path_str);
                    continue;
                }
                // A required field we removed after reporting its bad value: already explained.
                let follow_up = message.starts_with("missing field")
                    && message.split('`').nth(1).is_some_and(|f| {
                        let full = if path_str.is_empty() {
                            f.to_string()
                        } else {
                            format!("{path_str}.{f}")
                        };
                        removed.contains(&full)
                    });
                if !follow_up {
                    let at = if message.starts_with("unknown field") {
                        index.locate_key(&path_str)
                    } else {
                        index.locate(&path_str)
                    };
                    diags.push(Diagnostic::new(
                        file,
                        at,
                        path_str.clone(),
                        message.clone(),
                        hint_for(&message),
                    ));
                }
                let bad_value =
                    message.starts_with("invalid type") || message.starts_with("invalid value");
                let room = !follow_up && diags.len() < MAX_STRUCTURAL_ERRORS;
                if room && message.contains("expected a string") && quote_scalar(&mut work, &path) {
                    removed.push(path_str);
                    continue;
                }
                // A bad value in a field that may hold the FILL_IN marker (population, area …)
                // becomes that marker — which the marker scan of the original file does not
                // report — so a required field keeps the rest of the file checkable.
                if room && bad_value && placeholder_at(&mut work, &path) {
                    placeholders.push(path_str);
                    continue;
                }
                if !(room && remove_at(&mut work, &path)) {
                    diags.sort();
                    return (None, diags);
                }
                removed.push(path_str);
            }
        }
    }
}

/// Calls `f` on every scalar of `value` with its field path (`units[3].hotline`, the spelling
/// of diagnostics): the marker scan and a draft's completeness walk the document the same way.
pub fn walk_scalars(value: &Value, f: &mut dyn FnMut(&str, &Value)) {
    walk(value, &mut String::new(), f);
}

fn walk(value: &Value, path: &mut String, f: &mut dyn FnMut(&str, &Value)) {
    match value {
        Value::Mapping(m) => {
            for (k, v) in m {
                let Some(k) = k.as_str() else { continue };
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                walk(v, path, f);
                path.truncate(len);
            }
        }
        Value::Sequence(items) => {
            for (i, v) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(v, path, f);
                path.truncate(len);
            }
        }
        Value::Tagged(t) => walk(&t.value, path, f),
        scalar => f(path, scalar),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_maps_paths_to_one_based_positions() {
        let text = "a:\n  b: 1\n  list:\n    - x: 2\n    - {x: 3, y: [4, 5]}\nc: \"s\"\n";
        let (_, idx) = parse(Path::new("t.yaml"), text).unwrap();
        assert_eq!(idx.locate("a.b"), (2, 6));
        assert_eq!(idx.locate_key("a.b"), (2, 3));
        assert_eq!(idx.locate("a.list[0].x"), (4, 10));
        assert_eq!(idx.locate("a.list[1].x"), (5, 11));
        assert_eq!(idx.locate("a.list[1].y[1]"), (5, 21));
        assert_eq!(idx.locate("c"), (6, 4));
        // Absent fields point at their nearest ancestor.
        assert_eq!(idx.locate("a.list[1].z"), (5, 7));
    }

    #[test]
    fn invalid_utf8_is_located_after_any_line_break() {
        let dir = tempfile::tempdir().unwrap();
        for (brk, name) in [("\n", "lf"), ("\r\n", "crlf"), ("\r", "cr")] {
            let path = dir.path().join(name);
            std::fs::write(
                &path,
                [&b"a: 1"[..], brk.as_bytes(), &b"b: \xff"[..]].concat(),
            )
            .unwrap();
            let d = read_capped(&path, "profile").unwrap_err();
            assert_eq!((d.line, d.col), (2, 4), "{brk:?}");
        }
    }

    #[test]
    fn nesting_is_located_after_any_line_break() {
        let deep = "{".repeat(MAX_DEPTH + 1);
        for brk in ["\n", "\r\n", "\r"] {
            let text = format!("a: 1{brk}{deep}");
            assert_eq!(too_deep(&text), Some((2, MAX_DEPTH + 1)), "{brk:?}");
        }
    }

    #[test]
    fn syntax_error_has_position() {
        let err = parse(Path::new("t.yaml"), "a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(err.len(), 1);
        assert!(err.0[0].message.starts_with("YAML syntax error"));
        assert!(err.0[0].line >= 1);
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        a: u32,
        b: Option<String>,
        items: Vec<I>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct I {
        name: String,
    }

    #[test]
    fn every_unknown_key_is_reported() {
        let text = "a: 1\nzz: 2\nitems:\n  - name: x\n    extra: 1\n  - name: y\nb: [1]\n";
        let (v, idx) = parse(Path::new("t.yaml"), text).unwrap();
        let err = deserialize::<T>(Path::new("t.yaml"), &v, &idx).unwrap_err();
        let got: Vec<_> = err
            .iter()
            .map(|d| (d.line, d.col, d.field.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![(2, 1, "zz"), (5, 5, "items[0].extra"), (7, 4, "b")],
            "{err}"
        );
    }
}

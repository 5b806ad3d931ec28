/*!
In-place edits of a profile's text: replace a scalar, add a key to a mapping, append items to a
list — touching only the characters that change, so a county team's comments, key order and
layout survive a tool writing into their profile (`m110 pull`, `m110 contacts import`).

Positions come from the [`PosIndex`] of the same text (1-based lines, columns in characters).
Every edit is computed against the original text, then [`apply`] applies them bottom-up, so no
edit shifts the position of another. Block and flow style are both handled: a flow mapping or
list (`{…}`, `[…]`) grows before its closing bracket; a block one grows by a new line after its
last line, indented like its siblings.
*/

use super::yaml::PosIndex;

/// A patch that cannot be applied to this text (the position index and the text disagree, or
/// the value has a form this module does not edit, such as a multi-line quoted scalar).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct PatchError {
    pub line: usize,
    pub message: String,
}

fn err(line: usize, message: impl Into<String>) -> PatchError {
    PatchError {
        line,
        message: message.into(),
    }
}

/// One change to the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Replace the scalar starting at (line, col) with `text`: a quoted scalar up to its closing
    /// quote, a plain one up to `,`, `}`, `]`, ` #` or the end of the line.
    Replace {
        line: usize,
        col: usize,
        text: String,
    },
    /// Insert `text` before the character at (line, col).
    Insert {
        line: usize,
        col: usize,
        text: String,
    },
    /// Insert `text` as a new line after `line`.
    Line { line: usize, text: String },
}

impl Edit {
    /// Sort key: later positions first; a new line after `line` comes after anything on it.
    fn key(&self) -> (usize, usize) {
        match self {
            Edit::Replace { line, col, .. } | Edit::Insert { line, col, .. } => (*line, *col),
            Edit::Line { line, .. } => (*line, usize::MAX),
        }
    }
}

/// A string as a YAML double-quoted scalar (JSON's escapes are YAML's).
pub fn quoted(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// Applies edits computed against `text`. Edits at the same position keep their given order in
/// the result (two keys added to one mapping appear in the order they were asked for).
pub fn apply(text: &str, edits: &[Edit]) -> Result<String, PatchError> {
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let mut order: Vec<(usize, &Edit)> = edits.iter().enumerate().collect();
    // Bottom-up and right-to-left, so earlier positions stay valid; same position: the later
    // edit first, so the earlier one ends up in front of it.
    order.sort_by_key(|&(i, e)| std::cmp::Reverse((e.key(), i)));
    for (_, e) in order {
        match e {
            Edit::Replace { line, col, text } => {
                let l = line_mut(&mut lines, *line)?;
                let start = byte_at(l, *line, *col)?;
                let len = scalar_len(&l[start..], *line)?;
                l.replace_range(start..start + len, text);
            }
            Edit::Insert { line, col, text } => {
                let l = line_mut(&mut lines, *line)?;
                let start = byte_at(l, *line, *col)?;
                l.insert_str(start, text);
            }
            Edit::Line { line, text } => {
                if *line == 0 || *line > lines.len() {
                    return Err(err(*line, "past the end of the file"));
                }
                lines.insert(*line, text.clone());
            }
        }
    }
    Ok(lines.join("\n"))
}

fn line_mut(lines: &mut [String], line: usize) -> Result<&mut String, PatchError> {
    line.checked_sub(1)
        .and_then(|i| lines.get_mut(i))
        .ok_or_else(|| err(line, "past the end of the file"))
}

/// Byte offset of the 1-based character column `col` (one past the end is allowed).
fn byte_at(l: &str, line: usize, col: usize) -> Result<usize, PatchError> {
    if col == l.chars().count() + 1 {
        return Ok(l.len());
    }
    l.char_indices()
        .nth(col.wrapping_sub(1))
        .map(|(b, _)| b)
        .ok_or_else(|| err(line, format!("no column {col}")))
}

/// Length in bytes of the scalar at the start of `rest`, trailing spaces excluded.
fn scalar_len(rest: &str, line: usize) -> Result<usize, PatchError> {
    let len = match rest.chars().next() {
        Some(q @ ('"' | '\'')) => {
            let mut escaped = false;
            let mut end = None;
            for (i, ch) in rest.char_indices().skip(1) {
                if q == '"' && ch == '\\' && !escaped {
                    escaped = true;
                    continue;
                }
                if ch == q && !escaped {
                    end = Some(i + 1);
                    break;
                }
                escaped = false;
            }
            end.ok_or_else(|| err(line, "a quoted value spans lines"))?
        }
        _ => rest
            .find([',', '}', ']'])
            .into_iter()
            .chain(rest.find(" #"))
            .min()
            .unwrap_or(rest.len()),
    };
    Ok(rest[..len].trim_end().len())
}

/// Replaces the scalar value at `path`.
pub fn replace(index: &PosIndex, path: &str, new: String) -> Result<Edit, PatchError> {
    if !index.has(path) {
        return Err(err(1, format!("`{path}` is not in the file")));
    }
    let (line, col) = index.locate(path);
    Ok(Edit::Replace {
        line,
        col,
        text: new,
    })
}

/// Adds `key: value` to the mapping at `map_path` (which must not have the key yet).
pub fn insert_key(
    text: &str,
    index: &PosIndex,
    map_path: &str,
    key: &str,
    value: &str,
) -> Result<Edit, PatchError> {
    grow(
        text,
        index,
        map_path,
        '{',
        '}',
        &format!("{key}: {value}"),
        |indent| format!("{}{key}: {value}", " ".repeat(indent)),
    )
}

/// Appends `items` (each a flow-style YAML value) to the list at `seq_path`.
pub fn append_items(
    text: &str,
    index: &PosIndex,
    seq_path: &str,
    items: &[String],
) -> Result<Edit, PatchError> {
    grow(
        text,
        index,
        seq_path,
        '[',
        ']',
        &items.join(", "),
        |indent| {
            items
                .iter()
                .map(|i| format!("{}- {i}", " ".repeat(indent)))
                .collect::<Vec<_>>()
                .join("\n")
        },
    )
}

/// The edit adding `flow` inside a flow collection, or `block(indent)` after a block one.
fn grow(
    text: &str,
    index: &PosIndex,
    path: &str,
    open: char,
    close: char,
    flow: &str,
    block: impl Fn(usize) -> String,
) -> Result<Edit, PatchError> {
    if !index.has(path) {
        return Err(err(1, format!("`{path}` is not in the file")));
    }
    let (line, col) = index.locate(path);
    let lines: Vec<&str> = text.split('\n').collect();
    let first = lines
        .get(line - 1)
        .ok_or_else(|| err(line, "past the end of the file"))?;
    let start = byte_at(first, line, col)?;
    if first[start..].starts_with(open) {
        let (cl, cc, empty) = closing(&lines, line, start, open, close)?;
        let sep = if empty { "" } else { ", " };
        return Ok(Edit::Insert {
            line: cl,
            col: cc,
            text: format!("{sep}{flow}"),
        });
    }
    // Block style. A list's position is its first `-`; a mapping's is somewhere on its first
    // key's line (yaml-rust2 marks the `:`), so its keys' column is that line's first character
    // after the indentation and any `- ` indicators. Siblings are indented like that, and the
    // node runs while lines are indented at least as much.
    let is_list = first[start..].starts_with("- ") || first[start..] == *"-";
    let indent = if is_list {
        col - 1
    } else {
        let mut rest = first.trim_start_matches(' ');
        while let Some(r) = rest.strip_prefix("- ") {
            rest = r.trim_start_matches(' ');
        }
        first.len() - rest.len()
    };
    let mut last = line;
    for (i, l) in lines.iter().enumerate().skip(line) {
        let t = l.trim_start_matches(' ');
        if t.is_empty() || t.starts_with('#') {
            continue; // blank and comment lines belong to whatever follows them
        }
        let ind = l.len() - t.len();
        let belongs = ind > indent || (ind == indent && (!is_list || t.starts_with('-')));
        if !belongs {
            break;
        }
        last = i + 1;
    }
    Ok(Edit::Line {
        line: last,
        text: block(indent),
    })
}

/// Position (line, 1-based col) of the bracket closing the one at byte `start` of `line`, and
/// whether the collection is empty. Quotes and comments are skipped; it may span lines.
fn closing(
    lines: &[&str],
    line: usize,
    start: usize,
    open: char,
    close: char,
) -> Result<(usize, usize, bool), PatchError> {
    let mut depth = 0usize;
    let mut empty = true;
    let (mut single, mut double, mut escaped) = (false, false, false);
    for (li, l) in lines.iter().enumerate().skip(line - 1) {
        let from = if li == line - 1 { start } else { 0 };
        let mut prev_space = true;
        for (b, ch) in l[from..].char_indices() {
            if double {
                match ch {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => double = false,
                    _ => {}
                }
                continue;
            }
            if single {
                if ch == '\'' {
                    single = false;
                }
                continue;
            }
            match ch {
                '#' if prev_space => break,
                '"' => double = true,
                '\'' => single = true,
                '[' | '{' => depth += 1,
                ']' | '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        if ch != close {
                            return Err(err(li + 1, format!("unbalanced `{open}`")));
                        }
                        let col = l[..from + b].chars().count() + 1;
                        return Ok((li + 1, col, empty));
                    }
                }
                c if !c.is_whitespace() && depth >= 1 => empty = false,
                _ => {}
            }
            if depth >= 1 && matches!(ch, '"' | '\'') {
                empty = false;
            }
            prev_space = ch == ' ' || ch == '\t';
        }
    }
    Err(err(line, format!("no closing `{close}`")))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::profile::yaml::parse;

    fn run(text: &str, f: impl Fn(&str, &PosIndex) -> Vec<Edit>) -> String {
        let (_, index) = parse(Path::new("t.yaml"), text).unwrap();
        let out = apply(text, &f(text, &index)).unwrap();
        // Whatever we write must still be YAML.
        parse(Path::new("t.yaml"), &out).unwrap();
        out
    }

    #[test]
    fn replaces_only_the_value() {
        let text = "units:\n  - id: a # the office\n    hotline: \"0599-1\"  # duty\n  - {id: b, hotline: 0599-2, name: B}\n";
        let out = run(text, |_, i| {
            vec![
                replace(i, "units[0].hotline", quoted("0599-9")).unwrap(),
                replace(i, "units[1].hotline", quoted("0599-8")).unwrap(),
            ]
        });
        assert_eq!(
            out,
            "units:\n  - id: a # the office\n    hotline: \"0599-9\"  # duty\n  - {id: b, hotline: \"0599-8\", name: B}\n"
        );
    }

    #[test]
    fn adds_keys_to_flow_and_block_mappings() {
        let text = "units:\n  - {id: a, name: A}  # keep\n  - id: b\n    name: B\n    # trailing\n  - {id: c}\nx: 1\n";
        let out = run(text, |t, i| {
            vec![
                insert_key(t, i, "units[0]", "hotline", "\"110\"").unwrap(),
                insert_key(t, i, "units[0]", "scope", "[x]").unwrap(),
                insert_key(t, i, "units[1]", "hotline", "\"120\"").unwrap(),
            ]
        });
        assert_eq!(
            out,
            "units:\n  - {id: a, name: A, hotline: \"110\", scope: [x]}  # keep\n  - id: b\n    name: B\n    hotline: \"120\"\n    # trailing\n  - {id: c}\nx: 1\n"
        );
    }

    #[test]
    fn appends_to_flow_and_block_lists() {
        let text = "a:\n  contacts: [{name: x}, {name: \"y]\"}]\n  empty: []\nb:\n  contacts:\n    - name: p\n      phone: \"1\"\n    - {name: q}\n  next: 2\n";
        let out = run(text, |t, i| {
            vec![
                append_items(t, i, "a.contacts", &["{name: z}".into()]).unwrap(),
                append_items(t, i, "a.empty", &["1".into(), "2".into()]).unwrap(),
                append_items(t, i, "b.contacts", &["{name: r}".into()]).unwrap(),
            ]
        });
        assert_eq!(
            out,
            "a:\n  contacts: [{name: x}, {name: \"y]\"}, {name: z}]\n  empty: [1, 2]\nb:\n  contacts:\n    - name: p\n      phone: \"1\"\n    - {name: q}\n    - {name: r}\n  next: 2\n"
        );
    }

    #[test]
    fn flow_lists_may_span_lines() {
        let text = "c: [\n  {name: x},  # first\n  {name: y}\n]\n";
        let out = run(text, |t, i| {
            vec![append_items(t, i, "c", &["{name: z}".into()]).unwrap()]
        });
        assert_eq!(
            out,
            "c: [\n  {name: x},  # first\n  {name: y}\n, {name: z}]\n"
        );
    }

    #[test]
    fn missing_paths_are_errors() {
        let (_, i) = parse(Path::new("t.yaml"), "a: 1\n").unwrap();
        assert!(replace(&i, "b", "2".into()).is_err());
        assert!(insert_key("a: 1\n", &i, "b", "k", "v").is_err());
    }
}

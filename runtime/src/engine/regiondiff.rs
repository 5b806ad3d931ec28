/*!
Field-by-field difference of two region models: what `m110 doctor` reports as drift (the
database against the profile) and what `m110 upgrade` plans (the install against the new
profile).

Both models are compared as JSON. Lists of things with a stable key — units (`id`), grid units
and categories (`code`), tiers (`key`), platforms (`id`), routing rules (category @ scope),
escalation chains (category) — are matched by that key, so a unit moved in the file is not a
change and a renamed unit shows as one field (`name`) changing. Other lists compare whole.
The directory and household registries are live data (edited in the console and API, not
re-seeded from the profile's CSV), so they are left out.
*/

use serde::Serialize;
use serde_json::Value;

use crate::model::Region;

/// What happened to one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One difference: `path` like `units[urban-management].hotline`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub path: String,
    pub kind: ChangeKind,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl Change {
    /// `path: before → after` for the terminal.
    pub fn line(&self) -> String {
        let show = |v: &Option<Value>| match v {
            Some(Value::Object(_)) | Some(Value::Array(_)) => "{…}".to_string(),
            Some(v) => v.to_string(),
            None => "—".to_string(),
        };
        match self.kind {
            ChangeKind::Added => format!("+ {}", self.path),
            ChangeKind::Removed => format!("- {}", self.path),
            ChangeKind::Changed => format!(
                "~ {}: {} → {}",
                self.path,
                show(&self.before),
                show(&self.after)
            ),
        }
    }

    /// The top-level section (`units`, `grid_units`, `routing` …).
    pub fn section(&self) -> &str {
        self.path.split(['.', '[']).next().unwrap_or("")
    }

    /// The key of the entry in its list (`urban-management` of `units[urban-management].x`).
    pub fn entry(&self) -> Option<&str> {
        let start = self.path.find('[')? + 1;
        let end = start + self.path[start..].find(']')?;
        Some(&self.path[start..end])
    }
}

/// The model as compared: live registries left out.
fn comparable(region: &Region) -> Value {
    let mut v = serde_json::to_value(region).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.remove("directory");
        o.remove("households");
    }
    v
}

/// The model as recorded in the install (`settings.region_model`): the region without its live
/// registries.
pub fn recorded_model(region: &Region) -> String {
    let mut r = region.clone();
    r.directory.clear();
    r.households.clear();
    serde_json::to_string(&r).unwrap_or_default()
}

/// Reads a recorded model back; `None` when it does not parse (a model of another version).
pub fn parse_recorded(json: &str) -> Option<Region> {
    serde_json::from_str(json).ok()
}

/// Every difference from `before` to `after`.
pub fn diff(before: &Region, after: &Region) -> Vec<Change> {
    let mut out = Vec::new();
    walk("", &comparable(before), &comparable(after), &mut out);
    out
}

fn key_of(v: &Value) -> Option<String> {
    let o = v.as_object()?;
    for k in ["id", "code", "key"] {
        if let Some(s) = o.get(k).and_then(Value::as_str) {
            return Some(s.to_string());
        }
    }
    // Routing rules: category @ scope; escalation chains: their category.
    if let Some(c) = o.get("category") {
        let c = c.as_str().unwrap_or("*");
        return Some(match o.get("scope") {
            Some(Value::String(s)) => format!("{c}@{s}"),
            Some(_) if o.contains_key("unit") => format!("{c}@*"),
            _ => c.to_string(),
        });
    }
    None
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn walk(path: &str, a: &Value, b: &Value, out: &mut Vec<Change>) {
    if a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                match y.get(k) {
                    Some(vb) => walk(&join(path, k), va, vb, out),
                    None if !va.is_null() => out.push(Change {
                        path: join(path, k),
                        kind: ChangeKind::Changed,
                        before: Some(va.clone()),
                        after: None,
                    }),
                    None => {}
                }
            }
            for (k, vb) in y {
                if !x.contains_key(k) && !vb.is_null() {
                    out.push(Change {
                        path: join(path, k),
                        kind: ChangeKind::Changed,
                        before: None,
                        after: Some(vb.clone()),
                    });
                }
            }
        }
        (Value::Array(x), Value::Array(y))
            if x.iter().chain(y).all(|v| key_of(v).is_some())
                && !(x.is_empty() && y.is_empty()) =>
        {
            let keyed = |list: &Vec<Value>| -> Vec<(String, Value)> {
                list.iter()
                    .map(|v| (key_of(v).unwrap_or_default(), v.clone()))
                    .collect()
            };
            let (ka, kb) = (keyed(x), keyed(y));
            for (k, va) in &ka {
                let p = format!("{path}[{k}]");
                match kb.iter().find(|(kk, _)| kk == k) {
                    Some((_, vb)) => walk(&p, va, vb, out),
                    None => out.push(Change {
                        path: p,
                        kind: ChangeKind::Removed,
                        before: Some(va.clone()),
                        after: None,
                    }),
                }
            }
            for (k, vb) in &kb {
                if !ka.iter().any(|(kk, _)| kk == k) {
                    out.push(Change {
                        path: format!("{path}[{k}]"),
                        kind: ChangeKind::Added,
                        before: None,
                        after: Some(vb.clone()),
                    });
                }
            }
        }
        _ => out.push(Change {
            path: path.to_string(),
            kind: ChangeKind::Changed,
            before: Some(a.clone()),
            after: Some(b.clone()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(a: Value, b: Value) -> Vec<String> {
        let mut out = Vec::new();
        walk("", &a, &b, &mut out);
        out.iter().map(Change::line).collect()
    }

    #[test]
    fn keyed_lists_match_by_key_not_position() {
        let a = json!({"units": [{"id": "a", "hotline": "1"}, {"id": "b", "hotline": "2"}]});
        let b = json!({"units": [{"id": "b", "hotline": "2"}, {"id": "a", "hotline": "9"}, {"id": "c"}]});
        assert_eq!(
            d(a, b),
            vec!["~ units[a].hotline: \"1\" → \"9\"", "+ units[c]"]
        );
    }

    #[test]
    fn rules_are_keyed_by_category_and_scope() {
        let a = json!({"rules": [{"category": "roads", "scope": null, "unit": "transport"}]});
        let b = json!({"rules": [{"category": "roads", "scope": null, "unit": "city"},
                                 {"category": "roads", "scope": "350781001", "unit": "town"}]});
        assert_eq!(
            d(a, b),
            vec![
                "~ rules[roads@*].unit: \"transport\" → \"city\"",
                "+ rules[roads@350781001]"
            ]
        );
        let c = Change {
            path: "units[x].name".into(),
            kind: ChangeKind::Changed,
            before: None,
            after: None,
        };
        assert_eq!((c.section(), c.entry()), ("units", Some("x")));
    }

    #[test]
    fn removed_entries_and_plain_lists() {
        let a = json!({"grid_units": [{"code": "1"}, {"code": "2"}], "keywords": ["a", "b"]});
        let b = json!({"grid_units": [{"code": "1"}], "keywords": ["a", "c"]});
        assert_eq!(d(a, b), vec!["- grid_units[2]", "~ keywords: {…} → {…}"]);
    }
}

//! One test per validation check of `m110::profile::load`, each asserting the exact line and
//! column reported, plus hostile inputs. Profiles are written to temporary files.

use std::path::{Path, PathBuf};

use m110::profile::{Diagnostic, load};

const BASE: &str = r#"version: 1
division_edition: NBS 2023
region:
  code: "350781"
  name: 邵武市
  parents: [福建省, 南平市]
  population: 300000
  area_km2: 2852
service_center:
  number: "110"
  hours: "24/7"
grid:
  tiers:
    - {key: township, name: 乡镇/街道}
    - {key: village, name: 村/社区}
    - {key: cell, name: 网格}
  units:
    - {code: "350781001", name: 昭阳街道}
    - {code: "350781002", name: 通泰街道}
    - {code: "350781001001", name: 公太社区, parent: "350781001", households: 900}
    - {code: "350781002001", name: 城富社区, parent: "350781002"}
  cells: {per_households: 300, per_unit: 2}
units:
  - {id: police-110, kind: police, name: 公安110, hotline: "110"}
  - {id: civil-affairs, kind: department, name: 民政局, hotline: "0599-6332345", scope: ["350781001"]}
categories:
  - {code: repairs, sign_minutes: 30, close_hours: 24}
routing:
  rules:
    - {category: assistance, unit: civil-affairs}
    - {category: [roads, repairs], scope: "350781001", unit: civil-affairs}
existing_platforms:
  - {id: cams, kind: camera_network, name: 雪亮工程, cameras: 735}
  - {id: portal, kind: gov_portal, name: 门户网站, integration: {type: webhook, url: "https://x.example.cn/h"}}
"#;

struct Case {
    dir: tempfile::TempDir,
    path: PathBuf,
    text: String,
}

fn write(text: &str) -> Case {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.yaml");
    std::fs::write(&path, text).unwrap();
    Case {
        dir,
        path,
        text: text.to_string(),
    }
}

/// BASE with `from` replaced by `to` (which must occur exactly once).
fn mutate(from: &str, to: &str) -> Case {
    assert_eq!(
        BASE.matches(from).count(),
        1,
        "`{from}` must be unique in BASE"
    );
    write(&BASE.replacen(from, to, 1))
}

/// 1-based (line, column in characters) where `value` starts inside the unique `context`.
fn pos(text: &str, context: &str, value: &str) -> (usize, usize) {
    assert_eq!(
        text.matches(context).count(),
        1,
        "`{context}` must be unique"
    );
    let at = text.find(context).unwrap() + context.find(value).expect("value in context");
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .chars()
        .count()
        + 1;
    (line, col)
}

fn errors(c: &Case) -> Vec<Diagnostic> {
    match load(&c.path) {
        Ok(_) => panic!("expected errors for:\n{}", c.text),
        Err(d) => d.0,
    }
}

/// Asserts a diagnostic at `at` for `field` whose message contains `msg`.
fn expect(c: &Case, at: (usize, usize), field: &str, msg: &str) {
    let errs = errors(c);
    assert!(
        errs.iter()
            .any(|d| (d.line, d.col) == at && d.field == field && d.message.contains(msg)),
        "no `{msg}` at {}:{} for {field}; got:\n{}",
        at.0,
        at.1,
        errs.iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    for d in &errs {
        assert_eq!(d.file, c.path);
        assert!(!d.hint.is_empty(), "every diagnostic has a hint: {d}");
    }
}

#[test]
fn base_profile_is_valid() {
    let c = write(BASE);
    let loaded = load(&c.path).unwrap_or_else(|d| panic!("{d}"));
    let r = &loaded.region;
    // 2 townships + 2 villages + cells: 900 households / 300 = 3, unknown households → 2.
    assert_eq!(r.grid_units.len(), 4 + 3 + 2);
    assert_eq!(r.units[0].id, "center");
    assert_eq!(loaded.sha256.len(), 64);
    assert!(r.grid_unit("35078100100103").is_some());
}

#[test]
fn yaml_syntax_error() {
    let c = mutate("  area_km2: 2852", "  area_km2: [2852");
    let errs = errors(&c);
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].message.starts_with("YAML syntax error"),
        "{}",
        errs[0]
    );
    // libyaml notices the unclosed flow sequence at the next mapping key.
    assert_eq!((errs[0].line, errs[0].col), (9, 15), "{}", errs[0]);
}

#[test]
fn unknown_key() {
    let c = mutate("  area_km2: 2852\n", "  area_km2: 2852\n  bogus: 1\n");
    expect(
        &c,
        pos(&c.text, "  bogus: 1", "bogus"),
        "region.bogus",
        "unknown field `bogus`",
    );
}

#[test]
fn wrong_type() {
    let c = mutate("population: 300000", "population: [1]");
    expect(
        &c,
        pos(&c.text, "population: [1]", "[1]"),
        "region.population",
        "invalid type",
    );
}

#[test]
fn unquoted_code_is_a_type_error() {
    let c = mutate("code: \"350781\"", "code: 350781");
    expect(
        &c,
        pos(&c.text, "code: 350781\n", "350781"),
        "region.code",
        "expected a string",
    );
}

#[test]
fn region_code_format() {
    let c = mutate("code: \"350781\"", "code: \"35078\"");
    expect(
        &c,
        pos(&c.text, "code: \"35078\"", "\"35078\""),
        "region.code",
        "6-digit",
    );
}

#[test]
fn grid_code_format() {
    let c = mutate(
        "\"350781002\", name: 通泰街道",
        "\"3507 81002\", name: 通泰街道",
    );
    expect(
        &c,
        pos(&c.text, "\"3507 81002\"", "\"3507"),
        "grid.units[1].code",
        "not a grid code",
    );
}

#[test]
fn duplicate_grid_code() {
    let c = mutate(
        "\"350781002\", name: 通泰街道",
        "\"350781001\", name: 通泰街道",
    );
    expect(
        &c,
        pos(&c.text, "\"350781001\", name: 通泰街道", "\"350781001\""),
        "grid.units[1].code",
        "duplicate grid code",
    );
}

#[test]
fn duplicate_unit_id() {
    let c = mutate("{id: civil-affairs, kind", "{id: police-110, kind");
    expect(
        &c,
        pos(&c.text, "{id: police-110, kind: department", "police-110"),
        "units[1].id",
        "duplicate unit id",
    );
}

#[test]
fn parent_must_exist() {
    let c = mutate("parent: \"350781002\"}", "parent: \"350781009\"}");
    expect(
        &c,
        pos(&c.text, "parent: \"350781009\"", "\"350781009\""),
        "grid.units[3].parent",
        "is not a listed grid unit",
    );
}

#[test]
fn parent_must_be_one_tier_up() {
    let c = mutate(
        "  cells:",
        "    - {code: \"35078100101\", name: 格, parent: \"350781001\", tier: cell}\n  cells:",
    );
    expect(
        &c,
        pos(
            &c.text,
            "parent: \"350781001\", tier: cell",
            "\"350781001\"",
        ),
        "grid.units[4].parent",
        "not one tier above",
    );
}

#[test]
fn parent_cycle() {
    let c = mutate(
        "  cells:",
        "    - {code: \"A1\", name: a, parent: \"A2\"}\n    - {code: \"A2\", name: b, parent: \"A1\"}\n  cells:",
    );
    expect(
        &c,
        pos(&c.text, "parent: \"A2\"", "\"A2\""),
        "grid.units[4].parent",
        "loops",
    );
    expect(
        &c,
        pos(&c.text, "parent: \"A1\"", "\"A1\""),
        "grid.units[5].parent",
        "loops",
    );
}

#[test]
fn population_positive() {
    let c = mutate("population: 300000", "population: 0");
    expect(
        &c,
        pos(&c.text, "population: 0", "0"),
        "region.population",
        "positive",
    );
}

#[test]
fn households_positive() {
    let c = mutate("households: 900", "households: 0");
    expect(
        &c,
        pos(&c.text, "households: 0", "0"),
        "grid.units[2].households",
        "positive",
    );
}

#[test]
fn cell_rule_counts_positive() {
    let c = mutate("per_households: 300", "per_households: 0");
    expect(
        &c,
        pos(&c.text, "per_households: 0", "0"),
        "grid.cells.per_households",
        "positive",
    );
}

#[test]
fn camera_count_positive() {
    let c = mutate("cameras: 735", "cameras: 0");
    expect(
        &c,
        pos(&c.text, "cameras: 0", "0"),
        "existing_platforms[0].cameras",
        "positive",
    );
}

#[test]
fn routing_category_must_exist() {
    let c = mutate("{category: assistance,", "{category: assistanse,");
    expect(
        &c,
        pos(&c.text, "category: assistanse", "assistanse"),
        "routing.rules[0].category",
        "does not exist",
    );
}

#[test]
fn routing_category_in_list_must_exist() {
    let c = mutate("[roads, repairs]", "[roads, repair]");
    expect(
        &c,
        pos(&c.text, "[roads, repair]", "repair]"),
        "routing.rules[1].category[1]",
        "does not exist",
    );
}

#[test]
fn routing_unit_must_exist() {
    let c = mutate(
        "{category: assistance, unit: civil-affairs}",
        "{category: assistance, unit: civil-afairs}",
    );
    expect(
        &c,
        pos(&c.text, "unit: civil-afairs", "civil-afairs"),
        "routing.rules[0].unit",
        "does not exist",
    );
}

#[test]
fn routing_scope_must_exist() {
    let c = mutate("scope: \"350781001\", unit", "scope: \"350781999\", unit");
    expect(
        &c,
        pos(&c.text, "scope: \"350781999\"", "\"350781999\""),
        "routing.rules[1].scope",
        "does not exist",
    );
}

#[test]
fn unit_scope_must_exist() {
    let c = mutate("scope: [\"350781001\"]", "scope: [\"350781777\"]");
    expect(
        &c,
        pos(&c.text, "[\"350781777\"]", "\"350781777\""),
        "units[1].scope[0]",
        "does not exist",
    );
}

#[test]
fn every_category_routable_needs_a_fallback() {
    let c = mutate("routing:\n", "routing:\n  fallback: nobody\n");
    expect(
        &c,
        pos(&c.text, "fallback: nobody", "nobody"),
        "routing.fallback",
        "cannot be routed",
    );
}

#[test]
fn deadlines_positive() {
    let c = mutate("sign_minutes: 30", "sign_minutes: 0");
    expect(
        &c,
        pos(&c.text, "sign_minutes: 0", "0"),
        "categories[0].sign_minutes",
        "positive",
    );
}

#[test]
fn sign_before_close() {
    let c = mutate("sign_minutes: 30", "sign_minutes: 3000");
    expect(
        &c,
        pos(&c.text, "sign_minutes: 3000", "3000"),
        "categories[0].sign_minutes",
        "later than",
    );
}

#[test]
fn duplicate_category() {
    let c = mutate(
        "  - {code: repairs, sign_minutes: 30, close_hours: 24}\n",
        "  - {code: repairs, sign_minutes: 30, close_hours: 24}\n  - {code: repairs, priority: low}\n",
    );
    expect(
        &c,
        pos(&c.text, "{code: repairs, priority", "repairs"),
        "categories[1].code",
        "listed twice",
    );
}

#[test]
fn new_category_needs_names() {
    let c = mutate(
        "  - {code: repairs, sign_minutes: 30, close_hours: 24}\n",
        "  - {code: repairs, sign_minutes: 30, close_hours: 24}\n  - {code: pets, name_en: Pets}\n",
    );
    expect(
        &c,
        pos(&c.text, "  - {code: pets", "{code"),
        "categories[1]",
        "needs name_zh",
    );
}

#[test]
fn phone_format() {
    let c = mutate("hotline: \"0599-6332345\"", "hotline: \"0599 6332345\"");
    expect(
        &c,
        pos(&c.text, "\"0599 6332345\"", "\"0599"),
        "units[1].hotline",
        "not a phone number",
    );
}

#[test]
fn service_number_format() {
    let c = mutate("number: \"110\"", "number: \"11\"");
    expect(
        &c,
        pos(&c.text, "number: \"11\"", "\"11\""),
        "service_center.number",
        "not a phone number",
    );
}

#[test]
fn url_format() {
    let c = mutate("url: \"https://x.example.cn/h\"", "url: \"htp:/x\"");
    expect(
        &c,
        pos(&c.text, "url: \"htp:/x\"", "\"htp"),
        "existing_platforms[1].integration.url",
        "not an http(s) URL",
    );
}

#[test]
fn unit_kind_must_be_known() {
    let c = mutate("kind: department", "kind: bureau");
    expect(
        &c,
        pos(&c.text, "kind: bureau", "bureau"),
        "units[1].kind",
        "unknown unit kind",
    );
}

#[test]
fn referenced_file_must_exist() {
    let c = mutate(
        "existing_platforms:",
        "directories:\n  market_providers: nope.csv\nexisting_platforms:",
    );
    expect(
        &c,
        pos(&c.text, "market_providers: nope.csv", "nope.csv"),
        "directories.market_providers",
        "does not exist",
    );
}

#[test]
fn fill_in_markers_are_reported() {
    let c = mutate("population: 300000", "population: FILL_IN");
    expect(
        &c,
        pos(&c.text, "population: FILL_IN", "FILL_IN"),
        "region.population",
        "filled in by hand",
    );
}

#[test]
fn bad_csv_rows_point_at_the_csv_line() {
    let c = mutate(
        "existing_platforms:",
        "directories:\n  market_providers: m.csv\nexisting_platforms:",
    );
    let csv = c.dir.path().join("m.csv");
    std::fs::write(
        &csv,
        "name,category,phone,grid\n好帮手家政,housekeeping,0599-6301234,350781001\n坏号码,repairs,12-34,350781001\n无网格,repairs,,999\n",
    )
    .unwrap();
    let errs = errors(&c);
    let got: Vec<_> = errs
        .iter()
        .map(|d| (d.file.clone(), d.line, d.col, d.field.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (csv.clone(), 3, 3, "market_providers.phone"),
            (csv.clone(), 4, 4, "market_providers.grid"),
        ],
        "{errs:?}"
    );
}

#[test]
fn every_error_is_listed_in_one_run() {
    let text = BASE
        .replacen("  area_km2: 2852\n", "  area_km2: 2852\n  bogus: 1\n", 1)
        .replacen("parent: \"350781002\"}", "parent: \"350781009\"}", 1)
        .replacen("hotline: \"0599-6332345\"", "hotline: \"0599 6332345\"", 1)
        .replacen("sign_minutes: 30", "sign_minutes: 0", 1);
    let c = write(&text);
    let errs = errors(&c);
    let fields: Vec<&str> = errs.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(
        fields,
        vec![
            "region.bogus",
            "grid.units[3].parent",
            "units[1].hotline",
            "categories[0].sign_minutes"
        ],
        "sorted by position, all reported"
    );
    // The Display form is FILE:LINE:COL: field: message (hint: …).
    let line = errs[0].to_string();
    assert!(
        line.starts_with(&format!(
            "{}:9:3: region.bogus: unknown field",
            c.path.display()
        )),
        "{line}"
    );
    assert!(line.ends_with(')') && line.contains("(hint: "), "{line}");
}

#[test]
fn a_bad_required_value_does_not_hide_the_other_errors() {
    let text = BASE
        .replacen("  area_km2: 2852\n", "  area_km2: 2852\n  bogus: 1\n", 1)
        .replacen("population: 300000", "population: -5", 1)
        .replacen("parent: \"350781002\"}", "parent: \"350781009\"}", 1);
    let c = write(&text);
    let errs = errors(&c);
    let fields: Vec<&str> = errs.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(
        fields,
        vec!["region.population", "region.bogus", "grid.units[3].parent"],
        "{errs:?}"
    );
    assert!(errs[0].message.contains("-5"), "{}", errs[0]);
}

// ---- hostile input: a clear error quickly, never a hang or a panic ----

fn only_error(path: &Path) -> Diagnostic {
    let start = std::time::Instant::now();
    let errs = load(path).expect_err("must fail").0;
    assert!(start.elapsed().as_secs() < 10, "took {:?}", start.elapsed());
    assert_eq!(errs.len(), 1, "{errs:?}");
    errs.into_iter().next().unwrap()
}

#[test]
fn hostile_huge_file_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.yaml");
    let f = std::fs::File::create(&p).unwrap();
    f.set_len(100 * 1024 * 1024).unwrap(); // sparse: 100 MB without writing it
    let d = only_error(&p);
    assert!(d.message.contains("too large"), "{d}");
}

#[test]
fn hostile_deep_nesting() {
    let c = write(&format!("a: {}", "[".repeat(200_000)));
    let d = only_error(&c.path);
    assert!(d.message.contains("nests deeper"), "{d}");
    assert_eq!((d.line, d.col), (1, 4 + 64));
    let c = write(&"- ".repeat(50_000));
    let d = only_error(&c.path);
    assert!(d.message.contains("nests deeper"), "{d}");
    let c = write(&format!(
        "a:\n{}",
        (1..400)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect::<String>()
    ));
    let d = only_error(&c.path);
    assert!(d.message.contains("nests deeper"), "{d}");
    // Just below the limit the document parses and is rejected for its content, quickly.
    let c = write(&format!("a: {}1{}", "[".repeat(60), "]".repeat(60)));
    let start = std::time::Instant::now();
    let errs = load(&c.path).expect_err("not a profile").0;
    assert!(start.elapsed().as_secs() < 10);
    assert!(errs.iter().any(|d| d.message.contains("unknown field `a`")));
}

#[test]
fn hostile_alias_bomb() {
    let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let prev = i - 1;
        s.push_str(&format!(
            "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
        ));
    }
    let c = write(&s);
    let d = only_error(&c.path);
    assert!(d.message.contains("repetition limit"), "{d}");
}

#[test]
fn hostile_invalid_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("gbk.yaml");
    // "version: 1\nregion:\n  name: " then GBK bytes for 邵武.
    let mut bytes = b"version: 1\nregion:\n  name: ".to_vec();
    bytes.extend_from_slice(&[0xDB, 0xBF, 0xCE, 0xE4]);
    std::fs::write(&p, bytes).unwrap();
    let d = only_error(&p);
    assert!(d.message.contains("UTF-8"), "{d}");
    // 0xDB 0xBF happens to be a valid UTF-8 pair (U+06FF); 0xCE 0xE4 is the first bad one.
    assert_eq!((d.line, d.col), (3, 10));
}

#[test]
fn hostile_directory_and_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = only_error(dir.path());
    assert!(d.message.contains("directory"), "{d}");
    let d = only_error(&dir.path().join("missing.yaml"));
    assert!(d.message.contains("not found"), "{d}");
}

#[test]
fn hostile_empty_and_non_mapping_documents() {
    let c = write("");
    assert!(only_error(&c.path).message.contains("empty"));
    let c = write("- just\n- a list\n");
    let d = only_error(&c.path);
    assert!(d.message.contains("invalid type"), "{d}");
}

#[test]
fn hostile_cell_explosion_is_refused() {
    let c = mutate("households: 900", "households: 18446744073709551615");
    let c2 = write(
        &c.text
            .replacen("per_households: 300", "per_households: 1", 1),
    );
    let errs = errors(&c2);
    assert!(
        errs.iter()
            .any(|d| d.field == "grid.cells" && d.message.contains("would generate")),
        "{errs:?}"
    );
}

#[test]
fn hostile_device_is_not_read() {
    let d = only_error(Path::new("/dev/zero"));
    assert!(d.message.contains("not a regular file"), "{d}");
    assert_eq!((d.line, d.col), (1, 1));
}

#[test]
fn anchors_and_merge_keys_work() {
    let c = mutate(
        "  - {id: police-110, kind: police, name: 公安110, hotline: \"110\"}\n",
        "  - &police {id: police-110, kind: police, name: 公安110, hotline: \"110\"}\n  - {<<: *police, id: police-2, name: 派出所}\n",
    );
    let r = load(&c.path).unwrap_or_else(|d| panic!("{d}")).region;
    let u = r.unit("police-2").expect("merged unit");
    assert_eq!(u.hotline.as_deref(), Some("110"));
    assert_eq!(u.name, "派出所");
}

#[test]
fn every_unquoted_code_is_reported_and_the_rest_still_checked() {
    let text = BASE
        .replacen(
            "{code: \"350781001\", name: 昭阳街道}",
            "{code: 350781001, name: 昭阳街道}",
            1,
        )
        .replacen(
            "{code: \"350781002\", name: 通泰街道}",
            "{code: 350781002, name: 通泰街道}",
            1,
        )
        .replacen("hotline: \"0599-6332345\"", "hotline: \"0599 6332345\"", 1);
    let c = write(&text);
    let errs = errors(&c);
    let got: Vec<_> = errs
        .iter()
        .map(|d| (d.line, d.col, d.field.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (18, 14, "grid.units[0].code"),
            (19, 14, "grid.units[1].code"),
            {
                let (l, c) = pos(&c.text, "\"0599 6332345\"", "\"0599");
                (l, c, "units[1].hotline")
            },
        ],
        "{errs:?}"
    );
}

#[test]
fn disabled_category_cannot_be_routed() {
    let c = mutate(
        "  - {code: repairs, sign_minutes: 30, close_hours: 24}\n",
        "  - {code: repairs, disabled: true}\n",
    );
    expect(
        &c,
        pos(&c.text, "[roads, repairs]", "repairs]"),
        "routing.rules[1].category[1]",
        "does not exist",
    );
    let c = mutate(
        "{code: repairs, sign_minutes: 30",
        "{code: plumbing, disabled: true, sign_minutes: 30",
    );
    expect(
        &c,
        pos(&c.text, "disabled: true", "true"),
        "categories[0].disabled",
        "nothing to disable",
    );
}

#[test]
fn webhook_secret_env_is_a_variable_name() {
    let c = mutate(
        "url: \"https://x.example.cn/h\"}",
        "url: \"https://x.example.cn/h\", secret_env: \"my secret\"}",
    );
    expect(
        &c,
        pos(&c.text, "\"my secret\"", "\"my secret\""),
        "existing_platforms[1].integration.secret_env",
        "environment variable",
    );
}

/// The 24/7 roster's fields of `service_center.staffing` (docs/staffing.md).
#[test]
fn staffing_week_and_roster_fields() {
    // A week curve of the wrong length: reported at the list.
    let c = mutate(
        "  hours: \"24/7\"\n",
        "  hours: \"24/7\"\n  staffing:\n    intraday: [1, 2, 3]\n    weekday: [1, 1, 1, 1, 1, 1, -1]\n",
    );
    expect(
        &c,
        pos(&c.text, "intraday: [1, 2, 3]", "[1, 2, 3]"),
        "service_center.staffing.intraday",
        "has 3 values, needs 24",
    );
    // A negative share: reported at the value.
    expect(
        &c,
        pos(&c.text, "1, 1, -1]", "-1]"),
        "service_center.staffing.weekday[6]",
        "is not a share",
    );
    let c = mutate(
        "  hours: \"24/7\"\n",
        "  hours: \"24/7\"\n  staff: 0\n  staffing:\n    weekday: [0, 0, 0, 0, 0, 0, 0]\n    shifts: 4x6\n    followup_window: [\"09-12\", \"18-14\"]\n    case_share: 1.5\n",
    );
    expect(
        &c,
        pos(&c.text, "weekday: [0,", "[0,"),
        "service_center.staffing.weekday",
        "sum to 0",
    );
    expect(
        &c,
        pos(&c.text, "shifts: 4x6", "4x6"),
        "service_center.staffing.shifts",
        "not a shift pattern",
    );
    expect(
        &c,
        pos(&c.text, "\"18-14\"", "\"18-14\""),
        "service_center.staffing.followup_window[1]",
        "not an hour window",
    );
    expect(
        &c,
        pos(&c.text, "case_share: 1.5", "1.5"),
        "service_center.staffing.case_share",
        "out of range",
    );
    expect(
        &c,
        pos(&c.text, "staff: 0", "0"),
        "service_center.staff",
        "not a staff count",
    );
    // Valid values compile, normalised.
    let c = mutate(
        "  hours: \"24/7\"\n",
        "  hours: \"24/7\"\n  staff: 12\n  staffing:\n    weekday: [2, 2, 2, 2, 2, 1, 1]\n    shifts: \"2x12\"\n    followup_window: [\"10-12\"]\n",
    );
    let r = load(&c.path).unwrap_or_else(|d| panic!("{d}")).region;
    let roster = &r.service_center.staffing.roster;
    assert_eq!(roster.weekday[0], 2.0 / 12.0);
    assert_eq!(roster.shifts.as_str(), "2x12");
    assert_eq!(roster.followup_hours, [10, 11]);
    assert_eq!(roster.staff, Some(12));
    assert_eq!(roster.intraday.len(), 24);
}

//! `compare`: golden output of every format for the county and district fixtures.

mod common;

use std::path::Path;

use common::fixture;
use m110::compare::{self, Format};

fn comparison() -> compare::Comparison {
    let (a, b) = (fixture::region(), fixture::district());
    compare::compare([&a, &b])
}

#[test]
fn every_format_matches_its_golden() {
    let dir = common::golden_dir("compare");
    for (format, file) in [
        (Format::Text, "compare.txt"),
        (Format::Md, "compare.md"),
        (Format::Json, "compare.json"),
        (Format::Csv, "compare.csv"),
    ] {
        common::check_golden(
            &dir,
            Path::new(file),
            comparison().render(format).as_bytes(),
        );
    }
}

#[test]
fn json_has_one_object_per_region_in_order() {
    let v: serde_json::Value = serde_json::from_str(&comparison().render(Format::Json)).unwrap();
    let regions = v["regions"].as_array().unwrap();
    assert_eq!(regions.len(), 2);
    assert_eq!(regions[0]["code"], "350781");
    assert_eq!(regions[1]["archetype"], "city_district");
    assert_eq!(regions[0]["readiness"].as_array().unwrap().len(), 4);
    assert_eq!(regions[1]["readiness_score"], 1);
}

#[test]
fn csv_rows_have_a_cell_per_region() {
    let out = comparison().render(Format::Csv);
    let mut r = csv::Reader::from_reader(out.as_bytes());
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        ["key", "metric", "350781", "350102"]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert!(rows.iter().all(|row| row.len() == 4));
    let one = rows.iter().find(|row| &row[0] == "one_number").unwrap();
    assert!(one[2].starts_with('✓') && one[3].starts_with('✗'));
}

#[test]
fn text_columns_align() {
    let out = comparison().render(Format::Text);
    // Display width: CJK and full-width characters take two columns.
    let w = |c: char| {
        if (c as u32) >= 0x1100 && c != '✓' && c != '✗' && c != '²' {
            2
        } else {
            1
        }
    };
    let first = out.lines().next().unwrap();
    assert!(first.starts_with("区域 Region"));
    let offset: usize = first[..first.find("邵武市").unwrap()].chars().map(w).sum();
    // Every row starts its first region cell at the same display column.
    for line in out.lines() {
        let mut col = 0;
        let mut rest = line;
        for (i, c) in line.char_indices() {
            if col == offset {
                rest = &line[i..];
                break;
            }
            col += w(c);
        }
        assert_eq!(col, offset, "row shorter than the label column: {line}");
        assert!(!rest.starts_with(' '), "misaligned: {line}");
        assert!(
            line[..line.len() - rest.len()].ends_with("  "),
            "misaligned: {line}"
        );
    }
}

#[test]
fn cli_compare_every_format() {
    let profile = common::small_profile();
    for format in ["text", "md", "json", "csv"] {
        let out = common::m110(args!["compare", profile, profile, "--format", format]);
        assert!(
            out.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.matches("350781").count() >= 2, "{format}: {text}");
    }
    let out = common::m110(args!["compare", profile, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["regions"][0]["readiness_score"], 3);
    assert_eq!(v["regions"][0]["routing_gaps"], 1);
}

#[test]
fn cli_compare_with_an_invalid_profile_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    let broken = common::broken_profile(tmp.path());
    let good = common::small_profile();
    let out = common::m110(args!["compare", good, broken]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.yaml:"));
}

//! `m110 init`, `m110 validate` and `m110 schema` as a user runs them (the real binary), plus the
//! example profiles and the committed JSON Schema.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use m110::profile::{load, raw::FILL_IN};

fn m110(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_m110"))
        .args(args)
        .output()
        .expect("run m110")
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Replaces each FILL_IN with a plausible value of the right kind.
fn fill(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.trim_start().starts_with('#') {
                return l.to_string();
            }
            l.replace("population: FILL_IN", "population: 250000")
                .replace("area_km2: FILL_IN", "area_km2: 1234.5")
                .replace("hotline: FILL_IN", "hotline: \"0599-6332345\"")
                .replace("name: FILL_IN", "name: 值班室")
                .replace("phone: FILL_IN", "phone: \"13900000000\"")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn init_and_check(code: &str, extra: &[&str], expect_tiers: usize) -> m110_runtime::model::Region {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(format!("{code}.yaml"));
    let mut args = vec!["init", "--division", code, "-o", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = m110(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();

    // As written, validate reports exactly the FILL_IN markers and nothing else.
    let v = m110(&["validate", out.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(1));
    let stdout = String::from_utf8(v.stdout).unwrap();
    let markers: usize = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| l.matches(FILL_IN).count())
        .sum();
    assert!(markers >= 2, "population and area at least");
    assert_eq!(stdout.lines().count(), markers, "{stdout}");
    assert!(
        stdout
            .lines()
            .all(|l| l.contains("待人工填写") && l.contains("(hint: ")),
        "{stdout}"
    );

    // Filled in, it loads, with no routing gaps.
    let filled = dir.path().join("filled.yaml");
    std::fs::write(&filled, fill(&text)).unwrap();
    let loaded = load(&filled).unwrap_or_else(|d| panic!("{d}"));
    let r = loaded.region;
    assert_eq!(r.info.code, code);
    assert_eq!(r.tiers.len(), expect_tiers);
    let table = m110_runtime::engine::routing::RoutingTable::new(&r);
    assert!(table.gaps(&r).is_empty(), "{:?}", table.gaps(&r));
    r
}

#[test]
fn init_fujian_county_has_villages_and_cells() {
    let r = init_and_check("350781", &[], 3);
    assert_eq!(r.info.name, "邵武市");
    assert_eq!(r.info.parents, vec!["福建省", "南平市"]);
    let per_tier: Vec<usize> = r.units_per_tier().iter().map(|(_, n)| *n).collect();
    assert_eq!(per_tier, vec![19, 181, 181 * 3]);
}

#[test]
fn init_in_five_more_provinces() {
    // Beijing, Guangdong, Sichuan, Zhejiang, Xinjiang: their embedded villages, then cells.
    for (code, name) in [
        ("110101", "东城区"),
        ("440305", "南山区"),
        ("510107", "武侯区"),
        ("330106", "西湖区"),
        ("650102", "天山区"),
    ] {
        let r = init_and_check(code, &[], 3);
        assert_eq!(r.info.name, name);
        assert!(r.grid_units.iter().any(|u| u.generated));
        let villages = r.grid_units.iter().filter(|u| u.tier == 2).count();
        assert_eq!(villages, embedded_village_count(code), "{code}");
    }
}

fn embedded_village_count(code: &str) -> usize {
    m110::divisions::embedded_villages(code)
        .unwrap()
        .values()
        .map(Vec::len)
        .sum()
}

/// One county of each of the 31 provinces (the first in code order) gets its real villages
/// and communities from the embedded data: the village tier is there, with exactly the
/// embedded rows of that county, and the profile loads. In-process for speed; the binary does
/// the same in `init_divisions.rs`.
#[test]
fn one_county_per_province_has_its_real_villages() {
    let d = m110::divisions::Divisions::embedded();
    let dir = tempfile::tempdir().unwrap();
    let mut provinces: Vec<&String> = d.provinces.keys().collect();
    provinces.sort();
    assert_eq!(provinces.len(), 31);
    for p in provinces {
        let area = d
            .area_list
            .iter()
            .find(|a| a.code.starts_with(p.as_str()))
            .unwrap();
        let villages = m110::divisions::embedded_villages(&area.code).unwrap();
        let expected = embedded_village_count(&area.code);
        assert!(expected > 0, "{} {}", area.code, area.name);
        let text = m110::profile::starter::starter(&area.code, Some(&villages)).unwrap();
        assert!(
            text.contains("{key: village, name: 村/社区}"),
            "{}",
            area.code
        );
        let path = dir.path().join("p.yaml");
        std::fs::write(&path, fill(&text)).unwrap();
        let r = load(&path)
            .unwrap_or_else(|e| panic!("{} {}: {e}", area.code, area.name))
            .region;
        assert_eq!(r.tiers.len(), 3, "{}", area.code);
        let got = r.grid_units.iter().filter(|u| u.tier == 2).count();
        assert_eq!(got, expected, "{} {}", area.code, area.name);
    }
}

#[test]
fn init_city_puts_districts_on_tier_one() {
    let r = init_and_check("350200", &[], 4);
    assert_eq!(r.info.archetype, m110_runtime::model::Archetype::City);
    assert_eq!(r.top_units().count(), 6);
}

#[test]
fn init_with_a_villages_csv() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("v.csv");
    std::fs::write(
        &csv,
        "code,name,streetCode,provinceCode,cityCode,areaCode\n330106002001,\"测试社区\",330106002,33,3301,330106\n330106002002,\"另一社区\",330106002,33,3301,330106\n",
    )
    .unwrap();
    let r = init_and_check("330106", &["--villages", csv.to_str().unwrap()], 3);
    let villages: Vec<_> = r.grid_units.iter().filter(|u| u.tier == 2).collect();
    assert_eq!(villages.len(), 2);
    assert_eq!(villages[0].parent.as_deref(), Some("330106002"));
}

#[test]
fn init_refuses_to_overwrite_and_unknown_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.yaml");
    std::fs::write(&out, "keep me").unwrap();
    let o = m110(&["init", "--division", "350781", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--force"));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep me");
    let o = m110(&[
        "init",
        "--division",
        "350781",
        "-o",
        out.to_str().unwrap(),
        "--force",
    ]);
    assert!(o.status.success());
    assert!(std::fs::read_to_string(&out).unwrap().contains("邵武市"));

    let o = m110(&[
        "init",
        "--division",
        "330106",
        "-o",
        dir.path().join("v.yaml").to_str().unwrap(),
        "--villages",
        dir.path().join("missing.csv").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not found"));
    assert!(!dir.path().join("v.yaml").exists());

    let bad = dir.path().join("bad.yaml");
    let o = m110(&["init", "--division", "999999", "-o", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown division code"));
    assert!(!bad.exists(), "nothing written");
}

#[test]
fn validate_exit_codes_and_format() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.yaml");
    std::fs::write(&p, "version: 2\n").unwrap();
    let o = m110(&["validate", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8(o.stdout).unwrap();
    let first = out.lines().next().unwrap();
    assert!(
        first.starts_with(&format!("{}:1:", p.display())) && first.contains("(hint: "),
        "{out}"
    );
    let shaowu = workspace().join("profiles/shaowu.yaml");
    let o = m110(&["validate", shaowu.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn example_profiles_validate_and_say_their_archetype() {
    let dir = workspace().join("profiles");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        n += 1;
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            text.starts_with("# yaml-language-server: $schema=../docs/profile.schema.json\n"),
            "{}",
            p.display()
        );
        let loaded = load(&p).unwrap_or_else(|d| panic!("{d}"));
        let arch = loaded.region.info.archetype.as_str();
        assert!(
            text.lines()
                .take(3)
                .any(|l| l.contains(&format!("archetype: {arch}"))),
            "{} must name its archetype ({arch}) in the header",
            p.display()
        );
        let table = m110_runtime::engine::routing::RoutingTable::new(&loaded.region);
        assert!(table.gaps(&loaded.region).is_empty(), "{}", p.display());
    }
    assert!(n >= 3);
}

#[test]
fn shaowu_example_matches_the_model() {
    let r = load(&workspace().join("profiles/shaowu.yaml"))
        .unwrap_or_else(|d| panic!("{d}"))
        .region;
    assert_eq!(r.info.population, 300_000);
    let per_tier: Vec<usize> = r.units_per_tier().iter().map(|(_, n)| *n).collect();
    assert_eq!(&per_tier[..2], &[19, 181]);
    use m110_runtime::model::PlatformKind::*;
    for kind in [PoliceDispatch, GridApp, CameraNetwork, GovPortal] {
        assert!(r.platforms.iter().any(|p| p.kind == kind), "{kind:?}");
    }
    let cams = r
        .platforms
        .iter()
        .find(|p| p.kind == CameraNetwork)
        .unwrap();
    assert_eq!(cams.cameras, Some(735));
    use m110_runtime::model::DirectorySystem;
    for s in DirectorySystem::ALL {
        assert!(r.directory.iter().any(|e| e.system == s), "{s:?}");
    }
    assert!(!r.households.is_empty());
}

#[test]
fn committed_schema_is_up_to_date() {
    let committed = std::fs::read_to_string(workspace().join("docs/profile.schema.json")).unwrap();
    let o = m110(&["schema"]);
    assert!(o.status.success());
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        committed,
        "run `m110 schema > docs/profile.schema.json`"
    );
    let v: serde_json::Value = serde_json::from_str(&committed).unwrap();
    assert_eq!(v["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(v["additionalProperties"], false);
}

/// Every one of the 2,978 counties/districts gets a starter profile with its embedded villages
/// that, once its FILL_IN markers are filled, loads without errors. Slow in debug builds (~1 min):
/// `cargo test -p m110 --release --test profile_init -- --ignored`.
#[test]
#[ignore]
fn every_county_and_district_inits_to_a_valid_profile() {
    let d = m110::divisions::Divisions::embedded();
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut no_villages = Vec::new();
    // Each province's villages read once (the areas come in code order), as init reads them.
    let mut province: Option<(String, m110::divisions::Villages)> = None;
    for area in &d.area_list {
        let p = &area.code[..2];
        if province.as_ref().is_none_or(|(code, _)| code != p) {
            let villages = m110::divisions::embedded_villages(&format!("{p}0000")).unwrap();
            province = Some((p.to_string(), villages));
        }
        let villages = &province.as_ref().unwrap().1;
        if !d
            .streets_of(&area.code)
            .iter()
            .any(|t| villages.contains_key(&t.code))
        {
            no_villages.push(format!("{} {}", area.code, area.name));
        }
        let text = match m110::profile::starter::starter(&area.code, Some(villages)) {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{}: {e}", area.code));
                continue;
            }
        };
        let p = dir.path().join("p.yaml");
        std::fs::write(&p, fill(&text)).unwrap();
        if let Err(e) = load(&p) {
            failures.push(format!("{} {}: {e}", area.code, area.name));
        }
    }
    assert_eq!(d.area_list.len(), 2978);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(no_villages.is_empty(), "{}", no_villages.join("\n"));
}

//! The default taxonomy's duty list against the starter of every archetype: every category of
//! `m110 init`'s profile, in every tier-1 unit, routes by a rule (never the catch-all) to the
//! unit whose functions hold its duty — 欠薪 to 人社, 停电 to the power company — and the
//! starter has no coverage warnings.

use std::path::Path;
use std::process::Command;

use m110::profile::duties::{CENTER_CATEGORIES, LOCAL_CATEGORIES};
use m110::profile::load;
use m110::profile::taxonomy::duties;
use m110_runtime::engine::routing::{RouteVia, RoutingTable};
use m110_runtime::model::{Archetype, Region};

/// Replaces each FILL_IN with a plausible value of the right kind.
fn fill(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.trim_start().starts_with('#') {
                return l.to_string();
            }
            l.replace("population: FILL_IN", "population: 650000")
                .replace("area_km2: FILL_IN", "area_km2: 1116.0")
                .replace("hotline: FILL_IN", "hotline: \"0371-2345678\"")
                .replace("name: FILL_IN", "name: 值班室")
                .replace("phone: FILL_IN", "phone: \"13900000000\"")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn init(dir: &Path, code: &str) -> (Region, usize) {
    let out = dir.join(format!("{code}.yaml"));
    let o = Command::new(env!("CARGO_BIN_EXE_m110"))
        .args(["init", "--division", code, "-o", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let filled = dir.join(format!("{code}-filled.yaml"));
    std::fs::write(&filled, fill(&std::fs::read_to_string(&out).unwrap())).unwrap();
    let loaded = load(&filled).unwrap_or_else(|d| panic!("{d}"));
    let warnings: Vec<String> = loaded.warnings.iter().map(|w| w.warning_line()).collect();
    assert!(warnings.is_empty(), "{code}: {}", warnings.join("\n"));
    (loaded.region, loaded.warnings.len())
}

/// The unit a category should reach from tier-1 unit `top`, by the duty list.
fn expected(region: &Region, code: &str, top: &str) -> String {
    let duty = duties()
        .into_iter()
        .find(|d| d.code == code)
        .expect("default");
    if let Some(u) = region.units.iter().find(|u| {
        u.functions
            .iter()
            .any(|f| duty.functions.contains(&f.as_str()))
    }) {
        return u.id.clone();
    }
    match code.rsplit_once('.') {
        Some((parent, _)) => expected(region, parent, top),
        None if CENTER_CATEGORIES.contains(&code) => "center".into(),
        None if LOCAL_CATEGORIES.contains(&code) => format!("gov-{top}"),
        None => panic!("{code}: a 大类 without a duty must be the center's or local"),
    }
}

#[test]
fn every_category_routes_to_its_duty_unit_in_every_archetype() {
    let dir = tempfile::tempdir().unwrap();
    // A county in Henan, a district of Beijing, a prefecture-level city in Fujian.
    for (code, archetype) in [
        ("410225", Archetype::County),
        ("110105", Archetype::CityDistrict),
        ("350200", Archetype::City),
    ] {
        let (region, _) = init(dir.path(), code);
        assert_eq!(region.info.archetype, archetype, "{code}");
        let table = RoutingTable::new(&region);
        let tops: Vec<&str> = region.top_units().map(|t| t.code.as_str()).collect();
        assert!(!tops.is_empty());
        let mut checked = 0;
        for c in region.categories.iter().filter(|c| !c.police) {
            for top in &tops {
                let route = table.resolve(&c.code, Some(top));
                assert_ne!(route.via, RouteVia::Fallback, "{code}: {} in {top}", c.code);
                assert_eq!(
                    route.unit,
                    expected(&region, &c.code, top),
                    "{code}: {} in {top}",
                    c.code
                );
                checked += 1;
            }
        }
        // The list, by name.
        let top = tops[0];
        for (cat, unit) in [
            ("disputes.labour.wage_arrears", "human-resources"),
            ("public_facilities.utilities.power", "power-supply"),
            ("public_facilities.utilities.water", "water-supply"),
            ("market.food", "market-regulation"),
            ("health.medical", "health"),
            ("disputes.legal_aid", "justice"),
        ] {
            assert_eq!(table.resolve(cat, Some(top)).unit, unit, "{code}: {cat}");
        }
        assert!(checked >= 40 * tops.len(), "{code}: {checked}");
    }
}

#[test]
fn a_trimmed_branch_takes_its_children_and_coverage_speaks_up() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.yaml");
    let o = Command::new(env!("CARGO_BIN_EXE_m110"))
        .args(["init", "--division", "410225", "-o", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success());
    let mut text = fill(&std::fs::read_to_string(&out).unwrap());
    // Trim 市场监管 (and with it its 小类); drop the rule that sent 欠薪's branch to 人社.
    text = text.replace(
        "\nrouting:",
        "\ncategories:\n  - {code: market, disabled: true}\n\nrouting:",
    );
    text = text.replace("[market, housing.elevator]", "[housing.elevator]");
    let hr_rule = text
        .lines()
        .find(|l| l.contains("unit: human-resources}"))
        .unwrap()
        .to_string();
    text = text.replace(&format!("{hr_rule}\n"), "");
    // And add a region-wide rule every township's own rule shadows.
    text = text.replace(
        "  escalation:",
        "    - {category: disputes, unit: justice}\n  escalation:",
    );
    std::fs::write(&out, &text).unwrap();
    let loaded = load(&out).unwrap_or_else(|d| panic!("{d}"));
    let r = &loaded.region;
    assert!(!r.categories.iter().any(|c| c.code.starts_with("market")));
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let w: Vec<String> = loaded.warnings.iter().map(|w| w.warning_line()).collect();
    let joined = w.join("\n");
    // 人社 now receives nothing: warned at its unit entry.
    let hr = loaded
        .warnings
        .iter()
        .find(|d| d.message.contains("`human-resources`"))
        .unwrap_or_else(|| panic!("{joined}"));
    assert_eq!(hr.line, line_of("id: human-resources"), "{joined}");
    assert!(hr.message.contains("can never receive a case"), "{joined}");
    // The shadowed region-wide disputes rule, at its line.
    let shadow = loaded
        .warnings
        .iter()
        .find(|d| d.message.contains("shadowed"))
        .unwrap_or_else(|| panic!("{joined}"));
    assert_eq!(
        shadow.line,
        line_of("{category: disputes, unit: justice}"),
        "{joined}"
    );
    // 欠薪 still reaches a rule (its 大类 disputes, by township): not a catch-all warning.
    assert!(!joined.contains("wage_arrears"), "{joined}");
    // m110 validate prints them and still passes.
    let v = Command::new(env!("CARGO_BIN_EXE_m110"))
        .args(["validate", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(v.status.success());
    let stdout = String::from_utf8(v.stdout).unwrap();
    assert_eq!(
        stdout.matches(": warning 警告: ").count(),
        loaded.warnings.len(),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("p.yaml:{}:", shadow.line)),
        "{stdout}"
    );
}

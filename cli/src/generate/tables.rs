//! The CSV artifacts: the routing table and one directory file per data system. Written with the
//! `csv` crate so quoting is always right, in UTF-8 with a byte-order mark (Excel, WPS); the
//! vulnerable-household registry is personal data and only its counts per grid cell and kind
//! are exported.

use std::collections::{BTreeMap, HashMap, HashSet};

use m110_runtime::model::{DirectorySystem, HandlingUnit, HouseholdKind, Region};

use super::GenerateError;
use super::context::{RouteRow, household_kind_zh, system_of_unit};

fn csv_bytes(
    name: &str,
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<Vec<u8>, GenerateError> {
    let err = |source| GenerateError::Csv {
        name: name.into(),
        source,
    };
    // People open these in Excel or WPS, which read UTF-8 without a byte-order mark as the
    // local code page (Chinese becomes mojibake); the runtime's exports start the same way.
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::from(crate::table::BOM.as_bytes()));
    w.write_record(header).map_err(err)?;
    for row in rows {
        w.write_record(&row).map_err(err)?;
    }
    w.into_inner().map_err(|e| GenerateError::Csv {
        name: name.into(),
        source: e.into_error().into(),
    })
}

pub(super) fn routing_csv(routes: &[RouteRow]) -> Result<Vec<u8>, GenerateError> {
    csv_bytes(
        "routing.csv",
        &[
            "grid",
            "grid_name",
            "category",
            "category_name",
            "unit",
            "unit_name",
            "via",
            "gap",
        ],
        routes.iter().map(|r| {
            vec![
                r.grid.clone(),
                r.grid_name.clone(),
                r.category.clone(),
                r.category_name.clone(),
                r.unit.clone(),
                r.unit_name.clone(),
                r.via.clone(),
                if r.gap { "yes" } else { "no" }.into(),
            ]
        }),
    )
}

const DIRECTORY_HEADER: [&str; 11] = [
    "source",
    "id",
    "name",
    "kind",
    "category",
    "phone",
    "address",
    "grid",
    "description",
    "qualification",
    "unit",
];

/// One CSV per directory data system, plus the household summary (counts only: the registry is
/// personal data and is never exported in plain text).
pub(super) fn directory_csvs(region: &Region) -> Result<Vec<(String, Vec<u8>)>, GenerateError> {
    let mut out = Vec::new();
    for system in DirectorySystem::ALL {
        let name = format!("{}.csv", system.as_str());
        let in_system: Vec<&HandlingUnit> = region
            .units
            .iter()
            .filter(|u| system_of_unit(u.kind) == Some(system))
            .collect();
        let described = |u: &HandlingUnit| {
            let mut d = u.functions.clone();
            d.extend(u.service_categories.iter().cloned());
            d.join(";")
        };
        // A directory entry that names one of these units describes the same body: print one
        // merged row (the entry's fields, blanks filled from the unit) instead of two.
        let linked: HashSet<&str> = region
            .directory
            .iter()
            .filter(|e| e.system == system)
            .filter_map(|e| e.unit.as_deref())
            .collect();
        let units = in_system
            .iter()
            .filter(|u| !linked.contains(u.id.as_str()))
            .map(|u| {
                vec![
                    "unit".into(),
                    u.id.clone(),
                    u.name.clone(),
                    u.kind.as_str().into(),
                    String::new(),
                    u.hotline.clone().unwrap_or_default(),
                    u.address.clone().unwrap_or_default(),
                    u.scope.join(";"),
                    described(u),
                    u.qualification.clone().unwrap_or_default(),
                    u.id.clone(),
                ]
            });
        let entries = region
            .directory
            .iter()
            .filter(|e| e.system == system)
            .map(|e| {
                let unit = e
                    .unit
                    .as_deref()
                    .and_then(|id| in_system.iter().find(|u| u.id == id));
                let or_unit = |v: &Option<String>, f: &dyn Fn(&HandlingUnit) -> String| {
                    v.clone()
                        .filter(|s| !s.is_empty())
                        .or_else(|| unit.map(|u| f(u)))
                        .unwrap_or_default()
                };
                vec![
                    if unit.is_some() {
                        "directory+unit"
                    } else {
                        "directory"
                    }
                    .into(),
                    unit.map(|u| u.id.clone()).unwrap_or_default(),
                    e.name.clone(),
                    unit.map(|u| u.kind.as_str())
                        .unwrap_or(system.as_str())
                        .into(),
                    e.category.clone().unwrap_or_default(),
                    or_unit(&e.phone, &|u| u.hotline.clone().unwrap_or_default()),
                    or_unit(&e.address, &|u| u.address.clone().unwrap_or_default()),
                    or_unit(&e.grid, &|u| u.scope.join(";")),
                    or_unit(&e.description, &described),
                    or_unit(&e.qualification, &|u| {
                        u.qualification.clone().unwrap_or_default()
                    }),
                    e.unit.clone().unwrap_or_default(),
                ]
            });
        let bytes = csv_bytes(&name, &DIRECTORY_HEADER, units.chain(entries))?;
        out.push((name, bytes));
    }

    // (grid, kind) → (households, members), sorted by grid code then kind order.
    let kind_rank = |k: HouseholdKind| HouseholdKind::ALL.iter().position(|x| *x == k);
    let mut counts: BTreeMap<(String, Option<usize>), (HouseholdKind, u64, u64)> = BTreeMap::new();
    for h in &region.households {
        let e = counts
            .entry((h.grid.clone().unwrap_or_default(), kind_rank(h.kind)))
            .or_insert((h.kind, 0, 0));
        e.1 += 1;
        e.2 += u64::from(h.members.unwrap_or(1));
    }
    let grid_names: HashMap<&str, &str> = region
        .grid_units
        .iter()
        .map(|g| (g.code.as_str(), g.name.as_str()))
        .collect();
    let name = "vulnerable_households_summary.csv".to_string();
    let bytes = csv_bytes(
        &name,
        &[
            "grid",
            "grid_name",
            "kind",
            "kind_name",
            "households",
            "members",
        ],
        counts.into_iter().map(|((grid, _), (kind, n, members))| {
            vec![
                grid.clone(),
                grid_names.get(grid.as_str()).copied().unwrap_or("").into(),
                kind.as_str().into(),
                household_kind_zh(kind).into(),
                n.to_string(),
                members.to_string(),
            ]
        }),
    )?;
    out.push((name, bytes));
    Ok(out)
}

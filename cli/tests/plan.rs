//! `plan`: golden text and JSON for the fixture region.

mod common;

use std::path::Path;

use common::fixture;

#[test]
fn text_and_json_match_goldens() {
    let plan = m110::plan::build(&fixture::region()).unwrap();
    let dir = common::golden_dir("plan");
    common::check_golden(&dir, Path::new("plan.txt"), plan.to_text().as_bytes());
    common::check_golden(&dir, Path::new("plan.json"), plan.to_json().as_bytes());
}

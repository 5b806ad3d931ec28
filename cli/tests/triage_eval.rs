//! The kit's triage on its held-out evaluation set (`tests/data/triage-eval.csv`), held to the
//! floors of the triage issue, plus the requests quoted in it.

use m110::profile::taxonomy::default_categories;
use m110::triage_eval::evaluate;
use m110_runtime::engine::triage::{Triage, bank};

fn triage() -> Triage {
    Triage::new(&default_categories(), &[])
}

#[test]
fn the_evaluation_set_meets_the_floors() {
    let data = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/triage-eval.csv"
    ))
    .unwrap();
    let rows = bank::parse(&data).unwrap();
    assert!(rows.len() >= 400);
    assert!(rows.iter().filter(|r| r.emergency.is_some()).count() >= 80);
    // Held apart: no request of the evaluation set is in the training bank.
    let trained: std::collections::HashSet<String> =
        bank::rows().into_iter().map(|r| r.text).collect();
    assert!(rows.iter().all(|r| !trained.contains(&r.text)));

    let t = triage();
    let r = evaluate(&t, &rows);
    let report = r.render(true);
    assert!(r.emergency_recall >= 0.99, "{report}");
    assert!(r.emergency_precision >= 0.9, "{report}");
    for (line, s) in &r.lines {
        assert!(s.recall >= 0.95, "{line}: {report}");
    }
    assert!(r.accuracy >= 0.85, "{report}");
    assert!(r.macro_f1 >= 0.8, "{report}");
}

#[test]
fn the_requests_quoted_in_the_issue() {
    let t = triage();
    for (text, line) in [
        ("邻居两口子吵架，男的拿着菜刀追着打人", "110"),
        ("河里有人落水", "119"),
        ("孩子走丢了", "110"),
        ("有人偷我电动车", "110"),
        ("煤气泄漏", "119"),
    ] {
        let c = t.classify(text);
        assert_eq!(
            c.emergency.as_ref().map(|e| e.line.as_str()),
            Some(line),
            "{text}: {c:?}"
        );
    }
    for (text, category) in [
        ("不是着火，是邻居在楼下烧烤", "environment"),
        ("上次被偷过，想在楼道装个监控", "housing"),
        ("想咨询防诈骗讲座什么时候办", "consultation"),
        ("我家的狗走丢了", "other"),
    ] {
        let c = t.classify(text);
        assert!(c.emergency.is_none(), "{text}: {c:?}");
        assert_eq!(
            c.suggestions.first().map(|s| s.category.as_str()),
            Some(category),
            "{text}: {c:?}"
        );
    }
    // Scores are probabilities, not a constant 1.0.
    let c = t.classify("我家门口的路灯坏了");
    assert!(c.confidence > 0.45 && c.confidence < 1.0, "{c:?}");
    assert!(c.suggestions.len() == 3, "{c:?}");
}

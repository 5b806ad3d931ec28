/*!
Unit scorecards (考核): per handling unit, the 12345 platforms' monthly rates — 按时签收率,
按时办结率, 退单率, 回访率, 满意率, 重办率 — and a weighted score with a rank, computed from the case
timelines. The formulas are in `docs/scorecards.md`; in short:

- an **assignment** is a dispatch of a case to a unit (派单, 改派, an upgrade's re-route); it
  belongs to the period its dispatch falls in, and everything that happens to it counts there;
- `sign_on_time_rate` = assignments signed by their sign deadline ÷ assignments signed, or left
  unsigned past their deadline (also when the case was re-dispatched away or returned after
  the deadline: 改派 counts against the first unit, as the 12345 rules do);
- `close_on_time_rate` = replies by the close deadline (a granted extension moves it) ÷ replies,
  or signed assignments left unreplied past it;
- `return_rate` = returns ÷ assignments; `follow_up_rate` = follow-ups ÷ replies;
  `satisfaction_rate` = (satisfied + mostly satisfied) ÷ follow-ups with an outcome;
  `redo_rate` = redos after an unsatisfied follow-up ÷ follow-ups;
- each rate is in [0, 1], or `None` when its denominator is 0; `score` = 100 × the profile's
  `appraisal` weights over the rates present (the return and redo rates count as 1 − rate),
  normalized by the weights present; units ranked by score.

[`compute`] is pure: the store hands over the timelines ([`ScoreEvent`]), it folds them.
[`for_period`] reads a period's timelines and folds them for the region's handling units (every
unit but the center and the police line); [`trend`] does so for consecutive months.
*/

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::region::RegionIndex;
use crate::model::time::now_ms;
use crate::model::{Appraisal, UnitKind};
pub use crate::store::scorecards::ScoreEvent;
use crate::store::{Store, StoreError};

/// The counts behind a unit's rates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub assigned: u64,
    pub signed_on_time: u64,
    pub sign_decided: u64,
    pub replied_on_time: u64,
    pub close_decided: u64,
    pub returned: u64,
    pub replied: u64,
    pub followed_up: u64,
    pub with_outcome: u64,
    pub satisfied: u64,
    pub redone: u64,
}

/// One unit's card.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    pub unit_id: String,
    pub counts: Counts,
    pub sign_on_time_rate: Option<f64>,
    pub close_on_time_rate: Option<f64>,
    pub return_rate: Option<f64>,
    pub follow_up_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    pub redo_rate: Option<f64>,
    pub score: Option<f64>,
    pub rank: Option<u32>,
}

struct Assignment {
    unit: String,
    in_period: bool,
    sign_due: Option<i64>,
    close_due: Option<i64>,
    signed: bool,
    replied: bool,
}

fn due(detail: &Value, key: &str) -> Option<i64> {
    detail[key]
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.timestamp_millis())
}

fn rate(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Scorecards of `units` for assignments dispatched in `[from, to)`, deadlines judged as of
/// `now`; `events` ordered by case, then timeline order.
pub fn compute(
    events: &[ScoreEvent],
    units: &[String],
    from: i64,
    to: i64,
    now: i64,
    weights: &Appraisal,
) -> Vec<Scorecard> {
    let mut counts: BTreeMap<String, Counts> = units
        .iter()
        .map(|u| (u.clone(), Counts::default()))
        .collect();
    let mut cur: Option<Assignment> = None;
    // The assignment that replied last: follow-ups and redos are its outcome.
    let mut replier: Option<(String, bool)> = None;
    let mut case = None;
    // Ends an assignment at `end`: what was left undone past its deadline counts as late.
    let close = |a: Assignment, end: i64, counts: &mut BTreeMap<String, Counts>| {
        if !a.in_period {
            return;
        }
        let Some(c) = counts.get_mut(&a.unit) else {
            return;
        };
        if !a.signed && a.sign_due.is_some_and(|d| d < end) {
            c.sign_decided += 1;
        }
        if a.signed && !a.replied && a.close_due.is_some_and(|d| d < end) {
            c.close_decided += 1;
        }
    };
    for e in events {
        if case != Some(e.case_id) {
            if let Some(a) = cur.take() {
                close(a, now, &mut counts);
            }
            replier = None;
            case = Some(e.case_id);
        }
        match e.kind.as_str() {
            "dispatched" | "redispatched" | "rerouted" => {
                let Some(unit) = e.unit_id.clone() else {
                    continue;
                };
                let prev = cur.take();
                let (sign_due, close_due) = (
                    due(&e.detail, "sign_due").or(prev.as_ref().and_then(|p| p.sign_due)),
                    due(&e.detail, "close_due").or(prev.as_ref().and_then(|p| p.close_due)),
                );
                if let Some(p) = prev {
                    close(p, e.at, &mut counts);
                }
                let in_period = (from..to).contains(&e.at);
                if in_period && let Some(c) = counts.get_mut(&unit) {
                    c.assigned += 1;
                }
                cur = Some(Assignment {
                    unit,
                    in_period,
                    sign_due,
                    close_due,
                    signed: false,
                    replied: false,
                });
            }
            "signed" => {
                if let Some(a) = cur.as_mut().filter(|a| !a.signed) {
                    a.signed = true;
                    if a.in_period
                        && let Some(c) = counts.get_mut(&a.unit)
                    {
                        c.sign_decided += 1;
                        if a.sign_due.is_none_or(|d| e.at <= d) {
                            c.signed_on_time += 1;
                        }
                    }
                }
            }
            "extension_granted" => {
                if let Some(a) = cur.as_mut()
                    && let Some(d) = due(&e.detail, "close_due")
                {
                    a.close_due = Some(d);
                }
            }
            "replied" => {
                if let Some(a) = cur.as_mut() {
                    a.replied = true;
                    // A reply without 签收 first still signs the assignment for the count.
                    a.signed = true;
                    if a.in_period
                        && let Some(c) = counts.get_mut(&a.unit)
                    {
                        c.replied += 1;
                        c.close_decided += 1;
                        if a.close_due.is_none_or(|d| e.at <= d) {
                            c.replied_on_time += 1;
                        }
                    }
                    replier = Some((a.unit.clone(), a.in_period));
                }
            }
            // 一事多诉: a repeat merged into another case leaves the unit (its parent is the
            // unit's work); what was late by then stays late, nothing is counted as returned.
            "merged" => {
                if let Some(a) = cur.take() {
                    close(a, e.at, &mut counts);
                }
            }
            "returned" => {
                if let Some(a) = cur.take() {
                    if a.in_period
                        && let Some(c) = counts.get_mut(&a.unit)
                    {
                        c.returned += 1;
                    }
                    close(a, e.at, &mut counts);
                }
            }
            "followed_up" => {
                if let Some((u, true)) = &replier
                    && let Some(c) = counts.get_mut(u)
                {
                    c.followed_up += 1;
                    match e.detail["satisfaction"].as_str() {
                        Some("satisfied" | "mostly_satisfied") => {
                            c.with_outcome += 1;
                            c.satisfied += 1;
                        }
                        Some(_) => c.with_outcome += 1,
                        None => {}
                    }
                }
            }
            // An unsatisfied 回访 is one `redo` event: the follow-up's outcome, the redo, and
            // the same assignment worked again with fresh deadlines (sign, then reply).
            "redo" => {
                if let Some((u, true)) = &replier
                    && let Some(c) = counts.get_mut(u)
                {
                    c.followed_up += 1;
                    c.with_outcome += 1;
                    c.redone += 1;
                }
                if let Some(a) = cur.as_mut() {
                    a.signed = false;
                    a.replied = false;
                    a.sign_due = due(&e.detail, "sign_due").or(a.sign_due);
                    a.close_due = due(&e.detail, "close_due").or(a.close_due);
                }
            }
            _ => {}
        }
    }
    if let Some(a) = cur.take() {
        close(a, now, &mut counts);
    }
    let mut cards: Vec<Scorecard> = counts
        .into_iter()
        .map(|(unit_id, c)| {
            let sign = rate(c.signed_on_time, c.sign_decided);
            let close = rate(c.replied_on_time, c.close_decided);
            let ret = rate(c.returned, c.assigned);
            let fu = rate(c.followed_up, c.replied);
            let sat = rate(c.satisfied, c.with_outcome);
            let redo = rate(c.redone, c.followed_up);
            let parts = [
                (sign, weights.on_time_sign),
                (close, weights.on_time_close),
                (sat, weights.satisfaction),
                (fu, weights.follow_up),
                (ret.map(|r| 1.0 - r), weights.return_rate),
                (redo.map(|r| 1.0 - r), weights.repeat_rate),
            ];
            let wsum: f64 = parts
                .iter()
                .filter(|(r, _)| r.is_some())
                .map(|(_, w)| w)
                .sum();
            let score = (c.assigned > 0 && wsum > 0.0).then(|| {
                let s: f64 = parts.iter().filter_map(|(r, w)| r.map(|r| r * w)).sum();
                (s / wsum * 1000.0).round() / 10.0
            });
            Scorecard {
                unit_id,
                counts: c,
                sign_on_time_rate: sign,
                close_on_time_rate: close,
                return_rate: ret,
                follow_up_rate: fu,
                satisfaction_rate: sat,
                redo_rate: redo,
                score,
                rank: None,
            }
        })
        .collect();
    // Best first; units without a score after the ranked ones, by id.
    cards.sort_by(|a, b| {
        b.score
            .unwrap_or(-1.0)
            .total_cmp(&a.score.unwrap_or(-1.0))
            .then_with(|| a.unit_id.cmp(&b.unit_id))
    });
    let mut rank = 0;
    for c in cards.iter_mut().filter(|c| c.score.is_some()) {
        rank += 1;
        c.rank = Some(rank);
    }
    cards
}

/// The handling units a scorecard ranks: every unit but the center and the police line.
pub fn ranked_units(region: &RegionIndex) -> Vec<String> {
    region
        .units
        .iter()
        .filter(|u| !matches!(u.kind, UnitKind::Center | UnitKind::Police))
        .map(|u| u.id.clone())
        .collect()
}

/// The region's cards for assignments dispatched in `[from, to)`, deadlines judged as of now.
pub async fn for_period(
    store: &Store,
    region: &RegionIndex,
    from: i64,
    to: i64,
) -> Result<Vec<Scorecard>, StoreError> {
    let events = store.scorecard_events(from, to).await?;
    Ok(compute(
        &events,
        &ranked_units(region),
        from,
        to,
        now_ms(),
        &region.appraisal,
    ))
}

/// One month of a unit's trend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    pub month: String,
    pub assigned: u64,
    pub score: Option<f64>,
    pub rank: Option<u32>,
}

/// Each unit's score and rank over `months` months ending with `last` (`YYYY-MM`), oldest
/// first; unit id → points. `None` when `last` is not a month.
pub async fn trend(
    store: &Store,
    region: &RegionIndex,
    last: &str,
    months: u32,
) -> Result<Option<BTreeMap<String, Vec<TrendPoint>>>, StoreError> {
    let Some((last_from, _)) = super::analytics::month_bounds(last) else {
        return Ok(None);
    };
    let first = crate::model::time::shanghai(last_from).date_naive();
    let mut out: BTreeMap<String, Vec<TrendPoint>> = BTreeMap::new();
    for back in (0..months).rev() {
        let Some(d) = first.checked_sub_months(chrono::Months::new(back)) else {
            continue;
        };
        let month = d.format("%Y-%m").to_string();
        let Some((from, to)) = super::analytics::month_bounds(&month) else {
            continue;
        };
        for card in for_period(store, region, from, to).await? {
            out.entry(card.unit_id.clone())
                .or_default()
                .push(TrendPoint {
                    month: month.clone(),
                    assigned: card.counts.assigned,
                    score: card.score,
                    rank: card.rank,
                });
        }
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const H: i64 = 3_600_000;

    fn ev(case: i64, kind: &str, unit: Option<&str>, at: i64, detail: Value) -> ScoreEvent {
        ScoreEvent {
            case_id: case,
            kind: kind.into(),
            unit_id: unit.map(String::from),
            at,
            detail,
        }
    }

    fn t(ms: i64) -> String {
        crate::model::time::render_time(ms)
    }

    fn dispatch(case: i64, kind: &str, unit: &str, at: i64) -> ScoreEvent {
        // Sign within 1 h, close within 24 h.
        ev(
            case,
            kind,
            Some(unit),
            at,
            json!({"sign_due": t(at + H), "close_due": t(at + 24 * H)}),
        )
    }

    /// A hand-worked table: unit A gets 3 assignments, B gets 2.
    #[test]
    fn rates_by_hand() {
        let base = 1_000 * H;
        let events = vec![
            // Case 1 → A: signed on time, replied on time, followed up satisfied.
            dispatch(1, "dispatched", "a", base),
            ev(1, "signed", Some("a"), base + H / 2, json!({})),
            ev(1, "replied", Some("a"), base + 10 * H, json!({})),
            ev(
                1,
                "followed_up",
                None,
                base + 11 * H,
                json!({"satisfaction": "satisfied"}),
            ),
            // Case 2 → A: signed late, replied after 24 h but within the extension to 30 h,
            // followed up unsatisfied (重办: fresh deadlines), signed and replied on time again.
            dispatch(2, "dispatched", "a", base),
            ev(2, "signed", Some("a"), base + 2 * H, json!({})),
            ev(
                2,
                "extension_granted",
                Some("a"),
                base + 3 * H,
                json!({"close_due": t(base + 30 * H)}),
            ),
            ev(2, "replied", Some("a"), base + 28 * H, json!({})),
            ev(
                2,
                "redo",
                Some("a"),
                base + 29 * H,
                json!({
                    "satisfaction": "unsatisfied", "sign_due": t(base + 30 * H), "close_due": t(base + 53 * H),
                }),
            ),
            ev(2, "signed", Some("a"), base + 29 * H + H / 2, json!({})),
            ev(2, "replied", Some("a"), base + 40 * H, json!({})),
            // Case 3 → A, never signed, re-dispatched to B after A's deadline: late for A;
            // B signs on time and returns it.
            dispatch(3, "dispatched", "a", base),
            dispatch(3, "redispatched", "b", base + 2 * H),
            ev(3, "signed", Some("b"), base + 2 * H + 1, json!({})),
            ev(3, "returned", Some("b"), base + 3 * H, json!({})),
            // Case 4 → B before the period: not counted.
            dispatch(4, "dispatched", "b", base - 48 * H),
            ev(4, "signed", Some("b"), base - 47 * H, json!({})),
        ];
        let cards = compute(
            &events,
            &["a".into(), "b".into(), "c".into()],
            base,
            base + 100 * H,
            base + 100 * H,
            &Appraisal::default(),
        );
        let a = cards.iter().find(|c| c.unit_id == "a").unwrap();
        assert_eq!(a.counts.assigned, 3);
        // Signs: case 1 on time, case 2 late then on time after the redo, case 3 never (past
        // its deadline when re-dispatched away) → 2/4.
        assert_eq!(a.sign_on_time_rate, Some(0.5));
        // Replies: case 1, case 2 (within its extension), case 2 again → 3/3.
        assert_eq!(a.close_on_time_rate, Some(1.0));
        assert_eq!(a.return_rate, Some(0.0));
        // Follow-ups: case 1 (satisfied) and case 2 (unsatisfied, the redo) of 3 replies.
        assert_eq!(a.follow_up_rate, Some(2.0 / 3.0));
        assert_eq!(a.satisfaction_rate, Some(0.5));
        assert_eq!(a.redo_rate, Some(0.5));
        let b = cards.iter().find(|c| c.unit_id == "b").unwrap();
        assert_eq!(b.counts.assigned, 1, "case 4 was before the period");
        assert_eq!(b.sign_on_time_rate, Some(1.0));
        assert_eq!(b.return_rate, Some(1.0));
        assert_eq!(b.follow_up_rate, None, "no replies: no denominator");
        let c = cards.iter().find(|c| c.unit_id == "c").unwrap();
        assert_eq!((c.score, c.rank), (None, None));
        // A: .5·.15 + 1·.30 + .5·.30 + ⅔·.05 + 1·.10 + .5·.10 = 0.7083 → 70.8.
        assert_eq!(a.score, Some(70.8));
        // B: (1·.15 + 0·.10) / .25 = 0.6 → 60.0.
        assert_eq!(b.score, Some(60.0));
        assert_eq!((a.rank, b.rank), (Some(1), Some(2)));
    }

    #[test]
    fn an_open_assignment_past_its_deadlines_is_late() {
        let base = 1_000 * H;
        let events = vec![
            dispatch(1, "dispatched", "a", base),
            dispatch(2, "dispatched", "a", base),
            ev(2, "signed", Some("a"), base + H / 4, json!({})),
        ];
        let cards = compute(
            &events,
            &["a".into()],
            base,
            base + H,
            base + 48 * H,
            &Appraisal::default(),
        );
        // Case 1 unsigned past 1 h: late; case 2 signed on time but not replied past 24 h.
        assert_eq!(cards[0].sign_on_time_rate, Some(0.5));
        assert_eq!(cards[0].close_on_time_rate, Some(0.0));
    }
}

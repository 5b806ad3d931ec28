//! The cost of offering a case to a provider, and the providers in cost order.

use serde::Serialize;

use super::{Need, Provider, Rules, Travel, eligibility};

/// A provider that fits a need, with its cost and what it is made of.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub unit: String,
    /// Index of the provider in the slice ranked.
    #[serde(skip)]
    pub index: usize,
    /// Lower is better, kilometres-equivalent.
    pub cost: f64,
    pub distance_km: f64,
    /// The rating it was ranked with (its mean, or `Rules::unrated`).
    pub rating: f64,
    pub load: u32,
    /// Time since its last offer or assignment, capped at the fairness horizon.
    pub waited_ms: i64,
}

/// The cost of offering `need` to `p` (which must fit it).
pub fn candidate(
    p: &Provider,
    index: usize,
    need: &Need,
    rules: &Rules,
    now: i64,
    travel: &dyn Travel,
) -> Candidate {
    let distance_km = match (need.location, p.location) {
        (Some(a), Some(b)) => travel.cost_km(b, a),
        _ => rules.unknown_km,
    };
    let rating = p.rating.unwrap_or(rules.unrated).clamp(1.0, 5.0);
    let horizon = rules.fairness_horizon_ms.max(1);
    let waited_ms = p
        .last_offer_ms
        .map_or(horizon, |t| (now - t).clamp(0, horizon));
    let cost = rules.per_km * distance_km
        + rules.per_rating_point * (5.0 - rating)
        + rules.per_open_case * f64::from(p.load)
        + rules.fairness * (1.0 - waited_ms as f64 / horizon as f64);
    Candidate {
        unit: p.unit.clone(),
        index,
        cost,
        distance_km,
        rating,
        load: p.load,
        waited_ms,
    }
}

/// Every provider that fits `need`, cheapest first (ties by unit id, so the order is stable).
pub fn rank(
    need: &Need,
    providers: &[Provider],
    rules: &Rules,
    now: i64,
    travel: &dyn Travel,
) -> Vec<Candidate> {
    let mut v: Vec<Candidate> = providers
        .iter()
        .enumerate()
        .filter(|(_, p)| eligibility(p, need, rules, now).is_ok())
        .map(|(i, p)| candidate(p, i, need, rules, now, travel))
        .collect();
    v.sort_by(|a, b| a.cost.total_cmp(&b.cost).then_with(|| a.unit.cmp(&b.unit)));
    v
}

/// The `rules.k` cheapest providers that fit `need`: one round of offers.
pub fn top_k(
    need: &Need,
    providers: &[Provider],
    rules: &Rules,
    now: i64,
    travel: &dyn Travel,
) -> Vec<Candidate> {
    let mut v = rank(need, providers, rules, now, travel);
    v.truncate(rules.k);
    v
}

/*!
Several open offers assigned together. When many cases wait at once (a morning's repair calls, a
storm), offering each its own nearest providers one after another hands the first case the
provider the next one needed most; [`assign`] instead minimises the total cost of the whole
batch with the Hungarian algorithm (`pathfinding::kuhn_munkres`), each provider offered at most
one case of the batch (as a ride-hailing driver gets one request at a time).

Each need takes `k` rows (its offer slots); columns are the providers that fit at least one need,
plus one "nobody" column per row so a need with too few providers is left short rather than given
one that does not fit. Costs are integers (metres-equivalent); "nobody" costs more than any real
offer, so the matching first offers as many slots as possible, then the cheapest.
*/

use std::collections::HashMap;

use pathfinding::kuhn_munkres::kuhn_munkres;
use pathfinding::matrix::Matrix;

use super::rank::{Candidate, rank};
use super::{Need, Provider, Rules, Travel};

/// Cost of leaving a slot empty, metres-equivalent (10⁹ m: worse than any real offer).
const NOBODY: i64 = 1_000_000_000;
/// Weight of a pair that does not fit: below "nobody", so never chosen while one is free.
const FORBIDDEN: i64 = -4 * NOBODY;

/// For each need (in order), up to `rules.k` providers, cheapest first; no provider twice in the
/// batch; minimum total cost.
pub fn assign(
    needs: &[Need],
    providers: &[Provider],
    rules: &Rules,
    now: i64,
    travel: &dyn Travel,
) -> Vec<Vec<Candidate>> {
    let ranked: Vec<Vec<Candidate>> = needs
        .iter()
        .map(|n| rank(n, providers, rules, now, travel))
        .collect();
    let k = rules.k;
    let rows = needs.len() * k;
    // Only providers that fit some need become columns: 1,000 providers rarely all fit.
    let mut column: HashMap<usize, usize> = HashMap::new();
    let mut providers_of_col: Vec<usize> = Vec::new();
    for c in ranked.iter().flatten() {
        column.entry(c.index).or_insert_with(|| {
            providers_of_col.push(c.index);
            providers_of_col.len() - 1
        });
    }
    let real = providers_of_col.len();
    if rows == 0 || real == 0 {
        return vec![Vec::new(); needs.len()];
    }
    let cols = real + rows;
    let mut weights = vec![FORBIDDEN; rows * cols];
    for (i, cands) in ranked.iter().enumerate() {
        for slot in 0..k {
            let row = (i * k + slot) * cols;
            for c in cands {
                weights[row + column[&c.index]] = -metres(c.cost);
            }
            for d in real..cols {
                weights[row + d] = -NOBODY;
            }
        }
    }
    let matrix = Matrix::from_vec(rows, cols, weights).expect("rows × cols values");
    let (_, col_of_row) = kuhn_munkres(&matrix);
    let mut out: Vec<Vec<Candidate>> = vec![Vec::new(); needs.len()];
    for (row, &col) in col_of_row.iter().enumerate() {
        if col >= real {
            continue;
        }
        let need = row / k;
        let pi = providers_of_col[col];
        if let Some(c) = ranked[need].iter().find(|c| c.index == pi) {
            out[need].push(c.clone());
        }
    }
    for v in &mut out {
        v.sort_by(|a, b| a.cost.total_cmp(&b.cost).then_with(|| a.unit.cmp(&b.unit)));
    }
    out
}

/// The baseline [`assign`] is measured against: each need in turn takes its `k` cheapest
/// providers not yet taken.
pub fn greedy(
    needs: &[Need],
    providers: &[Provider],
    rules: &Rules,
    now: i64,
    travel: &dyn Travel,
) -> Vec<Vec<Candidate>> {
    let mut taken = vec![false; providers.len()];
    needs
        .iter()
        .map(|n| {
            let mut mine = Vec::new();
            for c in rank(n, providers, rules, now, travel) {
                if mine.len() == rules.k {
                    break;
                }
                if !taken[c.index] {
                    taken[c.index] = true;
                    mine.push(c);
                }
            }
            mine
        })
        .collect()
}

/// The total cost of an assignment, kilometres-equivalent.
pub fn total_cost(offers: &[Vec<Candidate>]) -> f64 {
    offers.iter().flatten().map(|c| c.cost).sum()
}

/// Offers made in an assignment.
pub fn offered(offers: &[Vec<Candidate>]) -> usize {
    offers.iter().map(Vec::len).sum()
}

fn metres(cost_km: f64) -> i64 {
    // Costs are finite and small (tens of km-equivalent); the clamp keeps a pathological
    // provider below "nobody" without overflow.
    (cost_km * 1000.0).round().clamp(0.0, (NOBODY - 1) as f64) as i64
}

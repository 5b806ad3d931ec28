/*!
Nearest-resource dispatch, "like ride-hailing" (docs/matching.md): which admitted providers,
volunteer teams and social organizations may be offered a case, in what order, and — when
several cases wait at once — who is offered which. Pure: no I/O, no clock (`now` is passed in).

- [`eligibility`]: a provider fits a need when its kind takes offers, one of its categories is
  the case's category or an ancestor of it, its scope covers the case's grid unit or an ancestor
  (an empty scope is the whole region), it is admitted with a qualification valid now, not
  suspended, not below the rating floor, and was not already offered this case.
- [`rank`]: the fitting providers by cost, lowest first (`rank.rs`): distance ([`Travel`],
  haversine by default), rating, current load and fairness (who waited longest since their last
  offer or assignment).
- [`batch::assign`]: several open offers assigned together by minimum total cost (Hungarian
  algorithm), each provider offered at most one case of the batch; [`batch::greedy`] is the
  baseline it beats.
*/

pub mod batch;
pub mod geo;
mod rank;

#[cfg(test)]
mod bench;
#[cfg(test)]
mod tests;

use serde::Serialize;

pub use geo::{Haversine, Travel, haversine_km};
pub use rank::{Candidate, rank, top_k};

use crate::model::{LatLon, UnitKind};

/// The kinds of handling unit that take offers (the others are dispatched to by routing).
pub const OFFER_KINDS: [UnitKind; 3] = [
    UnitKind::MarketProvider,
    UnitKind::VolunteerTeam,
    UnitKind::SocialOrganization,
];

/// A provider as matching sees it: the profile's unit plus its admission record and live load.
#[derive(Debug, Clone, PartialEq)]
pub struct Provider {
    pub unit: String,
    pub kind: UnitKind,
    /// Categories it serves; a parent category covers its sub-categories.
    pub categories: Vec<String>,
    /// Grid units it serves; empty means the whole region.
    pub scope: Vec<String>,
    /// Where it is (the profile's, else its scope's centroid); `None` costs `unknown_km`.
    pub location: Option<LatLon>,
    /// Its admission (准入); `None` means never admitted.
    pub admission: Option<Admission>,
    pub suspended: bool,
    /// Mean of the citizens' 回访 ratings (1–5) of the cases it served, and how many.
    pub rating: Option<f64>,
    pub ratings: u32,
    /// Cases it holds open now.
    pub load: u32,
    /// When it was last offered or given a case (epoch ms); `None` = never.
    pub last_offer_ms: Option<i64>,
}

/// An admission's validity: from, and until (exclusive; `None` = no expiry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    pub valid_from_ms: i64,
    pub valid_until_ms: Option<i64>,
}

/// A case waiting for a provider.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Need {
    pub case_id: String,
    /// The case's category and its ancestors.
    pub categories: Vec<String>,
    /// The case's grid unit and its ancestors.
    pub grid: Vec<String>,
    pub location: Option<LatLon>,
    /// Units already offered this case in earlier rounds: never offered it again.
    pub exclude: Vec<String>,
}

/// How candidates are filtered and weighed. Costs are in kilometres-equivalent: one rating
/// point below 5 weighs `per_rating_point` km, and so on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rules {
    /// Offers per round (the top k).
    pub k: usize,
    /// Below this mean rating a provider falls out of matching…
    pub rating_floor: f64,
    /// …once it has at least this many ratings (one unhappy citizen does not bar a newcomer).
    pub min_ratings: u32,
    /// The rating an unrated provider is ranked with.
    pub unrated: f64,
    /// The distance charged when the case's or the provider's place is unknown.
    pub unknown_km: f64,
    pub per_km: f64,
    pub per_rating_point: f64,
    pub per_open_case: f64,
    /// The cost of having just been offered, falling linearly to 0 at `fairness_horizon_ms`.
    pub fairness: f64,
    pub fairness_horizon_ms: i64,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            k: 3,
            rating_floor: 3.0,
            min_ratings: 3,
            unrated: 4.0,
            unknown_km: 20.0,
            per_km: 1.0,
            per_rating_point: 2.0,
            per_open_case: 1.5,
            fairness: 3.0,
            fairness_horizon_ms: 7 * 24 * 3_600_000,
        }
    }
}

/// Why a provider is not offered a case (shown on the admission page and in tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ineligible {
    Kind,
    Category,
    Area,
    NotAdmitted,
    NotYetValid,
    Expired,
    Suspended,
    BelowRatingFloor,
    AlreadyOffered,
}

impl Ineligible {
    pub fn as_str(self) -> &'static str {
        match self {
            Ineligible::Kind => "kind",
            Ineligible::Category => "category",
            Ineligible::Area => "area",
            Ineligible::NotAdmitted => "not_admitted",
            Ineligible::NotYetValid => "not_yet_valid",
            Ineligible::Expired => "expired",
            Ineligible::Suspended => "suspended",
            Ineligible::BelowRatingFloor => "below_rating_floor",
            Ineligible::AlreadyOffered => "already_offered",
        }
    }
}

/// Whether `p` may be offered anything at `now` (admission, suspension, rating): the part of
/// [`eligibility`] that does not depend on the case.
pub fn standing(p: &Provider, rules: &Rules, now: i64) -> Result<(), Ineligible> {
    if !OFFER_KINDS.contains(&p.kind) {
        return Err(Ineligible::Kind);
    }
    let Some(adm) = p.admission else {
        return Err(Ineligible::NotAdmitted);
    };
    if adm.valid_from_ms > now {
        return Err(Ineligible::NotYetValid);
    }
    if adm.valid_until_ms.is_some_and(|u| u <= now) {
        return Err(Ineligible::Expired);
    }
    if p.suspended {
        return Err(Ineligible::Suspended);
    }
    if p.ratings >= rules.min_ratings && p.rating.is_some_and(|r| r < rules.rating_floor) {
        return Err(Ineligible::BelowRatingFloor);
    }
    Ok(())
}

/// Whether `p` may be offered `need` at `now`, and if not, the first reason.
pub fn eligibility(p: &Provider, need: &Need, rules: &Rules, now: i64) -> Result<(), Ineligible> {
    standing(p, rules, now)?;
    if !p.categories.iter().any(|c| need.categories.contains(c)) {
        return Err(Ineligible::Category);
    }
    if !p.scope.is_empty() && !p.scope.iter().any(|s| need.grid.contains(s)) {
        return Err(Ineligible::Area);
    }
    if need.exclude.contains(&p.unit) {
        return Err(Ineligible::AlreadyOffered);
    }
    Ok(())
}

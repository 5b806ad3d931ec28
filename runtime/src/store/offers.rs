/*!
Nearest-resource dispatch (docs/matching.md): the providers as matching reads them (their unit,
scope, admission, rating from the citizens' 回访 of the cases they served, open cases), the
admission records (`provider_admissions`), the offers (`offers`) and the prices of paid services
(`service_prices`). Writes take the caller's connection so the engine puts the offer, its case
event and its audit record in one transaction.
*/

use std::collections::HashMap;

use serde::Serialize;
use sqlx::{AnyConnection, Row as _};

use super::{Store, StoreError};

/// The unit kinds that take offers (`engine::matching::OFFER_KINDS`).
const KINDS: &str = "('market_provider', 'volunteer_team', 'social_organization')";

/// A provider's admission record (准入).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdmissionRow {
    pub qualification: String,
    pub valid_from: i64,
    pub valid_until: Option<i64>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub suspended_at: Option<i64>,
    pub suspended_reason: Option<String>,
    pub suspended_by: Option<i64>,
    pub last_offer_at: Option<i64>,
    pub updated_at: i64,
}

/// A unit that may take offers, with what matching and the admission page need.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderRecord {
    pub unit_id: String,
    pub kind: String,
    pub name: String,
    pub service_categories: Vec<String>,
    pub scope: Vec<String>,
    pub admission: Option<AdmissionRow>,
    /// Mean of the 回访 ratings (satisfied 5, mostly satisfied 4, unsatisfied 1) of the cases it
    /// served, and how many there are.
    pub rating: Option<f64>,
    pub ratings: i64,
    /// Cases it holds open now (dispatched, signed, in progress).
    pub load: i64,
}

/// One offer of a case to a provider.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfferRow {
    pub id: i64,
    pub case_id: i64,
    pub case_public_id: String,
    pub unit_id: String,
    pub unit_name: String,
    pub round: i64,
    pub rank: i64,
    pub cost: f64,
    pub distance_km: Option<f64>,
    pub state: String,
    pub offered_at: i64,
    pub expires_at: i64,
    pub answered_at: Option<i64>,
    pub answered_by: Option<i64>,
}

/// An offer about to be made.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOffer {
    pub unit_id: String,
    pub rank: i64,
    pub cost: f64,
    pub distance_km: Option<f64>,
}

/// The price of a paid service (有偿服务), in fen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceRow {
    pub unit_id: String,
    pub quoted_fen: Option<i64>,
    pub charged_fen: Option<i64>,
    pub updated_at: i64,
}

const OFFER_COLUMNS: &str = "o.id, o.case_id, c.public_id, o.unit_id, u.name, o.round, o.rank, \
    o.cost, CAST(o.distance_km AS TEXT), o.state, o.offered_at, o.expires_at, o.answered_at, \
    o.answered_by";
const OFFER_FROM: &str =
    "offers o JOIN cases c ON c.id = o.case_id JOIN units u ON u.id = o.unit_id";

fn opt_f64(s: Option<String>) -> Option<f64> {
    s.and_then(|s| s.parse().ok())
}

fn offer_of(row: &sqlx::any::AnyRow) -> Result<OfferRow, StoreError> {
    Ok(OfferRow {
        id: row.try_get(0)?,
        case_id: row.try_get(1)?,
        case_public_id: row.try_get(2)?,
        unit_id: row.try_get(3)?,
        unit_name: row.try_get(4)?,
        round: row.try_get(5)?,
        rank: row.try_get(6)?,
        cost: row.try_get(7)?,
        distance_km: opt_f64(row.try_get(8)?),
        state: row.try_get(9)?,
        offered_at: row.try_get(10)?,
        expires_at: row.try_get(11)?,
        answered_at: row.try_get(12)?,
        answered_by: row.try_get(13)?,
    })
}

/// The one value an offer query binds.
enum Bind<'a> {
    Int(i64),
    Text(&'a str),
}

async fn offers_where(
    conn: &mut AnyConnection,
    cond: &str,
    bind: Bind<'_>,
) -> Result<Vec<OfferRow>, StoreError> {
    let sql = format!("SELECT {OFFER_COLUMNS} FROM {OFFER_FROM} WHERE {cond} ORDER BY o.id");
    let q = sqlx::query(&sql);
    let q = match bind {
        Bind::Int(v) => q.bind(v),
        Bind::Text(v) => q.bind(v),
    };
    let rows = q.fetch_all(&mut *conn).await?;
    rows.iter().map(offer_of).collect()
}

/// The offers of case `case_id`, oldest first.
pub async fn case_offers(
    conn: &mut AnyConnection,
    case_id: i64,
) -> Result<Vec<OfferRow>, StoreError> {
    offers_where(conn, "o.case_id = $1", Bind::Int(case_id)).await
}

/// Records offers of one round of case `case_id`; the providers' last offer moves to `now`.
pub async fn insert_offers(
    conn: &mut AnyConnection,
    case_id: i64,
    round: i64,
    offers: &[NewOffer],
    now: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    for o in offers {
        sqlx::query(
            "INSERT INTO offers (case_id, unit_id, round, rank, cost, distance_km, state, \
             offered_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, 'offered', $7, $8)",
        )
        .bind(case_id)
        .bind(&o.unit_id)
        .bind(round)
        .bind(o.rank)
        .bind(o.cost)
        .bind(o.distance_km)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *conn)
        .await?;
        sqlx::query("UPDATE provider_admissions SET last_offer_at = $1 WHERE unit_id = $2")
            .bind(now)
            .bind(&o.unit_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Moves offer `id` from `offered` to `to`; false when it was no longer offered.
pub async fn answer_offer(
    conn: &mut AnyConnection,
    id: i64,
    to: &str,
    by: Option<i64>,
    now: i64,
) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "UPDATE offers SET state = $1, answered_at = $2, answered_by = $3 \
         WHERE id = $4 AND state = 'offered'",
    )
    .bind(to)
    .bind(now)
    .bind(by)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Withdraws the open offers of case `case_id`; returns the units they were made to.
pub async fn withdraw_open(
    conn: &mut AnyConnection,
    case_id: i64,
    now: i64,
) -> Result<Vec<String>, StoreError> {
    let units: Vec<(String,)> = sqlx::query_as(
        "SELECT unit_id FROM offers WHERE case_id = $1 AND state = 'offered' ORDER BY id",
    )
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE offers SET state = 'withdrawn', answered_at = $1 \
         WHERE case_id = $2 AND state = 'offered'",
    )
    .bind(now)
    .bind(case_id)
    .execute(&mut *conn)
    .await?;
    Ok(units.into_iter().map(|(u,)| u).collect())
}

/// Upserts the admission of `unit`: qualification, validity, place. A suspension stays.
#[allow(clippy::too_many_arguments)] // reason: one column each, all written together
pub async fn upsert_admission(
    conn: &mut AnyConnection,
    unit: &str,
    qualification: &str,
    valid_from: i64,
    valid_until: Option<i64>,
    place: Option<(f64, f64)>,
    by: i64,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO provider_admissions (unit_id, qualification, valid_from, valid_until, lat, \
         lon, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (unit_id) DO UPDATE SET qualification = excluded.qualification, \
         valid_from = excluded.valid_from, valid_until = excluded.valid_until, \
         lat = excluded.lat, lon = excluded.lon, updated_by = excluded.updated_by, \
         updated_at = excluded.updated_at",
    )
    .bind(unit)
    .bind(qualification)
    .bind(valid_from)
    .bind(valid_until)
    .bind(place.map(|p| p.0))
    .bind(place.map(|p| p.1))
    .bind(by)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Suspends (`Some(reason)`) or reinstates (`None`) an admitted unit; false when not admitted.
pub async fn set_suspension(
    conn: &mut AnyConnection,
    unit: &str,
    reason: Option<&str>,
    by: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "UPDATE provider_admissions SET suspended_at = $1, suspended_reason = $2, \
         suspended_by = $3, updated_by = $4, updated_at = $5 WHERE unit_id = $6",
    )
    .bind(reason.map(|_| now))
    .bind(reason)
    .bind(reason.map(|_| by))
    .bind(by)
    .bind(now)
    .bind(unit)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Records the quoted and charged price of paid case `case_id` (either may stay as it was).
pub async fn upsert_price(
    conn: &mut AnyConnection,
    case_id: i64,
    unit: &str,
    quoted_fen: Option<i64>,
    charged_fen: Option<i64>,
    by: i64,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO service_prices (case_id, unit_id, quoted_fen, charged_fen, updated_by, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (case_id) DO UPDATE SET \
         unit_id = excluded.unit_id, \
         quoted_fen = COALESCE(excluded.quoted_fen, service_prices.quoted_fen), \
         charged_fen = COALESCE(excluded.charged_fen, service_prices.charged_fen), \
         updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(case_id)
    .bind(unit)
    .bind(quoted_fen)
    .bind(charged_fen)
    .bind(by)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// Every active unit of a kind that takes offers, with its admission, rating and load.
    pub async fn providers(&self) -> Result<Vec<ProviderRecord>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        let units: Vec<(String, String, String, String)> = sqlx::query_as(&format!(
            "SELECT id, kind, name, service_categories FROM units \
             WHERE kind IN {KINDS} AND active = 1 ORDER BY position"
        ))
        .fetch_all(&mut *conn)
        .await?;
        let mut scope: HashMap<String, Vec<String>> = HashMap::new();
        let rows: Vec<(String, String)> = sqlx::query_as(&format!(
            "SELECT s.unit_id, s.grid_code FROM unit_scope s JOIN units u ON u.id = s.unit_id \
             WHERE u.kind IN {KINDS} ORDER BY s.unit_id, s.position"
        ))
        .fetch_all(&mut *conn)
        .await?;
        for (u, g) in rows {
            scope.entry(u).or_default().push(g);
        }
        let mut admissions: HashMap<String, AdmissionRow> = HashMap::new();
        let rows = sqlx::query(
            "SELECT unit_id, qualification, valid_from, valid_until, CAST(lat AS TEXT), \
             CAST(lon AS TEXT), suspended_at, suspended_reason, suspended_by, last_offer_at, \
             updated_at FROM provider_admissions",
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in rows {
            admissions.insert(
                r.try_get(0)?,
                AdmissionRow {
                    qualification: r.try_get(1)?,
                    valid_from: r.try_get(2)?,
                    valid_until: r.try_get(3)?,
                    lat: opt_f64(r.try_get(4)?),
                    lon: opt_f64(r.try_get(5)?),
                    suspended_at: r.try_get(6)?,
                    suspended_reason: r.try_get(7)?,
                    suspended_by: r.try_get(8)?,
                    last_offer_at: r.try_get(9)?,
                    updated_at: r.try_get(10)?,
                },
            );
        }
        let mut ratings: HashMap<String, (f64, i64)> = HashMap::new();
        let rows: Vec<(String, String, i64)> = sqlx::query_as(&format!(
            "SELECT c.unit_id, f.satisfaction, COUNT(*) FROM follow_ups f \
             JOIN cases c ON c.id = f.case_id JOIN units u ON u.id = c.unit_id \
             WHERE u.kind IN {KINDS} GROUP BY c.unit_id, f.satisfaction"
        ))
        .fetch_all(&mut *conn)
        .await?;
        for (u, s, n) in rows {
            let points = match s.as_str() {
                "satisfied" => 5.0,
                "mostly_satisfied" => 4.0,
                _ => 1.0,
            };
            let e = ratings.entry(u).or_default();
            e.0 += points * n as f64;
            e.1 += n;
        }
        let load: HashMap<String, i64> = sqlx::query_as::<_, (String, i64)>(&format!(
            "SELECT c.unit_id, COUNT(*) FROM cases c JOIN units u ON u.id = c.unit_id \
             WHERE u.kind IN {KINDS} AND c.status IN ('dispatched', 'signed', 'in_progress') \
             GROUP BY c.unit_id"
        ))
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();
        let mut out = Vec::with_capacity(units.len());
        for (id, kind, name, cats) in units {
            let (sum, n) = ratings.get(&id).copied().unwrap_or_default();
            out.push(ProviderRecord {
                service_categories: serde_json::from_str(&cats).unwrap_or_default(),
                scope: scope.remove(&id).unwrap_or_default(),
                admission: admissions.remove(&id),
                rating: (n > 0).then(|| sum / n as f64),
                ratings: n,
                load: load.get(&id).copied().unwrap_or(0),
                unit_id: id,
                kind,
                name,
            });
        }
        Ok(out)
    }

    /// The offers of case `case_id`, oldest first.
    pub async fn offers_of_case(&self, case_id: i64) -> Result<Vec<OfferRow>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        case_offers(&mut conn, case_id).await
    }

    /// The offers made to `unit`, newest first (open ones first).
    pub async fn offers_of_unit(&self, unit: &str) -> Result<Vec<OfferRow>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        let mut v = offers_where(&mut conn, "o.unit_id = $1", Bind::Text(unit)).await?;
        v.sort_by_key(|o| (o.state != "offered", -o.id));
        Ok(v)
    }

    /// One offer.
    pub async fn offer(&self, id: i64) -> Result<Option<OfferRow>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        let v = offers_where(&mut conn, "o.id = $1", Bind::Int(id)).await?;
        Ok(v.into_iter().next())
    }

    /// Open offers whose answer time has passed, oldest first.
    pub async fn due_offers(&self, now: i64) -> Result<Vec<OfferRow>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        offers_where(
            &mut conn,
            "o.state = 'offered' AND o.expires_at <= $1",
            Bind::Int(now),
        )
        .await
    }

    /// Cases waiting in the center's queue, created since `since`, in one of `categories`,
    /// never put out to offer (no `offer_made` or `offer_unmatched` event): what the offer job
    /// puts out on its own. Oldest first, at most `limit`.
    pub async fn cases_to_offer(
        &self,
        categories: &[String],
        since: i64,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        if categories.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (0..categories.len())
            .map(|i| format!("${}", i + 3))
            .collect();
        let sql = format!(
            "SELECT c.public_id FROM cases c WHERE c.status = 'received' AND c.created_at >= $1 \
             AND c.category_code IN ({}) AND NOT EXISTS (SELECT 1 FROM case_events e \
             WHERE e.case_id = c.id AND e.kind IN ('offer_made', 'offer_unmatched')) \
             ORDER BY c.id LIMIT $2",
            marks.join(", ")
        );
        let mut q = sqlx::query_as::<_, (String,)>(&sql).bind(since).bind(limit);
        for c in categories {
            q = q.bind(c);
        }
        Ok(q.fetch_all(self.pool())
            .await?
            .into_iter()
            .map(|(id,)| id)
            .collect())
    }

    /// The price of paid case `case_id`, if one was recorded.
    pub async fn price_of(&self, case_id: i64) -> Result<Option<PriceRow>, StoreError> {
        let row: Option<(String, Option<i64>, Option<i64>, i64)> = sqlx::query_as(
            "SELECT unit_id, quoted_fen, charged_fen, updated_at FROM service_prices \
             WHERE case_id = $1",
        )
        .bind(case_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(
            row.map(|(unit_id, quoted_fen, charged_fen, updated_at)| PriceRow {
                unit_id,
                quoted_fen,
                charged_fen,
                updated_at,
            }),
        )
    }
}

/*!
Offers (nearest-resource dispatch, docs/matching.md): putting a case in a matchable category out
to the nearest admitted providers, their answers, the timeout, and admission (准入).

- [`put_out`] (the center, for one case or several at once): the top `k` candidates of
  [`super::matching`] for one case; for several, [`matching::batch::assign`] (minimum total
  cost, each provider at most one case of the batch). An `offer_made` event on each case; an
  `offer.made` message to a provider reached through a webhook platform (else its own page).
- [`accept`]: the first provider to accept gets the case — dispatched to it through
  [`actions::perform`] (so the rest of the flow is the ordinary one), the others withdrawn.
  A second acceptance finds the case dispatched and gets a conflict.
- [`decline`] and [`expire_due`] (the job): when no offer of the case is open any more, the next
  round goes to the next candidates; nobody left → `offer_unmatched`, the case stays in the
  center's queue.
- [`admit`], [`suspend`], [`reinstate`]: audited (`provider.admit`, `provider.suspend`,
  `provider.reinstate`).
*/

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::json;

use super::actions::{ActionInput, perform};
use super::error::{Error, Result};
use super::matching::{self, Admission, Haversine, Need, Provider, Rules};
use super::region::RegionIndex;
use crate::model::time::now_ms;
use crate::model::{Action, Integration, LatLon, Principal, Role, UnitKind};
use crate::store::Store;
use crate::store::audit::{NewAudit, record_audit};
use crate::store::cases::{CaseRow, NewEvent, append_events, enqueue_to};
use crate::store::offers::{
    NewOffer, OfferRow, ProviderRecord, answer_offer, case_offers, insert_offers, set_suspension,
    upsert_admission, upsert_price, withdraw_open,
};

/// How long a provider has to answer an offer, by default (seconds).
pub const DEFAULT_TIMEOUT_SECONDS: u32 = 600;
const MAX_K: usize = 10;
const MAX_TEXT: usize = 500;

/// `POST /api/v1/offers` body: the cases to put out, how many providers each, how long.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutOutInput {
    pub cases: Vec<String>,
    #[serde(default)]
    pub k: Option<usize>,
    /// Seconds each provider has to answer (default 600).
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
}

/// `PUT /api/v1/providers/{unit}/admission` body. Dates are epoch ms.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdmitInput {
    pub qualification: String,
    pub valid_from: i64,
    #[serde(default)]
    pub valid_until: Option<i64>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
}

fn center_only(p: &Principal) -> Result<()> {
    if p.role.is_center() && p.scope.is_none() {
        Ok(())
    } else {
        Err(Error::forbidden(
            "offer_center_only",
            format!(
                "role {} may not put out offers or admit providers",
                p.role.as_str()
            ),
        ))
    }
}

fn text(field: &'static str, v: &str) -> Result<String> {
    let v = v.trim();
    if v.is_empty() {
        return Err(
            Error::invalid(field, "missing_field", format!("{field} is required"))
                .arg("field", field),
        );
    }
    if v.chars().count() > MAX_TEXT {
        return Err(
            Error::invalid(field, "too_long", format!("longer than {MAX_TEXT}"))
                .arg("max", MAX_TEXT),
        );
    }
    Ok(v.to_string())
}

/// The first centroid on the way up from grid unit `code`.
fn centroid(region: &RegionIndex, code: &str) -> Option<LatLon> {
    region
        .lineage(code)
        .iter()
        .rev()
        .find_map(|c| region.grid(c).and_then(|g| g.centroid))
}

/// A stored provider as matching sees it: its admission's place, else its scope's centroid.
pub fn provider_of(region: &RegionIndex, r: &ProviderRecord) -> Provider {
    let a = r.admission.as_ref();
    let location = match a.and_then(|a| a.lat.zip(a.lon)) {
        Some((lat, lon)) => Some(LatLon { lat, lon }),
        None => r.scope.iter().find_map(|g| centroid(region, g)),
    };
    Provider {
        unit: r.unit_id.clone(),
        kind: UnitKind::parse(&r.kind).unwrap_or(UnitKind::Department),
        categories: r.service_categories.clone(),
        scope: r.scope.clone(),
        location,
        admission: a.map(|a| Admission {
            valid_from_ms: a.valid_from,
            valid_until_ms: a.valid_until,
        }),
        suspended: a.is_some_and(|a| a.suspended_at.is_some()),
        rating: r.rating,
        ratings: r.ratings as u32,
        load: r.load as u32,
        last_offer_ms: a.and_then(|a| a.last_offer_at),
    }
}

/// Whether a category (or an ancestor) is marked matchable.
pub fn matchable(region: &RegionIndex, category: Option<&str>) -> bool {
    let mut at = category.and_then(|c| region.category(c));
    let mut guard = 0;
    while let Some(c) = at {
        if c.matchable {
            return true;
        }
        guard += 1;
        if guard > 16 {
            break;
        }
        at = c.parent.as_deref().and_then(|p| region.category(p));
    }
    false
}

fn need_of(region: &RegionIndex, row: &CaseRow, offered: &[OfferRow]) -> Need {
    let mut categories = Vec::new();
    let mut at = row
        .category_code
        .as_deref()
        .and_then(|c| region.category(c));
    while let Some(c) = at {
        if categories.contains(&c.code) || categories.len() > 16 {
            break;
        }
        categories.push(c.code.clone());
        at = c.parent.as_deref().and_then(|p| region.category(p));
    }
    let grid = row
        .grid_code
        .as_deref()
        .map(|g| region.lineage(g))
        .unwrap_or_default();
    let location = match (row.lat, row.lon) {
        (Some(lat), Some(lon)) => Some(LatLon { lat, lon }),
        _ => row.grid_code.as_deref().and_then(|g| centroid(region, g)),
    };
    Need {
        case_id: row.public_id.clone(),
        categories,
        grid,
        location,
        exclude: offered.iter().map(|o| o.unit_id.clone()).collect(),
    }
}

fn rules(k: Option<usize>) -> Result<Rules> {
    let k = k.unwrap_or(Rules::default().k);
    if k == 0 || k > MAX_K {
        return Err(
            Error::invalid("k", "offer_range", format!("k is 1 to {MAX_K}"))
                .arg("min", 1)
                .arg("max", MAX_K),
        );
    }
    Ok(Rules {
        k,
        ..Rules::default()
    })
}

/// Puts the cases of `input` out to offer (see the module docs); returns each case's new offers.
pub async fn put_out(
    store: &Store,
    region: &RegionIndex,
    principal: &Principal,
    input: PutOutInput,
) -> Result<Vec<(String, Vec<OfferRow>)>> {
    center_only(principal)?;
    let rules = rules(input.k)?;
    let seconds = input.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS);
    if !(1..=86_400).contains(&seconds) {
        return Err(Error::invalid(
            "timeout_seconds",
            "offer_range",
            "timeout_seconds is 1 to 86400",
        )
        .arg("field", "timeout_seconds")
        .arg("min", 1)
        .arg("max", 86_400));
    }
    let ids: BTreeSet<&str> = input.cases.iter().map(|s| s.trim()).collect();
    if ids.is_empty() || ids.len() > 500 {
        return Err(Error::invalid("cases", "offer_range", "1 to 500 cases")
            .arg("min", 1)
            .arg("max", 500));
    }
    let mut rows = Vec::new();
    for id in &ids {
        let row = store
            .case_by_public_id(id)
            .await
            .map_err(|_| Error::not_found("case_not_found", format!("case {id}")))?;
        check_offerable(region, &row)?;
        let offered = store.offers_of_case(row.id).await?;
        if offered.iter().any(|o| o.state == "offered") {
            return Err(Error::conflict(
                "offers_open",
                format!("case {id} already has open offers"),
            )
            .arg("case", id));
        }
        rows.push((row, offered));
    }
    let ms = i64::from(seconds) * 1000;
    let made = offer_round(store, region, &rules, &rows, Some(principal), ms).await?;
    Ok(made)
}

fn check_offerable(region: &RegionIndex, row: &CaseRow) -> Result<()> {
    if !matchable(region, row.category_code.as_deref()) {
        return Err(Error::invalid(
            "cases",
            "not_matchable",
            format!("case {}'s category is not matchable", row.public_id),
        )
        .arg("case", &row.public_id));
    }
    if !matches!(row.status.as_str(), "received" | "returned") {
        return Err(Error::conflict(
            "offer_case_taken",
            format!(
                "case {} is not waiting in the center's queue",
                row.public_id
            ),
        )
        .arg("case", &row.public_id));
    }
    Ok(())
}

/// One round for each of `rows` (case, its offers so far): rank, assign, write.
async fn offer_round(
    store: &Store,
    region: &RegionIndex,
    rules: &Rules,
    rows: &[(CaseRow, Vec<OfferRow>)],
    by: Option<&Principal>,
    answer_ms: i64,
) -> Result<Vec<(String, Vec<OfferRow>)>> {
    let now = now_ms();
    let providers: Vec<Provider> = store
        .providers()
        .await?
        .iter()
        .map(|r| provider_of(region, r))
        .collect();
    let needs: Vec<Need> = rows
        .iter()
        .map(|(row, offered)| need_of(region, row, offered))
        .collect();
    let picks = if needs.len() == 1 {
        vec![matching::top_k(
            &needs[0], &providers, rules, now, &Haversine,
        )]
    } else {
        matching::batch::assign(&needs, &providers, rules, now, &Haversine)
    };
    let mut tx = store.write().await?;
    let mut out = Vec::new();
    for ((row, offered), pick) in rows.iter().zip(picks) {
        let round = offered.iter().map(|o| o.round).max().unwrap_or(0) + 1;
        let new: Vec<NewOffer> = pick
            .iter()
            .enumerate()
            .map(|(i, c)| NewOffer {
                unit_id: c.unit.clone(),
                rank: i as i64 + 1,
                cost: (c.cost * 1000.0).round() / 1000.0,
                distance_km: Some((c.distance_km * 1000.0).round() / 1000.0),
            })
            .collect();
        let event = if new.is_empty() {
            NewEvent {
                kind: "offer_unmatched".into(),
                actor_id: by.map(|p| p.user_id),
                detail: Some(json!({"round": round})),
                ..NewEvent::default()
            }
        } else {
            NewEvent {
                kind: "offer_made".into(),
                actor_id: by.map(|p| p.user_id),
                detail: Some(json!({
                    "round": round,
                    "units": new.iter().map(|o| &o.unit_id).collect::<Vec<_>>(),
                    "expires_at": now + answer_ms,
                })),
                ..NewEvent::default()
            }
        };
        insert_offers(&mut tx, row.id, round, &new, now, now + answer_ms).await?;
        append_events(&mut tx, row.id, &[event], now, None).await?;
        for o in &new {
            if let Some(platform) = webhook_platform(region, &o.unit_id) {
                let payload = json!({
                    "event": "offer.made",
                    "case": row.public_id,
                    "unit": o.unit_id,
                    "round": round,
                    "expires_at": now + answer_ms,
                    "category": row.category_code,
                    "address": row.address,
                });
                enqueue_to(
                    &mut tx,
                    "offer.made",
                    &payload,
                    Some(platform),
                    "pending",
                    now,
                )
                .await?;
            }
        }
        let all = case_offers(&mut tx, row.id).await?;
        out.push((
            row.public_id.clone(),
            all.into_iter().filter(|o| o.round == round).collect(),
        ));
    }
    tx.commit().await?;
    Ok(out)
}

/// The platform a unit is reached through, when the delivery worker sends there (a webhook).
fn webhook_platform<'a>(region: &'a RegionIndex, unit: &str) -> Option<&'a str> {
    let id = region.unit(unit)?.platform.as_deref()?;
    region
        .platforms
        .iter()
        .find(|p| p.id == id && matches!(p.integration, Integration::Webhook { .. }))
        .map(|p| p.id.as_str())
}

/// The offer `id` as its provider's handler may answer it.
async fn own_offer(store: &Store, principal: &Principal, id: i64) -> Result<OfferRow> {
    let o = store
        .offer(id)
        .await?
        .ok_or_else(|| Error::not_found("record_not_found", format!("offer {id}")))?;
    if principal.role != Role::UnitHandler || principal.unit_id.as_deref() != Some(&o.unit_id) {
        return Err(Error::not_found("record_not_found", format!("offer {id}")));
    }
    if o.state != "offered" || o.expires_at <= now_ms() {
        return Err(Error::conflict(
            "offer_closed",
            format!("offer {id} is no longer open"),
        ));
    }
    Ok(o)
}

/// The provider accepts offer `id`: the case is dispatched to it, the other offers withdrawn.
pub async fn accept(
    store: &Store,
    region: &RegionIndex,
    principal: &Principal,
    id: i64,
) -> Result<OfferRow> {
    let o = own_offer(store, principal, id).await?;
    // The dispatch is the center's act, done on the provider's word: the actor is the handler
    // who accepted, acting as dispatcher for this one step.
    let dispatcher = Principal {
        role: Role::Dispatcher,
        unit_id: None,
        grid_codes: Vec::new(),
        scope: None,
        ..principal.clone()
    };
    let mut input = ActionInput::new(Action::Dispatch);
    input.unit = Some(o.unit_id.clone());
    input.note = Some(format!("接单（邀约 #{id}）"));
    if let Err(e) = perform(store, region, &dispatcher, &o.case_public_id, input).await {
        let parts = e.into_parts();
        return Err(Error::conflict(
            "offer_closed",
            format!("offer {id} is no longer open: {}", parts.message),
        ));
    }
    let now = now_ms();
    let mut tx = store.write().await?;
    answer_offer(&mut tx, id, "accepted", Some(principal.user_id), now).await?;
    let withdrawn = withdraw_open(&mut tx, o.case_id, now).await?;
    let ev = NewEvent {
        kind: "offer_accepted".into(),
        actor_id: Some(principal.user_id),
        unit_id: Some(o.unit_id.clone()),
        detail: Some(json!({"offer": id, "round": o.round, "withdrawn": withdrawn})),
        ..NewEvent::default()
    };
    append_events(&mut tx, o.case_id, &[ev], now, None).await?;
    tx.commit().await?;
    Ok(store.offer(id).await?.unwrap_or(o))
}

/// The provider declines offer `id`; when no offer of the case stays open, the next round.
pub async fn decline(
    store: &Store,
    region: &RegionIndex,
    principal: &Principal,
    id: i64,
    reason: Option<String>,
) -> Result<OfferRow> {
    let o = own_offer(store, principal, id).await?;
    let reason = match reason.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => Some(text("reason", r)?),
        None => None,
    };
    let now = now_ms();
    let mut tx = store.write().await?;
    if !answer_offer(&mut tx, id, "declined", Some(principal.user_id), now).await? {
        return Err(Error::conflict(
            "offer_closed",
            format!("offer {id} is no longer open"),
        ));
    }
    let ev = NewEvent {
        kind: "offer_declined".into(),
        actor_id: Some(principal.user_id),
        unit_id: Some(o.unit_id.clone()),
        note: reason,
        detail: Some(json!({"offer": id, "round": o.round})),
        ..NewEvent::default()
    };
    append_events(&mut tx, o.case_id, &[ev], now, None).await?;
    tx.commit().await?;
    // The decline stands whatever the next round does: a round another answer or the job
    // started at the same moment already holds the next candidates (offers are unique per case
    // and unit); otherwise the case waits in the center's queue, where 就近派单 puts it out.
    if let Err(e) = next_round_if_idle(store, region, &o).await {
        tracing::warn!(offer = id, error = %e, "next round after a decline");
    }
    Ok(store.offer(id).await?.unwrap_or(o))
}

/// Expires the open offers past their time (the job); each case left without an open offer
/// goes to its next round. Returns how many offers expired.
pub async fn expire_due(store: &Store, region: &RegionIndex) -> Result<usize> {
    let now = now_ms();
    let due = store.due_offers(now).await?;
    let mut expired = Vec::new();
    for o in due {
        let mut tx = store.write().await?;
        if !answer_offer(&mut tx, o.id, "expired", None, now).await? {
            continue; // answered meanwhile, or another m110d expired it
        }
        let ev = NewEvent {
            kind: "offer_expired".into(),
            unit_id: Some(o.unit_id.clone()),
            detail: Some(json!({"offer": o.id, "round": o.round})),
            ..NewEvent::default()
        };
        append_events(&mut tx, o.case_id, &[ev], now, None).await?;
        tx.commit().await?;
        expired.push(o);
    }
    let mut seen = BTreeSet::new();
    for o in &expired {
        if seen.insert(o.case_id) {
            next_round_if_idle(store, region, o).await?;
        }
    }
    Ok(expired.len())
}

/// Puts out, on its own, the new cases of matchable categories waiting in the center's queue
/// that were never offered (the job, after intake): all of them in one batch. Returns how many.
pub async fn put_out_new(store: &Store, region: &RegionIndex) -> Result<usize> {
    let cats: Vec<String> = region
        .categories
        .iter()
        .filter(|c| matchable(region, Some(&c.code)))
        .map(|c| c.code.clone())
        .collect();
    // Only today's intake: a category made matchable by an upgrade does not sweep up old cases.
    let since = now_ms() - 24 * 3_600_000;
    let ids = store.cases_to_offer(&cats, since, 100).await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let mut rows = Vec::new();
    for id in &ids {
        let row = store.case_by_public_id(id).await?;
        rows.push((row, Vec::new()));
    }
    let answer_ms = i64::from(DEFAULT_TIMEOUT_SECONDS) * 1000;
    offer_round(store, region, &Rules::default(), &rows, None, answer_ms).await?;
    Ok(ids.len())
}

/// After an answer or a timeout: when the case still waits and none of its offers is open, the
/// next round (same k as the last, same answer time).
async fn next_round_if_idle(store: &Store, region: &RegionIndex, o: &OfferRow) -> Result<()> {
    let offered = store.offers_of_case(o.case_id).await?;
    if offered.iter().any(|x| x.state == "offered") {
        return Ok(());
    }
    let row = store.case_by_public_id(&o.case_public_id).await?;
    if !matches!(row.status.as_str(), "received" | "returned") {
        return Ok(());
    }
    let last = offered.iter().map(|x| x.round).max().unwrap_or(1);
    let k = offered.iter().filter(|x| x.round == last).count().max(1);
    let answer_ms = (o.expires_at - o.offered_at).max(1000);
    let rules = Rules {
        k,
        ..Rules::default()
    };
    offer_round(store, region, &rules, &[(row, offered)], None, answer_ms).await?;
    Ok(())
}

fn provider_unit(region: &RegionIndex, unit: &str) -> Result<()> {
    match region.unit(unit) {
        Some(u) if matching::OFFER_KINDS.contains(&u.kind) => Ok(()),
        _ => Err(Error::not_found(
            "record_not_found",
            format!("provider {unit}"),
        )),
    }
}

/// Admits `unit` (or changes its admission): qualification, validity, place. Audited.
pub async fn admit(
    store: &Store,
    region: &RegionIndex,
    principal: &Principal,
    unit: &str,
    input: AdmitInput,
) -> Result<()> {
    center_only(principal)?;
    provider_unit(region, unit)?;
    let qualification = text("qualification", &input.qualification)?;
    if input.valid_until.is_some_and(|u| u <= input.valid_from) {
        return Err(Error::invalid(
            "valid_until",
            "offer_range",
            "valid_until comes after valid_from",
        ));
    }
    let place = match (input.lat, input.lon) {
        (Some(lat), Some(lon))
            if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) =>
        {
            Some((lat, lon))
        }
        (None, None) => None,
        _ => {
            return Err(Error::invalid(
                "lat",
                "offer_range",
                "lat and lon together, in degrees",
            ));
        }
    };
    let now = now_ms();
    let mut tx = store.write().await?;
    upsert_admission(
        &mut tx,
        unit,
        &qualification,
        input.valid_from,
        input.valid_until,
        place,
        principal.user_id,
        now,
    )
    .await?;
    let target = format!("unit:{unit}");
    let detail = json!({"qualification": qualification, "valid_from": input.valid_from,
        "valid_until": input.valid_until, "lat": input.lat, "lon": input.lon});
    record_audit(
        &mut tx,
        &NewAudit::by(principal, "provider.admit", Some(&target)).with_detail(detail),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Suspends an admitted provider (with why) or reinstates it (`reason` `None`). Audited.
pub async fn suspend(
    store: &Store,
    region: &RegionIndex,
    principal: &Principal,
    unit: &str,
    reason: Option<&str>,
) -> Result<()> {
    center_only(principal)?;
    provider_unit(region, unit)?;
    let reason = reason.map(|r| text("reason", r)).transpose()?;
    let now = now_ms();
    let mut tx = store.write().await?;
    if !set_suspension(&mut tx, unit, reason.as_deref(), principal.user_id, now).await? {
        return Err(Error::conflict(
            "provider_not_admitted",
            format!("provider {unit} is not admitted"),
        ));
    }
    let target = format!("unit:{unit}");
    let action = if reason.is_some() {
        "provider.suspend"
    } else {
        "provider.reinstate"
    };
    record_audit(
        &mut tx,
        &NewAudit::by(principal, action, Some(&target)).with_detail(json!({"reason": reason})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// `PUT /api/v1/cases/{id}/price` body: a paid service's price in fen (either may be left out).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceInput {
    #[serde(default)]
    pub quoted_fen: Option<i64>,
    #[serde(default)]
    pub charged_fen: Option<i64>,
}

/// Highest price accepted, in fen (10 million yuan: a typo, not a repair bill).
const MAX_FEN: i64 = 1_000_000_000;

/// Records the price quoted and charged for a paid service (有偿服务) on case `public_id`: by
/// the provider the case is dispatched to, or the center. Audited (`case.price`).
pub async fn set_price(
    store: &Store,
    region: &RegionIndex,
    principal: &Principal,
    public_id: &str,
    input: PriceInput,
) -> Result<()> {
    for (field, v) in [
        ("quoted_fen", input.quoted_fen),
        ("charged_fen", input.charged_fen),
    ] {
        if v.is_some_and(|v| !(0..=MAX_FEN).contains(&v)) {
            return Err(
                Error::invalid(field, "offer_range", format!("{field} is 0 to {MAX_FEN}"))
                    .arg("field", field)
                    .arg("min", 0)
                    .arg("max", MAX_FEN),
            );
        }
    }
    if input.quoted_fen.is_none() && input.charged_fen.is_none() {
        return Err(
            Error::invalid("quoted_fen", "missing_field", "quoted_fen or charged_fen")
                .arg("field", "quoted_fen"),
        );
    }
    let row = store
        .case_by_public_id(public_id)
        .await
        .map_err(|_| Error::not_found("case_not_found", format!("case {public_id}")))?;
    let center = principal.role.is_center() && principal.scope.is_none();
    let own = principal.role == Role::UnitHandler
        && row.unit_id.is_some()
        && principal.unit_id == row.unit_id;
    if !center && !own {
        return Err(Error::not_found(
            "case_not_found",
            format!("case {public_id}"),
        ));
    }
    let unit = row.unit_id.clone().unwrap_or_default();
    if region
        .unit(&unit)
        .is_none_or(|u| !matching::OFFER_KINDS.contains(&u.kind))
    {
        return Err(Error::conflict(
            "price_not_provider",
            format!("case {public_id} is not with a provider"),
        ));
    }
    let now = now_ms();
    let mut tx = store.write().await?;
    upsert_price(
        &mut tx,
        row.id,
        &unit,
        input.quoted_fen,
        input.charged_fen,
        principal.user_id,
        now,
    )
    .await?;
    let target = format!("case:{public_id}");
    let detail = json!({"unit": unit, "quoted_fen": input.quoted_fen,
        "charged_fen": input.charged_fen});
    record_audit(
        &mut tx,
        &NewAudit::by(principal, "case.price", Some(&target)).with_detail(detail),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

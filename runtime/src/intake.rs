/*!
Intake (受理): the one service that creates a case, shared by the JSON API, Open311 and the
console.

[`create_case`] validates the request, triages it (police first, then classify and locate), routes
it, and writes the caller upsert, the case, its first events and — for a police transfer — the
outbox message in ONE transaction. A request either becomes a complete case or changes nothing.

- A police emergency (a police category, or an emergency keyword) becomes `transferred_police`
  with a `police.transfer` outbox message for the police-dispatch integration.
- Otherwise the category is the caller's (operator override) or the classifier's best guess; the
  routing table picks the unit for the category × located grid unit. A matching rule dispatches
  at once (`dispatched`, 签收/办结 deadlines from the category); the fallback leaves the case
  `received` in the center's queue for a dispatcher, as does an unclassified request.
- The center user who takes the case becomes its responsible operator until it closes.

[`RegionIndex`] is the region data the services need, built once at start-up from the store
(region data is static after provisioning): classifier and locator, routing table, categories,
units, escalation chains.
*/

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, TimeZone};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::{Principal, Role};
use crate::http::error::ApiError;
use crate::lifecycle::Status;
use crate::model::{
    Category, EscalationChain, GridUnit, LatLon, Priority, Region, RoutingRule, UnitKind,
};
use crate::routing::{RouteVia, RoutingTable};
use crate::store::cases::{
    CallerData, CaseRow, NewCase, NewEvent, append_events, begin_write, enqueue, insert_case,
    upsert_caller,
};
use crate::store::{Store, StoreError, now_ms};
use crate::triage::{Classification, Location, Triage};

/// Longest request text accepted (Open311's description limit).
pub const MAX_CONTENT_CHARS: usize = 4000;

/// Asia/Shanghai (+08:00, no DST): the zone every time is shown in.
pub fn shanghai_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// A stored epoch-millisecond time in Asia/Shanghai.
pub fn shanghai(ms: i64) -> DateTime<FixedOffset> {
    shanghai_offset()
        .timestamp_millis_opt(ms)
        .single()
        .unwrap_or_else(|| shanghai_offset().timestamp_millis_opt(0).unwrap())
}

/// RFC 3339 with the +08:00 offset, e.g. `2026-11-29T09:30:00+08:00`.
pub fn render_time(ms: i64) -> String {
    shanghai(ms).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// A handling unit as the services need it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitInfo {
    pub id: String,
    pub name: String,
    pub kind: UnitKind,
}

/// Region data built once per process.
#[derive(Debug)]
pub struct RegionIndex {
    pub code: String,
    pub name: String,
    pub triage: Triage,
    pub routing: RoutingTable,
    pub categories: Vec<Category>,
    pub units: Vec<UnitInfo>,
    pub grid_units: Vec<GridUnit>,
    pub escalation: Vec<EscalationChain>,
    by_category: HashMap<String, usize>,
    by_unit: HashMap<String, usize>,
    by_grid: HashMap<String, usize>,
}

/// The region data an index is built from.
#[derive(Debug, Clone, Default)]
pub struct RegionData {
    pub code: String,
    pub name: String,
    pub categories: Vec<Category>,
    pub grid_units: Vec<GridUnit>,
    pub units: Vec<UnitInfo>,
    pub rules: Vec<RoutingRule>,
    /// Unit id no rule covers (normally the center).
    pub fallback: String,
    pub escalation: Vec<EscalationChain>,
}

impl RegionIndex {
    /// Builds the index (used by [`RegionIndex::load`] and tests).
    pub fn new(data: RegionData) -> RegionIndex {
        let RegionData {
            code,
            name,
            categories,
            grid_units,
            units,
            rules,
            fallback,
            escalation,
        } = data;
        let triage = Triage::new(&categories, &grid_units);
        let routing = RoutingTable::from_parts(
            rules.iter(),
            grid_units
                .iter()
                .map(|u| (u.code.clone(), u.parent.clone())),
            categories
                .iter()
                .map(|c| (c.code.clone(), c.parent.clone())),
            fallback,
        );
        RegionIndex {
            by_category: categories
                .iter()
                .enumerate()
                .map(|(i, c)| (c.code.clone(), i))
                .collect(),
            by_unit: units
                .iter()
                .enumerate()
                .map(|(i, u)| (u.id.clone(), i))
                .collect(),
            by_grid: grid_units
                .iter()
                .enumerate()
                .map(|(i, g)| (g.code.clone(), i))
                .collect(),
            code,
            name,
            triage,
            routing,
            categories,
            units,
            grid_units,
            escalation,
        }
    }

    /// Reads the provisioned region from the store and builds the index.
    pub async fn load(store: &Store) -> Result<RegionIndex, StoreError> {
        let region = store.load_region().await?;
        Ok(RegionIndex::from_region(&region))
    }

    /// Builds the index from a region model.
    pub fn from_region(region: &Region) -> RegionIndex {
        RegionIndex::new(RegionData {
            code: region.info.code.clone(),
            name: region.info.name.clone(),
            categories: region.categories.clone(),
            grid_units: region.grid_units.clone(),
            units: region
                .units
                .iter()
                .map(|u| UnitInfo {
                    id: u.id.clone(),
                    name: u.name.clone(),
                    kind: u.kind,
                })
                .collect(),
            rules: region.routing.rules.clone(),
            fallback: region.routing.fallback_unit.clone(),
            escalation: region.routing.escalation.clone(),
        })
    }

    pub fn category(&self, code: &str) -> Option<&Category> {
        self.by_category.get(code).map(|i| &self.categories[*i])
    }

    pub fn unit(&self, id: &str) -> Option<&UnitInfo> {
        self.by_unit.get(id).map(|i| &self.units[*i])
    }

    pub fn grid(&self, code: &str) -> Option<&GridUnit> {
        self.by_grid.get(code).map(|i| &self.grid_units[*i])
    }

    /// The police-dispatch unit, if the region lists one.
    pub fn police_unit(&self) -> Option<&UnitInfo> {
        self.units.iter().find(|u| u.kind == UnitKind::Police)
    }

    /// `codes` and every grid unit below them (a grid worker's reach).
    pub fn grid_reach(&self, codes: &[String]) -> Vec<String> {
        self.grid_units
            .iter()
            .filter(|g| codes.iter().any(|c| self.triage.grid_within(&g.code, c)))
            .map(|g| g.code.clone())
            .collect()
    }

    /// The escalation chain for a category: its own, a parent's, or the default chain.
    pub fn escalation_for(&self, category: Option<&str>) -> Option<&EscalationChain> {
        let mut cat = category.map(str::to_string);
        let mut guard = 0;
        while let Some(c) = cat {
            if let Some(ch) = self
                .escalation
                .iter()
                .find(|e| e.category.as_deref() == Some(c.as_str()))
            {
                return Some(ch);
            }
            cat = self.category(&c).and_then(|x| x.parent.clone());
            guard += 1;
            if guard > 16 {
                break;
            }
        }
        self.escalation.iter().find(|e| e.category.is_none())
    }

    /// The longest escalation chain (the job's upper bound of steps).
    pub fn max_escalation_steps(&self) -> i64 {
        self.escalation
            .iter()
            .map(|c| c.steps.len())
            .max()
            .unwrap_or(0) as i64
    }
}

/// Intake channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Phone,
    Web,
    Grid,
    Sms,
    Open311,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::Web => "web",
            Channel::Grid => "grid",
            Channel::Sms => "sms",
            Channel::Open311 => "open311",
        }
    }
}

/// The caller as given at intake.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallerInput {
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// `male`, `female` or `other`.
    #[serde(default)]
    pub gender: Option<String>,
    /// e.g. `18-29`, `60+`.
    #[serde(default)]
    pub age_band: Option<String>,
    #[serde(default)]
    pub occupation: Option<String>,
}

/// Where it happened, as given: any combination; the locator decides.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    #[serde(default)]
    pub grid_code: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
}

/// `POST /api/v1/cases` body (and what Open311 and the console build).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseInput {
    pub channel: Channel,
    #[serde(default)]
    pub caller: Option<CallerInput>,
    pub content: String,
    /// Operator override of the classifier.
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub location: Option<LocationInput>,
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Id of the request in a source platform (12345, grid app).
    #[serde(default)]
    pub external_id: Option<String>,
    /// Open311 token handed to the client (set by the Open311 module, never by JSON).
    #[serde(skip)]
    pub open311_token: Option<String>,
}

/// What intake did.
#[derive(Debug, Clone)]
pub struct Created {
    pub case: CaseRow,
    pub classification: Classification,
    pub location: Location,
    /// How the unit was chosen (`None`: police transfer or unclassified).
    pub route: Option<RouteVia>,
}

const GENDERS: &[&str] = &["male", "female", "other"];

fn clean(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Checks a phone number: digits with an optional leading `+`, 3–20 digits (110, 12345, mobiles,
/// landlines with area code); spaces and dashes are dropped.
pub fn normalize_phone(raw: &str) -> Option<String> {
    let cleaned: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    let digits = cleaned.strip_prefix('+').unwrap_or(&cleaned);
    if (3..=20).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
        Some(cleaned)
    } else {
        None
    }
}

fn is_center(role: Role) -> bool {
    matches!(
        role,
        Role::Admin | Role::Supervisor | Role::Operator | Role::Dispatcher
    )
}

/// Triage only (no case): the classifier's and locator's verdict for a text, for suggestions.
pub fn triage(
    region: &RegionIndex,
    content: &str,
    location: &LocationInput,
) -> (Classification, Location) {
    let address = location.address.as_deref().unwrap_or("");
    let text = if address.is_empty() {
        content.to_string()
    } else {
        format!("{content} {address}")
    };
    let class = region.triage.classify(&text);
    let point = match (location.lat, location.lon) {
        (Some(lat), Some(lon)) => Some(LatLon { lat, lon }),
        _ => None,
    };
    let loc = region
        .triage
        .locate(location.grid_code.as_deref(), &[address, content], point);
    (class, loc)
}

/// Creates a case: validate, triage, route, write — one transaction.
pub async fn create_case(
    store: &Store,
    region: &RegionIndex,
    principal: &Principal,
    input: CaseInput,
) -> Result<Created, ApiError> {
    // --- validate -------------------------------------------------------------------------
    let content = input.content.trim().to_string();
    if content.is_empty() {
        return Err(ApiError::invalid("content", "the request text is empty"));
    }
    if content.chars().count() > MAX_CONTENT_CHARS {
        return Err(ApiError::invalid(
            "content",
            format!("longer than {MAX_CONTENT_CHARS} characters"),
        ));
    }
    let caller_in = input.caller.unwrap_or_default();
    let phone = match clean(&caller_in.phone) {
        Some(p) => Some(normalize_phone(&p).ok_or_else(|| {
            ApiError::invalid(
                "caller.phone",
                "not a phone number (3–20 digits, optional +)",
            )
        })?),
        None => None,
    };
    let gender = clean(&caller_in.gender);
    if let Some(g) = &gender
        && !GENDERS.contains(&g.as_str())
    {
        return Err(ApiError::invalid(
            "caller.gender",
            "one of male, female, other",
        ));
    }
    for (field, v) in [
        ("caller.name", &caller_in.name),
        ("caller.age_band", &caller_in.age_band),
        ("caller.occupation", &caller_in.occupation),
    ] {
        if v.as_deref().is_some_and(|s| s.chars().count() > 100) {
            return Err(ApiError::invalid(field, "longer than 100 characters"));
        }
    }
    let caller = CallerData {
        phone,
        name: clean(&caller_in.name),
        gender,
        age_band: clean(&caller_in.age_band),
        occupation: clean(&caller_in.occupation),
    };
    let mut loc_in = input.location.unwrap_or_default();
    loc_in.grid_code = clean(&loc_in.grid_code);
    loc_in.address = clean(&loc_in.address);
    if let Some(code) = &loc_in.grid_code
        && region.grid(code).is_none()
    {
        return Err(ApiError::invalid(
            "location.grid_code",
            format!("{code} is not a grid unit of region {}", region.code),
        ));
    }
    if loc_in
        .address
        .as_deref()
        .is_some_and(|a| a.chars().count() > 500)
    {
        return Err(ApiError::invalid(
            "location.address",
            "longer than 500 characters",
        ));
    }
    match (loc_in.lat, loc_in.lon) {
        (Some(lat), Some(lon)) => {
            if !(-90.0..=90.0).contains(&lat) || !lat.is_finite() {
                return Err(ApiError::invalid(
                    "location.lat",
                    "latitude must be -90..90",
                ));
            }
            if !(-180.0..=180.0).contains(&lon) || !lon.is_finite() {
                return Err(ApiError::invalid(
                    "location.lon",
                    "longitude must be -180..180",
                ));
            }
        }
        (Some(_), None) => return Err(ApiError::invalid("location.lon", "lat given without lon")),
        (None, Some(_)) => return Err(ApiError::invalid("location.lat", "lon given without lat")),
        (None, None) => {}
    }
    let chosen =
        match clean(&input.category) {
            Some(code) => Some(region.category(&code).ok_or_else(|| {
                ApiError::invalid("category", format!("unknown category {code}"))
            })?),
            None => None,
        };
    if input
        .external_id
        .as_deref()
        .is_some_and(|s| s.chars().count() > 200)
    {
        return Err(ApiError::invalid(
            "external_id",
            "longer than 200 characters",
        ));
    }
    // Grid workers report on the grid channel, inside their own grid units.
    if principal.role == Role::GridWorker {
        if input.channel != Channel::Grid {
            return Err(ApiError::forbidden(
                "grid workers create cases on the grid channel only",
            ));
        }
        match &loc_in.grid_code {
            Some(code) => {
                if !principal
                    .grid_codes
                    .iter()
                    .any(|mine| region.triage.grid_within(code, mine))
                {
                    return Err(ApiError::forbidden(format!(
                        "grid unit {code} is outside your grid units"
                    )));
                }
            }
            None if principal.grid_codes.len() == 1 => {
                loc_in.grid_code = Some(principal.grid_codes[0].clone());
            }
            None => {
                return Err(ApiError::invalid(
                    "location.grid_code",
                    "grid workers name the grid unit of the report",
                ));
            }
        }
    }

    // --- triage ---------------------------------------------------------------------------
    let (classification, location) = triage(region, &content, &loc_in);
    let police = classification.police || chosen.is_some_and(|c| c.police);
    let category: Option<&Category> = match chosen {
        Some(c) => Some(c),
        None => classification
            .category
            .as_deref()
            .and_then(|c| region.category(c)),
    };
    let priority = input
        .priority
        .or(category.map(|c| c.priority))
        .unwrap_or(Priority::Normal);
    let grid = location.grid().map(str::to_string);
    let now = now_ms();
    let operator_id = is_center(principal.role).then_some(principal.user_id);

    // --- route ----------------------------------------------------------------------------
    let mut events = vec![NewEvent {
        kind: "received".into(),
        from_status: None,
        to_status: Some(Status::Received.as_str().into()),
        actor_id: Some(principal.user_id),
        unit_id: None,
        note: None,
        detail: Some(json!({
            "channel": input.channel.as_str(),
            "classification": classification,
            "category_source": if chosen.is_some() { "operator" } else { "classifier" },
            "location": location,
        })),
    }];
    let mut case = NewCase {
        channel: input.channel.as_str().into(),
        caller_id: None,
        content: content.clone(),
        category_code: category.map(|c| c.code.clone()),
        grid_code: grid.clone(),
        address: loc_in.address.clone(),
        lat: loc_in.lat,
        lon: loc_in.lon,
        priority: priority.as_str().into(),
        status: Status::Received.as_str().into(),
        operator_id,
        unit_id: None,
        sign_due: None,
        close_due: None,
        dispatched_at: None,
        open311_token: input.open311_token.clone(),
        external_id: clean(&input.external_id),
        created_at: now,
    };
    let mut route = None;
    let mut police_payload = None;
    if police {
        case.status = Status::TransferredPolice.as_str().into();
        events.push(NewEvent {
            kind: "transferred_police".into(),
            from_status: Some(Status::Received.as_str().into()),
            to_status: Some(Status::TransferredPolice.as_str().into()),
            actor_id: Some(principal.user_id),
            unit_id: region.police_unit().map(|u| u.id.clone()),
            note: None,
            detail: Some(json!({"trigger": classification.police_trigger, "auto": true})),
        });
        police_payload = Some(json!({
            "content": content,
            "address": loc_in.address,
            "grid_code": grid,
            "lat": loc_in.lat,
            "lon": loc_in.lon,
            "caller_phone": caller.phone,
            "trigger": classification.police_trigger,
            "at": render_time(now),
        }));
    } else if let Some(cat) = category {
        let r = region.routing.resolve(&cat.code, grid.as_deref());
        // A rule naming the center itself means "the center handles it": it stays received.
        let handling_unit = region
            .unit(&r.unit)
            .is_some_and(|u| !matches!(u.kind, UnitKind::Center | UnitKind::Police));
        if matches!(r.via, RouteVia::Rule { .. }) && handling_unit {
            case.status = Status::Dispatched.as_str().into();
            case.unit_id = Some(r.unit.clone());
            case.dispatched_at = Some(now);
            case.sign_due = Some(now + i64::from(cat.sign_minutes) * 60_000);
            case.close_due = Some(now + i64::from(cat.close_hours) * 3_600_000);
            let (rule_cat, scope) = match &r.via {
                RouteVia::Rule { category, scope } => (category.clone(), scope.clone()),
                RouteVia::Fallback => (cat.code.clone(), None),
            };
            events.push(NewEvent {
                kind: "dispatched".into(),
                from_status: Some(Status::Received.as_str().into()),
                to_status: Some(Status::Dispatched.as_str().into()),
                actor_id: Some(principal.user_id),
                unit_id: Some(r.unit.clone()),
                note: None,
                detail: Some(json!({
                    "auto": true,
                    "rule": {"category": rule_cat, "scope": scope},
                    "sign_due": case.sign_due.map(render_time),
                    "close_due": case.close_due.map(render_time),
                })),
            });
        }
        route = Some(r.via);
    }

    // --- write ----------------------------------------------------------------------------
    let mut tx = begin_write(store).await?;
    case.caller_id = upsert_caller(&mut tx, &caller, now).await?;
    let (id, public_id) = insert_case(&mut tx, store.engine(), &region.code, &case).await?;
    append_events(&mut tx, id, &events, now, Some(1)).await?;
    if let Some(mut payload) = police_payload {
        payload["case"] = json!(public_id);
        enqueue(&mut tx, "police.transfer", &payload, now).await?;
    }
    tx.commit().await?;

    let row = CaseRow {
        id,
        public_id,
        channel: case.channel,
        caller_id: case.caller_id,
        content: case.content,
        category_code: case.category_code,
        grid_code: case.grid_code,
        address: case.address,
        lat: case.lat,
        lon: case.lon,
        priority: case.priority,
        status: case.status,
        operator_id: case.operator_id,
        unit_id: case.unit_id,
        sign_due: case.sign_due,
        close_due: case.close_due,
        dispatched_at: case.dispatched_at,
        signed_at: None,
        replied_at: None,
        closed_at: None,
        extension_requested: 0,
        supervised: 0,
        overdue_sign: 0,
        overdue_close: 0,
        escalation_step: 0,
        redo_count: 0,
        satisfaction: None,
        open311_token: case.open311_token,
        external_id: case.external_id,
        created_at: now,
        updated_at: now,
        version: 1,
        caller_phone: caller.phone,
        caller_name: caller.name,
        caller_gender: caller.gender,
        caller_age_band: caller.age_band,
        caller_occupation: caller.occupation,
    };
    Ok(Created {
        case: row,
        classification,
        location,
        route,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_checked() {
        assert_eq!(
            normalize_phone("138-0013-8000").as_deref(),
            Some("13800138000")
        );
        assert_eq!(
            normalize_phone("+86 138 0013 8000").as_deref(),
            Some("+8613800138000")
        );
        assert_eq!(normalize_phone("110").as_deref(), Some("110"));
        assert_eq!(normalize_phone("12"), None);
        assert_eq!(normalize_phone("abc12345"), None);
    }

    #[test]
    fn times_render_in_shanghai() {
        use chrono::Utc;
        let ms = Utc
            .with_ymd_and_hms(2026, 11, 29, 1, 30, 0)
            .unwrap()
            .timestamp_millis();
        assert_eq!(render_time(ms), "2026-11-29T09:30:00+08:00");
        assert_eq!(shanghai(ms).format("%Y%m%d").to_string(), "20261129");
    }
}

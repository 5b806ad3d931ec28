/*!
Queues: the center's, a unit's and my cases, with views, search and sorting.
*/

use super::*;

/// The queue views and which roles see them.
pub(super) fn views_for(role: Role) -> &'static [&'static str] {
    match role {
        Role::Admin | Role::Supervisor | Role::Operator | Role::Dispatcher => &[
            "new",
            "overdue",
            "returned",
            "to_sign",
            "in_progress",
            "awaiting_police",
            "mine",
            "transferred",
            "closed",
            "all",
        ],
        // A unit keeps seeing its cases after replying (done) and can search all of them.
        Role::UnitHandler => &["to_sign", "in_progress", "overdue", "done", "all"],
        Role::GridWorker => &["mine"],
        Role::Analyst | Role::Auditor => &[],
    }
}

/// The view a request asks for when the role has it, else the role's first; `None` for a role
/// without queues.
pub(super) fn pick_view(role: Role, asked: Option<&str>) -> Option<&'static str> {
    let views = views_for(role);
    let first = views.first()?;
    Some(
        asked
            .and_then(|a| views.iter().find(|v| **v == a))
            .unwrap_or(first),
    )
}

pub(super) fn view_key(view: &str) -> &'static str {
    match view {
        "new" => "queue.new",
        "overdue" => "queue.overdue",
        "returned" => "queue.returned",
        "to_sign" => "queue.to_sign",
        "in_progress" => "queue.in_progress",
        "awaiting_police" => "queue.awaiting_police",
        "transferred" => "queue.transferred",
        "closed" => "queue.closed",
        "done" => "queue.done",
        "all" => "queue.all",
        _ => "queue.mine",
    }
}

pub(super) use crate::store::cases::OPEN_STATUSES;

/// A list total as shown: the count, or "10000+" when the store stopped counting
/// ([`crate::store::cases::COUNT_CAP`]) — a tab over years of closed cases costs no more
/// than one over today's.
pub(super) fn shown_total(n: i64) -> serde_json::Value {
    use crate::store::cases::COUNT_CAP;
    if n > COUNT_CAP {
        json!(format!("{COUNT_CAP}+"))
    } else {
        json!(n)
    }
}

/// The store filter of a view for a principal, scope included (same rules as the JSON list).
pub(super) fn view_filter(state: &AppState, p: &Principal, view: &str) -> Option<CaseFilter> {
    let mut f = CaseFilter {
        limit: QUEUE_LIMIT,
        ..Default::default()
    };
    let statuses: &[&str] = match view {
        "new" => &["received"],
        "returned" => &["returned"],
        "to_sign" => &["dispatched"],
        "in_progress" => &["signed", "in_progress"],
        // Handed to an emergency line and not yet acknowledged (待确认): a loop, not an end.
        "awaiting_police" => {
            f.handoff_state = Some("awaiting".into());
            &["transferred_police"]
        }
        "overdue" => {
            f.overdue = Some(true);
            OPEN_STATUSES
        }
        "transferred" => &["transferred_police"],
        "closed" => &["closed"],
        "done" => &["replied", "followed_up", "closed"],
        // Every status: where a search finds a case whatever became of it.
        _ => &[],
    };
    f.statuses = statuses.iter().map(|s| s.to_string()).collect();
    // 一事多诉: a repeat merged into an open case is handled with it, not on its own.
    f.hide_merged = matches!(view, "new" | "returned");
    match p.role {
        Role::UnitHandler => f.unit = Some(p.unit_id.clone()?),
        Role::GridWorker => {
            f.grid_work = true;
            f.grid_codes = state.region.grid_reach(&p.grid_codes);
            if f.grid_codes.is_empty() {
                return None;
            }
        }
        Role::Analyst | Role::Auditor => return None,
        _ => {
            if view == "mine" {
                f.operator_id = Some(p.user_id);
                f.statuses = OPEN_STATUSES.iter().map(|s| s.to_string()).collect();
            }
        }
    }
    Some(f)
}

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    #[serde(default)]
    pub(super) view: Option<String>,
    #[serde(default)]
    pub(super) q: Option<String>,
    #[serde(default)]
    pub(super) category: Option<String>,
    #[serde(default)]
    sort: Option<String>,
    /// A period, `YYYY-MM-DD` (Shanghai), both days included.
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    /// A handling unit (center roles).
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    /// A grid unit: its cases and those of everything under it.
    #[serde(default)]
    area: Option<String>,
    /// Keyset page: cases older than this one (by internal id).
    #[serde(default)]
    before: Option<i64>,
    /// An action just taken on a case this user no longer sees (the confirmation).
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    case: Option<String>,
    #[serde(default)]
    // Read by the language middleware from the query string; accepted here so that a
    // `?lang=` on a form or link is not an unknown field.
    #[allow(dead_code)]
    lang: Option<String>,
}

/// The search fields beyond words and category: period, unit, channel, area, keyset page.
pub(super) struct Search {
    /// Words, a case number or a phone number (then also the caller's whole number).
    text: Option<String>,
    category: Option<String>,
    from: Option<String>,
    to: Option<String>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    unit: Option<String>,
    channel: Option<String>,
    area: Option<String>,
    before: Option<i64>,
}

impl Search {
    /// Reads the query, dropping what is not valid (an unknown unit, a malformed date) rather
    /// than failing the page: a search form must always come back.
    pub(super) fn read(q: &QueueQuery, state: &AppState, role: Role) -> Search {
        let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        let from = nonempty(&q.from).filter(|d| crate::model::time::day_start_ms(d).is_some());
        let to = nonempty(&q.to).filter(|d| crate::model::time::day_start_ms(d).is_some());
        Search {
            text: nonempty(&q.q).map(|s| s.trim().to_string()),
            category: nonempty(&q.category).filter(|c| state.region.category(c).is_some()),
            from_ms: from.as_deref().and_then(crate::model::time::day_start_ms),
            to_ms: to
                .as_deref()
                .and_then(crate::model::time::day_start_ms)
                .map(|t| t + 86_400_000),
            from,
            to,
            // A unit handler's queue is its unit's already.
            unit: nonempty(&q.unit)
                .filter(|u| role != Role::UnitHandler && state.region.unit(u).is_some()),
            channel: nonempty(&q.channel).filter(|c| Channel::parse(c).is_some()),
            area: nonempty(&q.area).filter(|a| state.region.grid(a).is_some()),
            before: q.before.filter(|b| *b > 0),
        }
    }

    pub(super) fn apply(&self, f: &mut CaseFilter, state: &AppState) {
        f.q_phone = self
            .text
            .as_deref()
            .and_then(crate::engine::intake::normalize_phone);
        f.q = self.text.clone();
        f.category = self.category.clone();
        f.created_from = self.from_ms;
        f.created_to = self.to_ms;
        f.before_id = self.before;
        if let Some(u) = &self.unit {
            f.unit = Some(u.clone());
        }
        if let Some(c) = &self.channel
            && f.channel.is_none()
        {
            f.channel = Some(c.clone());
        }
        if let Some(a) = &self.area {
            let within = state.region.grid_reach(std::slice::from_ref(a));
            // A grid worker's reach already limits the cells: the area narrows it further.
            f.grid_codes = if f.grid_codes.is_empty() {
                within
            } else {
                f.grid_codes
                    .iter()
                    .filter(|g| within.contains(g))
                    .cloned()
                    .collect()
            };
            if f.grid_codes.is_empty() {
                f.grid_codes = vec![String::new()];
            }
        }
    }

    /// The fields as a query-string tail (`&from=…`), for links that keep the search.
    pub(super) fn query_string(&self) -> String {
        let mut s = String::new();
        for (k, v) in [
            ("from", &self.from),
            ("to", &self.to),
            ("unit", &self.unit),
            ("channel", &self.channel),
            ("area", &self.area),
        ] {
            if let Some(v) = v {
                s.push_str(&format!("&{k}={}", url_encode(v)));
            }
        }
        s
    }

    fn json(&self, state: &AppState, role: Role) -> serde_json::Value {
        json!({
            "from": self.from.clone().unwrap_or_default(),
            "to": self.to.clone().unwrap_or_default(),
            "unit": self.unit.clone().unwrap_or_default(),
            "channel": self.channel.clone().unwrap_or_default(),
            "area": self.area.clone().unwrap_or_default(),
            "units": if role == Role::UnitHandler { vec![] } else {
                state.region.units.iter().map(|u| json!({"id": u.id, "name": u.name})).collect()
            },
            "channels": Channel::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            // Areas are the upper tiers (a township, a village): the cells are too many.
            "areas": state.region.grid_units.iter().filter(|g| g.tier <= 2)
                .map(|g| json!({"code": g.code, "path": state.region.grid_path(&g.code)}))
                .collect::<Vec<_>>(),
        })
    }
}

/// `GET /console/queue`: one view, its tab counts, filter and sort.
pub async fn queue(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<QueueQuery>,
) -> Response {
    let p = &user.principal;
    let lang = user.lang;
    let views = views_for(p.role);
    let Some(view) = pick_view(p.role, q.view.as_deref()) else {
        return error_page(
            lang,
            Some(&user),
            StatusCode::FORBIDDEN,
            lang.t("error.forbidden"),
        );
    };
    let search = Search::read(&q, &state, p.role);
    let (text, category) = (search.text.clone(), search.category.clone());
    let deadline_view = matches!(
        view,
        "to_sign" | "in_progress" | "overdue" | "awaiting_police"
    );
    let sort = match q.sort.as_deref() {
        Some(s @ ("due" | "created_desc" | "created_asc" | "priority" | "id")) => s,
        _ if deadline_view => "due",
        _ => "created_desc",
    };

    let mut tabs = Vec::new();
    let mut rows: Vec<CaseRow> = Vec::new();
    let mut total_here = 0;
    for v in views {
        let Some(mut f) = view_filter(&state, p, v) else {
            continue;
        };
        if *v == view {
            search.apply(&mut f, &state);
            match state.store.list_cases(&f).await {
                Ok((r, total)) => {
                    rows = r;
                    total_here = total;
                    tabs.push((v, total));
                }
                Err(e) => return store_error_page(&user, e),
            }
        } else {
            // The other tabs show a count only: no row is read for them.
            match state.store.count_cases(&f).await {
                Ok(total) => tabs.push((v, total)),
                Err(e) => return store_error_page(&user, e),
            }
        }
    }
    // The next keyset page starts below the oldest row of this one (before any re-sorting).
    let next_before = (rows.len() as i64 >= QUEUE_LIMIT)
        .then(|| rows.iter().map(|r| r.id).min())
        .flatten();
    let prio_rank = |p: &str| match p {
        "urgent" => 0,
        "high" => 1,
        "normal" => 2,
        _ => 3,
    };
    match sort {
        "due" => rows.sort_by_key(|r| {
            let due = if r.handoff_state.as_deref() == Some("awaiting") {
                r.handoff_at
            } else {
                running_deadline(r)
            };
            (due.unwrap_or(i64::MAX), r.id)
        }),
        "created_asc" | "id" => rows.sort_by_key(|r| r.id),
        "priority" => rows.sort_by_key(|r| (prio_rank(&r.priority), std::cmp::Reverse(r.id))),
        _ => rows.sort_by_key(|r| std::cmp::Reverse(r.id)),
    }
    let now = now_ms();
    let base_q = |extra: &str| {
        let mut s = format!("/console/queue?view={view}");
        if let Some(t) = &text {
            s.push_str(&format!("&q={}", url_encode(t)));
        }
        if let Some(c) = &category {
            s.push_str(&format!("&category={}", url_encode(c)));
        }
        s.push_str(&search.query_string());
        s.push_str(extra);
        s
    };
    let row_json: Vec<_> = rows
        .iter()
        .map(|r| {
            // A hand-off waiting for the line: its deadline is the acknowledgement window.
            let ack_due = (r.handoff_state.as_deref() == Some("awaiting"))
                .then(|| {
                    r.handoff_at
                        .map(|at| at + state.config.handoff_ack_minutes * 60_000)
                })
                .flatten();
            let due = ack_due.or_else(|| running_deadline(r));
            let (due_text, overdue) = match due {
                Some(d) => i18n::time_left(lang, d, now),
                None => (String::from("—"), false),
            };
            json!({
                "public_id": r.public_id,
                "href": format!("/console/cases/{}", r.public_id),
                "content": r.content.chars().take(60).collect::<String>(),
                "category": category_name(&state, lang, r.category_code.as_deref()),
                "grid": grid_name(&state, r.grid_code.as_deref()),
                "unit": unit_name(&state, r.unit_id.as_deref()),
                "status": r.status,
                "emergency_line": r.emergency_line,
                "priority": r.priority,
                "supervised": r.supervised != 0,
                "created": r.created_at,
                "due_ms": due,
                "due_text": due_text,
                "overdue": overdue || r.overdue_sign != 0 || r.overdue_close != 0,
            })
        })
        .collect();
    let sort_label = |s: &str| -> String {
        match (s, lang) {
            ("due", Lang::Zh) => "时限最近优先".into(),
            ("due", Lang::En) => "Deadline first".into(),
            ("created_desc", Lang::Zh) => "最新受理优先".into(),
            ("created_desc", Lang::En) => "Newest first".into(),
            ("created_asc", Lang::Zh) => "最早受理优先".into(),
            ("created_asc", Lang::En) => "Oldest first".into(),
            (_, Lang::Zh) => "优先级".into(),
            (_, Lang::En) => "Priority".into(),
        }
    };
    let data = json!({
        "title_key": view_key(view),
        "view": view,
        "tabs": tabs.iter().map(|(v, n)| json!({
            "href": format!("/console/queue?view={v}"),
            "key": view_key(v),
            "active": **v == view,
            "count": shown_total(*n),
        })).collect::<Vec<_>>(),
        "filter": {"q": text.clone().unwrap_or_default(), "category": category.clone().unwrap_or_default()},
        "categories": super::category_choices(&state.region.categories, lang),
        "sorts": SORTS.iter().map(|s| json!({
            "value": s, "label": sort_label(s), "selected": *s == sort,
        })).collect::<Vec<_>>(),
        "sort_links": {
            "id": base_q("&sort=created_asc"),
            "created": base_q(if sort == "created_desc" { "&sort=created_asc" } else { "&sort=created_desc" }),
            "due": base_q("&sort=due"),
        },
        "rows": row_json,
        "search": search.json(&state, p.role),
        "total": shown_total(total_here),
        "next_page": next_before.map(|b| base_q(&format!("&sort={sort}&before={b}"))),
        "paged": search.before.is_some(),
        "export_href": base_q("").replacen("/console/queue?", "/console/queue/export?", 1),
        "flash": q.done.as_deref().and_then(Action::parse).map(|a| json!({
            "kind": "ok",
            "text": format!("{} {} ✓", q.case.as_deref().unwrap_or(""), lang.t(&format!("action.{}", a.as_str()))),
        })),
    });
    page_response(
        &state,
        &user,
        StatusCode::OK,
        "queue.html",
        "queue",
        Value::from_serialize(data),
    )
}

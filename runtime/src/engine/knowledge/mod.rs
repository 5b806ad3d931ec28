/*!
The knowledge base for consultations (知识库, 答疑解惑): entries the center keeps (question,
answer, category, the unit the answer comes from, the last day it holds), the entries suggested
for a request text while the call-taker types, and the edits.

- **Who**: the center's roles read it and answer from it (admin, supervisor, operator,
  dispatcher); only admins and supervisors write it ([`KNOWLEDGE_EDITORS`]) — an answer the center
  gives every caller is vetted like a routing rule, so operators do not edit it (they tell their
  supervisor). Every write is audited in its transaction.
- **Search** ([`suggest`]): BM25 ([`bm25`]) over the question and answer, cut into words by the
  triage segmenter (`Triage::search_terms`: the region's jieba, its category keywords, and Han
  character pairs, so a differently worded request still meets its entry). The index is built per
  process from the database and rebuilt when the table's stamp (rows, last edit, versions)
  changes — an edit here or through another `m110d`. Retired entries are not indexed; expired
  ones (past `valid_until`, Asia/Shanghai) are indexed but never suggested, so one expires at
  midnight without an edit.
- **Answering** from an entry is the lifecycle's `answer` action (当场答复, counted as
  `answered`) with `knowledge` set: `engine::actions` checks the entry with [`usable`], names it
  in the event's detail and counts it on the entry.
*/

pub mod bm25;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::error::{Error, Result};
use super::region::RegionIndex;
use crate::model::time::{day_start_ms, now_ms};
use crate::model::{Principal, Role};
use crate::store::Store;
use crate::store::audit::{NewAudit, record_audit};
use crate::store::knowledge::{
    KnowledgeEntry, KnowledgeFields, KnowledgeFilter, KnowledgeStamp, insert_entry, update_entry,
};

/// Roles that read the knowledge base and answer from it.
pub const KNOWLEDGE_READERS: &[Role] = &[
    Role::Admin,
    Role::Supervisor,
    Role::Operator,
    Role::Dispatcher,
];
/// Roles that write it.
pub const KNOWLEDGE_EDITORS: &[Role] = &[Role::Admin, Role::Supervisor];
/// Longest question.
pub const MAX_QUESTION_CHARS: usize = 500;
/// Longest answer.
pub const MAX_ANSWER_CHARS: usize = 4000;
/// Most entries [`suggest`] returns.
pub const MAX_SUGGESTIONS: usize = 5;
/// Entries whose score is below this share of the best one's are not suggested (noise).
const RELATIVE_FLOOR: f64 = 0.25;
const DAY_MS: i64 = 86_400_000;

/// An entry as an editor sends it (`POST /api/v1/knowledge`, `PUT /api/v1/knowledge/{id}`, the
/// console's form).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeInput {
    // Defaults, so that a missing field is the engine's 422 naming it — after the role check.
    #[serde(default)]
    pub question: String,
    #[serde(default)]
    pub answer: String,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub source_unit: Option<String>,
    /// `YYYY-MM-DD`, the last day the answer holds.
    #[serde(default)]
    pub valid_until: Option<String>,
    /// Required on an edit: the version the editor saw.
    #[serde(default)]
    pub expected_version: Option<i64>,
}

/// An entry suggested for a request text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    pub id: i64,
    pub question: String,
    pub answer: String,
    pub category_code: Option<String>,
    pub source_unit: Option<String>,
    pub valid_until: Option<String>,
    pub score: f64,
}

/// The search index of one process (see the module docs).
#[derive(Debug, Default)]
pub struct KnowledgeBase {
    built: RwLock<Option<Arc<Built>>>,
}

#[derive(Debug)]
struct Built {
    stamp: KnowledgeStamp,
    index: bm25::Bm25,
    entries: HashMap<i64, KnowledgeEntry>,
}

/// Whether an entry holds at `now` (active and not past its last day).
pub fn holds(entry: &KnowledgeEntry, now: i64) -> bool {
    entry.active && !expired(entry.fields.valid_until.as_deref(), now)
}

/// Whether a `valid_until` day is over at `now` (the day itself is still valid).
pub fn expired(valid_until: Option<&str>, now: i64) -> bool {
    valid_until
        .and_then(day_start_ms)
        .is_some_and(|start| now >= start + DAY_MS)
}

impl KnowledgeBase {
    /// The index for the table as it is now, rebuilt when its stamp changed.
    async fn current(&self, store: &Store, region: &RegionIndex) -> Result<Arc<Built>> {
        let stamp = store.knowledge_stamp().await?;
        if let Some(b) = self
            .built
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .filter(|b| b.stamp == stamp)
        {
            return Ok(b.clone());
        }
        let entries = store
            .knowledge_entries(&KnowledgeFilter {
                limit: 5000,
                ..KnowledgeFilter::default()
            })
            .await?;
        let docs: Vec<bm25::Doc> = entries
            .iter()
            .map(|e| bm25::Doc {
                id: e.id,
                question: region.triage.search_terms(&e.fields.question),
                answer: region.triage.search_terms(&e.fields.answer),
            })
            .collect();
        let built = Arc::new(Built {
            stamp,
            index: bm25::Bm25::new(&docs),
            entries: entries.into_iter().map(|e| (e.id, e)).collect(),
        });
        *self.built.write().unwrap_or_else(|e| e.into_inner()) = Some(built.clone());
        Ok(built)
    }
}

/// The entries that may answer `text`, best first: at most `limit` (≤ [`MAX_SUGGESTIONS`]),
/// never an expired or retired one.
pub async fn suggest(
    store: &Store,
    region: &RegionIndex,
    text: &str,
    limit: usize,
) -> Result<Vec<Suggestion>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let built = region.knowledge.current(store, region).await?;
    let now = now_ms();
    let ranked = built.index.rank(&region.triage.search_terms(text));
    let best = ranked.first().map_or(0.0, |r| r.1);
    Ok(ranked
        .into_iter()
        .filter(|(_, s)| *s >= best * RELATIVE_FLOOR)
        .filter_map(|(id, score)| {
            let e = built.entries.get(&id).filter(|e| holds(e, now))?;
            Some(Suggestion {
                id,
                question: e.fields.question.clone(),
                answer: e.fields.answer.clone(),
                category_code: e.fields.category_code.clone(),
                source_unit: e.fields.source_unit.clone(),
                valid_until: e.fields.valid_until.clone(),
                score,
            })
        })
        .take(limit.clamp(1, MAX_SUGGESTIONS))
        .collect())
}

/// Refuses a principal who may not read the knowledge base.
pub fn check_reader(principal: &Principal) -> Result<()> {
    if KNOWLEDGE_READERS.contains(&principal.role) {
        Ok(())
    } else {
        Err(Error::forbidden(
            "knowledge_read_forbidden",
            format!(
                "role {} may not read the knowledge base (the center's roles use it)",
                principal.role.as_str()
            ),
        )
        .arg("role", principal.role.name_zh()))
    }
}

fn check_editor(principal: &Principal) -> Result<()> {
    if KNOWLEDGE_EDITORS.contains(&principal.role) {
        Ok(())
    } else {
        Err(Error::forbidden(
            "knowledge_edit_forbidden",
            format!(
                "only admins and supervisors edit the knowledge base; role {} may read it and \
                 answer from it",
                principal.role.as_str()
            ),
        )
        .arg("role", principal.role.name_zh()))
    }
}

fn some(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(String::from)
}

/// Checks an input against the region: the fields as they are stored.
pub fn validate(region: &RegionIndex, input: &KnowledgeInput) -> Result<KnowledgeFields> {
    let question = input.question.trim().to_string();
    let answer = input.answer.trim().to_string();
    for (field, v, max) in [
        ("question", &question, MAX_QUESTION_CHARS),
        ("answer", &answer, MAX_ANSWER_CHARS),
    ] {
        if v.is_empty() {
            return Err(Error::invalid(
                field,
                "knowledge_field_required",
                format!("{field} is required"),
            )
            .arg("field", field));
        }
        if v.chars().count() > max {
            return Err(Error::invalid(
                field,
                "knowledge_too_long",
                format!("{field} is longer than {max} characters"),
            )
            .arg("field", field)
            .arg("max", max));
        }
    }
    let category = some(&input.category);
    if let Some(c) = &category
        && region.category(c).is_none()
    {
        return Err(Error::invalid(
            "category",
            "unknown_category",
            format!("{c} is not a category of this region"),
        )
        .arg("code", c));
    }
    let unit = some(&input.source_unit);
    if let Some(u) = &unit
        && region.unit(u).is_none()
    {
        return Err(Error::invalid(
            "source_unit",
            "unknown_unit",
            format!("{u} is not a unit of this region"),
        )
        .arg("unit", u));
    }
    let valid_until = some(&input.valid_until);
    if let Some(d) = &valid_until
        && day_start_ms(d).is_none()
    {
        return Err(Error::invalid(
            "valid_until",
            "knowledge_valid_until",
            format!("{d} is not a date (YYYY-MM-DD)"),
        )
        .arg("value", d));
    }
    Ok(KnowledgeFields {
        question,
        answer,
        category_code: category,
        source_unit: unit,
        valid_until,
    })
}

fn not_found(id: i64) -> Error {
    Error::not_found("record_not_found", format!("knowledge entry {id}"))
}

/// Adds an entry; returns it.
pub async fn create(
    store: &Store,
    region: &RegionIndex,
    principal: &Principal,
    input: &KnowledgeInput,
) -> Result<KnowledgeEntry> {
    check_editor(principal)?;
    let fields = validate(region, input)?;
    let mut tx = store.write().await?;
    let id = insert_entry(&mut tx, &fields, principal.user_id, now_ms()).await?;
    let target = format!("knowledge:{id}");
    record_audit(
        &mut tx,
        &NewAudit::by(principal, "knowledge.create", Some(&target))
            .with_detail(json!({"question": fields.question})),
    )
    .await?;
    tx.commit().await?;
    store
        .knowledge_entry(id)
        .await?
        .ok_or_else(|| not_found(id))
}

/// Replaces an entry's fields at the version the editor saw; returns it.
pub async fn update(
    store: &Store,
    region: &RegionIndex,
    principal: &Principal,
    id: i64,
    input: &KnowledgeInput,
) -> Result<KnowledgeEntry> {
    check_editor(principal)?;
    let fields = validate(region, input)?;
    let current = store
        .knowledge_entry(id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let version = input.expected_version.unwrap_or(current.version);
    write_version(
        store,
        principal,
        &current,
        &fields,
        true,
        version,
        "knowledge.update",
    )
    .await
}

/// Retires an entry (never deleted: cases answered from it keep pointing at it); returns it.
pub async fn retire(
    store: &Store,
    principal: &Principal,
    id: i64,
    expected_version: Option<i64>,
) -> Result<KnowledgeEntry> {
    check_editor(principal)?;
    let current = store
        .knowledge_entry(id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let version = expected_version.unwrap_or(current.version);
    let fields = current.fields.clone();
    write_version(
        store,
        principal,
        &current,
        &fields,
        false,
        version,
        "knowledge.retire",
    )
    .await
}

async fn write_version(
    store: &Store,
    principal: &Principal,
    current: &KnowledgeEntry,
    fields: &KnowledgeFields,
    active: bool,
    version: i64,
    action: &str,
) -> Result<KnowledgeEntry> {
    let id = current.id;
    let mut tx = store.write().await?;
    update_entry(
        &mut tx,
        id,
        fields,
        active,
        version,
        principal.user_id,
        now_ms(),
    )
    .await
    .map_err(|_| {
        Error::conflict(
            "knowledge_stale",
            format!("knowledge entry {id} changed since version {version}; reload it"),
        )
        .arg("id", id)
    })?;
    let target = format!("knowledge:{id}");
    record_audit(
        &mut tx,
        &NewAudit::by(principal, action, Some(&target)).with_detail(json!({
            "from_version": current.version,
            "question": fields.question,
            "active": active,
        })),
    )
    .await?;
    tx.commit().await?;
    store
        .knowledge_entry(id)
        .await?
        .ok_or_else(|| not_found(id))
}

/// Checks that an entry may answer a case now: it exists, is active and not expired. Used by
/// the `answer` action in its transaction.
pub fn usable(entry: Option<&KnowledgeEntry>, id: i64, now: i64) -> Result<()> {
    match entry {
        Some(e) if holds(e, now) => Ok(()),
        Some(_) => Err(Error::invalid(
            "knowledge",
            "knowledge_not_usable",
            format!("knowledge entry {id} is retired or expired"),
        )
        .arg("id", id)),
        None => Err(Error::invalid(
            "knowledge",
            "knowledge_not_usable",
            format!("knowledge entry {id} does not exist"),
        )
        .arg("id", id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn an_entry_expires_after_its_last_day() {
        let start = day_start_ms("2026-12-01").unwrap();
        assert!(!expired(Some("2026-12-01"), start));
        assert!(!expired(Some("2026-12-01"), start + DAY_MS - 1));
        assert!(expired(Some("2026-12-01"), start + DAY_MS));
        assert!(!expired(None, start));
    }
}

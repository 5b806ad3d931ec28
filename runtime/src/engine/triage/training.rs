/*!
Retraining from the install's own cases (`m110 triage retrain`, and the job in `m110d`).

A closed case is a labelled example: its final category is the one the unit handled it under.
When that category differs from the one the classifier suggested at intake (recorded in the
`received` event), an operator corrected it, and the example weighs
[`CORRECTED_WEIGHT`](super::classifier::CORRECTED_WEIGHT). The new model is stored in
`triage_models`; every `m110d` puts the newest one in force ([`load_latest`]).
*/

use serde::Serialize;

use super::classifier::{CORRECTED_WEIGHT, Example, Model, TrainStats};
use crate::engine::error::{Error, Result};
use crate::engine::region::RegionIndex;
use crate::model::time::now_ms;
use crate::store::Store;
use crate::store::triage::NewModel;

/// Most cases a retraining reads (the newest).
pub const MAX_TRAINING_CASES: i64 = 50_000;

/// What a retraining did.
#[derive(Debug, Clone, Serialize)]
pub struct Retrained {
    pub id: i64,
    /// Cross-validated figures of the model in force before, and of the new one.
    pub before: TrainStats,
    pub after: TrainStats,
}

/// Reads the install's closed cases, trains, stores the model and puts it in force.
pub async fn retrain(store: &Store, region: &RegionIndex) -> Result<Retrained> {
    let rows = store.triage_training_cases(MAX_TRAINING_CASES).await?;
    let mut cases = Vec::with_capacity(rows.len());
    let mut corrected = 0;
    for r in rows {
        let suggested = r
            .intake_detail
            .as_deref()
            .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
            .and_then(|d| {
                d.pointer("/classification/category")
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            });
        let was_corrected = suggested.as_deref() != Some(r.category_code.as_str());
        if was_corrected {
            corrected += 1;
        }
        cases.push(Example {
            text: r.content,
            category: r.category_code,
            weight: if was_corrected { CORRECTED_WEIGHT } else { 1.0 },
        });
    }
    let before = region.triage.model().model.stats.clone();
    let n = cases.len();
    let model = region.triage.train(&cases, n, corrected);
    let json = serde_json::to_string(&model)
        .map_err(|e| Error::internal(format!("model does not serialize: {e}")))?;
    let stats = serde_json::to_string(&model.stats)
        .map_err(|e| Error::internal(format!("stats do not serialize: {e}")))?;
    let id = store
        .save_triage_model(&NewModel {
            trained_at: now_ms(),
            examples: model.stats.examples as i64,
            cases: n as i64,
            corrected: corrected as i64,
            stats: &stats,
            model: &json,
        })
        .await?;
    let after = model.stats.clone();
    region.triage.set_model(model, Some(id));
    Ok(Retrained { id, before, after })
}

/// Puts the newest stored model in force when it is newer than the one in use. Returns the id
/// now in force. A stored model for other categories (the profile changed since) is ignored.
pub async fn load_latest(store: &Store, region: &RegionIndex) -> Result<Option<i64>> {
    let current = region.triage.model().id;
    let Some(latest) = store.latest_triage_model_id().await? else {
        return Ok(current);
    };
    if current == Some(latest) {
        return Ok(current);
    }
    let Some(row) = store.latest_triage_model().await? else {
        return Ok(current);
    };
    let model: Model = serde_json::from_str(&row.model).map_err(|e| {
        Error::internal(format!("stored triage model {} is unreadable: {e}", row.id))
    })?;
    let mut want: Vec<&str> = region.triage.classes().iter().map(String::as_str).collect();
    let mut have: Vec<&str> = model.classes.iter().map(String::as_str).collect();
    want.sort_unstable();
    have.sort_unstable();
    if want != have {
        tracing::warn!(
            model = row.id,
            "stored triage model was trained for other categories; run `m110 triage retrain`"
        );
        return Ok(current);
    }
    region.triage.set_model(model, Some(row.id));
    Ok(Some(row.id))
}

/*!
The write of one intake, as a [`Plan`] prepared outside the transaction and run inside a
group-commit batch ([`Store::write_batched`]).

Everything that needs the region (routes, outbox payloads, the receipt text) is worked out by
[`super::create_case_with`] before the request queues; the plan owns its data, so it can run on
the batch leader's task and run again if its batch is retried. Only what needs the case's id —
its public id in payloads, texts and the audit target — is filled in here.
*/

use std::sync::Arc;

use serde_json::{Value, json};

use super::super::error::{Error, Result};
use crate::store::audit::{NewAudit, record_audit};
use crate::store::callers::upsert_caller_profile;
use crate::store::cases::{CallerData, NewCase, NewEvent, enqueue_to, insert_case, insert_events};
use crate::store::rollups::NewFacts;
use crate::store::{Store, WriteTx, field};

/// Stands for the case number in a text prepared before the number exists (no region name or
/// template contains a NUL).
pub(super) const CASE_MARK: &str = "\u{0}case\u{0}";

/// An outbox message whose payload gets the case's public id under `"case"`.
pub(super) struct Outbox {
    pub topic: &'static str,
    pub payload: Value,
    pub platform: Option<String>,
    pub state: &'static str,
}

/// The case-number text to the caller (the region has an SMS gateway and the phone is a
/// mobile): what [`crate::engine::sms::queue`] writes, with the gateway chosen beforehand.
pub(super) struct Receipt {
    pub phone: String,
    pub gateway: String,
    /// The text with [`CASE_MARK`] where the case number goes.
    pub template: String,
}

/// The audit record of an operator's emergency override.
pub(super) struct Override {
    pub actor_id: i64,
    pub actor_name: String,
    pub detail: Value,
}

/// Everything one intake writes.
pub(super) struct Plan {
    pub region_code: String,
    pub caller: CallerData,
    pub case: NewCase,
    pub events: Vec<NewEvent>,
    pub on_spot: bool,
    /// A patrol report's idempotency key and its sender.
    pub report_key: Option<(String, i64)>,
    pub outbox: Vec<Outbox>,
    pub receipt: Option<Receipt>,
    pub overridden: Option<Override>,
}

/// Runs the plan in a shared transaction; `(id, public_id, caller_id)` once it has committed.
pub(super) async fn commit(store: &Store, plan: Plan) -> Result<(i64, String, Option<i64>)> {
    // The caller's row is the one existing row an intake locks: batches take callers in order.
    let key = plan.caller.phone.clone().unwrap_or_default();
    let plan = Arc::new(plan);
    store
        .write_batched_keyed(key, move |tx| {
            let plan = Arc::clone(&plan);
            Box::pin(async move { plan.write(tx).await })
        })
        .await
}

impl Plan {
    async fn write(&self, tx: &mut WriteTx) -> Result<(i64, String, Option<i64>)> {
        let now = self.case.created_at;
        let caller = upsert_caller_profile(tx, &self.caller, now).await?;
        let caller_id = caller.as_ref().map(|(id, _)| *id);
        let case = NewCase {
            caller_id,
            ..self.case.clone()
        };
        let engine = tx.engine();
        let (id, public_id) = insert_case(tx, engine, &self.region_code, &case).await?;
        if self.on_spot {
            field::close_on_spot(tx, id, now).await?;
        }
        if let Some((key, user)) = &self.report_key
            && !field::insert_report_key(tx, key, *user, id, now).await?
        {
            // Sent before (the phone was offline or lost the answer): this request's writes
            // are rolled back with it.
            return Err(Error::conflict(
                "duplicate_report",
                "this report was received before",
            ));
        }
        // The case's analytics follow from what was just written (its row and these events):
        // counted at COMMIT with the rest of the batch, nothing read back.
        insert_events(tx, id, &self.events, now, 1).await?;
        let profile = caller.map(|(_, p)| p).unwrap_or_default();
        tx.defer_new_facts(NewFacts::of_new_case(id, &case, profile, &self.events, now));
        for m in &self.outbox {
            let mut payload = m.payload.clone();
            payload["case"] = json!(public_id);
            enqueue_to(tx, m.topic, &payload, m.platform.as_deref(), m.state, now).await?;
        }
        if let Some(r) = &self.receipt {
            let text = r.template.replacen(CASE_MARK, &public_id, 1);
            crate::engine::sms::queue_to(
                tx,
                &r.gateway,
                &r.phone,
                id,
                crate::engine::sms::RECEIPT,
                &text,
                now,
            )
            .await?;
        }
        if let Some(o) = &self.overridden {
            // The detector said emergency and a person said otherwise: always on record.
            let target = format!("case:{public_id}");
            let entry = NewAudit {
                actor_id: Some(o.actor_id),
                actor_name: Some(&o.actor_name),
                action: "triage.emergency_override",
                target: Some(&target),
                detail: Some(o.detail.clone()),
            };
            record_audit(tx, &entry).await?;
        }
        Ok((id, public_id, caller_id))
    }
}

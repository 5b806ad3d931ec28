/*!
The engines: the domain services every front-end shares, one module each.

- [`region`]: the region index built once per process (lookups, classifier, routing table).
- [`triage`]: the emergency stage (110/119/120/122), the category classifier and the locator.
- [`routing`]: category × grid scope → handling unit.
- [`lifecycle`]: the case state machine (pure).
- [`intake`]: create a case (validate, triage, route, write in one transaction).
- [`actions`]: apply a lifecycle action with its event in one transaction.
- [`duplicates`], [`merge`]: 一事多诉 — the open cases a case may repeat; merging a repeat into
  its case (it follows the parent to the reply and the close) or dismissing the suggestion.
- [`delivery`]: send outbox messages to the platforms they are for (signed, retried, leased).
- [`forward`]: cases of units reached through another platform (12345): sent, taken, pulled back.
- [`sms`]: texts to citizens (case number, 回访 question) and from them (new case, thread, reply).
- [`attachments`]: photos and documents on cases — checked by their bytes, location stripped,
  thumbnailed, stored content-addressed in the install directory or an S3-compatible bucket.
- [`directories`], [`households`]: the data systems' checks and rules.
- [`knowledge`]: the knowledge base for consultations (知识库): edits, and BM25 suggestions for a
  request text.
- [`import`]: load an existing platform's history (checked whole, written in one transaction).
- [`provision`]: load a region model into an empty database in one transaction.
- [`upgrade`]: a live install to the kit's migrations and a changed region, planned then
  applied exactly as planned in one transaction (retire, re-route, never delete).
- [`regiondiff`]: field-by-field difference of two region models (doctor's drift, upgrade's plan).

Every engine returns [`error::Error`], which knows nothing of HTTP: the front-ends map it once.
Invariant: nothing here uses the front-ends (http, open311, console) — the architecture test
checks it.
*/

pub mod accounts;
pub mod actions;
pub mod alerts;
pub mod analytics;
pub mod attachments;
pub mod cameras;
pub mod delivery;
pub mod directories;
pub mod duplicates;
pub mod error;
pub mod export;
pub mod field;
pub mod forward;
pub mod households;
pub mod import;
pub mod intake;
pub mod knowledge;
pub mod lifecycle;
pub mod login;
pub mod matching;
pub mod merge;
pub mod offers;
pub mod provision;
pub mod region;
pub mod regiondiff;
pub mod report;
pub mod routing;
pub mod scorecards;
pub mod sms;
pub mod triage;
pub mod upgrade;
pub mod warning;

pub use error::{Error, ErrorKind, Result};

/*!
The HTTP layer of `m110d`: JSON APIs under `/api/v1`, health and metrics, the OpenAPI document.

- [`AppState`]: what every handler shares (store, region index, metrics, config). Cheap to clone.
- [`router`]: merges every resource's `router()` and wraps the stack (body limit, metrics, trace,
  authorization by the route table in [`auth::ROUTES`]).
- [`error`]: the one [`ApiError`](error::ApiError) → response mapping, plus the JSON and query
  extractors whose rejections are API errors.
- [`auth`]: the [`Principal`](crate::model::Principal) extractor (session cookie or Bearer token),
  login / logout / me.
- One module per resource: [`cases`], [`calls`], [`directories`], [`households`], [`health`],
  [`metrics`], [`openapi`], [`sms`] (the SMS gateway's inbound callback).

Invariant: handlers hold no business rules — intake, the lifecycle and their storage live in
[`crate::engine::intake`], [`crate::engine::lifecycle`] and [`crate::store::cases`], shared with Open311 and the
console.
*/

pub mod alerts;
pub mod analytics;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod calls;
pub mod cases;
pub mod directories;
pub mod error;
pub mod guard;
pub mod health;
pub mod households;
pub mod knowledge;
pub mod metrics;
pub mod offers;
pub mod openapi;
pub mod scorecards;
pub mod sms;

use std::sync::Arc;

use crate::config::Config;
use crate::engine::region::RegionIndex;
use crate::store::Store;

/// State shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Region data built once at start-up: classifier, locator, routing table, categories, units.
    pub region: Arc<RegionIndex>,
    pub metrics: Arc<metrics::Metrics>,
    pub config: Arc<Config>,
    /// Short-lived cache of Bearer token → principal, so integrations do not cost a database
    /// round trip (and a `last_used_at` write) on every request.
    pub tokens: Arc<auth::TokenCache>,
    /// Where attachment bytes go (the install's `attachments/` or an S3-compatible bucket) and
    /// how big they may be (`attachments:` in `m110d.yaml`).
    pub attachments: Arc<crate::engine::attachments::Attachments>,
    /// Password checks: throttling, the hashing semaphore, the clock (`engine::login`).
    pub login: crate::engine::login::LoginGate,
}

impl AppState {
    pub fn new(store: Store, region: RegionIndex, config: Config) -> AppState {
        let attachments = Arc::new(attachments::blob_store(&config));
        AppState {
            attachments,
            store,
            region: Arc::new(region),
            metrics: Arc::new(metrics::Metrics::default()),
            config: Arc::new(config),
            tokens: Arc::new(auth::TokenCache::default()),
            login: crate::engine::login::LoginGate::default(),
        }
    }
}

/*!
`m110-runtime`: the Minsheng 110 service center.

- [`model`]: the region model a profile compiles into (no I/O).
- [`routing`]: category × grid scope → handling unit.
- [`store`]: the database (SQLite or PostgreSQL) behind one repository API, with migrations.
- [`auth`]: roles, principals, password hashing, tokens.
- [`privacy`]: masking of phone and ID numbers.
- [`config`]: `m110d.yaml` + environment + flags.
- [`lifecycle`]: the case state machine (status × action × role).
- [`triage`]: classifier (police first, jieba keywords) and locator.
- [`intake`]: the create-case service (caller, triage, routing, case, events in one transaction).
- [`actions`]: the lifecycle service (apply an action with its event in one transaction).
- [`jobs`]: background jobs (deadlines and escalation) that run safely on several servers.
- [`http`]: the axum application; [`server`]: `serve(config, listener, shutdown)`.
- [`open311`]: the Open311 GeoReport v2 endpoint (`/open311/v2`).
- [`console`]: the operator web console (pages, charts, i18n).
- [`provision`]: load a region model into an empty database in one transaction.
*/

pub mod actions;
pub mod auth;
pub mod config;
pub mod console;
pub mod http;
pub mod intake;
pub mod jobs;
pub mod lifecycle;
pub mod model;
pub mod open311;
pub mod privacy;
pub mod provision;
pub mod routing;
pub mod server;
pub mod store;
pub mod triage;

/// The kit and runtime version, stamped into `kit.lock` and `m110d --version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

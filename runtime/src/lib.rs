/*!
`m110-runtime`: the Minsheng 110 service center.

Layers, dependencies pointing one way (the architecture test in `tests/architecture.rs` enforces
it): [`model`] ← [`policy`] ← [`store`] ← [`engine`] ← [`jobs`] ← front-ends ([`http`],
[`open311`], [`console`]) ← [`server`].

- [`model`]: the region model a profile compiles into, the case model, roles, time (no I/O).
- [`policy`]: who may see and do what; masking; how secrets are kept.
- [`store`]: the database (SQLite or PostgreSQL) behind one repository API, with migrations.
- [`engine`]: the domain services — triage, routing, lifecycle, intake, actions, directories,
  households, provisioning — each returning [`engine::Error`].
- [`jobs`]: the background-job runner and its jobs (deadlines and escalation).
- [`http`] (JSON API), [`open311`] (GeoReport v2), [`console`] (operator pages): front-ends that
  translate requests into engine calls and engine errors into responses.
- [`router`]: every route of every front-end, with the cross-cutting layers;
  [`server`]: `serve(config, listener, shutdown)`; [`config`]: `m110d.yaml` + environment + flags.
*/

pub mod config;
pub mod console;
pub mod engine;
pub mod http;
pub mod jobs;
pub mod model;
pub mod open311;
pub mod policy;
pub mod router;
pub mod server;
pub mod store;

/// The kit and runtime version, stamped into `kit.lock` and `m110d --version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/*!
`m110-runtime`: the Minsheng 110 service center.

- [`model`]: the region model a profile compiles into (no I/O).
- [`routing`]: category × grid scope → handling unit.
- [`config`]: `m110d.yaml` + environment + flags.
- [`lifecycle`]: the case state machine (status × action × role).
- [`triage`]: classifier (police first, jieba keywords) and locator.
*/

pub mod auth;
pub mod config;
pub mod lifecycle;
pub mod model;
pub mod routing;
pub mod triage;

/// The kit and runtime version, stamped into `kit.lock` and `m110d --version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

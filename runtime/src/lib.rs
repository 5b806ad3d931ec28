/*!
`m110-runtime`: the Minsheng 110 service center.

- [`model`]: the region model a profile compiles into (no I/O).
- [`routing`]: category × grid scope → handling unit.
- [`console`]: the operator web console (pages, charts, i18n).
*/

pub mod console;
pub mod model;
pub mod routing;

/// The kit and runtime version, stamped into `kit.lock` and `m110d --version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

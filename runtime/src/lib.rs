/*!
`m110-runtime`: the Minsheng 110 service center.

- [`model`]: the region model a profile compiles into (no I/O).
- [`routing`]: category × grid scope → handling unit.
- [`store`]: the database (SQLite or PostgreSQL) behind one repository API, with migrations.
- [`auth`]: roles, principals, password hashing, tokens.
- [`privacy`]: masking of phone and ID numbers.
- [`open311`]: the Open311 GeoReport v2 endpoint (`/open311/v2`).
- [`console`]: the operator web console (pages, charts, i18n).
- [`provision`]: load a region model into an empty database in one transaction.
*/

pub mod auth;
pub mod console;
pub mod model;
pub mod open311;
pub mod privacy;
pub mod provision;
pub mod routing;
pub mod store;

/// The kit and runtime version, stamped into `kit.lock` and `m110d --version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

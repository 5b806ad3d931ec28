/*!
`m110` as a library: the region profile format, the embedded division data and the kit's stages
over the region model, used by the `m110` binary's subcommands, by tests and by other tools
(provisioning calls [`generate::render`] / [`generate::write`]).

- [`profile`]: read, validate and compile a region profile ([`profile::load`]).
- [`divisions`]: the division codes embedded for `m110 init`.
- [`staffing`]: Erlang C staffing of the service center.
- [`plan`]: what a provision would create, with routing gaps and staffing.
- [`generate`]: the kit artifacts (config, schema, routing, directories, handbook, `kit.lock`).
- [`compare`]: regions side by side with a readiness check against the model's key factors.
- [`provision`]: profile → artifacts → database, for `m110 provision` and `m110 up`.
- [`doctor`]: an install against its profile and the kit: every finding.
- [`pull`]: live edits of an install written back into its profile, in place.
- [`contacts`]: units' hotlines and contacts through a spreadsheet (`m110 contacts`).
- [`backup`]: online backup of an install's database and restore into an install.
*/

pub mod backup;
pub mod compare;
pub mod contacts;
pub mod divisions;
pub mod doctor;
pub mod generate;
pub mod kpi;
pub mod plan;
pub mod profile;
pub mod provision;
pub mod pull;
pub mod staffing;
pub mod table;
pub mod triage_eval;

#[cfg(test)]
#[path = "../tests/common/fixture.rs"]
pub(crate) mod fixture;

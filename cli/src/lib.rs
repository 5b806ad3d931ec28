/*!
`m110` as a library: the kit's stages over the region model, used by the `m110` binary's
subcommands and by other tools (provisioning calls [`generate::render`] / [`generate::write`]).

- [`staffing`]: Erlang C staffing of the service center.
- [`plan`]: what a provision would create, with routing gaps and staffing.
*/

pub mod compare;
pub mod generate;
pub mod plan;
pub mod staffing;

#[cfg(test)]
#[path = "../tests/common/fixture.rs"]
pub(crate) mod fixture;

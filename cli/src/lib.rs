/*!
`m110` as a library: the region profile format and the embedded division data, shared by the
`m110` binary's subcommands and by tests.
*/

pub mod divisions;
pub mod profile;

/*!
The JSON Schema (draft-07) of the profile format, derived from the raw structs with schemars so
it always matches what the loader accepts. Editors with yaml-language-server pick it up from the
`# yaml-language-server: $schema=…` header of a profile; `docs/profile.schema.json` is this
output, committed and checked by a test.
*/

use schemars::r#gen::SchemaSettings;

use super::raw::RawProfile;

/// The schema as pretty-printed JSON with a trailing newline.
pub fn schema_json() -> String {
    let generator = SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<RawProfile>();
    let mut s = serde_json::to_string_pretty(&schema).expect("schema serialises");
    s.push('\n');
    s
}

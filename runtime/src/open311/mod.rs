/*!
Open311 GeoReport v2 at `/open311/v2`: the region's categories as services, citizen requests
created through the shared intake, and their public status — in XML (mandatory) and JSON.

- [`format`]: documents, the format-neutral tree, timestamps and errors.
- [`xml`]: the XML renderer.
- [`params`]: form and query decoding, `POST requests` fields, `GET requests` filters.
- [`services`]: categories → services and the shared attribute set.
- [`handlers`]: the routes; [`router`] mounts them.
- [`media`]: the public photo a request's `media_url` points to.

Invariant: nothing here writes a case directly — `POST requests` goes through
[`crate::engine::intake::create_case`] like every other channel.
*/

pub mod format;
pub mod handlers;
pub mod media;
pub mod params;
pub mod services;
pub mod xml;

pub use handlers::router;

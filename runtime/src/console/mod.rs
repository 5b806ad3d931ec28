/*!
The operator console: server-rendered pages for call-takers, dispatchers, handling units,
supervisors and coordinators.

- [`templates`]: the embedded minijinja environment (autoescape on).
- [`i18n`]: zh-CN / English catalog, language choice, Asia/Shanghai times.
- [`svg`]: dashboard charts and the grid density map, drawn by the server.
- [`assets`]: the stylesheet and script, served from the binary.

Invariant: the console holds no business rules. Forms call the same service functions as the
JSON API; this module only turns requests into those calls and results into pages.
*/

pub mod assets;
pub mod i18n;
pub mod svg;
pub mod templates;

/*!
The model: plain data with no I/O. [`region`] is what a profile compiles into (the API boundary
between the kit and the runtime); [`case`] the case model (statuses, actions, channels,
satisfaction); [`role`] who acts; [`time`] the one time module.

Invariant: nothing here knows SQL, HTTP or YAML (the architecture test checks it).
*/

pub mod case;
pub mod region;
pub mod role;
pub mod time;

pub use case::{
    Action, Channel, EmergencyLine, OTHER_EVENT_KINDS, Satisfaction, Status, event_kinds,
};
pub use region::*;
pub use role::{Principal, Role, TokenScope};

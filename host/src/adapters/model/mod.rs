//! The host's own view of what adapters say: plain serde types for the API, the CLI and the
//! database, converted from the generated WIT types by the `From` impls beside each type,
//! one file per topic.
//!
//! Only this module and `bindings` know the generated types' shapes; everything else in the
//! host speaks these. Wire names are snake_case and enums are internally tagged with `type`.

mod content;
mod describe;
mod files;
mod logs;
mod plans;
mod rcon;
mod schema;
mod values;

pub use content::*;
pub use describe::*;
pub use files::*;
pub use logs::*;
pub use plans::*;
pub use rcon::*;
pub use schema::*;
pub(crate) use values::to_wit;
pub use values::{Context, Setting, SettingValue};

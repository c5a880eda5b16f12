//! The host side of every contract version this host serves, generated once per version.
//!
//! Only `adapters/` sees these types: `model` converts them into the host's own types, and
//! everything outside this module speaks `model`. A new contract version gets a module beside
//! `v0_1` (and its conversions beside the model types); released versions are never edited.

pub(crate) mod v0_1;

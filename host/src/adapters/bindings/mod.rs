//! The host side of every contract version this host serves, generated once per version.
//!
//! Only `adapters/` sees these types: `model` converts them into the host's own types, and
//! everything outside this module speaks `model`. A new contract version gets a module beside
//! the others (and its conversions beside the model types); released versions are never
//! edited. Interfaces whose shapes did not change between versions share their conversion
//! code through macros over the version module (`from_wit!(v0_1)`, `from_wit!(v0_2)`).

pub(crate) mod v0_1;
pub(crate) mod v0_2;

use wasmtime::component::{InstancePre, Linker};

use super::sandbox::Sandbox;

/// A contract version this host serves.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, utoipa::ToSchema,
)]
pub enum ContractVersion {
    /// `garrison:adapter@0.1.0`.
    #[serde(rename = "0.1.0")]
    V0_1,
    /// `garrison:adapter@0.2.0`.
    #[serde(rename = "0.2.0")]
    V0_2,
}

impl ContractVersion {
    /// The newest version, the one the SDK builds against.
    pub const LATEST: ContractVersion = ContractVersion::V0_2;

    /// `MAJOR.MINOR.PATCH`.
    pub fn as_str(self) -> &'static str {
        match self {
            ContractVersion::V0_1 => "0.1.0",
            ContractVersion::V0_2 => "0.2.0",
        }
    }
}

impl std::fmt::Display for ContractVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A component checked against one contract version, ready to instantiate.
#[derive(Clone)]
pub(crate) enum Pre {
    V0_1(v0_1::GameAdapterPre<Sandbox>),
    V0_2(v0_2::GameAdapterPre<Sandbox>),
}

/// One instance's exports, of the version its component was built against.
pub(crate) enum Api {
    V0_1(v0_1::GameAdapter),
    V0_2(v0_2::GameAdapter),
}

impl Pre {
    /// Matches a linked component to the newest version whose world it implements; the
    /// error names what is missing for the newest one.
    pub(crate) fn new(pre: InstancePre<Sandbox>) -> Result<Pre, wasmtime::Error> {
        match v0_2::GameAdapterPre::new(pre.clone()) {
            Ok(pre) => Ok(Pre::V0_2(pre)),
            Err(newest) => match v0_1::GameAdapterPre::new(pre) {
                Ok(pre) => Ok(Pre::V0_1(pre)),
                Err(_) => Err(newest),
            },
        }
    }

    /// The version the component was built against.
    pub(crate) fn version(&self) -> ContractVersion {
        match self {
            Pre::V0_1(_) => ContractVersion::V0_1,
            Pre::V0_2(_) => ContractVersion::V0_2,
        }
    }

    pub(crate) fn instantiate(
        &self,
        store: &mut wasmtime::Store<Sandbox>,
    ) -> Result<Api, wasmtime::Error> {
        Ok(match self {
            Pre::V0_1(pre) => Api::V0_1(pre.instantiate(store)?),
            Pre::V0_2(pre) => Api::V0_2(pre.instantiate(store)?),
        })
    }
}

/// Adds the host's imports of every version to `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<Sandbox>) -> Result<(), wasmtime::Error> {
    v0_1::GameAdapter::add_to_linker::<Sandbox, Sandbox>(linker, |s| s)?;
    v0_2::GameAdapter::add_to_linker::<Sandbox, Sandbox>(linker, |s| s)?;
    Ok(())
}

/// Runs the same code against whichever version `api` is: `$v` names the version's
/// bindings module inside the body, `$a` its exports.
macro_rules! versioned {
    ($api:expr, |$a:ident, $v:ident| $body:expr) => {
        match $api {
            $crate::adapters::bindings::Api::V0_1($a) => {
                #[allow(unused_imports)]
                use $crate::adapters::bindings::v0_1 as $v;
                $body
            }
            $crate::adapters::bindings::Api::V0_2($a) => {
                #[allow(unused_imports)]
                use $crate::adapters::bindings::v0_2 as $v;
                $body
            }
        }
    };
}
pub(crate) use versioned;

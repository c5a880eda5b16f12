//! `garrison:adapter@0.2.0` (`wit/`): the `game-adapter` world's host bindings.
//!
//! `wit/deps/` holds the frozen 0.1.0 package too, so the generator names this package's
//! modules and export accessors with their version (`adapter0_2_0`); the aliases below give
//! them the same names as every other version's (`garrison::adapter::…`,
//! `garrison_adapter_logs()`), which the conversion and dispatch macros rely on.
#![allow(missing_docs)]

mod generated {
    wasmtime::component::bindgen!({
        world: "garrison:adapter/game-adapter@0.2.0",
        path: "../wit",
        additional_derives: [PartialEq, Clone],
    });
}

pub(crate) use generated::{GameAdapter, GameAdapterPre};

pub(crate) mod garrison {
    pub(crate) use super::generated::garrison::adapter0_2_0 as adapter;
}

pub(crate) mod exports {
    pub(crate) mod garrison {
        pub(crate) use super::super::generated::exports::garrison::adapter0_2_0 as adapter;
    }
}

macro_rules! accessors {
    ($($name:ident => $versioned:ident: $interface:ident),* $(,)?) => {
        impl GameAdapter {
            $(
                pub(crate) fn $name(&self) -> &exports::garrison::adapter::$interface::Guest {
                    self.$versioned()
                }
            )*
        }
    };
}

accessors! {
    garrison_adapter_metadata => garrison_adapter0_2_0_metadata: metadata,
    garrison_adapter_config => garrison_adapter0_2_0_config: config,
    garrison_adapter_lifecycle => garrison_adapter0_2_0_lifecycle: lifecycle,
    garrison_adapter_logs => garrison_adapter0_2_0_logs: logs,
    garrison_adapter_rcon => garrison_adapter0_2_0_rcon: rcon,
    garrison_adapter_files => garrison_adapter0_2_0_files: files,
}

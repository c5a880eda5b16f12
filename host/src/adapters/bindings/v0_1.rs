//! `garrison:adapter@0.1.0` (released, frozen in `wit/deps/adapter@0.1.0/`): the
//! `game-adapter` world's host bindings.
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    world: "game-adapter",
    path: "../wit/deps/adapter@0.1.0",
    additional_derives: [PartialEq, Clone],
});

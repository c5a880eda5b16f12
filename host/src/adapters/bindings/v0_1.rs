//! `garrison:adapter@0.1.0` (released, frozen): the `game-adapter` world's host bindings.
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    world: "game-adapter",
    path: "../wit",
    additional_derives: [PartialEq, Clone],
});

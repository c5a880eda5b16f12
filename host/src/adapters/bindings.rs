//! The host side of the `garrison:adapter@0.1.0` world: generated once, here.
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    world: "game-adapter",
    path: "../wit",
    additional_derives: [PartialEq, Clone],
});

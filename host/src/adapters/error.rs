//! Everything that can go wrong loading or calling an adapter.

use std::time::Duration;

use super::model::FieldError;

/// An adapter failure. The first three cases are the adapter's own answers; the rest are the
/// sandbox stopping a misbehaving adapter or refusing a bad file.
#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    /// The adapter does not offer this operation (the missing capability is named).
    #[error("the adapter does not support {0}")]
    Unsupported(String),
    /// The adapter refused its input.
    #[error("the adapter refused the request: {0}")]
    Rejected(String),
    /// The adapter reported a failure.
    #[error("the adapter failed: {0}")]
    Failed(String),
    /// Settings did not pass the schema or the adapter's validation.
    #[error("the settings are invalid ({} problem(s))", .0.len())]
    InvalidSettings(Vec<FieldError>),
    /// A call ran past its deadline and was stopped.
    #[error("the adapter did not answer within {} ms and was stopped", .0.as_millis())]
    Timeout(Duration),
    /// The adapter tried to use more memory than its limit.
    #[error("the adapter exceeded its memory limit of {} MiB", .0 >> 20)]
    OutOfMemory(usize),
    /// The adapter crashed (a trap): a bug in the adapter.
    #[error("the adapter crashed: {0}")]
    Trap(String),
    /// The adapter answered with more data than the host accepts.
    #[error("the adapter's answer is too large: {0}")]
    OutputTooLarge(String),
    /// The adapter answered with something that breaks the contract's rules.
    #[error("the adapter broke the contract: {0}")]
    Contract(String),
    /// A file is not a usable adapter component.
    #[error("not a usable adapter: {0}")]
    Load(String),
    /// No adapter with this id is registered.
    #[error("no adapter with id `{0}` is installed")]
    NotFound(String),
    /// Every slot of the instance pool is taken (by running servers' parsers and RCon
    /// sessions, and calls in flight); the call did not run. Freed slots are reused, and
    /// the operator can raise the limit.
    #[error(
        "no adapter instance slot is free: {in_use} in use (limit {limit}; raise it with {})",
        super::MAX_INSTANCES_OPTION
    )]
    NoInstanceSlot {
        /// Instances alive when the call asked for one.
        in_use: u64,
        /// The pool's size.
        limit: u32,
    },
    /// The sandbox could not be set up (engine, instance slots).
    #[error("adapter runtime error: {0}")]
    Runtime(String),
}

impl AdapterError {
    /// Whether the error was the sandbox stopping the adapter (as opposed to the adapter's
    /// own answer or a bad request).
    pub fn is_sandbox_stop(&self) -> bool {
        matches!(
            self,
            AdapterError::Timeout(_)
                | AdapterError::OutOfMemory(_)
                | AdapterError::Trap(_)
                | AdapterError::OutputTooLarge(_)
        )
    }
}

/// The adapter's own error, in each contract version.
macro_rules! from_wit {
    ($v:ident) => {
        impl From<super::bindings::$v::garrison::adapter::types::AdapterError> for AdapterError {
            fn from(e: super::bindings::$v::garrison::adapter::types::AdapterError) -> Self {
                use super::bindings::$v::garrison::adapter::types::AdapterError as Wit;
                match e {
                    Wit::Unsupported(capability) => AdapterError::Unsupported(capability),
                    Wit::Invalid(message) => AdapterError::Rejected(message),
                    Wit::Failed(message) => AdapterError::Failed(message),
                }
            }
        }
    };
}

from_wit!(v0_1);
from_wit!(v0_2);

//! Tests of the Source RCON module: the codec's byte vectors and limits, the session with
//! every [`ReplyEnd`](super::ReplyEnd) and option, and property tests that no input panics.

mod codec;
mod props;
mod session;

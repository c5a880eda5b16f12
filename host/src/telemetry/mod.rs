//! Live telemetry from running servers. So far: the RCon driver, which talks to a server's
//! remote console through its adapter's sans-IO session. Log tailing, player tracking and
//! metrics join it here.

pub mod rcon;

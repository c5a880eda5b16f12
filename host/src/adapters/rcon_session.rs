//! The adapter's `rcon.session` resource: a sans-IO RCon state machine the host's driver
//! feeds with received bytes and the clock.
//!
//! If the instance traps, the session's state is gone with it: every method then returns
//! the error, and the driver treats that as a lost connection (it reconnects with a new
//! session). Answers are capped like every other adapter answer.

use wasmtime::component::ResourceAny;

use super::bindings::versioned;
use super::error::AdapterError;
use super::model::SessionEvent;
use super::session::{AdapterSession, MAX_OUTPUT_BYTES, check_items};

/// One RCon conversation's protocol state, living in its own adapter instance.
pub struct RconSession {
    session: AdapterSession,
    resource: ResourceAny,
    generation: u64,
}

impl RconSession {
    /// Starts a session (the login goes out with the first `transmit`).
    pub fn new(
        mut session: AdapterSession,
        password: &str,
        now_ms: u64,
    ) -> Result<Self, AdapterError> {
        let resource = session.call(|api, store| {
            versioned!(api, |a, v| a
                .garrison_adapter_rcon()
                .session()
                .call_constructor(store, password, now_ms))
        })?;
        Ok(RconSession {
            generation: session.generation(),
            session,
            resource,
        })
    }

    fn live(&self) -> Result<ResourceAny, AdapterError> {
        if self.generation == self.session.generation() {
            Ok(self.resource)
        } else {
            Err(AdapterError::Failed(
                "the RCon session was lost when its adapter instance was replaced".into(),
            ))
        }
    }

    /// Bytes the socket received.
    pub fn receive(&mut self, data: &[u8], now_ms: u64) -> Result<Vec<SessionEvent>, AdapterError> {
        let resource = self.live()?;
        let events = self.session.call(|api, store| {
            versioned!(api, |a, v| a
                .garrison_adapter_rcon()
                .session()
                .call_receive(store, resource, data, now_ms)
                .map(convert_events))
        })?;
        events_out(events)
    }

    /// Advances the session's timers.
    pub fn tick(&mut self, now_ms: u64) -> Result<Vec<SessionEvent>, AdapterError> {
        let resource = self.live()?;
        let events = self.session.call(|api, store| {
            versioned!(api, |a, v| a
                .garrison_adapter_rcon()
                .session()
                .call_tick(store, resource, now_ms)
                .map(convert_events))
        })?;
        events_out(events)
    }

    /// What to send now.
    pub fn transmit(&mut self, now_ms: u64) -> Result<Vec<Vec<u8>>, AdapterError> {
        let resource = self.live()?;
        let packets = self.session.call(|api, store| {
            versioned!(api, |a, v| a
                .garrison_adapter_rcon()
                .session()
                .call_transmit(store, resource, now_ms))
        })?;
        check_items("packets", packets.len())?;
        let bytes: usize = packets.iter().map(Vec::len).sum();
        if bytes > MAX_OUTPUT_BYTES {
            return Err(AdapterError::OutputTooLarge(format!(
                "{bytes} bytes to send"
            )));
        }
        Ok(packets)
    }

    /// Queues a console command; returns its id.
    pub fn command(&mut self, text: &str, now_ms: u64) -> Result<u32, AdapterError> {
        let resource = self.live()?;
        self.session.call(|api, store| {
            versioned!(api, |a, v| a
                .garrison_adapter_rcon()
                .session()
                .call_command(store, resource, text, now_ms)
                .map(|r| r.map_err(AdapterError::from)))
        })?
    }

    /// When `tick` should next run.
    pub fn next_wakeup(&mut self) -> Result<Option<u64>, AdapterError> {
        let resource = self.live()?;
        self.session.call(|api, store| {
            versioned!(api, |a, v| a
                .garrison_adapter_rcon()
                .session()
                .call_next_wakeup(store, resource))
        })
    }

    /// Malformed packets the session dropped so far.
    pub fn dropped(&mut self) -> Result<u64, AdapterError> {
        let resource = self.live()?;
        self.session.call(|api, store| {
            versioned!(api, |a, v| a
                .garrison_adapter_rcon()
                .session()
                .call_dropped(store, resource))
        })
    }
}

impl Drop for RconSession {
    fn drop(&mut self) {
        if self.generation == self.session.generation() {
            self.session.drop_resource(self.resource);
        }
    }
}

/// A session's events in the host's types (each version's own type converts).
fn convert_events<E: Into<SessionEvent>>(events: Vec<E>) -> Vec<SessionEvent> {
    events.into_iter().map(Into::into).collect()
}

fn events_out(events: Vec<SessionEvent>) -> Result<Vec<SessionEvent>, AdapterError> {
    check_items("session events", events.len())?;
    Ok(events)
}

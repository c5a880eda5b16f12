//! A server's log parser: the adapter's `logs.parser` resource, with the host-side
//! bookkeeping that guarantees no line is lost or duplicated.

use std::collections::{HashMap, VecDeque};

use wasmtime::component::ResourceAny;

use super::bindings::versioned;
use super::error::AdapterError;
use super::model::{ParsedEntry, Setting};
use super::session::{AdapterSession, check_bytes, check_items};

/// A server's log parser: the adapter's `logs.parser` resource inside its own session.
///
/// Lines go to the adapter as one string per batch; the records that come back say how many
/// lines each covers, and the host moves its own copy of those lines into the entries. Lines
/// a record has not covered yet (held back by the adapter) wait in `pending`. When the
/// adapter fails, every uncovered line is returned as a plain entry with the error, so no
/// line is ever lost; the instance is replaced and the parser re-created with the same
/// settings on the next call.
pub struct LogParser {
    session: AdapterSession,
    /// Passed again whenever the parser is re-created.
    settings: Vec<Setting>,
    parser: Option<(ResourceAny, u64)>,
    /// Lines fed but not yet covered by a record, per source.
    pending: HashMap<String, VecDeque<String>>,
    /// Reused buffer for the batch string.
    batch: String,
}

/// A parser call that failed; the lines it had are returned unparsed.
#[derive(Debug)]
pub struct FeedError {
    /// Why the adapter did not parse them.
    pub error: AdapterError,
    /// Every line that was waiting to be parsed, as plain entries, in order.
    pub unparsed: Vec<ParsedEntry>,
}

impl std::fmt::Display for FeedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({} line(s) kept unparsed)",
            self.error,
            self.unparsed.len()
        )
    }
}

impl std::error::Error for FeedError {}

impl LogParser {
    /// Creates a parser for a server with `settings`, in a session of its own.
    pub fn new(mut session: AdapterSession, settings: Vec<Setting>) -> Result<Self, AdapterError> {
        let resource = session.create_parser(&settings)?;
        let generation = session.generation();
        Ok(LogParser {
            session,
            settings,
            parser: Some((resource, generation)),
            pending: HashMap::new(),
            batch: String::new(),
        })
    }

    fn resource(&mut self) -> Result<ResourceAny, AdapterError> {
        match self.parser {
            Some((resource, generation)) if generation == self.session.generation() => Ok(resource),
            _ => {
                let resource = self.session.create_parser(&self.settings)?;
                self.parser = Some((resource, self.session.generation()));
                Ok(resource)
            }
        }
    }

    /// Parses the next lines of `source` (each without its newline; a line that contains
    /// `\n` counts as several).
    pub fn feed(
        &mut self,
        source: &str,
        lines: Vec<String>,
    ) -> Result<Vec<ParsedEntry>, FeedError> {
        let pending = self.pending.entry(source.to_string()).or_default();
        self.batch.clear();
        for line in lines {
            if line.contains('\n') {
                for part in line.split('\n') {
                    self.batch.push_str(part);
                    self.batch.push('\n');
                    pending.push_back(part.to_string());
                }
            } else {
                self.batch.push_str(&line);
                self.batch.push('\n');
                pending.push_back(line);
            }
        }
        let batch = std::mem::take(&mut self.batch);
        let result = self.resource().and_then(|parser| {
            let pending = self.pending.entry(source.to_string()).or_default();
            self.session.call(|api, store| {
                versioned!(api, |a, v| a
                    .garrison_adapter_logs()
                    .parser()
                    .call_feed(store, parser, source, &batch)
                    .map(|parsed| entries!(parsed, pending)))
            })?
        });
        self.batch = batch;
        self.settle(source, result)
    }

    /// Releases what the parser holds back for `source`.
    pub fn flush(&mut self, source: &str) -> Result<Vec<ParsedEntry>, FeedError> {
        let result = self.resource().and_then(|parser| {
            let pending = self.pending.entry(source.to_string()).or_default();
            self.session.call(|api, store| {
                versioned!(api, |a, v| a
                    .garrison_adapter_logs()
                    .parser()
                    .call_flush(store, parser, source)
                    .map(|parsed| entries!(parsed, pending)))
            })?
        });
        self.settle(source, result)
    }

    /// Passes the entries on; on any failure, hands back the uncovered lines of `source` as
    /// plain entries.
    fn settle(
        &mut self,
        source: &str,
        result: Result<Vec<ParsedEntry>, AdapterError>,
    ) -> Result<Vec<ParsedEntry>, FeedError> {
        let error = match result {
            Ok(entries) => return Ok(entries),
            Err(error) => error,
        };
        let pending = self.pending.entry(source.to_string()).or_default();
        Err(FeedError {
            error,
            unparsed: pending.drain(..).map(ParsedEntry::plain).collect(),
        })
    }

    /// How many lines of `source` the adapter holds back: fed, but in no record yet.
    pub fn held(&self, source: &str) -> usize {
        self.pending.get(source).map_or(0, VecDeque::len)
    }

    /// The session the parser lives in.
    pub fn session(&self) -> &AdapterSession {
        &self.session
    }
}

impl Drop for LogParser {
    fn drop(&mut self) {
        if let Some((resource, generation)) = self.parser.take()
            && generation == self.session.generation()
        {
            self.session.drop_resource(resource);
        }
    }
}

/// A parser's answer (of whichever contract version) checked for size and turned into
/// entries, taking the covered lines from `pending`.
macro_rules! entries {
    ($parsed:expr, $pending:expr) => {{
        let parsed = $parsed;
        check_parsed(
            parsed.records.len(),
            parsed.events.len(),
            parsed
                .records
                .iter()
                .map(|r| r.text.as_ref().map_or(0, String::len))
                .sum(),
        )
        .and_then(|()| {
            parsed
                .into_entries($pending)
                .map_err(AdapterError::Contract)
        })
    }};
}
use entries;

/// Checks the size of a parser's answer: `records` and `events` counted, `text_bytes` the
/// replacement texts' length.
fn check_parsed(records: usize, events: usize, text_bytes: usize) -> Result<(), AdapterError> {
    check_items("log records", records)?;
    check_items("log events", events)?;
    check_bytes("log records", text_bytes)
}

//! Glue between the generated `Guest` traits and the SDK's [`Adapter`] traits.
//!
//! `Export<A>` implements every exported interface of the world for any `A: Adapter`, so an
//! adapter crate only implements the SDK traits and calls `export_adapter!`. Resources hold
//! their Rust value in a `RefCell` because the generated resource traits take `&self`; the
//! component model never calls into one resource re-entrantly, so the borrow cannot clash.

use std::cell::RefCell;
use std::marker::PhantomData;

use crate::bindings::exports::garrison::adapter::{config, files, lifecycle, logs, metadata, rcon};
use crate::bindings::garrison::adapter::types::{AdapterError, Context, Setting};
use crate::{Adapter, LogParser, RconSession, Settings};

/// The type `export_adapter!` exports: every interface of the world, answered by `A`.
pub struct Export<A>(PhantomData<A>);

impl<A: Adapter> metadata::Guest for Export<A> {
    fn describe() -> metadata::Description {
        A::describe()
    }
}

impl<A: Adapter> files::Guest for Export<A> {
    fn state_paths(settings: Vec<Setting>) -> Result<Vec<files::StatePath>, AdapterError> {
        A::state_paths(&Settings::new(settings))
    }

    fn backup_plan(settings: Vec<Setting>) -> Result<files::BackupSpec, AdapterError> {
        A::backup_plan(&Settings::new(settings))
    }

    fn ports(settings: Vec<Setting>) -> Result<Vec<files::PortUse>, AdapterError> {
        A::ports(&Settings::new(settings))
    }
}

impl<A: Adapter> config::Guest for Export<A> {
    fn schema() -> Vec<config::Field> {
        A::schema()
    }

    fn validate(settings: Vec<Setting>) -> Result<(), Vec<config::FieldError>> {
        A::validate(&Settings::new(settings))
    }

    fn render(
        ctx: Context,
        settings: Vec<Setting>,
    ) -> Result<Vec<config::RenderedFile>, AdapterError> {
        A::render(&ctx, &Settings::new(settings))
    }
}

impl<A: Adapter> lifecycle::Guest for Export<A> {
    fn install_plan(settings: Vec<Setting>) -> Result<Vec<lifecycle::InstallStep>, AdapterError> {
        A::install_plan(&Settings::new(settings))
    }

    fn launch(ctx: Context, settings: Vec<Setting>) -> Result<lifecycle::LaunchSpec, AdapterError> {
        A::launch(&ctx, &Settings::new(settings))
    }

    fn stop_plan(settings: Vec<Setting>) -> Result<lifecycle::StopSpec, AdapterError> {
        A::stop_plan(&Settings::new(settings))
    }

    fn content_dirs(settings: Vec<Setting>) -> Result<Vec<lifecycle::ContentDir>, AdapterError> {
        A::content_dirs(&Settings::new(settings))
    }
}

/// The `logs.parser` resource around an adapter's [`LogParser`].
pub struct ParserResource<P>(RefCell<P>);

impl<P: LogParser> logs::GuestParser for ParserResource<P> {
    fn feed(&self, source: String, lines: String) -> logs::Parsed {
        self.0.borrow_mut().feed(&source, &lines)
    }

    fn flush(&self, source: String) -> logs::Parsed {
        self.0.borrow_mut().flush(&source)
    }
}

impl<A: Adapter> logs::Guest for Export<A> {
    type Parser = ParserResource<A::Parser>;

    fn sources(settings: Vec<Setting>) -> Result<Vec<logs::LogSource>, AdapterError> {
        A::log_sources(&Settings::new(settings))
    }

    fn create_parser(settings: Vec<Setting>) -> Result<logs::Parser, AdapterError> {
        let parser = A::create_parser(&Settings::new(settings))?;
        Ok(logs::Parser::new(ParserResource(RefCell::new(parser))))
    }
}

/// The `rcon.session` resource around an adapter's [`RconSession`].
pub struct SessionResource<S>(RefCell<S>);

impl<S: RconSession> rcon::GuestSession for SessionResource<S> {
    fn new(password: String, now_ms: u64) -> Self {
        SessionResource(RefCell::new(S::new(password, now_ms)))
    }

    fn receive(&self, data: Vec<u8>, now_ms: u64) -> Vec<rcon::SessionEvent> {
        self.0.borrow_mut().receive(&data, now_ms)
    }

    fn tick(&self, now_ms: u64) -> Vec<rcon::SessionEvent> {
        self.0.borrow_mut().tick(now_ms)
    }

    fn transmit(&self, now_ms: u64) -> Vec<Vec<u8>> {
        self.0.borrow_mut().transmit(now_ms)
    }

    fn command(&self, text: String, now_ms: u64) -> Result<u32, AdapterError> {
        self.0.borrow_mut().command(&text, now_ms)
    }

    fn next_wakeup(&self) -> Option<u64> {
        self.0.borrow().next_wakeup()
    }

    fn dropped(&self) -> u64 {
        self.0.borrow().dropped()
    }
}

impl<A: Adapter> rcon::Guest for Export<A> {
    type Session = SessionResource<A::Session>;

    fn session_transport() -> rcon::Transport {
        A::rcon_transport()
    }

    fn endpoint(settings: Vec<Setting>) -> Result<Option<rcon::Connection>, AdapterError> {
        A::rcon_endpoint(&Settings::new(settings))
    }

    fn players_command() -> Result<String, AdapterError> {
        A::players_command()
    }

    fn parse_players(reply: String) -> Result<Vec<rcon::Player>, AdapterError> {
        A::parse_players(&reply)
    }

    fn kick_commands(player: rcon::Player, reason: String) -> Result<Vec<String>, AdapterError> {
        A::kick_commands(&player, &reason)
    }

    fn ban_commands(request: rcon::BanRequest) -> Result<Vec<String>, AdapterError> {
        A::ban_commands(&request)
    }

    fn unban_commands(entry: rcon::BanEntry) -> Result<Vec<String>, AdapterError> {
        A::unban_commands(&entry)
    }

    fn bans_command() -> Result<String, AdapterError> {
        A::bans_command()
    }

    fn parse_bans(reply: String) -> Result<Vec<rcon::BanEntry>, AdapterError> {
        A::parse_bans(&reply)
    }

    fn say_command(message: String) -> Result<String, AdapterError> {
        A::say_command(&message)
    }
}

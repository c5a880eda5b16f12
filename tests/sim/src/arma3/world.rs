//! The simulated game world: players, bans, chat, missions.
//!
//! Everything that "happens" on the simulated server happens here, on a tick or because an RCon
//! command asked for it. Each event is queued as RPT lines and BattlEye server messages in an
//! outbox that the main loop drains; this module does no I/O and reads the clock only through
//! the `now` its callers pass, so it is easy to drive from tests. The wording of every line
//! follows the golden samples in `tests/data/arma3`.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use super::config::Mission;
use super::rpt::RptLine;
use crate::rng::Rng;

/// Names given to joining players, in order; later players get ` (2)`, ` (3)`… suffixes.
const NAMES: &[&str] = &[
    "Ärger ☃",
    "Bob Smith",
    "Chloé Dupont",
    "Dmitri Волков",
    "Eve",
    "Fritz Müller",
    "Gwen [TAG] Jones",
    "Hiro 侍",
    "Ines O'Neil",
    "José Núñez",
];

/// Things simulated players say.
const PHRASES: &[&str] = &[
    "hello everyone",
    "going north",
    "need a medic!",
    "où est le camion ?",
    "gg",
    "wait for me ☃",
    "contact, 200m east",
];

/// Ticks between `Server load:` lines.
const LOAD_EVERY: u64 = 30;
/// Tick of the first (guaranteed) script error.
const SCRIPT_ERROR_AT: u64 = 40;
/// Ticks between automatic mission cycles.
const MISSION_EVERY: u64 = 1200;

/// Something the outside world should see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Lines for the RPT file, written together with one timestamp.
    Rpt(Vec<RptLine>),
    /// A BattlEye server message for every logged-in RCon client.
    Message(String),
}

/// How far a player has got into the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// Connected to BattlEye, GUID not known yet.
    Connecting,
    /// GUID known, not yet verified; in the lobby.
    Unverified,
    /// GUID verified; still in the lobby.
    Lobby,
    /// Playing.
    InGame,
}

/// One simulated player.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Player {
    /// BattlEye player number, unique for the server's lifetime (what `kick`/`ban` take).
    pub slot: u32,
    /// Display name; may contain spaces and non-ASCII characters.
    pub name: String,
    /// Address the player connects from.
    pub ip: IpAddr,
    /// Source port the player connects from.
    pub port: u16,
    /// Ping in milliseconds, as `players` reports it.
    pub ping: u32,
    /// 32 lowercase hex characters.
    pub guid: String,
    /// Steam id for the `connected (id=…)` line.
    pub steam_id: u64,
    /// Join progress; decides the GUID column and the ` (Lobby)` suffix.
    pub stage: Stage,
    /// One of the `--players N`: never leaves on its own, so tests can count on it.
    pub resident: bool,
}

/// What a ban applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BanTarget {
    /// A BattlEye GUID.
    Guid(String),
    /// An IP address.
    Ip(IpAddr),
}

/// One ban-list entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ban {
    /// The banned GUID or address.
    pub target: BanTarget,
    /// When the ban ends; `None` is permanent.
    pub expires: Option<Instant>,
    /// Free text given by the admin (may be empty).
    pub reason: String,
}

impl Ban {
    /// `perm`, whole minutes left (rounded up), or `-` when expired.
    pub fn minutes_left(&self, now: Instant) -> String {
        match self.expires {
            None => "perm".into(),
            Some(end) => {
                let left = end.saturating_duration_since(now).as_secs();
                if left == 0 {
                    "-".into()
                } else {
                    left.div_ceil(60).to_string()
                }
            }
        }
    }
}

/// What the world is started with.
#[derive(Clone, Debug)]
pub struct WorldSettings {
    /// Players that join right after start and stay.
    pub initial_players: u32,
    /// Whether extra players come and go at random.
    pub churn: bool,
    /// The server never holds more players than this.
    pub max_players: u32,
    /// Mission rotation from `server.cfg`.
    pub missions: Vec<Mission>,
}

/// The simulated server state.
pub struct World {
    /// Players currently on the server, in slot order.
    players: Vec<Player>,
    /// GUID bans, numbered first in the ban list.
    guid_bans: Vec<Ban>,
    /// IP bans, numbered after the GUID bans.
    ip_bans: Vec<Ban>,
    /// Next BattlEye player number.
    next_slot: u32,
    /// How many players have ever joined; picks names and Steam ids.
    joined_total: u32,
    /// Initial players still to start joining.
    to_join: u32,
    /// Settings from the command line and `server.cfg`.
    settings: WorldSettings,
    /// Index into the mission rotation.
    mission: usize,
    /// `#lock`: no new players join.
    locked: bool,
    /// Ticks since start.
    ticks: u64,
    /// Every random choice, seeded for reproducible runs.
    rng: Rng,
    /// Events not yet written or sent.
    outbox: Vec<Output>,
}

impl World {
    /// A world with no players yet; the initial players join over the first ticks.
    pub fn new(settings: WorldSettings, rng: Rng) -> Self {
        let to_join = settings.initial_players.min(settings.max_players);
        Self {
            players: Vec::new(),
            guid_bans: Vec::new(),
            ip_bans: Vec::new(),
            next_slot: 0,
            joined_total: 0,
            to_join,
            settings,
            mission: 0,
            locked: false,
            ticks: 0,
            rng,
            outbox: Vec::new(),
        }
    }

    /// Takes the queued events.
    pub fn drain(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.outbox)
    }

    /// Players on the server, in slot order.
    pub fn players(&self) -> &[Player] {
        &self.players
    }

    /// GUID bans then IP bans (they share one numbering in that order).
    pub fn bans(&self) -> (&[Ban], &[Ban]) {
        (&self.guid_bans, &self.ip_bans)
    }

    /// The mission rotation.
    pub fn missions(&self) -> &[Mission] {
        &self.settings.missions
    }

    /// The terrain of the current mission (`Altis` when no mission is configured).
    pub fn world_name(&self) -> String {
        self.settings
            .missions
            .get(self.mission)
            .map(|m| m.world().to_string())
            .unwrap_or_else(|| "Altis".into())
    }

    /// Advances the simulation by one tick.
    pub fn tick(&mut self) {
        self.ticks += 1;
        self.advance_joins();
        if self.to_join > 0 {
            self.to_join -= 1;
            self.join(true);
        }
        if self.settings.churn {
            if !self.locked && self.rng.one_in(20) {
                self.join(false);
            }
            let settled: Vec<u32> = self
                .in_game()
                .filter(|p| !p.resident)
                .map(|p| p.slot)
                .collect();
            if !settled.is_empty() && self.rng.one_in(15) {
                let pick = settled[self.rng.below(settled.len() as u64) as usize];
                self.disconnect(pick);
            }
        }
        if self.rng.one_in(12) {
            self.random_chat();
        }
        if self.ticks.is_multiple_of(LOAD_EVERY) {
            self.server_load();
        }
        // One script error early on so every run shows the multi-line shape, then now and then.
        if self.ticks == SCRIPT_ERROR_AT || self.rng.one_in(200) {
            self.script_error();
        }
        if self.ticks.is_multiple_of(MISSION_EVERY) {
            self.mission_cycle();
        }
    }

    fn in_game(&self) -> impl Iterator<Item = &Player> {
        self.players.iter().filter(|p| p.stage == Stage::InGame)
    }

    fn rpt(&mut self, lines: Vec<RptLine>) {
        self.outbox.push(Output::Rpt(lines));
    }

    fn message(&mut self, text: String) {
        self.outbox.push(Output::Message(text));
    }

    /// A new player starts connecting (if there is room); residents never leave on their own.
    fn join(&mut self, resident: bool) {
        if self.players.len() >= self.settings.max_players as usize {
            return;
        }
        let n = self.joined_total;
        self.joined_total += 1;
        let base = NAMES[n as usize % NAMES.len()];
        let round = n as usize / NAMES.len();
        let name = if round == 0 {
            base.to_string()
        } else {
            format!("{base} ({})", round + 1)
        };
        let slot = self.next_slot;
        self.next_slot += 1;
        let guid = format!("{:016x}{:016x}", self.rng.next_u64(), self.rng.next_u64());
        let player = Player {
            slot,
            name,
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 2304 + (slot % 5000) as u16 * 12,
            ping: 20 + self.rng.below(100) as u32,
            guid,
            steam_id: 76_561_198_000_000_001 + u64::from(n),
            stage: Stage::Connecting,
            resident,
        };
        let (name, ip, port) = (player.name.clone(), player.ip, player.port);
        self.players.push(player);
        self.rpt(vec![
            RptLine::Stamped(format!("Player {name} connecting.")),
            RptLine::Stamped(format!(
                "BattlEye Server: Player #{slot} {name} ({ip}:{port}) connected"
            )),
        ]);
        self.message(format!("Player #{slot} {name} ({ip}:{port}) connected"));
    }

    /// Moves every joining player one stage further.
    fn advance_joins(&mut self) {
        let mut events = Vec::new();
        for p in &mut self.players {
            let next = match p.stage {
                Stage::Connecting => Stage::Unverified,
                Stage::Unverified => Stage::Lobby,
                Stage::Lobby => Stage::InGame,
                Stage::InGame => continue,
            };
            p.stage = next;
            events.push(p.clone());
        }
        for p in events {
            let (slot, name, guid) = (p.slot, &p.name, &p.guid);
            match p.stage {
                Stage::Unverified => {
                    self.rpt(vec![
                        RptLine::Stamped(format!("Player {name} connected (id={}).", p.steam_id)),
                        RptLine::Stamped(format!(
                            "BattlEye Server: Player #{slot} {name} - BE GUID: {guid}"
                        )),
                    ]);
                    self.message(format!("Player #{slot} {name} - BE GUID: {guid}"));
                }
                Stage::Lobby => {
                    self.rpt(vec![RptLine::Stamped(format!(
                        "BattlEye Server: Verified GUID ({guid}) of player #{slot} {name}"
                    ))]);
                    self.message(format!("Verified GUID ({guid}) of player #{slot} {name}"));
                }
                Stage::Connecting | Stage::InGame => {}
            }
        }
    }

    /// A player leaves on their own.
    fn disconnect(&mut self, slot: u32) {
        let Some(i) = self.players.iter().position(|p| p.slot == slot) else {
            return;
        };
        let p = self.players.remove(i);
        self.rpt(vec![
            RptLine::Stamped(format!(
                "BattlEye Server: Player #{slot} {} disconnected",
                p.name
            )),
            RptLine::Stamped(format!("Player {} disconnected.", p.name)),
        ]);
        self.message(format!("Player #{slot} {} disconnected", p.name));
    }

    /// Removes a player by BattlEye; `kind` is `Admin Kick` or `Admin Ban`. False if no such
    /// player.
    pub fn kick(&mut self, slot: u32, kind: &str, reason: &str) -> bool {
        let Some(i) = self.players.iter().position(|p| p.slot == slot) else {
            return false;
        };
        let p = self.players.remove(i);
        let why = if reason.is_empty() {
            kind.to_string()
        } else {
            format!("{kind} ({reason})")
        };
        let guid = if p.stage == Stage::Connecting {
            "-"
        } else {
            p.guid.as_str()
        };
        self.rpt(vec![
            RptLine::Stamped(format!("Player {} kicked off by BattlEye: {why}", p.name)),
            RptLine::Stamped(format!("Player {} disconnected.", p.name)),
        ]);
        self.message(format!(
            "Player #{slot} {} ({guid}) has been kicked by BattlEye: {why}",
            p.name
        ));
        true
    }

    /// Adds a ban; `minutes` of `None` or `Some(0)` is permanent.
    pub fn add_ban(&mut self, target: BanTarget, minutes: Option<u64>, reason: &str, now: Instant) {
        let expires = match minutes {
            None | Some(0) => None,
            Some(m) => now.checked_add(Duration::from_secs(m.saturating_mul(60))),
        };
        let ban = Ban {
            target,
            expires,
            reason: reason.to_string(),
        };
        match ban.target {
            BanTarget::Guid(_) => self.guid_bans.push(ban),
            BanTarget::Ip(_) => self.ip_bans.push(ban),
        }
    }

    /// Removes ban number `index` of the shared numbering. False if out of range.
    pub fn remove_ban(&mut self, index: usize) -> bool {
        if index < self.guid_bans.len() {
            self.guid_bans.remove(index);
            true
        } else if index - self.guid_bans.len() < self.ip_bans.len() {
            self.ip_bans.remove(index - self.guid_bans.len());
            true
        } else {
            false
        }
    }

    /// An RCon admin's global message.
    pub fn admin_say(&mut self, admin: u32, text: &str) {
        self.rpt(vec![RptLine::Stamped(format!(
            "BattlEye Server: (Global) RCon admin: {text}"
        ))]);
        self.message(format!("RCon admin #{admin}: (Global) {text}"));
    }

    /// `#lock` / `#unlock`.
    pub fn set_locked(&mut self, locked: bool) {
        self.locked = locked;
    }

    /// Ends the current mission and starts the next one in the rotation.
    pub fn mission_cycle(&mut self) {
        if !self.settings.missions.is_empty() {
            self.mission = (self.mission + 1) % self.settings.missions.len();
        }
        self.rpt(vec![
            RptLine::Stamped("Game finished.".into()),
            RptLine::Stamped("Game restarted".into()),
            RptLine::Stamped("Mission read.".into()),
            RptLine::Stamped("Game started.".into()),
        ]);
    }

    fn random_chat(&mut self) {
        let talkers: Vec<String> = self.in_game().map(|p| p.name.clone()).collect();
        if talkers.is_empty() {
            return;
        }
        let name = &talkers[self.rng.below(talkers.len() as u64) as usize];
        let text = PHRASES[self.rng.below(PHRASES.len() as u64) as usize];
        let channel = if self.rng.one_in(4) { "Side" } else { "Global" };
        self.rpt(vec![RptLine::Stamped(format!(
            "BattlEye Server: ({channel}) {name}: {text}"
        ))]);
        self.message(format!("({channel}) {name}: {text}"));
    }

    fn server_load(&mut self) {
        let fps = 45 + self.rng.below(6);
        let memory = 1080 + self.rng.below(30);
        let p = self.players.len();
        self.rpt(vec![RptLine::Stamped(format!(
            "Server load: FPS {fps}, memory used: {memory} MB, out: 12 Kbps, in: 3 Kbps, \
             NG:0, G:7, BE-NG:0, BE-G:0, Players: {p} (L:0, R:0, B:0, G:{p}, D:0)"
        ))]);
    }

    /// The multi-line script error of the sample: a continuation line without a timestamp.
    fn script_error(&mut self) {
        let world = self.world_name();
        self.rpt(vec![
            RptLine::StampedMs("Error in expression <_unit setDamage _damage;".into()),
            RptLine::Raw("_x = _y + 1;>".into()),
            RptLine::StampedMs("  Error position: <_y + 1;>".into()),
            RptLine::StampedMs("  Error Undefined variable in expression: _y".into()),
            RptLine::StampedMs(format!(
                "File mpmissions\\__cur_mp.{world}\\init.sqf..., line 12"
            )),
        ]);
    }

    /// Test helper and golden-file fixture: puts a player in place directly.
    #[cfg(test)]
    pub fn insert_player(&mut self, player: Player) {
        self.players.push(player);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(players: u32, max: u32) -> World {
        World::new(
            WorldSettings {
                initial_players: players,
                churn: false,
                max_players: max,
                missions: Vec::new(),
            },
            Rng::seeded(1),
        )
    }

    fn rpt_text(out: &[Output]) -> Vec<String> {
        out.iter()
            .filter_map(|o| match o {
                Output::Rpt(lines) => {
                    Some(lines.iter().map(|l| format!("{l:?}")).collect::<Vec<_>>())
                }
                Output::Message(_) => None,
            })
            .flatten()
            .collect()
    }

    #[test]
    fn initial_players_join_in_order_and_stay() {
        let mut w = world(3, 64);
        let mut out = Vec::new();
        for _ in 0..10 {
            w.tick();
            out.extend(w.drain());
        }
        let names: Vec<&str> = w.players().iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["Ärger ☃", "Bob Smith", "Chloé Dupont"]);
        assert!(w.players().iter().all(|p| p.stage == Stage::InGame));
        assert!(w.players().iter().all(|p| {
            p.guid.len() == 32
                && p.guid
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        }));
        let lines = rpt_text(&out);
        assert!(
            lines
                .iter()
                .any(|l| l.contains("Player Ärger ☃ connecting."))
        );
        assert!(
            lines
                .iter()
                .any(|l| l.contains("Player Ärger ☃ connected (id=76561198000000001)."))
        );
        assert!(lines.iter().any(|l| {
            l.contains("BattlEye Server: Player #1 Bob Smith (127.0.0.1:2316) connected")
        }));
        assert!(
            lines
                .iter()
                .any(|l| l.contains("BattlEye Server: Verified GUID ("))
        );
    }

    #[test]
    fn churn_never_removes_the_initial_players() {
        let mut w = world(3, 64);
        w.settings.churn = true;
        let mut left = 0;
        for _ in 0..2000 {
            w.tick();
            left += w
                .drain()
                .iter()
                .filter(|o| matches!(o, Output::Message(m) if m.ends_with(" disconnected")))
                .count();
        }
        assert!(left > 0, "churn made nobody leave");
        let slots: Vec<u32> = w.players().iter().take(3).map(|p| p.slot).collect();
        assert_eq!(slots, [0, 1, 2]);
    }

    #[test]
    fn script_error_has_an_unstamped_continuation() {
        let mut w = world(0, 64);
        let mut out = Vec::new();
        for _ in 0..SCRIPT_ERROR_AT {
            w.tick();
            out.extend(w.drain());
        }
        let error = out.iter().find_map(|o| match o {
            Output::Rpt(lines) if lines.len() == 5 => Some(lines.clone()),
            _ => None,
        });
        let error = error.expect("a script error by tick 40");
        assert_eq!(
            error[0],
            RptLine::StampedMs("Error in expression <_unit setDamage _damage;".into())
        );
        assert_eq!(error[1], RptLine::Raw("_x = _y + 1;>".into()));
        assert_eq!(
            error[4],
            RptLine::StampedMs("File mpmissions\\__cur_mp.Altis\\init.sqf..., line 12".into())
        );
    }

    #[test]
    fn max_players_caps_the_world() {
        let mut w = world(5, 2);
        for _ in 0..10 {
            w.tick();
        }
        assert_eq!(w.players().len(), 2);
    }

    #[test]
    fn kick_writes_lines_and_message() {
        let mut w = world(2, 64);
        for _ in 0..5 {
            w.tick();
        }
        w.drain();
        assert!(w.kick(1, "Admin Kick", "spamming"));
        assert!(!w.kick(1, "Admin Kick", "again"));
        let out = w.drain();
        assert_eq!(
            out[0],
            Output::Rpt(vec![
                RptLine::Stamped(
                    "Player Bob Smith kicked off by BattlEye: Admin Kick (spamming)".into()
                ),
                RptLine::Stamped("Player Bob Smith disconnected.".into()),
            ])
        );
        assert!(matches!(&out[1], Output::Message(m)
            if m.starts_with("Player #1 Bob Smith (") && m.ends_with(") has been kicked by BattlEye: Admin Kick (spamming)")));
    }

    #[test]
    fn bans_share_one_numbering() {
        let mut w = world(0, 64);
        let now = Instant::now();
        w.add_ban(
            BanTarget::Ip(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 5))),
            None,
            "x",
            now,
        );
        w.add_ban(BanTarget::Guid("a".repeat(32)), Some(5), "y", now);
        assert_eq!(w.bans().0[0].minutes_left(now), "5");
        assert_eq!(w.bans().1[0].minutes_left(now), "perm");
        assert!(!w.remove_ban(2));
        assert!(w.remove_ban(1)); // the IP ban comes after the GUID ban
        assert_eq!(w.bans().1.len(), 0);
        assert!(w.remove_ban(0));
        assert!(!w.remove_ban(0));
    }

    #[test]
    fn same_seed_same_story() {
        let run = || {
            let mut w = world(4, 64);
            (0..400)
                .flat_map(|_| {
                    w.tick();
                    w.drain()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }
}

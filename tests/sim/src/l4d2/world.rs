//! The simulated Left 4 Dead 2 server state: map, players, the survivor bot, bans, chat.
//!
//! Everything that "happens" on the server happens here, on a tick or because an RCON command
//! asked for it. Each event is queued as game-log and console lines in an outbox that the main
//! loop drains; this module does no I/O and reads the clock only through the `now` its callers
//! pass, so tests can drive it. The wording of every line follows the golden samples in
//! `tests/data/l4d2`.

use std::time::{Duration, Instant};

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
    "going left",
    "need pills!",
    "où est la sortie ?",
    "gg",
    "wait for me ☃",
    "witch ahead, lights off",
];

/// The survivor bot that fills a free slot.
const BOT_NAME: &str = "Zoey";
/// Ticks of the first guaranteed `Error:` and `Warning:` console lines.
const ERROR_AT: u64 = 20;
/// See `ERROR_AT`.
const WARNING_AT: u64 = 30;

/// Map CRCs as the real server logs them; other maps get a stable made-up one.
const MAP_CRCS: &[(&str, i32)] = &[("c1m1_hotel", -1_588_462_862)];

/// The identity the server uses for itself in logs.
pub const CONSOLE_IDENT: &str = "\"Console<0><Console><Console>\"";

/// Something the outside world should see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// A game log line, without its `L …: ` stamp.
    Log(String),
    /// A console line.
    Console(String),
    /// Close the current game log file and open a new one for this map.
    NewLogFile(String),
}

/// How far a player has got into the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// Connected, SteamID not validated yet.
    Connected,
    /// Validated, still spawning.
    Validated,
    /// In the game, on the survivor team.
    InGame,
}

/// One simulated human player.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Player {
    /// Server-wide user id (what `kickid` takes), unique for the server's lifetime.
    pub userid: u32,
    /// Display name; may contain spaces and non-ASCII characters.
    pub name: String,
    /// `STEAM_1:X:N`.
    pub steam_id: String,
    /// Source port on 127.0.0.1 the player connects from.
    pub port: u16,
    /// Ping in milliseconds, as `status` reports it.
    pub ping: u32,
    /// Packet loss percentage, as `status` reports it.
    pub loss: u32,
    /// When the player connected, for the `connected` column.
    pub joined: Instant,
    /// Join progress; decides the team in logs and the state in `status`.
    pub stage: Stage,
    /// One of the `--players N`: never leaves on its own, so tests can count on it.
    pub resident: bool,
}

impl Player {
    /// `"Name<userid><SteamID><team>"`, quotes included; the team is empty until in game.
    pub fn ident(&self) -> String {
        let team = if self.stage == Stage::InGame {
            "Survivor"
        } else {
            ""
        };
        format!(
            "\"{}<{}><{}><{team}>\"",
            self.name, self.userid, self.steam_id
        )
    }
}

/// One entry of the ID filter list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ban {
    /// The banned SteamID.
    pub steam_id: String,
    /// When the ban ends; `None` is permanent.
    pub expires: Option<Instant>,
}

/// What the world is started with.
#[derive(Clone, Debug)]
pub struct WorldSettings {
    /// Players that join right after start and stay.
    pub initial_players: u32,
    /// Whether extra players come and go at random.
    pub churn: bool,
    /// `+maxplayers`.
    pub max_players: u32,
    /// The first map.
    pub map: String,
    /// `hostname`.
    pub hostname: String,
    /// Address shown in `status` (the `-ip` one).
    pub ip: String,
    /// Address shown as `public` in `status` (the simulator has no other, so usually `ip`).
    pub public_ip: String,
    /// `-port`.
    pub port: u16,
    /// `mp_gamemode`, for the cvars block.
    pub gamemode: String,
    /// `z_difficulty`, for the cvars block.
    pub difficulty: String,
}

/// The simulated server state.
pub struct World {
    /// Settings from the command line and the config file.
    pub settings: WorldSettings,
    /// Humans on the server, in userid order.
    players: Vec<Player>,
    /// The survivor bot's user id, once it has joined.
    bot: Option<u32>,
    /// The ID filter list, in the order entries were added.
    bans: Vec<Ban>,
    /// The current map.
    map: String,
    /// Next user id (bots and humans share the numbering).
    next_userid: u32,
    /// How many humans have ever joined; picks names and SteamIDs.
    joined_total: u32,
    /// Initial players still to join.
    to_join: u32,
    /// Ticks since the server was ready.
    ticks: u64,
    /// Every random choice, seeded for reproducible runs.
    rng: Rng,
    /// Events not yet written.
    outbox: Vec<Output>,
}

impl World {
    /// A world with no players yet; the initial players join over the first ticks.
    pub fn new(settings: WorldSettings, rng: Rng) -> Self {
        Self {
            to_join: settings.initial_players.min(settings.max_players),
            map: settings.map.clone(),
            settings,
            players: Vec::new(),
            bot: None,
            bans: Vec::new(),
            next_userid: 2,
            joined_total: 0,
            ticks: 0,
            rng,
            outbox: Vec::new(),
        }
    }

    /// Takes the queued events.
    pub fn drain(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.outbox)
    }

    /// Humans on the server, in userid order.
    pub fn players(&self) -> &[Player] {
        &self.players
    }

    /// The bot's user id, if it is on the server.
    pub fn bot(&self) -> Option<(u32, &'static str)> {
        self.bot.map(|id| (id, BOT_NAME))
    }

    /// The current map.
    pub fn map(&self) -> &str {
        &self.map
    }

    /// Bans still in force at `now`, in list order (expired ones are dropped).
    pub fn bans(&mut self, now: Instant) -> &[Ban] {
        self.bans.retain(|b| b.expires.is_none_or(|t| t > now));
        &self.bans
    }

    /// Queues a game log line.
    pub fn log(&mut self, text: String) {
        self.outbox.push(Output::Log(text));
    }

    /// Queues a console line.
    pub fn console(&mut self, text: String) {
        self.outbox.push(Output::Console(text));
    }

    /// The cvars block and `Started map`, written once the map has loaded.
    pub fn start_map(&mut self) {
        self.log("server cvars start".into());
        let mode = self.settings.gamemode.clone();
        let difficulty = self.settings.difficulty.clone();
        self.log(format!("\"mp_gamemode\" = \"{mode}\""));
        self.log(format!("\"z_difficulty\" = \"{difficulty}\""));
        self.log("server cvars end".into());
        let crc = map_crc(&self.map);
        self.log(format!("Started map \"{}\" (CRC \"{crc}\")", self.map));
    }

    /// `changelevel`: a new log file and the map start lines; players stay connected.
    pub fn change_level(&mut self, map: &str) {
        self.map = map.to_string();
        self.outbox.push(Output::NewLogFile(map.to_string()));
        self.console(format!("Loading map \"{map}\""));
        self.start_map();
    }

    /// Advances the simulation by one tick.
    pub fn tick(&mut self, now: Instant) {
        self.ticks += 1;
        self.advance_joins();
        if self.to_join > 0 {
            self.to_join -= 1;
            self.join(true, now);
        } else if self.bot.is_none() {
            self.bot = Some(self.take_userid());
        }
        if self.settings.churn {
            if self.rng.one_in(20) {
                self.join(false, now);
            }
            let leavers: Vec<u32> = self
                .players
                .iter()
                .filter(|p| !p.resident && p.stage == Stage::InGame)
                .map(|p| p.userid)
                .collect();
            if !leavers.is_empty() && self.rng.one_in(15) {
                let pick = leavers[self.rng.below(leavers.len() as u64) as usize];
                self.disconnect(pick);
            }
        }
        if self.rng.one_in(12) {
            self.random_chat();
        }
        if self.ticks == ERROR_AT || self.rng.one_in(300) {
            self.console("Error: Material \"models/props/de_nuke/crateb\" not found.".into());
        }
        if self.ticks == WARNING_AT || self.rng.one_in(300) {
            self.console("Warning: couldn't find game sound \"Player.Heartbeat\"".into());
        }
        for p in &mut self.players {
            p.ping = (p.ping + self.rng.below(5) as u32).saturating_sub(2).max(5);
        }
    }

    fn take_userid(&mut self) -> u32 {
        let id = self.next_userid;
        self.next_userid += 1;
        id
    }

    /// A new player connects (if there is room and their SteamID is not banned).
    fn join(&mut self, resident: bool, now: Instant) {
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
        let steam_id = format!(
            "STEAM_1:{}:{}",
            self.rng.below(2),
            10_000 + u64::from(n) * 1_000 + self.rng.below(1_000)
        );
        if self.bans(now).iter().any(|b| b.steam_id == steam_id) {
            return;
        }
        let port = 27_005 + (n % 30_000) as u16;
        let ping = 20 + self.rng.below(100) as u32;
        self.admit(name, steam_id, port, ping, resident, now);
    }

    /// Puts a player on the server in the `Connected` stage and logs it.
    fn admit(
        &mut self,
        name: String,
        steam_id: String,
        port: u16,
        ping: u32,
        resident: bool,
        now: Instant,
    ) {
        let player = Player {
            userid: self.take_userid(),
            name,
            steam_id,
            port,
            ping,
            loss: 0,
            joined: now,
            stage: Stage::Connected,
            resident,
        };
        self.log(format!(
            "{} connected, address \"127.0.0.1:{}\"",
            player.ident(),
            player.port
        ));
        self.console(format!(
            "Client \"{}\" connected (127.0.0.1:{}).",
            player.name, player.port
        ));
        self.console(format!("{} connected.", player.name));
        self.players.push(player);
    }

    /// Moves every joining player one stage further.
    fn advance_joins(&mut self) {
        let mut lines = Vec::new();
        for p in &mut self.players {
            match p.stage {
                Stage::Connected => {
                    p.stage = Stage::Validated;
                    lines.push(format!("{} STEAM USERID validated", p.ident()));
                }
                Stage::Validated => {
                    // The line still shows the empty team; the player is a survivor after it.
                    lines.push(format!("{} entered the game", p.ident()));
                    p.stage = Stage::InGame;
                }
                Stage::InGame => {}
            }
        }
        for line in lines {
            self.log(line);
        }
    }

    /// The index of a player by user id or SteamID.
    pub fn find(&self, target: &str) -> Option<usize> {
        let target = target.trim();
        if let Ok(id) = target.parse::<u32>() {
            return self.players.iter().position(|p| p.userid == id);
        }
        self.players
            .iter()
            .position(|p| p.steam_id.eq_ignore_ascii_case(target))
    }

    /// A player leaves on their own.
    fn disconnect(&mut self, userid: u32) {
        let Some(i) = self.players.iter().position(|p| p.userid == userid) else {
            return;
        };
        let p = self.players.remove(i);
        let reason = "Disconnect by user.";
        self.log(format!("{} disconnected (reason \"{reason}\")", p.ident()));
        self.console(format!("Dropped {} from server ({reason})", p.name));
    }

    /// Kicks the player at `index` (from `find`) by the console with `message`.
    pub fn kick(&mut self, index: usize, message: &str) {
        if index >= self.players.len() {
            return;
        }
        let p = self.players.remove(index);
        let reason = if message.is_empty() {
            "Kicked by Console".to_string()
        } else {
            format!("Kicked by Console : {message}")
        };
        self.log(format!(
            "Kick: {} was kicked by \"Console\" (message \"{message}\")",
            p.ident()
        ));
        self.log(format!("{} disconnected (reason \"{reason}\")", p.ident()));
        self.console(format!("Dropped {} from server ({reason})", p.name));
    }

    /// Adds (or renews) a ban; `minutes` of 0 is permanent. `who` is the banned player's
    /// identity when they are on the server.
    pub fn add_ban(&mut self, steam_id: &str, minutes: f64, who: Option<String>, now: Instant) {
        let expires = if minutes > 0.0 {
            Duration::try_from_secs_f64(minutes * 60.0)
                .ok()
                .and_then(|d| now.checked_add(d))
        } else {
            None
        };
        self.bans
            .retain(|b| !b.steam_id.eq_ignore_ascii_case(steam_id));
        self.bans.push(Ban {
            steam_id: steam_id.to_string(),
            expires,
        });
        let length = if expires.is_some() {
            format!("for {minutes:.2} minutes")
        } else {
            "permanently".into()
        };
        let who = who.unwrap_or_else(|| CONSOLE_IDENT.into());
        self.log(format!(
            "Banid: {who} was banned \"{length}\" by \"Console\""
        ));
    }

    /// Removes a ban by SteamID or by its 1-based list position. False if there is none.
    pub fn remove_ban(&mut self, target: &str, now: Instant) -> bool {
        self.bans(now);
        let index = match target.parse::<usize>() {
            Ok(n) if (1..=self.bans.len()).contains(&n) => Some(n - 1),
            _ => self
                .bans
                .iter()
                .position(|b| b.steam_id.eq_ignore_ascii_case(target)),
        };
        match index {
            Some(i) => {
                self.bans.remove(i);
                true
            }
            None => false,
        }
    }

    /// `say` from the server console.
    pub fn console_say(&mut self, text: &str) {
        self.log(format!("{CONSOLE_IDENT} say \"{text}\""));
        self.console(format!("Console: {text}"));
    }

    fn random_chat(&mut self) {
        let talkers: Vec<usize> = (0..self.players.len())
            .filter(|&i| self.players[i].stage == Stage::InGame)
            .collect();
        if talkers.is_empty() {
            return;
        }
        let index = talkers[self.rng.below(talkers.len() as u64) as usize];
        let text = PHRASES[self.rng.below(PHRASES.len() as u64) as usize];
        let team = self.rng.one_in(4);
        self.chat(index, team, text);
    }

    /// A player at `index` says something to everyone or to the team.
    fn chat(&mut self, index: usize, team: bool, text: &str) {
        let Some(who) = self.players.get(index).map(Player::ident) else {
            return;
        };
        let verb = if team { "say_team" } else { "say" };
        self.log(format!("{who} {verb} \"{text}\""));
    }

    /// The line every RCON command leaves in the game log.
    pub fn rcon_line(&mut self, from: &str, command: &str) {
        self.log(format!("rcon from \"{from}\": command \"{command}\""));
    }

    /// Test helper and golden-file fixture: puts a player in place directly.
    #[cfg(test)]
    pub fn insert_player(&mut self, player: Player) {
        self.next_userid = self.next_userid.max(player.userid + 1);
        self.players.push(player);
    }

    /// Test helper: the bot joins now with the next user id.
    #[cfg(test)]
    pub fn insert_bot(&mut self) {
        self.bot = Some(self.take_userid());
    }
}

/// The CRC logged in `Started map`: the real one for known maps, else a stable hash.
fn map_crc(map: &str) -> i32 {
    if let Some((_, crc)) = MAP_CRCS.iter().find(|(m, _)| *m == map) {
        return *crc;
    }
    let mut h: u32 = 0x811C_9DC5;
    for b in map.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    h as i32
}

#[cfg(test)]
pub mod tests;

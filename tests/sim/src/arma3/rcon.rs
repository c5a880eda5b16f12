//! The BattlEye RCon server: logins, commands, server messages and their acknowledgements.
//!
//! One UDP socket serves every admin; state is kept per source address. A client logs in with
//! the password, then sends commands (answered with the same sequence number, split into
//! fragments when long) and acknowledges server messages, which are resent every second until
//! acknowledged, five sends at most. Clients silent for 45 s are forgotten. Anything malformed
//! is dropped and counted. Command semantics live in `commands`; this module owns packets,
//! sequences and timers.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use super::battleye::{self, COMMAND, LOGIN, MESSAGE};
use super::commands::{self, Outcome};
use super::world::World;
use crate::rng::Rng;

/// Silence after which a client is forgotten.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(45);
/// Delay before an unacknowledged server message is sent again.
const RESEND_AFTER: Duration = Duration::from_secs(1);
/// Sends of one server message, the first included.
const MAX_SENDS: u32 = 5;
/// More simultaneous clients than this are ignored (a hostile flood cannot grow memory).
const MAX_CLIENTS: usize = 64;
/// Unacknowledged messages kept per client; older ones are given up.
const MAX_PENDING: usize = 128;

/// How replies are cut and ordered.
#[derive(Clone, Copy, Debug)]
pub struct ReplyStyle {
    /// Largest reply chunk per datagram.
    pub fragment_bytes: usize,
    /// Send multi-packet replies in a scrambled order.
    pub shuffle: bool,
}

/// A server message waiting for its acknowledgement.
struct Pending {
    /// The message's sequence number.
    seq: u8,
    /// The datagram, kept to resend it unchanged.
    datagram: Vec<u8>,
    /// When it was last sent.
    sent_at: Instant,
    /// How many times it has been sent.
    sends: u32,
}

/// One admin connection, keyed by its source address.
struct Client {
    /// `Some(n)` once logged in: the admin number shown as `RCon admin #n`.
    admin: Option<u32>,
    /// Last datagram received, for the 45 s timeout.
    last_heard: Instant,
    /// Sequence number of the next server message (wraps at 256).
    next_seq: u8,
    /// Messages not acknowledged yet.
    pending: VecDeque<Pending>,
    /// The last command's sequence, text and reply datagrams: a command arriving again with
    /// the same sequence is a retransmission and gets the same reply without running twice.
    last_command: Option<(u8, Vec<u8>, Vec<Vec<u8>>)>,
}

/// What the main loop must do after a datagram was handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Keep running.
    Continue,
    /// `#shutdown` was received and answered.
    Shutdown,
}

/// The RCon endpoint of one simulated server.
pub struct RconServer {
    /// The bound UDP socket.
    socket: UdpSocket,
    /// `RConPassword`.
    password: String,
    /// Connected admins.
    clients: HashMap<SocketAddr, Client>,
    /// Admin number for the next successful login.
    next_admin: u32,
    /// Fragmenting options from the command line.
    style: ReplyStyle,
    /// Scrambles fragment order reproducibly.
    rng: Rng,
    /// Datagrams dropped as malformed or unexpected.
    dropped: u64,
}

impl RconServer {
    /// Binds the RCon socket.
    pub fn bind(
        addr: SocketAddr,
        password: String,
        style: ReplyStyle,
        rng: Rng,
    ) -> io::Result<Self> {
        let socket = UdpSocket::bind(addr)?;
        Ok(Self {
            socket,
            password,
            clients: HashMap::new(),
            next_admin: 0,
            style,
            rng,
            dropped: 0,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Datagrams dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Waits up to `wait` for one datagram. Errors other than a timeout are reported as
    /// nothing received: UDP has no connection to lose.
    pub fn receive(&self, buf: &mut [u8], wait: Duration) -> Option<(usize, SocketAddr)> {
        let wait = wait.max(Duration::from_millis(1));
        if self.socket.set_read_timeout(Some(wait)).is_err() {
            std::thread::sleep(wait);
            return None;
        }
        match self.socket.recv_from(buf) {
            Ok(got) => Some(got),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                None
            }
            Err(_) => {
                std::thread::sleep(wait);
                None
            }
        }
    }

    fn send(&self, to: SocketAddr, datagram: &[u8]) {
        // A lost datagram is what UDP is about; the client retries.
        let _ = self.socket.send_to(datagram, to);
    }

    /// Handles one received datagram.
    pub fn handle(
        &mut self,
        from: SocketAddr,
        datagram: &[u8],
        world: &mut World,
        now: Instant,
    ) -> Control {
        let Ok(packet) = battleye::decode(datagram) else {
            self.dropped += 1;
            return Control::Continue;
        };
        if packet.kind == LOGIN {
            self.login(from, packet.payload, now);
            return Control::Continue;
        }
        let Some(client) = self.clients.get_mut(&from) else {
            self.dropped += 1;
            return Control::Continue;
        };
        client.last_heard = now;
        let Some(admin) = client.admin else {
            self.dropped += 1;
            return Control::Continue;
        };
        match (packet.kind, packet.payload.split_first()) {
            (COMMAND, Some((&seq, text))) => self.command(from, admin, seq, text, world, now),
            (MESSAGE, Some((&seq, _))) => {
                client.pending.retain(|p| p.seq != seq);
                Control::Continue
            }
            _ => {
                self.dropped += 1;
                Control::Continue
            }
        }
    }

    fn login(&mut self, from: SocketAddr, password: &[u8], now: Instant) {
        if !self.clients.contains_key(&from) && self.clients.len() >= MAX_CLIENTS {
            self.dropped += 1;
            return;
        }
        let ok = password == self.password.as_bytes();
        let admin = if ok {
            let n = self.next_admin;
            self.next_admin += 1;
            Some(n)
        } else {
            None
        };
        // A new login from the same address starts a fresh session.
        self.clients.insert(
            from,
            Client {
                admin,
                last_heard: now,
                next_seq: 0,
                pending: VecDeque::new(),
                last_command: None,
            },
        );
        self.send(from, &battleye::encode(LOGIN, &[u8::from(ok)]));
        match admin {
            Some(n) => {
                println!("RCon admin #{n} ({from}) logged in");
                self.broadcast(&format!("RCon admin #{n} ({from}) logged in"), now);
            }
            None => println!("RCon login from {from} refused: wrong password"),
        }
    }

    fn command(
        &mut self,
        from: SocketAddr,
        admin: u32,
        seq: u8,
        text: &[u8],
        world: &mut World,
        now: Instant,
    ) -> Control {
        if let Some(client) = self.clients.get(&from)
            && let Some((last_seq, last_text, packets)) = &client.last_command
            && *last_seq == seq
            && last_text == text
        {
            for p in packets {
                self.send(from, p);
            }
            return Control::Continue;
        }
        let Outcome { reply, shutdown } = match std::str::from_utf8(text) {
            Ok(command) => commands::execute(world, admin, command, now),
            Err(_) => Outcome {
                reply: "Unknown command".into(),
                shutdown: false,
            },
        };
        let mut packets = battleye::reply_packets(seq, reply.as_bytes(), self.style.fragment_bytes);
        if self.style.shuffle && packets.len() > 1 {
            let before = packets.clone();
            self.rng.shuffle(&mut packets);
            if packets == before {
                packets.reverse();
            }
        }
        for p in &packets {
            self.send(from, p);
        }
        if let Some(client) = self.clients.get_mut(&from) {
            client.last_command = Some((seq, text.to_vec(), packets));
        }
        if shutdown {
            Control::Shutdown
        } else {
            Control::Continue
        }
    }

    /// Sends a server message to every logged-in client.
    pub fn broadcast(&mut self, text: &str, now: Instant) {
        let mut sends = Vec::new();
        for (addr, client) in &mut self.clients {
            if client.admin.is_none() {
                continue;
            }
            let seq = client.next_seq;
            client.next_seq = client.next_seq.wrapping_add(1);
            let mut payload = Vec::with_capacity(text.len() + 1);
            payload.push(seq);
            payload.extend_from_slice(text.as_bytes());
            let datagram = battleye::encode(MESSAGE, &payload);
            // The same sequence cannot wait twice; the older copy is given up.
            client.pending.retain(|p| p.seq != seq);
            if client.pending.len() >= MAX_PENDING {
                client.pending.pop_front();
            }
            sends.push((*addr, datagram.clone()));
            client.pending.push_back(Pending {
                seq,
                datagram,
                sent_at: now,
                sends: 1,
            });
        }
        for (addr, datagram) in sends {
            self.send(addr, &datagram);
        }
    }

    /// Resends unacknowledged messages and forgets silent clients.
    pub fn maintain(&mut self, now: Instant) {
        self.clients
            .retain(|_, c| now.saturating_duration_since(c.last_heard) < CLIENT_TIMEOUT);
        let mut sends = Vec::new();
        for (addr, client) in &mut self.clients {
            client.pending.retain_mut(|p| {
                if now.saturating_duration_since(p.sent_at) < RESEND_AFTER {
                    return true;
                }
                if p.sends >= MAX_SENDS {
                    return false;
                }
                p.sends += 1;
                p.sent_at = now;
                sends.push((*addr, p.datagram.clone()));
                true
            });
        }
        for (addr, datagram) in sends {
            self.send(addr, &datagram);
        }
    }

    /// Number of known clients (logged in or not).
    #[cfg(test)]
    fn client_count(&self) -> usize {
        self.clients.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arma3::world::WorldSettings;

    fn setup() -> (RconServer, UdpSocket, World) {
        let server = RconServer::bind(
            "127.0.0.1:0".parse().expect("addr"),
            "secret".into(),
            ReplyStyle {
                fragment_bytes: 16,
                shuffle: true,
            },
            Rng::seeded(5),
        )
        .expect("bind");
        let client = UdpSocket::bind("127.0.0.1:0").expect("bind client");
        client
            .set_read_timeout(Some(Duration::from_millis(500)))
            .expect("timeout");
        let world = World::new(
            WorldSettings {
                initial_players: 0,
                churn: false,
                max_players: 8,
                missions: Vec::new(),
            },
            Rng::seeded(5),
        );
        (server, client, world)
    }

    fn recv(client: &UdpSocket) -> (u8, Vec<u8>) {
        let mut buf = [0u8; 2048];
        let (n, _) = client.recv_from(&mut buf).expect("a datagram");
        let p = battleye::decode(&buf[..n]).expect("valid packet");
        (p.kind, p.payload.to_vec())
    }

    #[test]
    fn login_commands_fragments_and_acks() {
        let (mut server, client, mut world) = setup();
        let me = client.local_addr().expect("addr");
        let t0 = Instant::now();

        // Commands before login and garbage are dropped.
        server.handle(
            me,
            &battleye::encode(COMMAND, b"\x00players"),
            &mut world,
            t0,
        );
        server.handle(me, b"garbage!", &mut world, t0);
        assert_eq!(server.dropped(), 2);

        server.handle(me, &battleye::encode(LOGIN, b"wrong"), &mut world, t0);
        assert_eq!(recv(&client), (LOGIN, vec![0]));
        server.handle(me, &battleye::encode(LOGIN, b"secret"), &mut world, t0);
        assert_eq!(recv(&client), (LOGIN, vec![1]));
        let (kind, msg) = recv(&client);
        assert_eq!((kind, msg[0]), (MESSAGE, 0));
        assert!(msg[1..].starts_with(b"RCon admin #0 ("));

        // A long reply arrives in scrambled fragments that reassemble.
        server.handle(
            me,
            &battleye::encode(COMMAND, b"\x07players"),
            &mut world,
            t0,
        );
        let mut parts = Vec::new();
        let (_, first) = recv(&client);
        let count = usize::from(first[2]);
        assert!(count > 1);
        parts.push(first);
        while parts.len() < count {
            parts.push(recv(&client).1);
        }
        let order: Vec<u8> = parts.iter().map(|p| p[3]).collect();
        assert!(
            order.windows(2).any(|w| w[0] > w[1]),
            "not scrambled: {order:?}"
        );
        parts.sort_by_key(|p| p[3]);
        let text: Vec<u8> = parts.iter().flat_map(|p| p[4..].to_vec()).collect();
        assert_eq!(
            String::from_utf8_lossy(&text),
            commands::players_reply(&world)
        );

        // The unacknowledged login message is resent after a second, five sends in all.
        for i in 1..=4u64 {
            server.maintain(t0 + Duration::from_millis(1001 * i));
            assert_eq!(recv(&client).0, MESSAGE);
        }
        server.maintain(t0 + Duration::from_secs(10));
        client
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        let mut buf = [0u8; 64];
        assert!(client.recv_from(&mut buf).is_err(), "no sixth send");

        // An acknowledged message is not resent.
        server.broadcast("hello", t0);
        assert_eq!(recv(&client).1, b"\x01hello".to_vec());
        server.handle(me, &battleye::encode(MESSAGE, &[1]), &mut world, t0);
        server.maintain(t0 + Duration::from_secs(2));
        assert!(client.recv_from(&mut buf).is_err(), "acked message resent");

        // Silent clients are forgotten.
        assert_eq!(server.client_count(), 1);
        server.maintain(t0 + Duration::from_secs(46));
        assert_eq!(server.client_count(), 0);
    }

    #[test]
    fn retransmitted_command_is_not_run_twice() {
        let (mut server, client, mut world) = setup();
        let me = client.local_addr().expect("addr");
        let t0 = Instant::now();
        server.handle(me, &battleye::encode(LOGIN, b"secret"), &mut world, t0);
        recv(&client);
        recv(&client);
        server.handle(
            me,
            &battleye::encode(COMMAND, b"\x03#restart"),
            &mut world,
            t0,
        );
        assert_eq!(recv(&client), (COMMAND, vec![3]));
        server.handle(
            me,
            &battleye::encode(COMMAND, b"\x03#restart"),
            &mut world,
            t0,
        );
        assert_eq!(recv(&client), (COMMAND, vec![3]));
        let cycles = world
            .drain()
            .iter()
            .filter(|o| matches!(o, crate::arma3::world::Output::Rpt(l) if l.len() == 4))
            .count();
        assert_eq!(cycles, 1);
        // Hostile or empty payloads are dropped, never a panic.
        for bad in [
            &battleye::encode(COMMAND, b"")[..],
            &battleye::encode(MESSAGE, b""),
            &battleye::encode(9, b"x"),
        ] {
            assert_eq!(server.handle(me, bad, &mut world, t0), Control::Continue);
        }
        assert_eq!(server.dropped(), 3);
    }

    #[test]
    fn hostile_datagrams_never_panic() {
        let (mut server, client, mut world) = setup();
        let me = client.local_addr().expect("addr");
        let t0 = Instant::now();
        server.handle(me, &battleye::encode(LOGIN, b"secret"), &mut world, t0);
        let mut rng = Rng::seeded(99);
        for i in 0..3000u64 {
            let len = rng.below(40) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
            let datagram = if i % 2 == 0 {
                // Well framed, random type and payload (never a real command word).
                let kind = (rng.below(4)) as u8;
                let mut payload = bytes;
                if kind == COMMAND && payload.len() > 1 {
                    payload[1] = 0xFE;
                }
                battleye::encode(kind, &payload)
            } else {
                bytes
            };
            let from = if i % 7 == 0 {
                "127.0.0.1:9".parse().expect("addr")
            } else {
                me
            };
            assert_eq!(
                server.handle(from, &datagram, &mut world, t0),
                Control::Continue
            );
        }
    }
}

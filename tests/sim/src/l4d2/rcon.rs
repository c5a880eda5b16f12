//! The Source RCON server: a TCP listener with one thread per connection.
//!
//! Each connection thread decodes packets in arrival order and answers them in that order:
//! SERVERDATA_AUTH gets an empty RESPONSE_VALUE then an AUTH_RESPONSE (the request id, or −1
//! for a wrong password; the connection stays open either way); EXECCOMMAND from an
//! authenticated client is handed to the main loop, which owns the world, and the reply comes
//! back as RESPONSE_VALUE packets of at most `--packet-bytes` body bytes; an empty
//! RESPONSE_VALUE is mirrored, followed by the real server's extra packet whose body is
//! `00 00 00 01`. Because one thread answers one packet after the other, the mirror always
//! follows the replies to every earlier command. Anything before authentication is ignored; a
//! corrupt stream closes the connection. With `--split-writes` outgoing bytes are dribbled in
//! random chunks (spanning packet boundaries, so several packets may also share one write).

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::packet::{
    self, Decoder, SERVERDATA_AUTH, SERVERDATA_AUTH_RESPONSE, SERVERDATA_EXECCOMMAND,
    SERVERDATA_RESPONSE_VALUE,
};
use crate::rng::Rng;

/// The extra body the real server sends after mirroring an empty RESPONSE_VALUE.
const MIRROR_QUIRK: [u8; 4] = [0, 0, 0, 1];
/// More simultaneous connections than this are closed at once (a flood cannot grow threads).
const MAX_CONNECTIONS: usize = 64;

/// What a connection asks of the main loop.
pub enum Event {
    /// Run a command for an authenticated client and send back the reply.
    Command {
        /// The client's address, for the `rcon from` log line.
        from: SocketAddr,
        /// The command body.
        command: String,
        /// Where the reply goes.
        reply: Sender<Reply>,
    },
    /// A login with a wrong password (logged by the main loop).
    BadPassword(SocketAddr),
}

/// The main loop's answer to a command.
pub struct Reply {
    /// The reply text.
    pub text: String,
    /// Signalled once the reply has been written (used before exiting on `quit`).
    pub written: Option<Sender<()>>,
}

/// How every connection behaves.
#[derive(Clone, Debug)]
pub struct Style {
    /// `rcon_password`; `None` refuses every login.
    pub password: Option<String>,
    /// Largest body per RESPONSE_VALUE packet.
    pub packet_bytes: usize,
    /// Dribble writes in small random chunks.
    pub split_writes: bool,
}

/// Closes the remote console while the process lives on (`--slow-quit`): every open
/// connection is shut down and every new one is closed as soon as it is accepted.
#[derive(Clone, Default)]
pub struct Closer {
    closed: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Closer {
    /// Shuts every connection down, now and from now on.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let open = std::mem::take(&mut *self.open.lock().unwrap_or_else(PoisonError::into_inner));
        for stream in open {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Whether `stream` may be served (it is kept, to be shut down on [`Closer::close`]).
    fn admit(&self, stream: &TcpStream) -> bool {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if self.closed.load(Ordering::SeqCst) {
            let _ = stream.shutdown(Shutdown::Both);
            return false;
        }
        if let Ok(clone) = stream.try_clone() {
            open.push(clone);
        }
        true
    }
}

/// Binds `addr` and serves connections on background threads; returns the bound address and
/// what closes them all.
pub fn start(
    addr: SocketAddr,
    style: Style,
    events: Sender<Event>,
    mut rng: Rng,
) -> io::Result<(SocketAddr, Closer)> {
    let listener = TcpListener::bind(addr)?;
    let local = listener.local_addr()?;
    let closer = Closer::default();
    let admission = closer.clone();
    std::thread::Builder::new()
        .name("rcon-accept".into())
        .spawn(move || {
            let open = Arc::new(AtomicUsize::new(0));
            for stream in listener.incoming() {
                let Ok(stream) = stream else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                if !admission.admit(&stream) {
                    continue;
                }
                if open.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
                    let _ = stream.shutdown(Shutdown::Both);
                    continue;
                }
                open.fetch_add(1, Ordering::Relaxed);
                let counter = Arc::clone(&open);
                let conn = Connection {
                    style: style.clone(),
                    events: events.clone(),
                    rng: Rng::seeded(rng.next_u64()),
                    authed: false,
                };
                let spawned =
                    std::thread::Builder::new()
                        .name("rcon-conn".into())
                        .spawn(move || {
                            conn.serve(stream);
                            counter.fetch_sub(1, Ordering::Relaxed);
                        });
                if let Err(e) = spawned {
                    open.fetch_sub(1, Ordering::Relaxed);
                    eprintln!("garrison-sim: cannot start an RCON connection thread: {e}");
                }
            }
        })?;
    Ok((local, closer))
}

/// One client connection.
struct Connection {
    /// Shared settings.
    style: Style,
    /// The way to the main loop.
    events: Sender<Event>,
    /// Chunk sizes and pauses for `--split-writes`.
    rng: Rng,
    /// Whether this client has logged in successfully.
    authed: bool,
}

impl Connection {
    fn serve(mut self, mut stream: TcpStream) {
        let Ok(peer) = stream.peer_addr() else {
            return;
        };
        let _ = stream.set_nodelay(true);
        let mut decoder = Decoder::default();
        let mut buf = [0u8; 4096];
        loop {
            let n = match stream.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return,
            };
            decoder.push(buf.get(..n).unwrap_or_default());
            loop {
                match decoder.next_packet() {
                    Ok(None) => break,
                    Ok(Some(p)) => {
                        if self.handle(&mut stream, peer, p).is_err() {
                            return;
                        }
                    }
                    Err(_) => {
                        let _ = stream.shutdown(Shutdown::Both);
                        return;
                    }
                }
            }
        }
    }

    /// Answers one packet; an error means the connection is finished.
    fn handle(
        &mut self,
        stream: &mut TcpStream,
        peer: SocketAddr,
        p: packet::Packet,
    ) -> io::Result<()> {
        match p.kind {
            SERVERDATA_AUTH => {
                let ok = self
                    .style
                    .password
                    .as_deref()
                    .is_some_and(|pw| pw.as_bytes() == p.body.as_slice());
                self.authed = ok;
                if !ok {
                    let _ = self.events.send(Event::BadPassword(peer));
                }
                let mut out = packet::encode(p.id, SERVERDATA_RESPONSE_VALUE, b"");
                let verdict = if ok { p.id } else { -1 };
                out.extend(packet::encode(verdict, SERVERDATA_AUTH_RESPONSE, b""));
                self.write(stream, &out)
            }
            SERVERDATA_EXECCOMMAND if self.authed => {
                let (tx, rx): (Sender<Reply>, Receiver<Reply>) = mpsc::channel();
                let command = String::from_utf8_lossy(&p.body).into_owned();
                let event = Event::Command {
                    from: peer,
                    command,
                    reply: tx,
                };
                if self.events.send(event).is_err() {
                    return Err(io::ErrorKind::BrokenPipe.into());
                }
                let reply = rx
                    .recv()
                    .map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))?;
                let mut out = Vec::new();
                for body in packet::split_body(&reply.text, self.style.packet_bytes) {
                    out.extend(packet::encode(p.id, SERVERDATA_RESPONSE_VALUE, body));
                }
                let result = self.write(stream, &out);
                if let Some(done) = reply.written {
                    let _ = done.send(());
                }
                result
            }
            SERVERDATA_RESPONSE_VALUE if self.authed => {
                let mut out = packet::encode(p.id, SERVERDATA_RESPONSE_VALUE, b"");
                out.extend(packet::encode(
                    p.id,
                    SERVERDATA_RESPONSE_VALUE,
                    &MIRROR_QUIRK,
                ));
                self.write(stream, &out)
            }
            // Before login, or a type the server does not know: ignored.
            _ => Ok(()),
        }
    }

    /// Writes a batch of packets, in one go or dribbled with `--split-writes`.
    fn write(&mut self, stream: &mut TcpStream, bytes: &[u8]) -> io::Result<()> {
        if !self.style.split_writes {
            return stream.write_all(bytes).and_then(|()| stream.flush());
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            // Mostly tiny pieces; now and then a big one that spans several packets.
            let want = if self.rng.one_in(5) {
                1 + self.rng.below(400) as usize
            } else {
                1 + self.rng.below(12) as usize
            };
            let (chunk, tail) = rest.split_at(want.min(rest.len()));
            stream.write_all(chunk)?;
            stream.flush()?;
            rest = tail;
            if !rest.is_empty() && self.rng.one_in(3) {
                std::thread::sleep(Duration::from_millis(1 + self.rng.below(3)));
            }
        }
        Ok(())
    }
}

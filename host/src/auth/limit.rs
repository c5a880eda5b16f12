//! Failed sign-in limiting, in memory: per username and per client address. After a number
//! of free failures a key is locked out for a time that doubles with each further failure (up
//! to a cap); a quiet period forgets the failures. While locked, sign-ins are refused without
//! checking the password, so guessing gains nothing and costs the host no hashing.
//!
//! A username locked out by failures is still checked for a client address with no failures
//! of its own in the quiet period: otherwise a stranger who guesses wrong a few times locks
//! the real user out everywhere. Such an address gets one attempt; if it fails, it has
//! failures, and the username's lockout applies to it too.
//!
//! Time is passed in (`now`), so the policy is tested without sleeping; the host uses
//! `tokio::time::Instant`, which `tokio::time::pause` controls.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// How one kind of key (username, client address) is limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures allowed before the first lockout.
    pub free_failures: u32,
    /// The first lockout; each further failure doubles it.
    pub base: Duration,
    /// The longest lockout.
    pub max: Duration,
    /// Failures are forgotten after this long without one.
    pub forget_after: Duration,
}

impl LockoutPolicy {
    /// Per username: 5 failures, then 30 s, 1 min, 2 min, … up to 15 min.
    pub const USER: LockoutPolicy = LockoutPolicy {
        free_failures: 5,
        base: Duration::from_secs(30),
        max: Duration::from_secs(15 * 60),
        forget_after: Duration::from_secs(60 * 60),
    };

    /// Per client address: more room (several people may share an address), same shape.
    pub const CLIENT: LockoutPolicy = LockoutPolicy {
        free_failures: 20,
        base: Duration::from_secs(30),
        max: Duration::from_secs(15 * 60),
        forget_after: Duration::from_secs(60 * 60),
    };

    /// The lockout after `failures` failures (zero while they are free).
    fn lockout(&self, failures: u32) -> Duration {
        if failures < self.free_failures {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free_failures).min(20);
        self.base.saturating_mul(1 << doublings).min(self.max)
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last_failure: Instant,
    locked_until: Option<Instant>,
}

/// Entries kept before stale ones are swept (bounds memory under a flood of names).
const SWEEP_AT: usize = 10_000;

/// Failures of one kind of key.
#[derive(Debug)]
pub struct Limiter {
    policy: LockoutPolicy,
    entries: Mutex<HashMap<String, Entry>>,
}

impl Limiter {
    /// An empty limiter.
    pub fn new(policy: LockoutPolicy) -> Self {
        Limiter {
            policy,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding this lock cannot leave an entry half-written.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `Err(wait)` while `key` is locked out.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        match self.entries().get(key).and_then(|e| e.locked_until) {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// Records a failure of `key`.
    pub fn fail(&self, key: &str, now: Instant) {
        let mut entries = self.entries();
        if entries.len() >= SWEEP_AT {
            let forget = self.policy.forget_after;
            entries.retain(|_, e| {
                now.duration_since(e.last_failure) < forget
                    || e.locked_until.is_some_and(|u| u > now)
            });
        }
        let entry = entries.entry(key.to_owned()).or_insert(Entry {
            failures: 0,
            last_failure: now,
            locked_until: None,
        });
        if now.duration_since(entry.last_failure) >= self.policy.forget_after {
            entry.failures = 0;
        }
        entry.failures = entry.failures.saturating_add(1);
        entry.last_failure = now;
        let lockout = self.policy.lockout(entry.failures);
        entry.locked_until = (!lockout.is_zero()).then(|| now + lockout);
    }

    /// How many failures of `key` are remembered at `now` (0 once the quiet period forgot
    /// them).
    pub fn recent_failures(&self, key: &str, now: Instant) -> u32 {
        match self.entries().get(key) {
            Some(e) if now.duration_since(e.last_failure) < self.policy.forget_after => e.failures,
            _ => 0,
        }
    }

    /// Forgets the failures of `key` (after a successful sign-in).
    pub fn forget(&self, key: &str) {
        self.entries().remove(key);
    }
}

/// The two limiters a sign-in passes.
#[derive(Debug)]
pub struct LoginLimits {
    /// Keyed by lower-cased username.
    pub users: Limiter,
    /// Keyed by client IP address.
    pub clients: Limiter,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            users: Limiter::new(LockoutPolicy::USER),
            clients: Limiter::new(LockoutPolicy::CLIENT),
        }
    }
}

impl LoginLimits {
    /// `Err(wait)` if the sign-in is refused without checking the password (the longer wait
    /// wins): the client is locked out, or the username is — unless the client has no recent
    /// failures of its own, so a stranger's failures elsewhere do not lock the user out.
    pub fn check(&self, user: &str, client: Option<&str>, now: Instant) -> Result<(), Duration> {
        let clean_client = client.is_some_and(|c| self.clients.recent_failures(c, now) == 0);
        let by_user = match self.users.check(user, now) {
            Err(_) if clean_client => Ok(()),
            other => other,
        };
        let by_client = client.map_or(Ok(()), |c| self.clients.check(c, now));
        match (by_user, by_client) {
            (Ok(()), Ok(())) => Ok(()),
            (Err(a), Err(b)) => Err(a.max(b)),
            (Err(wait), Ok(())) | (Ok(()), Err(wait)) => Err(wait),
        }
    }

    /// Records a failed sign-in.
    pub fn fail(&self, user: &str, client: Option<&str>, now: Instant) {
        self.users.fail(user, now);
        if let Some(client) = client {
            self.clients.fail(client, now);
        }
    }

    /// Records a successful sign-in: the username's failures are forgotten. The client's are
    /// not, or one valid account would let an address keep guessing at others.
    pub fn succeed(&self, user: &str) {
        self.users.forget(user);
    }
}

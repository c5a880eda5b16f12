//! The auto-restart policy and the count it is checked against.
//!
//! After a crash the supervisor restarts the server after a short backoff, unless it has
//! already restarted it [`RestartPolicy::max`] times within the sliding
//! [`RestartPolicy::window`]; then it gives up and the server stays crashed. A restart the
//! user asks for clears the count. This module only counts; it never sleeps or launches.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// How a crashed server is restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    /// Whether a crash is followed by a restart at all.
    pub enabled: bool,
    /// Restarts allowed within `window` before the supervisor gives up.
    pub max: u32,
    /// The sliding window restarts are counted in.
    pub window: Duration,
    /// The pause between a crash and the restart, so a server that dies at once does not
    /// spin.
    pub backoff: Duration,
}

impl Default for RestartPolicy {
    /// On; at most 3 restarts in 10 minutes, 2 seconds apart.
    fn default() -> Self {
        RestartPolicy {
            enabled: true,
            max: 3,
            window: Duration::from_secs(600),
            backoff: Duration::from_secs(2),
        }
    }
}

/// How a server's automatic restarts stand, for those watching it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, utoipa::ToSchema)]
pub struct RestartStatus {
    /// Automatic restarts after crashes within the policy's window (a pending one counted).
    pub count: u32,
    /// The most the policy allows within the window.
    pub max: u32,
    /// Whether a restart after a crash is waiting for its backoff.
    pub restarting: bool,
}

/// What the supervisor publishes about its restarts: enough to count them at any later
/// moment, since restarts leave the window as time passes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct RestartRecord {
    pub window: RestartWindow,
    pub policy: RestartPolicy,
    pub restarting: bool,
}

impl RestartRecord {
    /// The status at `now`.
    pub fn status(&self, now: Instant) -> RestartStatus {
        RestartStatus {
            count: u32::try_from(self.window.count(&self.policy, now)).unwrap_or(u32::MAX),
            max: self.policy.max,
            restarting: self.restarting,
        }
    }
}

/// When the limit is reached: how many restarts happened within how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct GaveUp {
    pub restarts: usize,
    pub window: Duration,
}

impl std::fmt::Display for GaveUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "gave up after {} restart{} in {}",
            self.restarts,
            if self.restarts == 1 { "" } else { "s" },
            human(self.window)
        )
    }
}

/// The automatic restarts of one server within the policy's window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct RestartWindow {
    /// When each counted restart was decided, oldest first.
    times: VecDeque<Instant>,
}

impl RestartWindow {
    /// Counts one more restart at `now` if the policy allows it and returns its number
    /// within the window (1 for the first); otherwise says that the limit is reached.
    pub fn record(&mut self, policy: &RestartPolicy, now: Instant) -> Result<usize, GaveUp> {
        if let Some(start) = now.checked_sub(policy.window) {
            while self.times.front().is_some_and(|t| *t <= start) {
                self.times.pop_front();
            }
        }
        if self.times.len() >= usize::try_from(policy.max).unwrap_or(usize::MAX) {
            return Err(GaveUp {
                restarts: self.times.len(),
                window: policy.window,
            });
        }
        self.times.push_back(now);
        Ok(self.times.len())
    }

    /// How many counted restarts are still within the policy's window at `now`.
    pub fn count(&self, policy: &RestartPolicy, now: Instant) -> usize {
        match now.checked_sub(policy.window) {
            Some(start) => self.times.iter().filter(|t| **t > start).count(),
            None => self.times.len(),
        }
    }

    /// Forgets every counted restart (the user started the server themselves).
    pub fn clear(&mut self) {
        self.times.clear();
    }
}

/// A duration as an operator would say it: "10 min", "30 s", "300 ms".
pub(super) fn human(d: Duration) -> String {
    let secs = d.as_secs();
    if d.subsec_nanos() == 0 && secs >= 60 && secs.is_multiple_of(60) {
        format!("{} min", secs / 60)
    } else if d.subsec_nanos() == 0 {
        format!("{secs} s")
    } else if secs == 0 {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(max: u32, window_secs: u64) -> RestartPolicy {
        RestartPolicy {
            max,
            window: Duration::from_secs(window_secs),
            ..RestartPolicy::default()
        }
    }

    #[test]
    fn counts_up_to_the_limit_then_gives_up() {
        let policy = policy(3, 600);
        let mut window = RestartWindow::default();
        let t0 = Instant::now();
        assert_eq!(window.record(&policy, t0), Ok(1));
        assert_eq!(window.record(&policy, t0 + Duration::from_secs(1)), Ok(2));
        assert_eq!(window.record(&policy, t0 + Duration::from_secs(2)), Ok(3));
        let gave_up = window
            .record(&policy, t0 + Duration::from_secs(3))
            .expect_err("limit reached");
        assert_eq!(gave_up.to_string(), "gave up after 3 restarts in 10 min");
    }

    #[test]
    fn restarts_older_than_the_window_no_longer_count() {
        let policy = policy(2, 60);
        let mut window = RestartWindow::default();
        let t0 = Instant::now();
        assert_eq!(window.record(&policy, t0), Ok(1));
        assert_eq!(window.record(&policy, t0 + Duration::from_secs(30)), Ok(2));
        assert!(
            window
                .record(&policy, t0 + Duration::from_secs(59))
                .is_err()
        );
        // The first restart has left the window; the second is still in it.
        assert_eq!(window.count(&policy, t0 + Duration::from_secs(59)), 2);
        assert_eq!(window.count(&policy, t0 + Duration::from_secs(61)), 1);
        assert_eq!(window.count(&policy, t0 + Duration::from_secs(91)), 0);
        assert_eq!(window.record(&policy, t0 + Duration::from_secs(61)), Ok(2));
        window.clear();
        assert_eq!(window.record(&policy, t0 + Duration::from_secs(62)), Ok(1));
    }

    #[test]
    fn a_limit_of_zero_gives_up_at_once() {
        let mut window = RestartWindow::default();
        assert!(window.record(&policy(0, 60), Instant::now()).is_err());
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human(Duration::from_secs(600)), "10 min");
        assert_eq!(human(Duration::from_secs(90)), "90 s");
        assert_eq!(human(Duration::from_millis(300)), "300 ms");
        assert_eq!(human(Duration::from_millis(1500)), "1.5 s");
    }
}

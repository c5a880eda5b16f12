//! Stopping a game process: SIGTERM to its group, a grace period, then SIGKILL.
//!
//! Every wait is on the process's pidfd (with a tokio timeout for the grace period), so a
//! stop takes as long as the game needs and no longer. The outcome says which step ended
//! it, so the supervisor can tell an ordered stop from a crash and note a game that had to
//! be killed. Deciding *when* to stop, and any game-specific steps before the signals (an
//! RCon `quit`), belong to the supervisor.

use std::time::Duration;

use rustix::process::Signal;

use super::process::Exit;
use super::watch::Watch;

/// How long a stop waits after SIGTERM before SIGKILL, unless a server sets its own.
pub const DEFAULT_STOP_GRACE: Duration = Duration::from_secs(30);

/// How far a stop had to go before the process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ended {
    /// It had already ended before any signal was sent.
    ByItself,
    /// It ended within the grace period after SIGTERM.
    AfterSigterm,
    /// It ignored SIGTERM for the whole grace period and was SIGKILLed.
    Killed,
}

/// The result of [`GameProcess::stop`](super::process::GameProcess::stop) or
/// [`AttachedProcess::stop`](super::process::AttachedProcess::stop).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StopOutcome {
    /// Which step ended it.
    pub ended: Ended,
    /// Its exit.
    pub exit: Exit,
}

/// What the stop sequence needs from either kind of process.
pub(super) trait Stoppable {
    fn watch(&self) -> &Watch;
    async fn exited(&mut self) -> Exit;
}

/// SIGTERM, wait up to `grace`, SIGKILL, wait. Every wait is on the pidfd; if the process
/// has already ended, nothing is signalled. The final wait has no bound: SIGKILL cannot be
/// refused, so only a process stuck in the kernel would keep it waiting.
pub(super) async fn stop<P: Stoppable>(
    process: &mut P,
    already_ended: bool,
    grace: Duration,
) -> StopOutcome {
    let ended = already_ended || !process.watch().id.is_alive_and_same();
    if !ended {
        process.watch().signal(Signal::TERM);
    }
    if let Ok(exit) = tokio::time::timeout(grace, process.exited()).await {
        let ended = if ended {
            Ended::ByItself
        } else {
            Ended::AfterSigterm
        };
        return StopOutcome { ended, exit };
    }
    tracing::info!(id = %process.watch().id, ?grace, "game process ignored SIGTERM, killing it");
    process.watch().signal(Signal::KILL);
    let exit = process.exited().await;
    StopOutcome {
        ended: Ended::Killed,
        exit,
    }
}

//! The host's long-running background tasks (the reconciler, the metrics sampler, the
//! retention pruner), owned in one place: one cancellation token tells them all to stop, and
//! a task that ends before being told to — it panicked, or returned — is a failure the host
//! reports by name and stops on, instead of a `JoinError` nobody reads.

use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

/// Why a background task ended before the host asked it to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {name} {why}")]
pub struct TaskFailure {
    /// The task's name (`reconciler`, …).
    pub name: &'static str,
    /// What happened (`panicked: …`, `stopped by itself`).
    pub why: String,
}

/// Background tasks and the token that stops them.
#[derive(Debug, Default)]
pub struct Background {
    cancel: CancellationToken,
    tasks: JoinSet<(&'static str, Result<(), tokio::task::JoinError>)>,
}

impl Background {
    /// No tasks yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The token a task watches to know when to stop.
    pub fn token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Owns `task`, known as `name` in what is logged and reported.
    pub fn add(&mut self, name: &'static str, task: JoinHandle<()>) {
        self.tasks.spawn(async move { (name, task.await) });
    }

    /// Completes when a task ends although nobody asked it to stop; never while every task
    /// runs (nor with none).
    pub async fn failure(&mut self) -> TaskFailure {
        loop {
            let Some(ended) = self.tasks.join_next().await else {
                return std::future::pending().await;
            };
            if self.cancel.is_cancelled() {
                continue;
            }
            return match ended {
                Ok((name, Ok(()))) => TaskFailure {
                    name,
                    why: "stopped by itself".into(),
                },
                Ok((name, Err(e))) => TaskFailure {
                    name,
                    why: if e.is_panic() {
                        format!("panicked: {}", panic_message(e))
                    } else {
                        "was cancelled".into()
                    },
                },
                Err(e) => TaskFailure {
                    name: "background task",
                    why: e.to_string(),
                },
            };
        }
    }

    /// Tells every task to stop and waits for them all; the failures among them (a task that
    /// panicked while stopping), each logged.
    pub async fn stop(mut self) -> Vec<TaskFailure> {
        self.cancel.cancel();
        let mut failures = Vec::new();
        while let Some(ended) = self.tasks.join_next().await {
            if let Ok((name, Err(e))) = ended
                && e.is_panic()
            {
                let failure = TaskFailure {
                    name,
                    why: format!("panicked while stopping: {}", panic_message(e)),
                };
                tracing::error!("{failure}");
                failures.push(failure);
            }
        }
        failures
    }
}

fn panic_message(e: tokio::task::JoinError) -> String {
    let payload = e.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn until_cancelled(token: CancellationToken) -> JoinHandle<()> {
        tokio::spawn(async move { token.cancelled().await })
    }

    #[tokio::test]
    async fn a_task_that_panics_is_reported_by_name_and_the_others_stop_when_told() {
        let mut background = Background::new();
        background.add("sampler", until_cancelled(background.token()));
        background.add(
            "pruner",
            tokio::spawn(async {
                tokio::time::sleep(Duration::from_millis(10)).await;
                panic!("disk on fire");
            }),
        );
        let failure = tokio::time::timeout(Duration::from_secs(10), background.failure())
            .await
            .expect("reported");
        assert_eq!(failure.name, "pruner");
        assert_eq!(failure.why, "panicked: disk on fire");
        assert_eq!(failure.to_string(), "the pruner panicked: disk on fire");
        let stopped = tokio::time::timeout(Duration::from_secs(10), background.stop())
            .await
            .expect("the sampler stops when told");
        assert!(stopped.is_empty(), "{stopped:?}");
    }

    #[tokio::test]
    async fn a_task_that_returns_by_itself_is_a_failure_but_not_once_told_to_stop() {
        let mut background = Background::new();
        background.add("reconciler", tokio::spawn(async {}));
        let failure = tokio::time::timeout(Duration::from_secs(10), background.failure())
            .await
            .expect("reported");
        assert_eq!(failure.why, "stopped by itself");

        let mut background = Background::new();
        background.add("reconciler", until_cancelled(background.token()));
        background.cancel.cancel();
        // Told to stop: its end is no failure, so `failure` waits on.
        let waited = tokio::time::timeout(Duration::from_millis(200), background.failure()).await;
        assert!(waited.is_err(), "{waited:?}");
        assert!(background.stop().await.is_empty());
    }
}

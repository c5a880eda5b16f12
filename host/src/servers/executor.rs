//! Carries out jobs on servers: the job queue's executor.
//!
//! - initialize: render the config files;
//! - start: record the wish, render (so config changes apply), launch through the supervisor;
//! - stop / kill: record the wish, stop through the adapter's stop plan / kill the group;
//! - restart: render, stop, launch;
//! - install / update: the adapter's install plan (SteamCMD) into the game's runtime directory
//!   ([`crate::runtimes::run_plan`]); a job on a game runtime rather than a server runs it
//!   once for all that game's servers ([`crate::runtimes::execute`]);
//! - delete: kill, remove the server's files, keep its history (soft delete).

use std::path::PathBuf;

use crate::jobs::{JobContext, JobExecutor, JobFailure, JobFuture, StepSuccess};
use crate::runtimes;
use crate::store::servers::{self, DesiredState};
use crate::store::{Job, JobKind, LogStream};

use super::Servers;
use super::plan::{PlanError, Purpose};

/// The executor the host's job queue runs.
pub struct ServerExecutor {
    servers: Servers,
    /// SteamCMD's path when configured; otherwise it is looked up on PATH.
    steamcmd: Option<PathBuf>,
}

impl ServerExecutor {
    /// An executor acting on `servers`.
    pub fn new(servers: Servers, steamcmd: Option<PathBuf>) -> Self {
        ServerExecutor { servers, steamcmd }
    }
}

impl JobExecutor for ServerExecutor {
    fn run(&self, job: Job, ctx: JobContext) -> JobFuture {
        let servers = self.servers.clone();
        let steamcmd = self.steamcmd.clone();
        Box::pin(async move {
            let server_id = job.server_id;
            let result = execute(&servers, steamcmd.as_deref(), job, &ctx).await;
            // The server's last error follows its jobs: set by a failure, cleared by success.
            let last_error = match &result {
                Ok(_) => Some(None),
                Err(JobFailure::Cancelled { .. }) => None,
                Err(failure) => Some(Some(failure.to_string())),
            };
            if let (Some(id), Some(error)) = (server_id, last_error) {
                let recorded = servers
                    .store()
                    .call(
                        move |conn| match servers::set_last_error(conn, id, error.as_deref()) {
                            // A deleted server has no last error to keep.
                            Err(crate::store::StoreError::NotFound(_)) => Ok(()),
                            other => other,
                        },
                    )
                    .await;
                if let Err(e) = recorded {
                    tracing::warn!(server = id, "could not record the last error: {e}");
                }
            }
            result
        })
    }
}

fn failed(e: PlanError) -> JobFailure {
    match e {
        PlanError::InvalidSettings(problems) => JobFailure::error(format!(
            "the stored settings are invalid: {}",
            problems
                .iter()
                .map(|p| format!("{}: {}", p.field, p.message))
                .collect::<Vec<_>>()
                .join("; ")
        )),
        other => JobFailure::error(other.to_string()),
    }
}

fn store_failed(e: crate::store::StoreError) -> JobFailure {
    JobFailure::error(e.to_string())
}

async fn execute(
    servers: &Servers,
    steamcmd: Option<&std::path::Path>,
    job: Job,
    ctx: &JobContext,
) -> Result<StepSuccess, JobFailure> {
    let Some(server_id) = job.server_id else {
        return match job.runtime_adapter.as_deref() {
            Some(adapter_id) => runtimes::execute(servers, steamcmd, &job, adapter_id, ctx).await,
            None => Err(JobFailure::error(
                "this job names neither a server nor a runtime",
            )),
        };
    };
    let server = servers.get(server_id).await.map_err(store_failed)?;
    let supervisor = servers.supervisor(&server);
    let plans = servers.plans();
    match job.kind {
        JobKind::Initialize => {
            let prepared = plans
                .prepare(&server, Purpose::Start)
                .await
                .map_err(failed)?;
            let n = plans.write_files(&prepared).await.map_err(failed)?;
            ctx.log(
                LogStream::System,
                format!("wrote {n} configuration file(s)"),
            )
            .await;
        }
        JobKind::Start | JobKind::Restart => {
            servers
                .set_desired(server_id, DesiredState::Running)
                .await
                .map_err(store_failed)?;
            let prepared = plans
                .prepare(&server, Purpose::Start)
                .await
                .map_err(failed)?;
            let n = plans.write_files(&prepared).await.map_err(failed)?;
            ctx.log(
                LogStream::System,
                format!("wrote {n} configuration file(s)"),
            )
            .await;
            servers
                .inner
                .actions
                .set_endpoint(server_id, prepared.endpoint.clone());
            ctx.log(
                LogStream::System,
                format!("launching {}", prepared.plan.spec.program.display()),
            )
            .await;
            let result = if job.kind == JobKind::Start {
                supervisor.start(prepared.plan).await
            } else {
                supervisor.restart(prepared.plan).await
            };
            result.map_err(|e| JobFailure::error(e.to_string()))?;
        }
        JobKind::Stop => {
            servers
                .set_desired(server_id, DesiredState::Stopped)
                .await
                .map_err(store_failed)?;
            supervisor
                .stop()
                .await
                .map_err(|e| JobFailure::error(e.to_string()))?;
        }
        JobKind::Kill => {
            servers
                .set_desired(server_id, DesiredState::Stopped)
                .await
                .map_err(store_failed)?;
            supervisor
                .kill()
                .await
                .map_err(|e| JobFailure::error(e.to_string()))?;
        }
        JobKind::Install | JobKind::Update => {
            let prepared = plans
                .prepare(&server, Purpose::Install)
                .await
                .map_err(failed)?;
            let installed = runtimes::run_plan(
                ctx,
                steamcmd,
                &servers.scratch_dir(),
                &prepared.install,
                &prepared.dirs,
                true,
            )
            .await?;
            // A server without an install path of its own installs the shared runtime.
            if server.runtime_path.is_none() && !prepared.install.is_empty() {
                runtimes::record(servers.store(), &server.adapter_id, job.id, &installed, ctx)
                    .await;
            }
        }
        JobKind::Delete => {
            if supervisor.current().has_process() {
                supervisor
                    .kill()
                    .await
                    .map_err(|e| JobFailure::error(e.to_string()))?;
            }
            match servers.leftovers().remove(&server).await {
                Ok(removed) if !removed.is_empty() => {
                    ctx.log(
                        LogStream::System,
                        format!(
                            "removed {} file(s) and folder(s) of the server from the game's \
                             install",
                            removed.len()
                        ),
                    )
                    .await;
                }
                Ok(_) => {}
                Err(e) => {
                    ctx.log(
                        LogStream::System,
                        format!("the server's files in the game's install were left: {e}"),
                    )
                    .await;
                }
            }
            let dirs = servers.inner.dirs(&server);
            if dirs.instance.exists() {
                tokio::fs::remove_dir_all(&dirs.instance)
                    .await
                    .map_err(|e| JobFailure::error(format!("{}: {e}", dirs.instance.display())))?;
            }
            servers
                .store()
                .call(move |conn| servers::soft_delete(conn, server_id))
                .await
                .map_err(|e| JobFailure::error(e.to_string()))?;
            servers.forget(server_id);
            ctx.log(
                LogStream::System,
                "server files removed; history kept".to_string(),
            )
            .await;
        }
    }
    Ok(StepSuccess::default())
}

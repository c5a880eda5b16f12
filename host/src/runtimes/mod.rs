//! Game runtimes: the one install of a game that its servers share (`runtimes/<adapter>/`).
//!
//! An administrator installs or updates a game's runtime once for all its servers: a job
//! with a `runtime_adapter` and no server (`POST /adapters/{id}/runtime/install`), planned
//! with the adapter schema's default settings ([`execute`]). A server's own install job
//! reaches the same directory when the server has no install path of its own. Both run the
//! adapter's install plan through [`run_plan`] — SteamCMD with its progress and output in
//! the job log, Workshop items linked where the adapter says — and then read the installed
//! build from SteamCMD's app manifest; what succeeded is recorded
//! ([`crate::store::runtimes`]) for `GET /adapters/{id}/runtime`. While a runtime job runs,
//! no job runs on a server of that adapter and the other way round (the store's claiming
//! rules, [`crate::store::jobs::claim_next`]).
//!
//! This module knows no game: the plan is the adapter's, and the only installer it runs is
//! SteamCMD, which is generic. It does not decide *when* to install.

use std::path::Path;
use std::sync::Arc;

use crate::adapters::model::{InstallStep, Root, WorkshopItem};
use crate::adapters::settings;
use crate::jobs::steamcmd::{self, SteamcmdApp};
use crate::jobs::{JobContext, JobFailure, StepSuccess};
use crate::servers::Servers;
use crate::servers::paths::{self, ServerDirs};
use crate::store::{Job, LogStream, Store};

/// A Steam app an install plan installed, and the build SteamCMD reported for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// The Steam app.
    pub app_id: u32,
    /// Its `buildid` from the app manifest, when there is one.
    pub build_id: Option<String>,
}

/// Runs the runtime job `job` on the runtime of `adapter_id`: the adapter's install plan,
/// made from its schema's defaults, into `runtimes/<adapter_id>/`, then records the result.
/// A plan the defaults cannot make (a game that needs a Steam account, say) fails the job
/// and says to install from a server, whose settings can hold what the plan needs.
pub async fn execute(
    servers: &Servers,
    steamcmd: Option<&Path>,
    job: &Job,
    adapter_id: &str,
    ctx: &JobContext,
) -> Result<StepSuccess, JobFailure> {
    let adapter = servers.adapters().get(adapter_id).ok_or_else(|| {
        JobFailure::error(format!("no adapter with id `{adapter_id}` is installed"))
    })?;
    let defaults = settings::defaults(&adapter.schema);
    let planned = servers
        .adapters()
        .call(Arc::clone(&adapter), move |session| {
            session.install_plan(&defaults)
        })
        .await;
    let steps = match planned {
        Ok(steps) => steps,
        Err(e) if !e.is_sandbox_stop() => {
            return Err(JobFailure::error(format!(
                "the install plan of `{adapter_id}` cannot be made from the adapter's default \
                 settings ({e}); install the game from one of its servers instead, whose \
                 settings can hold what the plan needs"
            )));
        }
        Err(e) => return Err(JobFailure::error(e.to_string())),
    };
    let dirs = servers.runtime_dirs(adapter_id);
    ctx.log(
        LogStream::System,
        format!(
            "installing the runtime of `{adapter_id}` (adapter version {}) into {}, with the \
             adapter's default settings",
            adapter.description.version,
            dirs.runtime.display()
        ),
    )
    .await;
    let installed = run_plan(ctx, steamcmd, &servers.scratch_dir(), &steps, &dirs, false).await?;
    if !steps.is_empty() {
        record(servers.store(), adapter_id, job.id, &installed, ctx).await;
    }
    Ok(StepSuccess::default())
}

/// Runs an install plan into `dirs.runtime` for the job behind `ctx`: each SteamCMD step
/// (see [`steamcmd::install`]), then its Workshop items linked where the adapter asked.
/// Links into a server's own directory are made only when the plan is for one server
/// (`for_server`); a runtime install skips them, saying so. Returns each installed app with
/// the build its app manifest names. An empty plan means the game is installed by hand.
pub async fn run_plan(
    ctx: &JobContext,
    steamcmd: Option<&Path>,
    scratch: &Path,
    steps: &[InstallStep],
    dirs: &ServerDirs,
    for_server: bool,
) -> Result<Vec<Installed>, JobFailure> {
    if steps.is_empty() {
        ctx.log(
            LogStream::System,
            "this game is installed by hand; nothing to do".to_string(),
        )
        .await;
    }
    let runtime = dirs.runtime.clone();
    tokio::task::spawn_blocking(move || paths::create_private_dir_all(&runtime))
        .await
        .map_err(|e| JobFailure::error(e.to_string()))?
        .map_err(|e| JobFailure::error(format!("{}: {e}", dirs.runtime.display())))?;
    let mut installed = Vec::new();
    for step in steps {
        let InstallStep::Steamcmd {
            app_id,
            login,
            beta,
            beta_password,
            validate,
            workshop,
        } = step;
        let app = SteamcmdApp {
            app_id: *app_id,
            login: login.clone(),
            beta: beta.clone(),
            beta_password: beta_password.clone(),
            validate: *validate,
            workshop: workshop.clone(),
        };
        let code = steamcmd::install(ctx, steamcmd, &app, &dirs.runtime, scratch).await?;
        if code != 0 {
            return Err(JobFailure::Step {
                exit_code: code,
                message: format!("SteamCMD exited with code {code}"),
            });
        }
        link_workshop(ctx, dirs, workshop, for_server).await?;
        let build_id = steamcmd::installed_build(&dirs.runtime, *app_id).await;
        ctx.log(
            LogStream::System,
            match &build_id {
                Some(build) => format!("app {app_id} is installed at build {build}"),
                None => format!("app {app_id} is installed; SteamCMD's manifest names no build"),
            },
        )
        .await;
        installed.push(Installed {
            app_id: *app_id,
            build_id,
        });
    }
    Ok(installed)
}

/// Records that job `job_id` installed or updated the shared runtime of `adapter_id` (the
/// first installed app's build). A database failure is logged, not fatal: the files are in
/// place, and the next install records them.
pub async fn record(
    store: &Store,
    adapter_id: &str,
    job_id: i64,
    installed: &[Installed],
    ctx: &JobContext,
) {
    let first = installed.first().cloned();
    let adapter = adapter_id.to_owned();
    let recorded = store
        .call(move |conn| {
            crate::store::runtimes::record(
                conn,
                &adapter,
                job_id,
                first.as_ref().map(|i| i.app_id),
                first.as_ref().and_then(|i| i.build_id.as_deref()),
            )
        })
        .await;
    if let Err(e) = recorded {
        tracing::warn!(
            job_id,
            adapter = adapter_id,
            "could not record the runtime: {e}"
        );
        ctx.log(
            LogStream::System,
            format!("the install is in place, but recording it failed: {e}"),
        )
        .await;
    }
}

/// Links each downloaded Workshop item where the adapter asked (e.g. a mod folder in the
/// runtime), so the game finds it. An item SteamCMD did not deliver fails the job.
async fn link_workshop(
    ctx: &JobContext,
    dirs: &ServerDirs,
    items: &[WorkshopItem],
    for_server: bool,
) -> Result<(), JobFailure> {
    for item in items {
        let Some(link_as) = &item.link_as else {
            continue;
        };
        if link_as.root == Root::Instance && !for_server {
            ctx.log(
                LogStream::System,
                format!(
                    "Workshop item {} is downloaded; its link in a server's own directory is \
                     made by that server's install",
                    item.item_id
                ),
            )
            .await;
            continue;
        }
        let content = steamcmd::workshop_content_dir(&dirs.runtime, item.app_id, item.item_id);
        let link = dirs.resolve(link_as).map_err(JobFailure::error)?;
        let (from, to) = (content.clone(), link.clone());
        tokio::task::spawn_blocking(move || {
            if !from.is_dir() {
                return Err(format!(
                    "Workshop item {} was not downloaded (no {})",
                    item_id_of(&from),
                    from.display()
                ));
            }
            paths::link_dir(&from, &to).map_err(|e| format!("{}: {e}", to.display()))
        })
        .await
        .map_err(|e| JobFailure::error(e.to_string()))?
        .map_err(JobFailure::error)?;
        ctx.log(
            LogStream::System,
            format!(
                "Workshop item {} linked as {}",
                item.item_id,
                link.display()
            ),
        )
        .await;
    }
    Ok(())
}

fn item_id_of(content: &Path) -> String {
    content
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

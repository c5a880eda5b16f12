//! Planning a server's start (and its install, and what a reattach needs): the server's
//! stored settings, secrets opened, turned into its adapter's plans — rendered files, the
//! launch and stop plans, the RCon endpoint, the install plan — ready for the executor and
//! the supervisor to act on, and the rendered files written.
//!
//! [`Plans`] owns this; it is reached as [`Servers::plans`]. Every path a plan names is
//! checked to lie beneath its root before anything runs. Adapter calls run on the blocking
//! pool, file writes off the async workers.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::paths::{self, ServerDirs};
use super::{Servers, UnknownAdapter, Unreadable, context};
use crate::adapters::model::{Connection, FieldError, InstallStep};
use crate::adapters::{AdapterError, LoadedAdapter};
use crate::secrets::SecretError;
use crate::store::servers::Server;
use crate::supervisor::process::ProcessSpec;
use crate::supervisor::server::{LaunchPlan, SupervisorError};

/// Why a server's plans could not be made or its rendered files not written.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The adapter failed or refused.
    #[error(transparent)]
    Adapter(#[from] AdapterError),
    /// The server's adapter is no longer installed.
    #[error(transparent)]
    UnknownAdapter(#[from] UnknownAdapter),
    /// The stored settings no longer fit the adapter's schema; every problem, by field.
    #[error("the settings are invalid ({} problem(s))", .0.len())]
    InvalidSettings(Vec<FieldError>),
    /// A stored secret could not be opened.
    #[error(transparent)]
    Secrets(#[from] SecretError),
    /// The adapter's stop plan cannot be carried out.
    #[error(transparent)]
    Supervisor(#[from] SupervisorError),
    /// Writing the server's files failed, or an adapter named a path outside its directory.
    #[error("server files: {0}")]
    Files(String),
}

impl From<Unreadable> for PlanError {
    fn from(e: Unreadable) -> Self {
        match e {
            Unreadable::Secrets(e) => PlanError::Secrets(e),
            Unreadable::Invalid(errors) => PlanError::InvalidSettings(errors),
        }
    }
}

/// What [`Plans::prepare`] asks the adapter for besides the launch and stop plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Nothing more: the plans are enough (reattaching, the demo).
    Plans,
    /// A start (or initialising): the config files rendered.
    Start,
    /// An install or update: the install plan.
    Install,
}

/// What a server's adapter plans for it, ready to act on.
pub struct Prepared {
    /// Rendered files, each below its root.
    pub files: Vec<paths::RenderedFile>,
    /// How to launch and stop it.
    pub plan: LaunchPlan,
    /// Where its RCon listens, if it has one.
    pub endpoint: Option<(Arc<LoadedAdapter>, Connection)>,
    /// Its directories.
    pub dirs: ServerDirs,
    /// The install plan, when asked for.
    pub install: Vec<InstallStep>,
}

/// The adapters' plans for every server (see the module's text). Cheap to clone.
#[derive(Clone)]
pub struct Plans {
    servers: Servers,
}

impl Plans {
    pub(super) fn new(servers: Servers) -> Self {
        Plans { servers }
    }

    /// Asks `server`'s adapter for its launch and stop plans, and what `purpose` needs
    /// besides (see [`Purpose`]). Adapter calls run on a blocking thread.
    pub async fn prepare(&self, server: &Server, purpose: Purpose) -> Result<Prepared, PlanError> {
        let render = purpose == Purpose::Start;
        let install = purpose == Purpose::Install;
        let inner = &self.servers.inner;
        let adapter = inner.adapter_of(server)?;
        let typed = inner.typed_settings(&adapter, server)?;
        let dirs = inner.dirs(server);
        let ctx = context(server.id, &dirs);
        let has_rcon = adapter.description.has("rcon");
        let planned = inner.call(&adapter, move |session| {
            let files = if render {
                session.render(&ctx, &typed)?
            } else {
                Vec::new()
            };
            let install = if install {
                session.install_plan(&typed)?
            } else {
                Vec::new()
            };
            let launch = session.launch(&ctx, &typed)?;
            let stop = session.stop_plan(&typed)?;
            let endpoint = if has_rcon {
                session.rcon_endpoint(&typed)?
            } else {
                None
            };
            Ok((files, install, launch, stop, endpoint))
        });
        let planned = planned.await?;
        let (files, install, launch, stop, endpoint) = planned;

        let files = files
            .into_iter()
            .map(|f| {
                // Checked here, so a plan naming a path out of its root fails before it runs.
                dirs.resolve(&f.path).map_err(PlanError::Files)?;
                Ok(paths::RenderedFile {
                    root: dirs.root(f.path.root).to_path_buf(),
                    path: crate::files::RelPath::new(&f.path.path)
                        .map_err(|e| PlanError::Files(e.to_string()))?,
                    contents: f.contents,
                })
            })
            .collect::<Result<Vec<_>, PlanError>>()?;
        let program = PathBuf::from(&launch.program);
        let spec = ProcessSpec {
            program: if program.is_absolute() {
                program
            } else {
                dirs.runtime.join(program)
            },
            args: launch.args.clone(),
            working_dir: launch
                .working_dir
                .as_ref()
                .map_or_else(|| dirs.instance.clone(), PathBuf::from),
            env: launch.env.clone(),
            console_dir: dirs.console(),
        };
        let grace = Duration::from_secs(u64::from(server.stop_grace_secs));
        let plan = LaunchPlan::new(spec)
            .with_launch(&launch)
            .with_stop(&stop, grace)?;
        Ok(Prepared {
            files,
            plan,
            endpoint: endpoint.map(|c| (adapter, c)),
            dirs,
            install,
        })
    }

    /// Writes rendered files (whole, each replacing the old one) and creates the server's
    /// directories. Blocking file work runs off the async workers.
    pub async fn write_files(&self, prepared: &Prepared) -> Result<usize, PlanError> {
        let files = prepared.files.clone();
        let dirs = prepared.dirs.clone();
        tokio::task::spawn_blocking(move || {
            paths::create_private_dir_all(&dirs.instance)
                .map_err(|e| format!("{}: {e}", dirs.instance.display()))?;
            paths::write_rendered(&files).map_err(|e| e.to_string())?;
            Ok::<_, String>(files.len())
        })
        .await
        .map_err(|e| PlanError::Files(e.to_string()))?
        .map_err(PlanError::Files)
    }
}

//! SteamCMD, the generic installer the host may know: finding it, its command line and its
//! progress lines.
//!
//! An adapter's install plan names a Steam app ([`SteamcmdApp`], the host's model of the
//! contract's `steamcmd-app`); this module turns it into one SteamCMD run. The commands go to
//! SteamCMD in a script file only the host's user can read, never on its command line, and
//! the Steam and beta passwords are registered as step secrets, so neither the logged script
//! nor an output line that echoes them shows them. It knows no game and does not decide *when* to install.

use std::ffi::OsStr;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::{JobContext, JobFailure, StepCommand};
use crate::store::LogStream;

/// Program names looked up on `PATH`, in order.
const PROGRAM_NAMES: [&str; 2] = ["steamcmd", "steamcmd.sh"];

/// Where Debian and Ubuntu's package puts it; not on the `PATH` of most services.
const DEBIAN_DIR: &str = "/usr/games";

// The login and Workshop items are the adapter model's own types: SteamCMD runs exactly what
// the install plan says (the login's `Debug` never shows the password).
pub use crate::adapters::model::{SteamLogin, WorkshopItem};

/// One SteamCMD run: install or update an app into a directory (the contract's
/// `steamcmd-app`).
#[derive(Clone, PartialEq, Eq)]
pub struct SteamcmdApp {
    /// Steam application id of the dedicated server.
    pub app_id: u32,
    /// How to log in.
    pub login: SteamLogin,
    /// Beta branch to install, if any.
    pub beta: Option<String>,
    /// Password of that beta branch, if it has one. Never logged.
    pub beta_password: Option<String>,
    /// Whether to verify every installed file.
    pub validate: bool,
    /// Workshop items downloaded with the same login.
    pub workshop: Vec<WorkshopItem>,
}

impl std::fmt::Debug for SteamcmdApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SteamcmdApp")
            .field("app_id", &self.app_id)
            .field("login", &self.login)
            .field("beta", &self.beta)
            .field(
                "beta_password",
                &self.beta_password.as_ref().map(|_| "<redacted>"),
            )
            .field("validate", &self.validate)
            .field("workshop", &self.workshop)
            .finish()
    }
}

impl SteamcmdApp {
    /// An anonymous install of `app_id` without beta, validation or Workshop items.
    pub fn anonymous(app_id: u32) -> Self {
        SteamcmdApp {
            app_id,
            login: SteamLogin::Anonymous,
            beta: None,
            beta_password: None,
            validate: false,
            workshop: Vec::new(),
        }
    }

    /// The strings that must never appear in a job log.
    pub fn secrets(&self) -> Vec<String> {
        let mut secrets = Vec::new();
        if let SteamLogin::Account { password, .. } = &self.login {
            secrets.push(password.clone());
        }
        secrets.extend(self.beta_password.clone());
        secrets.retain(|s| !s.is_empty());
        secrets
    }
}

/// The message of a job that needs SteamCMD on a host without it.
pub const INSTALL_HINT: &str = "install it (Debian/Ubuntu: `apt install steamcmd`, from the \
     non-free/multiverse component; elsewhere see \
     https://developer.valvesoftware.com/wiki/SteamCMD) or set its path in the configuration";

/// Finds SteamCMD: the configured path if any, else `steamcmd` or `steamcmd.sh` on `PATH`,
/// else Debian's `/usr/games/steamcmd`. A missing SteamCMD is a failure that says how to
/// install it.
pub fn locate(configured: Option<&Path>) -> Result<PathBuf, JobFailure> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    dirs.push(PathBuf::from(DEBIAN_DIR));
    locate_in(configured, &dirs)
}

/// [`locate`] searching `dirs` instead of `PATH`.
pub fn locate_in(configured: Option<&Path>, dirs: &[PathBuf]) -> Result<PathBuf, JobFailure> {
    if let Some(path) = configured {
        return if is_executable(path) {
            Ok(path.to_path_buf())
        } else {
            Err(JobFailure::error(format!(
                "SteamCMD was not found at the configured path {}: {INSTALL_HINT}",
                path.display()
            )))
        };
    }
    PROGRAM_NAMES
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(OsStr::new(name))))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| JobFailure::error(format!("SteamCMD was not found on PATH; {INSTALL_HINT}")))
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Where SteamCMD puts a downloaded Workshop item when the install directory is forced to
/// `install_dir`: `<install_dir>/steamapps/workshop/content/<app id>/<item id>`.
pub fn workshop_content_dir(install_dir: &Path, app_id: u32, item_id: u64) -> PathBuf {
    install_dir
        .join("steamapps")
        .join("workshop")
        .join("content")
        .join(app_id.to_string())
        .join(item_id.to_string())
}

/// The Workshop item id of `path` when it is an item folder SteamCMD downloaded into
/// `install_dir` (the reverse of [`workshop_content_dir`]); none for any other path.
pub fn workshop_item_of(install_dir: &Path, path: &Path) -> Option<u64> {
    let base = install_dir
        .join("steamapps")
        .join("workshop")
        .join("content");
    let rest = path.strip_prefix(&base).ok()?;
    let mut parts = rest.components();
    let (Some(app), Some(item), None) = (parts.next(), parts.next(), parts.next()) else {
        return None;
    };
    app.as_os_str().to_str()?.parse::<u32>().ok()?;
    item.as_os_str().to_str()?.parse().ok()
}

/// The characters a value in a SteamCMD script cannot carry: its console reads a quoted
/// value up to the next double quote and a command up to the end of the line.
const UNSCRIPTABLE: [char; 4] = ['"', '\n', '\r', '\0'];

/// `value` as one quoted token of a SteamCMD script line; `what` names it in the error.
fn token(what: &str, value: &str) -> Result<String, JobFailure> {
    if value.contains(UNSCRIPTABLE) {
        return Err(JobFailure::error(format!(
            "the {what} contains a double quote or a line break, which SteamCMD cannot read \
             from a script; change it"
        )));
    }
    Ok(format!("\"{value}\""))
}

/// The SteamCMD script that installs `app` into `install_dir` (which SteamCMD wants
/// absolute), one command a line:
///
/// ```text
/// @NoPromptForPassword 1
/// force_install_dir "<dir>"
/// login anonymous | login "<user>" "<password>"
/// app_update <id> [-beta "<b>" [-betapassword "<p>"]] [validate]
/// workshop_download_item <app> <item>   (one line per item)
/// quit
/// ```
///
/// The script goes to SteamCMD as a file (`+runscript`), never on its command line, where
/// every local user could read the passwords (`ps`, `/proc/<pid>/cmdline`). With
/// `@NoPromptForPassword` a login that needs a password or a Steam Guard code fails instead
/// of waiting for an answer no one will type.
pub fn script(app: &SteamcmdApp, install_dir: &Path) -> Result<String, JobFailure> {
    let mut lines = vec![
        "@NoPromptForPassword 1".to_owned(),
        format!(
            "force_install_dir {}",
            token("install directory", &install_dir.to_string_lossy())?
        ),
    ];
    lines.push(match &app.login {
        SteamLogin::Anonymous => "login anonymous".to_owned(),
        SteamLogin::Account { username, password } => format!(
            "login {} {}",
            token("Steam username", username)?,
            token("Steam password", password)?
        ),
    });
    let mut update = format!("app_update {}", app.app_id);
    if let Some(beta) = &app.beta {
        update.push_str(&format!(" -beta {}", token("beta branch", beta)?));
        if let Some(password) = &app.beta_password {
            update.push_str(&format!(
                " -betapassword {}",
                token("beta password", password)?
            ));
        }
    }
    if app.validate {
        update.push_str(" validate");
    }
    lines.push(update);
    for item in &app.workshop {
        lines.push(format!(
            "workshop_download_item {} {}",
            item.app_id, item.item_id
        ));
    }
    lines.push("quit".to_owned());
    let mut script = lines.join("\n");
    script.push('\n');
    Ok(script)
}

/// The step that runs SteamCMD at `program` with the script at `script_path`: its
/// arguments, the secrets its output must not show, and the progress parser.
pub fn step(program: &Path, app: &SteamcmdApp, script_path: &Path) -> StepCommand {
    let mut step = StepCommand::new(program)
        .args(["+runscript".to_owned(), script_path.display().to_string()])
        .progress(parse_progress);
    for secret in app.secrets() {
        step = step.secret(secret);
    }
    step
}

/// Locates SteamCMD (see [`locate`]) and runs it for `app` as a step of the job behind
/// `ctx`; a relative `install_dir` is made absolute first. The script is written to a file
/// of mode 0600 in `scratch` (a directory only the host's user can enter), logged with its
/// secrets masked, and removed when the run ends, however it ends. Returns SteamCMD's exit
/// code.
pub async fn install(
    ctx: &JobContext,
    configured: Option<&Path>,
    app: &SteamcmdApp,
    install_dir: &Path,
    scratch: &Path,
) -> Result<i32, JobFailure> {
    let program = locate(configured)?;
    let install_dir = std::path::absolute(install_dir).map_err(|e| {
        JobFailure::error(format!("install directory {}: {e}", install_dir.display()))
    })?;
    let contents = script(app, &install_dir)?;
    let shown = crate::secrets::Masker::new(app.secrets()).text(&contents);
    let scratch = scratch.to_path_buf();
    // Dropping the handle removes the file, also when this future is dropped (cancelled).
    let file = tokio::task::spawn_blocking(move || write_script(&scratch, &contents))
        .await
        .map_err(|e| JobFailure::error(e.to_string()))?
        .map_err(|e| JobFailure::error(format!("SteamCMD script: {e}")))?;
    let step = step(&program, app, file.path());
    ctx.log(
        LogStream::System,
        format!("SteamCMD script: {}", shown.trim_end().replace('\n', "; ")),
    )
    .await;
    let code = ctx.run_step(step).await;
    drop(file);
    code
}

/// Writes `contents` to a new file of mode 0600 in `dir` (made 0700 if missing).
fn write_script(dir: &Path, contents: &str) -> std::io::Result<tempfile::NamedTempFile> {
    use std::io::Write;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mut file = tempfile::Builder::new()
        .prefix("steamcmd-")
        .suffix(".txt")
        .permissions(std::fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)?;
    file.write_all(contents.as_bytes())?;
    file.as_file().sync_all()?;
    Ok(file)
}

/// The progress percentage in one line of SteamCMD output, if it has one:
/// ` Update state (0x61) downloading, progress: 45.12 (1234567 / 2737000)` is 45.12, and
/// `Success! App '222860' fully installed.` (or `already up to date.`) is 100.
pub fn parse_progress(line: &str) -> Option<f64> {
    let line = line.trim();
    if line.starts_with("Success! App '")
        && (line.ends_with("fully installed.") || line.ends_with("already up to date."))
    {
        return Some(100.0);
    }
    if !line.starts_with("Update state (") {
        return None;
    }
    let (_, rest) = line.split_once("progress: ")?;
    let number = rest.split_whitespace().next()?;
    let percent: f64 = number.parse().ok()?;
    percent.is_finite().then(|| percent.clamp(0.0, 100.0))
}

/// Where SteamCMD keeps what it knows of app `app_id` installed in `install_dir`:
/// `<install_dir>/steamapps/appmanifest_<app id>.acf`.
pub fn manifest_path(install_dir: &Path, app_id: u32) -> PathBuf {
    install_dir
        .join("steamapps")
        .join(format!("appmanifest_{app_id}.acf"))
}

/// Larger app manifests are not read (real ones are a few KiB).
const MAX_MANIFEST_BYTES: u64 = 1 << 20;

/// The `"buildid"` of an app manifest (Valve's KeyValues text: `"buildid"  "1234567"`), if
/// it has one that is a plain number. Only the first occurrence counts: the app's own, which
/// comes before any nested section.
pub fn parse_build_id(manifest: &str) -> Option<String> {
    manifest.lines().find_map(|line| {
        let mut tokens = line.split('"').map(str::trim).filter(|t| !t.is_empty());
        let (Some(key), Some(value)) = (tokens.next(), tokens.next()) else {
            return None;
        };
        (key.eq_ignore_ascii_case("buildid")
            && !value.is_empty()
            && value.len() <= 20
            && value.bytes().all(|b| b.is_ascii_digit()))
        .then(|| value.to_owned())
    })
}

/// The build of app `app_id` that SteamCMD left in `install_dir` (from its app manifest,
/// read on a blocking thread); none when there is no readable manifest or it names none.
pub async fn installed_build(install_dir: &Path, app_id: u32) -> Option<String> {
    let path = manifest_path(install_dir, app_id);
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut text = String::new();
        std::fs::File::open(&path)
            .ok()?
            .take(MAX_MANIFEST_BYTES)
            .read_to_string(&mut text)
            .ok()?;
        parse_build_id(&text)
    })
    .await
    .ok()
    .flatten()
}

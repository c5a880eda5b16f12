//! `garrison user create NAME`: adds a user to a data directory's database, whether or not a
//! host is running on it (SQLite in WAL mode lets both write; the store waits on a busy
//! database instead of failing).
//!
//! The password comes from `GARRISON_PASSWORD`, or is asked for twice on the terminal without
//! echo; it is never taken from the command line, where other users could read it.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use garrison::Config;
use garrison::auth::{Auth, TokenSigner};
use garrison::store::{Role, Store};

use super::DataDirArg;

/// Environment variable holding the new user's password.
const PASSWORD_ENV: &str = "GARRISON_PASSWORD";

/// `garrison user …`.
#[derive(Subcommand, Debug)]
pub(super) enum UserCommand {
    /// Create a user. The password is read from GARRISON_PASSWORD or asked for on the
    /// terminal.
    Create(CreateArgs),
}

#[derive(Args, Debug)]
pub(super) struct CreateArgs {
    /// The username (letters, digits, `.`, `_`, `-`, `@`; unique regardless of case).
    name: String,
    /// Make the user an administrator (same as `--role admin`).
    #[arg(long, conflicts_with = "role")]
    admin: bool,
    /// The user's role: admin, operator or viewer.
    #[arg(long, value_parser = parse_role, default_value = "viewer")]
    role: Role,
    #[command(flatten)]
    data: DataDirArg,
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse()
        .map_err(|_| "expected admin, operator or viewer".to_string())
}

/// Runs `garrison user …`.
pub(super) fn run(command: UserCommand) -> anyhow::Result<ExitCode> {
    match command {
        UserCommand::Create(args) => create(args),
    }
}

fn create(args: CreateArgs) -> anyhow::Result<ExitCode> {
    let role = if args.admin { Role::Admin } else { args.role };
    garrison::auth::password::check_username(&args.name)?;
    let password = read_password()?;
    garrison::auth::password::check_new("password", &password)?;

    let config = Config::new(args.data.data_dir);
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    let database = config.database_path();
    let store =
        Store::open(&database).with_context(|| format!("cannot open {}", database.display()))?;
    // Creating a user signs nothing: a throwaway signer keeps the host's key file untouched.
    let auth = Auth::new(store, TokenSigner::random(Duration::from_secs(60)));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let user = runtime.block_on(auth.create_user(&args.name, &password, role))?;
    println!(
        "created user {} (id {}, role {})",
        user.username, user.id, user.role
    );
    Ok(ExitCode::SUCCESS)
}

/// The password from the environment, or typed twice on the terminal.
fn read_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var(PASSWORD_ENV) {
        return Ok(password);
    }
    if !std::io::stdin().is_terminal() {
        bail!("no password: set {PASSWORD_ENV}, or run this on a terminal to be asked for one");
    }
    let first = prompt_hidden("Password: ")?;
    let second = prompt_hidden("Repeat the password: ")?;
    if first != second {
        bail!("the passwords differ");
    }
    Ok(first)
}

/// Asks on standard error and reads one line from the terminal with echo off.
fn prompt_hidden(prompt: &str) -> anyhow::Result<String> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    let stdin = std::io::stdin();
    let mut stderr = std::io::stderr();
    write!(stderr, "{prompt}")?;
    stderr.flush()?;
    let saved = tcgetattr(&stdin).context("reading the terminal's settings")?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    quiet.local_modes.insert(LocalModes::ECHONL);
    tcsetattr(&stdin, OptionalActions::Now, &quiet).context("turning echo off")?;
    let mut line = String::new();
    let read = stdin.read_line(&mut line);
    // Echo comes back even if reading failed.
    let restored = tcsetattr(&stdin, OptionalActions::Now, &saved);
    read.context("reading the password")?;
    restored.context("turning echo back on")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

//! Who may decide what a server runs.
//!
//! A game's adapter plans the program each server launches. For most games that program is
//! the game's own server binary inside its install (`runtimes/<adapter>/`, put there by an
//! install job an administrator can see); the settings only tune it. Some adapters let the
//! settings pick any program on the machine (the generic adapter runs any executable; a
//! drop-in adapter may do the same). Choosing such settings is running code as the host's
//! user, so only administrators may create a server with them, change them, or copy them;
//! operators granted a server may still start, stop and restart it.
//!
//! The rule is judged on the plan, not on the adapter's name or its own word: before a
//! non-administrator's settings are stored, the adapter plans the launch with them, and the
//! change is refused unless the program lies inside the game's install. This module only
//! judges; [`super::settings::Settings`] asks it. The same authority decides who may change
//! content a game's servers share ([`super::content::Content::guard_shared`]).

use std::path::{Component, Path};

/// Who asks for a change that decides what a server runs (or changes what a game's servers
/// share).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authority {
    /// An administrator, or the host itself (the demo, the command line): may choose
    /// settings that run any program.
    Administrator,
    /// Anyone else: may choose only settings whose program lies in the game's install.
    Restricted,
}

impl Authority {
    /// [`Authority::Administrator`] for administrators, [`Authority::Restricted`] for
    /// everyone else.
    pub fn of_admin(is_admin: bool) -> Self {
        if is_admin {
            Authority::Administrator
        } else {
            Authority::Restricted
        }
    }
}

/// Whether the launch plan's `program` lies inside the game's install `runtime`: a relative
/// program is taken from the install (as the supervisor runs it), and no `..` may leave it.
/// The path is judged as written: what an install holds (a link among them) was put there by
/// an administrator or an install job, never by the settings being judged.
pub fn runs_from_install(program: &str, runtime: &Path) -> bool {
    let program = Path::new(program);
    let full = if program.is_absolute() {
        program.to_path_buf()
    } else {
        runtime.join(program)
    };
    !program.as_os_str().is_empty()
        && !program
            .components()
            .any(|c| matches!(c, Component::ParentDir))
        && full.starts_with(runtime)
        && full != runtime
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_in_the_install_is_the_games_own() {
        let dir = tempfile::tempdir().expect("temp dir");
        let runtime = dir.path().join("runtimes/game");
        std::fs::create_dir_all(runtime.join("bin")).expect("install");
        std::fs::write(runtime.join("bin/server"), b"").expect("binary");
        assert!(runs_from_install("bin/server", &runtime));
        assert!(runs_from_install(
            &runtime.join("bin/server").display().to_string(),
            &runtime
        ));
        // Not installed yet: where the plan puts it decides.
        assert!(runs_from_install("server_x64", &runtime));
        // A link an administrator put into the install is the install's (the tests' games
        // are the simulator linked in like this).
        std::os::unix::fs::symlink("/usr/bin/env", runtime.join("linked")).expect("link");
        assert!(runs_from_install("linked", &runtime));
        assert!(runs_from_install("./server_x64", &runtime));
    }

    #[test]
    fn a_program_elsewhere_or_reached_by_a_way_out_is_not() {
        let dir = tempfile::tempdir().expect("temp dir");
        let runtime = dir.path().join("runtimes/game");
        std::fs::create_dir_all(&runtime).expect("install");
        for program in [
            "/bin/sh",
            "/usr/bin/python3",
            "../../../bin/sh",
            "bin/../../other/server",
            "",
        ] {
            assert!(!runs_from_install(program, &runtime), "{program}");
        }
        // The install itself is no program.
        assert!(!runs_from_install(&runtime.display().to_string(), &runtime));
        // A sibling install whose name starts like this one's.
        let sibling = dir.path().join("runtimes/game2");
        std::fs::create_dir_all(&sibling).expect("sibling");
        std::fs::write(sibling.join("server"), b"").expect("binary");
        assert!(!runs_from_install(
            &sibling.join("server").display().to_string(),
            &runtime
        ));
    }
}

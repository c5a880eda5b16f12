//! Names of content entries: which names an upload may take, and how a file or folder name
//! becomes the name a selection setting holds (without the accepted extension).
//!
//! Pure string rules, no file system: the rules keep every name one plain path component, so
//! joining it to a confined directory cannot leave that directory.

use crate::adapters::model::ContentDir;

/// Longest entry name accepted, in bytes.
pub const MAX_NAME_BYTES: usize = 200;

/// Checks an upload's file name: one path component, printable (no control or format
/// characters, see [`crate::names`]), in Unicode normal form C (callers normalise with
/// [`crate::names::nfc`] first, so both spellings of a name are one file), not hidden, not
/// `.`/`..`, at most [`MAX_NAME_BYTES`], ending with one of `extensions` (any case; empty
/// accepts any). The error says what is wrong, for people.
pub fn check_upload_name(name: &str, extensions: &[String]) -> Result<(), String> {
    if name.is_empty() {
        return Err("the name is empty".into());
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(format!("the name is longer than {MAX_NAME_BYTES} bytes"));
    }
    if name.contains('\0') {
        return Err("the name contains a NUL character".into());
    }
    if name.contains(['/', '\\']) {
        return Err("the name must be a file name, without directories".into());
    }
    if name == "." || name == ".." || name.contains("..") {
        return Err("the name may not contain `..`".into());
    }
    if name.starts_with('.') {
        return Err("the name may not start with a dot (hidden files)".into());
    }
    if let Some(why) = crate::names::refusal(name) {
        return Err(format!("the name {why}"));
    }
    if crate::names::nfc(name) != name {
        return Err("the name is not in Unicode normal form C".into());
    }
    if name.trim() != name {
        return Err("the name may not start or end with spaces".into());
    }
    if !extensions.is_empty() && extension_of(name, extensions).is_none() {
        return Err(format!(
            "the name must end with {}",
            extensions.join(" or ")
        ));
    }
    if extension_of(name, extensions).is_some_and(|ext| ext.len() == name.len()) {
        return Err("the name is only an extension".into());
    }
    Ok(())
}

/// The accepted extension `name` ends with (matched without regard to case), if any.
pub fn extension_of<'a>(name: &str, extensions: &'a [String]) -> Option<&'a str> {
    extensions.iter().map(String::as_str).find(|ext| {
        !ext.is_empty()
            && name.len() >= ext.len()
            && name.is_char_boundary(name.len() - ext.len())
            && name[name.len() - ext.len()..].eq_ignore_ascii_case(ext)
    })
}

/// The name a selection holds for the directory entry `file_name`, or none when the entry is
/// not content of `dir` (hidden, wrong extension, wrong prefix).
pub fn entry_name(file_name: &str, dir: &ContentDir) -> Option<String> {
    if file_name.starts_with('.') || file_name.is_empty() {
        return None;
    }
    if !dir.prefixes.is_empty() && !dir.prefixes.iter().any(|p| file_name.starts_with(p)) {
        return None;
    }
    if dir.extensions.is_empty() {
        return Some(file_name.to_string());
    }
    let ext = extension_of(file_name, &dir.extensions)?;
    let stem = &file_name[..file_name.len() - ext.len()];
    (!stem.is_empty()).then(|| stem.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::model::{ContentKind, EntryKind, PathRef, Root};

    fn exts(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn upload_names_are_one_plain_component_with_an_accepted_extension() {
        let dat = exts(&[".dat"]);
        for good in ["coop_escape.island.dat", "Mission One.DAT", "ünïcode.dat"] {
            assert_eq!(check_upload_name(good, &dat), Ok(()), "{good}");
        }
        for bad in [
            "",
            ".dat",
            "../x.dat",
            "..",
            "a..b.dat",
            "/etc/x.dat",
            "dir/x.dat",
            "dir\\x.dat",
            "nul\0.dat",
            ".hidden.dat",
            "line\nbreak.dat",
            "evil\u{202E}tad.exe.dat",
            "zero\u{200B}width.dat",
            "Cafe\u{301}.dat",
            " padded.dat",
            "x.txt",
            "x.dat.txt",
        ] {
            assert!(check_upload_name(bad, &dat).is_err(), "{bad:?}");
        }
        let long = format!("{}.dat", "a".repeat(MAX_NAME_BYTES));
        assert!(check_upload_name(&long, &dat).is_err());
        // No extensions: any plain name.
        assert_eq!(check_upload_name("anything", &[]), Ok(()));
        assert!(check_upload_name("../anything", &[]).is_err());
    }

    #[test]
    fn entries_are_named_without_their_extension_and_filtered_by_prefix() {
        let dir = |extensions: &[&str], prefixes: &[&str]| ContentDir {
            kind: ContentKind::Missions,
            dir: PathRef {
                root: Root::Runtime,
                path: String::new(),
            },
            entries: EntryKind::File,
            extensions: exts(extensions),
            prefixes: exts(prefixes),
            selection: None,
            workshop: None,
        };
        let missions = dir(&[".dat"], &[]);
        assert_eq!(
            entry_name("coop_escape.island.dat", &missions).as_deref(),
            Some("coop_escape.island")
        );
        assert_eq!(entry_name("A.DAT", &missions).as_deref(), Some("A"));
        assert_eq!(entry_name("readme.txt", &missions), None);
        assert_eq!(entry_name(".x.dat.garrison-upload", &missions), None);
        let mods = dir(&[], &["@"]);
        assert_eq!(entry_name("@cba", &mods).as_deref(), Some("@cba"));
        assert_eq!(entry_name("keys", &mods), None);
        // A multi-byte name shorter than an extension does not panic.
        assert_eq!(entry_name("é", &dir(&[".dat"], &[])), None);
    }
}

//! Names people give things — server names, uploaded file names: one Unicode form, and no
//! character that changes how the rest of the name is shown.
//!
//! The same name can be spelt with different code points: `é` precomposed (NFC) or as `e`
//! plus a combining accent (NFD). Stored as sent, the two spellings are two files that look
//! alike, or two servers with the same name. Every name is normalised to NFC before it is
//! checked, compared or stored.
//!
//! Characters of the Unicode general category *Format* (Cf) — the right-to-left override,
//! the bidirectional isolates, zero-width joiners and spaces, the soft hyphen — are invisible
//! yet reorder or hide what follows (`evil\u{202E}txt.pbo` shows as `evilobp.txt`), so names
//! holding one are refused, as are control characters and the line and paragraph
//! separators. The category comes from the `unicode-properties` crate's tables, which follow
//! the Unicode Character Database, rather than a hand-kept list that would age.
//!
//! Pure string rules; callers say which field a refusal belongs to.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// `name` in Normalization Form C.
pub fn nfc(name: &str) -> String {
    name.nfc().collect()
}

/// The first character of `name` that a name may not hold: a control character (Cc), a
/// format character (Cf), or a line or paragraph separator (Zl, Zp).
pub fn refused_char(name: &str) -> Option<char> {
    name.chars().find(|&c| is_refused(c))
}

/// Whether a name may not hold `c` (see [`refused_char`]).
pub fn is_refused(c: char) -> bool {
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

/// Why `name` is refused, for people, when it holds a character [`refused_char`] finds.
pub fn refusal(name: &str) -> Option<String> {
    refused_char(name).map(|c| {
        let kind = if c.is_control() {
            "a control character"
        } else {
            "an invisible formatting character"
        };
        format!(
            "contains {kind} (U+{:04X}); names may not hold control, bidirectional or other \
             formatting characters",
            u32::from(c)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_of_a_name_become_one() {
        let composed = "Caf\u{e9}.pbo";
        let decomposed = "Cafe\u{301}.pbo";
        assert_ne!(composed, decomposed);
        assert_eq!(nfc(decomposed), composed);
        assert_eq!(nfc(composed), composed);
        assert_eq!(nfc("plain"), "plain");
    }

    #[test]
    fn format_and_control_characters_are_found_and_named() {
        for (name, c) in [
            ("evil\u{202E}txt.pbo", '\u{202E}'), // right-to-left override
            ("a\u{2066}b", '\u{2066}'),          // left-to-right isolate
            ("zero\u{200B}width", '\u{200B}'),   // zero-width space
            ("join\u{200D}er", '\u{200D}'),      // zero-width joiner
            ("soft\u{AD}hyphen", '\u{AD}'),      // soft hyphen
            ("bom\u{FEFF}", '\u{FEFF}'),
            ("line\u{2028}sep", '\u{2028}'),
            ("tab\there", '\t'),
            ("nul\0", '\0'),
        ] {
            assert_eq!(refused_char(name), Some(c), "{name:?}");
            let why = refusal(name).expect("refused");
            assert!(why.contains(&format!("U+{:04X}", u32::from(c))), "{why}");
        }
        for fine in [
            "Ünïcödé Server",
            "Сервер",
            "サーバー",
            "co10_Escape.Altis",
            "مرحبا",
        ] {
            assert_eq!(refused_char(fine), None, "{fine}");
        }
    }
}

//! Words, exactly as Go's `wc` and `indexer` see them.
//!
//! Go splits with `strings.FieldsFunc(s, func(r rune) bool { return
//! !unicode.IsLetter(r) })`, and `unicode.IsLetter` is General Category L:
//! Lu, Ll, Lt, Lm and Lo. Rust's `char::is_alphabetic` is the *Alphabetic*
//! property, a different set: it adds Other_Alphabetic (Devanagari vowel
//! signs, combining Greek ypogegrammeni, circled letters) and Nl (Roman
//! numerals, U+3007). Using it would split Hindi words differently from Go, so
//! this module asks the General Category table of the
//! `unicode-general-category` crate (Unicode 16.0; Go 1.21+ ships 15.0, so the
//! two differ only on characters first assigned in Unicode 16).

use unicode_general_category::{GeneralCategory, get_general_category};

/// Go's `unicode.IsLetter`: General Category Lu, Ll, Lt, Lm or Lo.
pub fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    matches!(
        get_general_category(c),
        GeneralCategory::UppercaseLetter
            | GeneralCategory::LowercaseLetter
            | GeneralCategory::TitlecaseLetter
            | GeneralCategory::ModifierLetter
            | GeneralCategory::OtherLetter
    )
}

/// The maximal runs of letters in `text`, in order (Go's `FieldsFunc`).
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !is_letter(c))
        .filter(|w| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_of_every_kind() {
        // Lu, Ll, Lt, Lm, Lo across scripts.
        for c in [
            'A', 'z', 'É', 'ß', 'Ω', 'ж', 'ǅ', 'ʰ', '々', 'ª', '中', 'न', 'ﬁ',
        ] {
            assert!(is_letter(c), "{c:?} (U+{:04X}) is a letter", c as u32);
        }
    }

    #[test]
    fn non_letters() {
        for c in [
            '1', '_', '-', '\'', ' ', '²', '\u{301}', '\u{fffd}', '€', '。',
        ] {
            assert!(!is_letter(c), "{c:?} (U+{:04X}) is not a letter", c as u32);
        }
    }

    #[test]
    fn differs_from_is_alphabetic_where_go_does() {
        // Alphabetic but not category L: Go splits words on these.
        for c in [
            '\u{947}', // DEVANAGARI VOWEL SIGN E (Mn)
            '\u{93e}', // DEVANAGARI VOWEL SIGN AA (Mc)
            '\u{345}', // COMBINING GREEK YPOGEGRAMMENI (Mn)
            'Ⅻ',       // ROMAN NUMERAL TWELVE (Nl)
            '〇',      // IDEOGRAPHIC NUMBER ZERO (Nl)
            'ⓐ',       // CIRCLED LATIN SMALL LETTER A (So)
        ] {
            assert!(c.is_alphabetic(), "{c:?} is Alphabetic");
            assert!(!is_letter(c), "{c:?} is not General Category L");
        }
    }

    #[test]
    fn splits_like_go_fields_func() {
        let got: Vec<&str> = words("Don't stop—naïve Ωmega, नमस्ते Ⅻ x²y 東京").collect();
        // नमस्ते = न म स ् त े: the virama (U+94D) and the vowel sign E are
        // marks, so Go sees the words "नमस" and "त".
        assert_eq!(
            got,
            [
                "Don",
                "t",
                "stop",
                "naïve",
                "Ωmega",
                "नमस",
                "त",
                "x",
                "y",
                "東京"
            ]
        );
        // A decomposed accent (e + U+0301) splits the word too.
        let decomposed: Vec<&str> = words("cafe\u{301}s").collect();
        assert_eq!(decomposed, ["cafe", "s"]);
        assert_eq!(words("").count(), 0);
        assert_eq!(words(" ,.123 ").count(), 0);
    }
}

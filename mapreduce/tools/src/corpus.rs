//! A deterministic text corpus, so no book texts are committed.
//!
//! The Go lab counts words in eight Project Gutenberg books. This generator
//! produces text with the properties that matter for MapReduce and for the
//! word splitter: a Zipf-like word distribution (a few very frequent words, a
//! long tail), mixed case, punctuation, digits, and several scripts, Latin
//! with accents, Greek, Cyrillic, CJK, and Devanagari with vowel signs and
//! viramas, which Go's `unicode.IsLetter` treats as word breaks. A sprinkle of
//! deliberately tricky tokens (decomposed accents, Roman numerals, titlecase
//! digraphs, ligatures) keeps the splitter honest.
//!
//! Everything derives from one seed through ChaCha8, so the same seed gives
//! the same bytes on every machine. The vocabulary depends only on the seed;
//! each file has its own stream, so files can be generated independently.
//! The first eight files take the Go lab's book names (`pg-tom_sawyer.txt`…),
//! which the `early_exit` app looks for.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The Go lab's input books, used as file names.
pub const GO_BOOKS: [&str; 8] = [
    "being_ernest",
    "dorian_gray",
    "frankenstein",
    "grimm",
    "huckleberry_finn",
    "metamorphosis",
    "sherlock_holmes",
    "tom_sawyer",
];

/// Size of the shared vocabulary.
const VOCABULARY: usize = 8000;
/// Zipf exponent: word of rank r has weight 1/(r+1)^s.
const ZIPF_S: f64 = 1.07;
/// Wrap lines after about this many bytes.
const LINE_WIDTH: usize = 72;

/// Frequent words at the top of the distribution, across the scripts.
const COMMON: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "a",
    "in",
    "that",
    "was",
    "he",
    "it",
    "de",
    "la",
    "und",
    "και",
    "и",
    "в",
    "не",
    "的",
    "है",
    "के",
    "é",
    "she",
    "his",
    "with",
    "на",
    "το",
    "में",
];

/// Tokens that trip up word splitters (see `letters.rs`).
const TRICKY: &[&str] = &[
    "naïve",
    "nai\u{308}ve",
    "Ⅻ",
    "ǅemal",
    "ʰa",
    "ﬁne",
    "e-mail",
    "don't",
    "x²",
    "ªb",
    "〇",
    "ⓐ",
    "Straße",
    "İstanbul",
    "ΣΊΣΥΦΟΣ",
    "ǈubav",
    "O'Brien",
    "C3PO",
];

/// How many files, how large, from which seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CorpusConfig {
    pub files: usize,
    pub bytes_per_file: usize,
    pub seed: u64,
}

impl Default for CorpusConfig {
    /// The Go lab's shape: eight files of about 500 KB.
    fn default() -> Self {
        CorpusConfig {
            files: 8,
            bytes_per_file: 500 * 1000,
            seed: 1,
        }
    }
}

/// File `index`'s name: the Go books first, then `pg-extra-N.txt`.
pub fn file_name(index: usize) -> String {
    match GO_BOOKS.get(index) {
        Some(book) => format!("pg-{book}.txt"),
        None => format!("pg-extra-{index}.txt"),
    }
}

/// Parses sizes such as `500KB`, `1.5MB`, `64k`, `1000` (bytes; K = 1000).
pub fn parse_size(text: &str) -> Result<usize, String> {
    let lower = text.trim().to_ascii_lowercase();
    let (number, unit) = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map_or((lower.as_str(), ""), |i| lower.split_at(i));
    let factor = match unit.trim() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "ki" | "kib" => 1024.0,
        "mi" | "mib" => 1024.0 * 1024.0,
        other => return Err(format!("unknown size unit {other:?} in {text:?}")),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("not a size: {text:?}"))?;
    Ok((value * factor).round() as usize)
}

/// The whole corpus in memory: `(file name, text)`.
pub fn generate(config: &CorpusConfig) -> Vec<(String, String)> {
    let vocabulary = Vocabulary::new(config.seed);
    (0..config.files)
        .map(|i| {
            let text = vocabulary.text(config.seed, i, config.bytes_per_file);
            (file_name(i), text)
        })
        .collect()
}

/// Writes the corpus into `dir` (created if needed); returns the paths.
pub fn write_corpus(dir: &Path, config: &CorpusConfig) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    generate(config)
        .into_iter()
        .map(|(name, text)| {
            let path = dir.join(name);
            std::fs::write(&path, text)?;
            Ok(path)
        })
        .collect()
}

/// Words by rank, with cumulative Zipf weights for sampling.
struct Vocabulary {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Vocabulary {
    fn new(seed: u64) -> Vocabulary {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut words: Vec<String> = COMMON.iter().map(|w| w.to_string()).collect();
        // The set only answers "seen before?" (a linear `contains` made this
        // quadratic: 40 ms per corpus); `words` keeps the order of first draw.
        let mut seen: BTreeSet<String> = words.iter().cloned().collect();
        while words.len() < VOCABULARY {
            let word = random_word(&mut rng);
            if seen.insert(word.clone()) {
                words.push(word);
            }
        }
        let mut total = 0.0;
        let cumulative = (0..words.len())
            .map(|rank| {
                total += 1.0 / ((rank + 1) as f64).powf(ZIPF_S);
                total
            })
            .collect();
        Vocabulary { words, cumulative }
    }

    fn sample(&self, rng: &mut ChaCha8Rng) -> &str {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let u = rng.random::<f64>() * total;
        let rank = self.cumulative.partition_point(|&c| c < u);
        &self.words[rank.min(self.words.len() - 1)]
    }

    /// About `bytes` bytes of text for file `index`.
    fn text(&self, seed: u64, index: usize, bytes: usize) -> String {
        let stream = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (index as u64 + 1);
        let mut rng = ChaCha8Rng::seed_from_u64(stream);
        let mut out = String::with_capacity(bytes + 128);
        let mut line_start = 0;
        while out.len() < bytes {
            self.push_token(&mut rng, &mut out);
            if out.len() - line_start > LINE_WIDTH {
                let paragraph = out.ends_with('.') && rng.random_bool(0.15);
                out.push_str(if paragraph { "\n\n" } else { "\n" });
                line_start = out.len();
            } else {
                out.push(' ');
            }
        }
        out.push('\n');
        out
    }

    /// One word (or number, or tricky token) with its punctuation.
    fn push_token(&self, rng: &mut ChaCha8Rng, out: &mut String) {
        let roll = rng.random_range(0..1000);
        let word = match roll {
            0..5 => TRICKY[rng.random_range(0..TRICKY.len())].to_string(),
            5..35 => number(rng),
            _ => {
                let word = self.sample(rng);
                recase(rng, word)
            }
        };
        let quoted = rng.random_bool(0.02);
        if quoted {
            out.push(['"', '«', '“', '('][rng.random_range(0..4)]);
        }
        out.push_str(&word);
        if quoted {
            out.push(['"', '»', '”', ')'][rng.random_range(0..4)]);
        }
        out.push_str(punctuation(rng));
    }
}

/// Mostly as is, sometimes Capitalized or UPPER (scripts without case are
/// unaffected).
fn recase(rng: &mut ChaCha8Rng, word: &str) -> String {
    match rng.random_range(0..100) {
        0..12 => {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
        12..15 => word.to_uppercase(),
        _ => word.to_string(),
    }
}

fn number(rng: &mut ChaCha8Rng) -> String {
    match rng.random_range(0..4) {
        0 => rng.random_range(1500..2030).to_string(),
        1 => format!("{}.{}", rng.random_range(0..100), rng.random_range(0..100)),
        2 => format!("{}th", rng.random_range(4..30)),
        _ => rng.random_range(0..1000).to_string(),
    }
}

fn punctuation(rng: &mut ChaCha8Rng) -> &'static str {
    match rng.random_range(0..1000) {
        0..80 => ",",
        80..140 => ".",
        140..150 => ";",
        150..158 => ":",
        158..166 => "!",
        166..174 => "?",
        174..184 => " —",
        184..194 => "'s",
        194..200 => "-",
        200..204 => "。",
        _ => "",
    }
}

fn pick<'a>(rng: &mut ChaCha8Rng, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

/// A new word in one of the scripts.
fn random_word(rng: &mut ChaCha8Rng) -> String {
    match rng.random_range(0..100) {
        0..55 => syllables(rng, LATIN_C, LATIN_V),
        55..67 => syllables(rng, LATIN_ACCENT_C, LATIN_ACCENT_V),
        67..74 => greek(rng),
        74..84 => syllables(rng, CYRILLIC_C, CYRILLIC_V),
        84..92 => cjk(rng),
        _ => devanagari(rng),
    }
}

const LATIN_C: &[&str] = &[
    "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "ch",
    "sh", "th", "st", "tr", "pl",
];
const LATIN_V: &[&str] = &["a", "e", "i", "o", "u", "y", "ai", "ou", "ea"];
const LATIN_ACCENT_C: &[&str] = &["b", "d", "l", "m", "n", "r", "s", "t", "ç", "ñ", "ß", "v"];
const LATIN_ACCENT_V: &[&str] = &[
    "a", "e", "o", "á", "é", "í", "ó", "ú", "à", "è", "ü", "ö", "ä", "ø", "å", "œ",
];
const GREEK_C: &[&str] = &[
    "β", "γ", "δ", "ζ", "θ", "κ", "λ", "μ", "ν", "ξ", "π", "ρ", "σ", "τ", "φ", "χ", "ψ",
];
const GREEK_V: &[&str] = &[
    "α", "ε", "η", "ι", "ο", "υ", "ω", "ά", "έ", "ή", "ί", "ό", "ύ", "ώ",
];
const CYRILLIC_C: &[&str] = &[
    "б", "в", "г", "д", "ж", "з", "к", "л", "м", "н", "п", "р", "с", "т", "ф", "х", "ц", "ч", "ш",
    "щ", "ль", "нь",
];
const CYRILLIC_V: &[&str] = &["а", "е", "ё", "и", "о", "у", "ы", "э", "ю", "я"];

fn syllables(rng: &mut ChaCha8Rng, consonants: &[&str], vowels: &[&str]) -> String {
    let n = rng.random_range(1..4);
    let mut word = String::new();
    for _ in 0..n {
        word.push_str(pick(rng, consonants));
        word.push_str(pick(rng, vowels));
    }
    if rng.random_bool(0.4) {
        word.push_str(pick(rng, consonants));
    }
    word
}

fn greek(rng: &mut ChaCha8Rng) -> String {
    let mut word = syllables(rng, GREEK_C, GREEK_V);
    // Final sigma, as Greek spells it.
    if word.ends_with('σ') {
        word.pop();
        word.push('ς');
    }
    word
}

/// One to three ideographs (Lo), occasionally kana.
fn cjk(rng: &mut ChaCha8Rng) -> String {
    let n = rng.random_range(1..4);
    (0..n)
        .map(|_| {
            let base = if rng.random_bool(0.8) { 0x4e00 } else { 0x30a2 };
            let span = if base == 0x4e00 { 1200 } else { 80 };
            char::from_u32(base + rng.random_range(0..span)).unwrap_or('中')
        })
        .collect()
}

/// Consonants with vowel signs (Mc/Mn), viramas forming conjuncts, and the
/// anusvara: marks that Go does not count as letters.
fn devanagari(rng: &mut ChaCha8Rng) -> String {
    let n = rng.random_range(1..4);
    let mut word = String::new();
    for _ in 0..n {
        word.push(consonant_devanagari(rng));
        match rng.random_range(0..10) {
            0..5 => word.push(char::from_u32(0x93e + rng.random_range(0..15)).unwrap_or('\u{93e}')),
            5..7 => {
                word.push('\u{94d}'); // virama: a conjunct with the next consonant
                word.push(consonant_devanagari(rng));
            }
            _ => {}
        }
    }
    if rng.random_bool(0.1) {
        word.push('\u{902}'); // anusvara
    }
    word
}

fn consonant_devanagari(rng: &mut ChaCha8Rng) -> char {
    char::from_u32(0x915 + rng.random_range(0..37)).unwrap_or('क')
}

#[cfg(test)]
mod tests {
    use super::*;
    use mapreduce::letters::{is_letter, words};

    fn small() -> CorpusConfig {
        CorpusConfig {
            files: 3,
            bytes_per_file: 20_000,
            seed: 7,
        }
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        assert_eq!(generate(&small()), generate(&small()));
        let other = CorpusConfig { seed: 8, ..small() };
        assert_ne!(generate(&small()), generate(&other));
    }

    #[test]
    fn files_have_go_names_and_about_the_asked_size() {
        let corpus = generate(&small());
        assert_eq!(corpus[0].0, "pg-being_ernest.txt");
        assert_eq!(file_name(7), "pg-tom_sawyer.txt");
        assert_eq!(file_name(8), "pg-extra-8.txt");
        for (_, text) in &corpus {
            assert!((20_000..20_200).contains(&text.len()), "{}", text.len());
        }
    }

    #[test]
    fn mixes_scripts_and_marks_and_is_zipf_like() {
        let text: String = generate(&small()).into_iter().map(|(_, t)| t).collect();
        for (what, probe) in [
            ("Greek", 'α'..='ω'),
            ("Cyrillic", 'а'..='я'),
            ("CJK", '\u{4e00}'..='\u{9fff}'),
            ("Devanagari vowel signs", '\u{93e}'..='\u{94c}'),
            ("accented Latin", 'à'..='ÿ'),
        ] {
            assert!(text.chars().any(|c| probe.contains(&c)), "no {what}");
        }
        assert!(text.chars().any(|c| c.is_ascii_digit()));
        assert!(text.chars().any(|c| c.is_alphabetic() && !is_letter(c)));
        let the = words(&text).filter(|w| *w == "the").count();
        let total = words(&text).count();
        assert!(the * 30 > total, "rank-1 word is {the} of {total}");
    }

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_size("500KB"), Ok(500_000));
        assert_eq!(parse_size("1.5mb"), Ok(1_500_000));
        assert_eq!(parse_size("64KiB"), Ok(65_536));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("KB").is_err());
    }
}

//! Comparing job outputs the way `test-mr.sh` does: `sort mr-out* | grep .`.
//!
//! Line order and the number of output files do not matter (mrsequential
//! writes one file, a distributed run ten), empty lines are dropped.

use std::io;
use std::path::Path;

/// All non-empty lines of `contents`, sorted bytewise (as `sort` in the C locale).
pub fn sorted_lines<'a>(contents: impl IntoIterator<Item = &'a [u8]>) -> Vec<String> {
    let mut lines: Vec<String> = contents
        .into_iter()
        .flat_map(|bytes| {
            String::from_utf8_lossy(bytes)
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    lines.sort_unstable();
    lines
}

/// Whether `name` is a final output file (`mr-out*`, like the shell glob).
pub fn is_output(name: &str) -> bool {
    name.starts_with("mr-out")
}

/// The sorted, non-empty lines of every `mr-out*` file in `dir`.
pub fn read_dir_outputs(dir: &Path) -> io::Result<Vec<String>> {
    let mut contents = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if is_output(&entry.file_name().to_string_lossy()) {
            contents.push(std::fs::read(entry.path())?);
        }
    }
    Ok(sorted_lines(contents.iter().map(Vec::as_slice)))
}

/// Parses `word count` lines (wc's output) and returns the `k` most frequent,
/// ties broken alphabetically.
pub fn top_words(lines: &[String], k: usize) -> Vec<(String, u64)> {
    let mut counts: Vec<(String, u64)> = lines
        .iter()
        .filter_map(|line| {
            let (word, count) = line.rsplit_once(' ')?;
            Some((word.to_string(), count.parse().ok()?))
        })
        .collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts.truncate(k);
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_and_drops_empty_lines() {
        let got = sorted_lines([b"b 1\n\na 2\n".as_slice(), b"c 3".as_slice()]);
        assert_eq!(got, ["a 2", "b 1", "c 3"]);
    }

    #[test]
    fn top_words_breaks_ties_by_word() {
        let lines: Vec<String> = ["b 2", "a 2", "c 5", "junk"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            top_words(&lines, 2),
            [("c".to_string(), 5), ("a".to_string(), 2)]
        );
    }
}

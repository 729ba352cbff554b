//! The handout markers: how the reference solution says which of its lines a
//! student's handout leaves out, and what the handout has instead.
//!
//! A marker is a line of its own whose text (indentation aside) is exactly one
//! of the comments below, in the comment syntax of the file's language:
//!
//! | language                      | region start         | replacement        | region end         | whole file            |
//! |-------------------------------|----------------------|--------------------|--------------------|-----------------------|
//! | Rust, C, Go, JS (`//`)        | `// BEGIN SOLUTION`  | `// HANDOUT`       | `// END SOLUTION`  | `// SOLUTION FILE`    |
//! | Markdown, HTML                | `<!-- BEGIN SOLUTION -->` | `<!-- HANDOUT -->` | `<!-- END SOLUTION -->` | `<!-- SOLUTION FILE -->` |
//! | TOML, shell, Python, YAML (`#`) | `# BEGIN SOLUTION` | `# HANDOUT`        | `# END SOLUTION`   | `# SOLUTION FILE`     |
//!
//! The lines between BEGIN and HANDOUT (or END, when there is no HANDOUT) are
//! the reference's and never reach the handout. The lines between HANDOUT and
//! END are what the handout has in their place: in `//` and `#` languages they
//! are comments in the reference (so the reference builds unchanged) and the
//! handout gets them with the first `// ` (or `# `) after the indentation
//! removed; in Markdown they are copied as they are. A `SOLUTION FILE` line
//! among a file's first [`SOLUTION_FILE_LINES`] lines leaves the whole file
//! out. Regions never nest; every BEGIN has its END in the same file.
//!
//! Processing is a pure function of the text ([`strip`]) so it is tested here
//! without touching the file system; `crate::handout` walks the workspace.

use std::fmt;

/// A `SOLUTION FILE` marker must be among a file's first this many lines.
pub const SOLUTION_FILE_LINES: usize = 5;

/// How a language writes its comments, which decides how its markers look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// `// ...` line comments: Rust, C, Go, JavaScript, protobuf.
    Slashes,
    /// `# ...` line comments: TOML, shell, Python, YAML.
    Hash,
    /// `<!-- ... -->`: Markdown and HTML. Handout lines are copied verbatim.
    Html,
}

impl Syntax {
    /// The syntax for a file name, by extension; `None`: not a language with
    /// markers (the file is copied as it is).
    pub fn for_path(name: &str) -> Option<Syntax> {
        let ext = name.rsplit_once('.').map(|(_, e)| e)?;
        match ext {
            "rs" | "c" | "h" | "go" | "js" | "ts" | "proto" => Some(Syntax::Slashes),
            "toml" | "sh" | "py" | "yaml" | "yml" => Some(Syntax::Hash),
            "md" | "html" => Some(Syntax::Html),
            _ => None,
        }
    }

    fn marker(self, word: &str) -> String {
        match self {
            Syntax::Slashes => format!("// {word}"),
            Syntax::Hash => format!("# {word}"),
            Syntax::Html => format!("<!-- {word} -->"),
        }
    }

    /// The comment prefix that handout lines carry in the reference.
    fn handout_prefix(self) -> Option<&'static str> {
        match self {
            Syntax::Slashes => Some("//"),
            Syntax::Hash => Some("#"),
            Syntax::Html => None,
        }
    }
}

/// What kind of marker a line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Marker {
    Begin,
    Handout,
    End,
    SolutionFile,
}

impl Marker {
    fn name(self) -> &'static str {
        match self {
            Marker::Begin => "BEGIN SOLUTION",
            Marker::Handout => "HANDOUT",
            Marker::End => "END SOLUTION",
            Marker::SolutionFile => "SOLUTION FILE",
        }
    }

    fn of_line(line: &str, syntax: Syntax) -> Option<Marker> {
        let text = line.trim();
        [
            Marker::Begin,
            Marker::Handout,
            Marker::End,
            Marker::SolutionFile,
        ]
        .into_iter()
        .find(|m| text == syntax.marker(m.name()))
    }
}

/// A misuse of the markers, with the 1-based line where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarkerError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for MarkerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for MarkerError {}

/// The handout version of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stripped {
    /// The file has no markers: the handout has it unchanged.
    Unmarked,
    /// The file had regions; this is its handout text.
    Text { text: String, regions: usize },
    /// `SOLUTION FILE`: the handout leaves the file out.
    SolutionFile,
}

/// Whether `text` contains any marker line of `syntax`.
pub fn has_markers(text: &str, syntax: Syntax) -> bool {
    text.lines().any(|l| Marker::of_line(l, syntax).is_some())
}

/// Computes the handout version of a file's `text`, or says where its
/// markers are misused (unbalanced, nested, stray, an uncommented handout
/// line, a late `SOLUTION FILE`).
pub fn strip(text: &str, syntax: Syntax) -> Result<Stripped, MarkerError> {
    enum State {
        Outside,
        Solution { begin: usize },
        Handout { begin: usize },
    }
    let error = |line: usize, message: String| Err(MarkerError { line, message });
    let mut out = String::with_capacity(text.len());
    let mut state = State::Outside;
    let mut regions = 0;
    // Set at the end of a region when the text before it ended in a blank
    // line (or nothing): a blank line right after it is then dropped.
    let mut skip_blank = false;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let number = i + 1;
        let marker = Marker::of_line(line, syntax);
        if marker == Some(Marker::SolutionFile) {
            if number > SOLUTION_FILE_LINES {
                return error(
                    number,
                    format!(
                        "`{}` must be among the first {SOLUTION_FILE_LINES} lines",
                        syntax.marker("SOLUTION FILE")
                    ),
                );
            }
            if let Some(m) = text
                .lines()
                .map(|l| Marker::of_line(l, syntax))
                .find(|m| matches!(m, Some(m) if *m != Marker::SolutionFile))
                .flatten()
            {
                return error(
                    number,
                    format!(
                        "a solution file needs no `{}` regions",
                        syntax.marker(m.name())
                    ),
                );
            }
            return Ok(Stripped::SolutionFile);
        }
        state = match (state, marker) {
            (State::Outside, Some(Marker::Begin)) => {
                regions += 1;
                State::Solution { begin: number }
            }
            (State::Outside, Some(m)) => {
                return error(
                    number,
                    format!(
                        "`{}` outside a solution region (no `{}` before it)",
                        syntax.marker(m.name()),
                        syntax.marker("BEGIN SOLUTION")
                    ),
                );
            }
            (State::Outside, None) => {
                // A region removed between two blank lines leaves one.
                let blank = line.trim().is_empty();
                if !(blank && skip_blank) {
                    out.push_str(line);
                }
                skip_blank = false;
                State::Outside
            }
            (State::Solution { begin } | State::Handout { begin }, Some(Marker::Begin)) => {
                return error(
                    number,
                    format!(
                        "`{}` inside the region that begins at line {begin}: regions do not nest",
                        syntax.marker("BEGIN SOLUTION")
                    ),
                );
            }
            (State::Solution { begin }, Some(Marker::Handout)) => State::Handout { begin },
            (State::Handout { begin }, Some(Marker::Handout)) => {
                return error(
                    number,
                    format!(
                        "a second `{}` in the region that begins at line {begin}",
                        syntax.marker("HANDOUT")
                    ),
                );
            }
            (State::Solution { .. } | State::Handout { .. }, Some(_)) => {
                skip_blank = out.is_empty() || out.ends_with("\n\n") || out.ends_with("\n\r\n");
                State::Outside
            }
            (State::Solution { begin }, None) => State::Solution { begin },
            (State::Handout { begin }, None) => {
                out.push_str(&uncomment(line, syntax).map_err(|message| MarkerError {
                    line: number,
                    message,
                })?);
                State::Handout { begin }
            }
        };
    }
    match state {
        State::Outside if regions == 0 => Ok(Stripped::Unmarked),
        State::Outside => {
            // A region at the very end leaves no trailing blank line.
            while out.ends_with("\n\n") {
                out.pop();
            }
            Ok(Stripped::Text { text: out, regions })
        }
        State::Solution { begin } | State::Handout { begin } => error(
            begin,
            format!(
                "`{}` has no `{}`",
                syntax.marker("BEGIN SOLUTION"),
                syntax.marker("END SOLUTION")
            ),
        ),
    }
}

/// A handout line as the handout has it: `    // todo!()` becomes
/// `    todo!()`; a bare `//` becomes an empty line; blank lines stay.
fn uncomment(line: &str, syntax: Syntax) -> Result<String, String> {
    let Some(prefix) = syntax.handout_prefix() else {
        return Ok(line.to_string());
    };
    let body = line.trim_end_matches(['\n', '\r']);
    let newline = &line[body.len()..];
    let indent_len = body.len() - body.trim_start().len();
    let (indent, rest) = body.split_at(indent_len);
    if rest.is_empty() {
        return Ok(line.to_string());
    }
    if rest == prefix {
        return Ok(newline.to_string());
    }
    match rest.strip_prefix(prefix).and_then(|r| r.strip_prefix(' ')) {
        Some(code) => Ok(format!("{indent}{code}{newline}")),
        None => Err(format!(
            "a handout line must be a `{prefix} ` comment in the reference, found `{rest}`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each (source, handout) pair: the marked `//` source becomes that handout text.
    fn assert_handouts(cases: &[(&str, &str)]) {
        for &(src, handout) in cases {
            assert_eq!(text(src, Syntax::Slashes), handout, "{src:?}");
        }
    }

    /// What a marked text becomes in the handout (it must be marked).
    fn text(src: &str, syntax: Syntax) -> String {
        match strip(src, syntax).unwrap() {
            Stripped::Text { text, .. } => text,
            other => panic!("expected text, got {other:?}"),
        }
    }

    #[test]
    fn a_region_with_its_handout() {
        let src = "fn a() -> u32 {\n    // BEGIN SOLUTION\n    42\n    // HANDOUT\n    // todo!(\"2A: a\")\n    // END SOLUTION\n}\n";
        let out = text(src, Syntax::Slashes);
        assert_eq!(out, "fn a() -> u32 {\n    todo!(\"2A: a\")\n}\n");
    }

    #[test]
    fn a_region_without_handout_disappears() {
        let src = "a\n// BEGIN SOLUTION\nsecret\n// END SOLUTION\nb\n";
        assert_eq!(
            strip(src, Syntax::Slashes).unwrap(),
            Stripped::Text {
                text: "a\nb\n".into(),
                regions: 1
            }
        );
    }

    #[test]
    fn removing_a_region_leaves_one_blank_line() {
        assert_handouts(&[
            (
                "a\n\n// BEGIN SOLUTION\nx\n// END SOLUTION\n\nb\n",
                "a\n\nb\n",
            ),
            // At the top of the file: no blank line at all.
            ("// BEGIN SOLUTION\nx\n// END SOLUTION\n\nb\n", "b\n"),
            (
                "a\n// BEGIN SOLUTION\nx\n// END SOLUTION\n\nb\n",
                "a\n\nb\n",
            ),
        ]);
    }

    /// A handout line loses its comment marker and nothing else: a bare
    /// `//` becomes a blank line; CRLF endings and indentation stay.
    #[test]
    fn handout_lines_keep_their_layout() {
        assert_handouts(&[
            (
                "// BEGIN SOLUTION\nx\n// HANDOUT\n// one\n//\n// two\n// END SOLUTION\n",
                "one\n\ntwo\n",
            ),
            (
                "\t// BEGIN SOLUTION\r\n\tx\r\n\t// HANDOUT\r\n\t// y\r\n\t// END SOLUTION\r\n",
                "\ty\r\n",
            ),
        ]);
    }

    #[test]
    fn an_unmarked_file_is_unchanged() {
        assert_eq!(
            strip("fn main() {}\n", Syntax::Slashes).unwrap(),
            Stripped::Unmarked
        );
        // A marker-like string inside code is not a marker.
        let src = "const M: &str = \"// BEGIN SOLUTION\";\n";
        assert_eq!(strip(src, Syntax::Slashes).unwrap(), Stripped::Unmarked);
    }

    #[test]
    fn solution_file() {
        let src = "//! Docs.\n// SOLUTION FILE\nfn secret() {}\n";
        assert_eq!(strip(src, Syntax::Slashes).unwrap(), Stripped::SolutionFile);
        let late = "a\nb\nc\nd\ne\n// SOLUTION FILE\n";
        assert_eq!(strip(late, Syntax::Slashes).unwrap_err().line, 6);
        let both = "// SOLUTION FILE\n// BEGIN SOLUTION\n// END SOLUTION\n";
        assert!(strip(both, Syntax::Slashes).is_err());
    }

    /// The line a refused text's error names, and that its message says `says`.
    fn refused_at(src: &str, says: &str) -> usize {
        let e = strip(src, Syntax::Slashes).unwrap_err();
        assert!(e.message.contains(says), "{e}");
        e.line
    }

    #[test]
    fn unbalanced_markers_name_their_line() {
        let open = "a\n// BEGIN SOLUTION\nb\n";
        assert_eq!(refused_at(open, "has no `// END SOLUTION`"), 2);
        assert_eq!(refused_at("a\n// END SOLUTION\n", ""), 2);
        assert_eq!(refused_at("// HANDOUT\n", ""), 1);
    }

    #[test]
    fn nested_regions_are_refused() {
        let src = "// BEGIN SOLUTION\n// BEGIN SOLUTION\n// END SOLUTION\n// END SOLUTION\n";
        assert_eq!(refused_at(src, "do not nest"), 2);
        let twice = "// BEGIN SOLUTION\n// HANDOUT\n// HANDOUT\n// END SOLUTION\n";
        assert_eq!(refused_at(twice, ""), 3);
    }

    #[test]
    fn handout_lines_must_be_comments() {
        let src = "// BEGIN SOLUTION\n// HANDOUT\ntodo!()\n// END SOLUTION\n";
        let e = strip(src, Syntax::Slashes).unwrap_err();
        assert_eq!(e.line, 3);
    }

    #[test]
    fn toml_and_markdown() {
        let toml = "[dependencies]\n# BEGIN SOLUTION\nfoo = \"1\"\n# HANDOUT\n# # add what you need\n# END SOLUTION\n";
        assert_eq!(
            text(toml, Syntax::Hash),
            "[dependencies]\n# add what you need\n"
        );
        let md = "# Guide\n<!-- BEGIN SOLUTION -->\nHow the reference works.\n<!-- HANDOUT -->\nYour design here.\n<!-- END SOLUTION -->\n";
        assert_eq!(text(md, Syntax::Html), "# Guide\nYour design here.\n");
    }

    #[test]
    fn syntax_by_extension() {
        assert_eq!(Syntax::for_path("src/lib.rs"), Some(Syntax::Slashes));
        assert_eq!(Syntax::for_path("Cargo.toml"), Some(Syntax::Hash));
        assert_eq!(Syntax::for_path("docs/lab2.md"), Some(Syntax::Html));
        assert_eq!(Syntax::for_path("Cargo.lock"), None);
        assert_eq!(Syntax::for_path("Makefile"), None);
    }

    #[test]
    fn detection() {
        assert!(has_markers("x\n  // END SOLUTION\n", Syntax::Slashes));
        assert!(!has_markers("x // END SOLUTION\n", Syntax::Slashes));
    }
}

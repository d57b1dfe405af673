//! The README shows example files in full, each after a `<!-- file: PATH -->` line.
//! CI builds and runs the files (`tests/c/run.sh`); this test keeps the README's
//! copies identical to them, so what a reader copies is what CI checked.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Each `(path, block)`: a marker's path and the fenced block that follows it.
fn shown_files(readme: &str) -> Vec<(String, String)> {
    let mut shown = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        let Some(path) = line
            .strip_prefix("<!-- file: ")
            .and_then(|rest| rest.strip_suffix(" -->"))
        else {
            continue;
        };
        let fence = lines.next().unwrap_or_default();
        assert!(
            fence.starts_with("```"),
            "README: the marker of {path} must be followed by a code fence, not {fence:?}"
        );
        let mut block = String::new();
        for line in lines.by_ref() {
            if line == "```" {
                break;
            }
            block.push_str(line);
            block.push('\n');
        }
        shown.push((path.to_owned(), block));
    }
    shown
}

#[test]
fn every_file_the_readme_shows_is_shown_as_it_is() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("reading README.md");
    let shown = shown_files(&readme);
    assert!(
        shown
            .iter()
            .any(|(path, _)| path == "examples/c/quickstart.c"),
        "README.md no longer shows examples/c/quickstart.c"
    );
    for (path, block) in shown {
        let file = std::fs::read_to_string(root().join(&path))
            .unwrap_or_else(|e| panic!("README.md shows {path}, which cannot be read: {e}"));
        assert!(
            block == file,
            "README.md's copy of {path} differs from the file: copy the file into the README \
             (first differing line: {:?})",
            block
                .lines()
                .zip(file.lines())
                .find(|(a, b)| a != b)
                .map(|(a, _)| a)
                .unwrap_or("(one is longer)")
        );
    }
}

#[test]
fn a_marker_finds_exactly_the_block_after_it() {
    let text = "intro\n<!-- file: a.c -->\n```c\nint x;\n\nint y;\n```\nafter\n```c\nz\n```\n";
    assert_eq!(
        shown_files(text),
        vec![("a.c".to_owned(), "int x;\n\nint y;\n".to_owned())]
    );
}

//! `cargo xtask ci --only tidy`: cheap checks of the tree that no compiler makes, one
//! function each.
//!
//! - [`headers`]: every `.rs` file under `crates/`, `xtask/` and `benches/` begins with a
//!   `//!` comment saying what the file is for.
//! - [`markers`]: a `TODO(#12)`, `FIXME(#12)` or `XXX(#12)` names the issue it waits on;
//!   a marker without an issue number is a promise nobody owns.
//! - [`doc_paths`]: the docs (`README.md`, `docs/*.md`, `crates/*/README.md`) name only
//!   files that exist: relative markdown links (from the document's folder), and
//!   repository paths in the text, backticked or not (`crates/…`, `docs/…`, `xtask/…`,
//!   `benches/…`, from the workspace root).
//!
//! Intra-doc links are not checked here: rustdoc checks them in the `doc` stage, where
//! `rustdoc::broken_intra_doc_links` and `rustdoc::private_intra_doc_links` are denied
//! (`[workspace.lints.rustdoc]` in the root `Cargo.toml`, besides `-D warnings`).

use crate::command::root;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Folders whose `.rs` files are checked.
const SOURCE_DIRS: &[&str] = &["crates", "xtask", "benches"];

/// The markers [`markers`] looks for, spelled in two halves so that this file does not
/// flag itself.
const MARKERS: [&str; 3] = [
    concat!("TO", "DO"),
    concat!("FIX", "ME"),
    concat!("XX", "X"),
];

/// The folders a repository path named in a doc starts with.
const REPOSITORY_DIRS: &[&str] = &["crates/", "docs/", "xtask/", "benches/"];

/// A file read for checking: its path from the workspace root and its text.
struct File {
    path: PathBuf,
    text: String,
}

pub(crate) fn run() -> Result<(), String> {
    let root = root();
    let sources = rust_sources(&root)?;
    let docs = markdown_docs(&root)?;
    let mut problems = Vec::new();
    problems.extend(headers(&sources));
    problems.extend(markers(&sources));
    problems.extend(doc_paths(&root, &docs));
    println!(
        "    {} Rust files and {} docs checked",
        sources.len(),
        docs.len()
    );
    if problems.is_empty() {
        return Ok(());
    }
    for problem in &problems {
        println!("    {problem}");
    }
    Err(format!("{} problems (listed above)", problems.len()))
}

/// Every `.rs` file's first line is a `//!` comment.
fn headers(sources: &[File]) -> Vec<String> {
    sources
        .iter()
        .filter(|file| !file.text.starts_with("//!"))
        .map(|file| {
            format!(
                "{}:1: does not begin with a `//!` comment saying what the file is for",
                file.path.display()
            )
        })
        .collect()
}

/// Every marker is followed by `(#N)`, the issue it waits on.
fn markers(sources: &[File]) -> Vec<String> {
    let mut problems = Vec::new();
    for file in sources {
        for (number, line) in file.text.lines().enumerate() {
            for marker in MARKERS {
                for (at, _) in line.match_indices(marker) {
                    let before = line[..at].chars().next_back();
                    let after = &line[at + marker.len()..];
                    if before.is_some_and(is_word) || after.chars().next().is_some_and(is_word) {
                        continue; // part of a longer word
                    }
                    if !names_issue(after) {
                        problems.push(format!(
                            "{}:{}: {marker} without an issue number (write {marker}(#N))",
                            file.path.display(),
                            number + 1
                        ));
                    }
                }
            }
        }
    }
    problems
}

/// Every relative markdown link and every repository path in a doc names a file or
/// folder that exists.
fn doc_paths(root: &Path, docs: &[File]) -> Vec<String> {
    let mut problems = BTreeSet::new();
    for doc in docs {
        let folder = root.join(doc.path.parent().unwrap_or(Path::new("")));
        for (number, line) in doc.text.lines().enumerate() {
            let named = link_targets(line)
                .into_iter()
                .map(|target| (folder.join(&target), target))
                .chain(
                    repository_paths(line)
                        .into_iter()
                        .map(|path| (root.join(&path), path)),
                );
            for (resolved, as_written) in named {
                if !resolved.exists() {
                    problems.insert(format!(
                        "{}:{}: names `{as_written}`, which does not exist",
                        doc.path.display(),
                        number + 1
                    ));
                }
            }
        }
    }
    problems.into_iter().collect()
}

/// The local targets of the markdown links `[text](target)` on `line`, without anchors
/// and titles; web links, mail links and in-page anchors are left out.
fn link_targets(line: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("](") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = rest[..end].split_whitespace().next().unwrap_or("");
        let target = target.trim_start_matches('<').trim_end_matches('>');
        let target = target.split('#').next().unwrap_or("");
        let remote = ["http://", "https://", "mailto:"]
            .iter()
            .any(|scheme| target.starts_with(scheme));
        if !target.is_empty() && !remote {
            targets.push(target.to_owned());
        }
        rest = &rest[end..];
    }
    targets
}

/// The repository paths on `line`: a word that starts with one of [`REPOSITORY_DIRS`]
/// (not in the middle of a longer path or a URL), up to the first character that is not
/// part of a path, without a sentence's final full stop.
fn repository_paths(line: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for dir in REPOSITORY_DIRS {
        for (at, _) in line.match_indices(dir) {
            if line[..at].chars().next_back().is_some_and(is_path_char) {
                continue;
            }
            let path: String = line[at..]
                .chars()
                .take_while(|&c| is_path_char(c))
                .collect();
            paths.push(path.trim_end_matches('.').to_owned());
        }
    }
    paths
}

/// `after` starts with `(#N)`, N a number.
fn names_issue(after: &str) -> bool {
    after
        .strip_prefix("(#")
        .and_then(|rest| rest.split_once(')'))
        .is_some_and(|(number, _)| !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()))
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/')
}

/// The `.rs` files under [`SOURCE_DIRS`], build output and hidden folders left out.
fn rust_sources(root: &Path) -> Result<Vec<File>, String> {
    let mut paths = Vec::new();
    for dir in SOURCE_DIRS {
        walk(root, Path::new(dir), &mut paths)?;
    }
    paths.retain(|path| path.extension().is_some_and(|ext| ext == "rs"));
    read(root, paths)
}

/// `README.md`, `docs/*.md` and `crates/*/README.md`.
fn markdown_docs(root: &Path) -> Result<Vec<File>, String> {
    let mut paths = vec![PathBuf::from("README.md")];
    for entry in list(&root.join("docs"))? {
        if entry.extension().is_some_and(|ext| ext == "md") {
            paths.push(Path::new("docs").join(entry.file_name().unwrap_or_default()));
        }
    }
    for entry in list(&root.join("crates"))? {
        let readme = Path::new("crates")
            .join(entry.file_name().unwrap_or_default())
            .join("README.md");
        if root.join(&readme).is_file() {
            paths.push(readme);
        }
    }
    read(root, paths)
}

/// Appends the files under `dir` (relative to `root`) to `paths`, recursively, in name
/// order, skipping `target` and hidden folders.
fn walk(root: &Path, dir: &Path, paths: &mut Vec<PathBuf>) -> Result<(), String> {
    for entry in list(&root.join(dir))? {
        let name = entry.file_name().unwrap_or_default();
        let relative = dir.join(name);
        if entry.is_dir() {
            let name = name.to_string_lossy();
            if name != "target" && !name.starts_with('.') {
                walk(root, &relative, paths)?;
            }
        } else {
            paths.push(relative);
        }
    }
    Ok(())
}

/// The entries of `dir`, sorted.
fn list(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = fs::read_dir(dir).map_err(|error| format!("{}: {error}", dir.display()))?;
    let mut paths = entries
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("{}: {error}", dir.display()))?;
    paths.sort();
    Ok(paths)
}

fn read(root: &Path, paths: Vec<PathBuf>) -> Result<Vec<File>, String> {
    paths
        .into_iter()
        .map(|path| {
            fs::read_to_string(root.join(&path))
                .map(|text| File {
                    path: path.clone(),
                    text,
                })
                .map_err(|error| format!("{}: {error}", path.display()))
        })
        .collect()
}

#[cfg(test)]
#[allow(non_snake_case)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> File {
        File {
            path: PathBuf::from(path),
            text: text.to_owned(),
        }
    }

    #[test]
    fn headers__first_line_not_a_module_comment__then_reported() {
        let files = [
            file("a.rs", "//! What a is.\nfn a() {}\n"),
            file("b.rs", "#![allow(dead_code)]\n//! What b is.\n"),
        ];
        let problems = headers(&files);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("b.rs:1:"), "{problems:?}");
    }

    #[test]
    fn markers__without_issue_number__then_reported_with_line() {
        let [todo, fixme, xxx] = MARKERS;
        let text = format!(
            "// {todo}(#12) fine\n// {todo}: bare\n// {fixme}(#) empty\n// {todo}S {xxx}X word\n// {xxx}\n"
        );
        let problems = markers(&[file("a.rs", &text)]);
        let lines: Vec<&str> = problems.iter().map(|p| &p[..6]).collect();
        assert_eq!(lines, ["a.rs:2", "a.rs:3", "a.rs:5"], "{problems:?}");
    }

    #[test]
    fn link_targets__local_links__then_anchors_and_remote_links_left_out() {
        let line = "[a](docs/a.md#part), [b](https://x.org/b.md), [c](#top), [d](../d \"title\")";
        assert_eq!(link_targets(line), ["docs/a.md", "../d"]);
    }

    #[test]
    fn repository_paths__in_text_code_and_urls__then_only_whole_paths() {
        let line = "see docs/a.md. `crates/x/src/lib.rs`, https://h/docs/b.md, mycrates/c";
        assert_eq!(repository_paths(line), ["crates/x/src/lib.rs", "docs/a.md"]);
    }

    #[test]
    fn doc_paths__missing_file__then_reported() {
        let root = root();
        let docs = [file(
            "docs/x.md",
            "[ok](protocol.md) `docs/protocol.md` [gone](gone.md) docs/gone.md\n",
        )];
        let problems = doc_paths(&root, &docs);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems.iter().all(|p| p.contains("gone.md")),
            "{problems:?}"
        );
    }
}

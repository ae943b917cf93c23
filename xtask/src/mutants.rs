//! Ordering mutants: each weakens one memory ordering of a protocol (or undoes a fix:
//! the submit queue's signed emptiness test, its head claim by compare-and-swap, a
//! wake-up fence, the single unpark per park, the drain's final passes) and must make a
//! loom model fail. This is how the gate shows that the models check the orderings the
//! protocol doc claims, rather than passing on anything.
//!
//! A mutant is found by code, not by comment text. A line comment `// mutant: <id>`
//! sits directly above the statement to mutate; the table below gives, per id, the
//! package, the model, and a short snippet of code (`original`) that becomes `mutated`
//! at its first occurrence in that statement. The statement runs from the line below
//! the marker to the first line that ends with `;`, `{` or `}` (at most
//! `STATEMENT_LINES` lines). Before anything runs, every id must be found exactly once,
//! in its package's `src/`, with its snippet in the statement below, and every marker in
//! the workspace must have an entry here.
//!
//! The workspace is copied to `target/mutants/workspace` and each mutant edits the copy,
//! so the real sources are never touched (an interrupted run leaves nothing behind).

use crate::command::{cargo, root};
use std::path::{Path, PathBuf};

/// One mutant: the statement below the marker `// mutant: {id}` in `package` has its
/// first `original` replaced by `mutated`; running `model` of `package` under loom must
/// then fail.
struct Mutant {
    id: &'static str,
    package: &'static str,
    model: &'static str,
    original: &'static str,
    mutated: &'static str,
}

const MUTANTS: &[Mutant] = &[
    Mutant {
        id: "ring_buffer.append_publish",
        package: "ada-ring-buffer",
        model: "loom__append_vs_concurrent_read",
        original: "Ordering::Release",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "ring_buffer.read_acquire",
        package: "ada-ring-buffer",
        model: "loom__append_vs_concurrent_read",
        original: "Ordering::Acquire",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "slots.abandoned_release",
        package: "ada-slots",
        model: "loom__pair_ends_dropped_on_two_threads",
        original: "Ordering::Release",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "slots.abandoned_acquire",
        package: "ada-slots",
        model: "loom__pair_ends_dropped_on_two_threads",
        original: "Ordering::Acquire",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "spsc.push_publish",
        package: "ada-spsc",
        model: "loom__push_pop_with_wraparound",
        original: "Ordering::Release",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "spsc.pop_publish",
        package: "ada-spsc",
        model: "loom__push_pop_with_wraparound",
        original: "Ordering::Release",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "spsc.producer_sees_head",
        package: "ada-spsc",
        model: "loom__push_pop_with_wraparound",
        original: "Ordering::Acquire",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "spsc.consumer_sees_tail",
        package: "ada-spsc",
        model: "loom__push_pop_with_wraparound",
        original: "Ordering::Acquire",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "spsc.len_tail_first",
        package: "ada-spsc",
        model: "loom__len_on_third_thread",
        original: "Ordering::Acquire",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "spsc.len_head",
        package: "ada-spsc",
        model: "loom__len_on_third_thread",
        original: "Ordering::Acquire",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "spsc.len_tail_again",
        package: "ada-spsc",
        model: "loom__len_on_third_thread",
        original: "Ordering::Acquire",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "ring_pool.submit_publish",
        package: "ada-ring-pool",
        model: "loom__swap_vs_recycle",
        original: "Ordering::Release",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "ring_pool.claim_sees_submit",
        package: "ada-ring-pool",
        model: "loom__swap_vs_recycle",
        original: "Ordering::Acquire",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "ring_pool.activate_swap",
        package: "ada-ring-pool",
        model: "loom__reclaim_of_a_pinned_ring",
        original: "Ordering::AcqRel",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "ring_pool.pin_claim",
        package: "ada-ring-pool",
        model: "loom__reclaim_of_a_pinned_ring",
        original: "Ordering::AcqRel",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "ring_pool.pin_end_publish",
        package: "ada-ring-pool",
        model: "loom__reclaim_of_a_pinned_ring",
        original: "Ordering::Release",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "ring_pool.reclaim_sees_pin_end",
        package: "ada-ring-pool",
        model: "loom__reclaim_of_a_pinned_ring",
        original: "Ordering::Acquire",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "ring_pool.claim_empty_test",
        package: "ada-ring-pool",
        model: "loom__drop_oldest_reclaim_vs_drain_claim",
        original: "(tail.wrapping_sub(head) as isize) <= 0",
        mutated: "tail == head",
    },
    Mutant {
        id: "ring_pool.claim_by_cas",
        package: "ada-ring-pool",
        model: "loom__drop_oldest_reclaim_vs_drain_claim",
        // The producer advancing the drain's index with a plain store: the original C
        // system's mistake.
        original: "match self.head.compare_exchange_weak(",
        mutated: "self.head.store(head.wrapping_add(1), Ordering::Relaxed);\n            \
                  return Some(ring);\n            \
                  #[allow(unreachable_code)]\n            \
                  match self.head.compare_exchange_weak(",
    },
    Mutant {
        id: "ring_pool.change_read_acquire",
        package: "ada-ring-pool",
        model: "loom__snapshot_vs_ring_change_and_close",
        original: "Ordering::Acquire",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "ring_pool.change_end_release",
        package: "ada-ring-pool",
        model: "loom__snapshot_vs_ring_change_and_close",
        original: "Ordering::Release",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "ring_pool.change_validate",
        package: "ada-ring-pool",
        model: "loom__snapshot_vs_ring_change_and_close",
        // A snapshot that does not check the sequence after its reads.
        original: "self.0.fetch_add(0, Ordering::Release) == before",
        mutated: "true",
    },
    Mutant {
        id: "ring_pool.reserve_pop_acquire",
        package: "ada-ring-pool",
        model: "loom__reserve_shared_by_two_borrowers",
        original: "Ordering::Acquire",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "ring_pool.reserve_push_release",
        package: "ada-ring-pool",
        model: "loom__reserve_shared_by_two_borrowers",
        original: "Ordering::Release",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "ring_pool.collect_kept_only",
        package: "ada-ring-pool",
        model: "loom__flight_recorder_collection_at_stop",
        // The drain reading a flight recorder's pinned window whether or not it is kept.
        original: "lane.is_flight_recorder() && !lane.producer.windows.is_kept(index)",
        mutated: "false",
    },
    Mutant {
        id: "ring_pool.kept_publish",
        package: "ada-ring-pool",
        model: "loom__flight_recorder_collection_at_stop",
        original: "Ordering::Release",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "ring_pool.kept_acquire",
        package: "ada-ring-pool",
        model: "loom__flight_recorder_collection_at_stop",
        original: "Ordering::Acquire",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "thread_registry.active_publish",
        package: "ada-thread-registry",
        model: "loom__register_retire_enumerate_and_reuse",
        original: "Ordering::Release",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "thread_registry.bit_release",
        package: "ada-thread-registry",
        model: "loom__register_retire_enumerate_and_reuse",
        original: "Ordering::Release",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "thread_registry.bit_claim",
        package: "ada-thread-registry",
        model: "loom__register_retire_enumerate_and_reuse",
        original: "Ordering::Acquire",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "thread_registry.wake_fence",
        package: "ada-thread-registry",
        model: "loom__submit_and_retire_vs_park",
        original: "sync::fence(Ordering::SeqCst);",
        mutated: "",
    },
    Mutant {
        id: "thread_registry.park_fence",
        package: "ada-thread-registry",
        model: "loom__submit_and_retire_vs_park",
        original: "sync::fence(Ordering::SeqCst);",
        mutated: "",
    },
    Mutant {
        id: "thread_registry.block_wait_fence",
        package: "ada-thread-registry",
        model: "loom__producer_waits_for_a_ring_vs_drain_recycling",
        original: "sync::fence(Ordering::SeqCst);",
        mutated: "",
    },
    Mutant {
        id: "thread_registry.block_wake_fence",
        package: "ada-thread-registry",
        model: "loom__producer_waits_for_a_ring_vs_drain_recycling",
        original: "sync::fence(Ordering::SeqCst);",
        mutated: "",
    },
    Mutant {
        id: "thread_registry.wake_claim",
        package: "ada-thread-registry",
        model: "loom__two_producers_vs_park",
        original: "self.parked.swap(false, Ordering::Relaxed)",
        mutated: "self.parked.load(Ordering::Relaxed)",
    },
    Mutant {
        id: "drain.final_passes",
        package: "ada-drain",
        model: "loom__stop_vs_submit_vs_park",
        original: "0..FINAL_PASSES",
        mutated: "0..0",
    },
    Mutant {
        id: "drain.cut_visits",
        package: "ada-drain",
        model: "loom__retirement_vs_final_passes_and_cut",
        // One visit per slot at the cut: a ring submitted between the visit's two looks
        // is reported in flight.
        original: "0..CUT_VISITS",
        mutated: "0..1",
    },
    Mutant {
        id: "names.len_release",
        package: "ada-names",
        model: "loom__two_threads_intern_same_string_and_reader_looks_up__one_id_and_never_none",
        original: "Ordering::Release",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "names.len_acquire",
        package: "ada-names",
        model: "loom__two_threads_intern_same_string_and_reader_looks_up__one_id_and_never_none",
        original: "Ordering::Acquire",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "tracing.table_write_fence",
        package: "ada-tracing",
        model: "loom__entered_before_the_creator_returns__then_the_whole_entry",
        original: "fence(Ordering::Release)",
        mutated: "let _ = Ordering::Release",
    },
    Mutant {
        id: "tracing.table_version_release",
        package: "ada-tracing",
        model: "loom__entered_before_the_creator_returns__then_the_whole_entry",
        original: "Ordering::Release",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "tracing.table_read_acquire",
        package: "ada-tracing",
        model: "loom__entered_before_the_creator_returns__then_the_whole_entry",
        original: "Ordering::Acquire",
        mutated: "Ordering::Relaxed",
    },
    Mutant {
        id: "tracing.table_read_fence",
        package: "ada-tracing",
        model: "loom__entered_before_the_creator_returns__then_the_whole_entry",
        original: "fence(Ordering::Acquire)",
        mutated: "let _ = Ordering::Acquire",
    },
];

/// What a marker line starts with (after indentation).
const MARKER: &str = "// mutant:";

/// The most lines a marked statement may span.
const STATEMENT_LINES: usize = 8;

/// A Rust source file of a workspace package.
struct Source {
    package: String,
    /// Relative to the workspace root.
    path: PathBuf,
    text: String,
}

/// Where a mutant applies: `original` starts at byte `offset` of `path`.
#[derive(Debug, PartialEq, Eq)]
struct Site {
    path: PathBuf,
    offset: usize,
}

/// Runs every mutant; an error names each mutant the models did not catch, or every
/// marker and table entry that do not match.
pub(crate) fn run() -> Result<(), String> {
    let sources = workspace_sources()?;
    let sites = locate(MUTANTS, &sources).map_err(|problems| {
        format!(
            "mutant markers and xtask/src/mutants.rs disagree:\n  {}",
            problems.join("\n  ")
        )
    })?;
    let copy = root().join("target/mutants/workspace");
    let _ = std::fs::remove_dir_all(&copy);
    copy_tree(&root(), &copy).map_err(|error| format!("copying the workspace: {error}"))?;
    let mut survivors = Vec::new();
    for (mutant, site) in MUTANTS.iter().zip(&sites) {
        let path = copy.join(&site.path);
        let pristine = std::fs::read_to_string(root().join(&site.path))
            .map_err(|error| format!("reading {}: {error}", site.path.display()))?;
        let end = site.offset + mutant.original.len();
        let mutated = format!(
            "{}{}{}",
            &pristine[..site.offset],
            mutant.mutated,
            &pristine[end..]
        );
        std::fs::write(&path, mutated)
            .map_err(|error| format!("writing {}: {error}", path.display()))?;
        let output = cargo()
            .current_dir(&copy)
            .args([
                "test",
                "--release",
                "--locked",
                "--lib",
                "-p",
                mutant.package,
                mutant.model,
            ])
            .env("RUSTFLAGS", "--cfg loom")
            .env("CARGO_TARGET_DIR", root().join("target/mutants/target"))
            .output()
            .map_err(|error| format!("running cargo: {error}"))?;
        std::fs::write(&path, &pristine)
            .map_err(|error| format!("restoring {}: {error}", path.display()))?;
        let caught = !output.status.success()
            && model_failed(
                &String::from_utf8_lossy(&output.stdout),
                &String::from_utf8_lossy(&output.stderr),
            );
        println!(
            "    mutant {} (`{}` → `{}`): {}",
            mutant.id,
            mutant.original,
            mutant.mutated.lines().next().unwrap_or_default().trim(),
            if caught { "caught" } else { "NOT caught" }
        );
        if !caught {
            survivors.push(mutant.id);
        }
    }
    if survivors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "loom models did not catch: {}",
            survivors.join(", ")
        ))
    }
}

/// Every `src/**/*.rs` file of every workspace package, from `cargo metadata`.
fn workspace_sources() -> Result<Vec<Source>, String> {
    let root = root();
    let mut sources = Vec::new();
    for (name, folder) in crate::command::workspace()?.packages {
        let name = name.as_str();
        let directory = folder
            .strip_prefix(&root)
            .map_err(|_| format!("{name}: {} is outside the workspace", folder.display()))?;
        let mut files = Vec::new();
        rust_files(&root.join(directory).join("src"), &mut files)
            .map_err(|error| format!("listing {name}'s sources: {error}"))?;
        for file in files {
            let text = std::fs::read_to_string(&file)
                .map_err(|error| format!("reading {}: {error}", file.display()))?;
            let path = file
                .strip_prefix(&root)
                .map_err(|_| format!("{} is outside the workspace", file.display()))?
                .to_path_buf();
            sources.push(Source {
                package: name.to_owned(),
                path,
                text,
            });
        }
    }
    Ok(sources)
}

/// The `.rs` files under `directory`, recursively, in a stable order.
fn rust_files(directory: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries = std::fs::read_dir(directory)?.collect::<Result<Vec<_>, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::path);
    for entry in entries {
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            rust_files(&path, files)?;
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            files.push(path);
        }
    }
    Ok(())
}

/// A `// mutant: <id>` line: the source and the line's index.
struct Marker<'s> {
    id: &'s str,
    source: &'s Source,
    line: usize,
}

impl Marker<'_> {
    fn position(&self) -> String {
        format!("{}:{}", self.source.path.display(), self.line + 1)
    }
}

/// Finds each mutant's site, or lists every problem: an id without a marker, with two,
/// in another package, or without its snippet in the statement below; a marker without
/// an entry, or not directly above code.
fn locate(mutants: &[Mutant], sources: &[Source]) -> Result<Vec<Site>, Vec<String>> {
    let mut problems = Vec::new();
    let markers: Vec<Marker<'_>> = sources
        .iter()
        .flat_map(|source| {
            source
                .text
                .lines()
                .enumerate()
                .filter_map(move |(line, text)| {
                    let id = text.trim_start().strip_prefix(MARKER)?.trim();
                    Some(Marker { id, source, line })
                })
        })
        .collect();
    for (index, mutant) in mutants.iter().enumerate() {
        if mutants[..index]
            .iter()
            .any(|earlier| earlier.id == mutant.id)
        {
            problems.push(format!("mutant `{}` is in the table twice", mutant.id));
        }
    }
    for marker in &markers {
        if !mutants.iter().any(|mutant| mutant.id == marker.id) {
            problems.push(format!(
                "marker `{}` at {} has no entry in xtask/src/mutants.rs",
                marker.id,
                marker.position()
            ));
        }
    }
    let mut sites = Vec::new();
    for mutant in mutants {
        let found: Vec<&Marker<'_>> = markers
            .iter()
            .filter(|marker| marker.id == mutant.id)
            .collect();
        let [marker] = found.as_slice() else {
            let places: Vec<String> = found.iter().map(|marker| marker.position()).collect();
            problems.push(if places.is_empty() {
                format!(
                    "mutant `{}`: no `{MARKER} {}` line in {}'s src/",
                    mutant.id, mutant.id, mutant.package
                )
            } else {
                format!(
                    "mutant `{}`: marked {} times ({})",
                    mutant.id,
                    places.len(),
                    places.join(", ")
                )
            });
            continue;
        };
        if marker.source.package != mutant.package {
            problems.push(format!(
                "mutant `{}`: marked at {}, in {}, but the table says {}",
                mutant.id,
                marker.position(),
                marker.source.package,
                mutant.package
            ));
            continue;
        }
        match statement_site(marker, mutant.original) {
            Ok(offset) => sites.push(Site {
                path: marker.source.path.clone(),
                offset,
            }),
            Err(problem) => problems.push(format!(
                "mutant `{}` at {}: {problem}",
                mutant.id,
                marker.position()
            )),
        }
    }
    if problems.is_empty() {
        Ok(sites)
    } else {
        Err(problems)
    }
}

/// The byte offset of `original`'s first occurrence in the statement below `marker`.
fn statement_site(marker: &Marker<'_>, original: &str) -> Result<usize, String> {
    let text = &marker.source.text;
    // Byte offset of each line's start (`lines()` drops `\n` and `\r\n` alike).
    let mut starts = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        starts.push(offset);
        offset += line.len();
    }
    let lines: Vec<&str> = text.lines().collect();
    let first = marker.line + 1;
    let Some(code) = lines.get(first) else {
        return Err("the marker is the file's last line".to_owned());
    };
    let code = code.trim_start();
    if code.is_empty() || code.starts_with("//") {
        return Err("the line below the marker is not code".to_owned());
    }
    let last = (first..lines.len().min(first + STATEMENT_LINES))
        .find(|&line| lines[line].trim_end().ends_with([';', '{', '}']))
        .unwrap_or_else(|| lines.len().min(first + STATEMENT_LINES) - 1);
    let start = starts[first];
    let end = starts[last] + lines[last].len();
    text[start..end]
        .find(original)
        .map(|found| start + found)
        .ok_or_else(|| {
            format!(
                "`{original}` is not in the statement below the marker (lines {}-{})",
                first + 1,
                last + 1
            )
        })
}

/// Copies `from` into `to`, leaving out `target` and `.git`.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        let destination: PathBuf = to.join(&name);
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &destination)?;
        } else {
            std::fs::copy(entry.path(), destination)?;
        }
    }
    Ok(())
}

/// Whether a failed `cargo test` run failed in the model, not before it: a test
/// reported as failed, or the test binary ran and panicked its way to an abort (loom
/// reports a deadlock by panicking; a panic while unwinding the model's threads then
/// aborts the process before the harness prints its result). A mutant that does not
/// compile is not caught.
fn model_failed(stdout: &str, stderr: &str) -> bool {
    stdout.contains("test result: FAILED")
        || (stderr.contains("Running unittests") && stderr.contains("panicked at"))
}

#[cfg(test)]
mod tests {
    #![allow(non_snake_case)]
    use super::*;

    #[test]
    fn model_failed__failed_test_or_abort_after_running__then_caught_compile_error_not() {
        assert!(model_failed("test result: FAILED. 0 passed; 1 failed", ""));
        let abort =
            "     Running unittests src/lib.rs (x)\nthread 'm' panicked at src/a.rs:1:1:\ndeadlock";
        assert!(model_failed("", abort));
        assert!(!model_failed("", "error[E0425]: cannot find value `x`"));
        assert!(!model_failed(
            "test result: ok. 1 passed",
            "     Running unittests src/lib.rs (x)"
        ));
    }

    fn source(package: &str, text: &str) -> Source {
        Source {
            package: package.to_owned(),
            path: PathBuf::from(format!("crates/{package}/src/lib.rs")),
            text: text.to_owned(),
        }
    }

    fn mutant(id: &'static str, original: &'static str) -> Mutant {
        Mutant {
            id,
            package: "p",
            model: "loom__m",
            original,
            mutated: "Ordering::Relaxed",
        }
    }

    const CODE: &str = "fn f() {\n    // Release: why.\n    // mutant: p.store\n    x\n        .store(1, Ordering::Release);\n    y.store(2, Ordering::Release);\n}\n";

    #[test]
    fn locate__marker_above_multi_line_statement__then_first_snippet_in_it() {
        let sources = [source("p", CODE)];
        let sites = locate(&[mutant("p.store", "Ordering::Release")], &sources).unwrap();
        let offset = CODE.find("Ordering::Release").unwrap();
        assert_eq!(sites[0].offset, offset);
    }

    #[test]
    fn locate__snippet_only_after_the_statement__then_refused() {
        let text = CODE.replace(
            ".store(1, Ordering::Release);",
            ".store(1, Ordering::SeqCst);",
        );
        let problems = locate(
            &[mutant("p.store", "Ordering::Release")],
            &[source("p", &text)],
        )
        .unwrap_err();
        assert!(
            problems[0].contains("is not in the statement"),
            "{problems:?}"
        );
    }

    #[test]
    fn locate__id_missing_twice_or_unlisted__then_each_named() {
        let twice = format!("{CODE}{CODE}");
        let problems = locate(
            &[
                mutant("p.store", "Ordering::Release"),
                mutant("p.gone", "x"),
            ],
            &[
                source("p", &twice),
                source("q", "// mutant: q.stray\nfn g() {}\n"),
            ],
        )
        .unwrap_err();
        let all = problems.join("\n");
        assert!(all.contains("`p.store`: marked 2 times"), "{all}");
        assert!(
            all.contains("`p.gone`: no `// mutant: p.gone` line"),
            "{all}"
        );
        assert!(all.contains("marker `q.stray`"), "{all}");
    }

    #[test]
    fn locate__marker_in_another_package__then_refused() {
        let problems = locate(
            &[mutant("p.store", "Ordering::Release")],
            &[source("q", CODE)],
        )
        .unwrap_err();
        assert!(problems[0].contains("the table says p"), "{problems:?}");
    }

    #[test]
    fn locate__marker_above_a_comment__then_refused() {
        let text = "// mutant: p.store\n// not code\nx.store(1, Ordering::Release);\n";
        let problems = locate(
            &[mutant("p.store", "Ordering::Release")],
            &[source("p", text)],
        )
        .unwrap_err();
        assert!(problems[0].contains("not code"), "{problems:?}");
    }

    #[test]
    fn mutants__table__then_ids_unique_and_snippets_change_code() {
        for (index, mutant) in MUTANTS.iter().enumerate() {
            assert!(
                MUTANTS[..index]
                    .iter()
                    .all(|earlier| earlier.id != mutant.id),
                "{} twice",
                mutant.id
            );
            assert_ne!(mutant.original, mutant.mutated, "{}", mutant.id);
            assert!(mutant.model.starts_with("loom__"), "{}", mutant.id);
        }
    }
}

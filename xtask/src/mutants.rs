//! Ordering mutants: each weakens one memory ordering of a protocol (or, for the submit
//! queue, undoes the fix loom found in its emptiness test, or replaces the head claim's
//! compare-and-swap by a plain store) and must make a loom model fail. This is how the gate shows that the models check the orderings the
//! protocol doc claims, rather than passing on anything.
//!
//! The workspace is copied to `target/mutants/workspace` and each mutant edits the copy,
//! so the real sources are never touched (an interrupted run leaves nothing behind).

use crate::command::{cargo, root};
use std::path::{Path, PathBuf};

/// One weakened ordering: in `file`, the unique occurrence of `original` becomes
/// `mutated`; running `model` of `package` under loom must then fail.
struct Mutant {
    package: &'static str,
    file: &'static str,
    original: &'static str,
    mutated: &'static str,
    model: &'static str,
}

const MUTANTS: &[Mutant] = &[
    Mutant {
        package: "ada-ring-buffer",
        file: "crates/ring-buffer/src/lib.rs",
        original: "self.ring.committed.store(len + 1, Ordering::Release);",
        mutated: "self.ring.committed.store(len + 1, Ordering::Relaxed);",
        model: "loom__append_vs_concurrent_read",
    },
    Mutant {
        package: "ada-ring-buffer",
        file: "crates/ring-buffer/src/lib.rs",
        original: "let committed = self.ring.committed.load(Ordering::Acquire);\n        // SAFETY: `consumed <= committed",
        mutated: "let committed = self.ring.committed.load(Ordering::Relaxed);\n        // SAFETY: `consumed <= committed",
        model: "loom__append_vs_concurrent_read",
    },
    Mutant {
        package: "ada-spsc",
        file: "crates/spsc/src/lib.rs",
        original: "queue.producer.tail.store(self.tail, Ordering::Release);\n        Ok(())",
        mutated: "queue.producer.tail.store(self.tail, Ordering::Relaxed);\n        Ok(())",
        model: "loom__push_pop_with_wraparound",
    },
    Mutant {
        package: "ada-spsc",
        file: "crates/spsc/src/lib.rs",
        original: "queue.consumer.head.store(self.head, Ordering::Release);\n        Some(value)",
        mutated: "queue.consumer.head.store(self.head, Ordering::Relaxed);\n        Some(value)",
        model: "loom__push_pop_with_wraparound",
    },
    Mutant {
        package: "ada-spsc",
        file: "crates/spsc/src/lib.rs",
        original: "self.cached_head = queue.consumer.head.load(Ordering::Acquire);",
        mutated: "self.cached_head = queue.consumer.head.load(Ordering::Relaxed);",
        model: "loom__push_pop_with_wraparound",
    },
    Mutant {
        package: "ada-spsc",
        file: "crates/spsc/src/lib.rs",
        original: "self.cached_tail = queue.producer.tail.load(Ordering::Acquire);",
        mutated: "self.cached_tail = queue.producer.tail.load(Ordering::Relaxed);",
        model: "loom__push_pop_with_wraparound",
    },
    Mutant {
        package: "ada-ring-pool",
        file: "crates/ring-pool/src/submit.rs",
        original: "self.tail.store(tail.wrapping_add(1), Ordering::Release);",
        mutated: "self.tail.store(tail.wrapping_add(1), Ordering::Relaxed);",
        model: "loom__swap_vs_recycle",
    },
    Mutant {
        package: "ada-ring-pool",
        file: "crates/ring-pool/src/submit.rs",
        original: "let tail = self.tail.load(Ordering::Acquire);\n            // Signed",
        mutated: "let tail = self.tail.load(Ordering::Relaxed);\n            // Signed",
        model: "loom__swap_vs_recycle",
    },
    Mutant {
        package: "ada-ring-pool",
        file: "crates/ring-pool/src/lane.rs",
        original: "let previous = self.active.swap(next, Ordering::AcqRel);",
        mutated: "let previous = self.active.swap(next, Ordering::Relaxed);",
        model: "loom__reclaim_of_a_pinned_ring",
    },
    Mutant {
        package: "ada-ring-pool",
        file: "crates/ring-pool/src/lane.rs",
        original: ".compare_exchange(word, pinned, Ordering::AcqRel, Ordering::Relaxed)",
        mutated: ".compare_exchange(word, pinned, Ordering::Relaxed, Ordering::Relaxed)",
        model: "loom__reclaim_of_a_pinned_ring",
    },
    Mutant {
        package: "ada-ring-pool",
        file: "crates/ring-pool/src/lane.rs",
        original: "drain.pins_ended.store(self.epoch, Ordering::Release);",
        mutated: "drain.pins_ended.store(self.epoch, Ordering::Relaxed);",
        model: "loom__reclaim_of_a_pinned_ring",
    },
    Mutant {
        package: "ada-ring-pool",
        file: "crates/ring-pool/src/lane.rs",
        original: "epoch_ended(self.drain.pins_ended.load(Ordering::Acquire), epoch)",
        mutated: "epoch_ended(self.drain.pins_ended.load(Ordering::Relaxed), epoch)",
        model: "loom__reclaim_of_a_pinned_ring",
    },
    Mutant {
        package: "ada-ring-pool",
        file: "crates/ring-pool/src/submit.rs",
        original: "if (tail.wrapping_sub(head) as isize) <= 0 {",
        mutated: "if tail == head {",
        model: "loom__drop_oldest_reclaim_vs_drain_claim",
    },
    Mutant {
        package: "ada-ring-pool",
        file: "crates/ring-pool/src/submit.rs",
        original: "            match self.head.compare_exchange_weak(",
        mutated: "            // The claim removed: take the entry with a plain store.\n            self.head.store(head.wrapping_add(1), Ordering::Relaxed);\n            return Some(ring);\n            #[allow(unreachable_code)]\n            match self.head.compare_exchange_weak(",
        model: "loom__drop_oldest_reclaim_vs_drain_claim",
    },
    Mutant {
        package: "ada-thread-registry",
        file: "crates/thread-registry/src/lib.rs",
        original: ".store(generation << 2 | ACTIVE, Ordering::Release);",
        mutated: ".store(generation << 2 | ACTIVE, Ordering::Relaxed);",
        model: "loom__register_retire_enumerate_and_reuse",
    },
    Mutant {
        package: "ada-thread-registry",
        file: "crates/thread-registry/src/lib.rs",
        original: "registry.occupied[self.slot / BITS].fetch_and(!bit, Ordering::Release);",
        mutated: "registry.occupied[self.slot / BITS].fetch_and(!bit, Ordering::Relaxed);",
        model: "loom__register_retire_enumerate_and_reuse",
    },
    Mutant {
        package: "ada-thread-registry",
        file: "crates/thread-registry/src/lib.rs",
        original: "                    Ordering::Acquire,\n                    Ordering::Relaxed,\n                ) {\n                    Ok(_) => return Some(word_index * BITS + bit),",
        mutated: "                    Ordering::Relaxed,\n                    Ordering::Relaxed,\n                ) {\n                    Ok(_) => return Some(word_index * BITS + bit),",
        model: "loom__register_retire_enumerate_and_reuse",
    },
    Mutant {
        package: "ada-thread-registry",
        file: "crates/thread-registry/src/lib.rs",
        original: "sync::fence(Ordering::SeqCst);\n        if self.drain_parked.load(Ordering::Relaxed) {",
        mutated: "if self.drain_parked.load(Ordering::Relaxed) {",
        model: "loom__submit_and_retire_vs_park",
    },
    Mutant {
        package: "ada-thread-registry",
        file: "crates/thread-registry/src/lib.rs",
        original: "sync::fence(Ordering::SeqCst);\n        if !self.has_work() {",
        mutated: "if !self.has_work() {",
        model: "loom__submit_and_retire_vs_park",
    },
    Mutant {
        package: "ada-drain",
        file: "crates/drain/src/control.rs",
        original: "for _ in 0..FINAL_PASSES {",
        mutated: "for _ in 0..0 {",
        model: "loom__stop_vs_submit_vs_park",
    },
];

/// Runs every mutant; an error names each mutant the models did not catch.
pub fn run() -> Result<(), String> {
    let copy = root().join("target/mutants/workspace");
    let _ = std::fs::remove_dir_all(&copy);
    copy_tree(&root(), &copy).map_err(|error| format!("copying the workspace: {error}"))?;
    let mut survivors = Vec::new();
    for mutant in MUTANTS {
        let path = copy.join(mutant.file);
        let pristine = std::fs::read_to_string(root().join(mutant.file))
            .map_err(|error| format!("reading {}: {error}", mutant.file))?;
        if pristine.matches(mutant.original).count() != 1 {
            return Err(format!(
                "mutant for {} no longer matches exactly once: `{}`",
                mutant.file,
                mutant.original.lines().next().unwrap_or_default()
            ));
        }
        std::fs::write(&path, pristine.replacen(mutant.original, mutant.mutated, 1))
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
        let text = String::from_utf8_lossy(&output.stdout);
        let caught = !output.status.success() && text.contains("test result: FAILED");
        let label = mutant.mutated.lines().next().unwrap_or_default().trim();
        println!(
            "    mutant {} `{label}`: {}",
            mutant.package,
            if caught { "caught" } else { "NOT caught" }
        );
        if !caught {
            survivors.push(format!("{} `{label}`", mutant.package));
        }
    }
    if survivors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "loom models did not catch: {}",
            survivors.join("; ")
        ))
    }
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

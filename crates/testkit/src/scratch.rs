//! Data directories that live as long as one run of a test binary.
//!
//! A test binary's shared server keeps its store for the whole run, so its directory cannot be
//! a `TempDir` dropped at the end of a test, and a static is never dropped. Each run gets its
//! own directory named after its process id (two runs at once, by two people sharing a target
//! directory, never touch each other's), and a run removes the directories of runs that have
//! ended.

use std::path::{Path, PathBuf};

/// A fresh directory `parent/{name}-{pid}` for this run; the `{name}-*` directories of
/// processes that no longer run are removed first.
pub fn run_dir(parent: &Path, name: &str) -> PathBuf {
    let prefix = format!("{name}-");
    // Whether a process runs is read from /proc; without it nothing is removed.
    if Path::new("/proc/self").is_dir()
        && let Ok(entries) = std::fs::read_dir(parent)
    {
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let Some(pid) = file_name
                .to_str()
                .and_then(|n| n.strip_prefix(&prefix))
                .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            else {
                continue;
            };
            if !Path::new("/proc").join(pid).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = parent.join(format!("{prefix}{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("an old directory of this process id is removed");
    }
    std::fs::create_dir_all(&dir).expect("the run's directory is made");
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_gets_its_own_directory_and_ended_runs_are_removed() {
        let parent = std::env::temp_dir().join(format!("tw-scratch-test-{}", std::process::id()));
        std::fs::create_dir_all(&parent).expect("parent");
        // No process has pid 0 in /proc; "other" is not a run directory and stays.
        let ended = parent.join("runs-0");
        let other = parent.join("runs-other");
        std::fs::create_dir_all(&ended).expect("ended");
        std::fs::create_dir_all(&other).expect("other");
        let dir = run_dir(&parent, "runs");
        assert!(dir.is_dir());
        assert!(dir.ends_with(format!("runs-{}", std::process::id())));
        assert!(!ended.exists(), "the directory of an ended run is removed");
        assert!(other.exists());
        std::fs::remove_dir_all(&parent).expect("clean up");
    }
}

//! Files the CLI writes whole or not at all (`export csv -o`, `report html
//! -o`): written beside the target under a temporary name and renamed over
//! it once complete. The temporary file is removed on every failure, so
//! neither half a file nor a `*.partial-PID` is ever left behind.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// The temporary file beside a target: renamed over the target by
/// `finish`, removed when dropped unfinished (a failed write, an early
/// return, a failed rename).
#[derive(Debug)]
pub struct PartialFile {
    target: PathBuf,
    temporary: PathBuf,
    finished: bool,
}

impl PartialFile {
    /// Creates the temporary file `TARGET.partial-PID` (the target's
    /// extension replaced) and opens it for writing; nothing is created when
    /// this fails.
    pub fn create(target: &Path) -> io::Result<(PartialFile, File)> {
        let temporary = target.with_extension(format!("partial-{}", std::process::id()));
        // A new file only: a link planted at the temporary name is not
        // followed (a leftover of this same process id is replaced).
        let _ = std::fs::remove_file(&temporary);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)?;
        let partial = PartialFile {
            target: target.to_path_buf(),
            temporary,
            finished: false,
        };
        Ok((partial, file))
    }

    /// Renames the complete file over the target (its writer closed
    /// first); when the rename fails, the temporary file is removed.
    pub fn finish(mut self) -> io::Result<()> {
        std::fs::rename(&self.temporary, &self.target)?;
        self.finished = true;
        Ok(())
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_finished_file_replaces_the_target_and_nothing_else_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        std::fs::write(&target, "old").unwrap();
        let (partial, mut file) = PartialFile::create(&target).unwrap();
        file.write_all(b"new").unwrap();
        drop(file);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");
        partial.finish().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(names(dir.path()), ["out.csv"]);
    }

    #[test]
    fn an_unfinished_file_is_removed_and_the_target_kept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        std::fs::write(&target, "old").unwrap();
        let (partial, mut file) = PartialFile::create(&target).unwrap();
        file.write_all(b"half").unwrap();
        drop(file);
        drop(partial);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");
        assert_eq!(names(dir.path()), ["out.csv"]);
    }

    #[test]
    fn a_failed_rename_leaves_no_partial_file() {
        // A directory in the target's place: the rename over it fails.
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        std::fs::create_dir(&target).unwrap();
        let (partial, mut file) = PartialFile::create(&target).unwrap();
        file.write_all(b"whole").unwrap();
        drop(file);
        assert!(partial.finish().is_err());
        assert!(target.is_dir());
        assert_eq!(names(dir.path()), ["out.csv"]);
    }
}

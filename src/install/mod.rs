//! Files gencost puts on a user's machine besides its ledger: Premiere
//! Pro's panels (`premiere`) and the service that runs `gencost serve` at
//! login (`service`). Each is written for one operating system's layout,
//! under the user's home or under a folder standing in for it (`--root`),
//! and each is marked as gencost's own: gencost overwrites and removes only
//! what it wrote, never a file it finds there from someone else.

pub mod premiere;
pub mod service;

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The systems gencost prepares files for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Os {
    Macos,
    Windows,
    Linux,
}

impl Os {
    /// The system this binary runs on.
    pub fn current() -> Os {
        if cfg!(target_os = "macos") {
            Os::Macos
        } else if cfg!(windows) {
            Os::Windows
        } else {
            Os::Linux
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Os::Macos => "macOS",
            Os::Windows => "Windows",
            Os::Linux => "Linux",
        }
    }
}

/// A user's home on one system: the real one, or a folder that stands in
/// for it (`--root DIR`, where the files land as they would under home).
#[derive(Clone, Debug)]
pub struct Home {
    pub os: Os,
    pub dir: PathBuf,
    /// Under `--root`: nothing outside `dir` is touched or run.
    pub stand_in: bool,
}

impl Home {
    /// This user's real home on this system.
    pub fn real(os: Os) -> Result<Home> {
        let dir = directories::BaseDirs::new()
            .map(|dirs| dirs.home_dir().to_path_buf())
            .ok_or_else(|| Error::Io("cannot find this user's home directory".into()))?;
        Ok(Home {
            os,
            dir,
            stand_in: false,
        })
    }

    pub fn stand_in(os: Os, dir: PathBuf) -> Home {
        Home {
            os,
            dir,
            stand_in: true,
        }
    }

    /// Windows' roaming application data (`%APPDATA%`).
    pub fn app_data(&self) -> PathBuf {
        self.dir.join("AppData").join("Roaming")
    }

    /// gencost's settings folder, as `gencost` itself finds it on that
    /// system (`GENCOST_CONFIG_DIR` wins on the real home).
    pub fn config_dir(&self) -> PathBuf {
        if !self.stand_in {
            if let Some(dir) = std::env::var_os("GENCOST_CONFIG_DIR") {
                return PathBuf::from(dir);
            }
        }
        match self.os {
            Os::Macos => self.dir.join("Library/Application Support/gencost"),
            Os::Windows => self.app_data().join("gencost").join("config"),
            Os::Linux => self.dir.join(".config").join("gencost"),
        }
    }
}

/// The line that marks a file as gencost's own.
pub const MARK: &str = "Written by gencost; `gencost` replaces and removes it.";

/// Whether the file at `path` may be (over)written: it does not exist, or
/// gencost wrote it (it carries `MARK`). A file from anyone else is refused.
pub fn check_ours(path: &Path, what: &str) -> Result<bool> {
    match std::fs::read(path) {
        Ok(bytes) => {
            if contains_mark(&bytes) {
                Ok(true)
            } else {
                Err(Error::input(format!(
                    "{} exists and was not written by gencost: it is left as it is (move it away first; it is not the {what})",
                    path.display()
                )))
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::Io(format!("cannot read {}: {e}", path.display()))),
    }
}

/// The mark in UTF-8 or UTF-16 (Task Scheduler's definitions are UTF-16).
fn contains_mark(bytes: &[u8]) -> bool {
    let utf8 = String::from_utf8_lossy(bytes);
    if utf8.contains(MARK) {
        return true;
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect();
    String::from_utf16_lossy(&units).contains(MARK)
}

/// Writes `bytes` to `path` (its folder made first), through a temporary
/// file renamed into place, so a crash never leaves half a file.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let folder = path
        .parent()
        .ok_or_else(|| Error::Io(format!("{} has no folder", path.display())))?;
    std::fs::create_dir_all(folder)
        .map_err(|e| Error::Io(format!("cannot create {}: {e}", folder.display())))?;
    let mut temporary = tempfile::NamedTempFile::new_in(folder)
        .map_err(|e| Error::Io(format!("cannot write in {}: {e}", folder.display())))?;
    std::io::Write::write_all(&mut temporary, bytes)
        .map_err(|e| Error::Io(format!("cannot write {}: {e}", path.display())))?;
    temporary
        .persist(path)
        .map_err(|e| Error::Io(format!("cannot write {}: {}", path.display(), e.error)))?;
    Ok(())
}

/// Removes `path` when gencost wrote it; says what happened.
pub fn remove_ours(path: &Path, what: &str) -> Result<Removed> {
    if !check_ours(path, what)? {
        return Ok(Removed::Absent);
    }
    std::fs::remove_file(path)
        .map_err(|e| Error::Io(format!("cannot remove {}: {e}", path.display())))?;
    Ok(Removed::Removed)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removed {
    Removed,
    Absent,
}

/// A command line for people to read and paste: arguments with spaces or
/// quotes are quoted.
pub fn shell_words(words: &[String]) -> String {
    words
        .iter()
        .map(|word| {
            if !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=\\@%+,".contains(c))
            {
                word.clone()
            } else {
                format!("\"{}\"", word.replace('"', "\\\""))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

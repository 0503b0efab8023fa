//! Where gencost keeps things on this machine: the default ledger file (data
//! directory) and per-user settings such as the active tags (config
//! directory). `GENCOST_DATA_DIR` and `GENCOST_CONFIG_DIR` override both.

use crate::error::{Error, Result};
use crate::ledger::Tags;
use std::path::PathBuf;

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "gencost")
}

pub fn data_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("GENCOST_DATA_DIR") {
        return Ok(PathBuf::from(dir));
    }
    project_dirs()
        .map(|d| d.data_dir().to_path_buf())
        .ok_or_else(|| {
            Error::Io("cannot find a home directory for the ledger; pass --database".into())
        })
}

pub fn config_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("GENCOST_CONFIG_DIR") {
        return Ok(PathBuf::from(dir));
    }
    project_dirs()
        .map(|d| d.config_dir().to_path_buf())
        .ok_or_else(|| Error::Io("cannot find a home directory for settings".into()))
}

/// The default ledger: `ledger.db` in the data directory, created on first use.
pub fn default_ledger_path() -> Result<PathBuf> {
    let dir = data_dir()?;
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::Io(format!("cannot create {}: {e}", dir.display())))?;
    Ok(dir.join("ledger.db"))
}

fn active_tags_path() -> Result<PathBuf> {
    Ok(config_dir()?.join("active-tags.json"))
}

/// The tags `log` applies when it is given none (set by `gencost use`). They
/// belong to this user on this machine, not to a shared ledger.
pub fn load_active_tags() -> Result<Tags> {
    let path = active_tags_path()?;
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|e| Error::Io(format!("{}: unreadable active tags: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Tags::default()),
        Err(e) => Err(Error::Io(format!("cannot read {}: {e}", path.display()))),
    }
}

pub fn save_active_tags(tags: &Tags) -> Result<()> {
    let path = active_tags_path()?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::Io(format!("cannot create {}: {e}", parent.display())))?;
    }
    let text = serde_json::to_string_pretty(tags).map_err(|e| Error::Io(e.to_string()))?;
    // Write then rename, so a crash never leaves half a file.
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text)
        .map_err(|e| Error::Io(format!("cannot write {}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, &path)
        .map_err(|e| Error::Io(format!("cannot write {}: {e}", path.display())))
}

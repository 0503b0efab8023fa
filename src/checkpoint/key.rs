//! The checkpoint signing key: an Ed25519 secret in the user's config
//! directory (`checkpoint.key`, 64 hex digits, readable by its owner
//! only), made on first use. It never goes into the ledger, so whoever can
//! write the database still cannot sign a rewritten chain.

use crate::config::config_dir;
use crate::error::{Error, Result};
use ed25519_dalek::SigningKey;
use std::path::{Path, PathBuf};

pub fn key_path() -> Result<PathBuf> {
    Ok(config_dir()?.join("checkpoint.key"))
}

/// This user's key, if one was made or imported.
pub fn existing() -> Result<Option<SigningKey>> {
    let path = key_path()?;
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&text, &path).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::Io(format!("cannot read {}: {e}", path.display()))),
    }
}

/// This user's key, made now when there is none.
pub fn load_or_create() -> Result<SigningKey> {
    if let Some(key) = existing()? {
        return Ok(key);
    }
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret)
        .map_err(|e| Error::Io(format!("cannot draw a random key: {e}")))?;
    let key = SigningKey::from_bytes(&secret);
    // Two processes making the first key at once: the first file written
    // wins, and the other reads it.
    match write_new(&key, &key_path()?) {
        Ok(()) => Ok(key),
        Err(_) => existing()?.ok_or_else(|| Error::Io("cannot make the checkpoint key".into())),
    }
}

/// Writes the key to a new file at `path`, readable by its owner only;
/// fails if a file is there, even one written a moment ago by another
/// process.
fn write_new(key: &SigningKey, path: &Path) -> Result<()> {
    let folder = path
        .parent()
        .ok_or_else(|| Error::Io(format!("{} has no folder", path.display())))?;
    std::fs::create_dir_all(folder)
        .map_err(|e| Error::Io(format!("cannot create {}: {e}", folder.display())))?;
    let mut temporary = tempfile::NamedTempFile::new_in(folder)
        .map_err(|e| Error::Io(format!("cannot write in {}: {e}", folder.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(temporary.path(), std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::Io(format!("cannot restrict the key file: {e}")))?;
    }
    let text = format!("{}\n", hex::encode(key.to_bytes()));
    std::io::Write::write_all(&mut temporary, text.as_bytes())
        .map_err(|e| Error::Io(format!("cannot write {}: {e}", path.display())))?;
    temporary
        .persist_noclobber(path)
        .map_err(|e| Error::Io(format!("cannot write {}: {}", path.display(), e.error)))?;
    Ok(())
}

fn parse(text: &str, path: &Path) -> Result<SigningKey> {
    let bytes: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            Error::input(format!(
                "{}: not a checkpoint key (64 hex digits)",
                path.display()
            ))
        })?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// Reads a key exported with `key export`.
pub fn read(path: &Path) -> Result<SigningKey> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::input(format!("cannot read {}: {e}", path.display())))?;
    parse(&text, path)
}

/// Writes the key to `path`, readable by its owner only; never over
/// another file unless `replace`.
pub fn write(key: &SigningKey, path: &Path, replace: bool) -> Result<()> {
    if !replace && path.exists() {
        return Err(Error::input(format!(
            "{} exists: it is left as it is",
            path.display()
        )));
    }
    let text = format!("{}\n", hex::encode(key.to_bytes()));
    crate::install::write_file(path, text.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::Io(format!("cannot restrict {}: {e}", path.display())))?;
    }
    Ok(())
}

/// Makes `key` this user's key; another key already here is replaced only
/// with `replace` (checkpoints it signed then check only against it by
/// their own public key).
pub fn store(key: &SigningKey, replace: bool) -> Result<()> {
    let path = key_path()?;
    // An unreadable key file is replaced only when asked to.
    let current = match existing() {
        Ok(current) => current,
        Err(_) if replace => None,
        Err(e) => return Err(e),
    };
    if let Some(current) = current {
        if current.to_bytes() == key.to_bytes() {
            return Ok(());
        }
        if !replace {
            return Err(Error::input(format!(
                "{} holds another key (public key {}): pass --replace to use the new one",
                path.display(),
                hex::encode(current.verifying_key().as_bytes())
            )));
        }
        // The replaced key is kept beside it: checkpoints it signed check
        // with `--public-key` its public key, and it may be wanted again.
        let kept = path.with_extension(format!(
            "key.replaced-{}",
            crate::timestamp::Timestamp::now().0
        ));
        write(&current, &kept, false)?;
        eprintln!(
            "the replaced key is kept in {} (public key {})",
            kept.display(),
            hex::encode(current.verifying_key().as_bytes())
        );
    }
    write(key, &path, true)
}

//! `checkpoint`, `key show|export|import` and `verify --checkpoint`: signed
//! checkpoints of the ledger (see `crate::checkpoint`).

use super::{write_json, write_text, Exit, Out};
use crate::checkpoint::{key, public_key, Checkpoint};
use crate::error::{Error, Result};
use crate::service::checkpoint as service;
use crate::store::Store;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct CheckpointArgs {
    /// Write it here (default: checkpoints/ in the data directory)
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print the checkpoint as JSON too
    #[arg(long)]
    json: bool,
}

pub async fn checkpoint<S: Store>(store: &S, args: CheckpointArgs, out: Out<'_>) -> Result<Exit> {
    // A file named with -o goes into a folder that exists, as for exports.
    if let Some(path) = &args.output {
        let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
        if folder.is_some_and(|f| !f.is_dir()) || path.is_dir() {
            return Err(Error::input(format!(
                "-o {}: not a file in an existing folder",
                path.display()
            )));
        }
    }
    let made_key = key::existing()?.is_none();
    let checkpoint = service::take(store).await?;
    if made_key {
        eprintln!(
            "made this user's checkpoint key: {} (public key {}; `gencost key export` keeps a copy)",
            key::key_path()?.display(),
            checkpoint.public_key
        );
    }
    let path = match args.output {
        Some(path) => path,
        None => service::file_in(&service::default_folder()?, &checkpoint),
    };
    service::write(&checkpoint, &path)?;
    if args.json {
        return write_json(out, &checkpoint);
    }
    let head = &checkpoint.head;
    write_text(
        out,
        &format!(
            "checkpoint of position {} (hash {}, {} entries) signed by {}\nwritten to {}\n",
            head.position,
            head.hash,
            head.entries.unwrap_or_default(),
            checkpoint.public_key,
            path.display()
        ),
    )
}

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Print the public key checkpoints are signed with (a key is made on
    /// first use)
    Show,
    /// Write the secret key to a file, to move it to another computer
    Export(KeyExportArgs),
    /// Use a key written by `key export`
    Import(KeyImportArgs),
}

#[derive(Args, Debug)]
pub struct KeyExportArgs {
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
}

#[derive(Args, Debug)]
pub struct KeyImportArgs {
    file: PathBuf,
    /// Replace a different key already here
    #[arg(long)]
    replace: bool,
}

pub fn key_command(command: KeyCommand, out: Out<'_>) -> Result<Exit> {
    match command {
        KeyCommand::Show => {
            let key = key::load_or_create()?;
            write_text(
                out,
                &format!("{}\n", hex::encode(key.verifying_key().as_bytes())),
            )
        }
        KeyCommand::Export(args) => {
            let key = key::existing()?.ok_or_else(|| {
                Error::input("there is no checkpoint key yet: `gencost checkpoint` makes one")
            })?;
            key::write(&key, &args.output, false)?;
            write_text(
                out,
                &format!(
                    "secret key written to {} (readable by you only; keep it as you keep passwords)\n",
                    args.output.display()
                ),
            )
        }
        KeyCommand::Import(args) => {
            let key = key::read(&args.file)?;
            key::store(&key, args.replace)?;
            write_text(
                out,
                &format!(
                    "checkpoints are now signed by {}\n",
                    hex::encode(key.verifying_key().as_bytes())
                ),
            )
        }
    }
}

/// `verify --checkpoint FILE [--public-key HEX]`, after the chain itself
/// verified: whether the ledger still is what the checkpoint signed.
pub async fn verify_checkpoint<S: Store>(
    store: &S,
    file: &std::path::Path,
    trusted: Option<&str>,
) -> Result<service::CheckpointCheck> {
    let checkpoint = Checkpoint::read(file)?;
    if let Some(trusted) = trusted {
        let trusted = public_key(trusted)?;
        checkpoint.check_signature(Some(&trusted))?;
        return service::check(store, &checkpoint, false).await;
    }
    service::check(store, &checkpoint, true).await
}

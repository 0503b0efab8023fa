//! `completions` and `man`: shell completion scripts and manual pages,
//! generated from the same clap definitions that parse the command line, so
//! they cannot drift from it.

use super::{output_error, Cli, Exit, Out};
use crate::error::{Error, Result};
use clap::{Args, CommandFactory};

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// bash, zsh, fish or powershell (also elvish)
    shell: clap_complete::Shell,
}

/// Writes the completion script for `shell`, e.g.
/// `gencost completions bash > ~/.local/share/bash-completion/completions/gencost`.
pub fn completions(args: CompletionsArgs, out: Out<'_>) -> Result<Exit> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "gencost", &mut script);
    out.write_all(&script).map_err(output_error)?;
    Ok(Exit::Success)
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// A command to print the page of (e.g. list, or "pool add"); without
    /// one, the page of gencost itself
    #[arg(num_args = 0..)]
    command: Vec<String>,
}

/// Writes a manual page in roff, e.g. `gencost man | man -l -`.
pub fn man(args: ManArgs, out: Out<'_>) -> Result<Exit> {
    let mut command = Cli::command();
    command.build();
    let mut path = "gencost".to_string();
    for word in args.command.iter().flat_map(|w| w.split_whitespace()) {
        let found = command.find_subcommand(word).cloned().ok_or_else(|| {
            Error::input(format!(
                "man: '{path} {word}' is not a command (see {path} --help)"
            ))
        })?;
        path = format!("{path} {}", found.get_name());
        command = found;
    }
    // A built subcommand is titled by its path (`gencost-pool-add`).
    let mut roff = Vec::new();
    clap_mangen::Man::new(command)
        .source(format!("gencost {}", env!("CARGO_PKG_VERSION")))
        .render(&mut roff)
        .map_err(|e| Error::Io(format!("cannot write the manual page: {e}")))?;
    out.write_all(&roff).map_err(output_error)?;
    Ok(Exit::Success)
}

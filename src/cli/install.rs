//! `integrations premiere install|uninstall` and `service
//! install|uninstall|status`: the files that put gencost in Premiere Pro
//! and keep `gencost serve` running at login (see `crate::install`).

use super::{write_text, Exit, Out};
use crate::error::{Error, Result};
use crate::install::service::{self, Service};
use crate::install::{premiere, Home, Os};
use clap::{Args, Subcommand};
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum IntegrationsCommand {
    /// The billing panel docked in Premiere Pro (CEP and UXP)
    #[command(subcommand)]
    Premiere(PremiereCommand),
}

#[derive(Subcommand, Debug)]
pub enum PremiereCommand {
    /// Copy the CEP panel into Premiere's extensions and write the UXP
    /// plugin (.ccx) for Creative Cloud's installer
    Install(PremiereInstallArgs),
    /// Remove what install wrote
    Uninstall(PremiereUninstallArgs),
}

/// Where the files go: this user's home, or a folder standing in for it.
#[derive(Args, Debug)]
pub struct Target {
    /// Print what would be done; change nothing
    #[arg(long)]
    dry_run: bool,
    /// Work under DIR as if it were the home folder (nothing outside it is
    /// touched or run)
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// The system to write for (default: this one); another needs --root or
    /// --dry-run
    #[arg(long, value_enum)]
    os: Option<Os>,
}

impl Target {
    /// The home to write into; `premiere` asks for macOS or Windows.
    fn home(&self, premiere: bool) -> Result<Home> {
        let current = Os::current();
        let os = match self.os {
            Some(os) => os,
            // Premiere has no Linux version: a rehearsal here lays the
            // files out as on macOS.
            None if premiere && current == Os::Linux && (self.dry_run || self.root.is_some()) => {
                Os::Macos
            }
            None => current,
        };
        if premiere && os == Os::Linux {
            return Err(Error::input(match self.os {
                Some(_) => "--os linux: Premiere Pro runs on macOS and Windows only; --os macos or --os windows prepares the files for one",
                None => "Premiere Pro runs on macOS and Windows only: pass --dry-run, or --root DIR (with --os macos or --os windows), to prepare the files for one",
            }));
        }
        match &self.root {
            // Absolute, as the files written name paths under it.
            Some(dir) => Ok(Home::stand_in(
                os,
                std::path::absolute(dir)
                    .map_err(|e| Error::input(format!("--root {}: {e}", dir.display())))?,
            )),
            None if os != current && !self.dry_run => Err(Error::input(format!(
                "--os {}: this is {}; pass --root DIR or --dry-run to prepare another system's files",
                os.name().to_lowercase(),
                current.name()
            ))),
            None => Home::real(os),
        }
    }
}

#[derive(Args, Debug)]
pub struct PremiereInstallArgs {
    /// Only the CEP panel (Premiere 25 and later)
    #[arg(long, conflicts_with = "uxp")]
    cep: bool,
    /// Only the UXP plugin (Premiere 25.6 and later)
    #[arg(long)]
    uxp: bool,
    /// The port `gencost serve` listens on, written into both panels
    #[arg(long, default_value_t = 7878, value_parser = clap::value_parser!(u16).range(1..))]
    port: u16,
    /// Also turn on CEP's debug mode, which unsigned extensions need
    /// (otherwise the command is printed)
    #[arg(long)]
    enable_debug_mode: bool,
    #[command(flatten)]
    target: Target,
}

#[derive(Args, Debug)]
pub struct PremiereUninstallArgs {
    /// Only the CEP panel
    #[arg(long, conflicts_with = "uxp")]
    cep: bool,
    /// Only the UXP plugin's .ccx
    #[arg(long)]
    uxp: bool,
    #[command(flatten)]
    target: Target,
}

pub fn premiere(command: PremiereCommand, database: Option<&str>, out: Out<'_>) -> Result<Exit> {
    match command {
        PremiereCommand::Install(args) => premiere_install(args, database, out),
        PremiereCommand::Uninstall(args) => premiere_uninstall(args, out),
    }
}

fn premiere_install(
    args: PremiereInstallArgs,
    database: Option<&str>,
    out: Out<'_>,
) -> Result<Exit> {
    let home = args.target.home(true)?;
    let dry = args.target.dry_run;
    let (cep, uxp) = both_unless_one(args.cep, args.uxp);
    let mut text = String::new();
    if home.stand_in {
        let _ = writeln!(
            text,
            "as on {}, under {}",
            home.os.name(),
            home.dir.display()
        );
    }
    if cep {
        let done = premiere::install_cep(&home, args.port, database, dry)?;
        listing(&mut text, &done, dry);
        if args.enable_debug_mode {
            let command = premiere::debug_mode_command(home.os);
            if dry || home.stand_in || home.os != Os::current() {
                let _ = writeln!(text, "would run: {}", crate::install::shell_words(&command));
            } else {
                run(&command)?;
                let _ = writeln!(text, "ran: {}", crate::install::shell_words(&command));
            }
        }
    }
    if uxp {
        let done = premiere::install_uxp(&home, args.port, dry)?;
        listing(&mut text, &done, dry);
    }
    let _ = writeln!(
        text,
        "The panels open {}; `gencost serve` must listen there (`gencost service install --now{}`).",
        premiere::address(args.port),
        if args.port == 7878 {
            String::new()
        } else {
            format!(" --addr 127.0.0.1:{}", args.port)
        }
    );
    write_text(out, &text)
}

fn premiere_uninstall(args: PremiereUninstallArgs, out: Out<'_>) -> Result<Exit> {
    let home = args.target.home(true)?;
    let (cep, uxp) = both_unless_one(args.cep, args.uxp);
    let done = premiere::uninstall(&home, cep, uxp, args.target.dry_run)?;
    let mut text = String::new();
    if done.removed.is_empty() {
        text.push_str("nothing of gencost's to remove\n");
    }
    listing(&mut text, &done, args.target.dry_run);
    write_text(out, &text)
}

/// Neither flag means both.
fn both_unless_one(cep: bool, uxp: bool) -> (bool, bool) {
    if cep || uxp {
        (cep, uxp)
    } else {
        (true, true)
    }
}

fn listing(text: &mut String, done: &premiere::Installed, dry: bool) {
    let (write, remove) = if dry {
        ("would write", "would remove")
    } else {
        ("wrote", "removed")
    };
    for path in &done.written {
        let _ = writeln!(text, "{write} {}", path.display());
    }
    for path in &done.removed {
        let _ = writeln!(text, "{remove} {}", path.display());
    }
    for step in &done.next {
        let _ = writeln!(text, "{step}");
    }
}

#[derive(Subcommand, Debug)]
pub enum ServiceCommand {
    /// Start `gencost serve` at every login (launchd, systemd or Task
    /// Scheduler); provider keys go in the environment file it names
    Install(ServiceInstallArgs),
    /// Stop it starting at login and remove its definition
    Uninstall(ServiceUninstallArgs),
    /// Whether it is installed and whether the server answers
    Status(ServiceStatusArgs),
}

#[derive(Args, Debug)]
pub struct ServiceInstallArgs {
    /// The address the server listens on
    #[arg(long, default_value = "127.0.0.1:7878", value_name = "HOST:PORT")]
    addr: String,
    /// Start it now too, not only at the next login
    #[arg(long)]
    now: bool,
    #[command(flatten)]
    target: Target,
}

#[derive(Args, Debug)]
pub struct ServiceUninstallArgs {
    #[command(flatten)]
    target: Target,
}

#[derive(Args, Debug)]
pub struct ServiceStatusArgs {
    /// The address the server should answer on (default: the installed
    /// service's, else 127.0.0.1:7878)
    #[arg(long, value_name = "HOST:PORT")]
    addr: Option<String>,
    #[command(flatten)]
    target: Target,
}

pub fn service(command: ServiceCommand, database: Option<&str>, out: Out<'_>) -> Result<Exit> {
    match command {
        ServiceCommand::Install(args) => service_install(args, database, out),
        ServiceCommand::Uninstall(args) => service_uninstall(args, out),
        ServiceCommand::Status(args) => service_status(args, out),
    }
}

/// The service's address: an IP address and a port other than 0
/// (`localhost:PORT` is the IPv4 loopback, as for `serve`).
fn checked_addr(addr: &str) -> Result<std::net::SocketAddr> {
    let text = addr.trim();
    let text = match text.strip_prefix("localhost:") {
        Some(port) => format!("127.0.0.1:{port}"),
        None => text.to_string(),
    };
    let parsed: std::net::SocketAddr = text.parse().map_err(|_| {
        Error::input(format!(
            "--addr: '{addr}' is not HOST:PORT with an IP address and a port from 1 to 65535, e.g. 127.0.0.1:7878"
        ))
    })?;
    if parsed.port() == 0 {
        return Err(Error::input(
            "--addr: a service started at login needs a fixed port (the panels are written for one), not 0",
        ));
    }
    Ok(parsed)
}

/// The ledger the service opens: the one given, checked and with a SQLite
/// path made absolute (the service starts in another folder), or on the
/// real home the default ledger this command would open, so that the
/// service never serves another.
fn service_database(database: Option<&str>, home: &Home) -> Result<Option<String>> {
    use crate::store::DatabaseUrl;
    let given = match database {
        Some(text) => text.to_string(),
        None if home.stand_in => return Ok(None),
        None => format!(
            "sqlite://{}",
            crate::config::default_ledger_path()?.display()
        ),
    };
    service::check_database(&given, home)?;
    match DatabaseUrl::parse(&given).map_err(|e| Error::input(format!("--database: {e}")))? {
        DatabaseUrl::Postgres(url) => Ok(Some(url)),
        DatabaseUrl::Sqlite(path) => {
            let path = std::path::absolute(&path)
                .map_err(|e| Error::input(format!("--database: {}: {e}", path.display())))?;
            Ok(Some(format!("sqlite://{}", path.display())))
        }
    }
}

fn service_install(args: ServiceInstallArgs, database: Option<&str>, out: Out<'_>) -> Result<Exit> {
    let addr = checked_addr(&args.addr)?;
    let home = args.target.home(false)?;
    let binary = std::env::current_exe()
        .map_err(|e| Error::Io(format!("cannot find the gencost binary: {e}")))?;
    let service = Service {
        binary,
        addr: addr.to_string(),
        database: service_database(database, &home)?,
    };
    let dry = args.target.dry_run;
    let outcome = service::install(&service, &home, args.now, dry)?;
    let mut text = String::new();
    for (path, bytes) in &outcome.written {
        let _ = writeln!(
            text,
            "{} {}",
            if dry { "would write" } else { "wrote" },
            path.display()
        );
        if dry {
            // The definition as it would be written (Task Scheduler's is UTF-16).
            let _ = writeln!(text, "{}", readable(bytes).trim_end());
        }
    }
    for path in &outcome.kept {
        let _ = writeln!(text, "kept {} (it is yours)", path.display());
    }
    let _ = writeln!(
        text,
        "Provider keys (FAL_KEY=…) go in {}, readable by you only.",
        service::environment_path(&home).display()
    );
    if let Err(e) = commands(
        &mut text,
        &outcome.commands,
        service::runs_commands(&home, dry),
    ) {
        // The files are in place; say so with the failure.
        return Err(Error::Io(format!(
            "{text}{e}: the service's files are written; run the command again once it can run, or `gencost service uninstall`"
        )));
    }
    write_text(out, &text)
}

fn service_uninstall(args: ServiceUninstallArgs, out: Out<'_>) -> Result<Exit> {
    let home = args.target.home(false)?;
    let dry = args.target.dry_run;
    let runs = service::runs_commands(&home, dry);
    let mut text = String::new();
    // Stopped before its definition goes.
    let outcome = service::uninstall(&home, true)?;
    commands(&mut text, &outcome.commands, runs)?;
    let outcome = service::uninstall(&home, dry)?;
    if outcome.removed.is_empty() {
        text.push_str("no service of gencost's is installed\n");
    }
    for path in &outcome.removed {
        let _ = writeln!(
            text,
            "{} {}",
            if dry { "would remove" } else { "removed" },
            path.display()
        );
    }
    for path in &outcome.kept {
        let _ = writeln!(text, "kept {} (it holds your keys)", path.display());
    }
    write_text(out, &text)
}

fn service_status(args: ServiceStatusArgs, out: Out<'_>) -> Result<Exit> {
    let home = args.target.home(false)?;
    let path = service::definition_path(&home);
    let installed = std::fs::read(&path)
        .ok()
        .and_then(|bytes| service::installed_addr(&readable(&bytes)));
    let addr = checked_addr(
        args.addr
            .as_deref()
            .or(installed.as_deref())
            .unwrap_or("127.0.0.1:7878"),
    )?;
    let mut text = String::new();
    let state = match crate::install::check_ours(&path, "service") {
        Ok(true) => "installed",
        Ok(false) => "not installed",
        Err(_) => "a file not written by gencost is there",
    };
    let _ = writeln!(text, "service: {state} ({})", path.display());
    let environment = service::environment_path(&home);
    let _ = writeln!(
        text,
        "environment file: {} ({})",
        environment.display(),
        match (
            environment.exists(),
            service::check_environment_file(&environment),
        ) {
            (false, _) => "absent".to_string(),
            (true, Ok(())) => "present".to_string(),
            (true, Err(_)) => "readable by other users: chmod 600 it".to_string(),
        }
    );
    let answering =
        std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(1)).is_ok();
    let _ = writeln!(
        text,
        "server: {} at http://{addr}",
        if answering {
            "answering"
        } else {
            "not answering"
        }
    );
    write_text(out, &text)
}

/// Runs the commands, or prints them for the user. A step that may fail
/// (stopping what is not running) says so and the rest go on.
fn commands(text: &mut String, steps: &[service::Step], run_here: bool) -> Result<()> {
    for step in steps {
        let line = service::command_line(step);
        if !run_here {
            let _ = writeln!(text, "run: {line}");
            continue;
        }
        match run(&step.words) {
            Ok(()) => {
                let _ = writeln!(text, "ran: {line}");
            }
            Err(e) if step.may_fail => {
                let _ = writeln!(text, "ran: {line} (nothing to stop: {e})");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn run(words: &[String]) -> Result<()> {
    let Some((program, arguments)) = words.split_first() else {
        return Ok(());
    };
    let status = std::process::Command::new(program)
        .args(arguments)
        .status()
        .map_err(|e| Error::Io(format!("cannot run {program}: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::Io(format!(
            "{} failed ({status})",
            crate::install::shell_words(words)
        )))
    }
}

/// A definition's text, UTF-8 or UTF-16 with its byte-order mark.
fn readable(bytes: &[u8]) -> String {
    match bytes {
        [0xFF, 0xFE, rest @ ..] => {
            let units: Vec<u16> = rest
                .chunks_exact(2)
                .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

//! Premiere Pro's panels (integrations/premiere): thin shells over the
//! billing panel of `gencost serve`, compiled into the binary so that
//! `gencost integrations premiere install` needs nothing else. CEP's is a
//! folder in the user's CEP extensions; UXP's is a `.ccx` (a zip) for
//! Adobe's installer. Both shells are told the panel's port here.

use super::{check_ours, shell_words, write_file, Home, Os, MARK};
use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The CEP extension bundle's id, also its folder's name.
pub const BUNDLE_ID: &str = "dev.gencost.premiere";

/// The address the shells are written with, replaced by the one installed.
const SHIPPED_ADDRESS: &str = "http://127.0.0.1:7878";

/// A shell's file: its path inside the panel and its shipped bytes. The
/// two shells share their styles (`integrations/premiere/shell.css`).
struct Shipped(&'static str, &'static [u8]);

const CEP_FILES: &[Shipped] = &[
    Shipped(
        "CSXS/manifest.xml",
        include_bytes!("../../integrations/premiere/cep/CSXS/manifest.xml"),
    ),
    Shipped(
        "index.html",
        include_bytes!("../../integrations/premiere/cep/index.html"),
    ),
    Shipped(
        "shell.js",
        include_bytes!("../../integrations/premiere/cep/shell.js"),
    ),
    Shipped(
        "shell.css",
        include_bytes!("../../integrations/premiere/shell.css"),
    ),
    Shipped(
        "config.js",
        include_bytes!("../../integrations/premiere/cep/config.js"),
    ),
    Shipped(
        "host/project.jsx",
        include_bytes!("../../integrations/premiere/cep/host/project.jsx"),
    ),
];

const UXP_FILES: &[Shipped] = &[
    Shipped(
        "manifest.json",
        include_bytes!("../../integrations/premiere/uxp/manifest.json"),
    ),
    Shipped(
        "index.html",
        include_bytes!("../../integrations/premiere/uxp/index.html"),
    ),
    Shipped(
        "index.js",
        include_bytes!("../../integrations/premiere/uxp/index.js"),
    ),
    Shipped(
        "shell.css",
        include_bytes!("../../integrations/premiere/shell.css"),
    ),
    Shipped(
        "config.js",
        include_bytes!("../../integrations/premiere/uxp/config.js"),
    ),
];

/// The files gencost keeps in the CEP folder to know it is its own: the
/// mark, then the files it wrote, one per line.
const CEP_RECORD: &str = ".gencost-installed";

/// The panel's address for a port: 127.0.0.1, never `localhost` (macOS
/// blocks plain-HTTP `localhost` in Premiere's webview).
pub fn address(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// A shell's files with the panel's address written into `config.js` (and
/// the UXP manifest's network and webview domains).
fn rendered(files: &[Shipped], port: u16) -> Vec<(&'static str, Vec<u8>)> {
    files
        .iter()
        .map(|Shipped(path, bytes)| {
            let bytes = match *path {
                "config.js" | "manifest.json" => String::from_utf8_lossy(bytes)
                    .replace(SHIPPED_ADDRESS, &address(port))
                    .into_bytes(),
                _ => bytes.to_vec(),
            };
            (*path, bytes)
        })
        .collect()
}

/// The CEP extension's files, for `port`; `serve` is what the panel
/// starts when nothing answers (`None`: it starts nothing).
pub fn cep_files(port: u16, serve: Option<&[String]>) -> Vec<(&'static str, Vec<u8>)> {
    let mut files = rendered(CEP_FILES, port);
    let arguments = match serve {
        Some(words) => serde_json::to_string(words).unwrap_or_else(|_| "null".into()),
        None => "null".into(),
    };
    for (path, bytes) in &mut files {
        if *path == "config.js" {
            let text = String::from_utf8_lossy(bytes).into_owned();
            let line = text
                .lines()
                .find(|line| line.starts_with("window.GENCOST_SERVE"))
                .unwrap_or_default()
                .to_string();
            *bytes = text
                .replace(&line, &format!("window.GENCOST_SERVE = {arguments};"))
                .into_bytes();
        }
    }
    files
}

/// What the CEP panel runs to start the server: what the login service
/// runs (its environment file when there is one), or nothing when the
/// ledger's URL holds a password, which the process list would show.
pub fn cep_serve_words(home: &Home, port: u16, database: Option<&str>) -> Option<Vec<String>> {
    if let Some(database) = database {
        if super::service::check_database(database, home).is_err() {
            return None;
        }
    }
    let environment = super::service::environment_path(home);
    let addr = format!("127.0.0.1:{port}");
    Some(super::service::serve_words(
        &addr,
        database,
        environment.exists().then_some(environment.as_path()),
    ))
}

/// The UXP plugin's files, for `port`.
pub fn uxp_files(port: u16) -> Vec<(&'static str, Vec<u8>)> {
    rendered(UXP_FILES, port)
}

/// The UXP plugin as a `.ccx`: a zip with the manifest at its root, the
/// mark in its comment.
pub fn ccx(port: u16) -> Result<Vec<u8>> {
    let mut archive = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    let failed = |e: zip::result::ZipError| Error::Io(format!("cannot make the .ccx: {e}"));
    for (path, bytes) in uxp_files(port) {
        archive.start_file(path, options).map_err(failed)?;
        archive
            .write_all(&bytes)
            .map_err(|e| Error::Io(format!("cannot make the .ccx: {e}")))?;
    }
    archive
        .set_comment(MARK)
        .map_err(|e| Error::Io(format!("cannot make the .ccx: {e}")))?;
    Ok(archive.finish().map_err(failed)?.into_inner())
}

/// Where CEP looks for a user's extensions.
pub fn cep_extensions(home: &Home) -> Result<PathBuf> {
    match home.os {
        Os::Macos => Ok(home
            .dir
            .join("Library/Application Support/Adobe/CEP/extensions")),
        Os::Windows => Ok(home.app_data().join("Adobe").join("CEP").join("extensions")),
        Os::Linux => Err(not_on_linux()),
    }
}

/// Where the `.ccx` is written for Adobe's installer.
pub fn ccx_path(home: &Home) -> PathBuf {
    home.config_dir().join("premiere").join("gencost.ccx")
}

fn not_on_linux() -> Error {
    Error::input(
        "Premiere Pro runs on macOS and Windows only: pass --dry-run, or --root DIR with --os macos or --os windows, to prepare the files for one",
    )
}

/// The one command that lets an unsigned CEP extension load (CEP 12).
pub fn debug_mode_command(os: Os) -> Vec<String> {
    let words: &[&str] = match os {
        Os::Macos => &[
            "defaults",
            "write",
            "com.adobe.CSXS.12",
            "PlayerDebugMode",
            "1",
        ],
        Os::Windows => &[
            "reg",
            "add",
            "HKCU\\Software\\Adobe\\CSXS.12",
            "/v",
            "PlayerDebugMode",
            "/t",
            "REG_SZ",
            "/d",
            "1",
            "/f",
        ],
        Os::Linux => &[],
    };
    words.iter().map(|w| w.to_string()).collect()
}

/// Adobe's Creative Cloud installer agent, installing `ccx`.
pub fn installer_command(os: Os, ccx: &Path) -> Vec<String> {
    let ccx = ccx.display().to_string();
    match os {
        Os::Macos => vec![
            "/Library/Application Support/Adobe/Adobe Desktop Common/RemoteComponents/UPI/UnifiedPluginInstallerAgent/UnifiedPluginInstallerAgent.app/Contents/MacOS/UnifiedPluginInstallerAgent".into(),
            "--install".into(),
            ccx,
        ],
        Os::Windows => vec![
            "C:\\Program Files\\Common Files\\Adobe\\Adobe Desktop Common\\RemoteComponents\\UPI\\UnifiedPluginInstallerAgent\\UnifiedPluginInstallerAgent.exe".into(),
            "/install".into(),
            ccx,
        ],
        Os::Linux => Vec::new(),
    }
}

/// What an install did (or, dry, would do): files and the steps left to
/// the user.
#[derive(Debug, Default)]
pub struct Installed {
    pub written: Vec<PathBuf>,
    pub removed: Vec<PathBuf>,
    pub next: Vec<String>,
}

/// Copies the CEP extension into the user's extensions folder, replacing
/// an earlier copy gencost made; refuses a folder of the same name that
/// gencost did not make.
pub fn install_cep(
    home: &Home,
    port: u16,
    database: Option<&str>,
    dry_run: bool,
) -> Result<Installed> {
    let folder = cep_extensions(home)?.join(BUNDLE_ID);
    let earlier = earlier_cep_files(&folder)?;
    let mut done = Installed::default();
    let serve = cep_serve_words(home, port, database);
    if serve.is_none() {
        done.next.push(
            "The ledger's URL holds a password: the CEP panel will not start gencost itself (use `gencost service install`, with GENCOST_DATABASE in its environment file).".into(),
        );
    }
    let files = cep_files(port, serve.as_deref());
    for (path, bytes) in &files {
        let target = folder.join(path);
        if !dry_run {
            write_file(&target, bytes)?;
        }
        done.written.push(target);
    }
    // Files of an earlier version that this one no longer has.
    for old in earlier {
        if !files.iter().any(|(path, _)| folder.join(path) == old) {
            if !dry_run {
                remove_if_present(&old)?;
            }
            done.removed.push(old);
        }
    }
    let record = record_text(files.iter().map(|(path, _)| *path));
    if !dry_run {
        write_file(&folder.join(CEP_RECORD), record.as_bytes())?;
    }
    done.next.push(format!(
        "Unsigned extensions load once CEP's debug mode is on: {}",
        shell_words(&debug_mode_command(home.os))
    ));
    done.next
        .push("Then restart Premiere Pro and open Window > Extensions > gencost.".into());
    Ok(done)
}

/// Writes the `.ccx` for Adobe's installer.
pub fn install_uxp(home: &Home, port: u16, dry_run: bool) -> Result<Installed> {
    if home.os == Os::Linux {
        return Err(not_on_linux());
    }
    let path = ccx_path(home);
    check_ours(&path, "UXP plugin")?;
    if !dry_run {
        write_file(&path, &ccx(port)?)?;
    }
    let mut done = Installed::default();
    done.written.push(path.clone());
    done.next.push(format!(
        "Install it with Creative Cloud's installer: {}",
        shell_words(&installer_command(home.os, &path))
    ));
    done.next.push(
        "Then open Window > UXP Plugins > gencost in Premiere Pro 25.6 or later; `gencost service install --now` keeps its server running.".into(),
    );
    Ok(done)
}

/// Removes what `install_cep` and `install_uxp` wrote, and nothing else.
pub fn uninstall(home: &Home, cep: bool, uxp: bool, dry_run: bool) -> Result<Installed> {
    let mut done = Installed::default();
    // The plugin first: a CEP folder gencost cannot clear does not keep it.
    if uxp {
        let path = ccx_path(home);
        if check_ours(&path, "UXP plugin")? {
            if !dry_run {
                remove_if_present(&path)?;
            }
            done.removed.push(path);
        }
        done.next.push(
            "A UXP plugin already installed in Premiere Pro is removed in Creative Cloud's Plugins list (Manage plugins)."
                .into(),
        );
    }
    if cep {
        let folder = cep_extensions(home)?.join(BUNDLE_ID);
        for file in earlier_cep_files(&folder)? {
            if !dry_run {
                remove_if_present(&file)?;
            }
            done.removed.push(file);
        }
        let record = folder.join(CEP_RECORD);
        if record.exists() {
            if !dry_run {
                remove_if_present(&record)?;
                // Folders left empty go too; one with anything else stays,
                // and says so.
                for dir in [folder.join("CSXS"), folder.join("host"), folder.clone()] {
                    let _ = std::fs::remove_dir(dir);
                }
                if folder.exists() {
                    done.next.push(format!(
                        "{} stays: it holds files gencost did not write",
                        folder.display()
                    ));
                }
            }
            done.removed.push(record);
        }
    }
    Ok(done)
}

/// The files an earlier install wrote into `folder`, from its record; an
/// existing folder without one is someone else's and is refused.
fn earlier_cep_files(folder: &Path) -> Result<Vec<PathBuf>> {
    let record = folder.join(CEP_RECORD);
    match std::fs::read_to_string(&record) {
        Ok(text) if text.starts_with(MARK) => Ok(text
            .lines()
            .skip(1)
            // Only paths inside the folder: a record edited to name any
            // other file is not followed.
            .filter(|line| {
                !line.is_empty()
                    && Path::new(line)
                        .components()
                        .all(|c| matches!(c, std::path::Component::Normal(_)))
            })
            .map(|line| folder.join(line))
            .collect()),
        Ok(_) => Err(foreign(folder)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let empty = match std::fs::read_dir(folder) {
                Ok(mut entries) => entries.next().is_none(),
                Err(_) => true,
            };
            if empty {
                Ok(Vec::new())
            } else {
                Err(foreign(folder))
            }
        }
        Err(e) => Err(Error::Io(format!("cannot read {}: {e}", record.display()))),
    }
}

fn foreign(folder: &Path) -> Error {
    Error::input(format!(
        "{} exists and was not made by gencost, or holds files it did not write: it is left as it is (move it away first)",
        folder.display()
    ))
}

fn record_text<'a>(paths: impl Iterator<Item = &'a str>) -> String {
    let mut text = format!("{MARK}\n");
    for path in paths {
        text.push_str(path);
        text.push('\n');
    }
    text
}

fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::Io(format!("cannot remove {}: {e}", path.display()))),
    }
}

//! `gencost serve` at login: a launchd LaunchAgent on macOS, a systemd
//! user unit on Linux, a Task Scheduler logon task on Windows. The
//! definition names the binary, the address, the ledger when one is given,
//! and an owner-only environment file in the config directory for provider
//! keys (`FAL_KEY` and the like), which never appear in the definition.

use super::{check_ours, shell_words, write_file, Home, Os, MARK};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// launchd's label and Task Scheduler's task name.
pub const LABEL: &str = "dev.gencost.serve";
const TASK_NAME: &str = "gencost serve";
const UNIT: &str = "gencost.service";

/// What the service runs.
#[derive(Clone, Debug)]
pub struct Service {
    pub binary: PathBuf,
    pub addr: String,
    pub database: Option<String>,
}

/// Where the definition goes on `home`'s system.
pub fn definition_path(home: &Home) -> PathBuf {
    match home.os {
        Os::Macos => home
            .dir
            .join("Library/LaunchAgents")
            .join(format!("{LABEL}.plist")),
        Os::Linux => home.dir.join(".config/systemd/user").join(UNIT),
        Os::Windows => home.config_dir().join("gencost-serve-task.xml"),
    }
}

/// The owner-only file the service reads provider keys from.
pub fn environment_path(home: &Home) -> PathBuf {
    home.config_dir().join("service.env")
}

/// Refuses a ledger URL with a password — in its user part or as a
/// `password` / `sslpassword` parameter: it belongs in the environment file
/// (`GENCOST_DATABASE=…`), not in a definition (and a process list) others
/// may read. Read loosely on purpose: anything that may be a password is
/// refused.
pub fn check_database(database: &str, home: &Home) -> Result<()> {
    let Some((_, rest)) = database.split_once("://") else {
        return Ok(());
    };
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    // The user part ends at the last `@`, wherever a `/` in an unencoded
    // password would put it.
    let in_user_part = before_query
        .rsplit_once('@')
        .is_some_and(|(user, _)| user.contains(':'));
    let as_parameter = query.split('&').any(|pair| {
        let name = pair.split('=').next().unwrap_or("").to_ascii_lowercase();
        name == "password" || name == "sslpassword"
    });
    // And anything else the store's own redaction counts as a secret.
    let other = !crate::store::url::secrets_of(database).is_empty()
        || database.to_ascii_lowercase().contains("password=");
    if in_user_part || as_parameter || other {
        return Err(Error::input(format!(
            "--database: the URL holds a password, which a service definition would show: put GENCOST_DATABASE=… in {} instead and leave --database out",
            environment_path(home).display()
        )));
    }
    Ok(())
}

/// Refuses an environment file that others can read: `serve --env-file`
/// would refuse it at every start.
pub fn check_environment_file(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(metadata) = std::fs::metadata(path) {
            if metadata.permissions().mode() & 0o077 != 0 {
                return Err(Error::input(format!(
                    "{} can be read by other users and the service would refuse it: chmod 600 it, then install again",
                    path.display()
                )));
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The arguments `gencost serve` is started with.
fn serve_arguments(service: &Service, home: &Home) -> Vec<String> {
    serve_words(
        &service.addr,
        service.database.as_deref(),
        Some(&environment_path(home)),
    )
}

/// `serve --addr ADDR [--env-file FILE] [--database URL]`: what the service
/// runs, and what the CEP panel starts when nothing answers.
pub fn serve_words(addr: &str, database: Option<&str>, environment: Option<&Path>) -> Vec<String> {
    let mut words = vec!["serve".to_string(), "--addr".into(), addr.to_string()];
    if let Some(environment) = environment {
        words.push("--env-file".into());
        words.push(environment.display().to_string());
    }
    if let Some(database) = database {
        words.push("--database".into());
        words.push(database.to_string());
    }
    words
}

/// The definition's bytes for `home`'s system.
pub fn definition(service: &Service, home: &Home) -> Vec<u8> {
    match home.os {
        Os::Macos => launch_agent(service, home).into_bytes(),
        Os::Linux => systemd_unit(service, home).into_bytes(),
        Os::Windows => utf16_with_bom(&scheduled_task(service, home)),
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn launch_agent(service: &Service, home: &Home) -> String {
    let mut arguments = format!(
        "    <string>{}</string>\n",
        xml_escape(&service.binary.display().to_string())
    );
    for word in serve_arguments(service, home) {
        arguments.push_str(&format!("    <string>{}</string>\n", xml_escape(&word)));
    }
    let log = home.dir.join("Library/Logs/gencost-serve.log");
    let log = xml_escape(&log.display().to_string());
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- {MARK} -->
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>{LABEL}</string>
  <key>ProgramArguments</key>
  <array>
{arguments}  </array>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <key>ProcessType</key>
  <string>Background</string>
  <key>StandardOutPath</key>
  <string>{log}</string>
  <key>StandardErrorPath</key>
  <string>{log}</string>
</dict>
</plist>
"#
    )
}

/// systemd's quoting: every word in double quotes, `\` and `"` escaped,
/// `%` doubled (its specifier character), `$` doubled (no expansion).
fn systemd_word(word: &str) -> String {
    let escaped = word
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('%', "%%")
        .replace('$', "$$");
    format!("\"{escaped}\"")
}

fn systemd_unit(service: &Service, home: &Home) -> String {
    let mut command = systemd_word(&service.binary.display().to_string());
    for word in serve_arguments(service, home) {
        command.push(' ');
        command.push_str(&systemd_word(&word));
    }
    format!(
        "# {MARK}
[Unit]
Description=gencost: the billing panel and the JSON API (gencost serve)
After=network-online.target

[Service]
ExecStart={command}
Restart=on-failure
RestartSec=5

[Install]
WantedBy=default.target
"
    )
}

/// A Windows command line's quoting for one argument.
fn windows_word(word: &str) -> String {
    if !word.is_empty() && !word.contains([' ', '\t', '"']) {
        return word.to_string();
    }
    format!("\"{}\"", word.replace('"', "\\\""))
}

fn scheduled_task(service: &Service, home: &Home) -> String {
    let arguments = serve_arguments(service, home)
        .iter()
        .map(|word| windows_word(word))
        .collect::<Vec<_>>()
        .join(" ");
    // A logon task for this user only needs no administrator; under --root
    // the user is not known and the trigger names none.
    let user = match (home.stand_in, windows_user()) {
        (false, Some(user)) => format!("\n      <UserId>{}</UserId>", xml_escape(&user)),
        _ => String::new(),
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-16"?>
<!-- {MARK} -->
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>gencost: the billing panel and the JSON API (gencost serve), started at logon</Description>
    <URI>\{TASK_NAME}</URI>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>{user}
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowStartOnDemand>true</AllowStartOnDemand>
    <Enabled>true</Enabled>
    <Hidden>true</Hidden>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>3</Count>
    </RestartOnFailure>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>{command}</Command>
      <Arguments>{arguments}</Arguments>
    </Exec>
  </Actions>
</Task>
"#,
        command = xml_escape(&service.binary.display().to_string()),
        arguments = xml_escape(&arguments),
    )
}

fn windows_user() -> Option<String> {
    let user = std::env::var("USERNAME").ok()?;
    Some(match std::env::var("USERDOMAIN") {
        Ok(domain) if !domain.is_empty() => format!("{domain}\\{user}"),
        _ => user,
    })
}

/// Task Scheduler reads its XML as UTF-16 (little endian, with a BOM).
fn utf16_with_bom(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    bytes
}

/// The environment file as first written: comments only.
fn environment_template() -> String {
    "# Environment for `gencost serve` started at login (gencost service install):\n\
     # one NAME=value per line, readable by this user only. For example:\n\
     # FAL_KEY=your-fal-key\n\
     # GENCOST_DATABASE=postgres://user:password@host/ledger\n"
        .to_string()
}

/// A command the service needs run, and whether it may fail without
/// stopping the rest (stopping a service that is not running).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub words: Vec<String>,
    pub may_fail: bool,
}

fn step(words: &[&str]) -> Step {
    Step {
        words: words.iter().map(|w| w.to_string()).collect(),
        may_fail: false,
    }
}

fn may_fail(words: &[&str]) -> Step {
    Step {
        may_fail: true,
        ..step(words)
    }
}

/// The commands that register (and with `now`, start) the service. An
/// installed service is replaced: launchd's agent is taken out before it
/// is loaded again, systemd's unit restarted (a new address takes effect).
pub fn register_commands(home: &Home, now: bool) -> Vec<Step> {
    let definition = definition_path(home).display().to_string();
    let agent = format!("{}/{LABEL}", gui_domain());
    match home.os {
        Os::Macos if now => vec![
            may_fail(&["launchctl", "bootout", &agent]),
            step(&["launchctl", "bootstrap", &gui_domain(), &definition]),
        ],
        Os::Macos => Vec::new(),
        Os::Linux if now => vec![
            step(&["systemctl", "--user", "daemon-reload"]),
            step(&["systemctl", "--user", "enable", UNIT]),
            step(&["systemctl", "--user", "restart", UNIT]),
        ],
        Os::Linux => vec![
            step(&["systemctl", "--user", "daemon-reload"]),
            step(&["systemctl", "--user", "enable", UNIT]),
        ],
        Os::Windows => {
            let mut commands = vec![step(&[
                "schtasks",
                "/create",
                "/tn",
                TASK_NAME,
                "/xml",
                &definition,
                "/f",
            ])];
            if now {
                commands.push(may_fail(&["schtasks", "/end", "/tn", TASK_NAME]));
                commands.push(step(&["schtasks", "/run", "/tn", TASK_NAME]));
            }
            commands
        }
    }
}

/// The commands that stop and unregister the service; stopping one that
/// is not running is no failure.
pub fn unregister_commands(home: &Home) -> Vec<Step> {
    match home.os {
        Os::Macos => vec![may_fail(&[
            "launchctl",
            "bootout",
            &format!("{}/{LABEL}", gui_domain()),
        ])],
        Os::Linux => vec![
            may_fail(&["systemctl", "--user", "disable", "--now", UNIT]),
            // After the unit is gone; without a user session it cannot run.
            may_fail(&["systemctl", "--user", "daemon-reload"]),
        ],
        Os::Windows => vec![
            may_fail(&["schtasks", "/end", "/tn", TASK_NAME]),
            step(&["schtasks", "/delete", "/tn", TASK_NAME, "/f"]),
        ],
    }
}

/// launchd's domain for this user's agents.
fn gui_domain() -> String {
    #[cfg(unix)]
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    #[cfg(not(unix))]
    let uid = 0;
    format!("gui/{uid}")
}

/// Whether the commands are run here or printed for the user: Windows'
/// are printed (the task's XML is registered by `schtasks` in the user's
/// own shell), and nothing runs for a stand-in home or a dry run.
pub fn runs_commands(home: &Home, dry_run: bool) -> bool {
    !dry_run && !home.stand_in && home.os == Os::current() && home.os != Os::Windows
}

/// What `install` wrote (or would write) and the commands it ran or
/// leaves to the user.
#[derive(Debug, Default)]
pub struct Outcome {
    pub written: Vec<(PathBuf, Vec<u8>)>,
    pub kept: Vec<PathBuf>,
    pub removed: Vec<PathBuf>,
    pub commands: Vec<Step>,
}

/// Writes the definition and, when missing, the environment file.
pub fn install(service: &Service, home: &Home, now: bool, dry_run: bool) -> Result<Outcome> {
    if let Some(database) = &service.database {
        check_database(database, home)?;
    }
    let path = definition_path(home);
    check_ours(&path, "service")?;
    let mut outcome = Outcome::default();
    let bytes = definition(service, home);
    let environment = environment_path(home);
    if environment.exists() {
        check_environment_file(&environment)?;
        outcome.kept.push(environment);
    } else {
        let template = environment_template().into_bytes();
        if !dry_run {
            write_owner_only(&environment, &template)?;
        }
        outcome.written.push((environment, template));
    }
    if !dry_run {
        write_file(&path, &bytes)?;
    }
    outcome.written.push((path, bytes));
    outcome.commands = register_commands(home, now);
    Ok(outcome)
}

/// Removes the definition gencost wrote; the environment file, which
/// holds the user's keys, stays.
pub fn uninstall(home: &Home, dry_run: bool) -> Result<Outcome> {
    let path = definition_path(home);
    let mut outcome = Outcome::default();
    if check_ours(&path, "service")? {
        if !dry_run {
            std::fs::remove_file(&path)
                .map_err(|e| Error::Io(format!("cannot remove {}: {e}", path.display())))?;
        }
        outcome.removed.push(path);
        outcome.commands = unregister_commands(home);
    }
    let environment = environment_path(home);
    if environment.exists() {
        outcome.kept.push(environment);
    }
    Ok(outcome)
}

fn write_owner_only(path: &Path, bytes: &[u8]) -> Result<()> {
    write_file(path, bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::Io(format!("cannot restrict {}: {e}", path.display())))?;
    }
    Ok(())
}

/// A command for people: one line.
pub fn command_line(step: &Step) -> String {
    shell_words(&step.words)
}

/// The address an installed definition serves on: the word after
/// `--addr`, whatever quoting or markup is around it.
pub fn installed_addr(definition: &str) -> Option<String> {
    let after = definition.split("--addr").nth(1)?;
    let start = after.find(|c: char| c.is_ascii_digit() || c == '[')?;
    let value: String = after[start..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || matches!(c, '.' | ':' | '[' | ']'))
        .collect();
    (!value.is_empty()).then_some(value)
}

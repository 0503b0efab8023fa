//! `serve --env-file FILE`: provider keys for a server started at login
//! (`gencost service install`), read from an owner-only file rather than
//! written into the service's definition. Read before anything else runs,
//! so the variables are there for every part of the command.

use crate::error::{Error, Result};
use std::path::Path;

/// The `NAME=value` pairs of the file, in order. Blank lines and `#`
/// comments are skipped; `export ` before a name and quotes around a value
/// are allowed. A line that is none of these is refused with its number.
pub fn parse(path: &Path, text: &str) -> Result<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    // A byte-order mark (Windows Notepad) is not part of the first name.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = || format!("{}, line {}", path.display(), index + 1);
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            return Err(Error::input(format!("{}: expected NAME=value", at())));
        };
        let name = name.trim();
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(Error::input(format!(
                "{}: '{name}' is not a variable name (letters, digits and _)",
                at()
            )));
        }
        let value = value.trim();
        // Quoted, the value is what is between the quotes; unquoted, a
        // ` #` starts a comment, as in a shell.
        let value = ['"', '\'']
            .iter()
            .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
            .unwrap_or_else(|| value.split(" #").next().unwrap_or(value).trim_end());
        if value.chars().any(|c| c.is_control()) {
            return Err(Error::input(format!(
                "{}: the value of {name} has a control character",
                at()
            )));
        }
        pairs.push((name.to_string(), value.to_string()));
    }
    Ok(pairs)
}

/// Sets the file's variables that the environment does not already set.
/// The file must be readable by its owner only: it holds keys.
pub fn load(path: &Path) -> Result<()> {
    let metadata = std::fs::metadata(path)
        .map_err(|e| Error::input(format!("--env-file: cannot read {}: {e}", path.display())))?;
    if !metadata.is_file() {
        return Err(Error::input(format!(
            "--env-file: {} is not a file",
            path.display()
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if metadata.permissions().mode() & 0o077 != 0 {
            return Err(Error::input(format!(
                "--env-file: {} can be read by other users and holds keys: chmod 600 it",
                path.display()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = metadata;
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::input(format!("--env-file: cannot read {}: {e}", path.display())))?;
    for (name, value) in parse(path, &text)? {
        if std::env::var_os(&name).is_none() {
            // Runs before the command starts any thread.
            std::env::set_var(name, value);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_values_comments_and_quotes() {
        let text = "# keys\n\nFAL_KEY=abc:def  # the studio's\nexport OTHER = \"two words # kept\"\nEMPTY=\nQUOTED='x=y'\nHASH=a#b\n";
        let pairs = parse(Path::new("service.env"), text).unwrap();
        assert_eq!(
            pairs,
            vec![
                ("FAL_KEY".into(), "abc:def".into()),
                ("OTHER".into(), "two words # kept".into()),
                ("EMPTY".into(), "".into()),
                ("QUOTED".into(), "x=y".into()),
                ("HASH".into(), "a#b".into()),
            ]
        );
    }

    #[test]
    fn a_bad_line_is_named_by_number() {
        let error = parse(Path::new("service.env"), "A=1\njust words\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "service.env, line 2: expected NAME=value"
        );
        let error = parse(Path::new("service.env"), "1A=1\n").unwrap_err();
        assert!(error
            .to_string()
            .contains("line 1: '1A' is not a variable name"));
    }
}

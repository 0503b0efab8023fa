//! Database locations: `sqlite:///path/ledger.db`, a plain file path, or
//! `postgres://user:password@host:port/db`. Passwords never reach output.

use std::fmt;
use std::path::PathBuf;

#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(text: &str) -> Result<DatabaseUrl, String> {
        let text = text.trim();
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(text.to_string()));
        }
        // A libpq keyword string (`host=db user=editor password=...`) is not
        // a path: taken as one, it would create a file named after the
        // password and leave the user on a private ledger unawares.
        if looks_like_keywords(text) {
            return Err(
                "this looks like a libpq connection string (key=value ...); give it as a URL: postgres://user:password@host:port/db"
                    .to_string(),
            );
        }
        let path = if let Some(rest) = text.strip_prefix("sqlite://") {
            rest
        } else if let Some(rest) = text.strip_prefix("sqlite:") {
            rest
        } else if text.contains("://") {
            let scheme = text.split("://").next().unwrap_or_default();
            return Err(format!(
                "unsupported database URL scheme '{scheme}': expected sqlite:///path/to/ledger.db or postgres://user@host:port/db"
            ));
        } else {
            text
        };
        // Drop any query string such as `?mode=rwc`: the store sets its own options.
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() {
            return Err("empty SQLite path in database URL".to_string());
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
    }

    pub fn backend(&self) -> &'static str {
        match self {
            DatabaseUrl::Sqlite(_) => "sqlite",
            DatabaseUrl::Postgres(_) => "postgres",
        }
    }
}

/// `host=... user=...`: words of the form key=value, the first key one
/// that libpq knows.
fn looks_like_keywords(text: &str) -> bool {
    const KEYS: &[&str] = &[
        "host", "hostaddr", "port", "dbname", "user", "password", "sslmode", "service",
    ];
    text.split_whitespace()
        .next()
        .and_then(|word| word.split_once('='))
        .is_some_and(|(key, _)| KEYS.contains(&key.to_lowercase().as_str()))
}

/// Whether a URL query parameter carries a credential.
fn is_secret_parameter(name: &str) -> bool {
    let name = name.to_lowercase();
    name.contains("password")
        || name.contains("key")
        || name.contains("secret")
        || name.contains("token")
}

/// The credentials in a URL: the user-info password and every query
/// parameter that carries one (`password=`, `sslpassword=`, `*key*`,
/// `*secret*`, `*token*`), as they appear in the text (and percent-decoded).
pub fn secrets_of(url: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    let Some((_, rest)) = url.split_once("://") else {
        return secrets;
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if let Some((user_info, _)) = authority.rsplit_once('@') {
        if let Some((_, password)) = user_info.split_once(':') {
            secrets.push(password.to_string());
        }
    }
    if let Some((_, query)) = rest.split_once('?') {
        for pair in query.split('&') {
            if let Some((name, value)) = pair.split_once('=') {
                if is_secret_parameter(name) {
                    secrets.push(value.to_string());
                }
            }
        }
    }
    let decoded: Vec<String> = secrets.iter().map(|s| percent_decoded(s)).collect();
    secrets.extend(decoded);
    secrets.retain(|s| !s.is_empty());
    // Longest first, so a secret that contains another is replaced whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.dedup();
    secrets
}

fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The URL with every credential replaced by `***`.
pub fn redact(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{user}:***@{host}")
        }
        _ => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((name, _)) if is_secret_parameter(name) => format!("{name}=***"),
                    _ => pair.to_string(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// `message` with every credential of `url` in it replaced by `***`.
pub fn redact_message(message: &str, url: &str) -> String {
    secrets_of(url)
        .iter()
        .fold(message.to_string(), |text, secret| {
            text.replace(secret.as_str(), "***")
        })
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sqlite_forms() {
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/a.db").unwrap(),
            DatabaseUrl::Sqlite("/tmp/a.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:rel.db").unwrap(),
            DatabaseUrl::Sqlite("rel.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("/tmp/b.db").unwrap(),
            DatabaseUrl::Sqlite("/tmp/b.db".into())
        );
        assert!(DatabaseUrl::parse("mysql://x").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        let url = DatabaseUrl::parse("postgres://editor:s3cret@db.studio:5432/ledger").unwrap();
        assert_eq!(
            url.to_string(),
            "postgres://editor:***@db.studio:5432/ledger"
        );
        assert_eq!(
            format!("{url:?}"),
            "postgres://editor:***@db.studio:5432/ledger"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
    }

    #[test]
    fn credentials_in_query_parameters_are_redacted() {
        let url = "postgres://u@db/ledger?sslmode=require&password=p%40ss&sslpassword=k2&api_key=k3&application_name=gencost";
        assert_eq!(
            redact(url),
            "postgres://u@db/ledger?sslmode=require&password=***&sslpassword=***&api_key=***&application_name=gencost"
        );
        let message = "auth failed for p@ss, p%40ss, k2 and k3";
        assert_eq!(
            redact_message(message, url),
            "auth failed for ***, ***, *** and ***"
        );
    }

    #[test]
    fn libpq_keyword_strings_are_refused_not_taken_as_paths() {
        let err = DatabaseUrl::parse("host=db.studio user=editor password=s3cret dbname=ledger")
            .unwrap_err();
        assert!(err.contains("postgres://"), "{err}");
        assert!(!err.contains("s3cret"));
        assert!(DatabaseUrl::parse("./my=odd name.db").is_ok());
    }
}

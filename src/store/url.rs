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

/// The password in a URL's user-info part, if any.
pub fn password_of(url: &str) -> Option<String> {
    let after_scheme = url.split_once("://")?.1;
    let authority = after_scheme.split(['/', '?']).next()?;
    let user_info = authority.rsplit_once('@')?.0;
    user_info.split_once(':').map(|(_, p)| p.to_string())
}

/// The URL with its password replaced by `***`.
pub fn redact(url: &str) -> String {
    if password_of(url).is_none() {
        return url.to_string();
    }
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let (user_info, host) = authority.rsplit_once('@').unwrap_or(("", authority));
    let user = user_info.split(':').next().unwrap_or_default();
    format!("{scheme}://{user}:***@{host}{path}")
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
}

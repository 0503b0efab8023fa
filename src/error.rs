//! The error of the service layer, shared by the CLI and the server. Each
//! variant carries what a user needs to act on it.

use crate::fx::FxError;
use crate::ledger::totals::TotalsError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input: a malformed value, an unknown name, a refused word.
    #[error("{0}")]
    Input(String),
    /// Bad input in one named input (a body field, a flag without its
    /// dashes), said in words every surface can show: a surface adds how to
    /// give it (`--currency` on the command line, a form field in the API).
    #[error("{field}: {message}")]
    Field {
        field: &'static str,
        message: String,
    },
    /// An amount typed by hand so large it is refused until confirmed
    /// (`--yes`, `"confirm_large": true`): the message names the figure and
    /// why it is large.
    #[error("{field}: {message}")]
    Unconfirmed {
        field: &'static str,
        message: String,
    },
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Totals(#[from] TotalsError),
    #[error(transparent)]
    Rate(#[from] FxError),
    #[error("{0}")]
    Io(String),
    /// Something outside gencost is not set up for this (no fal key, a key
    /// without the scope needed).
    #[error("{0}")]
    Unavailable(String),
    /// The reader of the output went away (e.g. `| head`): not a failure.
    #[error("the output was closed")]
    ClosedPipe,
}

impl Error {
    pub fn input(message: impl Into<String>) -> Error {
        Error::Input(message.into())
    }

    /// Bad input in the input named `field`.
    pub fn field(field: &'static str, message: impl Into<String>) -> Error {
        Error::Field {
            field,
            message: message.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

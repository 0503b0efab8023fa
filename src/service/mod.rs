//! Service functions: each capability of gencost, written once over
//! `trait Store` and called by both the command line and the server.

pub mod convert;
pub mod rates;
pub mod record;
pub mod totals;
pub mod transfer;
pub mod verify;

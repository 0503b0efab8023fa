//! gencost: the paper trail for AI generation costs.
//!
//! The library holds the domain (money, ledger), storage (`store`), the
//! service functions shared by every surface (`service`), the one client for
//! outgoing HTTP (`http`), the command line (`cli`) and the server with
//! the billing panel and the JSON API (`server`), and the files that put
//! it in Premiere Pro and start it at login (`install`). The `gencost` binary
//! is a thin wrapper around `cli::run`.

pub mod checkpoint;
pub mod cli;
pub mod config;
pub mod error;
pub mod export;
pub mod fal;
pub mod fx;
pub mod http;
pub mod import;
pub mod install;
pub mod ledger;
pub mod money;
pub mod pricing;
pub mod report;
pub mod server;
pub mod service;
pub mod store;
pub mod timestamp;
pub mod wire;

pub use error::{Error, Result};

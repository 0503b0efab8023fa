//! Service functions: each capability of gencost, written once over
//! `trait Store` and called by every surface (the command line now, the
//! server next). Every rule and decision lives here or in the domain below
//! it; a surface parses its input, calls one of these, and renders the typed
//! result.

pub mod accuracy;
pub mod active_tags;
pub mod batches;
pub mod budget;
pub mod checkpoint;
pub mod convert;
pub mod entries;
pub mod export;
pub mod fal;
pub mod filter;
pub mod import;
pub mod invoice;
pub mod large;
pub mod learned;
pub mod limits;
pub mod pool;
pub mod pricing;
pub mod provider;
pub mod provider_api;
pub mod providers;
pub mod rates;
pub mod record;
pub mod report;
pub mod reprice;
pub mod runs;
pub mod show;
pub mod tags;
pub mod totals;
pub mod transfer;
pub mod verify;
pub mod warning;
pub mod webhook;

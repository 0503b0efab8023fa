//! Exports of the ledger to files other programs read.

pub mod csv;
pub mod sorted;
pub mod xlsx;

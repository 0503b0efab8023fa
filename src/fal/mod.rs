//! fal.ai: what gencost knows of its wire — which targets the proxy may
//! forward to, how an upstream stand-in replaces them, what each request
//! is, and how billed units are priced. No I/O here.

pub mod billing;
pub mod call;
pub mod json;
pub mod target;

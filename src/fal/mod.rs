//! fal.ai: what gencost knows of its wire — which targets the proxy may
//! forward to, and how an upstream stand-in replaces them. No I/O here.

pub mod target;

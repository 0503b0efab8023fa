//! The HTML report: rendering a `service::report::Report` into one
//! self-contained file (`html`), the charts' SVG writer (`svg`), and the
//! invoice markup's arithmetic (`markup`), and the invoice in display
//! decimals that add up (`rounding`). No I/O beyond the writer given.

pub mod html;
pub mod invoice_doc;
pub mod invoice_layout;
pub mod markup;
pub mod rounding;
pub mod svg;

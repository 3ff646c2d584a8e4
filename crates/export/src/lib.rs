//! Exports of Tripwright plans and trip lists: Markdown, iCalendar (RFC 5545), a static SVG
//! route sketch and PDFs typeset with typst.
//!
//! The PDFs never splice user or model text into typst markup: the data travels as one JSON
//! string in `sys.inputs` and the templates read it with `json(...)`, so a stop called
//! `#panic("x")` is printed, not run.

mod fonts;
mod format;
mod ics;
mod markdown;
mod pdf;
mod svg;

pub use fonts::PdfFonts;
pub use ics::plan_ics;
pub use markdown::plan_markdown;
pub use pdf::{list_pdf, pdf_route_area, plan_pdf};
pub use svg::{route_area, route_svg};

/// What can go wrong while exporting.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// No usable font was found, or a font folder could not be read.
    #[error("fonts: {0}")]
    Fonts(String),
    /// typst failed to compile the document or to write the PDF.
    #[error("PDF typesetting failed: {0}")]
    Typst(String),
}

/// The attribution line printed on every plan export.
pub const ATTRIBUTION: &str = "Data: OpenStreetMap contributors (ODbL), GeoNames (CC BY 4.0), \
CHELSA climate; made with Tripwright";

/// The attribution of `plan`'s export: [`ATTRIBUTION`], with Wikipedia when a stop is
/// described from it.
pub fn attribution(plan: &tripwright_domain::Plan) -> String {
    let described = plan
        .itinerary
        .days
        .iter()
        .flat_map(|d| &d.stops)
        .any(|s| s.description.is_some());
    if described {
        format!("{ATTRIBUTION}; stop descriptions: Wikipedia (CC BY-SA 4.0)")
    } else {
        ATTRIBUTION.to_owned()
    }
}

//! The exports read back as a person and a program would: PDFs through pdftotext and
//! pdftoppm, ICS and Markdown as text. One test binary for the crate.

mod common;
mod list_pdf;
mod plan_exports;

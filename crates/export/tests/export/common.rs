//! Shared helpers of the export tests.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use tripwright_domain::Plan;
use tripwright_export::PdfFonts;

/// The DejaVu folder of Debian's fonts-dejavu-core.
pub const DEJAVU_DIR: &str = "/usr/share/fonts/truetype/dejavu";

/// A real plan printed by `tripwright plan --destination Helsinki --days 2 --no-llm --json`.
pub fn helsinki_plan() -> Plan {
    let text = include_str!("../fixtures/helsinki_plan.json");
    serde_json::from_str(text).expect("the fixture is a full Plan")
}

/// The fonts, loaded once for all tests of a binary.
pub fn fonts() -> PdfFonts {
    static FONTS: OnceLock<PdfFonts> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            PdfFonts::load(&[
                PathBuf::from(DEJAVU_DIR),
                PathBuf::from("/usr/share/fonts/truetype/noto"),
            ])
            .expect("DejaVu fonts are installed (apt-get install fonts-dejavu-core)")
        })
        .clone()
}

/// The text of a PDF as `pdftotext -layout` gives it (poppler-utils).
pub fn pdf_text(pdf: &[u8]) -> String {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let mut file = tempfile::Builder::new()
        .suffix(".pdf")
        .tempfile()
        .expect("temp file");
    file.write_all(pdf).expect("write PDF");
    file.flush().expect("flush PDF");
    let out = Command::new("pdftotext")
        .arg("-enc")
        .arg("UTF-8")
        .arg(file.path())
        .arg("-")
        .output()
        .expect("pdftotext runs (apt-get install poppler-utils)");
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("pdftotext prints UTF-8")
}

/// Number of pages of a PDF, from `pdfinfo`.
pub fn pdf_pages(pdf: &[u8]) -> usize {
    let mut file = tempfile::Builder::new()
        .suffix(".pdf")
        .tempfile()
        .expect("temp file");
    file.write_all(pdf).expect("write PDF");
    file.flush().expect("flush PDF");
    let out = Command::new("pdfinfo")
        .arg(file.path())
        .output()
        .expect("pdfinfo runs");
    let info = String::from_utf8_lossy(&out.stdout);
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("pdfinfo tells the page count")
}

/// Text with runs of whitespace (line breaks from the layout included) made single spaces.
pub fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

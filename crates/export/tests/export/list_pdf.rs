//! Trip-list PDFs read back with pdftotext and rendered with pdftoppm; font loading errors.

use std::path::PathBuf;
use std::process::Command;

use super::common::{DEJAVU_DIR, fonts, pdf_pages, pdf_text, squash};
use chrono::NaiveDate;
use tripwright_domain::{ItemId, ListItem, TripList};
use tripwright_export::{ExportError, PdfFonts, list_pdf};

const INJECTION: &str = r#"#panic("x") *bold* $math$ <script>"#;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 29).expect("valid date")
}

fn item(name: &str, home: u8, take: u8, taken: bool, position: i64) -> ListItem {
    ListItem {
        id: ItemId::new(format!("item-{position}")),
        name: name.into(),
        qty_home: home,
        qty_take: take,
        taken,
        position,
        version: 1,
    }
}

fn list(title: &str, items: Vec<ListItem>, notes: &str) -> TripList {
    TripList {
        id: "list-1".into(),
        title: title.into(),
        plan_id: None,
        notes: notes.into(),
        notes_saved_at: None,
        created_at: "2026-11-29T08:00:00Z".parse().expect("a time"),
        version: 3,
        items,
    }
}

#[test]
fn list_pdf_shows_items_progress_and_notes() {
    let l = list(
        "Packing for Helsinki",
        vec![
            item("Rain jacket", 1, 1, true, 1),
            item("Москва guidebook", 2, 1, false, 2),
            item("Café Ekberg voucher", 0, 3, true, 3),
            item(INJECTION, 0, 12, false, 4),
        ],
        "Check the ferry times.\n\nΚαλό ταξίδι! Bring cash for Café Ekberg.",
    );
    let pdf = list_pdf(&l, &fonts(), today()).expect("list PDF");
    let raw = pdf_text(&pdf);
    let text = squash(&raw);
    for expected in [
        "Packing for Helsinki",
        "29 November 2026",
        "Item",
        "At home",
        "To take",
        "Taken",
        "Rain jacket",
        "Москва guidebook",
        "Café Ekberg voucher",
        INJECTION,
        "2 out of 4 items taken (50%)",
        "Notes",
        "Check the ferry times.",
        "Καλό ταξίδι! Bring cash for Café Ekberg.",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from:\n{raw}");
    }
    assert_eq!(raw.matches('✓').count(), 2, "two items are taken:\n{raw}");
    assert_eq!(raw.matches('–').count(), 2, "two items are not:\n{raw}");
    assert!(!text.contains("Trip list"));
    // For a person to look at: `TRIPWRIGHT_EXPORT_SAMPLE_DIR=/tmp cargo test ...`.
    if let Some(dir) = std::env::var_os("TRIPWRIGHT_EXPORT_SAMPLE_DIR") {
        std::fs::write(PathBuf::from(dir).join("list.pdf"), &pdf).expect("write sample");
    }
}

#[test]
fn list_pdf_with_no_items() {
    let l = list("   ", Vec::new(), "");
    let pdf = list_pdf(&l, &fonts(), today()).expect("an empty list still typesets");
    let text = squash(&pdf_text(&pdf));
    assert!(text.contains("Trip list"), "the default title: {text}");
    assert!(text.contains("No items on this list yet."), "{text}");
    assert!(text.contains("0 out of 0 items taken (0%)"), "{text}");
    assert!(!text.contains("Notes"), "{text}");
    assert_eq!(pdf_pages(&pdf), 1);
}

#[test]
fn long_list_runs_over_pages_in_position_order() {
    let items: Vec<ListItem> = (0..90)
        .rev()
        .map(|i| item(&format!("Thing number {i:02}"), 1, 1, i % 3 == 0, i))
        .collect();
    let l = list("Long list", items, "");
    let pdf = list_pdf(&l, &fonts(), today()).expect("list PDF");
    assert!(pdf_pages(&pdf) >= 2);
    let text = squash(&pdf_text(&pdf));
    assert!(text.contains("30 out of 90 items taken (33%)"), "{text}");
    let first = text.find("Thing number 00").expect("first item");
    let last = text.find("Thing number 89").expect("last item");
    assert!(first < last, "items follow their position");
}

#[test]
fn list_pdf_draws_the_logo() {
    let l = list("Logo check", vec![item("Socks", 4, 2, false, 1)], "");
    let pdf = list_pdf(&l, &fonts(), today()).expect("list PDF");
    let dir = tempfile::tempdir().expect("temp dir");
    let pdf_path = dir.path().join("list.pdf");
    std::fs::write(&pdf_path, &pdf).expect("write PDF");
    let prefix = dir.path().join("page");
    let status = Command::new("pdftoppm")
        .args(["-r", "40", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&pdf_path)
        .arg(&prefix)
        .status()
        .expect("pdftoppm runs (poppler-utils)");
    assert!(status.success());
    let ppm = std::fs::read(dir.path().join("page.ppm")).expect("page image");
    let (w, h, pixels) = parse_ppm(&ppm);
    // The logo is a teal (#0f766e) square in the top-left corner of the page.
    let teal = (0..h / 5)
        .flat_map(|y| (0..w / 3).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let i = (y * w + x) * 3;
            let (r, g, b) = (pixels[i], pixels[i + 1], pixels[i + 2]);
            r < 60 && (90..150).contains(&g) && (80..140).contains(&b)
        })
        .count();
    assert!(teal > 50, "only {teal} logo pixels in the top-left corner");
}

#[test]
fn fonts_error_names_the_folders_and_the_package() {
    let empty = tempfile::tempdir().expect("temp dir");
    // A file that looks like a font by name but is not one.
    std::fs::write(empty.path().join("broken.ttf"), b"not a font").expect("write");
    let missing = PathBuf::from("/nonexistent/tripwright-fonts");
    let err =
        PdfFonts::load(&[empty.path().to_path_buf(), missing.clone()]).expect_err("no usable font");
    let ExportError::Fonts(msg) = &err else {
        panic!("expected a fonts error, got {err:?}");
    };
    assert!(msg.contains(&empty.path().display().to_string()), "{msg}");
    assert!(msg.contains(&missing.display().to_string()), "{msg}");
    assert!(msg.contains("apt-get install fonts-dejavu-core"), "{msg}");
}

#[test]
fn fonts_put_dejavu_sans_first() {
    let only_dejavu = PdfFonts::load(&[PathBuf::from(DEJAVU_DIR)]).expect("DejaVu is installed");
    assert_eq!(only_dejavu.families()[0], "DejaVu Sans");
    assert!(only_dejavu.face_count() >= 6);
    assert!(fonts().families().len() >= only_dejavu.families().len());
}

/// Reads a binary PPM (P6, maxval 255) as (width, height, RGB bytes).
fn parse_ppm(data: &[u8]) -> (usize, usize, &[u8]) {
    let mut fields = Vec::new();
    let mut pos = 0;
    while fields.len() < 4 {
        while data[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let start = pos;
        while !data[pos].is_ascii_whitespace() {
            pos += 1;
        }
        fields.push(std::str::from_utf8(&data[start..pos]).expect("ASCII header"));
    }
    pos += 1;
    assert_eq!(fields[0], "P6");
    assert_eq!(fields[3], "255");
    let w: usize = fields[1].parse().expect("width");
    let h: usize = fields[2].parse().expect("height");
    (w, h, &data[pos..pos + w * h * 3])
}

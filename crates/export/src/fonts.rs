//! Font loading for the PDFs.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use typst::foundations::Bytes;
use typst::text::Font;
use typst_as_lib::{TypstEngine, TypstTemplateMainFile};

use crate::ExportError;
use crate::pdf;

/// Families tried first, in this order, when they were loaded: DejaVu Sans covers Latin with
/// accents, Greek and Cyrillic; the Noto families cover most other scripts.
const PREFERRED_FAMILIES: [&str; 6] = [
    "DejaVu Sans",
    "Noto Sans",
    "Noto Sans CJK SC",
    "Noto Sans Arabic",
    "Noto Sans Hebrew",
    "Noto Sans Devanagari",
];

/// Deepest sub-folder level searched below each font folder.
const MAX_DEPTH: usize = 4;

/// Fonts for PDFs: every `.ttf`/`.otf` (and `.ttc` collection) in the given folders, e.g.
/// `/usr/share/fonts/truetype/dejavu` and `/usr/share/fonts/truetype/noto`.
///
/// Loaded once and shared: cloning is cheap (an [`Arc`] inside) and the value is `Send` and
/// `Sync`. The typst engines of the two PDF templates are built here too, so each export only
/// compiles.
#[derive(Clone)]
pub struct PdfFonts {
    inner: Arc<Inner>,
}

struct Inner {
    faces: usize,
    files: usize,
    families: Vec<String>,
    plan_engine: TypstEngine<TypstTemplateMainFile>,
    list_engine: TypstEngine<TypstTemplateMainFile>,
}

impl PdfFonts {
    /// Loads every font file in `dirs` (searched recursively, a few levels deep). Folders that
    /// do not exist are skipped.
    ///
    /// # Errors
    /// [`ExportError::Fonts`] when no font at all was found, naming the folders searched and
    /// the package that provides DejaVu.
    pub fn load(dirs: &[PathBuf]) -> Result<Self, ExportError> {
        let mut files = Vec::new();
        for dir in dirs {
            collect_font_files(dir, 0, &mut files);
        }
        files.sort();
        files.dedup();

        let mut fonts = Vec::new();
        let mut used_files = 0;
        for file in &files {
            let Ok(data) = std::fs::read(file) else {
                continue;
            };
            let before = fonts.len();
            fonts.extend(Font::iter(Bytes::new(data)));
            if fonts.len() > before {
                used_files += 1;
            }
        }
        if fonts.is_empty() {
            let searched = if dirs.is_empty() {
                "(no folder given)".to_owned()
            } else {
                dirs.iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(ExportError::Fonts(format!(
                "no usable font (.ttf, .otf) found in {searched}; install DejaVu with \
                 `apt-get install fonts-dejavu-core` (it goes to /usr/share/fonts/truetype/dejavu) \
                 or point the font folders at a folder that holds fonts"
            )));
        }

        let families = family_order(&fonts);
        let faces = fonts.len();
        let (plan_engine, list_engine) = pdf::build_engines(&fonts);
        Ok(Self {
            inner: Arc::new(Inner {
                faces,
                files: used_files,
                families,
                plan_engine,
                list_engine,
            }),
        })
    }

    /// Font families in the order the PDFs ask for them: DejaVu Sans first when present, then
    /// the other loaded families (typst falls back through them for missing glyphs).
    pub fn families(&self) -> &[String] {
        &self.inner.families
    }

    /// Number of font faces loaded.
    pub fn face_count(&self) -> usize {
        self.inner.faces
    }

    pub(crate) fn plan_engine(&self) -> &TypstEngine<TypstTemplateMainFile> {
        &self.inner.plan_engine
    }

    pub(crate) fn list_engine(&self) -> &TypstEngine<TypstTemplateMainFile> {
        &self.inner.list_engine
    }
}

impl fmt::Debug for PdfFonts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PdfFonts")
            .field("files", &self.inner.files)
            .field("faces", &self.inner.faces)
            .field("families", &self.inner.families)
            .finish()
    }
}

fn is_font_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["ttf", "otf", "ttc", "otc"].contains(&e.to_ascii_lowercase().as_str()))
}

fn collect_font_files(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if depth < MAX_DEPTH {
                collect_font_files(&path, depth + 1, out);
            }
        } else if is_font_file(&path) {
            out.push(path);
        }
    }
}

fn family_order(fonts: &[Font]) -> Vec<String> {
    let loaded: BTreeSet<String> = fonts.iter().map(|f| f.info().family.clone()).collect();
    let mut order: Vec<String> = PREFERRED_FAMILIES
        .iter()
        .filter(|f| loaded.contains(**f))
        .map(|f| (*f).to_owned())
        .collect();
    for family in &loaded {
        if !order.contains(family) {
            order.push(family.clone());
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_fonts_is_shareable() {
        fn assert_send_sync_clone<T: Send + Sync + Clone>() {}
        assert_send_sync_clone::<PdfFonts>();
    }

    #[test]
    fn font_extensions() {
        assert!(is_font_file(Path::new("/x/DejaVuSans.ttf")));
        assert!(is_font_file(Path::new("/x/A.OTF")));
        assert!(!is_font_file(Path::new("/x/readme.txt")));
        assert!(!is_font_file(Path::new("/x/ttf")));
    }
}

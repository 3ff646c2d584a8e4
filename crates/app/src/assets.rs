//! Where the fetched assets live inside the assets directory (the layout written by
//! `scripts/fetch_assets.sh`), and a check that names what is missing.

use std::path::{Path, PathBuf};

use crate::AppError;

/// Paths of the assets under one assets directory.
#[derive(Debug, Clone)]
pub struct AssetPaths {
    root: PathBuf,
}

impl AssetPaths {
    /// The layout under `root`.
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
        }
    }

    /// GeoNames `cities15000.json` and `countries.json`.
    pub fn geonames_dir(&self) -> PathBuf {
        self.root.join("data/geonames")
    }

    /// The three climate CSVs.
    pub fn climate_dir(&self) -> PathBuf {
        self.root.join("data/climate")
    }

    /// all-MiniLM-L6-v2.
    pub fn minilm_dir(&self) -> PathBuf {
        self.root.join("models/all-MiniLM-L6-v2")
    }

    /// The demo extract imported into an empty store.
    pub fn demo_osm(&self) -> PathBuf {
        self.root.join("data/osm/Helsinki.osm.pbf")
    }

    /// Fails with the list of missing files when an asset the planner needs is absent.
    pub fn require_core(&self) -> Result<(), AppError> {
        let needed = [
            self.geonames_dir().join("cities15000.json"),
            self.geonames_dir().join("countries.json"),
            self.climate_dir().join("world-temperature.csv"),
            self.climate_dir().join("world-rainfall.csv"),
            self.climate_dir().join("sunshine-hours.csv"),
            self.minilm_dir().join("model.safetensors"),
            self.minilm_dir().join("tokenizer.json"),
            self.minilm_dir().join("config.json"),
            self.demo_osm(),
        ];
        let missing: Vec<String> = needed
            .iter()
            .filter(|p| !p.is_file())
            .map(|p| p.display().to_string())
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(AppError::MissingAssets {
                root: self.root.clone(),
                missing,
            })
        }
    }
}

//! The fetched assets (`scripts/fetch_assets.sh`): `TRIPWRIGHT_ASSETS_DIR`, else the
//! repository's `assets/`. A missing asset fails the test with the command that fetches it.

use std::path::{Path, PathBuf};

/// The assets directory, checked to hold the demo extract.
pub fn assets_dir() -> PathBuf {
    let dir = std::env::var_os("TRIPWRIGHT_ASSETS_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets"),
        PathBuf::from,
    );
    assert!(
        dir.join("data/osm/Helsinki.osm.pbf").is_file(),
        "assets missing in {}: run scripts/fetch_assets.sh",
        dir.display()
    );
    dir
}

/// An asset file by its path under the assets directory, checked to exist.
pub fn asset(relative: &str) -> PathBuf {
    let path = assets_dir().join(relative);
    assert!(
        path.is_file(),
        "missing {}: run scripts/fetch_assets.sh",
        path.display()
    );
    path
}

/// SmolLM2-135M-Instruct, the small real model of the tests.
pub fn smollm2() -> PathBuf {
    asset("models/SmolLM2-135M-Instruct.Q4_1.gguf")
}

/// Qwen2.5-Coder-0.5B-Instruct, the default model.
pub fn qwen() -> PathBuf {
    asset("models/qwen2.5-coder-0.5b-instruct.gguf")
}

/// The repository's root (for schema files, docs and fixtures).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

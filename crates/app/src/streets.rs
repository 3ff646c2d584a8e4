//! The street map of the imported regions: basemap tiles for the web maps, and the street
//! graph the walking routes follow.
//!
//! Tiles are drawn on demand from the store and kept in a bounded in-memory cache (a drawn
//! tile is 20–120 KB and takes 10–40 ms); browsers keep them too (`Cache-Control`). Each
//! region's street graph is built the first time a plan there needs it and kept.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::{Arc, Mutex};

use tokio::sync::RwLock;
use tripwright_domain::{BBox, GeoPoint, MapFeature, MapLayer};
use tripwright_map::route::StreetGraph;
use tripwright_map::tiles::{self, Renderer, TileId};
use tripwright_store::{MapRegion, MapStore};

use crate::AppError;

/// Tiles kept in memory: 2,048 × ~60 KB ≈ 120 MB at most.
const CACHED_TILES: usize = 2048;

/// Pixels around a tile whose features are still drawn (wide streets and casings crossing
/// its edge).
const TILE_MARGIN_PX: f64 = 16.0;

/// A drawn tile, and whether it holds map data (an empty one is transparent).
#[derive(Debug, Clone)]
pub struct Tile {
    /// The PNG.
    pub png: Arc<Vec<u8>>,
    /// Whether any region's data is on it.
    pub drawn: bool,
}

/// The street map: tiles and street graphs. Cheap to share.
pub struct StreetMap {
    store: Arc<dyn MapStore>,
    renderer: Renderer,
    empty: Arc<Vec<u8>>,
    tiles: Mutex<lru::LruCache<TileId, Tile>>,
    regions: RwLock<Option<Arc<Vec<MapRegion>>>>,
    graphs: RwLock<HashMap<String, Arc<StreetGraph>>>,
}

impl StreetMap {
    /// The street map over `store`, labelling with the fonts in `font_dirs`.
    pub fn new(store: Arc<dyn MapStore>, font_dirs: &[std::path::PathBuf]) -> Self {
        Self {
            store,
            renderer: Renderer::new(font_dirs),
            empty: Arc::new(tiles::empty_png()),
            tiles: Mutex::new(lru::LruCache::new(
                NonZeroUsize::new(CACHED_TILES).unwrap_or(NonZeroUsize::MIN),
            )),
            regions: RwLock::new(None),
            graphs: RwLock::new(HashMap::new()),
        }
    }

    /// The regions with a street map (read once, until the next import).
    pub async fn regions(&self) -> Result<Arc<Vec<MapRegion>>, AppError> {
        if let Some(r) = self.regions.read().await.as_ref() {
            return Ok(Arc::clone(r));
        }
        let loaded = Arc::new(self.store.map_regions().await?);
        *self.regions.write().await = Some(Arc::clone(&loaded));
        Ok(loaded)
    }

    /// Forgets what was read and drawn: after an import or a removal.
    pub async fn invalidate(&self) {
        *self.regions.write().await = None;
        self.graphs.write().await.clear();
        if let Ok(mut tiles) = self.tiles.lock() {
            tiles.clear();
        }
    }

    /// Stores `features` as the street map of `source` over `extent` (replacing what it had;
    /// none removes it), and forgets what was drawn; how many features.
    pub async fn replace(
        &self,
        source: &str,
        extent: BBox,
        features: &[MapFeature],
    ) -> Result<usize, AppError> {
        let stored = if features.is_empty() {
            self.store.delete_map(source).await?;
            0
        } else {
            self.store.replace_map(source, extent, features).await?
        };
        self.invalidate().await;
        Ok(stored)
    }

    /// Removes the street map of `source`; how many features.
    pub async fn remove(&self, source: &str) -> Result<u64, AppError> {
        let removed = self.store.delete_map(source).await?;
        self.invalidate().await;
        Ok(removed)
    }

    /// The water, parks, squares and streets in `area`, for a printed sketch of a plan (none
    /// where no region has a street map; a store failure is logged and draws none).
    pub async fn sketch_features(&self, area: BBox) -> Vec<MapFeature> {
        let covered = self
            .regions()
            .await
            .is_ok_and(|r| r.iter().any(|r| r.extent.intersects(&area)));
        if !covered {
            return Vec::new();
        }
        let layers = [
            MapLayer::Water,
            MapLayer::Land,
            MapLayer::Green,
            MapLayer::Square,
            MapLayer::Road,
        ];
        self.store
            .map_features(area, &layers)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "the street map could not be read for a sketch");
                Vec::new()
            })
    }

    /// The tile `z`/`x`/`y`, or `None` when no such tile is drawn (outside the grid, or a
    /// zoom the basemap does not draw).
    pub async fn tile(&self, z: u8, x: u32, y: u32) -> Result<Option<Tile>, AppError> {
        let Some(id) = TileId::new(z, x, y) else {
            return Ok(None);
        };
        if let Some(t) = self.tiles.lock().ok().and_then(|mut c| c.get(&id).cloned()) {
            return Ok(Some(t));
        }
        let area = id.bbox(TILE_MARGIN_PX);
        let regions: Vec<_> = self
            .regions()
            .await?
            .iter()
            .map(|r| r.extent)
            .filter(|e| e.intersects(&area))
            .collect();
        let tile = if regions.is_empty() {
            Tile {
                png: Arc::clone(&self.empty),
                drawn: false,
            }
        } else {
            let features = self.store.map_features(area, &tiles::layers_at(z)).await?;
            let renderer = self.renderer.clone();
            let png = tokio::task::spawn_blocking(move || renderer.png(id, &regions, &features))
                .await
                .map_err(|e| AppError::Internal(format!("the map tile worker failed: {e}")))?
                .map_err(|e| AppError::Internal(e.to_string()))?;
            Tile {
                png: Arc::new(png),
                drawn: true,
            }
        };
        if let Ok(mut cache) = self.tiles.lock() {
            cache.put(id, tile.clone());
        }
        Ok(Some(tile))
    }

    /// The street graph of the region around `p`, built on first use; `None` where no
    /// region with a street map covers `p`.
    pub async fn graph_near(&self, p: GeoPoint) -> Option<Arc<StreetGraph>> {
        let regions = self.regions().await.ok()?;
        let region = regions.iter().find(|r| r.extent.contains(p))?;
        if let Some(g) = self.graphs.read().await.get(&region.source) {
            return Some(Arc::clone(g));
        }
        let roads = self
            .store
            .map_features(region.extent, &[MapLayer::Road])
            .await
            .ok()?;
        let graph = tokio::task::spawn_blocking(move || StreetGraph::build(&roads))
            .await
            .ok()?;
        let graph = Arc::new(graph);
        self.graphs
            .write()
            .await
            .insert(region.source.clone(), Arc::clone(&graph));
        Some(graph)
    }
}

#[async_trait::async_trait]
impl tripwright_agents::streets::Streets for StreetMap {
    async fn graph_near(&self, p: GeoPoint) -> Option<Arc<StreetGraph>> {
        StreetMap::graph_near(self, p).await
    }
}

/// Imports the street map of the extract at `path` into `store` as `source`; how many
/// features.
pub(crate) async fn import_map(
    store: &dyn MapStore,
    path: &Path,
    source: &str,
) -> Result<usize, AppError> {
    let p = path.to_path_buf();
    let map = tokio::task::spawn_blocking(move || tripwright_data::osm_map::import_map(&p))
        .await
        .map_err(|e| AppError::Internal(format!("the map import worker failed: {e}")))?
        .map_err(|e| AppError::Startup(e.to_string()))?;
    let Some(extent) = map.extent else {
        return Ok(0);
    };
    Ok(store.replace_map(source, extent, &map.features).await?)
}

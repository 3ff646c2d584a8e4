//! Loading the shipped data: the GeoNames gazetteer (geocoding), the climate normals, and
//! OpenStreetMap extracts (places: hotels, attractions, artworks, food, grocery shops).

pub mod climate;
pub mod gazetteer;
pub mod osm;

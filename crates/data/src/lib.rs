//! Loading the shipped data: the GeoNames gazetteer (geocoding), the climate normals, and
//! OpenStreetMap extracts (places: hotels, attractions, artworks, food, grocery shops; and
//! the street map: streets, water, the sea, parks, buildings).

pub mod climate;
pub mod gazetteer;
pub mod osm;
pub mod osm_map;

//! The street map of the regions with place data: basemap tiles drawn from the OpenStreetMap
//! features the import keeps ([`tiles`]), and walking routes along the streets ([`route`]).

pub mod route;
pub mod tiles;

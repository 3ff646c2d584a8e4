//! The shipped data read as the planner reads it, in one test binary: the GeoNames gazetteer
//! ([`gazetteer`]) and the OpenStreetMap import against the peer parser's reference ([`osm`]).

mod gazetteer;
mod osm;

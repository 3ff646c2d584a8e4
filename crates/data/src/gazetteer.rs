//! GeoNames gazetteer and geocoding.

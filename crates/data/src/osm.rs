//! OpenStreetMap PBF import.

//! Machine learning in Rust: all-MiniLM-L6-v2 sentence embeddings (candle) and a random
//! forest regressor for the weather model.

pub mod embedding;
pub mod forest;

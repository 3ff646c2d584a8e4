//! The store against real SQLite files in temporary folders. One test binary for the crate.

mod common;
mod jobs;
mod lists;
mod map;
mod sqlite;
mod versions;

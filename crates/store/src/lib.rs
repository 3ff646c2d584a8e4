//! Storage trait and its SQLite backend.

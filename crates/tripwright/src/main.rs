//! The `tripwright` binary.
fn main() {}

//! The embedded engine's benchmark without the rest of the binary (`tripwright bench llm` runs
//! the same), quick to build when trying llama.cpp build options:
//! `cargo run --release -p tripwright-llm --example bench_llm -- [MODEL.gguf] [THREADS]`
//! (default: the Qwen model in the assets, all cores).

use std::path::PathBuf;

use tripwright_llm::engine::{BenchOptions, bench_llm};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let model = args.next().map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../assets/models/qwen2.5-coder-0.5b-instruct.gguf"
            ))
        },
        PathBuf::from,
    );
    let mut options = BenchOptions::new(model);
    if let Some(threads) = args.next() {
        options.threads = threads.parse()?;
    }
    println!("{}", bench_llm(&options).await?);
    Ok(())
}

//! The `tripwright` binary: a thin clap layer over the library crates.

mod bench;
mod cli;
mod durability;
mod eval;
mod loadgen;
mod observe;
mod planload;
mod render;
mod streams;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            cli::print_error(&e);
            ExitCode::FAILURE
        }
    }
}

//! Writes every export of a plan JSON (as printed by `tripwright plan --json`) to a folder:
//! `plan.md`, `plan.ics`, `route.svg` and `plan.pdf`.
//!
//! `cargo run -p tripwright-export --example export_plan -- PLAN.json OUT_DIR [FONT_DIR...]`

use std::path::PathBuf;
use std::process::ExitCode;

use tripwright_export::{PdfFonts, plan_ics, plan_markdown, plan_pdf, route_svg};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(plan_path), Some(out_dir)) = (args.first(), args.get(1)) else {
        eprintln!("usage: export_plan PLAN.json OUT_DIR [FONT_DIR...]");
        return ExitCode::FAILURE;
    };
    let font_dirs: Vec<PathBuf> = if args.len() > 2 {
        args[2..].iter().map(PathBuf::from).collect()
    } else {
        vec![PathBuf::from("/usr/share/fonts/truetype/dejavu")]
    };
    match run(plan_path, out_dir, &font_dirs) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(plan_path: &str, out_dir: &str, font_dirs: &[PathBuf]) -> Result<(), String> {
    let text =
        std::fs::read_to_string(plan_path).map_err(|e| format!("cannot read {plan_path}: {e}"))?;
    let plan =
        serde_json::from_str(&text).map_err(|e| format!("{plan_path} is not a plan: {e}"))?;
    let out = PathBuf::from(out_dir);
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {out_dir}: {e}"))?;
    let fonts = PdfFonts::load(font_dirs).map_err(|e| e.to_string())?;
    let pdf = plan_pdf(&plan, &fonts, &[]).map_err(|e| e.to_string())?;
    let files: [(&str, Vec<u8>); 4] = [
        ("plan.md", plan_markdown(&plan).into_bytes()),
        ("plan.ics", plan_ics(&plan).into_bytes()),
        ("route.svg", route_svg(&plan, 720, 480, &[]).into_bytes()),
        ("plan.pdf", pdf),
    ];
    for (name, bytes) in files {
        let path = out.join(name);
        std::fs::write(&path, bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}

//! `tripwright eval`: runs a suite through the application layer's evaluation and prints the
//! report as a table or JSON, writes an HTML report beside each plan's JSON, and checks the
//! totals against thresholds.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result, bail};
use tripwright_app::App;
use tripwright_app::eval::{
    CaseResult, Outcome, Report, Thresholds, Totals, parse_suite, run_suite,
};
use tripwright_config::{Config, LlmProvider, Secrets};

use crate::cli::EvalArgs;

/// Runs `tripwright eval`.
pub async fn run(mut config: Config, secrets: &Secrets, args: EvalArgs) -> Result<()> {
    let text = std::fs::read_to_string(&args.suite)
        .with_context(|| format!("cannot read the suite {}", args.suite.display()))?;
    let mut cases = parse_suite(&text)
        .map_err(|e| anyhow::anyhow!("{} is not a suite: {e}", args.suite.display()))?;
    if let Some(n) = args.limit {
        cases.truncate(n);
    }
    let thresholds: Option<Thresholds> = match &args.thresholds {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Some(toml::from_str(&text).with_context(|| format!("{} is invalid", path.display()))?)
        }
        None => None,
    };
    if args.no_llm {
        config.llm.provider = LlmProvider::Off;
    }
    eprintln!("Loading data and models…");
    let (app, _) = App::load(config, secrets).await?;
    let n = cases.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let report = run_suite(&app, &cases, |r| {
        let i = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        eprintln!("[{i}/{n}] {}", case_line(r));
    })
    .await;
    app.close().await?;
    if let Some(dir) = &args.out {
        write_report(dir, &report)?;
        eprintln!("report: {}", dir.join("report.html").display());
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", table(&report))?;
    }
    if let Some(t) = thresholds {
        let misses = t.misses(&report.totals);
        if !misses.is_empty() {
            bail!(
                "the suite falls short of its thresholds: {}",
                misses.join("; ")
            );
        }
        eprintln!("every threshold is met");
    }
    Ok(())
}

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

/// One line per case: outcome, checks, constraints, expectations, prose flaws, time.
fn case_line(r: &CaseResult) -> String {
    let failed = |v: &[tripwright_app::eval::Verdict]| {
        v.iter()
            .filter(|c| !c.passed)
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    let outcome = match &r.outcome {
        Outcome::Plan { .. } if r.final_pass() => "pass".to_owned(),
        Outcome::Plan { .. } => "plan".to_owned(),
        Outcome::Refused { code, .. } => format!("refused:{code}"),
        Outcome::Failed { .. } => "FAILED".to_owned(),
    };
    let mut line = format!("{:<28} {:<26}", r.id, outcome);
    for (label, v) in [
        ("checks", &r.checks),
        ("hard", &r.hard),
        ("expect", &r.expectations),
    ] {
        let f = failed(v);
        if !f.is_empty() {
            let _ = write!(line, " {label}✗{f}");
        }
    }
    if r.prose.stops > 0 {
        let _ = write!(
            line,
            " prose {} flaw(s)/{} sentence(s)",
            r.prose.findings.len(),
            r.prose.sentences
        );
    }
    let _ = write!(line, " {:.1}s", r.seconds);
    line
}

fn totals_rows(t: &Totals) -> Vec<(String, String)> {
    let mut rows = vec![
        ("cases".to_owned(), t.cases.to_string()),
        ("model".to_owned(), t.model.clone()),
        ("delivery rate".to_owned(), pct(t.delivery_rate)),
        ("micro pass rate".to_owned(), pct(t.micro_pass_rate)),
        ("macro pass rate".to_owned(), pct(t.macro_pass_rate)),
        ("final pass rate".to_owned(), pct(t.final_pass_rate)),
        ("expectations met".to_owned(), pct(t.expectations_met)),
        ("plans with prose".to_owned(), t.prose_plans.to_string()),
        ("prose pass rate".to_owned(), pct(t.prose_pass_rate)),
    ];
    for (name, rate) in &t.prose_rates {
        let count = t.prose_counts.get(name).copied().unwrap_or_default();
        rows.push((
            format!("prose: {name}"),
            format!("{} ({count})", pct(*rate)),
        ));
    }
    rows.push((
        "mean seconds per plan".to_owned(),
        format!("{:.1}", t.mean_seconds),
    ));
    rows
}

/// The report as text: a line per case, then the totals.
pub fn table(report: &Report) -> String {
    let mut s = String::new();
    for r in &report.cases {
        let _ = writeln!(s, "{}", case_line(r));
    }
    let _ = writeln!(s);
    for (name, value) in totals_rows(&report.totals) {
        let _ = writeln!(s, "{name:<28} {value}");
    }
    s
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A file name for a case's plan.
fn plan_file(id: &str) -> String {
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("plans/{safe}.json")
}

/// Writes report.html, report.json and plans/<case>.json into `dir`.
fn write_report(dir: &Path, report: &Report) -> Result<()> {
    std::fs::create_dir_all(dir.join("plans"))
        .with_context(|| format!("cannot make {}", dir.display()))?;
    std::fs::write(dir.join("report.json"), serde_json::to_vec_pretty(report)?)?;
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Tripwright eval</title>\
         <style>body{font:14px system-ui;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}.bad{color:#a00}.ok{color:#060}</style></head><body><h1>Tripwright eval</h1><table>",
    );
    for (name, value) in totals_rows(&report.totals) {
        let _ = write!(
            html,
            "<tr><th>{}</th><td>{}</td></tr>",
            esc(&name),
            esc(&value)
        );
    }
    html.push_str("</table><h2>Cases</h2><table><tr><th>case</th><th>outcome</th><th>failures</th><th>prose flaws</th><th>s</th></tr>");
    for r in &report.cases {
        let link = match &r.plan {
            Some(plan) => {
                let file = plan_file(&r.id);
                std::fs::write(dir.join(&file), serde_json::to_vec_pretty(plan)?)?;
                format!("<a href=\"{file}\">{}</a>", esc(&r.id))
            }
            None => esc(&r.id),
        };
        let outcome = match &r.outcome {
            Outcome::Plan { .. } if r.final_pass() && r.met() => {
                "<span class=ok>pass</span>".to_owned()
            }
            Outcome::Plan { .. } => "plan".to_owned(),
            Outcome::Refused { code, message } => {
                format!("refused <code>{}</code>: {}", esc(code), esc(message))
            }
            Outcome::Failed { message } => {
                format!("<span class=bad>failed</span>: {}", esc(message))
            }
        };
        let failures: Vec<String> = r
            .checks
            .iter()
            .chain(&r.hard)
            .chain(&r.expectations)
            .filter(|v| !v.passed)
            .map(|v| format!("<b>{}</b>: {}", esc(&v.name), esc(&v.detail)))
            .collect();
        let flaws: Vec<String> = r
            .prose
            .findings
            .iter()
            .map(|f| {
                format!(
                    "<b>{}</b> ({}): {}",
                    f.flaw.as_str(),
                    esc(&f.place),
                    esc(&f.text)
                )
            })
            .collect();
        let _ = write!(
            html,
            "<tr><td>{link}</td><td>{outcome}</td><td class=bad>{}</td><td>{}</td><td>{:.1}</td></tr>",
            failures.join("<br>"),
            flaws.join("<br>"),
            r.seconds
        );
    }
    html.push_str("</table></body></html>\n");
    std::fs::write(dir.join("report.html"), html)?;
    Ok(())
}

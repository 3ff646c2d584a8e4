//! Markdown export of a plan.

use std::fmt::Write as _;

use tripwright_domain::Plan;

use crate::attribution;
use crate::format::{
    amount, budget_verdict, hotel_line, kind_with_place, long_date, recommended_hotel, stop_time,
    trip_line, trip_title, walk_text,
};

/// The plan as Markdown: a title, the dates, the best months, the hotel, one `##` heading per
/// day with its stops, a cost table, the checks and warnings, and the attribution.
///
/// Text from the plan is escaped so that names such as `*Café*` or `a | b` show literally and
/// cannot break the tables or inject links or HTML.
pub fn plan_markdown(plan: &Plan) -> String {
    let mut md = String::new();
    let currency = plan.summary.cost.currency.as_str();
    // `write!` into a String cannot fail.
    let _ = writeln!(md, "# {}\n", esc(&trip_title(plan)));
    let _ = writeln!(md, "{}\n", esc(&trip_line(plan)));
    let summary = plan.summary.text.trim();
    if !summary.is_empty() {
        let _ = writeln!(md, "{}\n", esc_block(summary));
    }

    let top: Vec<_> = plan.best_months.iter().take(3).collect();
    if !top.is_empty() {
        md.push_str("## Best months\n\n");
        for (i, m) in top.iter().enumerate() {
            let _ = writeln!(
                md,
                "{}. **{}** — score {:.0}/100: {}",
                i + 1,
                esc(&m.name),
                m.score,
                esc(&m.reason)
            );
        }
        md.push('\n');
    }

    if let Some(hotel) = recommended_hotel(plan) {
        md.push_str("## Hotel\n\n");
        let _ = writeln!(md, "**{}**  ", esc(&hotel.name));
        let _ = writeln!(md, "{}\n", esc(&hotel_line(hotel, currency)));
        let desc = hotel.description.trim();
        if !desc.is_empty() {
            let _ = writeln!(md, "{}\n", esc_block(desc));
        }
    }

    for day in &plan.itinerary.days {
        let title = day.title.trim();
        if title.is_empty() {
            let _ = writeln!(md, "## Day {} — {}\n", day.day, long_date(day.date));
        } else {
            let _ = writeln!(
                md,
                "## Day {} — {}: {}\n",
                day.day,
                long_date(day.date),
                esc(title)
            );
        }
        let intro = day.intro.trim();
        if !intro.is_empty() {
            let _ = writeln!(md, "{}\n", esc_block(intro));
        }
        if day.stops.is_empty() {
            md.push_str("_No stops planned._\n\n");
            continue;
        }
        for stop in &day.stops {
            let _ = write!(
                md,
                "- **{}** {} — {}",
                stop_time(stop),
                esc(&stop.name),
                esc(&kind_with_place(stop))
            );
            let walk = walk_text(stop);
            if !walk.is_empty() {
                let _ = write!(md, "; {walk}");
            }
            md.push('\n');
            let note = stop.note.trim();
            if !note.is_empty() {
                let _ = writeln!(md, "  {}", esc(&one_line(note)));
            }
            if let Some(d) = &stop.description {
                let _ = writeln!(
                    md,
                    "  {} ([Wikipedia](<{}>))",
                    esc(&one_line(&d.text)),
                    d.url.replace(['<', '>', '\n'], "")
                );
            }
            if let Some(hours) = stop.opening_hours.as_deref().map(str::trim)
                && !hours.is_empty()
            {
                let _ = writeln!(
                    md,
                    "  {}",
                    esc(&tripwright_domain::hours_in_words(
                        hours,
                        chrono::Datelike::weekday(&day.date)
                    ))
                );
            }
        }
        if day.walk_km.is_finite() && day.walk_km > 0.0 {
            let _ = writeln!(md, "\nWalking: {:.1} km, hotel to hotel.", day.walk_km);
        }
        md.push('\n');
    }

    let cost = &plan.summary.cost;
    let estimated = if cost.estimated { " (estimated)" } else { "" };
    let _ = writeln!(md, "## Cost{estimated}\n");
    let cur = esc(currency);
    let _ = writeln!(md, "| Item | Amount ({cur}) | |");
    md.push_str("| --- | ---: | --- |\n");
    for l in &cost.lines {
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            esc(&one_line(&l.label)),
            amount(l.amount, &cost.currency),
            if l.estimated { "estimated" } else { "" }
        );
    }
    let _ = writeln!(
        md,
        "| **Total** | **{}** | |",
        amount(cost.total, &cost.currency)
    );
    if let Some(budget) = cost.budget {
        let _ = writeln!(
            md,
            "| Budget | {} | {} |",
            amount(budget, &cost.currency),
            esc(&budget_verdict(plan))
        );
    }
    md.push('\n');
    if cost.estimated {
        md.push_str(
            "Amounts marked estimated come from the configured price tables, not from real \
             rates.\n\n",
        );
    }

    if !plan.checks.is_empty() {
        md.push_str("## Checks\n\n");
        for c in &plan.checks {
            let _ = writeln!(
                md,
                "- {} **{}**: {}",
                if c.passed { "✓" } else { "✗" },
                esc(&tripwright_domain::check_title(&c.name)),
                esc(&one_line(&c.detail))
            );
        }
        md.push('\n');
    }

    if !plan.warnings.is_empty() {
        md.push_str("## Warnings\n\n");
        for w in &plan.warnings {
            let _ = writeln!(
                md,
                "- {}",
                esc(&tripwright_domain::capitalised(&one_line(w)))
            );
        }
        md.push('\n');
    }

    md.push_str("---\n\n");
    if let Some(sources) = tripwright_domain::sources_sentence(&plan.sources) {
        let _ = writeln!(md, "{}\n", esc(&sources));
    }
    let _ = writeln!(md, "{}", esc(&attribution(plan)));
    md
}

/// Newlines and other control characters become spaces.
fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_control())
        .filter(|p| !p.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Escapes text for inline Markdown (also safe inside table cells): only the characters that
/// can start markup there (brackets and parentheses are harmless once `[` is escaped, so
/// "Sight (museum)" stays as it reads).
fn esc(s: &str) -> String {
    let s = one_line(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '$'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    // A leading "-", "+" or "#" would start a list or a heading, and so would "1." at the start
    // of a block.
    if let Some(first) = out.chars().next()
        && matches!(first, '-' | '+' | '#')
    {
        out.insert(0, '\\');
    }
    let digits = out.chars().take_while(char::is_ascii_digit).count();
    let rest = &out[digits..];
    if digits > 0
        && rest.starts_with('.')
        && rest[1..].chars().next().is_none_or(char::is_whitespace)
    {
        out.insert(digits, '\\');
    }
    out
}

/// Escapes a block of prose: paragraphs are kept, each escaped as inline text.
fn esc_block(s: &str) -> String {
    s.split("\n\n")
        .map(esc)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markdown() {
        assert_eq!(esc("a | b"), "a \\| b");
        assert_eq!(esc("*bold* [x](y)"), "\\*bold\\* \\[x\\](y)");
        assert_eq!(esc("Sight (museum)!"), "Sight (museum)!");
        assert_eq!(esc("# Title"), "\\# Title");
        assert_eq!(esc("<script>"), "\\<script\\>");
        assert_eq!(esc("- item"), "\\- item");
        assert_eq!(esc("two\nlines"), "two lines");
        assert_eq!(esc("1. first"), "1\\. first");
        assert_eq!(esc("110.00 EUR"), "110.00 EUR");
    }
}

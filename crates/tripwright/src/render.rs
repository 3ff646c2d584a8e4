//! Human-readable output of plans, months and progress events.

use std::fmt::Write;

use tripwright_app::{AgentEvent, AgentStatus};
use tripwright_domain::Money;
use tripwright_domain::{MonthScore, Plan, StopKind};

/// One progress line for stderr.
pub fn event_line(ev: &AgentEvent) -> String {
    let name = ev.agent.as_str();
    match &ev.status {
        AgentStatus::Started => format!("  … {name} agent running"),
        AgentStatus::Finished { elapsed_ms } => format!("  ✓ {name} agent done in {elapsed_ms} ms"),
        AgentStatus::Text { text, .. } => text.clone(),
        AgentStatus::Output { .. } => String::new(),
        AgentStatus::Writing { done, total } => format!("  … {done} of {total} texts written"),
        AgentStatus::Failed { elapsed_ms, error } => {
            format!("  ✗ {name} agent failed after {elapsed_ms} ms: {error}")
        }
    }
}

/// A kept text of the prose, for the progress on stderr: "  ✎ day 2, stop 3: Kiasma shows…".
pub fn text_line(slot: tripwright_app::planning::Slot, text: &str) -> String {
    use tripwright_app::planning::Slot;
    let Slot::Note { day, stop } = slot;
    format!("  ✎ day {day}, stop {}: {text}", u16::from(stop) + 1)
}

/// The months as a bar chart, best first.
pub fn months_text(months: &[MonthScore]) -> String {
    let mut s = String::new();
    for (i, m) in months.iter().enumerate() {
        let bar = "█".repeat((m.score / 5.0).round().max(0.0) as usize);
        let top = if i < 3 { "★" } else { " " };
        let _ = writeln!(
            s,
            "  {top} {:<9} {:>5.1} {bar:<20}  {}",
            m.name, m.score, m.reason
        );
    }
    s
}

/// The whole plan as text.
pub fn plan_text(plan: &Plan) -> String {
    let mut s = String::new();
    let d = &plan.destination;
    let _ = writeln!(
        s,
        "\n{}, {} — {} days",
        d.name,
        d.country,
        plan.itinerary.days.len()
    );
    let _ = writeln!(s, "\nBest months");
    s.push_str(&months_text(&plan.best_months));
    let _ = writeln!(s, "\nHotels");
    for (i, h) in plan.hotels.iter().enumerate() {
        let mark = if i == 0 { "→" } else { " " };
        let stars = h
            .stars
            .map_or_else(|| "no star rating".to_owned(), |n| format!("{n}★"));
        let _ = writeln!(
            s,
            "  {mark} {} — {}, {} per night{}, {:.1} km from the centre, text match {:.0} %\n      {}",
            h.name,
            stars,
            Money::new(h.price_per_night, &plan.summary.cost.currency),
            if h.price_estimated {
                " (estimated)"
            } else {
                ""
            },
            h.distance_km,
            h.similarity.clamp(0.0, 1.0) * 100.0,
            h.description
        );
        for (label, items) in [
            ("matches", h.matches.join(", ")),
            ("not", h.conflicts.join("; ")),
            ("not in the data", h.unknown.join(", ")),
        ] {
            if !items.is_empty() {
                let _ = writeln!(s, "      {label}: {items}");
            }
        }
    }
    let _ = writeln!(s, "\nItinerary");
    for day in &plan.itinerary.days {
        let _ = writeln!(
            s,
            "  Day {} — {} {} — {} ({:.1} km on foot)",
            day.day, day.weekday, day.date, day.title, day.walk_km
        );
        if !day.intro.is_empty() {
            let _ = writeln!(s, "    {}", day.intro);
        }
        for st in &day.stops {
            let what = match st.kind {
                StopKind::Lunch => "lunch".to_owned(),
                StopKind::Dinner => "dinner".to_owned(),
                StopKind::Cafe => "coffee".to_owned(),
                StopKind::Artwork => "art".to_owned(),
                StopKind::Sight => tripwright_domain::place_kind_words(&st.place_kind),
            };
            let _ = writeln!(
                s,
                "    {}–{}  {} ({what}, {} min walk)",
                st.start, st.end, st.name, st.walk_minutes
            );
            if !st.note.is_empty() {
                let _ = writeln!(s, "                 {}", st.note);
            }
        }
    }
    let c = &plan.summary.cost;
    let _ = writeln!(
        s,
        "\nCost ({}{})",
        c.currency,
        if c.estimated { ", estimated" } else { "" }
    );
    for l in &c.lines {
        let _ = writeln!(
            s,
            "  {:<55} {:>16}",
            l.label,
            Money::new(l.amount, &c.currency)
        );
    }
    let _ = writeln!(
        s,
        "  {:<55} {:>16}",
        "Total",
        Money::new(c.total, &c.currency)
    );
    if let Some(b) = c.budget {
        let verdict = if c.within_budget == Some(true) {
            "within budget"
        } else {
            "OVER BUDGET"
        };
        let _ = writeln!(
            s,
            "  {:<55} {:>16}  {verdict}",
            "Budget",
            Money::new(b, &c.currency)
        );
    }
    let _ = writeln!(s, "\nSummary\n  {}", plan.summary.text);
    let _ = writeln!(s, "\nChecks");
    for ch in &plan.checks {
        let _ = writeln!(
            s,
            "  {} {:<17} {}",
            if ch.passed { "✓" } else { "✗" },
            tripwright_domain::check_title(&ch.name),
            tripwright_domain::capitalised(&ch.detail)
        );
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(s, "\nWarnings");
        for w in &plan.warnings {
            let _ = writeln!(s, "  ! {}", tripwright_domain::capitalised(w));
        }
    }
    if let Some(sources) = tripwright_domain::sources_sentence(&plan.sources) {
        let _ = writeln!(s, "\n{sources}");
    }
    let _ = writeln!(
        s,
        "\nPlan {} saved. Data: GeoNames, CHELSA/GeoRank, © OpenStreetMap contributors.",
        plan.id
    );
    s
}

/// The weather evaluation as text.
pub fn evaluation_text(e: &tripwright_app::WeatherEvaluation) -> String {
    format!(
        "Leave-one-city-out, {} cities, {} monthly predictions, {:.1} s\n  random forest MAE   {:.2} °C\n  without the forest  {:.2} °C\n  {} MAE  {:.2} °C\nmethod: {}",
        e.cities,
        e.rows,
        e.seconds,
        e.forest_mae_c,
        e.base_mae_c,
        e.baseline,
        e.baseline_mae_c,
        e.method
    )
}

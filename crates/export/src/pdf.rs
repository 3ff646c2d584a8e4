//! PDF exports typeset with typst.
//!
//! The templates are fixed typst sources shipped in the crate. Everything that comes from a
//! plan or a list travels as one JSON string in `sys.inputs.data`; the templates decode it with
//! `json(bytes(..))` and show the strings as text, so no user or model text is ever parsed as
//! typst markup.

use chrono::NaiveDate;
use serde_json::{Value as Json, json};
use tripwright_domain::{BBox, MapFeature, Plan, TripList};
use typst::diag::SourceDiagnostic;
use typst::foundations::{Dict, IntoValue};
use typst::layout::PagedDocument;
use typst::text::Font;
use typst_as_lib::{TypstAsLibError, TypstEngine, TypstTemplateMainFile};

use crate::format::{
    amount, budget_verdict, day_month_year, hotel_line, kind_with_place, long_date,
    recommended_hotel, stop_time, trip_line, trip_title, walk_text,
};
use crate::{ExportError, PdfFonts, attribution, route_svg};

const PLAN_TEMPLATE: &str = include_str!("templates/plan.typ");
const LIST_TEMPLATE: &str = include_str!("templates/list.typ");
/// The Tripwright logo on the list PDF.
const LOGO_SVG: &str = include_str!("templates/logo.svg");

/// Size of the route sketch embedded in the plan PDF, in SVG pixels.
const ROUTE_WIDTH: u32 = 720;
const ROUTE_HEIGHT: u32 = 480;

/// Builds the engines of the plan and list templates over the loaded fonts.
pub(crate) fn build_engines(
    fonts: &[Font],
) -> (
    TypstEngine<TypstTemplateMainFile>,
    TypstEngine<TypstTemplateMainFile>,
) {
    let plan = TypstEngine::builder()
        .main_file(("plan.typ", PLAN_TEMPLATE))
        .fonts(fonts.iter().cloned())
        .build();
    let list = TypstEngine::builder()
        .main_file(("list.typ", LIST_TEMPLATE))
        .fonts(fonts.iter().cloned())
        .with_static_file_resolver([("logo.svg", LOGO_SVG.as_bytes())])
        .build();
    (plan, list)
}

/// The street map area the PDF's route sketch of `plan` shows (see [`crate::route_area`]):
/// the features of `basemap` given to [`plan_pdf`] are drawn under the routes.
pub fn pdf_route_area(plan: &Plan) -> Option<BBox> {
    crate::route_area(plan, ROUTE_WIDTH, ROUTE_HEIGHT)
}

/// The plan as a PDF: title, dates, the three best months with reasons, the recommended
/// hotel, each day's stops with times and notes, the route sketch over `basemap` (the street
/// map in [`pdf_route_area`], or none), the cost table against the budget (marked
/// estimated), the checks and the attribution footer.
///
/// # Errors
/// [`ExportError::Typst`] when typst cannot typeset the document or write the PDF.
pub fn plan_pdf(
    plan: &Plan,
    fonts: &PdfFonts,
    basemap: &[MapFeature],
) -> Result<Vec<u8>, ExportError> {
    let data = plan_data(plan, fonts, basemap);
    render(fonts.plan_engine(), &data)
}

/// A trip list as a PDF: the logo, the title ("Trip list" when empty), `today`'s date, a table
/// of items (name, at home, to take, taken ✓/–), the progress line "X out of Y items taken
/// (Z%)" and the notes.
///
/// # Errors
/// [`ExportError::Typst`] when typst cannot typeset the document or write the PDF.
pub fn list_pdf(
    list: &TripList,
    fonts: &PdfFonts,
    today: NaiveDate,
) -> Result<Vec<u8>, ExportError> {
    let data = list_data(list, fonts, today);
    render(fonts.list_engine(), &data)
}

fn render(
    engine: &TypstEngine<TypstTemplateMainFile>,
    data: &Json,
) -> Result<Vec<u8>, ExportError> {
    let mut inputs = Dict::new();
    inputs.insert("data".into(), data.to_string().into_value());
    let doc: PagedDocument = engine
        .compile_with_input(inputs)
        .output
        .map_err(|e| ExportError::Typst(describe(e)))?;
    typst_pdf::pdf(&doc, &typst_pdf::PdfOptions::default())
        .map_err(|d| ExportError::Typst(diagnostics(&d)))
}

fn describe(err: TypstAsLibError) -> String {
    match err {
        TypstAsLibError::TypstSource(d) => diagnostics(&d),
        other => other.to_string(),
    }
}

fn diagnostics(diags: &[SourceDiagnostic]) -> String {
    if diags.is_empty() {
        return "unknown typst error".to_owned();
    }
    diags
        .iter()
        .map(|d| {
            let mut s = d.message.to_string();
            for hint in &d.hints {
                s.push_str(" (hint: ");
                s.push_str(hint);
                s.push(')');
            }
            s
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn plan_data(plan: &Plan, fonts: &PdfFonts, basemap: &[MapFeature]) -> Json {
    let cost = &plan.summary.cost;
    let currency = cost.currency.trim();

    let months: Vec<Json> = plan
        .best_months
        .iter()
        .take(3)
        .map(|m| {
            json!({
                "name": m.name,
                "score": format!("score {:.0}/100", m.score),
                "reason": m.reason,
            })
        })
        .collect();

    let hotel = recommended_hotel(plan).map(|h| {
        json!({
            "name": h.name,
            "meta": hotel_line(h, currency),
            "description": h.description.trim(),
        })
    });

    let days: Vec<Json> = plan
        .itinerary
        .days
        .iter()
        .map(|d| {
            let title = d.title.trim();
            let heading = if title.is_empty() {
                format!("Day {} · {}", d.day, long_date(d.date))
            } else {
                format!("Day {} · {} · {title}", d.day, long_date(d.date))
            };
            let stops: Vec<Json> = d
                .stops
                .iter()
                .map(|s| {
                    json!({
                        "time": stop_time(s),
                        "name": s.name,
                        "kind": kind_with_place(s),
                        "walk": walk_text(s),
                        "note": s.note.trim(),
                        "description": s.description.as_ref().map_or("", |d| d.text.trim()),
                        "url": s.description.as_ref().map_or("", |d| d.url.trim()),
                        "hours": s
                            .opening_hours
                            .as_deref()
                            .map(str::trim)
                            .filter(|h| !h.is_empty())
                            .map(|h| {
                                tripwright_domain::hours_in_words(
                                    h,
                                    chrono::Datelike::weekday(&d.date),
                                )
                            })
                            .unwrap_or_default(),
                    })
                })
                .collect();
            let walk = if d.walk_km.is_finite() && d.walk_km > 0.0 {
                format!("Walking: {:.1} km, hotel to hotel.", d.walk_km)
            } else {
                String::new()
            };
            json!({
                "heading": heading,
                "intro": d.intro.trim(),
                "stops": stops,
                "walk": walk,
            })
        })
        .collect();

    let has_points = plan.itinerary.days.iter().any(|d| !d.stops.is_empty());
    let route = has_points.then(|| route_svg(plan, ROUTE_WIDTH, ROUTE_HEIGHT, basemap));

    let est = |e: bool| if e { "estimated" } else { "" };
    let lines: Vec<Json> = cost
        .lines
        .iter()
        .map(|l| {
            json!({
                "label": l.label,
                "amount": amount(l.amount, &cost.currency),
                "mark": est(l.estimated),
            })
        })
        .collect();
    let budget = cost.budget.map(|b| amount(b, &cost.currency));
    let cost_json = json!({
        "heading": if cost.estimated { "Cost estimate" } else { "Cost" },
        "amount_header": if currency.is_empty() { "Amount".to_owned() } else { format!("Amount ({currency})") },
        "lines": lines,
        "total": amount(cost.total, &cost.currency),
        "total_mark": est(cost.estimated),
        "budget": budget,
        "verdict": budget_verdict(plan),
        "note": if cost.estimated {
            "Amounts marked estimated come from the configured price tables, not from real rates."
        } else { "" },
    });

    let checks: Vec<Json> = plan
        .checks
        .iter()
        .map(|c| {
            json!({
                "name": tripwright_domain::check_title(&c.name),
                "passed": c.passed,
                "detail": c.detail,
            })
        })
        .collect();

    json!({
        "fonts": fonts.families(),
        "title": trip_title(plan),
        "subtitle": trip_line(plan),
        "summary": plan.summary.text.trim(),
        "months": months,
        "hotel": hotel,
        "days": days,
        "route_svg": route,
        "cost": cost_json,
        "checks": checks,
        "warnings": plan
            .warnings
            .iter()
            .map(|w| tripwright_domain::capitalised(w))
            .collect::<Vec<_>>(),
        "footer": attribution(plan),
        "sources": tripwright_domain::sources_sentence(&plan.sources).unwrap_or_default(),
    })
}

fn list_data(list: &TripList, fonts: &PdfFonts, today: NaiveDate) -> Json {
    let title = list.title.trim();
    let title = if title.is_empty() { "Trip list" } else { title };
    let mut items: Vec<_> = list.items.iter().collect();
    items.sort_by_key(|i| i.position);
    let items: Vec<Json> = items
        .iter()
        .map(|i| {
            json!({
                "name": i.name,
                "home": i.qty_home.to_string(),
                "take": i.qty_take.to_string(),
                "taken": i.taken,
            })
        })
        .collect();
    let notes: Vec<String> = list
        .notes
        .replace("\r\n", "\n")
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    json!({
        "fonts": fonts.families(),
        "title": title,
        "date": day_month_year(today),
        "items": items,
        "progress": list.progress_text(),
        "notes": notes,
    })
}

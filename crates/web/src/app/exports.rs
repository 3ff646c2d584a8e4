//! Downloads: a plan as PDF, ICS, JSON or Markdown, and a trip list as PDF. The formats are
//! `tripwright-export`'s; here they get their content type, their file name and, for PDFs,
//! a worker thread (typesetting is CPU work).

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use tripwright_domain::{Plan, TripList};

use super::error::{ErrorCode, WebError};
use super::state::WebApp;

/// The ASCII letters and digits of `text`, lower case, in dash-separated words (at most
/// `words`; other letters are left out, anything else separates words); `fallback` when
/// none are left.
fn slug(text: &str, words: usize, fallback: &str) -> String {
    let slug = text
        .chars()
        .filter_map(|c| {
            if c.is_ascii_alphanumeric() {
                Some(c.to_ascii_lowercase())
            } else if c.is_alphanumeric() {
                None
            } else {
                Some('-')
            }
        })
        .collect::<String>();
    let slug = slug
        .split('-')
        .filter(|s| !s.is_empty())
        .take(words)
        .collect::<Vec<_>>()
        .join("-");
    if slug.is_empty() {
        fallback.to_owned()
    } else {
        slug
    }
}

/// The file name of a plan export: `tripwright-helsinki-2026-06-06.pdf`.
pub(crate) fn plan_file_name(plan: &Plan, ext: &str) -> String {
    format!(
        "tripwright-{}-{}.{ext}",
        slug(&plan.destination.name, usize::MAX, "plan"),
        plan.itinerary.start_date
    )
}

/// The file name of a list's PDF: `tripwright-trip-list-helsinki-2026-06-06.pdf`.
pub(crate) fn list_file_name(list: &TripList, today: NaiveDate) -> String {
    format!("tripwright-{}-{today}.pdf", slug(&list.title, 8, "list"))
}

/// An attachment download.
fn attachment(content_type: &str, name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// Typesets a PDF off the async threads with the server's fonts (503 without any).
async fn pdf(
    web: &WebApp,
    make: impl FnOnce(&tripwright_export::PdfFonts) -> Result<Vec<u8>, String> + Send + 'static,
) -> Result<Vec<u8>, WebError> {
    let fonts = web.fonts.clone().map_err(|why| {
        WebError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::PdfUnavailable,
            why,
        )
        .hint("install fonts-dejavu-core on the server")
    })?;
    // Waiting here is dropped with the request when the client goes away.
    let _slot = web
        .pdf_slots
        .acquire()
        .await
        .map_err(|_| WebError::internal("the PDF slots are closed"))?;
    tokio::task::spawn_blocking(move || make(&fonts))
        .await
        .map_err(|e| WebError::internal(format!("the PDF worker failed: {e}")))?
        .map_err(|e| WebError::internal(format!("the PDF could not be made: {e}")))
}

/// Answers one export of `plan` (`export.pdf`, `.ics`, `.json` or `.md`) as an attachment.
pub(crate) async fn plan_export(web: &WebApp, plan: &Plan, file: &str) -> Response {
    let Some(ext) = file.strip_prefix("export.") else {
        return WebError::not_found("export").into_response();
    };
    let (content_type, body): (&str, Vec<u8>) = match ext {
        "json" => match serde_json::to_vec_pretty(plan) {
            Ok(b) => ("application/json", b),
            Err(e) => return WebError::internal(e.to_string()).into_response(),
        },
        "ics" => (
            "text/calendar; charset=utf-8",
            tripwright_export::plan_ics(plan).into_bytes(),
        ),
        "md" => (
            "text/markdown; charset=utf-8",
            tripwright_export::plan_markdown(plan).into_bytes(),
        ),
        "pdf" => {
            let owned = plan.clone();
            let basemap = match tripwright_export::pdf_route_area(plan) {
                Some(area) => web.app.streets().sketch_features(area).await,
                None => Vec::new(),
            };
            match pdf(web, move |fonts| {
                tripwright_export::plan_pdf(&owned, fonts, &basemap).map_err(|e| e.to_string())
            })
            .await
            {
                Ok(bytes) => ("application/pdf", bytes),
                Err(e) => return e.into_response(),
            }
        }
        _ => return WebError::not_found("export").into_response(),
    };
    attachment(content_type, &plan_file_name(plan, ext), body)
}

/// The list as a PDF: items, progress and notes.
pub(crate) async fn list_pdf(web: &WebApp, list: TripList) -> Result<Response, WebError> {
    let today = Utc::now().date_naive();
    let name = list_file_name(&list, today);
    let bytes = pdf(web, move |fonts| {
        tripwright_export::list_pdf(&list, fonts, today).map_err(|e| e.to_string())
    })
    .await?;
    Ok(attachment("application/pdf", &name, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use tripwright_domain::ListId;

    /// An empty list: the PDF name depends only on its title.
    fn list(title: &str) -> TripList {
        TripList {
            id: ListId::new("l"),
            title: title.into(),
            plan_id: None,
            notes: String::new(),
            notes_saved_at: None,
            created_at: DateTime::UNIX_EPOCH,
            version: 1,
            items: Vec::new(),
        }
    }

    #[test]
    fn file_names_are_ascii_slugs() {
        let day = NaiveDate::from_ymd_opt(2026, 6, 6).expect("date");
        assert_eq!(
            list_file_name(&list("Trip list — Helsinki"), day),
            "tripwright-trip-list-helsinki-2026-06-06.pdf"
        );
        let mut odd = list("\"; rm -rf / ÅÄÖ");
        assert_eq!(list_file_name(&odd, day), "tripwright-rm-rf-2026-06-06.pdf");
        odd.title = "東京".into();
        assert_eq!(list_file_name(&odd, day), "tripwright-list-2026-06-06.pdf");
        assert_eq!(slug("São Paulo", 8, "plan"), "so-paulo");
        assert_eq!(slug("Zürich", usize::MAX, "plan"), "zrich");
        assert_eq!(slug("北京", usize::MAX, "plan"), "plan");
    }
}

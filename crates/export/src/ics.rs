//! iCalendar (RFC 5545) export of a plan: one event per stop.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use tripwright_domain::{Plan, Stop, TimeOfDay};

use crate::format::{kind_with_place, trip_title, walk_text};

/// Longest content line in octets, without the CRLF (RFC 5545 §3.1).
const MAX_LINE_OCTETS: usize = 75;

/// The plan as an iCalendar file: one `VEVENT` per stop.
///
/// Times are floating local times (no time zone) on the day's date, as the plan gives them in
/// the destination's local time. `SUMMARY` is the stop's name, `LOCATION` is `"lat,lon"` with a
/// matching `GEO`, `DESCRIPTION` tells the kind, the note, the walk and the opening hours, and
/// `UID` is `{plan id}-d{day}-{index}@tripwright`. Lines end in CRLF, are folded at 75 octets
/// (never inside a UTF-8 character) and text values are escaped (`\\`, `\;`, `\,`, `\n`).
pub fn plan_ics(plan: &Plan) -> String {
    let mut out = String::new();
    let title = trip_title(plan);
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//Tripwright//Trip plan//EN");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", escape_text(&title)));
    let stamp = dtstamp(plan);
    let plan_id = uid_safe(plan.id.as_str());
    for day in &plan.itinerary.days {
        for (index, stop) in day.stops.iter().enumerate() {
            line(&mut out, "BEGIN:VEVENT");
            line(
                &mut out,
                &format!("UID:{plan_id}-d{}-{}@tripwright", day.day, index + 1),
            );
            line(&mut out, &format!("DTSTAMP:{stamp}"));
            let start = local(day.date, stop.start);
            line(&mut out, &format!("DTSTART:{}", fmt_local(start)));
            let end = local(day.date, stop.end);
            // DTEND must be later than DTSTART; without one the event is a point in time.
            if end > start {
                line(&mut out, &format!("DTEND:{}", fmt_local(end)));
            }
            line(&mut out, &format!("SUMMARY:{}", escape_text(&stop.name)));
            if stop.lat.is_finite() && stop.lon.is_finite() {
                let lat = stop.lat.clamp(-90.0, 90.0);
                let lon = stop.lon.clamp(-180.0, 180.0);
                line(
                    &mut out,
                    &format!("LOCATION:{}", escape_text(&format!("{lat:.6},{lon:.6}"))),
                );
                line(&mut out, &format!("GEO:{lat:.6};{lon:.6}"));
            }
            line(
                &mut out,
                &format!(
                    "DESCRIPTION:{}",
                    escape_text(&description(stop, &day.title, day.date))
                ),
            );
            line(&mut out, "END:VEVENT");
        }
    }
    line(&mut out, "END:VCALENDAR");
    out
}

fn description(stop: &Stop, day_title: &str, date: NaiveDate) -> String {
    let mut parts = vec![kind_with_place(stop)];
    let note = stop.note.trim();
    if !note.is_empty() {
        parts.push(note.to_owned());
    }
    let walk = walk_text(stop);
    if !walk.is_empty() {
        parts.push(format!("{walk} from the previous stop"));
    }
    if let Some(hours) = stop.opening_hours.as_deref().map(str::trim)
        && !hours.is_empty()
    {
        parts.push(tripwright_domain::hours_in_words(hours, date.weekday()));
    }
    let day_title = day_title.trim();
    if !day_title.is_empty() {
        parts.push(format!("Day: {day_title}"));
    }
    parts.join("\n")
}

/// The day's date at a time of day; 24:00 is midnight of the next day.
fn local(date: NaiveDate, time: TimeOfDay) -> NaiveDateTime {
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    midnight
        .checked_add_signed(chrono::TimeDelta::minutes(i64::from(time.minutes())))
        .unwrap_or(midnight)
}

fn fmt_local(t: NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}

/// When the plan was made, in UTC.
fn dtstamp(plan: &Plan) -> String {
    format!("{}Z", fmt_local(plan.created_at.naive_utc()))
}

/// The plan id with anything but letters, digits, `-`, `_` and `.` dropped, so that the UID
/// needs no escaping.
fn uid_safe(id: &str) -> String {
    let cleaned: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    if cleaned.is_empty() {
        "plan".to_owned()
    } else {
        cleaned
    }
}

/// Escapes a TEXT value: backslash, semicolon, comma and newlines; other control characters
/// are dropped.
pub(crate) fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push_str("\\n");
                }
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded at 75 octets, with CRLF.
fn line(out: &mut String, content: &str) {
    let mut used = 0;
    for c in content.chars() {
        let len = c.len_utf8();
        if used + len > MAX_LINE_OCTETS {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += len;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape_text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
        assert_eq!(escape_text("x\r\ny\rz"), "x\\ny\\nz");
        assert_eq!(escape_text("bell\u{7}"), "bell");
    }

    #[test]
    fn folding_respects_octets_and_characters() {
        let mut out = String::new();
        let content = format!("SUMMARY:{}", "Москва ".repeat(20));
        line(&mut out, &content);
        assert!(out.ends_with("\r\n"));
        let physical: Vec<&str> = out.trim_end_matches("\r\n").split("\r\n").collect();
        assert!(physical.len() > 1);
        for (i, l) in physical.iter().enumerate() {
            assert!(
                l.len() <= MAX_LINE_OCTETS,
                "line {i} has {} octets",
                l.len()
            );
            if i > 0 {
                assert!(l.starts_with(' '));
            }
        }
        let unfolded = out.trim_end_matches("\r\n").replace("\r\n ", "");
        assert_eq!(unfolded, content);
    }

    #[test]
    fn uid_is_cleaned() {
        assert_eq!(uid_safe("1b4d-29ae"), "1b4d-29ae");
        assert_eq!(uid_safe("a b,c;d"), "abcd");
        assert_eq!(uid_safe(" ;"), "plan");
    }
}

//! A parser for the common subset of OpenStreetMap's `opening_hours` syntax.
//!
//! Supported: `24/7`; rules separated by `;` (or `,` before a weekday); weekday selectors
//! (`Mo-Fr`, `Mo,We`, `Sa-Mo` wrapping the week, `Mo-Su`); comma-separated time ranges
//! (`10:00-14:00,15:00-18:00`); ranges past midnight (kept until 24:00); `off`/`closed`.
//! A later rule replaces an earlier one for the days it names, as in the OSM specification.
//! Anything else (months, public holidays with times, `sunrise`, week numbers, comments) makes
//! [`OpeningHours::parse`] return `None`: the hours are then *unknown*, never guessed.
//! A `PH off` / `PH …` rule is skipped: without holiday data, a normal day is assumed.

use chrono::Weekday;

use crate::TimeOfDay;

const DAYS: [&str; 7] = ["mo", "tu", "we", "th", "fr", "sa", "su"];

/// Weekly opening intervals parsed from an `opening_hours` tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpeningHours {
    /// Per weekday (Monday first), sorted, non-overlapping `[open, close)` intervals.
    week: [Vec<(TimeOfDay, TimeOfDay)>; 7],
}

impl OpeningHours {
    /// Parses a tag value; `None` when it uses syntax outside the supported subset.
    pub fn parse(tag: &str) -> Option<OpeningHours> {
        let tag = tag.trim();
        if tag.is_empty() {
            return None;
        }
        let mut week: [Vec<(TimeOfDay, TimeOfDay)>; 7] = Default::default();
        if tag == "24/7" {
            for d in &mut week {
                d.push((TimeOfDay::hm(0, 0)?, TimeOfDay::END_OF_DAY));
            }
            return Some(OpeningHours { week });
        }
        for rule in split_rules(tag) {
            let rule = rule.trim();
            if rule.is_empty() {
                continue;
            }
            let lower = rule.to_ascii_lowercase();
            if lower.starts_with("ph") {
                continue;
            }
            let (days, times) = match lower.split_once(' ') {
                Some((d, t)) if starts_with_day(d) => (parse_days(d)?, t.trim().to_owned()),
                _ if starts_with_day(&lower) => (parse_days(&lower)?, String::new()),
                _ => ([true; 7], lower.clone()),
            };
            let intervals = if times.is_empty() {
                // "Mo-Fr" alone means open all day on those days.
                vec![(TimeOfDay::hm(0, 0)?, TimeOfDay::END_OF_DAY)]
            } else if times == "off" || times == "closed" {
                Vec::new()
            } else {
                parse_times(&times)?
            };
            for (i, on) in days.iter().enumerate() {
                if *on {
                    week[i] = intervals.clone();
                }
            }
        }
        for d in &mut week {
            d.sort();
        }
        Some(OpeningHours { week })
    }

    /// The intervals of one weekday.
    pub fn intervals(&self, day: Weekday) -> &[(TimeOfDay, TimeOfDay)] {
        &self.week[day.num_days_from_monday() as usize]
    }

    /// Whether `[start, end]` lies inside one opening interval of `day`.
    pub fn is_open_during(&self, day: Weekday, start: TimeOfDay, end: TimeOfDay) -> bool {
        self.intervals(day)
            .iter()
            .any(|(o, c)| *o <= start && end <= *c)
    }

    /// The hours of `day` in words: "10:00–18:00", "11:00–14:00 and 17:00–22:00", "all day",
    /// "closed".
    pub fn words_on(&self, day: Weekday) -> String {
        let intervals = self.intervals(day);
        if intervals.is_empty() {
            return "closed".to_owned();
        }
        if intervals.len() == 1
            && intervals[0].0.minutes() == 0
            && intervals[0].1 == TimeOfDay::END_OF_DAY
        {
            return "all day".to_owned();
        }
        let each: Vec<String> = intervals.iter().map(|(o, c)| format!("{o}–{c}")).collect();
        each.join(" and ")
    }

    /// The earliest start at or after `from` such that `minutes` fit before closing on `day`.
    pub fn earliest_fit(&self, day: Weekday, from: TimeOfDay, minutes: u32) -> Option<TimeOfDay> {
        self.intervals(day).iter().find_map(|(o, c)| {
            let start = from.max(*o);
            (start.minutes() + minutes <= c.minutes()).then_some(start)
        })
    }
}

fn starts_with_day(s: &str) -> bool {
    DAYS.iter().any(|d| s.starts_with(d))
}

/// Splits on `;`, and on `,` when the next token is a weekday (an OSM "additional rule").
fn split_rules(tag: &str) -> Vec<String> {
    let mut rules = Vec::new();
    for part in tag.split(';') {
        let mut current = String::new();
        for piece in part.split(',') {
            let p = piece.trim_start().to_ascii_lowercase();
            let is_new_rule = !current.is_empty()
                && (starts_with_day(&p) && p.contains(' ') || p.starts_with("ph"))
                && current.contains(' ');
            if is_new_rule {
                rules.push(std::mem::take(&mut current));
                current.push_str(piece.trim());
            } else {
                if !current.is_empty() {
                    current.push(',');
                }
                current.push_str(piece.trim());
            }
        }
        rules.push(current);
    }
    rules
}

fn day_index(s: &str) -> Option<usize> {
    DAYS.iter().position(|d| *d == s)
}

fn parse_days(s: &str) -> Option<[bool; 7]> {
    let mut days = [false; 7];
    for part in s.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day_index(a)?, day_index(b)?);
                let mut i = a;
                loop {
                    days[i] = true;
                    if i == b {
                        break;
                    }
                    i = (i + 1) % 7;
                }
            }
            None => days[day_index(part)?] = true,
        }
    }
    Some(days)
}

fn parse_times(s: &str) -> Option<Vec<(TimeOfDay, TimeOfDay)>> {
    s.split(',')
        .map(|range| {
            let (a, b) = range.trim().split_once('-')?;
            let open = TimeOfDay::parse(a)?;
            let b = b.trim().trim_end_matches('+');
            let close = match TimeOfDay::parse(b) {
                Some(c) if c > open => c,
                // Past midnight (e.g. 18:00-02:00): open until the end of this day.
                Some(_) => TimeOfDay::END_OF_DAY,
                None => {
                    // "25:00"-style closing times are valid OSM; clamp them too.
                    let (h, m) = b.split_once(':')?;
                    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
                    (h < 48 && m < 60).then_some(TimeOfDay::END_OF_DAY)?
                }
            };
            Some((open, close))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Weekday::*;

    fn t(s: &str) -> TimeOfDay {
        TimeOfDay::parse(s).expect("time")
    }

    #[test]
    fn weekday_ranges_and_overrides() {
        let oh = OpeningHours::parse("Mo-Fr 10:00-18:00; Sa 11:00-16:00; We 12:00-20:00")
            .expect("parse");
        assert_eq!(oh.intervals(Mon), &[(t("10:00"), t("18:00"))]);
        assert_eq!(oh.intervals(Wed), &[(t("12:00"), t("20:00"))]);
        assert_eq!(oh.intervals(Sat), &[(t("11:00"), t("16:00"))]);
        assert!(oh.intervals(Sun).is_empty());
        assert!(oh.is_open_during(Mon, t("10:00"), t("18:00")));
        assert!(!oh.is_open_during(Mon, t("09:59"), t("11:00")));
        assert!(!oh.is_open_during(Sun, t("12:00"), t("13:00")));
    }

    #[test]
    fn split_intervals_wrapping_days_and_midnight() {
        let oh = OpeningHours::parse("Fr-Mo 11:00-14:00,17:00-02:00").expect("parse");
        assert_eq!(
            oh.intervals(Sun),
            &[
                (t("11:00"), t("14:00")),
                (t("17:00"), TimeOfDay::END_OF_DAY)
            ]
        );
        assert!(oh.intervals(Tue).is_empty());
        assert_eq!(oh.earliest_fit(Sat, t("13:30"), 60), Some(t("17:00")));
        assert_eq!(oh.earliest_fit(Sat, t("10:00"), 60), Some(t("11:00")));
        assert_eq!(oh.earliest_fit(Wed, t("10:00"), 60), None);
    }

    #[test]
    fn always_open_off_and_comma_rules() {
        let oh = OpeningHours::parse("24/7").expect("parse");
        assert!(oh.is_open_during(Thu, t("00:00"), TimeOfDay::END_OF_DAY));
        let oh = OpeningHours::parse("Mo-Sa 08:00-22:00, Su 10:00-18:00; PH off").expect("parse");
        assert_eq!(oh.intervals(Sun), &[(t("10:00"), t("18:00"))]);
        assert_eq!(oh.intervals(Sat), &[(t("08:00"), t("22:00"))]);
        let oh = OpeningHours::parse("Tu-Su 11:00-17:00; Mo off").expect("parse");
        assert!(oh.intervals(Mon).is_empty());
        let oh = OpeningHours::parse("09:00-17:00").expect("parse");
        assert_eq!(oh.intervals(Sun), &[(t("09:00"), t("17:00"))]);
    }

    #[test]
    fn unsupported_syntax_is_unknown_not_guessed() {
        for s in [
            "",
            "sunrise-sunset",
            "Jun-Aug Mo-Fr 10:00-18:00",
            "Mo-Fr 10:00-18:00 \"by appointment\"",
            "Xy 10:00-12:00",
        ] {
            assert_eq!(OpeningHours::parse(s), None, "{s}");
        }
        // A weekday selector alone means open all day on those days.
        let oh = OpeningHours::parse("Mo-Fr").expect("parse");
        assert_eq!(oh.intervals(Mon).len(), 1);
        assert!(oh.intervals(Sat).is_empty());
    }
}

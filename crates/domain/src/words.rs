//! Words a traveller reads instead of the data's codes: counts with their plural, kinds of
//! place ("memorial" for `historic:memorial`), and the names of the plan's checks.

/// A place's name as people read it: OpenStreetMap writes two names in one with a `;`
/// ("Äiti ja lapset;Kaksi lasta", two works on one plinth), which reads "Äiti ja lapset and
/// Kaksi lasta".
pub fn readable_name(raw: &str) -> String {
    let names: Vec<&str> = raw
        .split(';')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// "1 day", "2 days".
pub fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// An OpenStreetMap kind of place in words: `historic:memorial` → "memorial",
/// `guest_house` → "guest house", `attraction` → "sight", `yes` (a bare `historic=yes`) →
/// "historic site".
pub fn place_kind_words(kind: &str) -> String {
    let last = kind.rsplit(':').next().unwrap_or(kind).trim();
    match last {
        "" | "yes" => "historic site".to_owned(),
        "attraction" => "sight".to_owned(),
        "artwork" => "artwork".to_owned(),
        "ice_cream" => "ice cream".to_owned(),
        other => other.replace('_', " "),
    }
}

/// The name of a plan check in words ("Real places" for `grounded`); an unknown name as it is,
/// with a capital.
pub fn check_title(name: &str) -> String {
    let title = match name {
        "grounded" => "Real places",
        "complete" => "Complete",
        "diverse" => "Nothing repeated",
        "timing" => "Times in order",
        "opening_hours" => "Opening hours",
        "reachable" => "Walkable",
        "month" => "A good month",
        "budget" => "Budget",
        "prose" => "Written text",
        other => return capitalised(&other.replace('_', " ")),
    };
    title.to_owned()
}

/// The English name of `day` ("Saturday").
pub fn weekday_name(day: chrono::Weekday) -> &'static str {
    match day {
        chrono::Weekday::Mon => "Monday",
        chrono::Weekday::Tue => "Tuesday",
        chrono::Weekday::Wed => "Wednesday",
        chrono::Weekday::Thu => "Thursday",
        chrono::Weekday::Fri => "Friday",
        chrono::Weekday::Sat => "Saturday",
        chrono::Weekday::Sun => "Sunday",
    }
}

/// A stop's opening hours on the day it is visited, in words: "Open 10:00–18:00 on
/// Saturday", "Open all day on Sunday", "Closed on Monday"; an `opening_hours` value that
/// cannot be read is shown as it is ("Opening hours: by appointment").
pub fn hours_in_words(tag: &str, day: chrono::Weekday) -> String {
    let name = weekday_name(day);
    match crate::OpeningHours::parse(tag) {
        Some(hours) => match hours.words_on(day).as_str() {
            "closed" => format!("Closed on {name}"),
            open => format!("Open {open} on {name}"),
        },
        None => format!("Opening hours: {}", tag.trim()),
    }
}

/// A trip's dates: "3–4 July 2027", "30 June – 2 July 2027", "30 December 2027 – 2 January
/// 2028", "3 July 2027".
pub fn date_range(first: chrono::NaiveDate, last: chrono::NaiveDate) -> String {
    use chrono::Datelike as _;
    let full = |d: chrono::NaiveDate| d.format("%-d %B %Y").to_string();
    if first == last {
        full(first)
    } else if first.year() != last.year() {
        format!("{} – {}", full(first), full(last))
    } else if first.month() != last.month() {
        format!("{} – {}", first.format("%-d %B"), full(last))
    } else {
        format!("{}–{}", first.day(), full(last))
    }
}

/// `text` with its first letter upper-case ("no hotel" → "No hotel").
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_names_in_one_read_as_two() {
        assert_eq!(
            readable_name("Äiti ja lapset;Kaksi lasta"),
            "Äiti ja lapset and Kaksi lasta"
        );
        assert_eq!(readable_name("A; B;C"), "A, B and C");
        assert_eq!(readable_name("Kiasma"), "Kiasma");
        assert_eq!(readable_name(" ; "), "");
    }

    #[test]
    fn counts_kinds_and_checks_in_words() {
        assert_eq!(plural(1, "night", "nights"), "1 night");
        assert_eq!(plural(0, "night", "nights"), "0 nights");
        assert_eq!(plural(3, "traveller", "travellers"), "3 travellers");
        assert_eq!(place_kind_words("historic:memorial"), "memorial");
        assert_eq!(place_kind_words("guest_house"), "guest house");
        assert_eq!(place_kind_words("attraction"), "sight");
        assert_eq!(place_kind_words("historic:yes"), "historic site");
        assert_eq!(place_kind_words("museum"), "museum");
        assert_eq!(check_title("grounded"), "Real places");
        assert_eq!(check_title("opening_hours"), "Opening hours");
        assert_eq!(check_title("dates_fixed"), "Dates fixed");
        assert_eq!(capitalised("éte"), "Éte");
        let sat = chrono::Weekday::Sat;
        assert_eq!(
            hours_in_words("Mo 10:00-24:00; Tu-Su 10:00-18:00", sat),
            "Open 10:00–18:00 on Saturday"
        );
        assert_eq!(
            hours_in_words("Mo-Sa 11:00-14:00,17:00-22:00", sat),
            "Open 11:00–14:00 and 17:00–22:00 on Saturday"
        );
        assert_eq!(hours_in_words("24/7", sat), "Open all day on Saturday");
        assert_eq!(
            hours_in_words("Mo-Fr 09:00-17:00", sat),
            "Closed on Saturday"
        );
        assert_eq!(
            hours_in_words("by appointment", sat),
            "Opening hours: by appointment"
        );
        assert_eq!(capitalised(""), "");
    }
}

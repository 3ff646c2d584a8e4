//! The trip list: what to pack or buy for a trip, with quantities, a "taken" tick and notes.
//! Lists belong to one owner (a browser) and may be attached to a saved plan.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{ItemId, ListId, PlanId};

/// Largest quantity the list accepts for "at home" and "to take".
pub const MAX_QUANTITY: u8 = 12;
/// Longest item name, in characters.
pub const MAX_ITEM_NAME_CHARS: usize = 80;
/// Longest list title, in characters.
pub const MAX_LIST_TITLE_CHARS: usize = 120;
/// Longest notes text, in characters.
pub const MAX_NOTES_CHARS: usize = 20_000;

/// One trip list with its items in display order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TripList {
    /// List id (UUID).
    pub id: ListId,
    /// Title, "Trip list" by default.
    pub title: String,
    /// The saved plan it goes with, if any.
    pub plan_id: Option<PlanId>,
    /// Free-text notes.
    pub notes: String,
    /// When the notes were last saved; `None` before the first save.
    pub notes_saved_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Bumped by every change to the list's own fields (title, notes); clients send it back
    /// to detect that another tab changed them meanwhile.
    pub version: i64,
    /// Items in display order (by `position`).
    pub items: Vec<ListItem>,
}

/// One line of a trip list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListItem {
    /// Item id (UUID).
    pub id: ItemId,
    /// What it is, e.g. "Rain jacket". Unique within its list, case-insensitively.
    pub name: String,
    /// How many are at home, 0..=12.
    pub qty_home: u8,
    /// How many to take, 0..=12.
    pub qty_take: u8,
    /// Whether it has been packed (or bought).
    pub taken: bool,
    /// Sort key within the list; smaller first.
    pub position: i64,
    /// Bumped by every change to this item.
    pub version: i64,
}

impl TripList {
    /// `(taken, total)` item counts.
    pub fn progress(&self) -> (usize, usize) {
        (
            self.items.iter().filter(|i| i.taken).count(),
            self.items.len(),
        )
    }

    /// The share taken in percent, rounded down so that 100 % means every item is taken
    /// (0 for an empty list).
    pub fn progress_percent(&self) -> u32 {
        let (taken, total) = self.progress();
        u32::try_from((taken * 100).checked_div(total).unwrap_or(0)).unwrap_or(100)
    }

    /// "X out of Y items taken (Z%)", as the page, the API and the PDF show it.
    pub fn progress_text(&self) -> String {
        let (taken, total) = self.progress();
        let noun = if total == 1 { "item" } else { "items" };
        format!(
            "{taken} out of {total} {noun} taken ({}%)",
            self.progress_percent()
        )
    }
}

/// Checks an item name: trimmed, non-empty, at most [`MAX_ITEM_NAME_CHARS`], no control
/// characters. Returns the trimmed name.
///
/// # Errors
/// A sentence for the user saying what is wrong.
pub fn validate_item_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("the item needs a name".into());
    }
    if name.chars().count() > MAX_ITEM_NAME_CHARS {
        return Err(format!(
            "item names are at most {MAX_ITEM_NAME_CHARS} characters"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("item names cannot contain control characters".into());
    }
    Ok(name.to_owned())
}

/// Checks a list title: trimmed, 1..=[`MAX_LIST_TITLE_CHARS`] characters, no control
/// characters. Returns the trimmed title.
///
/// # Errors
/// A sentence for the user saying what is wrong.
pub fn validate_list_title(title: &str) -> Result<String, String> {
    let t = title.trim();
    let n = t.chars().count();
    if n == 0 || n > MAX_LIST_TITLE_CHARS || t.chars().any(char::is_control) {
        return Err(format!(
            "a list title has 1 to {MAX_LIST_TITLE_CHARS} characters (no control characters)"
        ));
    }
    Ok(t.to_owned())
}

/// Checks notes: at most [`MAX_NOTES_CHARS`] characters, no control characters but line
/// breaks and tabs.
///
/// # Errors
/// A sentence for the user.
pub fn validate_notes(notes: &str) -> Result<(), String> {
    let n = notes.chars().count();
    if n > MAX_NOTES_CHARS {
        return Err(format!(
            "notes are at most {MAX_NOTES_CHARS} characters, these have {n}"
        ));
    }
    // Line breaks and tabs are part of notes; a NUL (which PostgreSQL cannot store) or an
    // escape is not.
    if notes
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err("notes cannot contain control characters".into());
    }
    Ok(())
}

/// Checks a quantity (0..=12).
///
/// # Errors
/// A sentence for the user.
pub fn validate_quantity(what: &str, qty: i64) -> Result<u8, String> {
    u8::try_from(qty)
        .ok()
        .filter(|q| *q <= MAX_QUANTITY)
        .ok_or_else(|| format!("{what} must be between 0 and {MAX_QUANTITY}, not {qty}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(taken: &[bool]) -> TripList {
        TripList {
            id: "l".into(),
            title: String::new(),
            plan_id: None,
            notes: String::new(),
            notes_saved_at: None,
            created_at: DateTime::UNIX_EPOCH,
            version: 1,
            items: taken
                .iter()
                .enumerate()
                .map(|(i, t)| ListItem {
                    id: i.to_string().into(),
                    name: format!("item {i}"),
                    qty_home: 0,
                    qty_take: 1,
                    taken: *t,
                    position: i as i64,
                    version: 1,
                })
                .collect(),
        }
    }

    #[test]
    fn progress_rounds_down_so_100_means_all_taken() {
        assert_eq!(list(&[]).progress_text(), "0 out of 0 items taken (0%)");
        assert_eq!(
            list(&[true]).progress_text(),
            "1 out of 1 item taken (100%)"
        );
        assert_eq!(
            list(&[true, false, true]).progress_text(),
            "2 out of 3 items taken (66%)"
        );
        assert_eq!(
            list(&[true, true, false]).progress_text(),
            "2 out of 3 items taken (66%)"
        );
        let eighth: Vec<bool> = (0..8).map(|i| i == 0).collect();
        assert_eq!(list(&eighth).progress_percent(), 12);
        let all_but_one: Vec<bool> = (0..200).map(|i| i > 0).collect();
        assert_eq!(
            list(&all_but_one).progress_percent(),
            99,
            "100% only when all are taken"
        );
        assert_eq!(list(&[true, true]).progress_percent(), 100);
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(validate_item_name("  Socks ").unwrap(), "Socks");
        assert!(validate_item_name("   ").is_err());
        assert!(validate_item_name(&"x".repeat(81)).is_err());
        assert!(validate_item_name("a\u{0}b").is_err());
        assert_eq!(
            validate_item_name(&"é".repeat(80)).unwrap().chars().count(),
            80
        );
    }

    #[test]
    fn titles_and_notes_are_bounded() {
        assert!(validate_list_title("  ").is_err());
        assert_eq!(validate_list_title(" Packing ").expect("ok"), "Packing");
        assert!(validate_list_title(&"x".repeat(MAX_LIST_TITLE_CHARS + 1)).is_err());
        assert!(validate_list_title("a\nb").is_err());
        assert!(validate_notes(&"n".repeat(MAX_NOTES_CHARS)).is_ok());
        let e = validate_notes(&"n".repeat(MAX_NOTES_CHARS + 1)).expect_err("long");
        assert!(e.contains("20000"), "{e}");
        assert!(validate_notes("Passport\n\tand tickets\r\n").is_ok());
        let e = validate_notes("Passport\0").expect_err("NUL");
        assert!(e.contains("control characters"), "{e}");
    }

    #[test]
    fn quantities_are_0_to_12() {
        assert_eq!(validate_quantity("to take", 12), Ok(12));
        assert_eq!(validate_quantity("to take", 0), Ok(0));
        assert!(validate_quantity("to take", 13).is_err());
        assert!(validate_quantity("at home", -1).is_err());
    }

    #[test]
    fn progress_counts_taken_items() {
        let item = |taken| ListItem {
            id: ItemId::new(""),
            name: String::new(),
            qty_home: 0,
            qty_take: 1,
            taken,
            position: 0,
            version: 1,
        };
        let list = TripList {
            id: ListId::new(""),
            title: "Trip list".into(),
            plan_id: None,
            notes: String::new(),
            notes_saved_at: None,
            created_at: DateTime::UNIX_EPOCH,
            version: 1,
            items: vec![item(true), item(false), item(true)],
        };
        assert_eq!(list.progress(), (2, 3));
    }
}

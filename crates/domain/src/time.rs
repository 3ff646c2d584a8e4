use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A time of day with minute resolution, serialised as `"HH:MM"`.
///
/// Stored as minutes since midnight; values up to 24:00 are allowed so that "until
/// midnight" can be expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    /// Midnight at the end of the day (24:00).
    pub const END_OF_DAY: TimeOfDay = TimeOfDay(24 * 60);

    /// A time from hours and minutes; `None` past 24:00.
    pub fn hm(hours: u16, minutes: u16) -> Option<Self> {
        let m = hours.checked_mul(60)?.checked_add(minutes)?;
        (minutes < 60 && m <= 24 * 60).then_some(Self(m))
    }

    /// A time from minutes since midnight, clamped to 24:00.
    pub fn from_minutes(minutes: u32) -> Self {
        Self(minutes.min(24 * 60) as u16)
    }

    /// Minutes since midnight.
    pub fn minutes(self) -> u32 {
        u32::from(self.0)
    }

    /// This time plus `minutes`, clamped to 24:00.
    pub fn plus(self, minutes: u32) -> Self {
        Self::from_minutes(self.minutes() + minutes)
    }

    /// Parses `"H:MM"` or `"HH:MM"`.
    pub fn parse(s: &str) -> Option<Self> {
        let (h, m) = s.trim().split_once(':')?;
        if h.is_empty() || h.len() > 2 || m.len() != 2 {
            return None;
        }
        Self::hm(h.parse().ok()?, m.parse().ok()?)
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        TimeOfDay::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("bad time {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_round_trip() {
        let t = TimeOfDay::parse("9:05").expect("valid");
        assert_eq!(t.to_string(), "09:05");
        assert_eq!(t.minutes(), 545);
        assert_eq!(TimeOfDay::parse("24:00"), Some(TimeOfDay::END_OF_DAY));
        assert_eq!(TimeOfDay::parse("24:01"), None);
        assert_eq!(TimeOfDay::parse("12:60"), None);
        assert_eq!(TimeOfDay::parse("noon"), None);
        assert_eq!(TimeOfDay::parse("1:5"), None);
    }

    #[test]
    fn plus_clamps_at_midnight() {
        let t = TimeOfDay::hm(23, 30).expect("valid");
        assert_eq!(t.plus(90), TimeOfDay::END_OF_DAY);
    }

    #[test]
    fn serde_uses_hh_mm() {
        let t = TimeOfDay::hm(7, 0).expect("valid");
        let j = serde_json::to_string(&t).expect("serialise");
        assert_eq!(j, "\"07:00\"");
        let back: TimeOfDay = serde_json::from_str(&j).expect("parse");
        assert_eq!(back, t);
        assert!(serde_json::from_str::<TimeOfDay>("\"7\"").is_err());
    }
}

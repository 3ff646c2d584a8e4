//! An amount in a currency, and the one way every page, export and summary writes it:
//! "EUR 1,234.50", "JPY 50,160" (currencies without minor units get no decimals).

use std::fmt;

/// ISO 4217 currencies whose minor unit is 0 (no cents): amounts are written without decimals.
const ZERO_DECIMAL: [&str; 16] = [
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
    "VUV", "XAF", "XOF",
];

/// An amount of money in one currency (an ISO 4217 code).
#[derive(Debug, Clone, PartialEq)]
pub struct Money<'a> {
    /// The amount.
    pub amount: f64,
    /// Its currency, e.g. `EUR`.
    pub currency: &'a str,
}

impl<'a> Money<'a> {
    /// `amount` in `currency`.
    pub fn new(amount: f64, currency: &'a str) -> Self {
        Self { amount, currency }
    }

    /// How many decimals the currency is written with (2, or 0 for yen, won, krónur …).
    pub fn decimals(currency: &str) -> usize {
        if ZERO_DECIMAL
            .iter()
            .any(|c| c.eq_ignore_ascii_case(currency.trim()))
        {
            0
        } else {
            2
        }
    }
}

/// `1234.5` → "1,234.50" with `decimals` 2; "–" for a non-finite amount.
pub fn group_thousands(amount: f64, decimals: usize) -> String {
    if !amount.is_finite() {
        return "–".to_owned();
    }
    let scale = 10f64.powi(i32::try_from(decimals).unwrap_or(2));
    let units = (amount.abs() * scale).round();
    let whole = (units / scale).trunc();
    let frac = units - whole * scale;
    let digits = format!("{whole:.0}");
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + decimals + 2);
    if amount < 0.0 && units > 0.0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if decimals > 0 {
        out.push('.');
        out.push_str(&format!("{frac:0decimals$.0}"));
    }
    out
}

impl fmt::Display for Money<'_> {
    /// "EUR 1,234.50"; without a currency, only the amount.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let currency = self.currency.trim();
        let amount = group_thousands(self.amount, Money::decimals(currency));
        if currency.is_empty() {
            f.write_str(&amount)
        } else {
            write!(f, "{currency} {amount}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped_with_the_currency_first() {
        assert_eq!(Money::new(1234.5, "EUR").to_string(), "EUR 1,234.50");
        assert_eq!(Money::new(999.999, "USD").to_string(), "USD 1,000.00");
        assert_eq!(Money::new(12.0, "SEK").to_string(), "SEK 12.00");
        assert_eq!(Money::new(0.0, "EUR").to_string(), "EUR 0.00");
        assert_eq!(Money::new(-12.345, "EUR").to_string(), "EUR -12.35");
        assert_eq!(Money::new(1_234_567.891, "").to_string(), "1,234,567.89");
        assert_eq!(Money::new(f64::NAN, "EUR").to_string(), "EUR –");
    }

    #[test]
    fn currencies_without_cents_have_no_decimals() {
        assert_eq!(Money::new(50_160.0, "JPY").to_string(), "JPY 50,160");
        assert_eq!(Money::new(1_234_567.4, "KRW").to_string(), "KRW 1,234,567");
        assert_eq!(Money::new(0.4, "ISK").to_string(), "ISK 0");
        assert_eq!(Money::decimals("jpy"), 0);
        assert_eq!(Money::decimals("EUR"), 2);
    }
}

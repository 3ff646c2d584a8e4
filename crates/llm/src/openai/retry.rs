//! When to try again: full-jitter exponential backoff, and the provider's own `Retry-After`.

use std::time::{Duration, SystemTime};

use rand::Rng;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// A delay drawn uniformly from `[0, min(cap, base · 2^retry)]` ("full jitter"), so clients that
/// failed together do not come back together.
pub(crate) fn backoff(retry: u32, base: Duration, cap: Duration) -> Duration {
    let ceiling = base.saturating_mul(2u32.saturating_pow(retry)).min(cap);
    let ceiling = u64::try_from(ceiling.as_micros()).unwrap_or(u64::MAX);
    Duration::from_micros(rand::rng().random_range(0..=ceiling))
}

/// How long the provider asked us to wait: OpenAI's `retry-after-ms`, else the standard
/// `Retry-After` as delta-seconds or an HTTP date (a date in the past means "now").
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return Duration::try_from_secs_f64(ms / 1000.0).ok();
    }
    let value = text(RETRY_AFTER.as_str())?;
    if let Ok(seconds) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).ok();
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(name, HeaderValue::from_str(value).expect("valid header"));
        map
    }

    #[test]
    fn retry_after_reads_seconds_dates_and_milliseconds() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            retry_after(&headers("retry-after", "7"), now),
            Some(Duration::from_secs(7))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(42));
        assert_eq!(
            retry_after(&headers("retry-after", &later), now),
            Some(Duration::from_secs(42))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(42));
        assert_eq!(
            retry_after(&headers("retry-after", &earlier), now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            retry_after(&headers("retry-after-ms", "250"), now),
            Some(Duration::from_millis(250))
        );
        assert_eq!(retry_after(&headers("retry-after", "soon"), now), None);
        assert_eq!(retry_after(&headers("retry-after", "-3"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn backoff_grows_to_the_cap_and_stays_within_it() {
        let (base, cap) = (Duration::from_millis(100), Duration::from_millis(1000));
        for retry in 0..40 {
            let ceiling = (base * 2u32.saturating_pow(retry)).min(cap);
            for _ in 0..50 {
                assert!(backoff(retry, base, cap) <= ceiling, "retry {retry}");
            }
        }
        // Full jitter spreads clients out: 200 draws under a 1 s ceiling are not all alike.
        let draws: std::collections::HashSet<_> =
            (0..200).map(|_| backoff(10, base, cap)).collect();
        assert!(draws.len() > 100, "only {} distinct delays", draws.len());
    }
}

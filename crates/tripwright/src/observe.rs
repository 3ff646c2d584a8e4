//! What the binary tells its operators: the log (text or JSON, through a redaction layer) and
//! Prometheus metrics on a listener of their own.
//!
//! **Redaction.** Every formatted log line passes through [`redact`] before it is written, so
//! whatever a log call holds (a request's headers, a plan request's wishes, an error from a
//! provider quoting our request) never puts a credential or a traveller's contact details in
//! the log: API keys and bearer tokens, cookies, CSRF tokens, share-link tokens, passwords in
//! URLs, e-mail addresses and phone numbers. It works on the text of the line, not on fields,
//! so it cannot be bypassed by a field name nobody thought of.

use std::borrow::Cow;
use std::io::Write;
use std::sync::LazyLock;

use regex::{Captures, Regex};
use tripwright_config::Config;

/// What replaces a secret.
const SECRET: &str = "[REDACTED]";

/// A pattern and what its matches become.
struct Rule {
    pattern: Regex,
    replace: fn(&Captures<'_>) -> String,
}

fn rule(pattern: &str, replace: fn(&Captures<'_>) -> String) -> Rule {
    Rule {
        pattern: Regex::new(pattern).expect("a valid redaction pattern"),
        replace,
    }
}

/// The redaction rules, in order (secrets before contact details, so a key that looks like a
/// number is named a secret).
static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        // Header-like and field-like credentials, in text (`cookie: a=b; c=d`), Debug
        // (`"cookie": "a=b"`) and JSON (`\"x-csrf-token\":\"…\"`) form: the whole value.
        rule(
            r#"(?i)((?:\\?")?(?:authorization|proxy-authorization|cookie|set-cookie|x-csrf-token|x-api-key|api[_-]?key|openai_api_key|session[_-]?key|csrf|password|secret|token)(?:\\?")?\s*[:=]\s*)(\\?"(?:[^"\\]|\\[^"])*\\?"|(?:bearer|basic|digest|token)\s+[^\s,;}&"]+|[^\s,;}&]+)"#,
            |c| {
                let value = &c[2];
                let quote = if value.starts_with("\\\"") {
                    "\\\""
                } else if value.starts_with('"') {
                    "\""
                } else {
                    ""
                };
                format!("{}{quote}{SECRET}{quote}", &c[1])
            },
        ),
        // Bearer tokens wherever they stand (after an `authorization` name, the rule above
        // took the whole value).
        rule(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{6,}", |c| {
            format!("{} {SECRET}", &c[1])
        }),
        // OpenAI-style keys (`sk-…`, `sk-proj-…`).
        rule(r"\bsk-[A-Za-z0-9_-]{8,}", |_| SECRET.to_owned()),
        // The app's signed user cookie, wherever it is quoted.
        rule(r"\btw_user=[^;\s,}]+", |_| format!("tw_user={SECRET}")),
        // A share link's token gives its plan to whoever holds it.
        rule(r"/share/[A-Za-z0-9_-]{8,}", |_| "/share/[token]".to_owned()),
        // A password in a URL: postgres://user:password@host.
        rule(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]+):[^@/\s]+@", |c| {
            format!("{}:{SECRET}@", &c[1])
        }),
        // E-mail addresses.
        rule(
            r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
            |_| "[email]".to_owned(),
        ),
        // Phone numbers: an international number (+ and 7 to 15 digits, spaced or not), or
        // three or more groups of digits split by spaces or dashes with 7 to 15 digits in all
        // (040 123 4567, 555-123-4567). Dates (2026-12-05), times, versions and addresses
        // (127.0.0.1) have too few digits per group or other separators. A UUID (a request or
        // plan id) is matched whole first and kept: its middle groups can be all digits
        // (`32f715ac-1234-4567-8901-ce2a14745255`).
        rule(
            r"(?i)(?P<uuid>\b[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}\b)|(?:\+\d[\d \-().]{5,20}\d|\(?\b\d{2,5}\)?[ \-]\d{2,5}[ \-]\d{2,5}(?:[ \-]\d{2,5})?\b)",
            |c| {
                let digits = c[0].chars().filter(char::is_ascii_digit).count();
                if c.name("uuid").is_none() && (7..=15).contains(&digits) && !is_date(&c[0]) {
                    "[phone]".to_owned()
                } else {
                    c[0].to_owned()
                }
            },
        ),
    ]
});

/// `2026-12-05` and the like: not a phone number.
fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 3 && parts[0].len() == 4 && parts[1].len() <= 2 && parts[2].len() <= 2
}

/// `line` with every credential and contact detail replaced (see the module's rules).
pub fn redact(line: &str) -> Cow<'_, str> {
    let mut text = Cow::Borrowed(line);
    for r in RULES.iter() {
        if r.pattern.is_match(&text) {
            let replaced = r.pattern.replace_all(&text, r.replace).into_owned();
            text = Cow::Owned(replaced);
        }
    }
    text
}

/// Standard error, through [`redact`]: the formatter writes each event in one buffer, so a
/// line is redacted whole.
struct Redacting;

impl Write for Redacting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Starts the log: `log` (or `RUST_LOG`) as the filter, `log_format` text or JSON, every line
/// redacted.
pub fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| Redacting);
    // A second init (tests run commands in one process) is harmless: keep the first.
    let _ = if config.log_format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Installs the Prometheus recorder and serves `GET /metrics` on `addr` until the process
/// ends; `llm`, when it runs in this process, reports the engine's own counters at each
/// scrape. Returns the address it listens on.
pub async fn serve_metrics(
    addr: std::net::SocketAddr,
    llm: Option<std::sync::Arc<dyn tripwright_llm::LlmClient>>,
) -> anyhow::Result<std::net::SocketAddr> {
    use anyhow::Context as _;
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};

    const SECONDS: [f64; 14] = [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
    ];
    const SEQUENCES: [f64; 7] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];
    let handle = PrometheusBuilder::new()
        .set_buckets(&SECONDS)
        .and_then(|b| {
            b.set_buckets_for_metric(
                Matcher::Full("tripwright_engine_batch_sequences".into()),
                &SEQUENCES,
            )
        })
        .context("the metrics' buckets")?
        .install_recorder()
        .context("the metrics recorder")?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("could not listen on {addr} for metrics"))?;
    let bound = listener.local_addr()?;
    let render = move || {
        handle.run_upkeep();
        if let Some(stats) = llm.as_ref().and_then(|l| l.stats()) {
            let set = |name: &'static str, v: u64| metrics::gauge!(name).set(v as f64);
            set("tripwright_engine_requests", stats.requests);
            set("tripwright_engine_active_sequences", stats.active_sequences);
            set("tripwright_engine_prompt_tokens", stats.prompt_tokens);
            set(
                "tripwright_engine_cached_prompt_tokens",
                stats.cached_prompt_tokens,
            );
            set("tripwright_engine_generated_tokens", stats.generated_tokens);
            set("tripwright_engine_decode_calls", stats.decode_calls);
            set(
                "tripwright_engine_max_batch_sequences",
                stats.max_batch_sequences,
            );
        }
        handle.render()
    };
    tokio::spawn(async move {
        if let Err(e) = tripwright_web::serve_metrics(listener, render).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    });
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn credentials_and_contact_details_never_reach_the_log() {
        let cases = [
            (
                r#"headers={"cookie": "tw_user=0b6c.SIG; other=1", "x-csrf-token": "AbC123xyz", "authorization": "Bearer sk-live-0123456789"}"#,
                r#"headers={"cookie": "[REDACTED]", "x-csrf-token": "[REDACTED]", "authorization": "[REDACTED]"}"#,
            ),
            (
                r#"{"fields":{"headers":"{\"cookie\": \"tw_user=abc.def\", \"host\": \"t\"}"}}"#,
                r#"{"fields":{"headers":"{\"cookie\": \"[REDACTED]\", \"host\": \"t\"}"}}"#,
            ),
            (
                "calling with api_key=sk-proj-abcdefghijkl and Authorization: Basic dXNlcjpwYXNz",
                "calling with api_key=[REDACTED] and Authorization: [REDACTED]",
            ),
            (
                "failed: upstream said Bearer abcdef123456 is wrong",
                "failed: upstream said Bearer [REDACTED] is wrong",
            ),
            (
                "opened postgres://tw:hunter2@db.internal:5432/tw",
                "opened postgres://tw:[REDACTED]@db.internal:5432/tw",
            ),
            (
                "GET /share/Zq3xY_8kLm2NpQ/export.pdf",
                "GET /share/[token]/export.pdf",
            ),
            (
                r#"prefs="quiet hotel, call me on +358 40 123 4567 or mail anna.virtanen@example.fi""#,
                r#"prefs="quiet hotel, call me on [phone] or mail [email]""#,
            ),
            (
                "note: ring 040 123 4567 or (555) 123-4567",
                "note: ring [phone] or [phone]",
            ),
        ];
        for (line, want) in cases {
            assert_eq!(redact(line), want, "{line}");
        }
    }

    #[test]
    fn what_is_not_a_secret_is_left_as_it_is() {
        for line in [
            "2026-12-05T17:13:00.123Z  INFO request{id=6f1c2a9e-3b1d-4c55-9f7e-1b2c3d4e5f60 method=GET path=/api/plans/abc}: 200 in 12 ms",
            "listening on 127.0.0.1:8080; 16 sequences, 2048 tokens",
            "a 3-day plan for Helsinki from 2027-07-03: 4 sights, 12.5 km",
            "version 1.95.0 of 2026-03-21",
            // A request id whose middle groups are all digits (seen in CI as `[phone]`).
            r#"{"span":{"id":"32f715ac-1234-4567-8901-ce2a14745255","method":"POST"}}"#,
            "plan 32F715AC-1234-4567-8901-CE2A14745255 saved",
        ] {
            assert_eq!(redact(line), line);
        }
    }
}

//! What the web tests share beyond the test kit: the servers of this binary (started once,
//! never stopped: they end with the binary) over one data directory, and helpers to read
//! pages and plans.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde_json::{Value, json};
use tripwright_config::Config;
use tripwright_llm::LlmClient;
use tripwright_testkit::scripted::Writer;
use tripwright_testkit::server::{self, Browser, Server};
use tripwright_testkit::{assets, scratch};

/// The data directory of this run, shared by the servers of the binary: the first server
/// imports the places and trains the forest, the others reuse both.
pub fn data_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| scratch::run_dir(Path::new(env!("CARGO_TARGET_TMPDIR")), "web-tests"))
}

/// A configuration over the shared data directory, the language model off, and up to 16
/// plans at once (the tests of the binary make plans in parallel).
pub fn config() -> Config {
    let mut c = server::config(data_dir());
    c.web.max_running = 16;
    c
}

/// The server without a language model.
pub fn base() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| Server::start(config(), None).keep())
}

/// A new browser on the server without a model, with its cookie and token.
pub async fn browser() -> Browser {
    Browser::signed_in(base()).await
}

/// A client without cookies on the server without a model.
pub fn anonymous() -> Browser {
    Browser::without_cookies(base())
}

/// The scripted writer of [`scripted_base`]'s prose.
pub fn writer() -> &'static Arc<Writer> {
    static WRITER: OnceLock<Arc<Writer>> = OnceLock::new();
    WRITER.get_or_init(Writer::new)
}

/// A second server whose prose [`writer`] writes.
pub fn scripted_base() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| {
        // The first server has imported the places and trained the forest.
        let _ = base();
        let llm = writer().model() as Arc<dyn LlmClient>;
        Server::start(config(), Some(llm)).keep()
    })
}

/// Undoes HTML escaping of an attribute value.
pub fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail.find(';').expect("entity ends");
        let entity = &tail[1..end];
        let c = match entity {
            "quot" => '"',
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "apos" => '\'',
            _ => {
                let n = entity
                    .strip_prefix("#x")
                    .map(|h| u32::from_str_radix(h, 16))
                    .or_else(|| entity.strip_prefix('#').map(str::parse))
                    .expect("numeric entity")
                    .expect("number");
                char::from_u32(n).expect("char")
            }
        };
        out.push(c);
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

/// `text` escaped as askama writes it.
pub fn html_escape(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// Whether `html` shows `text` escaped (as askama writes it) and never raw.
pub fn escaped(html: &str, text: &str) -> bool {
    html.contains(&html_escape(text)) && !html.contains(text)
}

fn schema() -> &'static jsonschema::Validator {
    static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let text = std::fs::read_to_string(assets::repo_root().join("schema/plan.schema.json"))
            .expect("schema file");
        jsonschema::validator_for(&serde_json::from_str(&text).expect("JSON")).expect("compiles")
    })
}

/// Fails the test unless `plan` is valid against `schema/plan.schema.json`.
pub fn assert_valid_plan(plan: &Value) {
    let errors: Vec<String> = schema()
        .iter_errors(plan)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// A trip to Helsinki of `days` days with these wishes.
pub fn trip(days: u8, prefs: &str) -> Value {
    json!({"destination": "Helsinki", "days": days, "prefs": prefs})
}

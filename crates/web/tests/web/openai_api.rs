//! The OpenAI-compatible API on a real server bound to a loopback port, with
//! the real embedded engine on the SmolLM2 GGUF: shapes of answers and streams, temperature-0
//! agreement of streamed and whole answers, stop sequences, errors in OpenAI's shape, a busy
//! engine, the request timeout and cancellation on disconnect.
//!
//! Token counts stay small. Tests that generate take [`GENERATING`] so that one engine computes
//! at a time (llama.cpp's threads spin; two engines on two cores starve each other) and so that
//! the engine's counters are this test's alone.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::{Mutex, oneshot};
use tokio::task::JoinHandle;
use tripwright_llm::engine::{Engine, EngineConfig};
use tripwright_llm::{ChatMessage, ChatRequest, LlmClient};
use tripwright_testkit::assets::smollm2;
use tripwright_web::{ApiLimits, AppState, ServeOptions, serve};

static GENERATING: Mutex<()> = Mutex::const_new(());

fn small_engine(max_sequences: u32, queue_capacity: usize) -> Engine {
    Engine::load(EngineConfig {
        n_ctx_per_sequence: 512,
        max_sequences,
        queue_capacity,
        batch_size: 64,
        ..EngineConfig::new(smollm2())
    })
    .expect("SmolLM2 loads")
}

/// One engine for the whole test binary: the model is loaded once, as `tripwright serve` does.
fn engine() -> Arc<Engine> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    Arc::clone(ENGINE.get_or_init(|| Arc::new(small_engine(2, 8))))
}

/// A server on `127.0.0.1:0`, stopped through its shutdown signal.
struct Server {
    base: String,
    client: reqwest::Client,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

async fn start(state: AppState) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("bound"));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(
        listener,
        state,
        async {
            let _ = stopped.await;
        },
        ServeOptions::default(),
    ));
    Server {
        base,
        client: reqwest::Client::new(),
        stop,
        task,
    }
}

async fn start_default() -> Server {
    start(AppState::new(engine())).await
}

impl Server {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("the server answers")
    }

    async fn post_raw(
        &self,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.client
            .post(format!("{}/v1/chat/completions", self.base))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("the server answers")
    }

    async fn post(&self, body: &Value) -> reqwest::Response {
        self.post_raw("application/json", body.to_string()).await
    }

    async fn shut_down(self) {
        let _ = self.stop.send(());
        self.task
            .await
            .expect("the server task ends")
            .expect("the server stops cleanly");
    }
}

async fn json_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, json)
}

fn model_id() -> String {
    engine().model_id().to_owned()
}

fn ask(question: &str, max_tokens: u32) -> Value {
    json!({
        "model": model_id(),
        "messages": [
            {"role": "system", "content": "You are a concise travel assistant."},
            {"role": "user", "content": question},
        ],
        "max_tokens": max_tokens,
        "temperature": 0,
    })
}

const QUESTION: &str = "Name three museums in Helsinki.";

/// One server-sent event: its `event:` name, if any, and its data.
#[derive(Debug)]
struct Sse {
    event: Option<String>,
    data: String,
}

/// Reads a whole event stream.
async fn sse_of(mut response: reqwest::Response) -> Vec<Sse> {
    let mut text = String::new();
    while let Some(bytes) = response.chunk().await.expect("the stream reads") {
        text.push_str(std::str::from_utf8(&bytes).expect("UTF-8"));
    }
    parse_sse(&text)
}

fn parse_sse(text: &str) -> Vec<Sse> {
    assert!(
        text.ends_with("\n\n"),
        "the stream ends with a whole event: {text:?}"
    );
    text.split_terminator("\n\n")
        .map(|block| {
            let mut sse = Sse {
                event: None,
                data: String::new(),
            };
            for line in block.lines() {
                match line.split_once(": ") {
                    Some(("event", name)) => sse.event = Some(name.to_owned()),
                    Some(("data", data)) => sse.data.push_str(data),
                    _ => panic!("unexpected SSE line {line:?}"),
                }
            }
            sse
        })
        .collect()
}

/// OpenAI's error shape, exactly: `{"error":{"message","type","param","code"}}` and nothing else.
fn assert_openai_error(body: &Value, kind: &str, param: Option<&str>, code: &str) {
    let keys = |v: &Value| -> Vec<String> {
        let mut keys: Vec<String> = v
            .as_object()
            .unwrap_or_else(|| panic!("not an object: {v}"))
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(body), ["error"], "{body}");
    let error = &body["error"];
    assert_eq!(keys(error), ["code", "message", "param", "type"], "{body}");
    assert_eq!(error["type"], kind, "{body}");
    assert_eq!(
        error["param"],
        param.map_or(Value::Null, Value::from),
        "{body}"
    );
    assert_eq!(error["code"], code, "{body}");
    assert!(
        error["message"].as_str().is_some_and(|m| m.len() > 10),
        "a message a person can read: {body}"
    );
}

#[tokio::test]
async fn health_and_models_answer_and_the_server_shuts_down() {
    let server = start_default().await;
    let health = server.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.expect("a body"), "ok");

    let (status, models) = json_of(server.get("/v1/models").await).await;
    assert_eq!(status, 200);
    assert_eq!(models["object"], "list");
    let data = models["data"].as_array().expect("a data array");
    assert_eq!(data.len(), 1, "{models}");
    assert_eq!(data[0]["id"], "SmolLM2-135M-Instruct.Q4_1");
    assert_eq!(data[0]["object"], "model");
    assert_eq!(data[0]["owned_by"], "tripwright");
    assert!(
        data[0]["created"]
            .as_u64()
            .is_some_and(|t| t > 1_700_000_000),
        "{models}"
    );

    let (status, one) = json_of(server.get(&format!("/v1/models/{}", model_id())).await).await;
    assert_eq!((status, &one), (200, &data[0]));
    let (status, missing) = json_of(server.get("/v1/models/gpt-4o").await).await;
    assert_eq!(status, 404);
    assert_openai_error(
        &missing,
        "invalid_request_error",
        Some("model"),
        "model_not_found",
    );

    let base = server.base.clone();
    server.shut_down().await;
    assert!(
        reqwest::get(format!("{base}/healthz")).await.is_err(),
        "nothing listens after shutdown"
    );
}

#[tokio::test]
async fn a_completion_has_openais_shape_and_usage() {
    let _one = GENERATING.lock().await;
    let server = start_default().await;
    let (status, body) = json_of(server.post(&ask(QUESTION, 12)).await).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("chatcmpl-")),
        "{body}"
    );
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], model_id());
    assert!(
        body["created"].as_u64().is_some_and(|t| t > 1_700_000_000),
        "{body}"
    );
    let choices = body["choices"].as_array().expect("choices");
    assert_eq!(choices.len(), 1);
    assert_eq!(choices[0]["index"], 0);
    assert_eq!(choices[0]["message"]["role"], "assistant");
    let text = choices[0]["message"]["content"]
        .as_str()
        .expect("text content");
    assert!(!text.trim().is_empty(), "{body}");

    let usage = &body["usage"];
    let prompt = usage["prompt_tokens"].as_u64().expect("prompt_tokens");
    let completion = usage["completion_tokens"]
        .as_u64()
        .expect("completion_tokens");
    assert!(
        prompt > 10,
        "the system and user messages are counted: {usage}"
    );
    assert_eq!(usage["total_tokens"].as_u64(), Some(prompt + completion));
    match choices[0]["finish_reason"].as_str() {
        Some("length") => assert_eq!(completion, 12, "{body}"),
        Some("stop") => assert!((1..12).contains(&completion), "{body}"),
        other => panic!("finish_reason {other:?}"),
    }
    server.shut_down().await;
}

#[tokio::test]
async fn streamed_deltas_add_up_to_the_whole_answer_at_temperature_0() {
    let _one = GENERATING.lock().await;
    let server = start_default().await;
    let (status, whole) = json_of(server.post(&ask(QUESTION, 16)).await).await;
    assert_eq!(status, 200, "{whole}");
    let expected = whole["choices"][0]["message"]["content"]
        .as_str()
        .expect("text");

    let mut request = ask(QUESTION, 16);
    request["stream"] = json!(true);
    request["stream_options"] = json!({"include_usage": true});
    let response = server.post(&request).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/event-stream",
        "an SSE stream"
    );
    let events = sse_of(response).await;
    assert!(
        events.iter().all(|e| e.event.is_none()),
        "no error events: {events:?}"
    );
    let (done, chunks) = events.split_last().expect("events");
    assert_eq!(done.data, "[DONE]");
    let chunks: Vec<Value> = chunks
        .iter()
        .map(|e| serde_json::from_str(&e.data).expect("a JSON chunk"))
        .collect();
    for chunk in &chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk", "{chunk}");
        assert_eq!(chunk["id"], chunks[0]["id"], "one id for the whole stream");
        assert_eq!(chunk["model"], model_id());
    }
    assert!(
        chunks[0]["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("chatcmpl-"))
    );

    // Role first; content deltas; a finish chunk; the usage chunk with no choices.
    let (usage_chunk, rest) = chunks.split_last().expect("a usage chunk");
    let (finish, rest) = rest.split_last().expect("a finish chunk");
    let (role, contents) = rest.split_first().expect("a role chunk");
    assert_eq!(role["choices"][0]["delta"]["role"], "assistant", "{role}");
    assert!(!contents.is_empty(), "at least one content chunk");
    let mut text = String::new();
    for chunk in contents {
        assert_eq!(chunk["choices"][0]["finish_reason"], Value::Null, "{chunk}");
        assert_eq!(chunk["usage"], Value::Null, "{chunk}");
        text.push_str(
            chunk["choices"][0]["delta"]["content"]
                .as_str()
                .expect("content delta"),
        );
    }
    assert_eq!(
        text, expected,
        "streamed and whole answers agree at temperature 0"
    );
    assert_eq!(
        finish["choices"][0]["finish_reason"],
        whole["choices"][0]["finish_reason"]
    );
    assert_eq!(finish["choices"][0]["delta"], json!({}));
    assert_eq!(usage_chunk["choices"], json!([]));
    assert_eq!(usage_chunk["usage"], whole["usage"]);

    // Without include_usage: no usage anywhere, same text.
    let mut request = ask(QUESTION, 16);
    request["stream"] = json!(true);
    let events = sse_of(server.post(&request).await).await;
    assert_eq!(events.last().map(|e| e.data.as_str()), Some("[DONE]"));
    let mut text = String::new();
    for event in &events[..events.len() - 1] {
        let chunk: Value = serde_json::from_str(&event.data).expect("a JSON chunk");
        assert!(chunk.get("usage").is_none(), "{chunk}");
        assert_eq!(
            chunk["choices"].as_array().map(Vec::len),
            Some(1),
            "{chunk}"
        );
        if let Some(piece) = chunk["choices"][0]["delta"]["content"].as_str() {
            text.push_str(piece);
        }
    }
    assert_eq!(text, expected);
    server.shut_down().await;
}

#[tokio::test]
async fn a_stop_sequence_ends_the_text_before_it() {
    let _one = GENERATING.lock().await;
    let server = start_default().await;
    let (_, whole) = json_of(server.post(&ask(QUESTION, 16)).await).await;
    let full = whole["choices"][0]["message"]["content"]
        .as_str()
        .expect("text");
    let words: Vec<&str> = full.split_whitespace().collect();
    assert!(words.len() > 4, "enough text to cut: {full:?}");
    let at = full.find(words[3]).expect("the word is in the text");

    for stop in [json!(words[3]), json!(["no such words", words[3]])] {
        let mut request = ask(QUESTION, 16);
        request["stop"] = stop.clone();
        let (status, cut) = json_of(server.post(&request).await).await;
        assert_eq!(status, 200, "{cut}");
        assert_eq!(
            cut["choices"][0]["message"]["content"],
            full[..at],
            "stop {stop}"
        );
        assert_eq!(cut["choices"][0]["finish_reason"], "stop");
    }
    server.shut_down().await;
}

#[tokio::test]
async fn malformed_requests_get_openai_errors() {
    let server = start_default().await;
    let valid = ask(QUESTION, 8);
    let with = |key: &str, value: Value| {
        let mut body = valid.clone();
        body[key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = valid.clone();
        body.as_object_mut().map(|o| o.remove(key));
        body
    };
    let message = |m: Value| with("messages", json!([m]));
    let long_prompt = "Helsinki has many museums and cafés. ".repeat(80);
    let cases = [
        (
            with("model", json!("gpt-4o")),
            404,
            Some("model"),
            "model_not_found",
        ),
        (
            without("model"),
            400,
            Some("model"),
            "missing_required_parameter",
        ),
        (
            without("messages"),
            400,
            Some("messages"),
            "missing_required_parameter",
        ),
        (
            with("messages", json!([])),
            400,
            Some("messages"),
            "invalid_value",
        ),
        (
            message(json!({"role": "robot", "content": "hi"})),
            400,
            Some("messages[0].role"),
            "invalid_value",
        ),
        (
            message(json!({"role": "user", "content": 42})),
            400,
            Some("messages[0].content"),
            "invalid_type",
        ),
        (
            message(json!({"role": "user"})),
            400,
            Some("messages[0].content"),
            "invalid_type",
        ),
        (
            message(json!({"role": 7, "content": "hi"})),
            400,
            Some("messages[0].role"),
            "invalid_value",
        ),
        (
            with("temperature", json!(2.5)),
            400,
            Some("temperature"),
            "invalid_value",
        ),
        (
            with("temperature", json!(-0.1)),
            400,
            Some("temperature"),
            "invalid_value",
        ),
        (
            with("temperature", json!("hot")),
            400,
            Some("temperature"),
            "invalid_value",
        ),
        (
            with("max_tokens", json!(0)),
            400,
            Some("max_tokens"),
            "invalid_value",
        ),
        (
            with("max_tokens", json!(1_000_000)),
            400,
            Some("max_tokens"),
            "invalid_value",
        ),
        (
            with("max_tokens", json!(-5)),
            400,
            Some("max_tokens"),
            "invalid_value",
        ),
        (with("n", json!(2)), 400, Some("n"), "unsupported_value"),
        (with("stop", json!(7)), 400, Some("stop"), "invalid_type"),
        (
            with("stream_options", json!({"include_usage": true})),
            400,
            Some("stream_options"),
            "invalid_value",
        ),
        (json!([1, 2]), 400, None, "invalid_type"),
        // Valid JSON the engine refuses: the prompt does not fit its 512-token context.
        (
            message(json!({"role": "user", "content": long_prompt})),
            400,
            None,
            "llm_bad_request",
        ),
    ];
    for (body, status, param, code) in cases {
        let (got, answer) = json_of(server.post(&body).await).await;
        assert_eq!(got, status, "{body} → {answer}");
        assert_openai_error(&answer, "invalid_request_error", param, code);
    }

    for (content_type, body, code) in [
        ("application/json", "{\"model\": ", "invalid_json"),
        ("application/json", "{} trailing", "invalid_json"),
        ("text/plain", "{}", "invalid_content_type"),
    ] {
        let (status, answer) = json_of(server.post_raw(content_type, body).await).await;
        assert_eq!(status, 400, "{content_type} {body} → {answer}");
        assert_openai_error(&answer, "invalid_request_error", None, code);
    }
    let (status, answer) = json_of(server.get("/v1/chat/completions").await).await;
    assert_eq!(status, 405);
    assert_openai_error(&answer, "invalid_request_error", None, "method_not_allowed");
    let (status, answer) = json_of(server.get("/v1/embeddings").await).await;
    assert_eq!(status, 404);
    assert_openai_error(&answer, "invalid_request_error", None, "unknown_url");
    server.shut_down().await;

    // The body limit: a 1 KiB server refuses a 2 KiB conversation.
    let small = start(AppState {
        limits: ApiLimits {
            max_body_bytes: 1024,
            ..ApiLimits::default()
        },
        ..AppState::new(engine())
    })
    .await;
    let (status, answer) = json_of(small.post(&ask(&"x".repeat(2048), 8)).await).await;
    assert_eq!(status, 413, "{answer}");
    assert_openai_error(&answer, "invalid_request_error", None, "request_too_large");
    small.shut_down().await;
}

#[tokio::test]
async fn a_request_past_the_timeout_is_a_504_and_stops_generating() {
    let _one = GENERATING.lock().await;
    let engine = engine();
    let server = start(AppState {
        limits: ApiLimits {
            request_timeout: Duration::from_millis(20),
            ..ApiLimits::default()
        },
        ..AppState::new(Arc::clone(&engine) as Arc<dyn LlmClient>)
    })
    .await;
    wait_until(|| engine.stats().active_sequences == 0).await;
    let before = engine.stats().generated_tokens;
    let (status, answer) = json_of(server.post(&ask(QUESTION, 16)).await).await;
    assert_eq!(status, 504, "{answer}");
    assert_openai_error(&answer, "server_error", None, "timeout");
    // The timed-out handler dropped its token stream, which cancelled the generation.
    wait_until(|| engine.stats().active_sequences == 0).await;
    let generated = engine.stats().generated_tokens - before;
    assert!(generated < 16, "generation went on for {generated} tokens");
    server.shut_down().await;
}

#[tokio::test]
async fn a_busy_engine_answers_503_with_retry_after() {
    let _one = GENERATING.lock().await;
    // One sequence and one queue place: a running and a queued request fill it.
    let busy = Arc::new(small_engine(1, 1));
    let server = start(AppState::new(Arc::clone(&busy) as Arc<dyn LlmClient>)).await;
    let long = ChatRequest {
        max_tokens: 400,
        temperature: 0.0,
        ..ChatRequest::new(vec![ChatMessage::user(
            "Count from 1 to 100, separated by commas.",
        )])
    };
    let mut running = busy.stream(long.clone()).await.expect("admitted");
    assert!(running.next().await.is_some(), "it holds the only sequence");
    let _queued = busy.stream(long).await.expect("queued");

    let started = Instant::now();
    let response = server.post(&ask(QUESTION, 8)).await;
    let elapsed = started.elapsed();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    let (_, answer) = json_of(response).await;
    assert_openai_error(&answer, "server_error", None, "llm_busy");
    assert!(
        elapsed < Duration::from_secs(1),
        "busy answers at once, took {elapsed:?}"
    );
    server.shut_down().await;
}

#[tokio::test]
async fn a_client_disconnect_cancels_the_generation() {
    let _one = GENERATING.lock().await;
    let engine = engine();
    let server = start(AppState::new(Arc::clone(&engine) as Arc<dyn LlmClient>)).await;
    let counting = ask("Count from 1 to 100, separated by commas.", 64);
    let (_, whole) = json_of(server.post(&counting).await).await;
    assert_eq!(
        whole["choices"][0]["finish_reason"], "length",
        "uncancelled, it runs to max_tokens: {whole}"
    );

    // The engine counts a sequence's tokens when it frees the sequence, just after its last
    // event: wait for that before reading the counter.
    wait_until(|| engine.stats().active_sequences == 0).await;
    let before = engine.stats().generated_tokens;
    let mut request = counting.clone();
    request["stream"] = json!(true);
    let mut response = server.post(&request).await;
    assert_eq!(response.status(), 200);
    let mut seen = String::new();
    // The role chunk and two content chunks: generation is under way.
    while seen.matches("data: ").count() < 3 {
        let bytes = response.chunk().await.expect("reads").expect("more events");
        seen.push_str(std::str::from_utf8(&bytes).expect("UTF-8"));
    }
    drop(response);
    wait_until(|| engine.stats().active_sequences == 0).await;
    let generated = engine.stats().generated_tokens - before;
    assert!(
        generated < 32,
        "the generation stopped soon after the client left, not after {generated} of 64 tokens"
    );
    server.shut_down().await;
}

async fn wait_until(condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "condition not met within 10 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

//! Fault tests of the OpenAI-compatible client against a real HTTP server on a loopback port that
//! speaks the chat-completions protocol (SSE `data: {chunk}` … `data: [DONE]`) and is scripted
//! per test to misbehave: 429 with `Retry-After`, 5xx, stalls, streams cut mid-way, invalid JSON,
//! refused keys and requests. The server counts requests, so "no retry" and "failed fast without
//! touching the network" are measured, not assumed. Timeouts are configured short (hundreds of
//! milliseconds) so that the 10 s stalls are never waited out.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::post;
use futures::StreamExt;
use secrecy::SecretString;
use serde_json::{Value, json};
use tripwright_llm::openai::{OpenAiClient, OpenAiConfig};
use tripwright_llm::{
    ChatMessage, ChatRequest, FinishReason, LlmClient, LlmError, StreamEvent, TokenStream, Usage,
};

// ---------------------------------------------------------------------------------------------
// The scripted provider
// ---------------------------------------------------------------------------------------------

/// One scripted answer.
#[derive(Clone)]
enum Reply {
    /// An HTTP error: status, extra headers, body.
    Status(u16, Vec<(&'static str, String)>, String),
    /// A 200 SSE stream of these `data:` payloads, each sent `gap` after the previous one.
    Stream {
        payloads: Vec<String>,
        gap: Duration,
        end: End,
    },
    /// Sits on the request this long before answering with the inner reply.
    Stall(Duration, Box<Reply>),
}

/// How a scripted stream ends after its payloads.
#[derive(Clone, Copy)]
enum End {
    /// `data: [DONE]`, then a clean close.
    Done,
    /// The connection is aborted mid-body.
    Cut,
    /// A clean close without `[DONE]`.
    Close,
    /// Stays open, sending nothing more.
    Hang,
}

/// The provider's state: the script and what it saw.
struct Provider {
    /// Replies in order; the last one repeats forever.
    script: Mutex<VecDeque<Reply>>,
    requests: AtomicUsize,
    authorizations: Mutex<Vec<Option<String>>>,
    bodies: Mutex<Vec<Value>>,
    /// Streams whose body was dropped before it was fully sent (the client went away).
    abandoned: AtomicUsize,
}

impl Provider {
    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn set_script(&self, replies: Vec<Reply>) {
        *self.script.lock().expect("script lock") = replies.into();
    }

    fn next_reply(&self) -> Reply {
        let mut script = self.script.lock().expect("script lock");
        if script.len() > 1 {
            script.pop_front()
        } else {
            script.front().cloned()
        }
        .expect("a non-empty script")
    }
}

/// A provider listening on 127.0.0.1 and its base URL (`http://127.0.0.1:PORT/v1`).
async fn provider(script: Vec<Reply>) -> (Arc<Provider>, String) {
    let provider = Arc::new(Provider {
        script: Mutex::new(script.into()),
        requests: AtomicUsize::new(0),
        authorizations: Mutex::new(Vec::new()),
        bodies: Mutex::new(Vec::new()),
        abandoned: AtomicUsize::new(0),
    });
    let app = Router::new()
        .route("/v1/chat/completions", post(chat))
        .with_state(provider.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    (provider, format!("http://{addr}/v1"))
}

async fn chat(State(provider): State<Arc<Provider>>, headers: HeaderMap, body: Bytes) -> Response {
    provider.requests.fetch_add(1, Ordering::SeqCst);
    let auth = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().expect("ASCII header").to_owned());
    provider.authorizations.lock().expect("lock").push(auth);
    let body = serde_json::from_slice(&body).expect("the client sends JSON");
    provider.bodies.lock().expect("lock").push(body);
    let mut reply = provider.next_reply();
    while let Reply::Stall(wait, inner) = reply {
        tokio::time::sleep(wait).await;
        reply = *inner;
    }
    match reply {
        Reply::Status(code, headers, body) => {
            let mut response = Response::builder()
                .status(code)
                .header(header::CONTENT_TYPE, "application/json");
            for (name, value) in headers {
                response = response.header(name, value);
            }
            response.body(Body::from(body)).expect("a valid response")
        }
        Reply::Stream { payloads, gap, end } => Response::builder()
            .header(header::CONTENT_TYPE, "text/event-stream")
            .header(header::CACHE_CONTROL, "no-cache")
            .body(sse_body(provider, payloads, gap, end))
            .expect("a valid response"),
        Reply::Stall(..) => unreachable!("stalls were unwrapped above"),
    }
}

/// Counts the stream as abandoned if it is dropped before its last frame went out.
struct Sending {
    provider: Arc<Provider>,
    finished: bool,
}

impl Drop for Sending {
    fn drop(&mut self) {
        if !self.finished {
            self.provider.abandoned.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn sse_body(provider: Arc<Provider>, payloads: Vec<String>, gap: Duration, end: End) -> Body {
    let mut frames: VecDeque<String> = payloads
        .into_iter()
        .map(|p| format!("data: {p}\n\n"))
        .collect();
    if matches!(end, End::Done) {
        frames.push_back("data: [DONE]\n\n".into());
    }
    let state = (
        frames,
        Sending {
            provider,
            finished: false,
        },
    );
    Body::from_stream(futures::stream::unfold(
        state,
        move |(mut frames, mut sending)| async move {
            if sending.finished {
                return None;
            }
            tokio::time::sleep(gap).await;
            if let Some(frame) = frames.pop_front() {
                return Some((Ok(Bytes::from(frame)), (frames, sending)));
            }
            sending.finished = true;
            match end {
                End::Done | End::Close => None,
                End::Cut => Some((
                    Err(std::io::Error::other("connection cut by the test")),
                    (frames, sending),
                )),
                End::Hang => {
                    futures::future::pending::<()>().await;
                    None
                }
            }
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// OpenAI-shaped chunks
// ---------------------------------------------------------------------------------------------

fn chunk(delta: Value, finish_reason: Option<&str>) -> String {
    json!({
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "test-model",
        "choices": [{ "index": 0, "delta": delta, "finish_reason": finish_reason }],
    })
    .to_string()
}

fn token(text: &str) -> String {
    chunk(json!({ "content": text }), None)
}

fn usage(prompt_tokens: u32, completion_tokens: u32) -> String {
    json!({
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "test-model",
        "choices": [],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    })
    .to_string()
}

/// A complete answer, exactly as OpenAI streams it: a role-only first chunk, the text, a finish
/// chunk, a usage chunk, `[DONE]`.
fn answer(tokens: &[&str]) -> Reply {
    let mut payloads = vec![chunk(json!({ "role": "assistant", "content": "" }), None)];
    payloads.extend(tokens.iter().map(|t| token(t)));
    payloads.push(chunk(json!({}), Some("stop")));
    payloads.push(usage(12, tokens.len() as u32));
    Reply::Stream {
        payloads,
        gap: Duration::ZERO,
        end: End::Done,
    }
}

fn ok() -> Reply {
    answer(&["Hel", "sinki"])
}

fn status(code: u16, message: &str) -> Reply {
    let body = json!({ "error": { "message": message, "type": "test_error", "param": null, "code": null } });
    Reply::Status(code, Vec::new(), body.to_string())
}

// ---------------------------------------------------------------------------------------------
// The client side
// ---------------------------------------------------------------------------------------------

/// Short timeouts and backoff so that every test finishes in about a second; the breaker stays
/// out of the way unless a test sets it.
fn config(base_url: &str) -> OpenAiConfig {
    let mut config = OpenAiConfig::new(base_url, "test-model");
    config.connect_timeout = Duration::from_secs(2);
    config.request_timeout = Duration::from_secs(2);
    config.first_token_timeout = Duration::from_secs(2);
    config.idle_timeout = Duration::from_secs(2);
    config.max_retries = 3;
    config.retry_budget = Duration::from_secs(5);
    config.backoff_base = Duration::from_millis(10);
    config.backoff_cap = Duration::from_millis(40);
    config.breaker_threshold = 100;
    config
}

fn client(config: OpenAiConfig) -> OpenAiClient {
    OpenAiClient::new(config).expect("a valid configuration")
}

fn request() -> ChatRequest {
    let mut request = ChatRequest::new(vec![
        ChatMessage::system("You write itineraries."),
        ChatMessage::user("Day 1 in Helsinki?"),
    ]);
    request.max_tokens = 32;
    request
}

/// The pieces of text received, then how the stream ended (its `Done`, or its error).
async fn drain(mut stream: TokenStream) -> (Vec<String>, Result<(Usage, FinishReason), LlmError>) {
    let mut tokens = Vec::new();
    while let Some(event) = stream.next().await {
        match event {
            Ok(StreamEvent::Token(text)) => tokens.push(text),
            Ok(StreamEvent::Done { usage, finish }) => {
                assert!(stream.next().await.is_none(), "nothing may follow Done");
                return (tokens, Ok((usage, finish)));
            }
            Err(error) => {
                assert!(stream.next().await.is_none(), "nothing may follow an error");
                return (tokens, Err(error));
            }
        }
    }
    panic!("the stream ended without Done or an error after {tokens:?}");
}

/// Streams one request and asserts it succeeds with the text of [`ok`].
async fn assert_answers(client: &OpenAiClient) {
    let stream = client
        .stream(request())
        .await
        .expect("the request succeeds");
    let (tokens, end) = drain(stream).await;
    assert_eq!(tokens, ["Hel", "sinki"]);
    assert_eq!(
        end,
        Ok((
            Usage {
                prompt_tokens: 12,
                completion_tokens: 2
            },
            FinishReason::Stop
        ))
    );
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn happy_path_streams_exact_tokens_usage_finish_and_sends_the_key() {
    let (provider, base) =
        provider(vec![answer(&["Day", " 1", ":", " the", " Ateneum", "."])]).await;
    let mut config = config(&base);
    config.api_key = Some(SecretString::from("sk-test-123"));
    let client = client(config);

    let (tokens, end) = drain(client.stream(request()).await.expect("streams")).await;

    assert_eq!(tokens, ["Day", " 1", ":", " the", " Ateneum", "."]);
    assert_eq!(
        end,
        Ok((
            Usage {
                prompt_tokens: 12,
                completion_tokens: 6
            },
            FinishReason::Stop
        ))
    );
    assert_eq!(provider.requests(), 1);
    assert_eq!(
        *provider.authorizations.lock().expect("lock"),
        [Some("Bearer sk-test-123".to_owned())]
    );
    let body = provider.bodies.lock().expect("lock")[0].clone();
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    assert_eq!(body["max_tokens"], 32);
    assert_eq!(
        body["messages"],
        json!([
            { "role": "system", "content": "You write itineraries." },
            { "role": "user", "content": "Day 1 in Helsinki?" },
        ])
    );
    assert!(
        body.get("stop").is_none() && body.get("seed").is_none(),
        "unset options are omitted: {body}"
    );
}

#[tokio::test]
async fn complete_joins_the_stream_and_reports_length_finish() {
    let payloads = vec![
        token("Tallinn"),
        token(" is"),
        token(" close"),
        chunk(json!({}), Some("length")),
        usage(9, 3),
    ];
    let (provider, base) = provider(vec![Reply::Stream {
        payloads,
        gap: Duration::ZERO,
        end: End::Done,
    }])
    .await;
    let client = client(config(&base));

    let completion = client.complete(request()).await.expect("completes");

    assert_eq!(completion.text, "Tallinn is close");
    assert_eq!(completion.finish, FinishReason::Length);
    assert_eq!(
        completion.usage,
        Usage {
            prompt_tokens: 9,
            completion_tokens: 3
        }
    );
    assert_eq!(
        *provider.authorizations.lock().expect("lock"),
        [None],
        "no key configured, none sent"
    );
}

#[tokio::test]
async fn rate_limit_429_waits_for_retry_after_seconds_then_succeeds() {
    let limited = Reply::Status(
        429,
        vec![("retry-after", "1".into())],
        r#"{"error":{"message":"slow down"}}"#.into(),
    );
    let (provider, base) = provider(vec![limited, ok()]).await;
    let client = client(config(&base));

    let started = Instant::now();
    assert_answers(&client).await;

    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "retried after {:?}, before Retry-After",
        started.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(provider.requests(), 2);
}

#[tokio::test]
async fn unavailable_503_honours_an_http_date_retry_after() {
    // HTTP dates have whole seconds: "now + 2 s" is between 1 and 2 s away.
    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2));
    let (provider, base) = provider(vec![
        Reply::Status(503, vec![("retry-after", date)], String::new()),
        ok(),
    ])
    .await;
    let client = client(config(&base));

    let started = Instant::now();
    assert_answers(&client).await;

    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "retried after {:?}, before the date",
        started.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(provider.requests(), 2);
}

#[tokio::test]
async fn retry_after_beyond_the_budget_gives_up_at_once() {
    let limited = Reply::Status(429, vec![("retry-after", "30".into())], String::new());
    let (provider, base) = provider(vec![limited]).await;
    let mut config = config(&base);
    config.retry_budget = Duration::from_secs(2);
    let client = client(config);

    let started = Instant::now();
    let error = client.stream(request()).await.err().expect("rate limited");

    assert_eq!(
        error,
        LlmError::RateLimited {
            retry_after: Some(Duration::from_secs(30))
        }
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "waited {:?} for a hopeless retry",
        started.elapsed()
    );
    assert_eq!(provider.requests(), 1);
}

#[tokio::test]
async fn server_error_500_then_success_is_retried() {
    let (provider, base) = provider(vec![status(500, "the GPU fell over"), ok()]).await;
    let client = client(config(&base));

    assert_answers(&client).await;

    assert_eq!(provider.requests(), 2);
}

#[tokio::test]
async fn persistent_500_is_unavailable_after_max_retries() {
    let (provider, base) = provider(vec![status(500, "the GPU fell over")]).await;
    let mut config = config(&base);
    config.max_retries = 2;
    let client = client(config);

    let started = Instant::now();
    let error = client.stream(request()).await.err().expect("unavailable");

    let LlmError::Unavailable(why) = &error else {
        panic!("expected Unavailable, got {error:?}")
    };
    assert!(
        why.contains("500") && why.contains("the GPU fell over") && why.contains("3 attempts"),
        "{why}"
    );
    assert_eq!(provider.requests(), 3, "one attempt and two retries");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn retry_budget_bounds_the_total_time_of_retries() {
    let (provider, base) = provider(vec![status(502, "bad gateway")]).await;
    let mut config = config(&base);
    config.max_retries = 1000;
    config.backoff_base = Duration::from_millis(40);
    config.backoff_cap = Duration::from_millis(80);
    config.retry_budget = Duration::from_millis(400);
    let client = client(config);

    let started = Instant::now();
    let error = client.stream(request()).await.err().expect("unavailable");

    assert!(matches!(error, LlmError::Unavailable(_)), "{error:?}");
    // The last retry starts before the budget ends; its request is quick.
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "took {:?} on a 400 ms budget",
        started.elapsed()
    );
    let requests = provider.requests();
    assert!(
        (3..1000).contains(&requests),
        "{requests} requests: retried within the budget, not max_retries"
    );
}

#[tokio::test]
async fn stall_before_headers_times_out_without_waiting_out_the_stall() {
    let (provider, base) =
        provider(vec![Reply::Stall(Duration::from_secs(10), Box::new(ok()))]).await;
    let mut config = config(&base);
    config.request_timeout = Duration::from_millis(300);
    config.max_retries = 1;
    let client = client(config);

    let started = Instant::now();
    let error = client.stream(request()).await.err().expect("times out");

    assert_eq!(error, LlmError::Timeout(Duration::from_millis(300)));
    assert_eq!(
        provider.requests(),
        2,
        "a timeout before any text is retried"
    );
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(600),
        "two 300 ms attempts took only {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(2),
        "took {elapsed:?}: waited for the 10 s stall"
    );
}

#[tokio::test]
async fn stall_after_headers_before_the_first_token_is_retried() {
    let stalled = Reply::Stream {
        payloads: vec![token("late")],
        gap: Duration::from_secs(10),
        end: End::Done,
    };
    let (provider, base) = provider(vec![stalled, ok()]).await;
    let mut config = config(&base);
    config.first_token_timeout = Duration::from_millis(300);
    let client = client(config);

    let started = Instant::now();
    assert_answers(&client).await;

    assert_eq!(provider.requests(), 2);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn stall_mid_stream_times_out_after_the_text_so_far_without_retry() {
    let stalled = Reply::Stream {
        payloads: vec![token("Suomen"), token("linna")],
        gap: Duration::ZERO,
        end: End::Hang,
    };
    let (provider, base) = provider(vec![stalled, ok()]).await;
    let mut config = config(&base);
    config.idle_timeout = Duration::from_millis(300);
    let client = client(config);

    let started = Instant::now();
    let (tokens, end) = drain(client.stream(request()).await.expect("starts")).await;

    assert_eq!(tokens, ["Suomen", "linna"]);
    assert_eq!(end, Err(LlmError::Timeout(Duration::from_millis(300))));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(provider.requests(), 1, "text was delivered: no retry");
}

#[tokio::test]
async fn stream_cut_mid_way_delivers_the_partial_text_then_unavailable_without_retry() {
    let cut = Reply::Stream {
        payloads: vec![token("Kiasma"), token(" and")],
        gap: Duration::ZERO,
        end: End::Cut,
    };
    let (provider, base) = provider(vec![cut, ok()]).await;
    let client = client(config(&base));

    let (tokens, end) = drain(client.stream(request()).await.expect("starts")).await;

    assert_eq!(tokens, ["Kiasma", " and"]);
    let Err(LlmError::Unavailable(why)) = &end else {
        panic!("expected Unavailable, got {end:?}")
    };
    assert!(why.contains("ended early"), "{why}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(provider.requests(), 1, "text was delivered: no retry");
}

#[tokio::test]
async fn stream_closed_without_finish_or_done_is_unavailable() {
    let closed = Reply::Stream {
        payloads: vec![token("Esplanadi")],
        gap: Duration::ZERO,
        end: End::Close,
    };
    let (provider, base) = provider(vec![closed, ok()]).await;
    let client = client(config(&base));

    let (tokens, end) = drain(client.stream(request()).await.expect("starts")).await;

    assert_eq!(tokens, ["Esplanadi"]);
    let Err(LlmError::Unavailable(why)) = &end else {
        panic!("expected Unavailable, got {end:?}")
    };
    assert!(why.contains("ended early"), "{why}");
    assert_eq!(provider.requests(), 1);
}

#[tokio::test]
async fn stream_cut_before_any_text_is_retried() {
    let cut = Reply::Stream {
        payloads: vec![chunk(json!({ "role": "assistant" }), None)],
        gap: Duration::ZERO,
        end: End::Cut,
    };
    let (provider, base) = provider(vec![cut, ok()]).await;
    let client = client(config(&base));

    assert_answers(&client).await;

    assert_eq!(provider.requests(), 2);
}

#[tokio::test]
async fn invalid_json_in_a_chunk_is_unavailable_with_a_clear_message() {
    let garbled = Reply::Stream {
        payloads: vec![token("Oodi"), "{\"choices\": [{\"delta\": ".into()],
        gap: Duration::ZERO,
        end: End::Done,
    };
    let (provider, base) = provider(vec![garbled, ok()]).await;
    let client = client(config(&base));

    let (tokens, end) = drain(client.stream(request()).await.expect("starts")).await;

    assert_eq!(tokens, ["Oodi"]);
    let Err(LlmError::Unavailable(why)) = &end else {
        panic!("expected Unavailable, got {end:?}")
    };
    assert!(why.contains("invalid JSON"), "{why}");
    assert_eq!(provider.requests(), 1);
}

#[tokio::test]
async fn error_chunk_mid_stream_carries_the_provider_message() {
    let failing = Reply::Stream {
        payloads: vec![
            token("Löyly"),
            json!({ "error": { "message": "model overloaded" } }).to_string(),
        ],
        gap: Duration::ZERO,
        end: End::Done,
    };
    let (_provider, base) = provider(vec![failing]).await;
    let client = client(config(&base));

    let (tokens, end) = drain(client.stream(request()).await.expect("starts")).await;

    assert_eq!(tokens, ["Löyly"]);
    let Err(LlmError::Unavailable(why)) = &end else {
        panic!("expected Unavailable, got {end:?}")
    };
    assert!(why.contains("model overloaded"), "{why}");
}

#[tokio::test]
async fn unauthorized_401_is_auth_without_retry() {
    let (provider, base) =
        provider(vec![status(401, "Incorrect API key provided: sk-wr***ng")]).await;
    let mut config = config(&base);
    config.api_key = Some(SecretString::from("sk-wrong"));
    let client = client(config);

    let error = client.stream(request()).await.err().expect("refused");

    assert_eq!(error, LlmError::Auth);
    assert_eq!(provider.requests(), 1);
}

#[tokio::test]
async fn bad_request_400_carries_the_provider_message_without_retry() {
    let message = "This model's maximum context length is 4096 tokens.";
    let (provider, base) = provider(vec![status(400, message)]).await;
    let client = client(config(&base));

    let error = client.stream(request()).await.err().expect("rejected");

    let LlmError::BadRequest(why) = &error else {
        panic!("expected BadRequest, got {error:?}")
    };
    assert!(why.contains(message) && why.contains("400"), "{why}");
    assert_eq!(provider.requests(), 1);
}

#[tokio::test]
async fn unknown_model_404_is_bad_request() {
    let (provider, base) = provider(vec![status(404, "The model `gpt-nope` does not exist")]).await;
    let client = client(config(&base));

    let error = client.stream(request()).await.err().expect("rejected");

    let LlmError::BadRequest(why) = &error else {
        panic!("expected BadRequest, got {error:?}")
    };
    assert!(why.contains("does not exist"), "{why}");
    assert_eq!(provider.requests(), 1);
}

#[tokio::test]
async fn refused_connection_is_unavailable_after_retries() {
    // A port that was just free: nothing listens on it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    drop(listener);
    let mut config = config(&format!("http://{addr}/v1"));
    config.max_retries = 1;
    let client = client(config);

    let started = Instant::now();
    let error = client.stream(request()).await.err().expect("unreachable");

    let LlmError::Unavailable(why) = &error else {
        panic!("expected Unavailable, got {error:?}")
    };
    assert!(
        why.contains("cannot reach") && why.contains("2 attempts"),
        "{why}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn circuit_breaker_opens_fails_fast_and_closes_after_the_cooldown() {
    let (provider, base) = provider(vec![status(500, "down")]).await;
    let mut config = config(&base);
    config.max_retries = 0;
    config.breaker_threshold = 3;
    config.breaker_cooldown = Duration::from_millis(400);
    let client = client(config);
    let clone = client.clone();

    for _ in 0..3 {
        let error = client.stream(request()).await.err().expect("fails");
        assert!(matches!(error, LlmError::Unavailable(_)), "{error:?}");
    }
    assert_eq!(provider.requests(), 3);

    // Open: clones share the breaker, and nothing reaches the server.
    let started = Instant::now();
    let error = clone.stream(request()).await.err().expect("fails fast");
    let LlmError::CircuitOpen { retry_in } = error else {
        panic!("expected CircuitOpen, got {error:?}")
    };
    assert!(
        retry_in <= Duration::from_millis(400) && retry_in > Duration::ZERO,
        "{retry_in:?}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(50),
        "failing fast took {:?}",
        started.elapsed()
    );
    assert_eq!(
        provider.requests(),
        3,
        "an open breaker does not call the provider"
    );

    // Half-open: after the cool-down one trial goes through; it fails, so the breaker reopens.
    tokio::time::sleep(Duration::from_millis(450)).await;
    let error = client.stream(request()).await.err().expect("trial fails");
    assert!(matches!(error, LlmError::Unavailable(_)), "{error:?}");
    assert_eq!(provider.requests(), 4);
    let error = client.stream(request()).await.err().expect("open again");
    assert!(matches!(error, LlmError::CircuitOpen { .. }), "{error:?}");
    assert_eq!(provider.requests(), 4);

    // The provider recovers: the next trial succeeds and closes the breaker for everyone.
    provider.set_script(vec![ok()]);
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_answers(&client).await;
    assert_answers(&clone).await;
    assert_answers(&client).await;
    assert_eq!(provider.requests(), 7);
}

#[tokio::test]
async fn refusals_do_not_open_the_breaker() {
    let (provider, base) = provider(vec![
        status(400, "bad"),
        status(400, "bad"),
        status(400, "bad"),
        ok(),
    ])
    .await;
    let mut config = config(&base);
    config.breaker_threshold = 2;
    let client = client(config);

    for _ in 0..3 {
        let error = client.stream(request()).await.err().expect("rejected");
        assert!(matches!(error, LlmError::BadRequest(_)), "{error:?}");
    }
    assert_answers(&client).await;
    assert_eq!(provider.requests(), 4);
}

#[tokio::test]
async fn dropping_the_stream_cancels_the_request_on_the_server() {
    let tokens: Vec<String> = (0..100).map(|i| token(&format!(" word{i}"))).collect();
    let slow = Reply::Stream {
        payloads: tokens,
        gap: Duration::from_millis(20),
        end: End::Done,
    };
    let (provider, base) = provider(vec![slow]).await;
    let client = client(config(&base));

    let mut stream = client.stream(request()).await.expect("starts");
    assert_eq!(
        stream.next().await,
        Some(Ok(StreamEvent::Token(" word0".into())))
    );
    assert_eq!(
        stream.next().await,
        Some(Ok(StreamEvent::Token(" word1".into())))
    );
    drop(stream);

    // The server notices the closed connection at its next write, 20 ms later; the full answer
    // would have taken 2 s.
    let started = Instant::now();
    while provider.abandoned.load(Ordering::SeqCst) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "the server kept streaming to nobody"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(provider.requests(), 1);
}

#[test]
fn debug_output_never_shows_the_key() {
    let mut config = OpenAiConfig::new("https://api.example.invalid/v1", "gpt-test");
    config.api_key = Some(SecretString::from("sk-very-secret"));
    let client = client(config.clone());

    for shown in [format!("{config:?}"), format!("{client:?}")] {
        assert!(!shown.contains("sk-very-secret"), "{shown}");
        assert!(shown.contains("REDACTED"), "{shown}");
    }
}

#[test]
fn bad_base_urls_are_refused_with_a_hint() {
    for url in ["not a url", "ftp://example.invalid/v1"] {
        let error = OpenAiClient::new(OpenAiConfig::new(url, "m")).expect_err("refused");
        assert!(
            error.to_string().contains("http://127.0.0.1:8080/v1"),
            "{error}"
        );
    }
}

//! The embedded engine on the real SmolLM2 GGUF: batching, the prefix cache and
//! speculative decoding change speed, never text; cancellation, a full queue, an oversized
//! prompt and a missing model behave as documented.
//!
//! Token counts are kept small. The tests take a lock so that only one engine computes at a
//! time: llama.cpp's worker threads spin, and several engines on two cores would starve each
//! other.

use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::future::join_all;
use tokio::sync::{Mutex, MutexGuard};
use tripwright_llm::engine::{Engine, EngineConfig, SpeculativeConfig};
use tripwright_llm::{
    ChatMessage, ChatRequest, Completion, FinishReason, LlmClient, LlmError, StreamEvent,
};
use tripwright_testkit::assets::smollm2;

async fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::const_new(());
    LOCK.lock().await
}

/// A small engine: little KV memory, features chosen per test.
fn engine(
    max_sequences: u32,
    prefix_cache: bool,
    speculative: Option<SpeculativeConfig>,
) -> Engine {
    Engine::load(EngineConfig {
        n_ctx_per_sequence: 512,
        max_sequences,
        queue_capacity: 8,
        batch_size: 64,
        prefix_cache,
        speculative,
        ..EngineConfig::new(smollm2())
    })
    .expect("SmolLM2 loads")
}

fn greedy(messages: Vec<ChatMessage>, max_tokens: u32) -> ChatRequest {
    ChatRequest {
        max_tokens,
        temperature: 0.0,
        repeat_penalty: 1.0,
        ..ChatRequest::new(messages)
    }
}

fn ask(question: &str, max_tokens: u32) -> ChatRequest {
    greedy(vec![ChatMessage::user(question)], max_tokens)
}

const QUESTIONS: [&str; 4] = [
    "Name three museums in Helsinki.",
    "What is the capital of Portugal? Answer in one sentence.",
    "Give me two tips for travelling by train.",
    "Describe a sunny morning at a market square.",
];

/// Runs requests one after another.
async fn alone(engine: &Engine, requests: &[ChatRequest]) -> Vec<Completion> {
    let mut out = Vec::new();
    for request in requests {
        out.push(
            engine
                .complete(request.clone())
                .await
                .expect("generation succeeds"),
        );
    }
    out
}

#[tokio::test]
async fn batching_gives_each_sequence_the_text_it_gets_alone() {
    let _lock = one_at_a_time().await;
    let engine = engine(4, false, None);
    let requests: Vec<ChatRequest> = QUESTIONS.iter().map(|q| ask(q, 24)).collect();
    let expected = alone(&engine, &requests).await;
    assert!(
        expected
            .iter()
            .all(|c| !c.text.is_empty() && c.usage.completion_tokens > 0)
    );

    // All four at once, and two more joining a running pair mid-generation.
    let together = join_all(requests.iter().map(|r| engine.complete(r.clone()))).await;
    let mut first = engine.stream(requests[0].clone()).await.expect("admitted");
    let mut second = engine.stream(requests[1].clone()).await.expect("admitted");
    let head = first.next().await;
    let late = join_all(requests[2..].iter().map(|r| engine.complete(r.clone())));
    let (late, first_rest, second_all) =
        tokio::join!(late, collect(&mut first), collect(&mut second));

    for (i, completion) in together.into_iter().enumerate() {
        assert_eq!(
            completion.expect("batched generation succeeds"),
            expected[i],
            "request {i} in a batch of 4"
        );
    }
    let first_text = piece(head) + &first_rest.text;
    assert_eq!(first_text, expected[0].text);
    assert_eq!(second_all, expected[1]);
    for (i, completion) in late.into_iter().enumerate() {
        assert_eq!(
            completion.expect("late generation succeeds"),
            expected[i + 2],
            "late request {i}"
        );
    }
    assert_eq!(
        engine.stats().max_batch_sequences,
        4,
        "four sequences shared a decode call"
    );
}

fn piece(event: Option<Result<StreamEvent, LlmError>>) -> String {
    match event {
        Some(Ok(StreamEvent::Token(t))) => t,
        other => panic!("expected a token, got {other:?}"),
    }
}

/// Reads a stream to its end.
async fn collect(stream: &mut tripwright_llm::TokenStream) -> Completion {
    let mut text = String::new();
    while let Some(event) = stream.next().await {
        match event.expect("no stream error") {
            StreamEvent::Token(t) => text.push_str(&t),
            StreamEvent::Done { usage, finish } => {
                return Completion {
                    text,
                    usage,
                    finish,
                };
            }
        }
    }
    panic!("the stream ended without Done");
}

const SYSTEM: &str = "You are a concise travel assistant for Helsinki. Answer in one or two short sentences, \
    name only real places, and never invent opening hours or prices.";

#[tokio::test]
async fn the_prefix_cache_changes_speed_not_text() {
    let _lock = one_at_a_time().await;
    let requests: Vec<ChatRequest> = QUESTIONS
        .iter()
        .map(|q| greedy(vec![ChatMessage::system(SYSTEM), ChatMessage::user(*q)], 16))
        .collect();

    let plain = engine(4, false, None);
    let expected = alone(&plain, &requests).await;
    assert_eq!(plain.stats().cached_prompt_tokens, 0);
    drop(plain);

    let cached = engine(4, true, None);
    // Sequential: the first fills the cache, the rest copy it.
    assert_eq!(alone(&cached, &requests).await, expected);
    let stats = cached.stats();
    assert!(
        stats.cached_prompt_tokens >= 4 * 16,
        "every request copied the system prompt: {stats:?}"
    );
    // Concurrent, after a different system prompt took the cache: the first request rebuilds
    // it and the others wait for it.
    let poet = "You are a poet who writes short rhyming verses about cities, their streets, \
        their cafés and their weather.";
    let other = greedy(
        vec![ChatMessage::system(poet), ChatMessage::user(QUESTIONS[0])],
        8,
    );
    cached.complete(other).await.expect("generation succeeds");
    let before = cached.stats().cached_prompt_tokens;
    let together = join_all(requests.iter().map(|r| cached.complete(r.clone()))).await;
    for (i, completion) in together.into_iter().enumerate() {
        assert_eq!(
            completion.expect("generation succeeds"),
            expected[i],
            "concurrent request {i}"
        );
    }
    let copied = cached.stats().cached_prompt_tokens - before;
    assert!(
        copied >= 4 * 16,
        "the concurrent requests shared the rebuilt cache: {copied} tokens"
    );
}

#[tokio::test]
async fn speculative_decoding_changes_speed_not_text() {
    let _lock = one_at_a_time().await;
    let itinerary = |temperature: f32| ChatRequest {
        temperature,
        seed: Some(7),
        max_tokens: 48,
        ..ChatRequest::new(vec![
            ChatMessage::system("Mention every stop by its exact name."),
            ChatMessage::user(
                "Stops: Ateneum Art Museum, Helsinki Cathedral, Old Market Hall, Suomenlinna Sea Fortress. \
                 Write one sentence per stop, starting with its name.",
            ),
        ])
    };
    let requests = [itinerary(0.0), itinerary(0.8), ask(QUESTIONS[3], 32)];

    let plain = engine(2, false, None);
    let expected = alone(&plain, &requests).await;
    let plain_calls = plain.stats().decode_calls;
    drop(plain);

    let speculative = engine(2, false, Some(SpeculativeConfig::default()));
    assert_eq!(alone(&speculative, &requests).await, expected);
    let stats = speculative.stats();
    assert!(
        stats.accepted_drafts > 0,
        "some drafts were confirmed: {stats:?}"
    );
    assert!(
        stats.decode_calls < plain_calls,
        "{} decode calls vs {plain_calls} without drafts",
        stats.decode_calls
    );
    // Drafting next to a plain sequence in the same batch.
    let together = join_all(requests.iter().map(|r| speculative.complete(r.clone()))).await;
    for (i, completion) in together.into_iter().enumerate() {
        assert_eq!(
            completion.expect("generation succeeds"),
            expected[i],
            "request {i}"
        );
    }
}

#[tokio::test]
async fn dropping_a_stream_frees_its_sequence_and_the_others_continue() {
    let _lock = one_at_a_time().await;
    let engine = engine(2, false, None);
    let survivor = ask(QUESTIONS[1], 24);
    let story = ask(
        "Write a long story about a cat who travels around Finland by train.",
        200,
    );
    let expected = alone(&engine, &[survivor.clone(), story.clone()]).await;
    let full_length = u64::from(expected[1].usage.completion_tokens);
    assert!(
        full_length >= 100,
        "the story runs long uncancelled: {:?}",
        expected[1]
    );
    let before = engine.stats().generated_tokens;

    let mut doomed = engine.stream(story).await.expect("admitted");
    let mut kept = engine.stream(survivor).await.expect("admitted");
    piece(doomed.next().await);
    piece(doomed.next().await);
    drop(doomed);
    let kept = collect(&mut kept).await;
    assert_eq!(kept, expected[0]);
    wait_until(|| engine.stats().active_sequences == 0).await;
    let doomed_tokens =
        engine.stats().generated_tokens - before - u64::from(kept.usage.completion_tokens);
    assert!(
        doomed_tokens < full_length / 2,
        "the dropped stream went on for {doomed_tokens} tokens"
    );

    // Both slots are free again: two new requests run side by side.
    let again =
        join_all([ask(QUESTIONS[0], 8), ask(QUESTIONS[2], 8)].map(|r| engine.complete(r))).await;
    assert!(again.iter().all(Result::is_ok));
}

async fn wait_until(condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "condition not met within 10 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_full_queue_answers_busy_at_once() {
    let _lock = one_at_a_time().await;
    let engine = Engine::load(EngineConfig {
        n_ctx_per_sequence: 512,
        max_sequences: 1,
        queue_capacity: 1,
        batch_size: 64,
        ..EngineConfig::new(smollm2())
    })
    .expect("SmolLM2 loads");
    let long = || {
        ask(
            "Write a long story about a cat who travels around Finland by train.",
            400,
        )
    };
    let mut running = engine.stream(long()).await.expect("admitted");
    piece(running.next().await); // now it holds the only sequence
    let _queued = engine.stream(long()).await.expect("queued");
    let started = Instant::now();
    let refused = engine.stream(long()).await;
    assert!(
        matches!(refused, Err(LlmError::Busy)),
        "got {:?}",
        refused.err()
    );
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "Busy took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_prompt_that_does_not_fit_is_a_bad_request() {
    let _lock = one_at_a_time().await;
    let engine = engine(1, false, None);
    let long = "Helsinki has many museums and cafés. ".repeat(80);
    match engine.stream(ask(&long, 16)).await {
        Err(LlmError::BadRequest(message)) => {
            assert!(message.contains("512 tokens per request"), "{message}");
        }
        other => panic!("expected BadRequest, got {:?}", other.err()),
    }
    // The prompt fits but the requested output does not.
    assert!(matches!(
        engine.stream(ask(QUESTIONS[0], 500)).await,
        Err(LlmError::BadRequest(_))
    ));
    // Nothing was admitted, and the engine still works.
    assert_eq!(engine.stats().requests, 0);
    let done = engine
        .complete(ask(QUESTIONS[0], 4))
        .await
        .expect("generation succeeds");
    assert_eq!(
        (done.usage.completion_tokens, done.finish),
        (4, FinishReason::Length)
    );
}

#[tokio::test]
async fn stop_strings_end_the_text_before_them() {
    let _lock = one_at_a_time().await;
    let engine = engine(1, false, None);
    let full = engine
        .complete(ask(QUESTIONS[0], 32))
        .await
        .expect("generation succeeds");
    let words: Vec<&str> = full.text.split_whitespace().collect();
    assert!(words.len() > 4, "enough text to cut: {:?}", full.text);
    let stop = words[3].to_owned();
    let cut = engine
        .complete(ChatRequest {
            stop: vec![stop.clone()],
            ..ask(QUESTIONS[0], 32)
        })
        .await
        .expect("generation succeeds");
    let at = full.text.find(&stop).expect("the stop word is in the text");
    assert_eq!(cut.text, full.text[..at]);
    assert_eq!(cut.finish, FinishReason::Stop);
}

#[test]
fn a_missing_model_file_is_a_clear_error() {
    let path = std::env::temp_dir().join("tripwright-no-such-model.gguf");
    match Engine::load(EngineConfig::new(&path)) {
        Err(LlmError::Engine(message)) => {
            assert!(message.contains(&path.display().to_string()), "{message}");
            assert!(message.contains("scripts/fetch_assets.sh"), "{message}");
        }
        other => panic!("expected an engine error, got {other:?}"),
    }
}

#[tokio::test]
async fn forbidden_characters_are_never_generated() {
    let _lock = one_at_a_time().await;
    let engine = engine(1, false, None);
    let count = || ask("Count from 1 to 20, separated by commas.", 40);
    let free = engine.complete(count()).await.expect("generation succeeds");
    assert!(
        free.text.chars().filter(char::is_ascii_digit).count() > 5,
        "the model counts in digits when it may: {:?}",
        free.text
    );
    let masked = engine
        .complete(ChatRequest {
            forbidden_chars: ('0'..='9').collect(),
            ..count()
        })
        .await
        .expect("generation succeeds");
    assert!(
        !masked.text.trim().is_empty() && !masked.text.contains(|c: char| c.is_ascii_digit()),
        "no digit once digits are forbidden: {:?}",
        masked.text
    );
    // Forbidding some characters leaves the others.
    let some = engine
        .complete(ChatRequest {
            forbidden_chars: vec!['7'],
            ..count()
        })
        .await
        .expect("generation succeeds");
    assert!(
        !some.text.contains('7') && some.text.contains('1'),
        "7 masked, 1 kept: {:?}",
        some.text
    );
}

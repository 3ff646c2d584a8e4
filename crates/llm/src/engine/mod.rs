//! The embedded llama.cpp engine: the zero-configuration default [`LlmClient`] (issue 3).
//!
//! `LlamaContext` must stay on one thread, so the engine is an actor: [`Engine::load`] loads the
//! GGUF and spawns one OS thread that owns the context and runs the [`scheduler`]. Callers
//! render and tokenise their prompt on their own task (the model itself is thread-safe), then
//! hand a job to the actor over a bounded channel — a full channel answers [`LlmError::Busy`]
//! at once instead of queueing without bound. Each job carries its own unbounded event
//! channel (bounded in practice by `max_tokens`) that becomes the caller's [`TokenStream`];
//! dropping the stream closes that channel, which the actor notices between decode steps and
//! frees the sequence's KV cells.
//!
//! Inside the actor, one context with `n_seq_max` sequences is shared by all requests:
//! continuous batching, a prefilled system-prompt prefix shared through `kv_cache_seq_cp`, and
//! prompt-lookup speculative decoding are described in [`scheduler`] and [`lookup`].

mod bench;
mod lookup;
mod prompt;
mod scheduler;
mod sequence;

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use llama_cpp_2::context::params::{KvCacheType, LlamaContextParams};
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use tokio::sync::mpsc::unbounded_channel;

use crate::{ChatRequest, LlmClient, LlmError, TokenStream};

pub use bench::{BenchOptions, BenchReport, ConcurrencyFigures, bench_llm};
pub use lookup::SpeculativeConfig;

use prompt::ChatFormat;
use scheduler::{Job, Scheduler};

/// How to load and run the embedded model.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// The GGUF file.
    pub model_path: PathBuf,
    /// Context window of one request: prompt plus `max_tokens` must fit in it. The KV cache
    /// holds `max_sequences × n_ctx_per_sequence` tokens, plus one sequence's worth for the
    /// cached prefix, so this and `max_sequences` bound the engine's memory.
    pub n_ctx_per_sequence: u32,
    /// Requests generated at the same time (continuous batching); more wait in the queue.
    pub max_sequences: u32,
    /// Requests that may wait for a free sequence; beyond this the engine answers `Busy`.
    pub queue_capacity: usize,
    /// CPU threads for llama.cpp (default: all cores).
    pub threads: u32,
    /// Most tokens in one decode call; long prompts are prefilled in chunks of what remains
    /// after the running sequences' tokens, so this also bounds how long a newcomer's prefill
    /// can stall the others. Must be at least `max_sequences`.
    pub batch_size: u32,
    /// Keep the last system prompt's KV cache and copy it into new sequences.
    pub prefix_cache: bool,
    /// Prompt-lookup speculative decoding; `None` disables it.
    pub speculative: Option<SpeculativeConfig>,
}

impl EngineConfig {
    /// The defaults: 2048 tokens per request, 8 sequences, 32 waiting, all cores, batches of
    /// 256, prefix caching and speculative decoding on.
    pub fn new(model_path: impl Into<PathBuf>) -> Self {
        Self {
            model_path: model_path.into(),
            n_ctx_per_sequence: 2048,
            max_sequences: 8,
            queue_capacity: 32,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get() as u32),
            batch_size: 256,
            prefix_cache: true,
            speculative: Some(SpeculativeConfig::default()),
        }
    }
}

/// The embedded model. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct Engine {
    model: Arc<LlamaModel>,
    format: ChatFormat,
    jobs: SyncSender<Job>,
    model_id: String,
    n_ctx_per_sequence: u32,
    counters: Arc<Counters>,
}

/// What the engine has done since it started: shows whether batching, the prefix cache and
/// speculation are doing their job (tests, the bench, metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Requests admitted into a sequence.
    pub requests: u64,
    /// Sequences generating or prefilling now.
    pub active_sequences: u64,
    /// Prompt tokens of admitted requests.
    pub prompt_tokens: u64,
    /// Of those, tokens copied from the prefix cache instead of being prefilled.
    pub cached_prompt_tokens: u64,
    /// Tokens generated.
    pub generated_tokens: u64,
    /// Draft tokens proposed by prompt lookup.
    pub drafted_tokens: u64,
    /// Draft tokens the model confirmed (each saves one decode step).
    pub accepted_drafts: u64,
    /// llama.cpp decode calls.
    pub decode_calls: u64,
    /// Most sequences that shared one decode call.
    pub max_batch_sequences: u64,
}

/// The engine thread's side of [`EngineStats`].
#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    active_sequences: AtomicU64,
    prompt_tokens: AtomicU64,
    cached_prompt_tokens: AtomicU64,
    generated_tokens: AtomicU64,
    drafted_tokens: AtomicU64,
    accepted_drafts: AtomicU64,
    decode_calls: AtomicU64,
    max_batch_sequences: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }

    fn snapshot(&self) -> EngineStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        EngineStats {
            requests: get(&self.requests),
            active_sequences: get(&self.active_sequences),
            prompt_tokens: get(&self.prompt_tokens),
            cached_prompt_tokens: get(&self.cached_prompt_tokens),
            generated_tokens: get(&self.generated_tokens),
            drafted_tokens: get(&self.drafted_tokens),
            accepted_drafts: get(&self.accepted_drafts),
            decode_calls: get(&self.decode_calls),
            max_batch_sequences: get(&self.max_batch_sequences),
        }
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("model_id", &self.model_id)
            .finish_non_exhaustive()
    }
}

/// llama.cpp's global state may be initialised once per process; every engine shares it.
fn backend() -> Result<&'static LlamaBackend, LlmError> {
    static BACKEND: OnceLock<Option<LlamaBackend>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
            LlamaBackend::init().ok()
        })
        .as_ref()
        .ok_or_else(|| LlmError::Engine("llama.cpp could not be initialised".into()))
}

/// Loads a GGUF model, failing with a message that names the file.
pub(crate) fn load_model(path: &Path) -> Result<LlamaModel, LlmError> {
    if !path.is_file() {
        return Err(LlmError::Engine(format!(
            "model file {} not found; run scripts/fetch_assets.sh or set the model path",
            path.display()
        )));
    }
    // AMX is compiled out in .cargo/config.toml (its release build crashes); ggml's AVX-512
    // kernels with repacked weights run instead.
    LlamaModel::load_from_file(backend()?, path, &LlamaModelParams::default()).map_err(|e| {
        LlmError::Engine(format!(
            "could not load {} as a GGUF model: {e}",
            path.display()
        ))
    })
}

/// Context parameters shared by the engine and the bench's bare baseline loop, so the two are
/// measured on identical settings.
pub(crate) fn context_params(
    n_ctx: u32,
    n_seq_max: u32,
    batch_size: u32,
    threads: u32,
) -> LlamaContextParams {
    let threads = i32::try_from(threads.max(1)).unwrap_or(1);
    LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(n_ctx))
        .with_n_batch(batch_size)
        .with_n_ubatch(batch_size)
        .with_n_seq_max(n_seq_max)
        .with_n_threads(threads)
        .with_n_threads_batch(threads)
        // A KV stream per sequence, so a sequence's cells are always in position order. In a
        // shared buffer, cells freed by one sequence are reused by the others out of order,
        // attention then sums in a different order, and greedy text changes with whatever
        // else was running (measured: up to 0.6 logits after a few steps).
        .with_kv_unified(false)
        // An 8-bit KV cache halves its memory and pins one attention kernel: with an f16
        // cache, llama.cpp's CPU flash attention picks kernels by micro-batch size (a tiled
        // f32 one from 64 query tokens, a split-KV one for a lone token over 512+ cells) whose
        // rounding differs enough to change greedy output.
        .with_flash_attention_policy(FLASH_ATTENTION_ENABLED)
        .with_type_k(KvCacheType::Q8_0)
        .with_type_v(KvCacheType::Q8_0)
}

/// `LLAMA_FLASH_ATTN_TYPE_ENABLED`; a quantised V cache needs flash attention.
const FLASH_ATTENTION_ENABLED: i32 = 1;

impl Engine {
    /// Loads the model and starts the engine thread.
    ///
    /// # Errors
    /// [`LlmError::Engine`] naming the file when it is missing or not a loadable GGUF, or when
    /// the configuration is inconsistent or the context cannot be allocated.
    pub fn load(config: EngineConfig) -> Result<Self, LlmError> {
        if config.max_sequences == 0 || config.n_ctx_per_sequence < 16 || config.queue_capacity == 0
        {
            return Err(LlmError::Engine(
                "max_sequences and queue_capacity must be at least 1 and n_ctx_per_sequence at least 16".into(),
            ));
        }
        if config.batch_size < config.max_sequences {
            return Err(LlmError::Engine(format!(
                "batch_size ({}) must be at least max_sequences ({}) so every running sequence fits in a step",
                config.batch_size, config.max_sequences
            )));
        }
        let model = Arc::new(load_model(&config.model_path)?);
        let format = ChatFormat::for_model(&model)?;
        let model_id = config
            .model_path
            .file_stem()
            .map_or_else(|| "local".to_owned(), |s| s.to_string_lossy().into_owned());

        // One extra sequence id and one extra context's worth of cells for the cached prefix.
        let n_seq_max = config.max_sequences + u32::from(config.prefix_cache);
        let n_ctx = config.n_ctx_per_sequence.saturating_mul(n_seq_max);
        let params = context_params(n_ctx, n_seq_max, config.batch_size, config.threads);

        let (jobs, inbox) = mpsc::sync_channel(config.queue_capacity);
        let (started_tx, started) = mpsc::sync_channel(1);
        let thread_model = Arc::clone(&model);
        let backend = backend()?;
        let counters = Arc::new(Counters::default());
        let thread_counters = Arc::clone(&counters);
        let settings = scheduler::Settings {
            max_sequences: config.max_sequences,
            batch_size: config.batch_size as usize,
            prefix_cache: config.prefix_cache,
            speculative: config.speculative,
        };
        std::thread::Builder::new()
            .name("llm-engine".into())
            .spawn(move || {
                let ctx = match thread_model.new_context(backend, params) {
                    Ok(ctx) => ctx,
                    Err(e) => {
                        let _ = started_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                let _ = started_tx.send(Ok(()));
                Scheduler::new(&thread_model, ctx, inbox, settings, thread_counters).run();
            })
            .map_err(|e| LlmError::Engine(format!("could not start the engine thread: {e}")))?;
        match started.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                return Err(LlmError::Engine(format!(
                    "could not allocate a {n_ctx}-token context for {}: {e}; lower n_ctx_per_sequence or max_sequences",
                    config.model_path.display()
                )));
            }
            Err(_) => {
                return Err(LlmError::Engine(
                    "the engine thread stopped while starting".into(),
                ));
            }
        }
        Ok(Self {
            model,
            format,
            jobs,
            model_id,
            n_ctx_per_sequence: config.n_ctx_per_sequence,
            counters,
        })
    }

    /// Counters since the engine started.
    pub fn stats(&self) -> EngineStats {
        self.counters.snapshot()
    }

    /// Checks a request and turns it into a job for the engine thread.
    fn prepare(
        &self,
        request: &ChatRequest,
    ) -> Result<(Job, tokio::sync::mpsc::UnboundedReceiver<scheduler::Event>), LlmError> {
        validate(request)?;
        let prompt = self.format.render(&self.model, &request.messages)?;
        let needed = prompt.tokens.len() + request.max_tokens as usize;
        if needed > self.n_ctx_per_sequence as usize {
            return Err(LlmError::BadRequest(format!(
                "the prompt has {} tokens and max_tokens is {}, but the local model holds {} tokens per request; \
                 shorten the prompt or lower max_tokens",
                prompt.tokens.len(),
                request.max_tokens,
                self.n_ctx_per_sequence
            )));
        }
        let (events, receiver) = unbounded_channel();
        let job = Job {
            prompt: prompt.tokens,
            system_len: prompt.system_len,
            temperature: request.temperature,
            top_p: request.top_p,
            repeat_penalty: request.repeat_penalty,
            seed: request.seed,
            forbidden_chars: request.forbidden_chars.clone(),
            max_tokens: request.max_tokens,
            stop: request
                .stop
                .iter()
                .filter(|s| !s.is_empty())
                .cloned()
                .collect(),
            events,
        };
        Ok((job, receiver))
    }
}

/// Rejects sampling settings llama.cpp would misbehave on.
fn validate(request: &ChatRequest) -> Result<(), LlmError> {
    let problem = if request.messages.is_empty() {
        Some("the request has no messages".to_owned())
    } else if request.max_tokens == 0 {
        Some("max_tokens must be at least 1".to_owned())
    } else if !(request.temperature.is_finite() && request.temperature >= 0.0) {
        Some(format!(
            "temperature must be a number ≥ 0, not {}",
            request.temperature
        ))
    } else if !(request.top_p > 0.0 && request.top_p <= 1.0) {
        Some(format!("top_p must be in (0, 1], not {}", request.top_p))
    } else if !(request.repeat_penalty.is_finite() && request.repeat_penalty > 0.0) {
        Some(format!(
            "repeat_penalty must be a number > 0, not {}",
            request.repeat_penalty
        ))
    } else {
        None
    };
    problem.map_or(Ok(()), |p| Err(LlmError::BadRequest(p)))
}

#[async_trait]
impl LlmClient for Engine {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn stats(&self) -> Option<EngineStats> {
        Some(Engine::stats(self))
    }

    async fn stream(&self, request: ChatRequest) -> Result<TokenStream, LlmError> {
        let (job, mut receiver) = self.prepare(&request)?;
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => LlmError::Busy,
            TrySendError::Disconnected(_) => {
                LlmError::Engine("the engine thread has stopped; restart the application".into())
            }
        })?;
        Ok(Box::pin(futures::stream::poll_fn(move |cx| {
            receiver.poll_recv(cx)
        })))
    }
}

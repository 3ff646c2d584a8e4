//! `tripwright bench llm`: the engine's speed and memory figures against issue 3's targets,
//! measured in one run on one GGUF so the ratios compare like with like.

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::future::join_all;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::sampling::LlamaSampler;

use super::lookup::SpeculativeConfig;
use super::prompt::ChatFormat;
use super::{Engine, EngineConfig, backend, context_params, load_model};
use crate::{ChatMessage, ChatRequest, LlmClient, LlmError, StreamEvent};

/// What to measure with.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchOptions {
    /// The GGUF file (the default Qwen model for the targets).
    pub model_path: PathBuf,
    /// CPU threads.
    pub threads: u32,
    /// Tokens generated per request in the decode-speed runs.
    pub max_tokens: u32,
}

impl BenchOptions {
    /// All cores, 128 tokens per request.
    pub fn new(model_path: impl Into<PathBuf>) -> Self {
        let engine = EngineConfig::new(model_path);
        Self {
            model_path: engine.model_path,
            threads: engine.threads,
            max_tokens: 128,
        }
    }

    fn engine(&self, prefix_cache: bool, speculative: Option<SpeculativeConfig>) -> EngineConfig {
        EngineConfig {
            threads: self.threads,
            prefix_cache,
            speculative,
            ..EngineConfig::new(&self.model_path)
        }
    }
}

/// Throughput and latency with several streams at once.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ConcurrencyFigures {
    /// Streams started together.
    pub streams: usize,
    /// Generated tokens over the wall time from the first request to the last token.
    pub aggregate_tokens_per_s: f64,
    /// Time to first token, median, in milliseconds.
    pub ttft_p50_ms: f64,
    /// Time to first token, 99th percentile.
    pub ttft_p99_ms: f64,
    /// Gap between successive streamed pieces, median.
    pub itl_p50_ms: f64,
    /// Gap between successive streamed pieces, 99th percentile.
    pub itl_p99_ms: f64,
}

/// Everything `bench_llm` measured.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BenchReport {
    /// Model file name.
    pub model: String,
    /// CPU threads used.
    pub threads: u32,
    /// 1-minute load average before and after the run (other work on the machine skews it).
    pub load_average: (Option<f64>, Option<f64>),
    /// Decode tokens/s of a bare llama-cpp-2 loop on one sequence, no actor.
    pub baseline_tokens_per_s: f64,
    /// Decode tokens/s of one stream through the engine.
    pub single_stream_tokens_per_s: f64,
    /// Concurrency 1, 4 and 8.
    pub concurrency: Vec<ConcurrencyFigures>,
    /// Tokens in the shared system prompt of the prefix-cache runs.
    pub prefix_tokens: usize,
    /// Median time to first token with the prefix cache off, ms.
    pub prefix_off_ttft_ms: f64,
    /// The same with the prefix cache on (system prompt already cached), ms.
    pub prefix_on_ttft_ms: f64,
    /// Decode tokens/s on the itinerary prompt without speculation.
    pub speculative_off_tokens_per_s: f64,
    /// The same with prompt-lookup speculation.
    pub speculative_on_tokens_per_s: f64,
    /// Whether speculation produced exactly the same text (temperature 0).
    pub speculative_same_output: bool,
    /// Where the two texts part, when they do: the shared prefix's length in characters and
    /// the next few characters of each.
    pub speculative_divergence: Option<String>,
    /// Peak resident memory of the process while serving 8 streams, MiB (Linux only).
    pub peak_rss_mib: Option<f64>,
    /// How the figures were measured.
    pub method: String,
}

/// Runs the whole benchmark; takes a few minutes on two cores with the default model.
///
/// # Errors
/// Any engine error (missing model file, decode failure).
pub async fn bench_llm(options: &BenchOptions) -> Result<BenchReport, LlmError> {
    let load_before = load_average();
    let bare = options.clone();
    let baseline_tokens_per_s = tokio::task::spawn_blocking(move || bare_decode_rate(&bare))
        .await
        .map_err(|e| LlmError::Engine(format!("the baseline run panicked: {e}")))??;

    // Plain engine: single stream, concurrency, and the "off" side of both features.
    reset_peak_rss();
    let engine = Engine::load(options.engine(false, None))?;
    let single = timed(&engine, guide_request(0, options.max_tokens)).await?;
    let mut concurrency = Vec::new();
    for streams in [1, 4, 8] {
        concurrency.push(concurrent(&engine, streams, options.max_tokens).await?);
    }
    let peak_rss_mib = peak_rss_mib();
    let prefix_tokens = system_prompt_tokens(&engine)?;
    let prefix_off_ttft_ms = prefix_ttft_ms(&engine).await?;
    let speculative_off = timed(&engine, itinerary_request()).await?;
    drop(engine);

    let engine = Engine::load(options.engine(true, None))?;
    let prefix_on_ttft_ms = prefix_ttft_ms(&engine).await?;
    drop(engine);

    let engine = Engine::load(options.engine(false, Some(SpeculativeConfig::default())))?;
    timed(&engine, guide_request(1, 8)).await?; // warm-up: first-decode allocations
    let speculative_on = timed(&engine, itinerary_request()).await?;
    drop(engine);

    Ok(BenchReport {
        model: options
            .model_path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        threads: options.threads,
        load_average: (load_before, load_average()),
        baseline_tokens_per_s,
        single_stream_tokens_per_s: single.decode_rate(),
        concurrency,
        prefix_tokens,
        prefix_off_ttft_ms,
        prefix_on_ttft_ms,
        speculative_off_tokens_per_s: speculative_off.decode_rate(),
        speculative_on_tokens_per_s: speculative_on.decode_rate(),
        speculative_same_output: speculative_off.text == speculative_on.text,
        speculative_divergence: divergence(&speculative_off.text, &speculative_on.text),
        peak_rss_mib,
        method: method(options),
    })
}

fn method(options: &BenchOptions) -> String {
    let build = if cfg!(debug_assertions) {
        "Debug (dependencies optimised)"
    } else {
        "Release"
    };
    format!(
        "{build} build, {threads} threads, one process, figures from one run. Baseline: a bare llama-cpp-2 loop \
         (same context parameters, one sequence, greedy) prefills a guide prompt and decodes up to {max} tokens; \
         tokens/s = tokens after the first / time after the first. Single stream: the same request through the \
         engine (actor thread, channels, text decoding), same formula, prefix cache and speculation off. \
         Concurrency N: N different guide prompts sent at once, temperature 0, up to {max} tokens each; aggregate \
         = all generated tokens / wall time from sending to the last token (prefill included); TTFT from sending \
         to the first streamed piece; ITL = gaps between a stream's pieces; percentiles nearest-rank over all \
         streams. Prefix cache: a planner system prompt plus a short user turn, 1 token generated; median TTFT \
         of 5 requests after one warm-up that fills the cache, cache on vs off. Speculation: an itinerary prompt \
         that lists place names, temperature 0, up to 160 tokens, n-gram lookup (2–4 tokens, up to 2 drafts) on \
         vs off; decode tokens/s as for the single stream; outputs compared. Peak RSS: VmHWM reset before \
         loading the plain engine (8 sequences × 2048 tokens) and read after the 8-stream run.",
        threads = options.threads,
        max = options.max_tokens,
    )
}

/// One stream's timeline.
struct Timed {
    sent: Instant,
    first: Option<Instant>,
    pieces: Vec<Instant>,
    done: Instant,
    text: String,
    completion_tokens: u32,
}

impl Timed {
    fn ttft_ms(&self) -> f64 {
        ms(self.first.unwrap_or(self.done) - self.sent)
    }

    /// Tokens after the first over the time after the first.
    fn decode_rate(&self) -> f64 {
        let first = self.first.unwrap_or(self.done);
        let secs = (self.done - first).as_secs_f64();
        if secs > 0.0 {
            f64::from(self.completion_tokens.saturating_sub(1)) / secs
        } else {
            0.0
        }
    }
}

async fn timed(engine: &Engine, request: ChatRequest) -> Result<Timed, LlmError> {
    let sent = Instant::now();
    let mut stream = engine.stream(request).await?;
    let (mut first, mut pieces, mut text) = (None, Vec::new(), String::new());
    while let Some(event) = stream.next().await {
        let now = Instant::now();
        first.get_or_insert(now);
        match event? {
            StreamEvent::Token(piece) => {
                pieces.push(now);
                text.push_str(&piece);
            }
            StreamEvent::Done { usage, .. } => {
                return Ok(Timed {
                    sent,
                    first,
                    pieces,
                    done: now,
                    text,
                    completion_tokens: usage.completion_tokens,
                });
            }
        }
    }
    Err(LlmError::Engine(
        "the stream ended without a final event".into(),
    ))
}

async fn concurrent(
    engine: &Engine,
    streams: usize,
    max_tokens: u32,
) -> Result<ConcurrencyFigures, LlmError> {
    let start = Instant::now();
    let runs = join_all((0..streams).map(|i| timed(engine, guide_request(i, max_tokens))))
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    let end = runs.iter().map(|r| r.done).max().unwrap_or(start);
    let tokens: u32 = runs.iter().map(|r| r.completion_tokens).sum();
    let mut ttft: Vec<f64> = runs.iter().map(Timed::ttft_ms).collect();
    let mut itl: Vec<f64> = runs
        .iter()
        .flat_map(|r| r.pieces.windows(2).map(|w| ms(w[1] - w[0])))
        .collect();
    Ok(ConcurrencyFigures {
        streams,
        aggregate_tokens_per_s: f64::from(tokens) / (end - start).as_secs_f64().max(1e-9),
        ttft_p50_ms: percentile(&mut ttft, 50.0),
        ttft_p99_ms: percentile(&mut ttft, 99.0),
        itl_p50_ms: percentile(&mut itl, 50.0),
        itl_p99_ms: percentile(&mut itl, 99.0),
    })
}

async fn prefix_ttft_ms(engine: &Engine) -> Result<f64, LlmError> {
    timed(engine, planner_request(0)).await?;
    let mut ttft = Vec::new();
    for i in 1..=5 {
        ttft.push(timed(engine, planner_request(i)).await?.ttft_ms());
    }
    Ok(percentile(&mut ttft, 50.0))
}

fn system_prompt_tokens(engine: &Engine) -> Result<usize, LlmError> {
    Ok(engine
        .format
        .render(&engine.model, &planner_request(0).messages)?
        .system_len)
}

/// The bare llama-cpp-2 decode loop the engine's overhead is measured against.
fn bare_decode_rate(options: &BenchOptions) -> Result<f64, LlmError> {
    let engine = options.engine(false, None);
    let model = load_model(&options.model_path)?;
    let params = context_params(
        engine.n_ctx_per_sequence,
        1,
        engine.batch_size,
        options.threads,
    );
    let mut ctx = model
        .new_context(backend()?, params)
        .map_err(|e| LlmError::Engine(e.to_string()))?;
    let prompt = ChatFormat::for_model(&model)?
        .render(&model, &guide_request(0, 0).messages)?
        .tokens;
    let vocab = model.vocab();
    let engine_error =
        |e: &dyn fmt::Display| LlmError::Engine(format!("baseline decode failed: {e}"));

    let mut batch = LlamaBatch::new(prompt.len().max(1), 1);
    batch
        .add_sequence(&prompt, 0, false)
        .map_err(|e| engine_error(&e))?;
    ctx.decode(&mut batch).map_err(|e| engine_error(&e))?;
    let mut sampler = LlamaSampler::greedy();
    let mut token = sampler.sample(&ctx, batch.n_tokens() - 1);
    let start = Instant::now();
    let mut decoded = 0u32;
    for pos in prompt.len()..prompt.len() + options.max_tokens as usize - 1 {
        if vocab.is_eog(token) {
            break;
        }
        batch.clear();
        batch
            .add(token, pos as i32, &[0], true)
            .map_err(|e| engine_error(&e))?;
        ctx.decode(&mut batch).map_err(|e| engine_error(&e))?;
        token = sampler.sample(&ctx, 0);
        decoded += 1;
    }
    Ok(f64::from(decoded) / start.elapsed().as_secs_f64().max(1e-9))
}

const CITIES: [&str; 8] = [
    "Helsinki",
    "Lisbon",
    "Kyoto",
    "Montreal",
    "Cape Town",
    "Krakow",
    "Hanoi",
    "Lima",
];

/// A prompt that makes the model write at length.
fn guide_request(i: usize, max_tokens: u32) -> ChatRequest {
    let city = CITIES[i % CITIES.len()];
    ChatRequest {
        max_tokens,
        temperature: 0.0,
        repeat_penalty: 1.0,
        ..ChatRequest::new(vec![ChatMessage::user(format!(
            "Write a detailed travel guide to {city}: its history, food, museums, neighbourhoods and day trips."
        ))])
    }
}

/// About 300 tokens of planner instructions shared by every request, then a short user turn.
fn planner_request(i: usize) -> ChatRequest {
    let system = "You are the itinerary planner of Tripwright, a travel planning assistant. You receive the \
        traveller's destination, dates, budget and preferences, and a list of candidate stops that come from \
        OpenStreetMap data: museums, galleries, attractions, restaurants, cafés and parks, each with a name, a \
        category, opening hours when known and coordinates. Rules: use only the candidate stops you are given and \
        write their names exactly as given; never invent a place, a price, an opening time or a fact; group stops \
        that are close to each other on the same day; start each day near the hotel; put museums in the morning \
        and restaurants at lunch and dinner time; leave time to walk between stops; plan no more than five stops \
        a day; prefer what matches the traveller's preferences, and say so briefly; if the candidate list is too \
        short for the trip, say that plainly instead of filling the days. Style: write a short introduction for \
        each day, then one or two sentences per stop that say why it is worth the visit. Use plain, friendly \
        English, no marketing words, no emojis, no lists of facts. Keep each day under one hundred and twenty \
        words. Candidate stops: Ateneum Art Museum; Kiasma Museum of Contemporary Art; Helsinki Cathedral; \
        Market Square; Old Market Hall; Suomenlinna Sea Fortress; Design Museum; Amos Rex; Oodi Central Library; \
        Temppeliaukio Church; Sibelius Monument; Cafe Regatta; Esplanadi Park; Allas Sea Pool.";
    ChatRequest {
        max_tokens: 1,
        temperature: 0.0,
        ..ChatRequest::new(vec![
            ChatMessage::system(system),
            ChatMessage::user(format!(
                "Plan day {} of a trip to Helsinki for someone who likes {}.",
                i + 1,
                [
                    "museums",
                    "coffee",
                    "architecture",
                    "the sea",
                    "design",
                    "music"
                ][i % 6]
            )),
        ])
    }
}

/// An itinerary prompt whose answer quotes the place names it lists.
fn itinerary_request() -> ChatRequest {
    ChatRequest {
        max_tokens: 160,
        temperature: 0.0,
        ..ChatRequest::new(vec![
            ChatMessage::system(
                "You write short travel itineraries. Mention every stop by its exact name.",
            ),
            ChatMessage::user(
                "Day 1 in Helsinki: Ateneum Art Museum (09:00), Helsinki Cathedral (11:00), Old Market Hall \
                 (12:30), Suomenlinna Sea Fortress (14:00). Day 2: Kiasma Museum of Contemporary Art (10:00), \
                 Oodi Central Library (12:00), Temppeliaukio Church (14:00), Sibelius Monument (16:00). For each \
                 day write a one-sentence introduction, then one sentence per stop that starts with the stop's \
                 exact name and time.",
            ),
        ])
    }
}

/// Where `a` and `b` part: `None` when equal.
fn divergence(a: &str, b: &str) -> Option<String> {
    if a == b {
        return None;
    }
    let common = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    let tail = |s: &str| s.chars().skip(common).take(24).collect::<String>();
    Some(format!(
        "after {common} equal characters: plain {:?} vs speculative {:?}",
        tail(a),
        tail(b)
    ))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Nearest-rank percentile (0 for no data).
fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}

fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Resets the kernel's peak-RSS mark so the figure covers only what follows.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let check = |ok: bool| if ok { "meets target" } else { "BELOW TARGET" };
        let load = |l: Option<f64>| l.map_or_else(|| "?".to_owned(), |l| format!("{l:.2}"));
        writeln!(
            f,
            "LLM engine benchmark — {} on {} threads (load average {} → {})",
            self.model,
            self.threads,
            load(self.load_average.0),
            load(self.load_average.1)
        )?;
        let overhead = self.single_stream_tokens_per_s / self.baseline_tokens_per_s.max(1e-9);
        writeln!(
            f,
            "  bare llama-cpp-2 loop   {:7.1} tok/s",
            self.baseline_tokens_per_s
        )?;
        writeln!(
            f,
            "  single stream (actor)   {:7.1} tok/s  = {:.0} % of bare (target ≥ 95 %: {})",
            self.single_stream_tokens_per_s,
            overhead * 100.0,
            check(overhead >= 0.95)
        )?;
        let single = self
            .concurrency
            .first()
            .map_or(0.0, |c| c.aggregate_tokens_per_s);
        writeln!(
            f,
            "  streams  aggregate tok/s  ×single  TTFT p50/p99 ms   ITL p50/p99 ms"
        )?;
        for c in &self.concurrency {
            let gain = c.aggregate_tokens_per_s / single.max(1e-9);
            let target = match c.streams {
                4 => Some(1.5),
                8 => Some(2.0),
                _ => None,
            };
            writeln!(
                f,
                "  {:>7}  {:>15.1}  {:>6.2}×  {:>7.0} / {:<7.0}  {:>6.1} / {:<6.1} {}",
                c.streams,
                c.aggregate_tokens_per_s,
                gain,
                c.ttft_p50_ms,
                c.ttft_p99_ms,
                c.itl_p50_ms,
                c.itl_p99_ms,
                target.map_or_else(String::new, |t| format!(
                    "(target ≥ {t}×: {})",
                    check(gain >= t)
                ))
            )?;
        }
        let prefix = self.prefix_on_ttft_ms / self.prefix_off_ttft_ms.max(1e-9);
        writeln!(
            f,
            "  prefix cache ({} shared tokens): TTFT {:.0} ms on vs {:.0} ms off = {:.0} % (target ≤ 50 %: {})",
            self.prefix_tokens,
            self.prefix_on_ttft_ms,
            self.prefix_off_ttft_ms,
            prefix * 100.0,
            check(prefix <= 0.5)
        )?;
        let spec = self.speculative_on_tokens_per_s / self.speculative_off_tokens_per_s.max(1e-9);
        writeln!(
            f,
            "  prompt-lookup speculation: {:.1} tok/s on vs {:.1} off = {:.2}× (target ≥ 1.2×: {}); same output: {}",
            self.speculative_on_tokens_per_s,
            self.speculative_off_tokens_per_s,
            spec,
            check(spec >= 1.2),
            if self.speculative_same_output {
                "yes"
            } else {
                "NO"
            }
        )?;
        if let Some(d) = &self.speculative_divergence {
            writeln!(f, "    texts part {d}")?;
        }
        match self.peak_rss_mib {
            Some(rss) => writeln!(
                f,
                "  peak RSS with 8 sequences: {rss:.0} MiB (target ≤ 1024 MiB: {})",
                check(rss <= 1024.0)
            )?,
            None => writeln!(f, "  peak RSS: not available on this platform")?,
        }
        write!(f, "Method: {}", self.method)
    }
}

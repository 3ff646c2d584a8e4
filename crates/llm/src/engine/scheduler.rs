//! The engine thread: continuous batching over one llama.cpp context.
//!
//! Each loop iteration admits queued requests into free sequence slots, drops sequences whose
//! caller went away, and runs one decode step over a single `LlamaBatch` holding:
//! 1. for every decoding sequence, its pending token plus the same number of prompt-lookup
//!    drafts ([`super::lookup`]), all with logits;
//! 2. with the room left, the next chunk of the prefix cache's system prompt and of each
//!    waiting prompt, oldest first, with logits only on a prompt's last token.
//!
//! A newcomer therefore joins between two steps without stopping anyone, and a sequence that
//! finishes leaves while the rest go on.
//!
//! **Same text however a request is batched.** Every sequence has its own KV stream (a
//! non-unified cache): its cells are always in position order, so attention sums in the same
//! order as when it runs alone, and the quantised cache pins one attention kernel (see
//! `context_params`). Split streams are batched into one micro-batch only when their ids are
//! consecutive and they feed the same number of tokens, so the scheduler keeps occupied slots
//! contiguous (a leaving sequence's hole is filled by moving the last one, a stream copy) and
//! gives every decoding sequence the same number of drafts.
//!
//! **Prefix cache.** A reserved sequence holds the latest system prompt. A request whose prompt
//! starts with it gets a copy of those cells (`kv_cache_seq_cp`) and prefills only the rest; a
//! request with a new system prompt first has it decoded into the reserved sequence (waiting
//! meanwhile, which costs nothing: it would have decoded those tokens anyway), then copies.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::kv_cache::KvCacheConversionError;
use llama_cpp_2::llama_batch::{BatchAddError, LlamaBatch};
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;
use tokio::sync::mpsc::UnboundedSender;

use super::Counters;
use super::lookup::SpeculativeConfig;
use super::prompt::common_prefix;
use super::sequence::{self, Sequence, TextOut};
use crate::{FinishReason, LlmError, StreamEvent};

pub(super) use super::sequence::Event;

/// A request on its way to the engine thread, already tokenised and validated.
pub(super) struct Job {
    pub prompt: Vec<LlamaToken>,
    /// Leading prompt tokens that are the system message alone (0: none).
    pub system_len: usize,
    pub temperature: f32,
    pub top_p: f32,
    pub repeat_penalty: f32,
    pub seed: Option<u64>,
    /// Tokens holding any of these characters are never sampled.
    pub forbidden_chars: Vec<char>,
    pub max_tokens: u32,
    pub stop: Vec<String>,
    pub events: UnboundedSender<Event>,
}

/// The scheduling knobs of [`super::EngineConfig`].
pub(super) struct Settings {
    pub max_sequences: u32,
    pub batch_size: usize,
    pub prefix_cache: bool,
    pub speculative: Option<SpeculativeConfig>,
}

/// Who a run of batch tokens belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Slot(usize),
    Prefix,
}

/// What one sequence put into the current batch.
struct Fed {
    owner: Owner,
    /// Batch index of its first token.
    first: i32,
    /// Prompt tokens fed (0 when decoding).
    prefill: usize,
    /// Draft tokens fed after the pending token.
    drafts: Vec<LlamaToken>,
}

/// How a sequence stands after a step.
enum Outcome {
    Running,
    Finished(FinishReason),
    /// The caller dropped its stream.
    Gone,
    Failed(LlmError),
}

/// The actor that owns the context.
pub(super) struct Scheduler<'m> {
    model: &'m LlamaModel,
    ctx: LlamaContext<'m>,
    batch: LlamaBatch<'static>,
    inbox: Receiver<Job>,
    /// Indexed by sequence id; occupied slots are always `0..n`.
    slots: Vec<Option<Sequence>>,
    prefix: Option<PrefixCache>,
    settings: Settings,
    admitted: u64,
    counters: Arc<Counters>,
    /// The tokens holding each character, indexed when a request first forbids some.
    tokens_by_char: Option<HashMap<char, Vec<LlamaToken>>>,
}

impl<'m> Scheduler<'m> {
    pub fn new(
        model: &'m LlamaModel,
        ctx: LlamaContext<'m>,
        inbox: Receiver<Job>,
        settings: Settings,
        counters: Arc<Counters>,
    ) -> Self {
        let prefix = settings
            .prefix_cache
            .then(|| PrefixCache::new(settings.max_sequences as i32));
        Self {
            model,
            ctx,
            batch: LlamaBatch::new(settings.batch_size, 1),
            inbox,
            slots: (0..settings.max_sequences).map(|_| None).collect(),
            prefix,
            settings,
            admitted: 0,
            counters,
            tokens_by_char: None,
        }
    }

    /// The tokens whose text holds any of `chars` (none for none). The vocabulary is indexed
    /// by character on first use (≈150k tokens, once); a lookup is then a few set unions.
    fn tokens_holding(&mut self, chars: &[char]) -> Vec<LlamaToken> {
        if chars.is_empty() {
            return Vec::new();
        }
        let model = self.model;
        let index = self.tokens_by_char.get_or_insert_with(|| {
            let vocab = model.vocab();
            let mut index: HashMap<char, Vec<LlamaToken>> = HashMap::new();
            for i in 0..model.n_vocab() {
                let token = LlamaToken::new(i);
                let piece =
                    String::from_utf8_lossy(&vocab.token_to_piece(token, false, None)).into_owned();
                let mut seen: Vec<char> = piece.chars().collect();
                seen.sort_unstable();
                seen.dedup();
                for c in seen {
                    index.entry(c).or_default().push(token);
                }
            }
            index
        });
        let mut tokens: Vec<LlamaToken> = chars
            .iter()
            .filter_map(|c| index.get(c))
            .flatten()
            .copied()
            .collect();
        tokens.sort_unstable();
        tokens.dedup();
        tokens
    }

    /// Serves until every `Engine` handle is gone and the last sequence has finished.
    pub fn run(mut self) {
        while self.admit() {
            self.drop_cancelled();
            if self.slots.iter().any(Option::is_some) {
                self.step();
            }
        }
    }

    /// Moves queued jobs into free slots; blocks only when there is nothing to run. Returns
    /// false once the queue is closed and idle.
    fn admit(&mut self) -> bool {
        while let Some(slot) = self.slots.iter().position(Option::is_none) {
            let job = if slot == 0 {
                match self.inbox.recv() {
                    Ok(job) => job,
                    Err(_) => return false,
                }
            } else {
                match self.inbox.try_recv() {
                    Ok(job) => job,
                    Err(_) => break,
                }
            };
            if !job.events.is_closed() {
                self.start(slot, job);
            }
        }
        true
    }

    fn start(&mut self, slot: usize, job: Job) {
        let id = slot as i32;
        let mut seq = Sequence {
            id,
            admitted: self.admitted,
            prompt_len: job.prompt.len(),
            tokens: job.prompt,
            n_past: 0,
            awaits_prefix: false,
            sampler: sequence::sampler(
                self.model.n_vocab(),
                job.temperature,
                job.top_p,
                job.repeat_penalty,
                job.seed,
                &self.tokens_holding(&job.forbidden_chars),
            ),
            text: TextOut::new(job.stop),
            max_tokens: job.max_tokens,
            generated: 0,
            events: job.events,
        };
        if let Some(prefix) = &mut self.prefix {
            let plan = prefix.plan(&seq.tokens, job.system_len);
            let shared = match plan {
                Plan::Copy(reuse) => prefix.copy_to(&mut self.ctx, id, reuse).map(|()| reuse),
                Plan::Rebuild(keep) => prefix
                    .rebuild(&mut self.ctx, &seq.tokens[..job.system_len], keep)
                    .map(|()| 0),
                Plan::Wait | Plan::Nothing => Ok(0),
            };
            match shared {
                Ok(reuse) => {
                    seq.n_past = reuse;
                    seq.awaits_prefix = matches!(plan, Plan::Wait | Plan::Rebuild(_));
                }
                Err(e) => {
                    tracing::error!(error = %e, "could not share the cached prefix");
                    prefix.clear(&mut self.ctx);
                    let _ = self.ctx.kv_cache_seq_rm(id, None, None);
                }
            }
        }
        tracing::trace!(
            slot,
            prompt = seq.prompt_len,
            system = job.system_len,
            cached = seq.n_past,
            awaits_prefix = seq.awaits_prefix,
            "admitted"
        );
        self.admitted += 1;
        Counters::add(&self.counters.requests, 1);
        Counters::add(&self.counters.active_sequences, 1);
        Counters::add(&self.counters.prompt_tokens, seq.prompt_len);
        Counters::add(&self.counters.cached_prompt_tokens, seq.n_past);
        self.slots[slot] = Some(seq);
    }

    fn drop_cancelled(&mut self) {
        for slot in (0..self.slots.len()).rev() {
            if self.slots[slot]
                .as_ref()
                .is_some_and(|s| s.events.is_closed())
            {
                self.release(slot);
            }
        }
    }

    /// Frees a slot's cells and keeps occupied slots contiguous by moving the last sequence
    /// into the hole. Returns the sequence that left.
    fn release(&mut self, slot: usize) -> Option<Sequence> {
        let seq = self.slots[slot].take()?;
        self.counters
            .active_sequences
            .fetch_sub(1, Ordering::Relaxed);
        Counters::add(&self.counters.generated_tokens, seq.generated as usize);
        // Removing a whole sequence cannot fail.
        let _ = self.ctx.kv_cache_seq_rm(seq.id, None, None);
        let last = (slot + 1..self.slots.len())
            .rev()
            .find(|&i| self.slots[i].is_some());
        if let Some(mut moved) = last.and_then(|last| self.slots[last].take()) {
            if moved.n_past > 0 {
                // A whole-stream copy, done by llama.cpp at the next decode.
                let _ = self.ctx.kv_cache_seq_cp(moved.id, slot as i32, None, None);
            }
            let _ = self.ctx.kv_cache_seq_rm(moved.id, None, None);
            moved.id = slot as i32;
            self.slots[slot] = Some(moved);
        }
        Some(seq)
    }

    /// Ends a sequence: frees it first (so its counters are final), then tells the caller.
    fn conclude(&mut self, slot: usize, outcome: Outcome) {
        let Some(seq) = self.release(slot) else {
            return;
        };
        let event = match outcome {
            Outcome::Finished(finish) => Ok(StreamEvent::Done {
                usage: seq.usage(),
                finish,
            }),
            Outcome::Failed(error) => Err(error),
            Outcome::Running | Outcome::Gone => return,
        };
        let _ = seq.events.send(event);
    }

    /// One decode call over every running sequence.
    fn step(&mut self) {
        self.hand_out_prefix();
        let fed = match self.fill_batch() {
            Ok(fed) => fed,
            Err((fed, e)) => return self.fail_batch(&fed, &format!("the batch overflowed: {e}")),
        };
        if fed.is_empty() {
            return;
        }
        let started = std::time::Instant::now();
        let decoded = self.ctx.decode(&mut self.batch);
        tracing::trace!(
            tokens = self.batch.n_tokens(),
            decoding = fed
                .iter()
                .filter(|f| f.prefill == 0 && matches!(f.owner, Owner::Slot(_)))
                .count(),
            prefilling = fed.iter().filter(|f| f.prefill > 0).count(),
            drafts = fed.iter().map(|f| f.drafts.len()).sum::<usize>(),
            us = started.elapsed().as_micros() as u64,
            "decode step"
        );
        if let Err(e) = decoded {
            let message = format!(
                "llama.cpp could not decode {} tokens: {e}",
                self.batch.n_tokens()
            );
            return self.fail_batch(&fed, &message);
        }
        Counters::add(&self.counters.decode_calls, 1);
        // How many requests each decode call served together: the batching, visible.
        let sequences = fed
            .iter()
            .filter(|f| matches!(f.owner, Owner::Slot(_)))
            .count();
        metrics::histogram!("tripwright_engine_batch_sequences").record(sequences as f64);
        self.counters
            .max_batch_sequences
            .fetch_max(fed.len() as u64, Ordering::Relaxed);

        let sampling = std::time::Instant::now();
        let sampled = fed.len();
        let mut ended = Vec::new();
        for f in fed {
            match f.owner {
                Owner::Prefix => {
                    if let Some(prefix) = &mut self.prefix {
                        prefix.ready += f.prefill;
                    }
                }
                Owner::Slot(slot) => match self.advance(slot, &f) {
                    Outcome::Running => {}
                    outcome => ended.push((slot, outcome)),
                },
            }
        }
        // Highest first: releasing moves the last sequence down, never one still to release.
        ended.sort_by_key(|(slot, _)| std::cmp::Reverse(*slot));
        for (slot, outcome) in ended {
            self.conclude(slot, outcome);
        }
        tracing::trace!(
            sequences = sampled,
            us = sampling.elapsed().as_micros() as u64,
            "sampled"
        );
        self.hand_out_prefix();
    }

    fn fail_batch(&mut self, fed: &[Fed], message: &str) {
        tracing::error!(message, "engine step failed");
        let mut slots: Vec<usize> = fed
            .iter()
            .filter_map(|f| match f.owner {
                Owner::Slot(slot) => Some(slot),
                Owner::Prefix => None,
            })
            .collect();
        slots.sort_unstable_by(|a, b| b.cmp(a));
        for slot in slots {
            self.conclude(slot, Outcome::Failed(LlmError::Engine(message.to_owned())));
        }
        // A failed decode may have left the prefix half-written; its waiters prefill alone.
        if let Some(prefix) = &mut self.prefix {
            prefix.clear(&mut self.ctx);
        }
        for seq in self.slots.iter_mut().flatten() {
            seq.awaits_prefix = false;
        }
    }

    /// Gives sequences waiting for the prefix cache their copy once it is complete.
    fn hand_out_prefix(&mut self) {
        let Some(prefix) = &mut self.prefix else {
            return;
        };
        if prefix.filling() {
            return;
        }
        for seq in self.slots.iter_mut().flatten().filter(|s| s.awaits_prefix) {
            seq.awaits_prefix = false;
            let reuse = common_prefix(&prefix.tokens, &seq.tokens[..seq.prompt_len])
                .min(seq.prompt_len - 1);
            if prefix.copy_to(&mut self.ctx, seq.id, reuse).is_ok() {
                seq.n_past = reuse;
                Counters::add(&self.counters.cached_prompt_tokens, reuse);
            }
        }
    }

    /// Builds this step's batch: decoding sequences (one token each plus equally many drafts)
    /// get room first, then prompt chunks — the prefix cache's first, then oldest first. Tokens
    /// go in by sequence id so consecutive ids share a micro-batch.
    fn fill_batch(&mut self) -> Result<Vec<Fed>, (Vec<Fed>, BatchAddError)> {
        self.batch.clear();
        let decoding: Vec<&Sequence> = self
            .slots
            .iter()
            .flatten()
            .filter(|s| s.decoding())
            .collect();
        let mut spare = self.settings.batch_size - decoding.len();

        // Split streams share a micro-batch only with equal token counts, so every decoding
        // sequence gets as many drafts as the one with the fewest. Drafts may take half the
        // spare room at most, so that waiting prompts still advance.
        let mut drafts: Vec<Vec<LlamaToken>> = match self.settings.speculative {
            Some(config) if !decoding.is_empty() => {
                let room = spare / 2 / decoding.len();
                decoding
                    .iter()
                    .map(|s| {
                        let left = (s.max_tokens - s.generated) as usize;
                        config.draft(&s.tokens, room.min(left.saturating_sub(1)))
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        let equal = drafts.iter().map(Vec::len).min().unwrap_or(0);
        drafts.iter_mut().for_each(|d| d.truncate(equal));
        spare -= equal * decoding.len();

        let mut plan: Vec<(Owner, usize, usize, Vec<LlamaToken>)> = Vec::new(); // owner, start, count, drafts
        for (i, seq) in decoding.iter().enumerate() {
            let d = drafts.get(i).cloned().unwrap_or_default();
            plan.push((Owner::Slot(seq.id as usize), seq.n_past, 1, d));
        }
        if let Some(prefix) = self.prefix.as_ref().filter(|p| p.filling()) {
            let n = spare.min(prefix.tokens.len() - prefix.ready);
            spare -= n;
            plan.push((Owner::Prefix, prefix.ready, n, Vec::new()));
        }
        let mut waiting: Vec<&Sequence> = self
            .slots
            .iter()
            .flatten()
            .filter(|s| s.prefilling())
            .collect();
        waiting.sort_by_key(|s| s.admitted);
        for seq in waiting {
            let n = spare.min(seq.prompt_len - seq.n_past);
            spare -= n;
            plan.push((Owner::Slot(seq.id as usize), seq.n_past, n, Vec::new()));
        }
        plan.retain(|(_, _, n, _)| *n > 0);
        plan.sort_by_key(|(owner, ..)| match owner {
            Owner::Slot(slot) => *slot,
            Owner::Prefix => usize::MAX,
        });

        let mut fed = Vec::with_capacity(plan.len());
        for (owner, start, count, drafts) in plan {
            let (id, tokens, prompt_len) = match owner {
                Owner::Slot(slot) => match &self.slots[slot] {
                    Some(s) => (s.id, &s.tokens, s.prompt_len),
                    None => continue,
                },
                Owner::Prefix => match &self.prefix {
                    Some(p) => (p.id, &p.tokens, p.tokens.len() + 1), // never needs logits
                    None => continue,
                },
            };
            let decoding = start >= prompt_len;
            let first = self.batch.n_tokens();
            let result = tokens[start..start + count]
                .iter()
                .chain(&drafts)
                .zip(start as i32..)
                .try_for_each(|(&token, pos)| {
                    let logits = decoding || pos as usize + 1 == prompt_len;
                    self.batch.add(token, pos, &[id], logits)
                });
            fed.push(Fed {
                owner,
                first,
                prefill: if decoding { 0 } else { count },
                drafts,
            });
            if let Err(e) = result {
                return Err((fed, e));
            }
        }
        Ok(fed)
    }

    /// After a decode: advances a sequence, samples its next token(s), verifies drafts and
    /// streams the text.
    fn advance(&mut self, slot: usize, fed: &Fed) -> Outcome {
        let vocab = self.model.vocab();
        let Some(seq) = self.slots[slot].as_mut() else {
            return Outcome::Gone;
        };
        let mut index = fed.first;
        if fed.prefill > 0 {
            seq.n_past += fed.prefill;
            if seq.n_past < seq.prompt_len {
                return Outcome::Running;
            }
            index += fed.prefill as i32 - 1;
        } else {
            seq.n_past += 1;
        }

        // Sample at the pending token; while the sample equals the next draft, that draft is
        // already in the KV cache at the right position, so sample again at its logits. The
        // sampler sees exactly the tokens plain decoding would show it, so the output (and, at
        // temperature > 0, the random draws) are the same.
        let mut shown = String::new();
        let mut outcome;
        let mut drafts = fed.drafts.iter();
        loop {
            let token = seq.sampler.sample(&self.ctx, index);
            outcome = seq.accept(token, &vocab, &mut shown);
            if outcome.is_some() || drafts.next() != Some(&token) {
                break;
            }
            seq.n_past += 1;
            index += 1;
            Counters::add(&self.counters.accepted_drafts, 1);
        }
        Counters::add(&self.counters.drafted_tokens, fed.drafts.len());
        if outcome.is_none() && !fed.drafts.is_empty() {
            // Rejected drafts leave cells past the accepted tokens.
            if let Err(e) = self
                .ctx
                .kv_cache_seq_rm(seq.id, Some(seq.n_past as u32), None)
            {
                return Outcome::Failed(LlmError::Engine(format!("KV cache error: {e}")));
            }
        }
        if !shown.is_empty() && seq.events.send(Ok(StreamEvent::Token(shown))).is_err() {
            return Outcome::Gone;
        }
        outcome.map_or(Outcome::Running, Outcome::Finished)
    }
}

/// What the prefix cache can do for a new request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// Copy this many leading prompt tokens from the cache.
    Copy(usize),
    /// The cache is decoding this request's system prompt; wait for it.
    Wait,
    /// Replace the cache with this request's system prompt, keeping this many tokens it shares
    /// with the old one, and wait for it.
    Rebuild(usize),
    /// Prefill everything.
    Nothing,
}

/// The reserved sequence holding the latest system prompt's KV cells.
struct PrefixCache {
    id: i32,
    /// The system prompt it holds or is decoding.
    tokens: Vec<LlamaToken>,
    /// How many of `tokens` are decoded.
    ready: usize,
}

/// Shorter shared prefixes are not worth a stream copy.
const MIN_PREFIX: usize = 16;

impl PrefixCache {
    fn new(id: i32) -> Self {
        Self {
            id,
            tokens: Vec::new(),
            ready: 0,
        }
    }

    fn filling(&self) -> bool {
        self.ready < self.tokens.len()
    }

    fn plan(&self, prompt: &[LlamaToken], system_len: usize) -> Plan {
        let ready = &self.tokens[..self.ready];
        // At least one prompt token must be decoded to get logits.
        let reuse = common_prefix(ready, prompt).min(prompt.len() - 1);
        if system_len >= MIN_PREFIX {
            let system = &prompt[..system_len];
            if reuse >= system_len {
                return Plan::Copy(reuse);
            }
            if self.filling() {
                if self.tokens.starts_with(system) {
                    return Plan::Wait;
                }
            } else {
                return Plan::Rebuild(common_prefix(ready, system));
            }
        }
        if reuse >= MIN_PREFIX {
            Plan::Copy(reuse)
        } else {
            Plan::Nothing
        }
    }

    /// Starts decoding `system` into the cache, keeping its first `keep` tokens.
    fn rebuild(
        &mut self,
        ctx: &mut LlamaContext<'_>,
        system: &[LlamaToken],
        keep: usize,
    ) -> Result<(), KvCacheConversionError> {
        ctx.kv_cache_seq_rm(self.id, Some(keep as u32), None)?;
        self.tokens = system.to_vec();
        self.ready = keep;
        Ok(())
    }

    /// Gives `seq` the cache's first `reuse` tokens: a whole-stream copy (the only kind
    /// llama.cpp does between split streams), then the tail trimmed.
    fn copy_to(
        &self,
        ctx: &mut LlamaContext<'_>,
        seq: i32,
        reuse: usize,
    ) -> Result<(), KvCacheConversionError> {
        ctx.kv_cache_seq_cp(self.id, seq, None, None)?;
        ctx.kv_cache_seq_rm(seq, Some(reuse as u32), None)
    }

    fn clear(&mut self, ctx: &mut LlamaContext<'_>) {
        let _ = ctx.kv_cache_seq_rm(self.id, None, None);
        self.tokens.clear();
        self.ready = 0;
    }
}

//! [`Metered`]: any [`LlmClient`] with Prometheus metrics of what it is asked and gives: requests
//! by outcome, time to the first token, tokens in and out. The app wraps whichever model it
//! loads (the embedded engine or a remote endpoint), so both tiers report the same names.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use futures::StreamExt;

use crate::{ChatRequest, LlmClient, LlmError, StreamEvent, TokenStream, engine::EngineStats};

/// A client whose calls are counted and timed.
pub struct Metered {
    inner: Arc<dyn LlmClient>,
}

impl Metered {
    /// `inner`, metered.
    pub fn new(inner: Arc<dyn LlmClient>) -> Self {
        Self { inner }
    }
}

impl std::fmt::Debug for Metered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metered")
            .field("model_id", &self.inner.model_id())
            .finish_non_exhaustive()
    }
}

fn failed(error: &LlmError) {
    metrics::counter!("tripwright_llm_requests_total", "outcome" => error.code()).increment(1);
}

#[async_trait]
impl LlmClient for Metered {
    fn model_id(&self) -> &str {
        self.inner.model_id()
    }

    fn stats(&self) -> Option<EngineStats> {
        self.inner.stats()
    }

    async fn stream(&self, request: ChatRequest) -> Result<TokenStream, LlmError> {
        let started = Instant::now();
        let stream = self.inner.stream(request).await.inspect_err(failed)?;
        let mut first = true;
        let metered = stream.inspect(move |event| match event {
            Ok(StreamEvent::Token(_)) if first => {
                first = false;
                metrics::histogram!("tripwright_llm_time_to_first_token_seconds")
                    .record(started.elapsed().as_secs_f64());
            }
            Ok(StreamEvent::Token(_)) => {}
            Ok(StreamEvent::Done { usage, .. }) => {
                metrics::counter!("tripwright_llm_requests_total", "outcome" => "ok").increment(1);
                metrics::counter!("tripwright_llm_prompt_tokens_total")
                    .increment(u64::from(usage.prompt_tokens));
                metrics::counter!("tripwright_llm_completion_tokens_total")
                    .increment(u64::from(usage.completion_tokens));
                metrics::histogram!("tripwright_llm_request_duration_seconds")
                    .record(started.elapsed().as_secs_f64());
            }
            Err(e) => failed(e),
        });
        Ok(Box::pin(metered))
    }
}

//! Reading a streamed chat completion: server-sent events whose `data:` payloads are
//! `chat.completion.chunk` JSON objects, ended by `data: [DONE]`.
//!
//! The chunks carry `choices[0].delta.content` (a piece of text, possibly empty),
//! `choices[0].finish_reason` (once, near the end) and — when `stream_options.include_usage` was
//! asked for — a last chunk with `usage` and no choices. A provider may also report a failure as a
//! chunk with an `error` object instead.

use std::mem;

use serde::Deserialize;

use crate::{FinishReason, StreamEvent, Usage};

/// Why a stream could not be read to its end.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The connection broke or closed before the answer was complete. Worth retrying when no
    /// text has been delivered yet.
    Cut(String),
    /// The provider sent something that is not the protocol, or reported an error. Retrying the
    /// same request is unlikely to help.
    Invalid(String),
}

/// One streamed chat completion being read.
#[derive(Debug)]
pub(crate) struct Generation {
    response: reqwest::Response,
    /// Bytes received but not yet split into lines.
    pending: Vec<u8>,
    /// The `data:` lines of the event being assembled.
    data: String,
    usage: Usage,
    finish: Option<FinishReason>,
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<Usage>,
    error: Option<ProviderError>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Delta,
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct Delta {
    content: Option<String>,
}

/// OpenAI's error object, `{"error": {"message": ...}}`, both in error bodies and mid-stream.
#[derive(Deserialize)]
pub(crate) struct ProviderError {
    pub(crate) message: String,
}

impl Generation {
    /// Starts reading a successful (2xx) response.
    pub(crate) fn new(response: reqwest::Response) -> Self {
        Self {
            response,
            pending: Vec::new(),
            data: String::new(),
            usage: Usage::default(),
            finish: None,
        }
    }

    /// The next piece of text, or the final [`StreamEvent::Done`]; not to be called after that.
    pub(crate) async fn next(&mut self) -> Result<StreamEvent, ReadError> {
        loop {
            let Some(payload) = self.next_data().await? else {
                // Some servers close right after the finish reason without `[DONE]`: the answer
                // is complete. Without a finish reason, it is not.
                return match self.finish {
                    Some(finish) => Ok(StreamEvent::Done {
                        usage: self.usage,
                        finish,
                    }),
                    None => Err(ReadError::Cut(
                        "the stream ended early, before the model finished".into(),
                    )),
                };
            };
            if payload.trim() == "[DONE]" {
                let finish = self.finish.unwrap_or(FinishReason::Stop);
                return Ok(StreamEvent::Done {
                    usage: self.usage,
                    finish,
                });
            }
            if let Some(text) = self.apply(&payload)? {
                return Ok(StreamEvent::Token(text));
            }
        }
    }

    /// Folds one chunk into the state; returns its text, if it has any.
    fn apply(&mut self, payload: &str) -> Result<Option<String>, ReadError> {
        let chunk: Chunk = serde_json::from_str(payload).map_err(|e| {
            let shown: String = payload.chars().take(80).collect();
            ReadError::Invalid(format!(
                "the provider sent invalid JSON in the stream ({e}): {shown}"
            ))
        })?;
        if let Some(error) = chunk.error {
            return Err(ReadError::Invalid(format!(
                "the provider reported an error mid-stream: {}",
                error.message
            )));
        }
        if let Some(usage) = chunk.usage {
            self.usage = usage;
        }
        let Some(choice) = chunk.choices.into_iter().next() else {
            return Ok(None);
        };
        if let Some(reason) = choice.finish_reason {
            // `content_filter`, `tool_calls` and the like still end the text normally.
            self.finish = Some(if reason == "length" {
                FinishReason::Length
            } else {
                FinishReason::Stop
            });
        }
        Ok(choice.delta.content.filter(|text| !text.is_empty()))
    }

    /// The next event's data (its `data:` lines joined by newlines), or `None` at the end of the
    /// body. Other fields and comments carry nothing we need; an unterminated event at the end is
    /// dropped, as the SSE specification says.
    async fn next_data(&mut self) -> Result<Option<String>, ReadError> {
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=end).collect();
                let line = std::str::from_utf8(&line)
                    .map_err(|_| {
                        ReadError::Invalid("the provider sent a stream that is not UTF-8".into())
                    })?
                    .trim_end_matches(['\n', '\r']);
                if line.is_empty() {
                    if !self.data.is_empty() {
                        return Ok(Some(mem::take(&mut self.data)));
                    }
                } else if let Some(value) = line.strip_prefix("data:") {
                    if !self.data.is_empty() {
                        self.data.push('\n');
                    }
                    self.data.push_str(value.strip_prefix(' ').unwrap_or(value));
                }
                continue;
            }
            match self.response.chunk().await {
                Ok(Some(bytes)) => self.pending.extend_from_slice(&bytes),
                Ok(None) => return Ok(None),
                Err(e) => {
                    return Err(ReadError::Cut(format!(
                        "the stream ended early: {}",
                        super::describe(e)
                    )));
                }
            }
        }
    }
}

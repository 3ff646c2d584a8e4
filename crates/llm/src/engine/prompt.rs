//! Chat messages → prompt tokens, with the model's own chat template.
//!
//! Rendering happens on the caller's task, not the engine thread: the model is thread-safe and
//! tokenising a long prompt should not stall the decode loop. The renderer also reports where
//! the system message ends in tokens, which is the unit the prefix cache shares.

use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::token::LlamaToken;

use crate::{ChatMessage, LlmError, Role};

/// A rendered, tokenised prompt.
#[derive(Debug)]
pub(super) struct Prompt {
    /// The whole prompt, ending with the assistant turn's opening.
    pub tokens: Vec<LlamaToken>,
    /// How many leading tokens are the system message alone (0 when there is none); always
    /// shorter than `tokens`.
    pub system_len: usize,
}

/// The chat template in use.
#[derive(Debug)]
pub(super) struct ChatFormat {
    template: LlamaChatTemplate,
}

impl ChatFormat {
    /// The model's template when llama.cpp can apply it, else ChatML (what SmolLM2 and Qwen use).
    pub fn for_model(model: &LlamaModel) -> Result<Self, LlmError> {
        let probe = [chat_message("user", "hi")?];
        let template = match model.chat_template(None) {
            Ok(t) if model.apply_chat_template(&t, &probe, true).is_ok() => t,
            _ => LlamaChatTemplate::new("chatml").map_err(|e| LlmError::Engine(e.to_string()))?,
        };
        Ok(Self { template })
    }

    /// Renders and tokenises a conversation, leaving the assistant's turn open.
    pub fn render(&self, model: &LlamaModel, messages: &[ChatMessage]) -> Result<Prompt, LlmError> {
        let text = self.apply(model, messages, true)?;
        let tokens = tokenize(model, &text);
        let system_len = match messages.first() {
            Some(first) if first.role == Role::System && messages.len() > 1 => {
                let system = self.apply(model, std::slice::from_ref(first), false)?;
                if text.starts_with(&system) {
                    // Token boundaries can merge across the join, so count only what matches.
                    common_prefix(&tokenize(model, &system), &tokens).min(tokens.len() - 1)
                } else {
                    0
                }
            }
            _ => 0,
        };
        Ok(Prompt { tokens, system_len })
    }

    fn apply(
        &self,
        model: &LlamaModel,
        messages: &[ChatMessage],
        open_reply: bool,
    ) -> Result<String, LlmError> {
        let chat = messages
            .iter()
            .map(|m| chat_message(role_name(m.role), &m.content))
            .collect::<Result<Vec<_>, _>>()?;
        model
            .apply_chat_template(&self.template, &chat, open_reply)
            .map_err(|e| LlmError::Engine(format!("the chat template could not be applied: {e}")))
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

fn chat_message(role: &str, content: &str) -> Result<LlamaChatMessage, LlmError> {
    LlamaChatMessage::new(role.to_owned(), content.to_owned())
        .map_err(|_| LlmError::BadRequest("a message contains a NUL character".into()))
}

/// Tokenises with the model's BOS rule, parsing the template's special tokens.
pub(super) fn tokenize(model: &LlamaModel, text: &str) -> Vec<LlamaToken> {
    model.vocab().tokenize(text.as_bytes(), true, true)
}

/// Length of the longest common prefix.
pub(super) fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

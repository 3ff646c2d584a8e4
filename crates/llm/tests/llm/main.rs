//! The language-model layer's tests, in one binary: the embedded engine on the real SmolLM2
//! model ([`engine`]: batching, the prefix cache, speculative decoding, cancellation, limits)
//! and the OpenAI-compatible client against a stand-in provider that speaks the protocol and
//! fails as providers do ([`openai_faults`]).

mod engine;
mod openai_faults;

//! What Tripwright's tests share, in one place: where the fetched assets are ([`assets`]), a
//! scripted language model ([`scripted`]), the parsing of server-sent events ([`sse`]) and,
//! with the `server` feature, a real server on a loopback port with a client that behaves like
//! a browser or like an API client ([`server`]), and data directories that last one run of a
//! test binary ([`scratch`]).

pub mod assets;
pub mod scratch;
pub mod scripted;
#[cfg(feature = "server")]
pub mod server;
pub mod sse;

pub use scripted::{Reply, ScriptedLlm};

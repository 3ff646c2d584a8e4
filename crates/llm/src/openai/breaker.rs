//! The circuit breaker: after `threshold` consecutive failed calls the provider is left alone for
//! a cool-down, so a dead endpoint costs callers nothing (they fail fast with
//! [`LlmError::CircuitOpen`]) and the endpoint is not hammered while it recovers.
//!
//! States: closed (counting failures) → open (failing fast until the cool-down ends) → half-open
//! (exactly one trial call goes through) → closed on success, open again on failure. The state is
//! shared by every clone of the client, since they all talk to the same provider.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::LlmError;

#[derive(Debug, Clone, Copy)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One trial call is in flight; everyone else fails fast until it reports.
    HalfOpen,
}

/// A circuit breaker shared by clones.
#[derive(Debug, Clone)]
pub(crate) struct Breaker {
    state: Arc<Mutex<State>>,
    threshold: u32,
    cooldown: Duration,
}

/// Leave to make one call. Report its outcome with [`Permit::success`] or [`Permit::failure`];
/// a permit dropped unreported (the caller gave up) lets the next caller make the trial instead.
#[derive(Debug)]
pub(crate) struct Permit {
    breaker: Breaker,
    trial: bool,
    settled: bool,
}

impl Breaker {
    /// A closed breaker that opens after `threshold` (at least 1) consecutive failures.
    pub(crate) fn new(threshold: u32, cooldown: Duration) -> Self {
        Self {
            state: Arc::new(Mutex::new(State::Closed { failures: 0 })),
            threshold: threshold.max(1),
            cooldown,
        }
    }

    /// Lets a call through, or fails fast while the breaker is open.
    pub(crate) fn acquire(&self) -> Result<Permit, LlmError> {
        let mut state = self.lock();
        let trial = match *state {
            State::Closed { .. } => false,
            State::Open { until } => {
                let now = Instant::now();
                if now < until {
                    return Err(LlmError::CircuitOpen {
                        retry_in: until - now,
                    });
                }
                *state = State::HalfOpen;
                publish(*state);
                true
            }
            State::HalfOpen => {
                return Err(LlmError::CircuitOpen {
                    retry_in: self.cooldown,
                });
            }
        };
        Ok(Permit {
            breaker: self.clone(),
            trial,
            settled: false,
        })
    }

    /// Records a failure outside a permit (a stream that broke after it started).
    pub(crate) fn record_failure(&self) {
        let mut state = self.lock();
        let open = State::Open {
            until: Instant::now() + self.cooldown,
        };
        *state = match *state {
            State::Closed { failures } if failures + 1 < self.threshold => State::Closed {
                failures: failures + 1,
            },
            _ => open,
        };
        publish(*state);
        if matches!(*state, State::Open { .. }) {
            tracing::warn!(
                cooldown_ms = self.cooldown.as_millis() as u64,
                "language model circuit breaker opened"
            );
        }
    }

    fn record_success(&self) {
        let mut state = self.lock();
        if !matches!(*state, State::Closed { .. }) {
            tracing::info!("language model circuit breaker closed");
        }
        *state = State::Closed { failures: 0 };
        publish(*state);
    }

    /// The state is a plain value that is always valid, so a panic elsewhere cannot corrupt it.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The state as the metric `tripwright_llm_breaker_state` shows it: 0 closed, 1 open, 2
/// half-open (one trial call in flight).
fn publish(state: State) {
    let value = match state {
        State::Closed { .. } => 0.0,
        State::Open { .. } => 1.0,
        State::HalfOpen => 2.0,
    };
    metrics::gauge!("tripwright_llm_breaker_state").set(value);
}

impl Permit {
    /// The provider answered (even if it refused the request): close the breaker.
    pub(crate) fn success(mut self) {
        self.settled = true;
        self.breaker.record_success();
    }

    /// The provider failed this call (after its retries): count towards opening.
    pub(crate) fn failure(mut self) {
        self.settled = true;
        self.breaker.record_failure();
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if self.trial && !self.settled {
            // The trial was abandoned without an answer: the next caller may try at once.
            let mut state = self.breaker.lock();
            if matches!(*state, State::HalfOpen) {
                *state = State::Open {
                    until: Instant::now(),
                };
            }
        }
    }
}

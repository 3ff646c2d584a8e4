//! The application layer's use cases over the real agents and a real SQLite store, with a
//! scripted language model, so that the logic around the model is tested exactly and fast:
//!
//! - [`prose`]: a plan's prose streams slot by slot and is kept as written (names corrected);
//!   text naming another real place is written again, or its sentence dropped; a failing,
//!   cut-off or stalled model leaves a complete plan with a warning.
//! - [`planning`]: cancelling a plan while the model hangs, a model that panics, a start date
//!   serde accepts but the planner refuses, the deadline, and rewriting a day.
//! - [`lists`]: the trip-list use cases' typed refusals.
//! - [`limits`]: the quotas of one user, and what a shutdown does to a running plan.
//!
//! The real models are tested elsewhere (the engine in `tripwright-llm`, one plan end to end
//! per front end); [`support`] loads the data and models once for the binary.

mod limits;
mod lists;
mod planning;
mod prose;
mod support;

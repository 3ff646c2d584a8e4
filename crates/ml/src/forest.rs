//! Random forest regressor.

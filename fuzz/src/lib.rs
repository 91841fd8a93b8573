//! Fuzz targets for `kafka-protocol`: the shared checks, plus the seed-corpus generator's helpers.
//!
//! The checks live in [`checks`] so that `kafka-protocol/tests/fuzz_regressions.rs` can replay
//! saved reproducers through exactly the code the fuzzer ran.
#![deny(missing_docs)]

pub mod checks;

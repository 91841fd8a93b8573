//! An in-process Kafka cluster for tests: N brokers in the current tokio runtime, each with its own
//! loopback listener, speaking the Kafka wire protocol through `kafka-protocol`.
#![deny(missing_docs)]

pub mod producer_state;

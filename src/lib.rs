//! Facade crate: re-exports the SDK's crates so applications depend on one name.
//!
//! * [`protocol`]: the sans-io Kafka wire protocol (`kafka-protocol`).
//! * [`broker`]: the bundled in-process Kafka cluster for tests (`kafka-broker`).
pub use kafka_broker as broker;
pub use kafka_protocol as protocol;

#![doc = include_str!("../README.md")]
//!
//! This crate is a facade: it re-exports the SDK's crates so applications depend on one name.
//! [`protocol`] is `kafka-protocol`, [`broker`] is `kafka-broker`.

/// The sans-io Kafka wire protocol (`kafka-protocol`).
pub use kafka_protocol as protocol;

/// The bundled in-process Kafka cluster for tests (`kafka-broker`).
pub use kafka_broker as broker;

/// The client core: connections, version negotiation, metadata (`kafka-client`).
pub use kafka_client as client;

/// The producer (`kafka-producer`).
pub use kafka_producer as producer;

/// The consumer (`kafka-consumer`).
pub use kafka_consumer as consumer;

/// The admin client (`kafka-admin`).
pub use kafka_admin as admin;

//! Test support shared by every crate of the SDK.
//!
//! * [`RealKafka`]: Apache Kafka itself (KRaft, one node or a cluster) from Maven Central, for the
//!   tests that prove the SDK and the bundled broker behave as Kafka does.
//! * [`JavaPeer`]: Apache Kafka's Java producer, consumer, partitioner and AdminClient as a peer.
//! * [`peers`]: finding third-party peers (kcat, Python clients, Java), skipping with one clear
//!   line when one is missing on a developer's machine and failing when one is missing in CI.
//! * [`process`]: subprocesses with hard time bounds.
//! * [`wire`]: a blocking wire client for raw protocol exchanges.
//! * [`maven`]: jars from Maven Central, cached outside the repository.
#![warn(missing_docs)]

pub mod java_peer;
pub mod maven;
pub mod peers;
pub mod process;
pub mod real_kafka;
pub mod tls;
pub mod wire;

pub use java_peer::JavaPeer;
pub use real_kafka::{RealKafka, RealKafkaConfig};
pub use serde_json;

//! An in-process Kafka cluster for tests: N brokers in the current tokio runtime, each with its own
//! loopback listener, speaking the Kafka wire protocol through `kafka-protocol`.
//!
//! ```
//! use kafka_broker::{Cluster, ClusterConfig};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let cluster = Cluster::start(ClusterConfig::default().with_brokers(3)).await.unwrap();
//! cluster.create_topic("events", 3, &[]).unwrap();
//! println!("bootstrap.servers={}", cluster.bootstrap_servers());
//! cluster.shutdown().await;
//! # });
//! ```
//!
//! * [`Cluster`]: start, create topics, stop/restart brokers, move leaders, shut down.
//! * [`Fault`]: failures, delays and dropped connections injected into request handling.
//! * Data lives in memory; every broker of a cluster shares one metadata image and one set of
//!   partition logs (each partition has a single replica, on its leader).
#![deny(missing_docs)]

mod authorized_operations;
mod authorizer;
mod broker;
mod clock;
mod cluster;
mod cluster_config;
pub mod command;
mod config;
mod connection;
mod context;
mod coordinator_placement;
mod error;
mod fault;
mod features;
mod fetch_session;
mod group;
mod group_configs;
mod handlers;
mod ids;
mod leader_epochs;
mod log;
mod producer_state;
mod quotas;
mod reassignment;
mod sasl;
mod state;
mod sync;
mod tls;
mod topics;
mod txn;
mod x509_name;

pub use authorizer::AclConfig;
pub use cluster::Cluster;
pub use cluster_config::{ClusterConfig, SaslConfig, TransactionConfig};
pub use error::{BrokerError, Result};
pub use fault::{Fault, FaultAction, RequestLogEntry, REQUEST_LOG_CAPACITY};
pub use group::GroupConfig;
pub use kafka_protocol::{ApiKey, ErrorCode};
pub use tls::TlsConfig;

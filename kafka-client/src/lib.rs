//! The client core the producer, consumer and admin clients share.
//!
//! * [`ClientConfig`]: typed settings, or Java-named string properties, with Java's defaults.
//! * [`Connection`]: one task per broker connection, pipelining requests by correlation id; a
//!   framing or I/O error poisons it and fails every in-flight request as retriable.
//! * [`ApiVersionTable`]: the version negotiated for each API (KIP-35, KIP-511).
//! * [`MetadataCache`]: brokers and partition leaders, whose leader epochs never go backwards.
//! * [`Client`]: connections by broker id with reconnect backoff, bootstrap and rebootstrap.
//! * [`Transport`]: how bytes reach a broker (TCP now; TLS and SASL plug in here).
//! * [`ClientMetrics`]: requests, errors, bytes and latency per broker and API.
#![deny(missing_docs)]

pub mod backoff;
mod client;
pub mod config;
mod connection;
mod error;
mod group_metadata;
pub mod leader_hints;
pub mod metadata;
mod metrics;
pub mod security;
pub mod tls;
mod transport;
mod versions;

pub use client::Client;
pub use config::ClientConfig;
pub use connection::{Connection, ConnectionSettings, MAX_RESPONSE_FRAME};
pub use error::{ClientError, Result};
pub use group_metadata::ConsumerGroupMetadata;
pub use metadata::MetadataCache;
pub use metrics::{ApiMetrics, ClientMetrics};
pub use security::{
    OAuthBearerTokenProvider, Password, SaslCredentials, SecurityConfig, SecurityProtocol,
    UnsecuredJwtProvider,
};
pub use tls::{TlsSettings, TlsTransport};
pub use transport::{BrokerStream, ConnectFuture, TcpTransport, Transport};
pub use versions::ApiVersionTable;

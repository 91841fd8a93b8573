//! The client core's errors.

use kafka_protocol::{ApiKey, DecodeError, EncodeError, ErrorCode, VersionRange};

/// Why a request, a connection or a configuration failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// A configuration key is unknown, or its value is malformed or out of range.
    #[error("config `{key}`: {reason}")]
    Config {
        /// The key, with the Java client's name.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The connection failed (refused, reset, closed, or poisoned by a framing error). Requests
    /// in flight on it may or may not have been applied by the broker.
    #[error("connection to {addr} failed: {reason}")]
    Connection {
        /// The broker address.
        addr: String,
        /// What happened.
        reason: String,
    },
    /// No answer within `request.timeout.ms`.
    #[error("{api:?} request to {addr} timed out after {timeout_ms} ms")]
    Timeout {
        /// The request's API.
        api: ApiKey,
        /// The broker address.
        addr: String,
        /// The timeout that passed.
        timeout_ms: u64,
    },
    /// The broker does not support any version of an API this client needs: it is too old
    /// (or too new) for the operation.
    #[error("broker {addr} {} {api:?} (key {}); this client speaks versions {}-{}", broker_versions(*.broker), api.key(), ours.min, ours.max)]
    UnsupportedVersion {
        /// The API.
        api: ApiKey,
        /// The broker address.
        addr: String,
        /// The versions this client speaks.
        ours: VersionRange,
        /// The versions the broker advertised; `None` when it does not serve the API at all.
        broker: Option<VersionRange>,
    },
    /// A request could not be encoded (a bug or a value the protocol cannot carry).
    #[error("encoding a request: {0}")]
    Encode(#[from] EncodeError),
    /// A response could not be decoded: the connection is poisoned.
    #[error("decoding a response: {0}")]
    Decode(#[from] DecodeError),
    /// The broker answered with an error code.
    #[error("broker error: {0}")]
    Broker(ErrorCode),
    /// No broker could be reached: neither the known ones nor `bootstrap.servers`.
    #[error("no broker reachable (tried {tried})")]
    NoBrokerReachable {
        /// The addresses tried, comma-separated.
        tried: String,
    },
    /// The topic or partition is not known to the cluster.
    #[error("unknown topic or partition {topic}/{partition}")]
    UnknownTopicOrPartition {
        /// The topic.
        topic: String,
        /// The partition, -1 when the topic itself is unknown.
        partition: i32,
    },
    /// SASL authentication failed: wrong credentials, or a mechanism the broker does not
    /// enable. Not retriable.
    #[error("authentication failed ({mechanism}): {reason}")]
    Authentication {
        /// The mechanism.
        mechanism: &'static str,
        /// What the broker (or the exchange) said.
        reason: String,
    },
    /// The TLS handshake failed: an untrusted or expired certificate, a name that does not
    /// match, a refused client certificate. Not retriable.
    #[error("TLS with {addr} failed: {reason}")]
    Tls {
        /// The broker address.
        addr: String,
        /// What rustls said.
        reason: String,
    },
    /// The client was closed.
    #[error("the client is closed")]
    Closed,
}

impl ClientError {
    /// Whether retrying the same request later may succeed: connection failures, timeouts and
    /// retriable broker errors.
    pub fn is_retriable(&self) -> bool {
        match self {
            ClientError::Connection { .. } | ClientError::Timeout { .. } => true,
            ClientError::NoBrokerReachable { .. } | ClientError::Decode(_) => true,
            ClientError::Broker(code) => code.is_retriable(),
            ClientError::UnknownTopicOrPartition { .. } => true,
            _ => false,
        }
    }
}

/// The client core's result type.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// How an unsupported-version error describes what the broker serves.
fn broker_versions(broker: Option<VersionRange>) -> String {
    match broker {
        Some(r) => format!("serves only versions {}-{} of", r.min, r.max),
        None => "does not serve".to_string(),
    }
}

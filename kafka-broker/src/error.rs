//! Errors of the broker's library API.

use std::io;

use kafka_protocol::ErrorCode;

/// What can go wrong when starting, driving or stopping a [`crate::Cluster`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrokerError {
    /// A listener could not be bound or accepted on.
    #[error("i/o error on {context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The configuration is not usable (e.g. zero brokers, a port range past 65535).
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// No broker with that id exists in the cluster.
    #[error("unknown broker id {0}")]
    UnknownBroker(i32),
    /// The broker is already running (restart) or already stopped (stop).
    #[error("broker {id} is {state}")]
    BrokerState {
        /// The broker id.
        id: i32,
        /// "running" or "stopped".
        state: &'static str,
    },
    /// A topic or partition operation was refused, with the Kafka error code a client would see.
    #[error("{operation} failed: {code}")]
    Kafka {
        /// The operation, e.g. `create_topic foo`.
        operation: String,
        /// The Kafka error code.
        code: ErrorCode,
    },
}

impl BrokerError {
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        BrokerError::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn kafka(operation: impl Into<String>, code: ErrorCode) -> Self {
        BrokerError::Kafka {
            operation: operation.into(),
            code,
        }
    }
}

/// Shorthand for results of the broker's library API.
pub type Result<T, E = BrokerError> = std::result::Result<T, E>;

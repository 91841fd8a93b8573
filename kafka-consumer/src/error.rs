//! The consumer's errors.

use kafka_client::ClientError;
use kafka_protocol::{DecodeError, ErrorCode};

/// Why the consumer could not fetch.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ConsumerError {
    /// The client core failed (configuration, connection, negotiation).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// A subscription pattern is not a valid regular expression.
    #[error("invalid subscription pattern {pattern:?}: {reason}")]
    InvalidPattern {
        /// The pattern as given.
        pattern: String,
        /// What the regular expression parser said.
        reason: String,
    },
    /// A partition has no valid position and `auto.offset.reset` is `none`.
    #[error("no offset for {topic}/{partition} and auto.offset.reset=none")]
    NoOffset {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
    },
    /// The partition's new leader does not hold records this consumer already read (an unclean
    /// election, KIP-320), and `auto.offset.reset` is `none`: the application decides where to
    /// resume (`seek`), knowing that the records from `divergent_offset` to `position` are gone.
    #[error("log truncation on {topic}/{partition}: read up to {position}, the log diverged at {divergent_offset}")]
    LogTruncation {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The consumer's position when the truncation was detected.
        position: i64,
        /// The first offset the new leader's log does not share with what was read.
        divergent_offset: i64,
    },
    /// A fetched record batch did not decode (bad CRC, bad compression, truncated).
    #[error("corrupt records in {topic}/{partition}: {source}")]
    Corrupt {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// What was wrong.
        source: DecodeError,
    },
    /// The broker refused the fetch for a partition with an error that retrying does not fix.
    #[error("fetch of {topic}/{partition} failed: {code}")]
    Broker {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The error.
        code: ErrorCode,
    },
}

/// The consumer's result type.
pub type Result<T, E = ConsumerError> = std::result::Result<T, E>;

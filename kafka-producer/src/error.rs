//! The producer's errors.

use kafka_client::ClientError;
use kafka_protocol::ErrorCode;

/// Why a record was not delivered, or the producer could not do what was asked.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ProducerError {
    /// The client core failed (configuration, connection, negotiation).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The broker refused the record's batch with this error.
    #[error("broker refused the batch: {0}")]
    Broker(ErrorCode),
    /// The record was not acknowledged within `delivery.timeout.ms`.
    #[error("record not delivered within delivery.timeout.ms ({0} ms)")]
    DeliveryTimeout(u64),
    /// No room in `buffer.memory` within `max.block.ms`.
    #[error("no room in buffer.memory within max.block.ms ({0} ms)")]
    BufferExhausted(u64),
    /// The record alone is larger than `max.request.size` or `buffer.memory`.
    #[error("record of {size} bytes exceeds {limit} ({setting})")]
    RecordTooLarge {
        /// The record's encoded size estimate.
        size: usize,
        /// The limit.
        limit: usize,
        /// Which setting sets the limit.
        setting: &'static str,
    },
    /// The topic does not exist (and was not created), or the partition is out of range.
    #[error("topic {topic} has no partition {partition}")]
    UnknownPartition {
        /// The topic.
        topic: String,
        /// The partition asked for.
        partition: i32,
    },
    /// Metadata for the topic failed with an error that waiting cannot cure
    /// (TOPIC_AUTHORIZATION_FAILED, INVALID_TOPIC_EXCEPTION): Java's send fails at once too.
    #[error("topic {topic}: {code}")]
    Topic {
        /// The topic.
        topic: String,
        /// The broker's error for it.
        code: ErrorCode,
    },
    /// The producer's metadata for the topic did not arrive within `max.block.ms`.
    #[error("no metadata for topic {0} within max.block.ms")]
    MetadataTimeout(String),
    /// The producer was closed before the record was delivered.
    #[error("the producer was closed before the record was delivered")]
    Closed,
    /// The record could not be encoded into a batch.
    #[error("encoding the record: {0}")]
    Encode(String),
    /// A transactional call made in a state that does not allow it (Java's
    /// `IllegalStateException`): `send` outside a transaction, `commit_transaction` without
    /// `begin_transaction`, a producer without `transactional.id`...
    #[error("{operation} is not allowed in transaction state {state}")]
    TransactionState {
        /// The call.
        operation: &'static str,
        /// The producer's transaction state.
        state: &'static str,
    },
    /// Another producer with the same `transactional.id` took over (PRODUCER_FENCED or
    /// INVALID_PRODUCER_EPOCH): this producer can only be closed. Fatal, as Java's
    /// `ProducerFencedException`.
    #[error("producer fenced: another producer with transactional.id {0} took over")]
    Fenced(String),
    /// The open transaction failed and can only be aborted (Java's abortable errors): commit
    /// and send fail with this until `abort_transaction`.
    #[error("the transaction must be aborted: {0}")]
    TransactionAborted(String),
    /// A transaction call did not complete within `max.block.ms`; it may be called again.
    #[error("transaction request not completed within max.block.ms ({0} ms): {1}")]
    TransactionTimeout(u64, String),
}

/// The producer's result type.
pub type Result<T, E = ProducerError> = std::result::Result<T, E>;

//! Idempotent-producer state: producer id allocation and per-partition sequence checks.
//!
//! Kafka makes a producer idempotent (KIP-98) by tagging every record batch with a *producer id*,
//! a *producer epoch* and the *sequence number* of its first record. The broker remembers, per
//! partition and producer id, the last few batches it appended, so that a batch the client retries
//! after a lost response is acknowledged with its original offsets instead of being written twice,
//! and a batch that skips ahead (an earlier one was lost) is refused instead of leaving a hole.
//!
//! This module is pure bookkeeping, with no I/O and no clock of its own:
//!
//! * [`ProducerIdManager`] answers `InitProducerId`: fresh producer ids for idempotent producers,
//!   epoch bumps for the KIP-360 recovery path, and a stable producer id per `transactional.id`
//!   whose epoch is bumped on every init (fencing the previous instance). One manager must serve
//!   the whole cluster, because producer ids are unique cluster-wide.
//! * [`PartitionProducerState`] validates and records the batches appended to one partition. The
//!   API is two-phase so that the caller can append between the steps while holding the
//!   partition's lock:
//!
//!   first validate ([`PartitionProducerState::check`]), then append to the log, then record
//!   where the batch landed ([`PartitionProducerState::record`]). A retry of a recorded batch is
//!   then a duplicate, acknowledged with the original offsets and not appended again.
//!
//! Transactions build on both: the coordinator ([`crate::txn`]) gets its epochs from the manager,
//! and each partition's state also remembers where each producer's open transaction began there
//! (which bounds the last stable offset) and the epochs of the markers that closed them.

mod id_manager;
mod partition;

pub(crate) use id_manager::fenced_error;
pub use id_manager::{InitProducerIdParams, ProducerIdManager, ProducerIdManagerConfig};
pub use partition::{AppendDecision, PartitionProducerState, ProducerBatch};

/// Producer id carried by batches of a producer that is neither idempotent nor transactional.
pub const NO_PRODUCER_ID: i64 = -1;

/// Producer epoch meaning "none", as sent in `InitProducerId` by a producer with no id yet.
pub const NO_PRODUCER_EPOCH: i16 = -1;

/// How many of a producer's most recent batches each partition remembers for duplicate detection.
///
/// Kafka keeps five, which is why an idempotent producer may have at most five requests in flight
/// per connection (`max.in.flight.requests.per.connection <= 5`): any retry it can send is then
/// one of the five batches the partition still remembers.
pub const BATCHES_TO_RETAIN: usize = 5;

/// A producer id with the epoch it is currently allowed to write with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProducerIdAndEpoch {
    /// The producer id (non-negative once allocated).
    pub producer_id: i64,
    /// The epoch of that producer id.
    pub producer_epoch: i16,
}

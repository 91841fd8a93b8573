//! Producer id allocation for `InitProducerId` (KIP-98, KIP-360, KIP-588).

use std::collections::HashMap;

use kafka_protocol::messages::InitProducerIdRequest;
use kafka_protocol::ErrorCode;

use super::{ProducerIdAndEpoch, NO_PRODUCER_EPOCH, NO_PRODUCER_ID};

/// Settings of a [`ProducerIdManager`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProducerIdManagerConfig {
    /// The first producer id handed out; later ones count up from it.
    pub first_producer_id: i64,
    /// Largest `transaction_timeout_ms` a transactional producer may ask for (Kafka's
    /// `transaction.max.timeout.ms`, 15 minutes by default).
    pub max_transaction_timeout_ms: i32,
    /// How many transactional ids the manager remembers producer ids and epochs for. Beyond it
    /// the oldest is forgotten, and its next init gets a new producer id.
    pub max_tracked_producers: usize,
}

impl Default for ProducerIdManagerConfig {
    fn default() -> Self {
        Self {
            first_producer_id: 0,
            max_transaction_timeout_ms: 900_000,
            max_tracked_producers: 100_000,
        }
    }
}

/// The arguments of one `InitProducerId` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InitProducerIdParams<'a> {
    /// The producer's `transactional.id`; `None` for an idempotent-only producer.
    pub transactional_id: Option<&'a str>,
    /// The transaction timeout the producer asks for (checked only with a transactional id).
    pub transaction_timeout_ms: i32,
    /// The producer id the client holds (version 3+, KIP-360), or `-1`.
    pub producer_id: i64,
    /// The epoch the client holds (version 3+, KIP-360), or `-1`.
    pub producer_epoch: i16,
    /// The request's version, which decides how fencing is reported (KIP-588).
    pub api_version: i16,
}

impl<'a> InitProducerIdParams<'a> {
    /// The arguments of a decoded request of version `api_version`.
    pub fn from_request(request: &'a InitProducerIdRequest, api_version: i16) -> Self {
        Self {
            transactional_id: request.transactional_id.as_deref(),
            transaction_timeout_ms: request.transaction_timeout_ms,
            producer_id: request.producer_id.0,
            producer_epoch: request.producer_epoch,
            api_version,
        }
    }
}

/// The producer id of one `transactional.id`.
#[derive(Debug, Clone, Copy)]
struct TransactionalEntry {
    current: ProducerIdAndEpoch,
    /// What the client held before the latest init, so that a retried init returns the same
    /// answer instead of fencing the client that sent it.
    previous: Option<ProducerIdAndEpoch>,
}

/// Hands out producer ids and epochs for `InitProducerId`; one instance serves the whole cluster.
///
/// The rules, after Kafka's transaction coordinator:
/// * Without a transactional id, always a fresh producer id at epoch 0, whatever producer id and
///   epoch the request names. That is Kafka's answer to an idempotent producer's KIP-360
///   recovery too (the conformance suite checks it): a new id restarts its sequences just as an
///   epoch bump would, and no per-id state is needed to answer it.
/// * With a transactional id, a stable producer id per transactional id whose epoch is bumped on
///   every init, so that the previous instance of that producer is fenced (its batches fail with
///   `INVALID_PRODUCER_EPOCH`). A request that names a producer id and epoch must hold the current
///   ones (or be a retry of the latest init); otherwise it is fenced with `PRODUCER_FENCED`
///   (`INVALID_PRODUCER_EPOCH` before version 4, KIP-588).
/// * An epoch must leave room for one more bump, so once it reaches `i16::MAX - 1` the next init
///   moves to a fresh producer id at epoch 0, as Kafka does.
///
/// The transaction itself (whether one is open, aborting it on a new instance's init) is the
/// business of [`crate::txn::TransactionCoordinator`], which calls this manager for the epochs.
#[derive(Debug, Clone)]
pub struct ProducerIdManager {
    config: ProducerIdManagerConfig,
    next_producer_id: i64,
    transactional: HashMap<String, TransactionalEntry>,
}

impl Default for ProducerIdManager {
    fn default() -> Self {
        Self::new(ProducerIdManagerConfig::default())
    }
}

impl ProducerIdManager {
    /// A manager with the given settings that has handed out no producer id yet.
    pub fn new(config: ProducerIdManagerConfig) -> Self {
        Self {
            next_producer_id: config.first_producer_id.max(0),
            config,
            transactional: HashMap::new(),
        }
    }

    /// Answers one `InitProducerId` request: the producer id and epoch to use, or the error code
    /// for the response (whose producer id and epoch are then `-1`).
    ///
    /// Errors: `INVALID_REQUEST` when only one of producer id and epoch is given (or either is
    /// negative without being `-1`), or the transactional id is empty;
    /// `INVALID_TRANSACTION_TIMEOUT` when a transactional producer asks for a timeout outside
    /// `1..=max_transaction_timeout_ms`; `PRODUCER_FENCED` / `INVALID_PRODUCER_EPOCH` as described
    /// on [`ProducerIdManager`].
    pub fn init_producer_id(
        &mut self,
        params: &InitProducerIdParams<'_>,
    ) -> Result<ProducerIdAndEpoch, ErrorCode> {
        let expected = self.validate(params)?;
        match params.transactional_id {
            Some(transactional_id) => {
                self.init_transactional(transactional_id, expected, params.api_version)
            }
            None => self.init_idempotent(),
        }
    }

    /// The checks of [`init_producer_id`](Self::init_producer_id) that need no state: the
    /// producer id and epoch the client holds (`None` if it holds none), or the request's error.
    pub fn validate(
        &self,
        params: &InitProducerIdParams<'_>,
    ) -> Result<Option<ProducerIdAndEpoch>, ErrorCode> {
        let expected = match (params.producer_id, params.producer_epoch) {
            (NO_PRODUCER_ID, NO_PRODUCER_EPOCH) => None,
            (producer_id, producer_epoch) if producer_id >= 0 && producer_epoch >= 0 => {
                Some(ProducerIdAndEpoch {
                    producer_id,
                    producer_epoch,
                })
            }
            _ => return Err(ErrorCode::InvalidRequest),
        };
        match params.transactional_id {
            Some("") => Err(ErrorCode::InvalidRequest),
            Some(_)
                if params.transaction_timeout_ms <= 0
                    || params.transaction_timeout_ms > self.config.max_transaction_timeout_ms =>
            {
                Err(ErrorCode::InvalidTransactionTimeout)
            }
            _ => Ok(expected),
        }
    }

    /// The producer id and epoch `transactional_id` currently holds, if it was ever initialised
    /// (and not forgotten since, see [`ProducerIdManagerConfig::max_tracked_producers`]).
    pub fn transactional_producer(&self, transactional_id: &str) -> Option<ProducerIdAndEpoch> {
        self.transactional.get(transactional_id).map(|e| e.current)
    }

    /// How many transactional ids the manager remembers.
    pub fn tracked_transactional_ids(&self) -> usize {
        self.transactional.len()
    }

    /// Bumps the epoch of `transactional_id` without handing it to any client: the transaction
    /// coordinator's fence (Kafka's `prepareFenceProducerEpoch`) when it aborts an open
    /// transaction on a new instance's init or on timeout. The old instance, still at the
    /// previous epoch, is fenced; no retry of an earlier init is recognised afterwards. Returns
    /// the new producer id and epoch (an exhausted epoch stays where it is: the next init moves
    /// to a new producer id anyway).
    pub fn fence(&mut self, transactional_id: &str) -> Option<ProducerIdAndEpoch> {
        let entry = self.transactional.get_mut(transactional_id)?;
        entry.current.producer_epoch = entry.current.producer_epoch.saturating_add(1);
        entry.previous = None;
        Some(entry.current)
    }

    fn init_idempotent(&mut self) -> Result<ProducerIdAndEpoch, ErrorCode> {
        Ok(ProducerIdAndEpoch {
            producer_id: self.allocate()?,
            producer_epoch: 0,
        })
    }

    fn init_transactional(
        &mut self,
        transactional_id: &str,
        expected: Option<ProducerIdAndEpoch>,
        api_version: i16,
    ) -> Result<ProducerIdAndEpoch, ErrorCode> {
        let Some(entry) = self.transactional.get(transactional_id).copied() else {
            // First init of this transactional id: whatever the client holds is from before
            // (or from another cluster), so it simply starts afresh, as in Kafka.
            let current = ProducerIdAndEpoch {
                producer_id: self.allocate()?,
                producer_epoch: 0,
            };
            self.remember_transactional(transactional_id, current, None);
            return Ok(current);
        };
        match expected {
            Some(held) if entry.previous == Some(held) => Ok(entry.current),
            Some(held) if held != entry.current => Err(fenced_error(api_version)),
            _ => {
                let current = if epoch_exhausted(entry.current.producer_epoch) {
                    ProducerIdAndEpoch {
                        producer_id: self.allocate()?,
                        producer_epoch: 0,
                    }
                } else {
                    ProducerIdAndEpoch {
                        producer_epoch: entry.current.producer_epoch + 1,
                        ..entry.current
                    }
                };
                // A retry is recognised only when the client sent what it held (version 3+).
                self.remember_transactional(transactional_id, current, expected);
                Ok(current)
            }
        }
    }

    fn remember_transactional(
        &mut self,
        transactional_id: &str,
        current: ProducerIdAndEpoch,
        previous: Option<ProducerIdAndEpoch>,
    ) {
        if !self.transactional.contains_key(transactional_id)
            && self.transactional.len() >= self.config.max_tracked_producers.max(1)
        {
            let oldest = self
                .transactional
                .iter()
                .min_by_key(|(_, e)| e.current.producer_id)
                .map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                self.transactional.remove(&oldest);
            }
        }
        self.transactional.insert(
            transactional_id.to_owned(),
            TransactionalEntry { current, previous },
        );
    }

    fn allocate(&mut self) -> Result<i64, ErrorCode> {
        let producer_id = self.next_producer_id;
        // 2^63 ids cannot run out in practice; failing beats wrapping to a negative id.
        self.next_producer_id = producer_id
            .checked_add(1)
            .ok_or(ErrorCode::UnknownServerError)?;
        Ok(producer_id)
    }
}

/// Whether an epoch has no room left for a bump. Kafka stops at `i16::MAX - 1` because ending a
/// transaction may need one more bump, and `i16::MAX` itself is never handed out.
fn epoch_exhausted(epoch: i16) -> bool {
    epoch >= i16::MAX - 1
}

/// The error that fences an `InitProducerId` of version `api_version`: KIP-588 introduced
/// `PRODUCER_FENCED` in version 4; older clients only know `INVALID_PRODUCER_EPOCH`.
pub(crate) fn fenced_error(api_version: i16) -> ErrorCode {
    if api_version >= 4 {
        ErrorCode::ProducerFenced
    } else {
        ErrorCode::InvalidProducerEpoch
    }
}

#[cfg(test)]
mod tests;

//! Transactions on the producer side (KIP-98): Java's `TransactionManager` state machine.
//!
//! ```text
//!  Uninitialized --init_transactions--> Ready --begin_transaction--> InTransaction
//!      InTransaction --commit_transaction--> Committing --EndTxn ok--> Ready
//!      InTransaction --abort_transaction---> Aborting   --EndTxn ok--> Ready
//!      InTransaction --a batch or request fails--> AbortableError --abort_transaction--> Ready
//!      any --fenced / not authorized--> FatalError (only close is left)
//! ```
//!
//! An *abortable* error (a batch that could not be written, an offset commit the group
//! refused) spoils the open transaction: commit then fails with it, and the application must
//! abort and may begin the next one. A *fatal* error means this producer may never write
//! again: another instance with the same `transactional.id` fenced it (`PRODUCER_FENCED`,
//! `INVALID_PRODUCER_EPOCH`), or it is not authorized for its transactional id.
//!
//! The coordinator requests live in [`requests`]; this module is pure bookkeeping.

mod api;
pub(crate) mod requests;

use std::collections::BTreeSet;

use kafka_protocol::ErrorCode;

use crate::error::ProducerError;

/// Where a transactional producer is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TxnState {
    Uninitialized,
    Ready,
    InTransaction,
    Committing,
    Aborting,
    AbortableError,
    FatalError,
}

impl TxnState {
    fn name(self) -> &'static str {
        match self {
            TxnState::Uninitialized => "UNINITIALIZED",
            TxnState::Ready => "READY",
            TxnState::InTransaction => "IN_TRANSACTION",
            TxnState::Committing => "COMMITTING_TRANSACTION",
            TxnState::Aborting => "ABORTING_TRANSACTION",
            TxnState::AbortableError => "ABORTABLE_ERROR",
            TxnState::FatalError => "FATAL_ERROR",
        }
    }
}

/// Whether a coordinator or broker error ends this producer for good (Java's fatal errors)
/// rather than only the open transaction.
pub(crate) fn is_fatal(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::ProducerFenced
            | ErrorCode::InvalidProducerEpoch
            | ErrorCode::TransactionalIdAuthorizationFailed
            | ErrorCode::ClusterAuthorizationFailed
            | ErrorCode::UnsupportedVersion
            | ErrorCode::UnsupportedForMessageFormat
            | ErrorCode::InvalidProducerIdMapping
            | ErrorCode::TransactionCoordinatorFenced
    )
}

/// The producer's transaction bookkeeping: its state, the error that spoiled the open
/// transaction (or the producer), and the partitions and groups the coordinator added.
#[derive(Debug)]
pub(crate) struct TransactionManager {
    pub(crate) transactional_id: String,
    state: TxnState,
    error: Option<ProducerError>,
    /// Partitions AddPartitionsToTxn added to the open transaction.
    partitions: BTreeSet<(String, i32)>,
    /// A batch of the open transaction failed: after the abort, take a new epoch.
    epoch_bump: bool,
}

impl TransactionManager {
    pub(crate) fn new(transactional_id: String) -> Self {
        TransactionManager {
            transactional_id,
            state: TxnState::Uninitialized,
            error: None,
            partitions: BTreeSet::new(),
            epoch_bump: false,
        }
    }

    #[cfg(test)]
    pub(crate) fn state(&self) -> TxnState {
        self.state
    }

    fn refuse(&self, operation: &'static str) -> ProducerError {
        match (&self.error, self.state) {
            (Some(e), TxnState::FatalError) => e.clone(),
            _ => ProducerError::TransactionState {
                operation,
                state: self.state.name(),
            },
        }
    }

    /// `init_transactions` may run (first, or again after a timeout of the previous call).
    pub(crate) fn start_init(&mut self) -> Result<(), ProducerError> {
        match self.state {
            TxnState::Uninitialized => Ok(()),
            _ => Err(self.refuse("init_transactions")),
        }
    }

    pub(crate) fn initialized(&mut self) {
        self.state = TxnState::Ready;
    }

    pub(crate) fn begin(&mut self) -> Result<(), ProducerError> {
        match self.state {
            TxnState::Ready => {
                self.state = TxnState::InTransaction;
                self.partitions.clear();
                Ok(())
            }
            _ => Err(self.refuse("begin_transaction")),
        }
    }

    /// Records may be sent (and offsets added) only inside a transaction; after an abortable
    /// error they fail with it until the application aborts.
    pub(crate) fn check_send(&self) -> Result<(), ProducerError> {
        match (self.state, &self.error) {
            (TxnState::InTransaction, _) => Ok(()),
            (TxnState::AbortableError | TxnState::FatalError, Some(e)) => Err(e.clone()),
            _ => Err(self.refuse("send")),
        }
    }

    /// Whether AddPartitionsToTxn must still add `topic`/`partition`.
    pub(crate) fn needs_partition(&self, topic: &str, partition: i32) -> bool {
        !self
            .partitions
            .iter()
            .any(|(t, p)| t == topic && *p == partition)
    }

    pub(crate) fn partition_added(&mut self, topic: &str, partition: i32) {
        self.partitions.insert((topic.to_owned(), partition));
    }

    /// Commit or abort may start: commit only from InTransaction, abort also from an
    /// abortable error. Returns whether there is anything to end at the coordinator (a
    /// transaction that added nothing is not known to it: Java skips EndTxn then).
    pub(crate) fn start_end(&mut self, commit: bool) -> Result<bool, ProducerError> {
        match (self.state, commit) {
            (TxnState::InTransaction, true) => self.state = TxnState::Committing,
            (TxnState::InTransaction | TxnState::AbortableError, false) => {
                self.state = TxnState::Aborting
            }
            (TxnState::AbortableError, true) => {
                return Err(self
                    .error
                    .clone()
                    .unwrap_or(self.refuse("commit_transaction")))
            }
            // A commit or abort interrupted (timed out) may be called again.
            (TxnState::Committing, true) | (TxnState::Aborting, false) => {}
            _ => {
                return Err(self.refuse(if commit {
                    "commit_transaction"
                } else {
                    "abort_transaction"
                }))
            }
        }
        Ok(true)
    }

    /// The transaction ended at the coordinator: the next one may begin.
    pub(crate) fn ended(&mut self) {
        self.state = TxnState::Ready;
        self.error = None;
        self.partitions.clear();
    }

    /// Something failed: `code` from a broker, or another error. A fatal one ends the
    /// producer; otherwise an open transaction can only be aborted now.
    pub(crate) fn fail(&mut self, error: ProducerError) {
        if self.state == TxnState::FatalError {
            return;
        }
        let fatal = matches!(&error, ProducerError::Broker(code) if is_fatal(*code))
            || matches!(error, ProducerError::Fenced(_));
        if fatal {
            self.state = TxnState::FatalError;
            self.error = Some(match error {
                ProducerError::Broker(code) if is_fenced(code) => {
                    ProducerError::Fenced(self.transactional_id.clone())
                }
                other => other,
            });
        } else if matches!(
            self.state,
            TxnState::InTransaction | TxnState::Committing | TxnState::AbortableError
        ) {
            self.state = TxnState::AbortableError;
            self.error
                .get_or_insert(ProducerError::TransactionAborted(error.to_string()));
        }
    }

    /// A batch of the open transaction failed (see [`take_epoch_bump`](Self::take_epoch_bump)).
    pub(crate) fn require_epoch_bump(&mut self) {
        self.epoch_bump = true;
    }

    /// Whether the abort that just ended the transaction must be followed by an epoch bump
    /// (KIP-360), clearing the request.
    pub(crate) fn take_epoch_bump(&mut self) -> bool {
        std::mem::take(&mut self.epoch_bump)
    }

    /// The error that fails every call now, if the producer is fenced or unauthorized.
    pub(crate) fn fatal_error(&self) -> Option<ProducerError> {
        (self.state == TxnState::FatalError)
            .then(|| self.error.clone())
            .flatten()
    }
}

/// Whether `code` means another instance took over the transactional id.
pub(crate) fn is_fenced(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::ProducerFenced | ErrorCode::InvalidProducerEpoch
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path_goes_round() {
        let mut t = TransactionManager::new("t".into());
        assert!(t.begin().is_err(), "begin before init");
        assert!(t.check_send().is_err(), "send before init");
        t.start_init().unwrap();
        t.initialized();
        assert!(t.check_send().is_err(), "send outside a transaction");
        t.begin().unwrap();
        t.check_send().unwrap();
        assert!(t.needs_partition("a", 0));
        t.partition_added("a", 0);
        assert!(!t.needs_partition("a", 0));
        assert!(t.begin().is_err(), "no nested transactions");
        assert!(t.start_end(true).unwrap());
        t.ended();
        assert_eq!(t.state(), TxnState::Ready);
        t.begin().unwrap();
        assert!(
            t.needs_partition("a", 0),
            "each transaction adds its partitions again"
        );
        t.start_end(false).unwrap();
        t.ended();
        assert!(t.start_init().is_err(), "init happens once");
    }

    #[test]
    fn an_abortable_error_allows_only_abort() {
        let mut t = TransactionManager::new("t".into());
        t.start_init().unwrap();
        t.initialized();
        t.begin().unwrap();
        t.fail(ProducerError::Broker(ErrorCode::NotEnoughReplicas));
        assert_eq!(t.state(), TxnState::AbortableError);
        assert!(matches!(
            t.check_send(),
            Err(ProducerError::TransactionAborted(_))
        ));
        assert!(matches!(
            t.start_end(true),
            Err(ProducerError::TransactionAborted(_))
        ));
        t.start_end(false).unwrap();
        t.ended();
        t.begin().unwrap();
        t.check_send().unwrap();
    }

    #[test]
    fn a_failed_batch_asks_for_one_epoch_bump() {
        let mut t = TransactionManager::new("t".into());
        t.start_init().unwrap();
        t.initialized();
        t.begin().unwrap();
        assert!(!t.take_epoch_bump(), "nothing failed yet");
        t.require_epoch_bump();
        assert!(t.take_epoch_bump());
        assert!(!t.take_epoch_bump(), "taken once");
    }

    #[test]
    fn fencing_is_fatal() {
        let mut t = TransactionManager::new("t".into());
        t.start_init().unwrap();
        t.initialized();
        t.begin().unwrap();
        t.fail(ProducerError::Broker(ErrorCode::InvalidProducerEpoch));
        assert_eq!(t.state(), TxnState::FatalError);
        assert!(matches!(t.fatal_error(), Some(ProducerError::Fenced(_))));
        assert!(matches!(t.start_end(false), Err(ProducerError::Fenced(_))));
        assert!(matches!(t.begin(), Err(ProducerError::Fenced(_))));
        // Later errors do not replace the fatal one.
        t.fail(ProducerError::Broker(ErrorCode::NotEnoughReplicas));
        assert!(matches!(t.check_send(), Err(ProducerError::Fenced(_))));
    }
}

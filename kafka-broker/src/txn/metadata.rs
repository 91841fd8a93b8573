//! What the transaction coordinator knows about one `transactional.id`: Kafka's
//! `TransactionMetadata`, held in memory instead of in `__transaction_state`.

use std::collections::BTreeSet;

/// The states of a transactional id, with Kafka's names (what DescribeTransactions and
/// ListTransactions report, and what ListTransactions' state filters name).
///
/// ```text
///   Empty --AddPartitions/AddOffsets--> Ongoing --EndTxn(commit)--> PrepareCommit --markers--> CompleteCommit
///                                          |   \--EndTxn(abort)---> PrepareAbort  --markers--> CompleteAbort
///                                          \--init by a new instance / timeout: fence the epoch, then abort
///   CompleteCommit / CompleteAbort --AddPartitions/AddOffsets--> Ongoing (the next transaction)
/// ```
///
/// The bundled broker writes markers synchronously while it holds the coordinator, so the
/// Prepare states are never seen by a request; they are kept so the names and transitions
/// stay Kafka's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum TxnState {
    Empty,
    Ongoing,
    PrepareCommit,
    PrepareAbort,
    CompleteCommit,
    CompleteAbort,
}

impl TxnState {
    /// Every state a transactional id can be listed in.
    pub(crate) const ALL: [TxnState; 6] = [
        TxnState::Empty,
        TxnState::Ongoing,
        TxnState::PrepareCommit,
        TxnState::PrepareAbort,
        TxnState::CompleteCommit,
        TxnState::CompleteAbort,
    ];

    /// Kafka's name of the state.
    pub(crate) fn name(self) -> &'static str {
        match self {
            TxnState::Empty => "Empty",
            TxnState::Ongoing => "Ongoing",
            TxnState::PrepareCommit => "PrepareCommit",
            TxnState::PrepareAbort => "PrepareAbort",
            TxnState::CompleteCommit => "CompleteCommit",
            TxnState::CompleteAbort => "CompleteAbort",
        }
    }

    /// The state named `name` (as ListTransactions filters name them), if it is one.
    pub(crate) fn from_name(name: &str) -> Option<TxnState> {
        TxnState::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether a transaction is open (its partitions may hold records without a marker).
    pub(crate) fn is_open(self) -> bool {
        matches!(
            self,
            TxnState::Ongoing | TxnState::PrepareCommit | TxnState::PrepareAbort
        )
    }
}

/// One topic partition, as a transaction names it.
pub(crate) type TxnPartition = (String, i32);

/// The transaction state of one transactional id. Its producer id and epoch live in the
/// [`crate::producer_state::ProducerIdManager`], which hands them out.
#[derive(Debug, Clone)]
pub(crate) struct TransactionMetadata {
    pub state: TxnState,
    /// `transaction.timeout.ms` of the latest InitProducerId.
    pub timeout_ms: i32,
    /// The partitions of the open transaction (AddPartitionsToTxn), cleared when it completes.
    pub partitions: BTreeSet<TxnPartition>,
    /// The groups whose offsets the open transaction commits (AddOffsetsToTxn). Kafka adds the
    /// group's `__consumer_offsets` partition instead; the bundled broker has no such topic.
    pub groups: BTreeSet<String>,
    /// When the open transaction began (its first AddPartitions/AddOffsets), or -1.
    pub start_ms: i64,
    /// When the state last changed.
    pub last_update_ms: i64,
    /// The epoch the client held before a transactions-v2 EndTxn bumped it (KIP-890 part 2):
    /// an EndTxn retried with it is recognised as the retry it is. `None` after any other
    /// change of epoch (an init, a fence), so that a fenced client's EndTxn is not taken for
    /// one.
    pub bumped_from: Option<i16>,
}

impl TransactionMetadata {
    /// A transactional id just initialised: no transaction yet.
    pub(crate) fn new(timeout_ms: i32, now_ms: i64) -> Self {
        TransactionMetadata {
            state: TxnState::Empty,
            timeout_ms,
            partitions: BTreeSet::new(),
            groups: BTreeSet::new(),
            start_ms: -1,
            last_update_ms: now_ms,
            bumped_from: None,
        }
    }

    /// Whether the open transaction has run past its timeout at `now_ms`.
    pub(crate) fn timed_out(&self, now_ms: i64) -> bool {
        self.state == TxnState::Ongoing
            && self.start_ms >= 0
            && now_ms.saturating_sub(self.start_ms) > i64::from(self.timeout_ms)
    }
}

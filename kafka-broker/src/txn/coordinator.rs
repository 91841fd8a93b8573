//! The transaction coordinator's decisions (KIP-98), as Kafka's `TransactionCoordinator` makes
//! them, with no I/O: each call checks a request against the transactional id's state and
//! either answers it or returns a [`TxnCompletion`], the markers the caller must write before
//! calling [`TransactionCoordinator::complete`].

use std::collections::HashMap;

use kafka_protocol::ErrorCode;

use super::metadata::{TransactionMetadata, TxnPartition, TxnState};
use crate::producer_state::{
    fenced_error, InitProducerIdParams, ProducerIdAndEpoch, ProducerIdManager,
    ProducerIdManagerConfig,
};

/// A transaction to finish: markers to write into `partitions` and the groups whose pending
/// offsets commit or vanish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TxnCompletion {
    pub transactional_id: String,
    pub producer_id: i64,
    /// The epoch the markers carry: the producer's, or the fenced (bumped) one when the
    /// coordinator aborts on its own.
    pub producer_epoch: i16,
    pub committed: bool,
    pub partitions: Vec<TxnPartition>,
    pub groups: Vec<String>,
}

/// What an InitProducerId leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InitOutcome {
    /// Answer with this producer id and epoch.
    Ready(ProducerIdAndEpoch),
    /// A transaction of the previous instance is open: the coordinator fenced its epoch; abort
    /// it (write these markers, then `complete`), and answer `CONCURRENT_TRANSACTIONS` so that
    /// the client retries, as Kafka does. The retry then bumps the epoch once more.
    AbortFirst(TxnCompletion),
}

/// What an EndTxn leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EndOutcome {
    /// The transaction already ended this way (a retried EndTxn): answer success.
    AlreadyDone,
    /// Write these markers, then `complete`, then answer success.
    Finish(TxnCompletion),
}

/// One listed transaction (ListTransactions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListedTransaction {
    pub transactional_id: String,
    pub producer_id: i64,
    pub state: TxnState,
}

/// Everything DescribeTransactions reports for one transactional id.
#[derive(Debug, Clone)]
pub(crate) struct DescribedTransaction {
    pub producer: ProducerIdAndEpoch,
    pub metadata: TransactionMetadata,
}

/// The cluster's transaction coordinator: one serves every broker of a bundled cluster (their
/// state is shared), and each broker answers only for the transactional ids placed on it.
#[derive(Debug, Default)]
pub(crate) struct TransactionCoordinator {
    ids: ProducerIdManager,
    transactions: HashMap<String, TransactionMetadata>,
}

impl TransactionCoordinator {
    /// A coordinator handing out producer ids with these settings.
    pub(crate) fn new(config: ProducerIdManagerConfig) -> Self {
        TransactionCoordinator {
            ids: ProducerIdManager::new(config),
            transactions: HashMap::new(),
        }
    }

    /// The producer id and epoch `transactional_id` holds, with its transaction state.
    fn current(
        &self,
        transactional_id: &str,
    ) -> Option<(ProducerIdAndEpoch, &TransactionMetadata)> {
        let producer = self.ids.transactional_producer(transactional_id)?;
        Some((producer, self.transactions.get(transactional_id)?))
    }

    /// Checks that a request's producer id and epoch are the ones `transactional_id` holds:
    /// `INVALID_PRODUCER_ID_MAPPING` for an unknown id or another producer id,
    /// `PRODUCER_FENCED` for another epoch (a fenced instance, or one from the future).
    fn check_producer(
        &mut self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
    ) -> Result<&mut TransactionMetadata, ErrorCode> {
        let producer = self
            .ids
            .transactional_producer(transactional_id)
            .ok_or(ErrorCode::InvalidProducerIdMapping)?;
        let metadata = self
            .transactions
            .get_mut(transactional_id)
            .ok_or(ErrorCode::InvalidProducerIdMapping)?;
        if producer.producer_id != producer_id {
            return Err(ErrorCode::InvalidProducerIdMapping);
        }
        if producer.producer_epoch != producer_epoch {
            return Err(ErrorCode::ProducerFenced);
        }
        Ok(metadata)
    }

    /// InitProducerId, with or without a transactional id.
    ///
    /// With one, Kafka's order: the request's own checks (empty id, timeout), then a client that
    /// names a producer id other than the current one is fenced, then the state decides: an
    /// open transaction is fenced and aborted first ([`InitOutcome::AbortFirst`]); otherwise
    /// the epoch is bumped (or the retry of the last init recognised) and the id starts `Empty`.
    pub(crate) fn init_producer_id(
        &mut self,
        params: &InitProducerIdParams<'_>,
        now_ms: i64,
    ) -> Result<InitOutcome, ErrorCode> {
        let expected = self.ids.validate(params)?;
        let Some(transactional_id) = params.transactional_id else {
            return self.ids.init_producer_id(params).map(InitOutcome::Ready);
        };
        if let Some((producer, metadata)) = self.current(transactional_id) {
            let state = metadata.state;
            if expected.is_some_and(|held| held.producer_id != producer.producer_id)
                && state.is_open()
            {
                return Err(fenced_error(params.api_version));
            }
            match state {
                TxnState::PrepareCommit | TxnState::PrepareAbort => {
                    return Err(ErrorCode::ConcurrentTransactions)
                }
                TxnState::Ongoing => {
                    let completion = self.fence_and_abort(transactional_id, now_ms);
                    return completion
                        .map(InitOutcome::AbortFirst)
                        .ok_or(ErrorCode::ConcurrentTransactions);
                }
                TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort => {}
            }
        }
        let producer = self.ids.init_producer_id(params)?;
        let metadata = self
            .transactions
            .entry(transactional_id.to_owned())
            .or_insert_with(|| TransactionMetadata::new(params.transaction_timeout_ms, now_ms));
        metadata.state = TxnState::Empty;
        metadata.timeout_ms = params.transaction_timeout_ms;
        metadata.partitions.clear();
        metadata.groups.clear();
        metadata.start_ms = -1;
        metadata.last_update_ms = now_ms;
        metadata.bumped_from = None;
        self.forget_untracked();
        Ok(InitOutcome::Ready(producer))
    }

    /// Drops the transaction state of ids the producer id manager no longer tracks (it caps
    /// them), so that both forget the same ids.
    fn forget_untracked(&mut self) {
        if self.transactions.len() > self.ids.tracked_transactional_ids() {
            let ids = &self.ids;
            self.transactions
                .retain(|id, _| ids.transactional_producer(id).is_some());
        }
    }

    /// Fences `transactional_id`'s epoch and moves its open transaction to PrepareAbort; the
    /// markers carry the fenced epoch, so the old instance can write no more.
    fn fence_and_abort(&mut self, transactional_id: &str, now_ms: i64) -> Option<TxnCompletion> {
        self.bump_and_end(transactional_id, false, None, now_ms)
    }

    /// Bumps `transactional_id`'s epoch and moves its open transaction to PrepareCommit or
    /// PrepareAbort with markers at the new epoch. `bumped_from` is the epoch a client may retry
    /// the ending with (transactions v2), `None` when the bump fences the client instead.
    fn bump_and_end(
        &mut self,
        transactional_id: &str,
        committed: bool,
        bumped_from: Option<i16>,
        now_ms: i64,
    ) -> Option<TxnCompletion> {
        let bumped = self.ids.fence(transactional_id)?;
        let metadata = self.transactions.get_mut(transactional_id)?;
        metadata.bumped_from = bumped_from;
        Some(prepare_end(
            transactional_id,
            bumped,
            metadata,
            committed,
            now_ms,
        ))
    }

    /// AddPartitionsToTxn (and AddOffsetsToTxn through [`add_group`](Self::add_group)): the
    /// partitions join the transaction, which begins if none was open.
    pub(crate) fn add_partitions(
        &mut self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        partitions: &[TxnPartition],
        now_ms: i64,
    ) -> Result<(), ErrorCode> {
        let metadata = self.check_producer(transactional_id, producer_id, producer_epoch)?;
        match metadata.state {
            TxnState::PrepareCommit | TxnState::PrepareAbort => {
                return Err(ErrorCode::ConcurrentTransactions)
            }
            TxnState::Ongoing if partitions.iter().all(|p| metadata.partitions.contains(p)) => {
                return Ok(())
            }
            _ => {}
        }
        begin(metadata, now_ms);
        metadata.partitions.extend(partitions.iter().cloned());
        Ok(())
    }

    /// AddOffsetsToTxn: the group's offsets join the transaction.
    pub(crate) fn add_group(
        &mut self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        group_id: &str,
        now_ms: i64,
    ) -> Result<(), ErrorCode> {
        let metadata = self.check_producer(transactional_id, producer_id, producer_epoch)?;
        match metadata.state {
            TxnState::PrepareCommit | TxnState::PrepareAbort => {
                Err(ErrorCode::ConcurrentTransactions)
            }
            TxnState::Ongoing if metadata.groups.contains(group_id) => Ok(()),
            _ => {
                begin(metadata, now_ms);
                metadata.groups.insert(group_id.to_owned());
                Ok(())
            }
        }
    }

    /// KIP-890 part 1: whether a transactional write (a Produce batch, or TxnOffsetCommit for a
    /// group) belongs to the open transaction of `transactional_id`. A partition or group the
    /// transaction never added is `TRANSACTION_ABORTABLE`, which the caller translates for
    /// clients older than the error.
    pub(crate) fn verify(
        &mut self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        member: TxnMember<'_>,
    ) -> Result<(), ErrorCode> {
        let metadata = self.check_producer(transactional_id, producer_id, producer_epoch)?;
        if matches!(
            metadata.state,
            TxnState::PrepareCommit | TxnState::PrepareAbort
        ) {
            return Err(ErrorCode::ConcurrentTransactions);
        }
        let added = metadata.state == TxnState::Ongoing
            && match member {
                TxnMember::Partition(topic, partition) => metadata
                    .partitions
                    .iter()
                    .any(|(t, p)| t == topic && *p == partition),
                TxnMember::Group(group) => metadata.groups.contains(group),
            };
        if added {
            Ok(())
        } else {
            Err(ErrorCode::TransactionAbortable)
        }
    }

    /// EndTxn (transactions v1: the client keeps its epoch; Kafka's strict epoch check).
    pub(crate) fn end_transaction(
        &mut self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        committed: bool,
        now_ms: i64,
    ) -> Result<EndOutcome, ErrorCode> {
        let metadata = self.check_producer(transactional_id, producer_id, producer_epoch)?;
        match (metadata.state, committed) {
            (TxnState::Ongoing, _) => {
                let producer = ProducerIdAndEpoch {
                    producer_id,
                    producer_epoch,
                };
                Ok(EndOutcome::Finish(prepare_end(
                    transactional_id,
                    producer,
                    metadata,
                    committed,
                    now_ms,
                )))
            }
            (TxnState::CompleteCommit, true) | (TxnState::CompleteAbort, false) => {
                Ok(EndOutcome::AlreadyDone)
            }
            (TxnState::PrepareCommit, true) | (TxnState::PrepareAbort, false) => {
                Err(ErrorCode::ConcurrentTransactions)
            }
            _ => Err(ErrorCode::InvalidTxnState),
        }
    }

    /// EndTxn under transactions v2 (KIP-890 part 2, EndTxn v5+ with `transaction.version` 2
    /// finalized): every commit or abort bumps the producer's epoch, the markers carry the new
    /// epoch (so a batch the old epoch still had in flight is fenced at the partition instead
    /// of slipping into the next transaction), and the answer hands the new epoch to the
    /// client. The epoch check is Kafka's for v2: an open or empty transaction needs the
    /// current epoch; a transaction being or already ended accepts only the retry of the
    /// EndTxn that ended it (the epoch it was bumped from), and fences anything else.
    pub(crate) fn end_transaction_v2(
        &mut self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        committed: bool,
        now_ms: i64,
    ) -> Result<EndOutcome, ErrorCode> {
        let (producer, metadata) = self
            .current(transactional_id)
            .filter(|(producer, _)| producer.producer_id == producer_id)
            .ok_or(ErrorCode::InvalidProducerIdMapping)?;
        let retry = metadata.bumped_from == Some(producer_epoch);
        let ended_this_way = match metadata.state {
            TxnState::PrepareCommit | TxnState::CompleteCommit => committed,
            TxnState::PrepareAbort | TxnState::CompleteAbort => !committed,
            TxnState::Ongoing | TxnState::Empty => false,
        };
        match metadata.state {
            TxnState::Ongoing | TxnState::Empty if producer_epoch != producer.producer_epoch => {
                Err(ErrorCode::ProducerFenced)
            }
            TxnState::Empty => Err(ErrorCode::InvalidTxnState),
            TxnState::Ongoing => self
                .bump_and_end(transactional_id, committed, Some(producer_epoch), now_ms)
                .map(EndOutcome::Finish)
                .ok_or(ErrorCode::InvalidProducerIdMapping),
            _ if !retry => Err(ErrorCode::ProducerFenced),
            _ if !ended_this_way => Err(ErrorCode::InvalidTxnState),
            TxnState::PrepareCommit | TxnState::PrepareAbort => {
                Err(ErrorCode::ConcurrentTransactions)
            }
            TxnState::CompleteCommit | TxnState::CompleteAbort => Ok(EndOutcome::AlreadyDone),
        }
    }

    /// The producer id and epoch `transactional_id` holds now.
    pub(crate) fn producer_of(&self, transactional_id: &str) -> Option<ProducerIdAndEpoch> {
        self.ids.transactional_producer(transactional_id)
    }

    /// Marks the transaction whose markers were written as complete: its partitions and
    /// groups are forgotten, and the next AddPartitions begins a new transaction.
    pub(crate) fn complete(&mut self, completion: &TxnCompletion, now_ms: i64) {
        if let Some(metadata) = self.transactions.get_mut(&completion.transactional_id) {
            if metadata.state.is_open() {
                metadata.state = if completion.committed {
                    TxnState::CompleteCommit
                } else {
                    TxnState::CompleteAbort
                };
                // Kafka keeps the start time of the last transaction until the next one
                // begins (DescribeTransactions reports it).
                metadata.last_update_ms = now_ms;
            }
        }
    }

    /// The open transactions that ran past their `transaction.timeout.ms`, each fenced and
    /// moved to PrepareAbort (Kafka's `abortTimedOutTransactions`): write their markers, then
    /// `complete` each.
    pub(crate) fn expire(&mut self, now_ms: i64) -> Vec<TxnCompletion> {
        let expired: Vec<String> = self
            .transactions
            .iter()
            .filter(|(_, m)| m.timed_out(now_ms))
            .map(|(id, _)| id.clone())
            .collect();
        expired
            .iter()
            .filter_map(|id| {
                tracing::info!(transactional_id = %id, "aborting a transaction past its timeout");
                self.fence_and_abort(id, now_ms)
            })
            .collect()
    }

    /// ListTransactions: every known transactional id matching the filters (empty filters
    /// match everything; `min_duration_ms` >= 0 keeps only transactions open longer than that).
    pub(crate) fn list(
        &self,
        states: &[TxnState],
        producer_ids: &[i64],
        min_duration_ms: i64,
        now_ms: i64,
    ) -> Vec<ListedTransaction> {
        let mut listed: Vec<ListedTransaction> = self
            .transactions
            .iter()
            .filter_map(|(id, metadata)| {
                let producer = self.ids.transactional_producer(id)?;
                let keep = (states.is_empty() || states.contains(&metadata.state))
                    && (producer_ids.is_empty() || producer_ids.contains(&producer.producer_id))
                    && (min_duration_ms < 0
                        || metadata.start_ms >= 0
                            && now_ms.saturating_sub(metadata.start_ms) > min_duration_ms);
                keep.then(|| ListedTransaction {
                    transactional_id: id.clone(),
                    producer_id: producer.producer_id,
                    state: metadata.state,
                })
            })
            .collect();
        listed.sort_by(|a, b| a.transactional_id.cmp(&b.transactional_id));
        listed
    }

    /// DescribeTransactions of one id, if the coordinator knows it.
    pub(crate) fn describe(&self, transactional_id: &str) -> Option<DescribedTransaction> {
        let (producer, metadata) = self.current(transactional_id)?;
        Some(DescribedTransaction {
            producer,
            metadata: metadata.clone(),
        })
    }
}

/// What a transactional write names: a partition (Produce) or a group (TxnOffsetCommit).
#[derive(Debug, Clone, Copy)]
pub(crate) enum TxnMember<'a> {
    Partition(&'a str, i32),
    Group(&'a str),
}

/// Starts a transaction if none is open (Kafka's `prepareAddPartitions`: the start time is
/// set when the first partition or group joins).
fn begin(metadata: &mut TransactionMetadata, now_ms: i64) {
    if metadata.state != TxnState::Ongoing {
        metadata.state = TxnState::Ongoing;
        metadata.start_ms = now_ms;
        metadata.partitions.clear();
        metadata.groups.clear();
    }
    metadata.last_update_ms = now_ms;
}

/// Moves an open transaction to PrepareCommit or PrepareAbort, taking its partitions and groups
/// into the completion the caller writes out.
fn prepare_end(
    transactional_id: &str,
    producer: ProducerIdAndEpoch,
    metadata: &mut TransactionMetadata,
    committed: bool,
    now_ms: i64,
) -> TxnCompletion {
    metadata.state = if committed {
        TxnState::PrepareCommit
    } else {
        TxnState::PrepareAbort
    };
    metadata.last_update_ms = now_ms;
    TxnCompletion {
        transactional_id: transactional_id.to_owned(),
        producer_id: producer.producer_id,
        producer_epoch: producer.producer_epoch,
        committed,
        partitions: std::mem::take(&mut metadata.partitions)
            .into_iter()
            .collect(),
        groups: std::mem::take(&mut metadata.groups).into_iter().collect(),
    }
}

//! Transactions (KIP-98): the transaction coordinator and the markers it writes.
//!
//! A transactional producer's life, and who does what here:
//!
//! 1. `InitProducerId(transactional.id)`: [`TransactionCoordinator::init_producer_id`] bumps
//!    the id's epoch, fencing any older instance. If that instance left a transaction open,
//!    the coordinator aborts it first (markers with the fenced epoch) and answers
//!    `CONCURRENT_TRANSACTIONS`; the client retries and gets the next epoch.
//! 2. `AddPartitionsToTxn` / `AddOffsetsToTxn`: the partitions and groups join the open
//!    transaction (the first one opens it and starts its `transaction.timeout.ms`).
//! 3. `Produce` of transactional batches: the leader checks with the coordinator that the
//!    partition was added (KIP-890 part 1), then appends; the partition's last stable offset
//!    stays at the transaction's first offset there until a marker closes it.
//!    `TxnOffsetCommit`: the group stages the offsets under the producer id.
//! 4. `EndTxn(commit|abort)`: the coordinator moves to PrepareCommit/PrepareAbort and
//!    [`write_markers`] writes a COMMIT or ABORT control batch to every partition of the
//!    transaction and makes each group's staged offsets visible (or drops them); then the
//!    transaction is complete.
//!
//! Kafka persists each step in `__transaction_state` and sends markers asynchronously
//! (WriteTxnMarkers to each leader), answering EndTxn before they are written. The bundled
//! broker's brokers share the partition logs, so the markers are written synchronously while
//! the coordinator is held: a client never observes the Prepare states, and EndTxn returns
//! once every partition is decided, which Kafka clients accept (they only require that the
//! next transaction waits, which it then never has to).
//!
//! Lock order: coordinator, then a partition log or the group coordinator; never the reverse.
//! Produce and TxnOffsetCommit verify with the coordinator and release it before they take
//! the partition or group lock.

mod coordinator;
mod metadata;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Weak};
use std::time::Duration;

#[cfg(test)]
pub(crate) use coordinator::ListedTransaction;
pub(crate) use coordinator::{
    EndOutcome, InitOutcome, TransactionCoordinator, TxnCompletion, TxnMember,
};
pub(crate) use metadata::TxnState;

use kafka_protocol::records::EndTransactionMarker;

use crate::state::ClusterState;
use crate::sync::lock;

/// The coordinator epoch the markers carry. Kafka uses the leader epoch of the transactional
/// id's `__transaction_state` partition, which fences a deposed coordinator's markers; the
/// bundled broker's coordinator state is shared by every broker and never deposed.
pub(crate) const COORDINATOR_EPOCH: i32 = 0;

/// Writes the markers of a completed transaction into its partitions and completes its
/// groups' staged offsets. A partition that no longer exists is skipped (its topic was
/// deleted), as Kafka's marker channel drops markers for deleted partitions.
pub(crate) fn write_markers(state: &ClusterState, completion: &TxnCompletion) {
    let marker = EndTransactionMarker {
        committed: completion.committed,
        coordinator_epoch: COORDINATOR_EPOCH,
    };
    let now = state.clock.now_ms();
    for (topic, partition) in &completion.partitions {
        let log = lock(&state.topics)
            .get_shared(topic)
            .and_then(|t| t.partition(*partition).cloned());
        let Some(log) = log else {
            tracing::debug!(%topic, partition, "marker for a partition that is gone");
            continue;
        };
        if let Err(code) = log.append_marker(
            completion.producer_id,
            completion.producer_epoch,
            marker,
            now,
        ) {
            // Only a marker of an older epoch can be refused, which the coordinator (the one
            // source of epochs) never writes.
            tracing::warn!(%topic, partition, ?code, "transaction marker refused");
        }
    }
    for group in &completion.groups {
        state
            .groups
            .complete_transaction(group, completion.producer_id, completion.committed);
    }
}

/// Ends a transaction the coordinator decided to end: writes its markers, then records it as
/// complete. Called with the coordinator locked.
pub(crate) fn finish(
    state: &ClusterState,
    coordinator: &mut TransactionCoordinator,
    completion: &TxnCompletion,
) {
    write_markers(state, completion);
    coordinator.complete(completion, state.clock.now_ms());
}

/// Aborts the transactions that ran past their timeout, every `interval` until the cluster is
/// gone (Kafka's `transaction.abort.timed.out.transaction.cleanup.interval.ms`).
pub(crate) async fn abort_timed_out(state: Weak<ClusterState>, interval: Duration) {
    let mut ticks = tokio::time::interval(interval.max(Duration::from_millis(1)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(state) = state.upgrade() else {
            return;
        };
        abort_expired(&state);
    }
}

/// One pass of [`abort_timed_out`].
pub(crate) fn abort_expired(state: &Arc<ClusterState>) {
    let mut coordinator = lock(&state.transactions);
    let now = state.clock.now_ms();
    for completion in coordinator.expire(now) {
        finish(state, &mut coordinator, &completion);
    }
}

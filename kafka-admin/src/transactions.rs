//! Transactions as an operator sees them (KIP-664): list the transactions every coordinator
//! holds, describe some at their coordinator, and abort a hanging one on a partition.
//!
//! A "hanging" transaction is one a partition still holds open although its coordinator has
//! forgotten it (a coordinator bug or a lost marker): the partition's last stable offset is
//! stuck behind it and read_committed consumers stop there. [`AdminClient::abort_transaction`]
//! writes the abort marker to that partition directly, as the coordinator would, with
//! WriteTxnMarkers to the partition's leader; the producer id and epoch come from
//! [`AdminClient::describe_producers`].

use std::collections::BTreeMap;

use kafka_protocol::messages::write_txn_markers_request::{
    WritableTxnMarker, WritableTxnMarkerTopic,
};
use kafka_protocol::messages::{
    DescribeTransactionsRequest, ListTransactionsRequest, WriteTxnMarkersRequest,
};
use kafka_protocol::{ApiKey, ProducerId, TransactionalId};

use crate::error::{AdminError, Result};
use crate::router::{self, ItemResults};
use crate::{AdminClient, TopicPartition};

/// FindCoordinator's key type for a transactional id.
const TRANSACTION_KEY_TYPE: i8 = 1;

/// Which transactions [`AdminClient::list_transactions`] returns; empty filters match all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListTransactionsFilter {
    /// States to keep (Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort,
    /// Empty, Dead, PrepareEpochFence).
    pub states: Vec<String>,
    /// Producer ids to keep.
    pub producer_ids: Vec<i64>,
    /// Keep only transactions open for longer than this many ms (ListTransactions v1+,
    /// KIP-994).
    pub min_duration_ms: Option<i64>,
    /// Keep only transactional ids matching this regular expression (ListTransactions v2+,
    /// KIP-1152).
    pub transactional_id_pattern: Option<String>,
}

impl ListTransactionsFilter {
    /// Keeps transactions in `states`.
    pub fn with_states(mut self, states: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.states = states.into_iter().map(Into::into).collect();
        self
    }

    /// Keeps transactions of these producer ids.
    pub fn with_producer_ids(mut self, ids: impl IntoIterator<Item = i64>) -> Self {
        self.producer_ids = ids.into_iter().collect();
        self
    }

    /// Keeps transactions open for longer than `ms`.
    pub fn with_min_duration_ms(mut self, ms: i64) -> Self {
        self.min_duration_ms = Some(ms);
        self
    }

    /// Keeps transactional ids matching `pattern` (a regular expression).
    pub fn with_transactional_id_pattern(mut self, pattern: impl Into<String>) -> Self {
        self.transactional_id_pattern = Some(pattern.into());
        self
    }
}

/// A transaction in [`AdminClient::list_transactions`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransactionListing {
    /// The `transactional.id`.
    pub transactional_id: String,
    /// The producer id it holds.
    pub producer_id: i64,
    /// Its state at the coordinator.
    pub state: String,
}

/// A transaction in [`AdminClient::describe_transactions`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransactionDescription {
    /// The coordinator's broker id.
    pub coordinator: i32,
    /// Its state: Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, ...
    pub state: String,
    /// The producer id.
    pub producer_id: i64,
    /// The producer's epoch.
    pub producer_epoch: i16,
    /// The producer's `transaction.timeout.ms`.
    pub transaction_timeout_ms: i32,
    /// When the open transaction began (ms since the epoch), if one is open.
    pub transaction_start_time_ms: Option<i64>,
    /// The partitions in the transaction.
    pub partitions: Vec<TopicPartition>,
}

/// What [`AdminClient::abort_transaction`] aborts: the open transaction of one producer on one
/// partition, as [`AdminClient::describe_producers`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AbortTransactionSpec {
    /// The partition.
    pub partition: TopicPartition,
    /// The producer whose transaction is open there.
    pub producer_id: i64,
    /// Its epoch.
    pub producer_epoch: i16,
    /// The coordinator epoch the partition last saw for it (-1 if none).
    pub coordinator_epoch: i32,
}

impl AbortTransactionSpec {
    /// A spec for `producer_id` at `producer_epoch` on `partition`.
    pub fn new(
        partition: TopicPartition,
        producer_id: i64,
        producer_epoch: i16,
        coordinator_epoch: i32,
    ) -> Self {
        AbortTransactionSpec {
            partition,
            producer_id,
            producer_epoch,
            coordinator_epoch,
        }
    }
}

impl AdminClient {
    /// Lists the transactions of every broker's coordinator, merged (Java's
    /// `listTransactions`).
    pub async fn list_transactions(
        &self,
        filter: &ListTransactionsFilter,
    ) -> Result<Vec<TransactionListing>> {
        let call = self.call("list_transactions");
        let brokers = router::retry(&self.client, &call, || async {
            self.client.refresh_metadata(&[], false).await?;
            Ok(self
                .client
                .metadata()
                .brokers()
                .map(|(id, _)| id)
                .collect::<Vec<_>>())
        })
        .await?;
        let mut out = BTreeMap::new();
        for id in brokers {
            let listed = router::retry(&self.client, &call, || async {
                let conn = router::broker(&self.client, id).await?;
                let version = conn.version_for(ApiKey::ListTransactions)?;
                if filter.min_duration_ms.is_some() && version < 1 {
                    return Err(unsupported("v1+ for the duration filter", version));
                }
                if filter.transactional_id_pattern.is_some() && version < 2 {
                    return Err(unsupported("v2+ for the transactional id pattern", version));
                }
                let request = ListTransactionsRequest::default()
                    .with_state_filters(filter.states.iter().map(|s| s.as_str().into()).collect())
                    .with_producer_id_filters(
                        filter.producer_ids.iter().map(|p| ProducerId(*p)).collect(),
                    )
                    .with_duration_filter(filter.min_duration_ms.unwrap_or(-1))
                    .with_transactional_id_pattern(
                        filter.transactional_id_pattern.as_deref().map(|p| p.into()),
                    );
                let response = conn.send(&request).await?;
                if let Some(e) = AdminError::from_code(response.error_code, None) {
                    return Err(e);
                }
                Ok(response
                    .transaction_states
                    .into_iter()
                    .map(|t| TransactionListing {
                        transactional_id: t.transactional_id.to_string(),
                        producer_id: t.producer_id.get(),
                        state: t.transaction_state.to_string(),
                    })
                    .collect::<Vec<_>>())
            })
            .await?;
            for t in listed {
                out.insert(t.transactional_id.clone(), t);
            }
        }
        Ok(out.into_values().collect())
    }

    /// Describes transactions, each at its coordinator (Java's `describeTransactions`).
    pub async fn describe_transactions(
        &self,
        transactional_ids: &[String],
    ) -> Result<ItemResults<String, TransactionDescription>> {
        let call = self.call("describe_transactions");
        router::retry_items(
            &self.client,
            &call,
            transactional_ids.to_vec(),
            |ids| async move {
                let mut out = Vec::new();
                for id in ids {
                    let result = self.describe_transaction(&id).await;
                    out.push((id, result));
                }
                Ok(out)
            },
        )
        .await
    }

    async fn describe_transaction(&self, id: &str) -> Result<TransactionDescription> {
        let coordinator = self
            .client
            .find_coordinator(id, TRANSACTION_KEY_TYPE)
            .await?;
        let conn = self.client.coordinator(coordinator).await?;
        let request = DescribeTransactionsRequest::default()
            .with_transactional_ids(vec![TransactionalId::from(id)]);
        let response = conn.send(&request).await?;
        let t = response
            .transaction_states
            .into_iter()
            .find(|t| t.transactional_id.as_str() == id)
            .ok_or_else(|| AdminError::MissingResult(id.to_string()))?;
        if let Some(e) = AdminError::from_code(t.error_code, None) {
            return Err(e);
        }
        Ok(TransactionDescription {
            coordinator: coordinator.0,
            state: t.transaction_state.to_string(),
            producer_id: t.producer_id.get(),
            producer_epoch: t.producer_epoch,
            transaction_timeout_ms: t.transaction_timeout_ms,
            transaction_start_time_ms: (t.transaction_start_time_ms >= 0)
                .then_some(t.transaction_start_time_ms),
            partitions: t
                .topics
                .into_iter()
                .flat_map(|topic| {
                    let name = topic.topic;
                    topic.partitions.into_iter().map(move |p| (name.clone(), p))
                })
                .collect(),
        })
    }

    /// Aborts a hanging transaction on one partition by writing its abort marker there (Java's
    /// `abortTransaction`, KIP-664). The leader refuses a stale producer epoch
    /// (INVALID_PRODUCER_EPOCH) or coordinator epoch (TRANSACTION_COORDINATOR_FENCED).
    pub async fn abort_transaction(&self, spec: &AbortTransactionSpec) -> Result<()> {
        let call = self.call("abort_transaction");
        let spec_ref = spec;
        let results = router::retry_items(
            &self.client,
            &call,
            vec![spec.partition.clone()],
            |tps| async move {
                router::per_leader(&self.client, tps, |conn, tps| async move {
                    let request = WriteTxnMarkersRequest::default().with_markers(vec![
                        WritableTxnMarker::default()
                            .with_producer_id(ProducerId(spec_ref.producer_id))
                            .with_producer_epoch(spec_ref.producer_epoch)
                            .with_transaction_result(false)
                            .with_coordinator_epoch(spec_ref.coordinator_epoch)
                            .with_topics(vec![WritableTxnMarkerTopic::default()
                                .with_name(spec_ref.partition.0.clone())
                                .with_partition_indexes(vec![spec_ref.partition.1])]),
                    ]);
                    let response = conn.send(&request).await?;
                    let code = response
                        .markers
                        .iter()
                        .flat_map(|m| &m.topics)
                        .filter(|t| t.name == spec_ref.partition.0)
                        .flat_map(|t| &t.partitions)
                        .find(|p| p.partition_index == spec_ref.partition.1)
                        .map(|p| p.error_code);
                    let result = match code {
                        None => Err(AdminError::MissingResult(format!(
                            "{:?}",
                            spec_ref.partition
                        ))),
                        Some(code) => match AdminError::from_code(code, None) {
                            Some(e) => Err(e),
                            None => Ok(()),
                        },
                    };
                    Ok(tps.into_iter().map(|tp| (tp, result.clone())).collect())
                })
                .await
            },
        )
        .await?;
        results
            .into_values()
            .next()
            .unwrap_or_else(|| Err(AdminError::MissingResult(format!("{:?}", spec.partition))))
    }
}

fn unsupported(needed: &str, version: i16) -> AdminError {
    AdminError::UnsupportedVersion {
        operation: "list_transactions",
        api: ApiKey::ListTransactions,
        needed: needed.into(),
        broker: format!("the broker speaks at most v{version}"),
    }
}

//! Partition offsets: list them (earliest, latest, by timestamp, max timestamp), delete records
//! before an offset, and describe a partition's producers. Each goes to the partition's leader.

use std::collections::BTreeMap;

use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::describe_producers_request::TopicRequest;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{
    DeleteRecordsRequest, DescribeProducersRequest, ListOffsetsRequest,
};
use kafka_protocol::{ApiKey, BrokerId};

use crate::error::{AdminError, Result};
use crate::router::{self, ItemResults};
use crate::{AdminClient, TopicPartition};

/// Which offset [`AdminClient::list_offsets`] asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OffsetSpec {
    /// The log start offset (timestamp -2).
    Earliest,
    /// The log end offset (timestamp -1).
    Latest,
    /// The offset of the record with the highest timestamp (-3, ListOffsets v7+, KIP-734).
    MaxTimestamp,
    /// The first offset whose timestamp is at or after this many ms since the epoch.
    Timestamp(i64),
}

impl OffsetSpec {
    fn timestamp(self) -> i64 {
        match self {
            OffsetSpec::Earliest => -2,
            OffsetSpec::Latest => -1,
            OffsetSpec::MaxTimestamp => -3,
            OffsetSpec::Timestamp(t) => t,
        }
    }
}

/// One answer of [`AdminClient::list_offsets`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListedOffset {
    /// The offset; -1 when no record matches a timestamp.
    pub offset: i64,
    /// The record's timestamp, -1 for earliest and latest.
    pub timestamp: i64,
    /// The leader epoch of the record, if known.
    pub leader_epoch: Option<i32>,
}

/// A producer a partition remembers ([`AdminClient::describe_producers`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProducerState {
    /// The producer id.
    pub producer_id: i64,
    /// Its epoch.
    pub producer_epoch: i32,
    /// The last sequence number written.
    pub last_sequence: i32,
    /// The last write's timestamp.
    pub last_timestamp: i64,
    /// The transaction coordinator's epoch, -1 if none.
    pub coordinator_epoch: i32,
    /// Where its open transaction began, if one is open.
    pub current_txn_start_offset: Option<i64>,
}

impl AdminClient {
    /// Looks up offsets, at each partition's leader.
    pub async fn list_offsets(
        &self,
        partitions: BTreeMap<TopicPartition, OffsetSpec>,
    ) -> Result<ItemResults<TopicPartition, ListedOffset>> {
        let call = self.call("list_offsets");
        let specs = &partitions;
        router::retry_items(
            &self.client,
            &call,
            partitions.keys().cloned().collect(),
            |tps| async move {
                router::per_leader(&self.client, tps, |conn, tps| async move {
                    let version = conn.version_for(ApiKey::ListOffsets)?;
                    let items: Vec<(TopicPartition, OffsetSpec)> = tps
                        .iter()
                        .filter_map(|tp| specs.get(tp).map(|s| (tp.clone(), *s)))
                        .collect();
                    if version < 7 && items.iter().any(|(_, s)| *s == OffsetSpec::MaxTimestamp) {
                        return Err(AdminError::UnsupportedVersion {
                            operation: "list_offsets",
                            api: ApiKey::ListOffsets,
                            needed: "v7+ for the max timestamp".into(),
                            broker: format!("the broker speaks at most v{version}"),
                        });
                    }
                    let request = ListOffsetsRequest::default()
                        .with_replica_id(BrokerId(-1))
                        .with_isolation_level(0)
                        .with_topics(
                            router::by_topic(items)
                                .into_iter()
                                .map(|(t, ps)| {
                                    ListOffsetsTopic::default().with_name(t).with_partitions(
                                        ps.into_iter()
                                            .map(|(p, s)| {
                                                ListOffsetsPartition::default()
                                                    .with_partition_index(p)
                                                    .with_current_leader_epoch(-1)
                                                    .with_timestamp(s.timestamp())
                                                    .with_max_num_offsets(1)
                                            })
                                            .collect(),
                                    )
                                })
                                .collect(),
                        );
                    let response = conn.send(&request).await?;
                    Ok(response
                        .topics
                        .into_iter()
                        .flat_map(|t| {
                            t.partitions.into_iter().map(move |p| {
                                let result = match AdminError::from_code(p.error_code, None) {
                                    Some(e) => Err(e),
                                    None => Ok(ListedOffset {
                                        // v0 answers with a list of offsets.
                                        offset: if version == 0 {
                                            p.old_style_offsets.first().copied().unwrap_or(-1)
                                        } else {
                                            p.offset
                                        },
                                        timestamp: p.timestamp,
                                        leader_epoch: (p.leader_epoch >= 0)
                                            .then_some(p.leader_epoch),
                                    }),
                                };
                                ((t.name.clone(), p.partition_index), result)
                            })
                        })
                        .collect())
                })
                .await
            },
        )
        .await
    }

    /// Deletes the records before each offset (DeleteRecords, at the leader); -1 means the
    /// high watermark. Returns each partition's new low watermark.
    pub async fn delete_records(
        &self,
        before: BTreeMap<TopicPartition, i64>,
    ) -> Result<ItemResults<TopicPartition, i64>> {
        let call = self.call("delete_records");
        let before = &before;
        router::retry_items(
            &self.client,
            &call,
            before.keys().cloned().collect(),
            |tps| {
                let timeout = call.remaining_ms();
                async move {
                    router::per_leader(&self.client, tps, |conn, tps| async move {
                        let items: Vec<(TopicPartition, i64)> = tps
                            .iter()
                            .filter_map(|tp| before.get(tp).map(|o| (tp.clone(), *o)))
                            .collect();
                        let request = DeleteRecordsRequest::default()
                            .with_timeout_ms(timeout)
                            .with_topics(
                                router::by_topic(items)
                                    .into_iter()
                                    .map(|(t, ps)| {
                                        DeleteRecordsTopic::default().with_name(t).with_partitions(
                                            ps.into_iter()
                                                .map(|(p, o)| {
                                                    DeleteRecordsPartition::default()
                                                        .with_partition_index(p)
                                                        .with_offset(o)
                                                })
                                                .collect(),
                                        )
                                    })
                                    .collect(),
                            );
                        let response = conn.send(&request).await?;
                        Ok(response
                            .topics
                            .into_iter()
                            .flat_map(|t| {
                                t.partitions.into_iter().map(move |p| {
                                    let result = AdminError::check(p.error_code, None)
                                        .map(|()| p.low_watermark);
                                    ((t.name.clone(), p.partition_index), result)
                                })
                            })
                            .collect())
                    })
                    .await
                }
            },
        )
        .await
    }

    /// The idempotent and transactional producers each partition's leader remembers
    /// (DescribeProducers, KIP-664).
    pub async fn describe_producers(
        &self,
        partitions: &[TopicPartition],
    ) -> Result<ItemResults<TopicPartition, Vec<ProducerState>>> {
        let call = self.call("describe_producers");
        router::retry_items(&self.client, &call, partitions.to_vec(), |tps| async move {
            router::per_leader(&self.client, tps, |conn, tps| async move {
                let items: Vec<(TopicPartition, ())> = tps.into_iter().map(|tp| (tp, ())).collect();
                let request = DescribeProducersRequest::default().with_topics(
                    router::by_topic(items)
                        .into_iter()
                        .map(|(t, ps)| {
                            TopicRequest::default()
                                .with_name(t)
                                .with_partition_indexes(ps.into_iter().map(|(p, ())| p).collect())
                        })
                        .collect(),
                );
                let response = conn.send(&request).await?;
                Ok(response
                    .topics
                    .into_iter()
                    .flat_map(|t| {
                        t.partitions.into_iter().map(move |p| {
                            let result = match AdminError::from_code(
                                p.error_code,
                                p.error_message.as_deref(),
                            ) {
                                Some(e) => Err(e),
                                None => Ok(p
                                    .active_producers
                                    .into_iter()
                                    .map(|s| ProducerState {
                                        producer_id: s.producer_id.0,
                                        producer_epoch: s.producer_epoch,
                                        last_sequence: s.last_sequence,
                                        last_timestamp: s.last_timestamp,
                                        coordinator_epoch: s.coordinator_epoch,
                                        current_txn_start_offset: (s.current_txn_start_offset >= 0)
                                            .then_some(s.current_txn_start_offset),
                                    })
                                    .collect()),
                            };
                            ((t.name.clone(), p.partition_index), result)
                        })
                    })
                    .collect())
            })
            .await
        })
        .await
    }
}

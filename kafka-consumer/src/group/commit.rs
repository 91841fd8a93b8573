//! Offsets in the group: OffsetCommit and OffsetFetch.
//!
//! A commit carries the generation and member id it was made under; the coordinator refuses
//! one from a generation that is over (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID) or while the
//! group is completing a rebalance (REBALANCE_IN_PROGRESS). The member itself refuses to send
//! one while a join is in flight (it has no generation it could name) or after it learned it
//! was fenced: either would be a commit with a stale generation.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use kafka_client::Connection;
use kafka_protocol::messages::{
    offset_commit_request, offset_fetch_request, OffsetCommitRequest, OffsetFetchRequest,
};
use kafka_protocol::{ApiKey, ErrorCode, StrBytes, TopicName};

use super::{broker_error, instance_id_at, GroupMember, LOST, REJOIN};
use crate::error::Result;
use crate::record::{OffsetAndMetadata, TopicPartition};

impl GroupMember {
    /// Builds the OffsetCommit for `offsets` under the current generation, or refuses.
    pub(crate) async fn commit_request(
        &mut self,
        offsets: &BTreeMap<TopicPartition, OffsetAndMetadata>,
    ) -> Result<(Arc<Connection>, OffsetCommitRequest)> {
        if self.is_joining() || self.is_lost() {
            // A commit with a stale generation would be refused, or worse, accepted late.
            return Err(broker_error(ErrorCode::RebalanceInProgress));
        }
        let conn = self.coordinator().await?;
        let mut topics: Vec<offset_commit_request::OffsetCommitRequestTopic> = Vec::new();
        {
            let md = self.client.metadata();
            for ((topic, partition), o) in offsets {
                let p = offset_commit_request::OffsetCommitRequestPartition::default()
                    .with_partition_index(*partition)
                    .with_committed_offset(o.offset)
                    .with_committed_leader_epoch(o.leader_epoch.unwrap_or(-1))
                    .with_committed_metadata(Some(StrBytes::from(o.metadata.as_str())));
                match topics.iter_mut().find(|t| &t.name == topic) {
                    Some(t) => t.partitions.push(p),
                    None => topics.push(
                        offset_commit_request::OffsetCommitRequestTopic::default()
                            .with_name(topic.clone())
                            .with_topic_id(md.topic(topic).map(|t| t.id).unwrap_or_default())
                            .with_partitions(vec![p]),
                    ),
                }
            }
        }
        let request = OffsetCommitRequest::default()
            .with_group_id(self.settings.group_id.clone())
            .with_generation_id_or_member_epoch(self.generation)
            .with_member_id(self.member_id.clone())
            .with_group_instance_id(instance_id_at(
                &self.settings,
                &conn,
                ApiKey::OffsetCommit,
                7,
            ))
            .with_topics(topics);
        Ok((conn, request))
    }

    /// The state flag a commit's answer may change (see [`send_commit`]).
    pub(crate) fn state_flag(&self) -> Arc<AtomicU8> {
        Arc::clone(&self.state)
    }

    /// The group's committed offsets for `partitions` (absent: none committed), retrying
    /// retriable errors until `default.api.timeout.ms` as Java does: a moved or loading
    /// coordinator, a lost connection, and UNSTABLE_OFFSET_COMMIT, which says a transaction
    /// holding offsets for these partitions is still being decided (KIP-447). Giving up
    /// early there would be wrong, not just slow: a consumer that then started from
    /// `auto.offset.reset` would process again what the transaction is about to commit.
    pub(crate) async fn committed(
        &mut self,
        partitions: &[TopicPartition],
    ) -> Result<BTreeMap<TopicPartition, OffsetAndMetadata>> {
        let deadline = tokio::time::Instant::now() + self.settings.api_timeout;
        let config = self.client.config();
        let backoff =
            kafka_client::backoff::Backoff::new(config.retry_backoff, config.retry_backoff_max);
        let mut attempt = 0u32;
        loop {
            let error = match self.fetch_committed(partitions).await {
                Ok(offsets) => return Ok(offsets),
                Err(e) if matches!(&e, crate::ConsumerError::Client(c) if c.is_retriable()) => e,
                Err(e) => return Err(e),
            };
            // Look the coordinator up again unless it answered and only asked us to wait.
            let wait_here = matches!(
                &error,
                crate::ConsumerError::Client(kafka_client::ClientError::Broker(
                    ErrorCode::UnstableOffsetCommit | ErrorCode::CoordinatorLoadInProgress
                ))
            );
            if !wait_here {
                self.coordinator = None;
            }
            let wait = backoff.wait(attempt, 0.5);
            attempt = attempt.saturating_add(1);
            if tokio::time::Instant::now() + wait >= deadline {
                return Err(error);
            }
            tracing::debug!(error = %error, attempt, "OffsetFetch retried");
            tokio::time::sleep(wait).await;
        }
    }

    async fn fetch_committed(
        &mut self,
        partitions: &[TopicPartition],
    ) -> Result<BTreeMap<TopicPartition, OffsetAndMetadata>> {
        let conn = self.coordinator().await?;
        let mut version = conn.version_for(ApiKey::OffsetFetch)?;
        let mut by_topic: BTreeMap<TopicName, Vec<i32>> = BTreeMap::new();
        for (t, p) in partitions {
            by_topic.entry(t.clone()).or_default().push(*p);
        }
        // OffsetFetch v10 names topics by id only: ids the cache lacks (a topic this consumer
        // never fetched) are looked up first, and should that fail the request goes out at v9,
        // which names them.
        if version >= 10 {
            let unknown: Vec<TopicName> = {
                let md = self.client.metadata();
                by_topic
                    .keys()
                    .filter(|t| {
                        md.topic(t)
                            .is_none_or(|i| i.id == kafka_protocol::Uuid::ZERO)
                    })
                    .cloned()
                    .collect()
            };
            if !unknown.is_empty() {
                if let Err(e) = self.client.refresh_metadata(&unknown, false).await {
                    tracing::debug!(error = %e, "metadata for OffsetFetch topic ids failed; using v9");
                }
                let md = self.client.metadata();
                if unknown.iter().any(|t| {
                    md.topic(t)
                        .is_none_or(|i| i.id == kafka_protocol::Uuid::ZERO)
                }) {
                    version = 9;
                }
            }
        }
        let mut out = BTreeMap::new();
        let mut keep = |topic: &TopicName,
                        partition: i32,
                        offset: i64,
                        epoch: i32,
                        meta: &Option<StrBytes>| {
            if offset >= 0 {
                out.insert(
                    (topic.clone(), partition),
                    OffsetAndMetadata {
                        offset,
                        metadata: meta.as_deref().unwrap_or_default().to_string(),
                        leader_epoch: (epoch >= 0).then_some(epoch),
                    },
                );
            }
        };
        // require_stable (KIP-447): offsets a transaction has yet to commit come back as
        // UNSTABLE_OFFSET_COMMIT instead of silently stale, where the broker supports it.
        if version >= 8 {
            let ids: BTreeMap<TopicName, kafka_protocol::Uuid> = {
                let md = self.client.metadata();
                by_topic
                    .keys()
                    .map(|t| (t.clone(), md.topic(t).map(|i| i.id).unwrap_or_default()))
                    .collect()
            };
            let request = OffsetFetchRequest::default()
                .with_require_stable(true)
                .with_groups(vec![
                    offset_fetch_request::OffsetFetchRequestGroup::default()
                        .with_group_id(self.settings.group_id.clone())
                        .with_topics(Some(
                            by_topic
                                .iter()
                                .map(|(t, ps)| {
                                    offset_fetch_request::OffsetFetchRequestTopics::default()
                                        .with_name(t.clone())
                                        .with_topic_id(ids.get(t).copied().unwrap_or_default())
                                        .with_partition_indexes(ps.clone())
                                })
                                .collect(),
                        )),
                ]);
            let response = conn.send_at(&request, version).await?;
            for g in &response.groups {
                g.error_code.into_result().map_err(broker_error)?;
                for t in &g.topics {
                    let name = if t.name.is_empty() {
                        self.client
                            .metadata()
                            .topic_name_by_id(t.topic_id)
                            .cloned()
                            .unwrap_or_default()
                    } else {
                        t.name.clone()
                    };
                    for p in &t.partitions {
                        p.error_code.into_result().map_err(broker_error)?;
                        keep(
                            &name,
                            p.partition_index,
                            p.committed_offset,
                            p.committed_leader_epoch,
                            &p.metadata,
                        );
                    }
                }
            }
        } else {
            let request = OffsetFetchRequest::default()
                .with_require_stable(version >= 7)
                .with_group_id(self.settings.group_id.clone())
                .with_topics(Some(
                    by_topic
                        .iter()
                        .map(|(t, ps)| {
                            offset_fetch_request::OffsetFetchRequestTopic::default()
                                .with_name(t.clone())
                                .with_partition_indexes(ps.clone())
                        })
                        .collect(),
                ));
            let response = conn.send(&request).await?;
            response.error_code.into_result().map_err(broker_error)?;
            for t in &response.topics {
                for p in &t.partitions {
                    p.error_code.into_result().map_err(broker_error)?;
                    keep(
                        &t.name,
                        p.partition_index,
                        p.committed_offset,
                        p.committed_leader_epoch,
                        &p.metadata,
                    );
                }
            }
        }
        Ok(out)
    }
}

/// Sends a commit built by [`GroupMember::commit_request`]; an answer saying the generation
/// is over or rebalancing marks the member for rejoining (or as fenced).
pub(crate) async fn send_commit(
    conn: Arc<Connection>,
    request: OffsetCommitRequest,
    state: Arc<AtomicU8>,
) -> Result<()> {
    let response = conn.send(&request).await?;
    for t in &response.topics {
        for p in &t.partitions {
            match p.error_code {
                ErrorCode::None => {}
                ErrorCode::RebalanceInProgress => {
                    let _ = state.compare_exchange(0, REJOIN, Ordering::AcqRel, Ordering::Acquire);
                    return Err(broker_error(p.error_code));
                }
                ErrorCode::IllegalGeneration
                | ErrorCode::UnknownMemberId
                | ErrorCode::FencedInstanceId => {
                    state.store(LOST, Ordering::Release);
                    return Err(broker_error(p.error_code));
                }
                code => return Err(broker_error(code)),
            }
        }
    }
    Ok(())
}

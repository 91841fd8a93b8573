//! [`Consumer`]: assigned partitions, fetched from their leaders.
//!
//! Each `poll` sends one Fetch to every broker that leads an assigned partition (all at once),
//! decodes what comes back, and hands the records out in offset order per partition. Keys and
//! values are `Bytes` slices of the fetched response: nothing is copied. A partition without a
//! position gets one from ListOffsets as `auto.offset.reset` says; OFFSET_OUT_OF_RANGE resets it
//! the same way; a leader change (NOT_LEADER_OR_FOLLOWER and friends, or a KIP-951 hint) moves
//! the partition to its new leader on the next poll.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use bytes::Bytes;
use kafka_client::{Client, ClientError};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{FetchRequest, FetchResponse, ListOffsetsRequest};
use kafka_protocol::records::{RecordBatches, RecordHeader};
use kafka_protocol::{BrokerId, ErrorCode, TopicName};
use tokio::time::Instant;
use tracing::debug;

use crate::config::{ConsumerConfig, IsolationLevel, OffsetReset};
use crate::error::{ConsumerError, Result};
use crate::group::{GroupMember, MemberSettings};

/// A fetched record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConsumerRecord {
    /// The topic.
    pub topic: TopicName,
    /// The partition.
    pub partition: i32,
    /// The record's offset.
    pub offset: i64,
    /// Its timestamp (create time, or the broker's append time on LogAppendTime topics).
    pub timestamp: i64,
    /// The key: a slice of the fetched buffer.
    pub key: Option<Bytes>,
    /// The value: a slice of the fetched buffer.
    pub value: Option<Bytes>,
    /// Headers, in order.
    pub headers: Vec<RecordHeader>,
}

/// ListOffsets' special timestamps.
const EARLIEST: i64 = -2;
const LATEST: i64 = -1;

/// A consumer of explicitly assigned partitions (Java's `assign` mode).
///
/// ```no_run
/// # async fn demo() -> Result<(), kafka_consumer::ConsumerError> {
/// use std::time::Duration;
/// use kafka_consumer::{Consumer, ConsumerConfig, OffsetReset};
///
/// let config = ConsumerConfig::new("127.0.0.1:9092").with_auto_offset_reset(OffsetReset::Earliest);
/// let mut consumer = Consumer::new(config).await?;
/// consumer.assign([("orders".into(), 0), ("orders".into(), 1)]);
/// for record in consumer.poll(Duration::from_secs(1)).await? {
///     println!("{} {} {:?}", record.partition, record.offset, record.value);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Consumer {
    client: Client,
    config: ConsumerConfig,
    /// Assigned partitions and their positions (the next offset to read; `None` until reset).
    positions: BTreeMap<(TopicName, i32), Option<i64>>,
    /// Subscribed topics (subscribe mode), whose partitions the group assigns.
    subscription: BTreeSet<TopicName>,
    group: Option<GroupMember>,
    /// Assigned partitions `poll` leaves alone until resumed.
    paused: BTreeSet<(TopicName, i32)>,
    /// When the positions were last committed automatically.
    last_auto_commit: Instant,
}

impl Consumer {
    /// Connects to the cluster.
    pub async fn new(config: ConsumerConfig) -> Result<Consumer> {
        let client = Client::connect(config.client.clone()).await?;
        let group = config.group_id.as_ref().map(|g| {
            GroupMember::new(
                client.clone(),
                MemberSettings {
                    group_id: g.as_str().into(),
                    session_timeout: config.session_timeout,
                    rebalance_timeout: config.max_poll_interval,
                    heartbeat_interval: config.heartbeat_interval,
                    instance_id: config.group_instance_id.as_deref().map(Into::into),
                    assignors: config.assignors.clone(),
                },
            )
        });
        Ok(Consumer {
            client,
            config,
            positions: BTreeMap::new(),
            subscription: BTreeSet::new(),
            group,
            paused: BTreeSet::new(),
            last_auto_commit: Instant::now(),
        })
    }

    /// Subscribes to `topics` as a member of `group.id`: the group decides which partitions
    /// this consumer reads, and positions start from the group's committed offsets.
    pub fn subscribe(&mut self, topics: impl IntoIterator<Item = TopicName>) -> Result<()> {
        if self.group.is_none() {
            return Err(ConsumerError::Client(kafka_client::config::invalid(
                "group.id",
                "subscribe needs a group.id",
            )));
        }
        self.subscription = topics.into_iter().collect();
        self.client.track_topics(self.subscription.iter().cloned());
        Ok(())
    }

    /// Commits the current position of every assigned partition to the group (the next
    /// offset each would read). Refused during a rebalance: a commit is never sent with a
    /// stale generation.
    pub async fn commit_sync(&mut self) -> Result<()> {
        let offsets: Vec<(TopicName, i32, i64)> = self
            .positions
            .iter()
            .filter_map(|((t, p), pos)| pos.map(|o| (t.clone(), *p, o)))
            .collect();
        let group = self.group.as_mut().ok_or_else(|| {
            ConsumerError::Client(kafka_client::config::invalid(
                "group.id",
                "commits need a group.id",
            ))
        })?;
        if offsets.is_empty() {
            return Ok(());
        }
        group.commit(&offsets).await
    }

    /// The group's committed offsets for `partitions`.
    pub async fn committed(
        &mut self,
        partitions: &[(TopicName, i32)],
    ) -> Result<BTreeMap<(TopicName, i32), i64>> {
        let group = self.group.as_mut().ok_or_else(|| {
            ConsumerError::Client(kafka_client::config::invalid(
                "group.id",
                "committed offsets need a group.id",
            ))
        })?;
        group.committed(partitions).await
    }

    /// Commits (with auto-commit on) and leaves the group (if in one); bounded by the request
    /// timeout.
    pub async fn close(mut self) {
        if self.config.enable_auto_commit && self.group.as_ref().is_some_and(|g| !g.needs_join()) {
            if let Err(e) = self.commit_sync().await {
                debug!(error = %e, "final auto-commit failed");
            }
        }
        if let Some(group) = self.group.as_mut() {
            let timeout = self.config.client.request_timeout;
            let _ = tokio::time::timeout(timeout, group.leave()).await;
        }
    }

    /// The group generation this consumer's assignment belongs to (-1 outside a group).
    pub fn generation(&self) -> i32 {
        self.group.as_ref().map_or(-1, GroupMember::generation)
    }

    /// With `enable.auto.commit`, commits the positions of what earlier polls returned once per
    /// `auto.commit.interval.ms` (Java's semantics: at-least-once for records handled before
    /// the next poll). A failed auto-commit is retried at the next interval.
    async fn auto_commit(&mut self) {
        let due = self.last_auto_commit.elapsed() >= self.config.auto_commit_interval;
        if !self.config.enable_auto_commit
            || !due
            || self.group.as_ref().is_none_or(GroupMember::needs_join)
        {
            return;
        }
        self.last_auto_commit = Instant::now();
        if let Err(e) = self.commit_sync().await {
            debug!(error = %e, "auto-commit failed");
        }
    }

    /// In subscribe mode, (re)joins the group when needed and takes its assignment, with
    /// positions from the committed offsets.
    async fn follow_group(&mut self) -> Result<()> {
        let Some(group) = self.group.as_mut() else {
            return Ok(());
        };
        if self.subscription.is_empty() || !group.needs_join() {
            return Ok(());
        }
        let partitions = group.join(&self.subscription).await?;
        let committed = group.committed(&partitions).await?;
        self.positions = partitions
            .into_iter()
            .map(|tp| {
                let pos = committed.get(&tp).copied();
                (tp, pos)
            })
            .collect();
        Ok(())
    }

    /// Replaces the assignment. Partitions kept keep their positions.
    pub fn assign(&mut self, partitions: impl IntoIterator<Item = (TopicName, i32)>) {
        let wanted: BTreeMap<(TopicName, i32), Option<i64>> = partitions
            .into_iter()
            .map(|tp| {
                let pos = self.positions.get(&tp).copied().flatten();
                (tp, pos)
            })
            .collect();
        self.client
            .track_topics(wanted.keys().map(|(t, _)| t.clone()));
        self.positions = wanted;
    }

    /// The assigned partitions.
    pub fn assignment(&self) -> Vec<(TopicName, i32)> {
        self.positions.keys().cloned().collect()
    }

    /// Sets the next offset to read from an assigned partition.
    pub fn seek(&mut self, topic: &str, partition: i32, offset: i64) {
        if let Some(p) = self.positions.get_mut(&(TopicName::from(topic), partition)) {
            *p = Some(offset);
        }
    }

    /// Goes back to the first offset still in the log of each given partition.
    pub async fn seek_to_beginning(&mut self, partitions: &[(TopicName, i32)]) -> Result<()> {
        self.seek_to(partitions, EARLIEST).await
    }

    /// Goes to the end of each given partition: only records written from now on.
    pub async fn seek_to_end(&mut self, partitions: &[(TopicName, i32)]) -> Result<()> {
        self.seek_to(partitions, LATEST).await
    }

    async fn seek_to(&mut self, partitions: &[(TopicName, i32)], timestamp: i64) -> Result<()> {
        self.ensure_metadata().await;
        for (topic, partition) in partitions {
            if self.positions.contains_key(&(topic.clone(), *partition)) {
                let offset = self.list_offset(topic, *partition, timestamp).await?;
                self.positions
                    .insert((topic.clone(), *partition), Some(offset));
            }
        }
        Ok(())
    }

    /// Stops fetching the given partitions until [`Consumer::resume`]; positions are kept.
    pub fn pause(&mut self, partitions: &[(TopicName, i32)]) {
        self.paused.extend(partitions.iter().cloned());
    }

    /// Fetches the given partitions again.
    pub fn resume(&mut self, partitions: &[(TopicName, i32)]) {
        for tp in partitions {
            self.paused.remove(tp);
        }
    }

    /// The next offset to read from an assigned partition, once known.
    pub fn position(&self, topic: &str, partition: i32) -> Option<i64> {
        self.positions
            .get(&(TopicName::from(topic), partition))
            .copied()
            .flatten()
    }

    /// The client core the consumer runs on.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Fetches what is available, waiting up to `timeout` for at least one record.
    pub async fn poll(&mut self, timeout: Duration) -> Result<Vec<ConsumerRecord>> {
        let deadline = Instant::now() + timeout;
        loop {
            self.auto_commit().await;
            self.follow_group().await?;
            self.ensure_metadata().await;
            self.reset_missing_positions().await?;
            let records = self.fetch_once(deadline).await?;
            if !records.is_empty() || Instant::now() >= deadline {
                return Ok(records);
            }
        }
    }

    /// Refreshes metadata when an assigned partition has no known leader (or it is stale).
    async fn ensure_metadata(&self) {
        let missing = self
            .positions
            .keys()
            .any(|(t, p)| self.client.metadata().leader(t, *p).is_none());
        if missing || self.client.metadata_is_stale() {
            if let Err(e) = self.client.refresh_metadata(&[], false).await {
                debug!(error = %e, "metadata refresh failed");
            }
        }
    }

    /// Gives every partition without a position one, from ListOffsets (auto.offset.reset).
    async fn reset_missing_positions(&mut self) -> Result<()> {
        let missing: Vec<(TopicName, i32)> = self
            .positions
            .iter()
            .filter(|(_, pos)| pos.is_none())
            .map(|(tp, _)| tp.clone())
            .collect();
        for (topic, partition) in missing {
            let timestamp = match self.config.auto_offset_reset {
                OffsetReset::Earliest => EARLIEST,
                OffsetReset::Latest => LATEST,
                OffsetReset::None => {
                    return Err(ConsumerError::NoOffset {
                        topic: topic.to_string(),
                        partition,
                    })
                }
            };
            match self.list_offset(&topic, partition, timestamp).await {
                Ok(offset) => {
                    self.positions.insert((topic, partition), Some(offset));
                }
                // Retriable (no leader yet, connection lost): the next poll tries again.
                Err(e) if e.is_retriable() => {
                    debug!(%topic, partition, error = %e, "offset reset deferred")
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    async fn list_offset(
        &self,
        topic: &TopicName,
        partition: i32,
        timestamp: i64,
    ) -> Result<i64, ClientError> {
        let leader = self
            .client
            .metadata()
            .leader(topic, partition)
            .ok_or_else(|| ClientError::UnknownTopicOrPartition {
                topic: topic.to_string(),
                partition,
            })?;
        let conn = self.client.broker(leader).await?;
        let request = ListOffsetsRequest::default()
            .with_replica_id(BrokerId::NONE)
            .with_isolation_level(self.isolation())
            .with_topics(vec![ListOffsetsTopic::default()
                .with_name(topic.clone())
                .with_partitions(vec![ListOffsetsPartition::default()
                    .with_partition_index(partition)
                    .with_timestamp(timestamp)])]);
        let response = conn.send(&request).await?;
        let p = response
            .topics
            .first()
            .and_then(|t| t.partitions.first())
            .ok_or(ClientError::Broker(ErrorCode::UnknownServerError))?;
        p.error_code.into_result().map_err(|code| {
            if code == ErrorCode::NotLeaderOrFollower {
                self.client.metadata().invalidate_leader(topic, partition);
            }
            ClientError::Broker(code)
        })?;
        Ok(p.offset)
    }

    fn isolation(&self) -> i8 {
        match self.config.isolation_level {
            IsolationLevel::ReadUncommitted => 0,
            IsolationLevel::ReadCommitted => 1,
        }
    }

    /// One Fetch per leader, concurrently; returns the records, in partition and offset order.
    async fn fetch_once(&mut self, deadline: Instant) -> Result<Vec<ConsumerRecord>> {
        let mut by_leader: BTreeMap<BrokerId, Vec<(TopicName, i32, i64)>> = BTreeMap::new();
        {
            let md = self.client.metadata();
            for ((topic, partition), pos) in &self.positions {
                if self.paused.contains(&(topic.clone(), *partition)) {
                    continue;
                }
                if let (Some(pos), Some(leader)) = (pos, md.leader(topic, *partition)) {
                    by_leader
                        .entry(leader)
                        .or_default()
                        .push((topic.clone(), *partition, *pos));
                }
            }
        }
        if by_leader.is_empty() {
            // Nothing fetchable yet (no leader or no position): wait a little, bounded.
            let pause = self
                .config
                .client
                .retry_backoff
                .min(deadline.saturating_duration_since(Instant::now()));
            tokio::time::sleep(pause).await;
            return Ok(Vec::new());
        }
        let wait = self
            .config
            .fetch_max_wait
            .min(deadline.saturating_duration_since(Instant::now()));
        let mut tasks = tokio::task::JoinSet::new();
        for (leader, partitions) in by_leader {
            let request = self.fetch_request(&partitions, wait);
            let client = self.client.clone();
            tasks.spawn(async move {
                let result = match client.broker(leader).await {
                    Ok(conn) => {
                        let r = conn.send(&request).await;
                        if matches!(
                            r,
                            Err(ClientError::Connection { .. } | ClientError::Timeout { .. })
                        ) {
                            client.connection_failed(&conn);
                        }
                        r
                    }
                    Err(e) => Err(e),
                };
                (partitions, result)
            });
        }
        let mut out = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let Ok((partitions, result)) = joined else {
                continue;
            };
            match result {
                Ok(response) => self.take_records(&partitions, &response, &mut out)?,
                Err(e) => {
                    debug!(error = %e, "fetch failed; retrying on the next poll");
                    for (topic, partition, _) in &partitions {
                        self.client.metadata().invalidate_leader(topic, *partition);
                    }
                }
            }
        }
        Ok(out)
    }

    fn fetch_request(&self, partitions: &[(TopicName, i32, i64)], wait: Duration) -> FetchRequest {
        let mut topics: Vec<FetchTopic> = Vec::new();
        let md = self.client.metadata();
        for (topic, partition, offset) in partitions {
            let data = FetchPartition::default()
                .with_partition(*partition)
                .with_fetch_offset(*offset)
                .with_partition_max_bytes(self.config.max_partition_fetch_bytes);
            match topics.iter_mut().find(|t| &t.topic == topic) {
                Some(t) => t.partitions.push(data),
                None => topics.push(
                    FetchTopic::default()
                        .with_topic(topic.clone())
                        .with_topic_id(md.topic(topic).map(|t| t.id).unwrap_or_default())
                        .with_partitions(vec![data]),
                ),
            }
        }
        FetchRequest::default()
            .with_max_wait_ms(i32::try_from(wait.as_millis()).unwrap_or(i32::MAX))
            .with_min_bytes(self.config.fetch_min_bytes)
            .with_max_bytes(self.config.fetch_max_bytes)
            .with_isolation_level(self.isolation())
            .with_topics(topics)
    }

    /// Decodes one Fetch response into `out`, advancing positions; resets or re-routes
    /// partitions whose answer was an error.
    fn take_records(
        &mut self,
        asked: &[(TopicName, i32, i64)],
        response: &FetchResponse,
        out: &mut Vec<ConsumerRecord>,
    ) -> Result<()> {
        kafka_client::leader_hints::apply_fetch_hints(&mut self.client.metadata(), response);
        for t in &response.responses {
            let topic = if t.topic.is_empty() {
                match self.client.metadata().topic_name_by_id(t.topic_id) {
                    Some(n) => n.clone(),
                    None => continue,
                }
            } else {
                t.topic.clone()
            };
            for p in &t.partitions {
                let Some((_, _, fetched_at)) = asked
                    .iter()
                    .find(|(at, ap, _)| *at == topic && *ap == p.partition_index)
                else {
                    continue;
                };
                let key = (topic.clone(), p.partition_index);
                // The position may have moved (seek) since the request left.
                if self.positions.get(&key).copied().flatten() != Some(*fetched_at) {
                    continue;
                }
                match p.error_code {
                    ErrorCode::None => {}
                    ErrorCode::OffsetOutOfRange => {
                        debug!(%topic, partition = p.partition_index, "offset out of range: resetting");
                        if self.config.auto_offset_reset == OffsetReset::None {
                            return Err(ConsumerError::NoOffset {
                                topic: topic.to_string(),
                                partition: p.partition_index,
                            });
                        }
                        self.positions.insert(key, None);
                        continue;
                    }
                    code if code.is_retriable()
                        || matches!(
                            code,
                            ErrorCode::NotLeaderOrFollower | ErrorCode::FencedLeaderEpoch
                        ) =>
                    {
                        self.client
                            .metadata()
                            .invalidate_leader(&topic, p.partition_index);
                        continue;
                    }
                    code => {
                        return Err(ConsumerError::Broker {
                            topic: topic.to_string(),
                            partition: p.partition_index,
                            code,
                        })
                    }
                }
                let Some(records) = p.records.clone() else {
                    continue;
                };
                let mut next = *fetched_at;
                for batch in RecordBatches::new(records) {
                    let batch = batch.map_err(|source| ConsumerError::Corrupt {
                        topic: topic.to_string(),
                        partition: p.partition_index,
                        source,
                    })?;
                    let header = batch.header();
                    let after = header.last_offset().saturating_add(1);
                    if header.is_control() {
                        next = next.max(after);
                        continue;
                    }
                    for record in batch.records() {
                        let r = record.map_err(|source| ConsumerError::Corrupt {
                            topic: topic.to_string(),
                            partition: p.partition_index,
                            source,
                        })?;
                        // A fetch starts at the batch holding the position: skip what is before it.
                        if r.offset < next {
                            continue;
                        }
                        next = r.offset + 1;
                        out.push(ConsumerRecord {
                            topic: topic.clone(),
                            partition: p.partition_index,
                            offset: r.offset,
                            timestamp: r.timestamp,
                            key: r.key,
                            value: r.value,
                            headers: r.headers,
                        });
                    }
                    next = next.max(after);
                }
                self.positions.insert(key, Some(next));
            }
        }
        Ok(())
    }
}

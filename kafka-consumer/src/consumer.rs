//! [`Consumer`]: the public face of the consumer. Fetching and the group's rebalances are
//! driven from `poll` (in [`crate::poll`]); this file holds the assignment, positions,
//! offsets and commits.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use kafka_client::{Client, ClientError};
use kafka_protocol::records::DecodeOptions;
use kafka_protocol::TopicName;
use tokio::time::Instant;
use tracing::{debug, Instrument};

use crate::config::{ConsumerConfig, IsolationLevel};
use crate::error::{ConsumerError, Result};
use crate::fetcher::{FetchSettings, Fetcher};
use crate::group::{send_commit, GroupMember, MemberSettings};
use crate::listener::RebalanceListener;
use crate::metrics::{ConsumerMetrics, MetricsRecorder};
use crate::offsets::{list_offsets, OffsetAndTimestamp, EARLIEST, LATEST};
use crate::record::{OffsetAndMetadata, TopicPartition};
use crate::subscription_state::SubscriptionState;

/// A Kafka consumer: explicitly assigned partitions (Java's `assign`), or a member of a group
/// that assigns them (`subscribe`).
///
/// ```no_run
/// # async fn demo() -> Result<(), kafka_consumer::ConsumerError> {
/// use std::time::Duration;
/// use kafka_consumer::{Consumer, ConsumerConfig, OffsetReset};
///
/// let config = ConsumerConfig::new("127.0.0.1:9092")
///     .with_group_id("billing")
///     .with_auto_offset_reset(OffsetReset::Earliest);
/// let mut consumer = Consumer::new(config).await?;
/// consumer.subscribe(["orders".into()])?;
/// for record in consumer.poll(Duration::from_secs(1)).await? {
///     println!("{} {} {:?}", record.partition, record.offset, record.value);
/// }
/// consumer.close(Duration::from_secs(5)).await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Consumer {
    pub(crate) client: Client,
    pub(crate) config: ConsumerConfig,
    pub(crate) state: SubscriptionState,
    /// Subscribed topics (subscribe mode), whose partitions the group assigns.
    pub(crate) subscription: BTreeSet<TopicName>,
    /// The partition count of each subscribed topic when the group last assigned: a change
    /// (a topic created, partitions added) calls for a rebalance.
    pub(crate) subscribed_counts: BTreeMap<TopicName, usize>,
    /// A pattern subscription, whose matches become `subscription` (see [`crate::pattern`]).
    pub(crate) pattern: Option<crate::pattern::TopicPattern>,
    /// When the pattern was last matched against the cluster's topics.
    pub(crate) pattern_checked: Option<Instant>,
    pub(crate) group: Option<GroupMember>,
    pub(crate) listener: Option<Arc<dyn RebalanceListener>>,
    pub(crate) fetcher: Fetcher,
    pub(crate) decode: DecodeOptions,
    /// An error met after records were already collected, reported by the next poll.
    pub(crate) pending_error: Option<ConsumerError>,
    /// When the positions were last committed automatically.
    pub(crate) last_auto_commit: Instant,
    pub(crate) metrics: MetricsRecorder,
}

/// A commit sent by [`Consumer::commit_async`]: await it for the outcome, or drop it.
#[derive(Debug)]
pub struct CommitHandle(tokio::task::JoinHandle<Result<()>>);

impl Future for CommitHandle {
    type Output = Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.0).poll(cx).map(|joined| {
            joined.unwrap_or_else(|e| {
                Err(ConsumerError::Client(ClientError::Connection {
                    addr: String::new(),
                    reason: format!("commit task failed: {e}"),
                }))
            })
        })
    }
}

pub(crate) fn needs_group(what: &str) -> ConsumerError {
    ConsumerError::Client(kafka_client::config::invalid(
        "group.id",
        &format!("{what} needs a group.id"),
    ))
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
                    api_timeout: config.default_api_timeout,
                },
            )
        });
        let fetcher = Fetcher::new(
            client.clone(),
            FetchSettings {
                min_bytes: config.fetch_min_bytes,
                max_bytes: config.fetch_max_bytes,
                max_wait: config.fetch_max_wait,
                isolation_level: isolation(config.isolation_level),
                buffer_max_bytes: config.fetch_buffer_max_bytes,
            },
        );
        Ok(Consumer {
            decode: DecodeOptions::default().with_verify_crc(config.check_crcs),
            client,
            config,
            state: SubscriptionState::default(),
            subscription: BTreeSet::new(),
            subscribed_counts: BTreeMap::new(),
            pattern: None,
            pattern_checked: None,
            group,
            listener: None,
            fetcher,
            pending_error: None,
            last_auto_commit: Instant::now(),
            metrics: MetricsRecorder::default(),
        })
    }

    /// Subscribes to `topics` as a member of `group.id`: the group decides which partitions
    /// this consumer reads, and positions start from the group's committed offsets. A topic
    /// that does not exist yet is assigned once it is created.
    pub fn subscribe(&mut self, topics: impl IntoIterator<Item = TopicName>) -> Result<()> {
        self.pattern = None;
        self.set_subscription(topics.into_iter().collect())
    }

    /// Makes `topics` the subscription, rejoining the group when it changed.
    pub(crate) fn set_subscription(&mut self, topics: BTreeSet<TopicName>) -> Result<()> {
        let group = self
            .group
            .as_ref()
            .ok_or_else(|| needs_group("subscribe"))?;
        if topics != self.subscription {
            group.request_rejoin();
        }
        self.subscription = topics;
        self.client.track_topics(self.subscription.iter().cloned());
        Ok(())
    }

    /// The topics subscribed to: those given to [`subscribe`](Self::subscribe), or those a
    /// [pattern](Self::subscribe_pattern) matched at its last check.
    pub fn subscription(&self) -> Vec<TopicName> {
        self.subscription.iter().cloned().collect()
    }

    /// [`subscribe`](Self::subscribe), with a listener told of every change of assignment.
    pub fn subscribe_with_listener(
        &mut self,
        topics: impl IntoIterator<Item = TopicName>,
        listener: Arc<dyn RebalanceListener>,
    ) -> Result<()> {
        self.subscribe(topics)?;
        self.listener = Some(listener);
        Ok(())
    }

    /// The positions to commit: every assigned partition that has one.
    pub(crate) fn current_offsets(&self) -> BTreeMap<TopicPartition, OffsetAndMetadata> {
        self.state
            .partitions
            .iter()
            .filter_map(|(tp, s)| {
                s.position.map(|o| {
                    let mut om = OffsetAndMetadata::new(o);
                    om.leader_epoch = s.last_epoch;
                    (tp.clone(), om)
                })
            })
            .collect()
    }

    /// Commits the current position of every assigned partition to the group (the next
    /// offset each would read). Refused during a rebalance: a commit is never sent with a
    /// stale generation.
    pub async fn commit_sync(&mut self) -> Result<()> {
        let offsets = self.current_offsets();
        self.commit_offsets(offsets).await
    }

    /// Commits the given offsets (with their metadata) and waits for the answer.
    pub async fn commit_offsets(
        &mut self,
        offsets: BTreeMap<TopicPartition, OffsetAndMetadata>,
    ) -> Result<()> {
        if offsets.is_empty() {
            self.group.as_ref().ok_or_else(|| needs_group("commit"))?;
            return Ok(());
        }
        let started = Instant::now();
        let result = self.commit_async_offsets(offsets).await?.await;
        self.metrics.commit(started.elapsed(), result.is_ok());
        result
    }

    /// Commits the current positions without waiting for the broker: the returned handle
    /// resolves to the outcome. Commits are sent in order on the coordinator's connection.
    pub async fn commit_async(&mut self) -> Result<CommitHandle> {
        let offsets = self.current_offsets();
        self.commit_async_offsets(offsets).await
    }

    /// Commits the given offsets without waiting for the broker.
    pub async fn commit_async_offsets(
        &mut self,
        offsets: BTreeMap<TopicPartition, OffsetAndMetadata>,
    ) -> Result<CommitHandle> {
        let group = self.group.as_mut().ok_or_else(|| needs_group("commit"))?;
        let (conn, request) = group.commit_request(&offsets).await?;
        let state = group.state_flag();
        Ok(CommitHandle(tokio::spawn(
            send_commit(conn, request, state).in_current_span(),
        )))
    }

    /// The group's committed offsets for `partitions` (absent: nothing committed).
    pub async fn committed(
        &mut self,
        partitions: &[TopicPartition],
    ) -> Result<BTreeMap<TopicPartition, OffsetAndMetadata>> {
        let group = self
            .group
            .as_mut()
            .ok_or_else(|| needs_group("committed offsets"))?;
        group.committed(partitions).await
    }

    /// Commits (with auto-commit on), tells the listener its partitions are revoked, and
    /// leaves the group. Bounded by `timeout`: whatever is left undone then is abandoned, and
    /// the group notices through the session timeout.
    pub async fn close(mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let work = async {
            let stable = self.group.as_ref().is_some_and(GroupMember::is_stable);
            if self.config.enable_auto_commit && stable {
                if let Err(e) = self.commit_sync().await {
                    debug!(error = %e, "final auto-commit failed");
                }
            }
            let owned = self.state.assigned();
            if stable && !owned.is_empty() && !self.subscription.is_empty() {
                if let Some(listener) = self.listener.clone() {
                    listener.on_partitions_revoked(&mut self, &owned).await;
                }
            }
        };
        let _ = tokio::time::timeout_at(deadline, work).await;
        self.fetcher.abort_all();
        if let Some(group) = self.group.as_mut() {
            // Leaving gets at least a moment even when the commit used the whole budget.
            let leave_by = deadline.max(Instant::now() + Duration::from_millis(200));
            let _ = tokio::time::timeout_at(leave_by, group.leave()).await;
        }
    }

    /// The group generation this consumer's assignment belongs to (-1 outside a group).
    pub fn generation(&self) -> i32 {
        self.group.as_ref().map_or(-1, GroupMember::generation)
    }

    /// This consumer's group membership, for
    /// `Producer::send_offsets_to_transaction` (Java's `groupMetadata()`): the group, the
    /// generation and the member id, so that a member fenced by a rebalance cannot commit
    /// offsets through a transaction either (KIP-447). `None` without a `group.id`.
    pub fn group_metadata(&self) -> Option<kafka_client::ConsumerGroupMetadata> {
        match (&self.group, &self.config.group_id) {
            (Some(group), _) => Some(group.group_metadata()),
            (None, Some(id)) => Some(kafka_client::ConsumerGroupMetadata::new(id.clone())),
            (None, None) => None,
        }
    }

    /// Replaces the assignment (assign mode). Partitions kept keep their positions.
    pub fn assign(&mut self, partitions: impl IntoIterator<Item = TopicPartition>) {
        self.state.assign(partitions);
        self.client
            .track_topics(self.state.partitions.keys().map(|(t, _)| t.clone()));
    }

    /// The assigned partitions.
    pub fn assignment(&self) -> Vec<TopicPartition> {
        self.state.assigned()
    }

    /// Sets the next offset to read from an assigned partition.
    pub fn seek(&mut self, topic: &str, partition: i32, offset: i64) {
        self.state
            .seek(&(TopicName::from(topic), partition), offset);
    }

    /// Goes back to the first offset still in the log of each given partition.
    pub async fn seek_to_beginning(&mut self, partitions: &[TopicPartition]) -> Result<()> {
        self.seek_to(partitions, EARLIEST).await
    }

    /// Goes to the end of each given partition: only records written from now on.
    pub async fn seek_to_end(&mut self, partitions: &[TopicPartition]) -> Result<()> {
        self.seek_to(partitions, LATEST).await
    }

    async fn seek_to(&mut self, partitions: &[TopicPartition], timestamp: i64) -> Result<()> {
        let found = self.lookup(partitions, timestamp).await?;
        for (tp, found) in found {
            if let Some(o) = found {
                self.state.seek(&tp, o.offset);
            }
        }
        Ok(())
    }

    /// The first offset of each partition whose timestamp is at or after `timestamp`
    /// (milliseconds since the epoch); `None` where no record is that recent.
    pub async fn offsets_for_times(
        &mut self,
        partitions: &[TopicPartition],
        timestamp: i64,
    ) -> Result<BTreeMap<TopicPartition, Option<OffsetAndTimestamp>>> {
        if timestamp < 0 {
            return Err(ConsumerError::Client(kafka_client::config::invalid(
                "timestamp",
                "must be zero or positive",
            )));
        }
        self.lookup(partitions, timestamp).await
    }

    /// Each partition's first offset still in the log.
    pub async fn beginning_offsets(
        &mut self,
        partitions: &[TopicPartition],
    ) -> Result<BTreeMap<TopicPartition, i64>> {
        self.ends(partitions, EARLIEST).await
    }

    /// Each partition's end: the offset the next record will get (under read_committed, the
    /// last stable offset).
    pub async fn end_offsets(
        &mut self,
        partitions: &[TopicPartition],
    ) -> Result<BTreeMap<TopicPartition, i64>> {
        self.ends(partitions, LATEST).await
    }

    async fn ends(
        &mut self,
        partitions: &[TopicPartition],
        which: i64,
    ) -> Result<BTreeMap<TopicPartition, i64>> {
        Ok(self
            .lookup(partitions, which)
            .await?
            .into_iter()
            .filter_map(|(tp, o)| o.map(|o| (tp, o.offset)))
            .collect())
    }

    /// ListOffsets with retries of retriable failures, bounded by `default.api.timeout.ms`
    /// (the request timeout here).
    pub(crate) async fn lookup(
        &mut self,
        partitions: &[TopicPartition],
        timestamp: i64,
    ) -> Result<BTreeMap<TopicPartition, Option<OffsetAndTimestamp>>> {
        let deadline = Instant::now() + self.config.client.request_timeout;
        let mut left: Vec<(TopicPartition, i64)> = partitions
            .iter()
            .map(|tp| (tp.clone(), timestamp))
            .collect();
        let mut out = BTreeMap::new();
        loop {
            self.ensure_metadata().await;
            let isolation = isolation(self.config.isolation_level);
            let found = list_offsets(&self.client, isolation, &left).await;
            left.clear();
            let mut last = None;
            for (tp, result) in found {
                match result {
                    Ok(o) => {
                        out.insert(tp, o);
                    }
                    Err(e) if e.is_retriable() => {
                        left.push((tp, timestamp));
                        last = Some(e);
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            match last {
                None => return Ok(out),
                Some(e) if Instant::now() >= deadline => return Err(e.into()),
                Some(_) => {
                    self.client.refresh_metadata(&[], false).await.ok();
                    tokio::time::sleep(self.config.client.retry_backoff).await;
                }
            }
        }
    }

    /// Stops fetching the given partitions until [`Consumer::resume`]; positions are kept.
    pub fn pause(&mut self, partitions: &[TopicPartition]) {
        for tp in partitions {
            if let Some(s) = self.state.partitions.get_mut(tp) {
                s.paused = true;
            }
        }
    }

    /// Fetches the given partitions again.
    pub fn resume(&mut self, partitions: &[TopicPartition]) {
        for tp in partitions {
            if let Some(s) = self.state.partitions.get_mut(tp) {
                s.paused = false;
            }
        }
    }

    /// The paused partitions.
    pub fn paused(&self) -> Vec<TopicPartition> {
        self.state
            .partitions
            .iter()
            .filter(|(_, s)| s.paused)
            .map(|(tp, _)| tp.clone())
            .collect()
    }

    /// The next offset to read from an assigned partition, once known.
    pub fn position(&self, topic: &str, partition: i32) -> Option<i64> {
        self.state
            .partitions
            .get(&(TopicName::from(topic), partition))
            .and_then(|s| s.position)
    }

    /// How many records a partition is behind its end (the high watermark, or the last
    /// stable offset under read_committed), as of the last fetch; `None` before one.
    pub fn lag(&self, topic: &str, partition: i32) -> Option<i64> {
        let read_committed = self.config.isolation_level == IsolationLevel::ReadCommitted;
        self.state
            .lag(&(TopicName::from(topic), partition), read_committed)
    }

    /// Counters and latencies since the consumer started, with the current lag.
    pub fn metrics(&self) -> ConsumerMetrics {
        let read_committed = self.config.isolation_level == IsolationLevel::ReadCommitted;
        let lag = self
            .state
            .partitions
            .keys()
            .filter_map(|tp| self.state.lag(tp, read_committed).map(|l| (tp.clone(), l)))
            .collect();
        self.metrics.snapshot(lag)
    }

    /// The client core the consumer runs on.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Refreshes metadata when an assigned partition has no known leader (or it is stale).
    pub(crate) async fn ensure_metadata(&self) {
        let missing = self
            .state
            .partitions
            .keys()
            .any(|(t, p)| self.client.metadata().leader(t, *p).is_none());
        if missing || self.client.metadata_is_stale() {
            if let Err(e) = self.client.refresh_metadata(&[], false).await {
                debug!(error = %e, "metadata refresh failed");
            }
        }
    }
}

pub(crate) fn isolation(level: IsolationLevel) -> i8 {
    match level {
        IsolationLevel::ReadUncommitted => 0,
        IsolationLevel::ReadCommitted => 1,
    }
}

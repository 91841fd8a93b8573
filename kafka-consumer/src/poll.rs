//! `poll`: the consumer's engine. Each call
//!
//! 1. commits automatically when `auto.commit.interval.ms` has passed;
//! 2. moves the group along: prepares and starts a join when one is needed, and applies a
//!    finished one (listener callbacks, committed positions);
//! 3. gives partitions without a position one (`auto.offset.reset`);
//! 4. takes in the fetches that came back and hands out up to `max.poll.records` buffered
//!    records;
//! 5. sends the next fetch to every broker that has none in flight, before returning, so the
//!    next batch travels while the application works (prefetching);
//! 6. when nothing was ready, waits for a fetch or the join, up to the timeout.
//!
//! A rebalance under the eager protocol revokes everything before the join; under the
//! cooperative one (KIP-429) the consumer keeps fetching its partitions while the join is in
//! flight, and revokes only what the new assignment took away, then rejoins so that those
//! partitions can be handed over.

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::Stream;
use kafka_protocol::ErrorCode;
use tokio::time::Instant;
use tracing::debug;

use crate::assignor::RebalanceProtocol;
use crate::completed_fetch::{AbortedTransactions, CompletedFetch};
use crate::config::{IsolationLevel, OffsetReset};
use crate::consumer::Consumer;
use crate::error::{ConsumerError, Result};
use crate::fetcher::{FetchOutcome, Fetcher};
use crate::offsets::{EARLIEST, LATEST};
use crate::record::{ConsumerRecord, TopicPartition};

impl Consumer {
    /// Returns the records available, waiting up to `timeout` for at least one.
    pub async fn poll(&mut self, timeout: Duration) -> Result<Vec<ConsumerRecord>> {
        let deadline = Instant::now() + timeout;
        if let Some(e) = self.pending_error.take() {
            return Err(e);
        }
        if let Some(g) = self.group.as_ref() {
            g.polled();
        }
        loop {
            self.auto_commit().await;
            self.refresh_pattern().await?;
            self.maintain_group().await?;
            self.ensure_metadata().await;
            self.reset_missing_positions().await?;
            self.validate_positions().await?;
            while let Some(outcome) = self.fetcher.try_next() {
                self.take_fetch(outcome)?;
            }
            let mut out = Vec::new();
            // What is handed out stays in memory until the application is done with it (the
            // next poll, for a consumer loop), so the fetches sent now count it too.
            let held = self.state.buffered_bytes();
            let drained = self.state.drain(self.config.max_poll_records, &mut out);
            self.send_fetches(held);
            if let Err((tp, source)) = drained {
                let e = ConsumerError::Corrupt {
                    topic: tp.0.to_string(),
                    partition: tp.1,
                    source,
                };
                if out.is_empty() {
                    return Err(e);
                }
                self.pending_error = Some(e);
            }
            if !out.is_empty() {
                self.metrics.consumed(out.len());
                return Ok(out);
            }
            if Instant::now() >= deadline {
                return Ok(out);
            }
            self.wait(deadline).await?;
        }
    }

    /// The records as a stream, polled with `timeout` per batch; it never ends by itself.
    ///
    /// ```no_run
    /// # async fn demo(consumer: &mut kafka_consumer::Consumer) {
    /// use futures_util::StreamExt;
    /// let mut records = std::pin::pin!(consumer.stream(std::time::Duration::from_secs(1)));
    /// while let Some(record) = records.next().await {
    ///     let record = record.unwrap();
    ///     println!("{} {}", record.partition, record.offset);
    /// }
    /// # }
    /// ```
    pub fn stream(&mut self, timeout: Duration) -> impl Stream<Item = Result<ConsumerRecord>> + '_ {
        let buffer = std::collections::VecDeque::new();
        futures_util::stream::unfold((self, buffer), move |(consumer, mut buffer)| async move {
            loop {
                if let Some(r) = buffer.pop_front() {
                    return Some((Ok(r), (consumer, buffer)));
                }
                match consumer.poll(timeout).await {
                    Ok(records) => buffer.extend(records),
                    Err(e) => return Some((Err(e), (consumer, buffer))),
                }
            }
        })
    }

    /// Waits for something to do: a fetch answer, the join in flight, or a short pause.
    async fn wait(&mut self, deadline: Instant) -> Result<()> {
        if self.fetcher.has_in_flight() {
            if let Some(outcome) = self.fetcher.next(deadline).await {
                self.take_fetch(outcome)?;
            }
            return Ok(());
        }
        if let Some(group) = self.group.as_mut().filter(|g| g.is_joining()) {
            if let Some(result) = group.join_outcome(Some(deadline)).await {
                self.apply_join(result).await?;
            }
            return Ok(());
        }
        let pause = self
            .config
            .client
            .retry_backoff
            .min(deadline.saturating_duration_since(Instant::now()));
        tokio::time::sleep(pause).await;
        Ok(())
    }

    /// With `enable.auto.commit`, commits the positions of what earlier polls returned once per
    /// `auto.commit.interval.ms` (Java's semantics: at-least-once for records handled before
    /// the next poll). A failed auto-commit is retried at the next interval.
    async fn auto_commit(&mut self) {
        let due = self.last_auto_commit.elapsed() >= self.config.auto_commit_interval;
        if !self.config.enable_auto_commit || !due {
            return;
        }
        if !self.group.as_ref().is_some_and(|g| g.is_stable()) {
            return;
        }
        self.last_auto_commit = Instant::now();
        if let Err(e) = self.commit_sync().await {
            debug!(error = %e, "auto-commit failed");
        }
    }

    /// Moves the group along: applies a finished join, asks for one when the subscribed
    /// topics' partitions changed, and prepares and starts one when needed.
    async fn maintain_group(&mut self) -> Result<()> {
        // A pattern that matches nothing (yet, or any more) is still a subscription: the member
        // stays in the group with no topics and gives up what it had, as Java's does.
        if self.subscription.is_empty() && self.pattern.is_none() {
            return Ok(());
        }
        let Some(group) = self.group.as_mut() else {
            return Ok(());
        };
        if let Some(result) = group.join_outcome(None).await {
            self.apply_join(result).await?;
        }
        if self.subscription_changed() {
            if let Some(g) = self.group.as_ref() {
                g.request_rejoin();
            }
        }
        let Some(group) = self.group.as_ref() else {
            return Ok(());
        };
        if !group.needs_join() {
            return Ok(());
        }
        let lost = group.is_lost();
        let protocol = group.protocol();
        let owned = self.state.assigned();
        if lost && !owned.is_empty() {
            debug!(partitions = owned.len(), "partitions lost");
            if let Some(l) = self.listener.clone() {
                l.on_partitions_lost(self, &owned).await;
            }
            self.state.remove(&owned);
        } else if protocol == RebalanceProtocol::Eager || !owned.is_empty() {
            // Java's onJoinPrepare: commit what was consumed while the generation stands.
            if self.config.enable_auto_commit && !owned.is_empty() {
                if let Err(e) = self.commit_sync().await {
                    debug!(error = %e, "auto-commit before rebalance failed");
                }
                self.last_auto_commit = Instant::now();
            }
            if protocol == RebalanceProtocol::Eager && !owned.is_empty() {
                if let Some(l) = self.listener.clone() {
                    l.on_partitions_revoked(self, &owned).await;
                }
                self.state.remove(&owned);
            }
        }
        let keeping = self.state.assigned();
        let claim = if protocol == RebalanceProtocol::Eager {
            owned
        } else {
            keeping
        };
        // The counts the next check compares against must be the cluster's: a new member that
        // recorded 0 partitions for a topic it had no metadata for yet would see the topic
        // "grow" right after its first assignment and force the whole group through a second,
        // needless rebalance.
        let unknown = {
            let md = self.client.metadata();
            self.subscription.iter().any(|t| md.topic(t).is_none())
        };
        if unknown {
            let topics: Vec<kafka_protocol::TopicName> =
                self.subscription.iter().cloned().collect();
            if let Err(e) = self.client.refresh_metadata(&topics, false).await {
                debug!(error = %e, "metadata refresh before join failed");
            }
        }
        self.record_subscribed_counts();
        if let Some(g) = self.group.as_mut() {
            g.start_join(&self.subscription, if lost { Vec::new() } else { claim });
        }
        Ok(())
    }

    /// Takes a finished join: the new assignment, with the listener told and positions from
    /// the group's commits. Retriable failures are retried by the next poll.
    pub(crate) async fn apply_join(&mut self, result: Result<Vec<TopicPartition>>) -> Result<()> {
        let partitions = match result {
            Ok(p) => p,
            Err(e) if retriable(&e) => {
                debug!(error = %e, "join failed; retrying");
                tokio::time::sleep(self.config.client.retry_backoff).await;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        self.metrics.rebalanced();
        let new: BTreeSet<TopicPartition> = partitions.into_iter().collect();
        let owned: BTreeSet<TopicPartition> = self.state.assigned().into_iter().collect();
        let revoked: Vec<TopicPartition> = owned.difference(&new).cloned().collect();
        let added: Vec<TopicPartition> = new.difference(&owned).cloned().collect();
        if !revoked.is_empty() {
            // Cooperative: give up what moved, committing it first, then rejoin so the new
            // owner gets it. (Under the eager protocol nothing is owned at this point.)
            if self.config.enable_auto_commit {
                let mut offsets = self.current_offsets();
                offsets.retain(|tp, _| revoked.contains(tp));
                if let Err(e) = self.commit_offsets(offsets).await {
                    debug!(error = %e, "commit of revoked partitions failed");
                }
            }
            if let Some(l) = self.listener.clone() {
                l.on_partitions_revoked(self, &revoked).await;
            }
            self.state.remove(&revoked);
            if let Some(g) = self.group.as_ref() {
                g.request_rejoin();
            }
        }
        let committed = match self.group.as_mut() {
            // Without the group's offsets the new partitions have no position, and guessing
            // one from auto.offset.reset would re-read or skip what the group committed: the
            // join is done over at the next poll instead (Java keeps them unfetched until the
            // offsets arrive).
            Some(g) if !added.is_empty() => match g.committed(&added).await {
                Ok(c) => c,
                Err(e) => {
                    debug!(error = %e, "committed offsets unavailable; rejoining");
                    g.request_rejoin();
                    return Err(e);
                }
            },
            _ => Default::default(),
        };
        for tp in &added {
            self.state.add(
                tp.clone(),
                committed.get(tp).map(|o| (o.offset, o.leader_epoch)),
            );
        }
        self.client
            .track_topics(self.state.partitions.keys().map(|(t, _)| t.clone()));
        if let Some(l) = self.listener.clone() {
            l.on_partitions_assigned(self, &added).await;
        }
        Ok(())
    }

    fn record_subscribed_counts(&mut self) {
        let md = self.client.metadata();
        self.subscribed_counts = self
            .subscription
            .iter()
            .map(|t| (t.clone(), md.topic(t).map_or(0, |i| i.partitions.len())))
            .collect();
    }

    /// Whether a subscribed topic appeared or grew since the group last assigned.
    fn subscription_changed(&self) -> bool {
        let md = self.client.metadata();
        self.subscription.iter().any(|t| {
            let now = md.topic(t).map_or(0, |i| i.partitions.len());
            now > self.subscribed_counts.get(t).copied().unwrap_or(0)
        })
    }

    /// Gives every partition without a position one, from ListOffsets (auto.offset.reset).
    async fn reset_missing_positions(&mut self) -> Result<()> {
        let missing = self.state.missing_positions();
        if missing.is_empty() {
            return Ok(());
        }
        let timestamp = match self.config.auto_offset_reset {
            OffsetReset::Earliest => EARLIEST,
            OffsetReset::Latest => LATEST,
            OffsetReset::None => {
                let (topic, partition) = &missing[0];
                return Err(ConsumerError::NoOffset {
                    topic: topic.to_string(),
                    partition: *partition,
                });
            }
        };
        let wanted: Vec<(TopicPartition, i64)> =
            missing.into_iter().map(|tp| (tp, timestamp)).collect();
        let isolation = crate::consumer::isolation(self.config.isolation_level);
        for (tp, result) in crate::offsets::list_offsets(&self.client, isolation, &wanted).await {
            match result {
                Ok(Some(o)) => {
                    if self
                        .state
                        .partitions
                        .get(&tp)
                        .is_some_and(|s| s.position.is_none())
                    {
                        self.state.reset(&tp, o.offset);
                    }
                }
                Ok(None) => {}
                // Retriable (no leader yet, connection lost): the next poll tries again.
                Err(e) if e.is_retriable() => {
                    debug!(topic = %tp.0, partition = tp.1, error = %e, "offset reset deferred")
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Sends a fetch to every leader of a fetchable partition that has none in flight, within
    /// the memory budget less `held` bytes (at least what is buffered).
    fn send_fetches(&mut self, held: usize) {
        let (targets, brokers) = {
            let md = self.client.metadata();
            let targets = self
                .state
                .fetch_targets(&md, self.config.max_partition_fetch_bytes);
            (targets, self.state.leader_count(&md))
        };
        let buffered = self.state.buffered_bytes().max(held);
        for (broker, targets) in targets {
            if !self.fetcher.is_busy(broker) {
                self.fetcher.send(broker, targets, buffered, brokers);
            }
        }
    }

    /// Takes in one fetch answer: buffers each partition's records, resets or re-routes the
    /// partitions whose answer was an error.
    fn take_fetch(&mut self, outcome: FetchOutcome) -> Result<()> {
        let response = match outcome.result {
            Ok(r) => r,
            Err(e) => {
                debug!(broker = %outcome.broker, error = %e, "fetch failed; retrying on the next poll");
                if !matches!(e, kafka_client::ClientError::Broker(_)) {
                    for t in &outcome.plan.wanted {
                        self.client
                            .metadata()
                            .invalidate_leader(&t.topic, t.partition);
                    }
                }
                return Ok(());
            }
        };
        let mut bytes = 0;
        // The partitions' records are slices of one buffer: the budget counts it whole.
        let frame = std::sync::Arc::new(crate::completed_fetch::FetchedFrame {
            size: response
                .responses
                .iter()
                .flat_map(|t| &t.partitions)
                .filter_map(|p| p.records.as_ref().map(|r| r.len()))
                .sum(),
        });
        kafka_client::leader_hints::apply_fetch_hints(&mut self.client.metadata(), &response);
        let read_committed = self.config.isolation_level == IsolationLevel::ReadCommitted;
        for t in response.responses {
            let Some(topic) = Fetcher::topic_of(&outcome.plan, &t.topic, t.topic_id) else {
                continue;
            };
            for p in t.partitions {
                let Some(asked) = outcome
                    .plan
                    .wanted
                    .iter()
                    .find(|w| w.topic == topic && w.partition == p.partition_index)
                else {
                    continue;
                };
                let tp = (topic.clone(), p.partition_index);
                let Some(state) = self.state.partitions.get_mut(&tp) else {
                    continue;
                };
                // The position may have moved (seek, rebalance) since the request left.
                if state.position != Some(asked.fetch_offset) || state.buffered.is_some() {
                    continue;
                }
                if p.high_watermark >= 0 {
                    state.high_watermark = Some(p.high_watermark);
                }
                if p.last_stable_offset >= 0 {
                    state.last_stable_offset = Some(p.last_stable_offset);
                }
                match p.error_code {
                    // The leader at that epoch answered from this position: the position is
                    // good under it (KIP-320).
                    ErrorCode::None if asked.current_leader_epoch >= 0 => {
                        state.validated_epoch = Some(asked.current_leader_epoch);
                    }
                    ErrorCode::None => {}
                    ErrorCode::OffsetOutOfRange => {
                        debug!(%topic, partition = p.partition_index, "offset out of range: resetting");
                        if self.config.auto_offset_reset == OffsetReset::None {
                            return Err(ConsumerError::NoOffset {
                                topic: topic.to_string(),
                                partition: p.partition_index,
                            });
                        }
                        state.position = None;
                        continue;
                    }
                    code if code.is_retriable()
                        || matches!(
                            code,
                            ErrorCode::NotLeaderOrFollower
                                | ErrorCode::FencedLeaderEpoch
                                | ErrorCode::UnknownLeaderEpoch
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
                let Some(records) = p.records.filter(|r| !r.is_empty()) else {
                    continue;
                };
                bytes += records.len();
                let aborted = read_committed.then(|| {
                    AbortedTransactions::new(
                        p.aborted_transactions
                            .unwrap_or_default()
                            .into_iter()
                            .map(|a| (a.first_offset, a.producer_id.0))
                            .collect(),
                    )
                });
                state.buffered = Some(CompletedFetch::new(
                    topic.clone(),
                    p.partition_index,
                    asked.fetch_offset,
                    records,
                    std::sync::Arc::clone(&frame),
                    self.decode,
                    aborted,
                ));
            }
        }
        self.metrics.fetched(outcome.sent_at.elapsed(), bytes);
        Ok(())
    }
}

/// Whether a failed join is worth another try at the next poll.
fn retriable(e: &ConsumerError) -> bool {
    match e {
        ConsumerError::Client(c) => {
            c.is_retriable()
                || matches!(
                    c,
                    kafka_client::ClientError::Broker(
                        ErrorCode::RebalanceInProgress
                            | ErrorCode::UnknownMemberId
                            | ErrorCode::IllegalGeneration
                    )
                )
        }
        _ => false,
    }
}

//! [`Fetcher`]: one fetch pipeline per broker, running ahead of `poll` within a memory budget.
//!
//! Each broker that leads a fetchable partition has at most one Fetch in flight, sent as a task
//! of its own so that it travels while the application works on what the last `poll`
//! returned (prefetching). Its answer is buffered per partition (a [`CompletedFetch`]) until
//! `poll` reads it. A partition with buffered data is not fetched again until it is read, so
//! one partition never holds more than one response's worth of data.
//!
//! The memory budget (`fetch.buffer.max.bytes`) counts buffered response bytes plus what the
//! fetches in flight may bring back (each asks for at most what is left of the budget in its
//! `max_bytes`). When nothing is buffered or in flight, a fetch is sent even with a tiny
//! budget: the broker returns at least one whole batch (KIP-74), so the consumer always makes
//! progress and the overshoot is bounded by one batch (`max.message.bytes`).
//!
//! Fetch sessions (KIP-227) are kept per broker by [`FetchSession`].

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use kafka_client::{Client, ClientError};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic, ForgottenTopic};
use kafka_protocol::messages::{FetchRequest, FetchResponse};
use kafka_protocol::{BrokerId, TopicName};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::debug;

use crate::fetch_session::{FetchPlan, FetchSession, FetchTarget};

/// The settings every Fetch is sent with.
#[derive(Debug, Clone)]
pub(crate) struct FetchSettings {
    pub(crate) min_bytes: i32,
    pub(crate) max_bytes: i32,
    pub(crate) max_wait: Duration,
    pub(crate) isolation_level: i8,
    pub(crate) buffer_max_bytes: usize,
}

/// A Fetch that came back (or failed).
#[derive(Debug)]
pub(crate) struct FetchOutcome {
    pub(crate) broker: BrokerId,
    pub(crate) plan: FetchPlan,
    reserved: usize,
    pub(crate) sent_at: Instant,
    pub(crate) result: Result<FetchResponse, ClientError>,
}

/// The `max_bytes` of the next Fetch, or `None` when the budget is spent: at most `fetch_max`
/// (`fetch.max.bytes`), what is left of `budget` after `used` (buffered plus reserved), and one
/// broker's share of the budget (see [`Fetcher::send`]). With nothing used a fetch is always
/// sent, asking for at least one byte: KIP-74 brokers return at least one whole batch.
fn fetch_max_bytes(budget: usize, used: usize, brokers: usize, fetch_max: i32) -> Option<i32> {
    let left = budget.saturating_sub(used);
    if left == 0 && used > 0 {
        return None;
    }
    let share = budget / brokers.max(1);
    Some(
        i32::try_from(left.min(share))
            .unwrap_or(i32::MAX)
            .min(fetch_max)
            .max(1),
    )
}

/// The per-broker fetch pipelines.
#[derive(Debug)]
pub(crate) struct Fetcher {
    client: Client,
    settings: FetchSettings,
    sessions: BTreeMap<BrokerId, FetchSession>,
    in_flight: JoinSet<FetchOutcome>,
    busy: BTreeSet<BrokerId>,
    /// Each task's broker and reservation, so that even a task that panicked frees its broker.
    tasks: std::collections::HashMap<tokio::task::Id, (BrokerId, usize)>,
    reserved: usize,
}

impl Fetcher {
    pub(crate) fn new(client: Client, settings: FetchSettings) -> Self {
        Fetcher {
            client,
            settings,
            sessions: BTreeMap::new(),
            in_flight: JoinSet::new(),
            busy: BTreeSet::new(),
            tasks: std::collections::HashMap::new(),
            reserved: 0,
        }
    }

    /// Whether `broker` has a Fetch in flight.
    pub(crate) fn is_busy(&self, broker: BrokerId) -> bool {
        self.busy.contains(&broker)
    }

    /// Whether any Fetch is in flight.
    pub(crate) fn has_in_flight(&self) -> bool {
        !self.busy.is_empty()
    }

    /// Sends a Fetch of `targets` to `broker` unless one is in flight there or the budget,
    /// with `buffered` bytes already held, is spent. `brokers` is how many brokers have
    /// partitions to fetch: each fetch asks for at most an equal share of the budget.
    ///
    /// Why a share and not simply what is left: fetches are long polls (`fetch.max.wait.ms`),
    /// and a broker that has nothing new keeps its fetch, and its reservation, in flight almost
    /// all the time. Had the first brokers each reserved `fetch.max.bytes` (50 MiB by default)
    /// of a 64 MiB budget, the last broker would find nothing left, every time, and its
    /// partitions would never be fetched. With equal shares the others hold at most
    /// `(brokers - 1)` shares, so a broker always finds its share once its own buffered data
    /// has been read.
    pub(crate) fn send(
        &mut self,
        broker: BrokerId,
        targets: Vec<FetchTarget>,
        buffered: usize,
        brokers: usize,
    ) {
        if self.is_busy(broker) {
            return;
        }
        let Some(max_bytes) = fetch_max_bytes(
            self.settings.buffer_max_bytes,
            buffered.saturating_add(self.reserved),
            brokers,
            self.settings.max_bytes,
        ) else {
            return;
        };
        let reserved = usize::try_from(max_bytes).unwrap_or(0);
        let session = self.sessions.entry(broker).or_default();
        let plan = session.plan(targets);
        let request = self.request(&plan, max_bytes);
        self.busy.insert(broker);
        self.reserved = self.reserved.saturating_add(reserved);
        let client = self.client.clone();
        let handle = self.in_flight.spawn(async move {
            let sent_at = Instant::now();
            let result = match client.broker(broker).await {
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
            FetchOutcome {
                broker,
                plan,
                reserved,
                sent_at,
                result,
            }
        });
        self.tasks.insert(handle.id(), (broker, reserved));
    }

    fn request(&self, plan: &FetchPlan, max_bytes: i32) -> FetchRequest {
        let mut topics: Vec<FetchTopic> = Vec::new();
        for t in &plan.send {
            let data = FetchPartition::default()
                .with_partition(t.partition)
                .with_current_leader_epoch(t.current_leader_epoch)
                .with_fetch_offset(t.fetch_offset)
                .with_partition_max_bytes(t.max_bytes);
            match topics.iter_mut().find(|f| f.topic == t.topic) {
                Some(f) => f.partitions.push(data),
                None => topics.push(
                    FetchTopic::default()
                        .with_topic(t.topic.clone())
                        .with_topic_id(t.topic_id)
                        .with_partitions(vec![data]),
                ),
            }
        }
        let mut forgotten: Vec<ForgottenTopic> = Vec::new();
        for (topic, id, partition) in &plan.forget {
            match forgotten.iter_mut().find(|f| &f.topic == topic) {
                Some(f) => f.partitions.push(*partition),
                None => forgotten.push(
                    ForgottenTopic::default()
                        .with_topic(topic.clone())
                        .with_topic_id(*id)
                        .with_partitions(vec![*partition]),
                ),
            }
        }
        FetchRequest::default()
            .with_replica_id(BrokerId::NONE)
            .with_max_wait_ms(i32::try_from(self.settings.max_wait.as_millis()).unwrap_or(i32::MAX))
            .with_min_bytes(self.settings.min_bytes)
            .with_max_bytes(max_bytes)
            .with_isolation_level(self.settings.isolation_level)
            .with_session_id(plan.session_id)
            .with_session_epoch(plan.epoch)
            .with_topics(topics)
            .with_forgotten_topics_data(forgotten)
    }

    /// The next Fetch to finish, waiting until `deadline` at most.
    pub(crate) async fn next(&mut self, deadline: Instant) -> Option<FetchOutcome> {
        while !self.in_flight.is_empty() {
            let joined = tokio::time::timeout_at(deadline, self.in_flight.join_next_with_id())
                .await
                .ok()??;
            if let Some(outcome) = self.joined(joined) {
                return Some(outcome);
            }
        }
        None
    }

    /// A Fetch that has already finished, if any.
    pub(crate) fn try_next(&mut self) -> Option<FetchOutcome> {
        while let Some(joined) = self.in_flight.try_join_next_with_id() {
            if let Some(outcome) = self.joined(joined) {
                return Some(outcome);
            }
        }
        None
    }

    fn joined(
        &mut self,
        joined: Result<(tokio::task::Id, FetchOutcome), tokio::task::JoinError>,
    ) -> Option<FetchOutcome> {
        match joined {
            Ok((id, outcome)) => {
                self.tasks.remove(&id);
                Some(self.finish(outcome))
            }
            Err(e) => {
                // Only a bug panics a fetch task; its broker must not stay busy forever.
                if let Some((broker, reserved)) = self.tasks.remove(&e.id()) {
                    self.busy.remove(&broker);
                    self.reserved = self.reserved.saturating_sub(reserved);
                    if let Some(s) = self.sessions.get_mut(&broker) {
                        s.on_failure();
                    }
                }
                None
            }
        }
    }

    /// Releases the outcome's budget and brings its broker's session up to date. A response
    /// whose session was refused comes back as an error: its partitions are not to be used.
    fn finish(&mut self, mut outcome: FetchOutcome) -> FetchOutcome {
        self.busy.remove(&outcome.broker);
        self.reserved = self.reserved.saturating_sub(outcome.reserved);
        let session = self.sessions.entry(outcome.broker).or_default();
        let plan = outcome.plan.clone();
        match &outcome.result {
            Ok(response) => {
                if !session.on_response(plan, response.error_code, response.session_id) {
                    debug!(broker = %outcome.broker, code = ?response.error_code, "fetch session reset");
                    outcome.result = Err(ClientError::Broker(response.error_code));
                }
            }
            Err(e) => {
                debug!(broker = %outcome.broker, error = %e, "fetch failed");
                session.on_failure();
            }
        }
        outcome
    }

    /// The name of a response's topic: responses from Fetch v13 on carry only the id.
    pub(crate) fn topic_of(
        plan: &FetchPlan,
        name: &TopicName,
        id: kafka_protocol::Uuid,
    ) -> Option<TopicName> {
        if !name.is_empty() {
            return Some(name.clone());
        }
        plan.wanted
            .iter()
            .find(|t| t.topic_id == id)
            .map(|t| t.topic.clone())
    }

    /// Drops every Fetch in flight (their answers would describe positions that are gone).
    pub(crate) fn abort_all(&mut self) {
        self.in_flight = JoinSet::new();
        self.tasks.clear();
        for broker in std::mem::take(&mut self.busy) {
            if let Some(s) = self.sessions.get_mut(&broker) {
                s.on_failure();
            }
        }
        self.reserved = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::fetch_max_bytes;

    const MIB: usize = 1024 * 1024;
    const FETCH_MAX: i32 = 50 * 1024 * 1024;

    #[test]
    fn every_broker_gets_a_share_while_the_others_long_poll() {
        // Three brokers, a 64 MiB budget, fetch.max.bytes 50 MiB: reserving as the fetches go
        // out must leave the third broker something (it once found nothing, forever).
        let mut used = 0;
        for _ in 0..3 {
            let got = fetch_max_bytes(64 * MIB, used, 3, FETCH_MAX).expect("a fetch is sent");
            assert!(got as usize <= 64 * MIB / 3);
            assert!(got as usize >= 21 * MIB);
            used += got as usize;
        }
        assert!(used <= 64 * MIB);
    }

    #[test]
    fn a_single_broker_is_capped_by_fetch_max_bytes() {
        assert_eq!(fetch_max_bytes(64 * MIB, 0, 1, FETCH_MAX), Some(FETCH_MAX));
        assert_eq!(
            fetch_max_bytes(usize::MAX, 0, 0, FETCH_MAX),
            Some(FETCH_MAX)
        );
    }

    #[test]
    fn a_spent_budget_sends_nothing_but_an_empty_one_always_sends() {
        assert_eq!(fetch_max_bytes(MIB, MIB, 2, FETCH_MAX), None);
        assert_eq!(fetch_max_bytes(MIB, 2 * MIB, 2, FETCH_MAX), None);
        // A budget smaller than anything still lets one fetch out (KIP-74: one batch).
        assert_eq!(fetch_max_bytes(0, 0, 3, FETCH_MAX), Some(1));
        // What is left, when less than a share.
        assert_eq!(
            fetch_max_bytes(10 * MIB, 9 * MIB, 2, FETCH_MAX),
            Some(MIB as i32)
        );
    }
}

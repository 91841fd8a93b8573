//! Where each request goes, and retrying within an operation's timeout.
//!
//! Kafka requires some requests at a particular broker: partition-addressed ones (ListOffsets,
//! DeleteRecords, DescribeProducers) at each partition's leader, group ones at the group's
//! coordinator, a broker's configs and log dirs at that broker; cluster-wide changes go to the
//! controller (under KRaft, Metadata names a broker that forwards them). Everything else may go
//! to any broker.
//!
//! An operation has one deadline (`default.api.timeout.ms`, or the handle's
//! [`AdminClient::with_timeout`](crate::AdminClient::with_timeout)). Within it, a retriable
//! failure of the whole request (connection lost, NOT_CONTROLLER, COORDINATOR_LOAD_IN_PROGRESS)
//! is retried after a backoff, with metadata refreshed in between; for per-item requests only
//! the items that failed retriably are sent again, so one topic's trouble neither fails nor
//! repeats the others. UNKNOWN_TOPIC_OR_PARTITION, although retriable in Kafka's table, is
//! final here as in Java's AdminClient: a misspelt topic must not wait out the whole timeout.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use kafka_client::backoff::{jitter_unit, Backoff};
use kafka_client::{Client, Connection};
use kafka_protocol::{BrokerId, ErrorCode, TopicName};
use tokio::time::Instant;
use tracing::debug;

use crate::error::{AdminError, Result};

/// One operation's name and deadline.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub operation: &'static str,
    pub deadline: Instant,
    pub timeout: Duration,
}

impl Call {
    pub fn new(operation: &'static str, timeout: Duration) -> Call {
        Call {
            operation,
            deadline: Instant::now() + timeout,
            timeout,
        }
    }

    /// What the operation ends with when the deadline passes.
    pub fn timed_out(&self, last: Option<&AdminError>) -> AdminError {
        AdminError::Timeout {
            operation: self.operation,
            timeout_ms: u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX),
            last: last.map(ToString::to_string),
        }
    }

    /// The time left, as a request timeout for the broker (`timeout_ms` fields).
    pub fn remaining_ms(&self) -> i32 {
        let left = self.deadline.saturating_duration_since(Instant::now());
        i32::try_from(left.as_millis()).unwrap_or(i32::MAX).max(1)
    }
}

/// Whether the router retries `e`. Some codes Kafka marks retriable are answers to an admin:
/// an unknown topic (see above), and an election that was not needed or had no eligible
/// leader (Java's AdminClient reports those per partition and does not retry).
pub(crate) fn retriable(e: &AdminError) -> bool {
    e.is_retriable()
        && !matches!(
            e.code(),
            Some(
                ErrorCode::UnknownTopicOrPartition
                    | ErrorCode::ElectionNotNeeded
                    | ErrorCode::PreferredLeaderNotAvailable
                    | ErrorCode::EligibleLeadersNotAvailable
            )
        )
}

/// Waits out the backoff before retry number `attempt`, unless that would pass the deadline;
/// refreshes metadata in between. Returns false when there is no time left.
async fn back_off(client: &Client, call: &Call, attempt: u32) -> bool {
    let config = client.config();
    let wait =
        Backoff::new(config.retry_backoff, config.retry_backoff_max).wait(attempt, jitter_unit());
    if Instant::now() + wait >= call.deadline {
        return false;
    }
    tokio::time::sleep(wait).await;
    if let Err(e) = client.refresh_metadata(&[], false).await {
        debug!(error = %e, "metadata refresh between retries failed");
    }
    true
}

/// Runs `attempt` until it succeeds, fails for good, or the deadline passes.
pub(crate) async fn retry<T, F, Fut>(client: &Client, call: &Call, mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut last: Option<AdminError> = None;
    for n in 0u32.. {
        let remaining = call.deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(remaining, attempt()).await {
            Err(_) => return Err(call.timed_out(last.as_ref())),
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) if retriable(&e) => {
                debug!(operation = call.operation, error = %e, "retrying");
                last = Some(e);
                if !back_off(client, call, n).await {
                    return Err(call.timed_out(last.as_ref()));
                }
            }
            Ok(Err(e)) => return Err(e.for_operation(call.operation)),
        }
    }
    Err(call.timed_out(last.as_ref()))
}

/// Per-item results, by item.
pub type ItemResults<K, T> = BTreeMap<K, Result<T>>;

/// Runs `attempt` on `items`, then again on the items that failed retriably, until every item
/// has a final result or the deadline passes (those still failing keep their last error). A
/// retriable failure of the whole attempt retries every pending item; a final one fails the
/// operation.
pub(crate) async fn retry_items<K, T, F, Fut>(
    client: &Client,
    call: &Call,
    items: Vec<K>,
    mut attempt: F,
) -> Result<ItemResults<K, T>>
where
    K: Ord + Clone + Debug,
    F: FnMut(Vec<K>) -> Fut,
    Fut: Future<Output = Result<Vec<(K, Result<T>)>>>,
{
    let mut done: ItemResults<K, T> = BTreeMap::new();
    let mut pending: Vec<K> = items
        .into_iter()
        .collect::<BTreeSet<K>>()
        .into_iter()
        .collect();
    let mut last: Option<AdminError> = None;
    for n in 0u32.. {
        if pending.is_empty() {
            break;
        }
        let remaining = call.deadline.saturating_duration_since(Instant::now());
        let mut failed: Vec<(K, AdminError)> = Vec::new();
        match tokio::time::timeout(remaining, attempt(pending.clone())).await {
            Err(_) => {
                for k in pending.drain(..) {
                    done.insert(k, Err(call.timed_out(last.as_ref())));
                }
                break;
            }
            Ok(Err(e)) if retriable(&e) => {
                debug!(operation = call.operation, error = %e, "retrying the whole request");
                failed.extend(pending.iter().map(|k| (k.clone(), e.clone())));
                last = Some(e);
            }
            Ok(Err(e)) => return Err(e.for_operation(call.operation)),
            Ok(Ok(results)) => {
                let mut answered = BTreeSet::new();
                for (k, r) in results {
                    answered.insert(k.clone());
                    match r {
                        Err(e) if retriable(&e) => {
                            last = Some(e.clone());
                            failed.push((k, e));
                        }
                        r => {
                            done.insert(k, r);
                        }
                    }
                }
                for k in pending.iter().filter(|k| !answered.contains(*k)) {
                    done.insert(k.clone(), Err(AdminError::MissingResult(format!("{k:?}"))));
                }
            }
        }
        if failed.is_empty() {
            break;
        }
        if !back_off(client, call, n).await {
            for (k, e) in failed {
                done.insert(k, Err(e));
            }
            break;
        }
        pending = failed.into_iter().map(|(k, _)| k).collect();
    }
    Ok(done)
}

/// Any broker.
pub(crate) async fn any(client: &Client) -> Result<Arc<Connection>> {
    Ok(client.any_connection().await?)
}

/// The controller as Metadata names it (any broker when it names none).
pub(crate) async fn controller(client: &Client) -> Result<Arc<Connection>> {
    let id = client.metadata().controller();
    if id.0 >= 0 {
        if let Ok(conn) = client.broker(id).await {
            return Ok(conn);
        }
    }
    any(client).await
}

/// Broker `id`; refreshes metadata once if it is not known yet.
pub(crate) async fn broker(client: &Client, id: BrokerId) -> Result<Arc<Connection>> {
    if client.metadata().broker(id).is_none() {
        client.refresh_metadata(&[], false).await?;
    }
    Ok(client.broker(id).await?)
}

/// The coordinator of group `group`.
pub(crate) async fn group_coordinator(client: &Client, group: &str) -> Result<Arc<Connection>> {
    let id = client.find_coordinator(group, 0).await?;
    Ok(client.coordinator(id).await?)
}

/// Splits `partitions` by leader after refreshing their topics' metadata: each leader's
/// partitions, and the partitions with an error instead (unknown topic or partition, no
/// leader).
pub(crate) async fn by_leader(
    client: &Client,
    partitions: &[(TopicName, i32)],
) -> Result<(
    BTreeMap<BrokerId, Vec<(TopicName, i32)>>,
    Vec<((TopicName, i32), AdminError)>,
)> {
    let topics: Vec<TopicName> = partitions
        .iter()
        .map(|(t, _)| t.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    client.refresh_metadata(&topics, false).await?;
    let metadata = client.metadata();
    let mut led: BTreeMap<BrokerId, Vec<(TopicName, i32)>> = BTreeMap::new();
    let mut failed = Vec::new();
    for tp in partitions {
        let (topic, partition) = tp;
        if let Some(code) = metadata
            .topic_error(topic)
            .filter(|c| *c != ErrorCode::None)
        {
            failed.push((
                tp.clone(),
                AdminError::Broker {
                    code,
                    message: None,
                },
            ));
            continue;
        }
        let exists = metadata
            .topic(topic)
            .is_some_and(|t| usize::try_from(*partition).is_ok_and(|p| p < t.partitions.len()));
        if !exists {
            let code = ErrorCode::UnknownTopicOrPartition;
            failed.push((
                tp.clone(),
                AdminError::Broker {
                    code,
                    message: None,
                },
            ));
            continue;
        }
        match metadata.leader(topic, *partition) {
            Some(id) if id.0 >= 0 => led.entry(id).or_default().push(tp.clone()),
            _ => {
                let code = ErrorCode::LeaderNotAvailable;
                failed.push((
                    tp.clone(),
                    AdminError::Broker {
                        code,
                        message: None,
                    },
                ));
            }
        }
    }
    Ok((led, failed))
}

/// Sends one request per leader concurrently and gathers the per-partition results; a leader
/// that cannot be reached fails its own partitions (retriably), not the others.
pub(crate) async fn per_leader<T, F, Fut>(
    client: &Client,
    partitions: Vec<(TopicName, i32)>,
    send: F,
) -> Result<Vec<((TopicName, i32), Result<T>)>>
where
    F: Fn(Arc<Connection>, Vec<(TopicName, i32)>) -> Fut,
    Fut: Future<Output = Result<Vec<((TopicName, i32), Result<T>)>>>,
{
    let (led, failed) = by_leader(client, &partitions).await?;
    let mut results: Vec<((TopicName, i32), Result<T>)> =
        failed.into_iter().map(|(k, e)| (k, Err(e))).collect();
    let requests = led.into_iter().map(|(leader, tps)| {
        let send = &send;
        async move {
            let outcome = match client.broker(leader).await {
                Ok(conn) => {
                    let c = Arc::clone(&conn);
                    let r = send(conn, tps.clone()).await;
                    if matches!(&r, Err(AdminError::Client(e)) if e.is_retriable()) {
                        client.connection_failed(&c);
                    }
                    r
                }
                Err(e) => Err(AdminError::from(e)),
            };
            match outcome {
                Ok(r) => r,
                Err(e) => tps.into_iter().map(|tp| (tp, Err(e.clone()))).collect(),
            }
        }
    });
    for r in futures_util::future::join_all(requests).await {
        results.extend(r);
    }
    Ok(results)
}

/// Groups per-partition items by topic, for requests that list partitions under their topic.
pub(crate) fn by_topic<T>(
    items: impl IntoIterator<Item = ((TopicName, i32), T)>,
) -> BTreeMap<TopicName, Vec<(i32, T)>> {
    let mut m: BTreeMap<TopicName, Vec<(i32, T)>> = BTreeMap::new();
    for ((t, p), v) in items {
        m.entry(t).or_default().push((p, v));
    }
    m
}

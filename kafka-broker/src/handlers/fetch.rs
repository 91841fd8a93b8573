//! Fetch (key 1): read batches from the leader's logs, long-polling until `min_bytes` arrive or
//! `max_wait_ms` passes.
//!
//! * Long poll: the handler parks on every requested partition's [`tokio::sync::Notify`] and
//!   re-reads when any of them is appended to (or changes leader, or is deleted); there is no
//!   polling loop. The notifications are enabled *before* reading so an append between the read
//!   and the wait is not missed.
//! * Limits: `partition_max_bytes` per partition and `max_bytes` for the response (v3+), except
//!   that the first partition with data always returns at least one whole batch (KIP-74), or a
//!   consumer whose limits are below the batch size would never make progress.
//! * Fetch sessions (KIP-227): the broker never creates one and answers session id 0, which tells
//!   the client to keep sending full fetch requests.

use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::fetch_response::{
    FetchableTopicResponse, LeaderIdAndEpoch, NodeEndpoint, PartitionData,
};
use kafka_protocol::messages::{FetchRequest, FetchResponse};
use kafka_protocol::ErrorCode;
use tokio::time::Instant;

use super::common::{check_leader_epoch, led_partition};
use crate::connection::{wait_shutdown, Ctx};
use crate::log::PartitionLog;
use crate::state::lock;

/// Upper bound on one long poll, whatever the client asks: a guard against a request that would
/// park a connection for days.
const MAX_WAIT: Duration = Duration::from_secs(300);

pub(crate) async fn handle(ctx: &Ctx, request: &FetchRequest, version: i16) -> FetchResponse {
    if request.session_id != 0 {
        return top_level_error(ErrorCode::FetchSessionIdNotFound);
    }
    if request.session_epoch > 0 {
        return top_level_error(ErrorCode::InvalidFetchSessionEpoch);
    }
    let max_wait =
        Duration::from_millis(u64::try_from(request.max_wait_ms).unwrap_or(0)).min(MAX_WAIT);
    let deadline = Instant::now() + max_wait;
    let min_bytes = usize::try_from(request.min_bytes).unwrap_or(0);
    let mut shutdown = ctx.shutdown.clone();
    loop {
        // Resolve, then arm the notifications, then read: an append after the read still wakes us.
        let logs = partitions_to_watch(ctx, request, version);
        let mut waits: Vec<_> = logs
            .iter()
            .map(|log| {
                let mut notified = Box::pin(log.notify.notified());
                notified.as_mut().enable();
                notified
            })
            .collect();
        let (response, bytes, has_error) = read_all(ctx, request, version);
        if bytes >= min_bytes || has_error || Instant::now() >= deadline {
            return response;
        }
        let any_change = std::future::poll_fn(|cx| {
            for notified in waits.iter_mut() {
                if notified.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(());
                }
            }
            Poll::Pending
        });
        tokio::select! {
            _ = wait_shutdown(&mut shutdown) => return response,
            _ = tokio::time::sleep_until(deadline) => {}
            _ = any_change => {}
        }
    }
}

fn top_level_error(code: ErrorCode) -> FetchResponse {
    FetchResponse {
        error_code: code.code(),
        session_id: 0,
        ..Default::default()
    }
}

/// The logs this broker leads among the requested partitions.
fn partitions_to_watch(ctx: &Ctx, request: &FetchRequest, version: i16) -> Vec<Arc<PartitionLog>> {
    let topics = lock(&ctx.state.topics);
    let mut logs = Vec::new();
    for t in &request.topics {
        let topic = if version >= 13 {
            topics.get_by_id(&t.topic_id)
        } else {
            topics.get(&t.topic)
        };
        if let Some(topic) = topic {
            for p in &t.partitions {
                if let Ok(log) = led_partition(ctx, topic, p.partition) {
                    logs.push(log);
                }
            }
        }
    }
    logs
}

/// Reads every requested partition once: the response, the record bytes it holds, and whether
/// any partition failed (an error completes a fetch at once, as in Kafka's DelayedFetch).
fn read_all(ctx: &Ctx, request: &FetchRequest, version: i16) -> (FetchResponse, usize, bool) {
    let mut budget = if version >= 3 {
        usize::try_from(request.max_bytes).unwrap_or(0)
    } else {
        usize::MAX
    };
    let mut total = 0usize;
    let mut has_error = false;
    let mut leaders = std::collections::BTreeSet::new();
    let responses = request
        .topics
        .iter()
        .map(|t| {
            let topic = {
                let topics = lock(&ctx.state.topics);
                if version >= 13 {
                    topics.get_by_id(&t.topic_id).cloned()
                } else {
                    topics.get(&t.topic).cloned()
                }
            };
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let read_committed = request.isolation_level == 1;
                    let Some(topic) = &topic else {
                        has_error = true;
                        let code = if version >= 13 {
                            ErrorCode::UnknownTopicId
                        } else {
                            ErrorCode::UnknownTopicOrPartition
                        };
                        return error_partition(p.partition, code, read_committed);
                    };
                    let read = led_partition(ctx, topic, p.partition).and_then(|log| {
                        check_leader_epoch(p.current_leader_epoch, log.leader().1)?;
                        let limit = usize::try_from(p.partition_max_bytes)
                            .unwrap_or(0)
                            .min(budget);
                        log.read(p.fetch_offset, limit, total == 0)
                    });
                    match read {
                        Ok(read) => {
                            let n = read.records.len();
                            total = total.saturating_add(n);
                            budget = budget.saturating_sub(n);
                            PartitionData {
                                partition_index: p.partition,
                                error_code: ErrorCode::None.code(),
                                high_watermark: read.offsets.high_watermark,
                                last_stable_offset: read.offsets.high_watermark,
                                log_start_offset: read.offsets.log_start_offset,
                                // Kafka sends an (empty, until transactions exist) list to
                                // read_committed consumers and null to the others.
                                aborted_transactions: (request.isolation_level == 1).then(Vec::new),
                                preferred_read_replica: -1,
                                records: Some(read.records),
                                ..Default::default()
                            }
                        }
                        Err(code) => {
                            has_error = true;
                            let mut data = error_partition(p.partition, code, read_committed);
                            if version >= 12
                                && matches!(
                                    code,
                                    ErrorCode::NotLeaderOrFollower | ErrorCode::FencedLeaderEpoch
                                )
                            {
                                if let Some(log) = topic.partition(p.partition) {
                                    let (leader, epoch) = log.leader();
                                    if ctx.state.is_running(leader) {
                                        leaders.insert(leader);
                                        data.current_leader = LeaderIdAndEpoch {
                                            leader_id: leader,
                                            leader_epoch: epoch,
                                            ..Default::default()
                                        };
                                    }
                                }
                            }
                            data
                        }
                    }
                })
                .collect();
            FetchableTopicResponse {
                topic: t.topic.clone(),
                topic_id: t.topic_id,
                partitions,
                ..Default::default()
            }
        })
        .collect();
    // NodeEndpoints exists from v16 (KIP-951); CurrentLeader (v12+) is sent without it before.
    let node_endpoints = leaders
        .into_iter()
        .filter(|_| version >= 16)
        .filter_map(|id| ctx.state.broker(id))
        .map(|b| NodeEndpoint {
            node_id: b.id,
            host: b.host,
            port: i32::from(b.port),
            rack: None,
            ..Default::default()
        })
        .collect();
    let response = FetchResponse {
        throttle_time_ms: 0,
        error_code: ErrorCode::None.code(),
        session_id: 0,
        responses,
        node_endpoints,
        ..Default::default()
    };
    (response, total, has_error)
}

fn error_partition(partition: i32, code: ErrorCode, read_committed: bool) -> PartitionData {
    // Kafka answers a partition it does not know with an empty aborted-transactions list; a
    // partition it knows (out of range, a fenced epoch) as a read would: empty for
    // read_committed, null otherwise.
    let unknown = matches!(
        code,
        ErrorCode::UnknownTopicOrPartition | ErrorCode::UnknownTopicId
    );
    PartitionData {
        partition_index: partition,
        error_code: code.code(),
        high_watermark: -1,
        last_stable_offset: -1,
        log_start_offset: -1,
        aborted_transactions: (unknown || read_committed).then(Vec::new),
        preferred_read_replica: -1,
        records: Some(Bytes::new()),
        ..Default::default()
    }
}

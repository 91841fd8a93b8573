//! Fetch (key 1): read batches from the leader's logs, long-polling until `min_bytes` arrive or
//! `max_wait_ms` passes, within a fetch session when the client asks for one.
//!
//! * Sessions (KIP-227, [`crate::fetch_session`]): the request's session id and epoch decide
//!   which partitions are read (the request's, or the session's for an incremental fetch) and
//!   which are answered (all, or only those with news). Session errors are top-level.
//! * Long poll: the handler parks on every partition's [`tokio::sync::Notify`] and re-reads when
//!   any of them is appended to (or changes leader, or is deleted); there is no polling loop. The
//!   notifications are enabled *before* reading so an append between the read and the wait is
//!   not missed.
//! * Limits: `partition_max_bytes` per partition and `max_bytes` for the response (v3+), except
//!   that the first partition with data always returns at least one whole batch (KIP-74), or a
//!   consumer whose limits are below the batch size would never make progress.

use kafka_protocol::acl::AclOperation;
use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::fetch_response::{
    AbortedTransaction, FetchableTopicResponse, LeaderIdAndEpoch, NodeEndpoint, PartitionData,
};
use kafka_protocol::messages::{FetchRequest, FetchResponse};
use kafka_protocol::{BrokerId, ErrorCode, ProducerId};
use tokio::time::Instant;

use super::common::{check_leader_epoch, led_partition};
use crate::context::{wait_shutdown, RequestContext};
use crate::fetch_session::{FetchContext, PartitionFetch, PartitionSeen, TopicKey};
use crate::log::PartitionLog;
use crate::sync::lock;

/// Upper bound on one long poll, whatever the client asks: a guard against a request that would
/// park a connection for days.
const MAX_WAIT: Duration = Duration::from_secs(300);

/// How the answer relates to a fetch session.
enum Answer {
    /// Every partition, no session.
    Sessionless,
    /// Every partition, and a new session holding them.
    NewSession,
    /// Only the partitions with news, in this session.
    Incremental(i32),
}

/// One partition's read: what goes in the response and what the session learns from it.
struct PartitionRead {
    topic: TopicKey,
    data: PartitionData,
    fetch: PartitionFetch,
    seen: PartitionSeen,
}

pub(crate) async fn handle(
    ctx: &RequestContext,
    request: &FetchRequest,
    version: i16,
) -> FetchResponse {
    let uses_topic_ids = version >= 13;
    let key = |name: &str, id| {
        if uses_topic_ids {
            TopicKey::Id(id)
        } else {
            TopicKey::Name(name.to_string())
        }
    };
    let wanted: Vec<(TopicKey, i32, PartitionFetch)> = request
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions.iter().map(move |p| {
                (
                    key(&t.topic, t.topic_id),
                    p.partition,
                    PartitionFetch {
                        fetch_offset: p.fetch_offset,
                        partition_max_bytes: p.partition_max_bytes,
                        current_leader_epoch: p.current_leader_epoch,
                        log_start_offset: p.log_start_offset,
                    },
                )
            })
        })
        .collect();
    // Sessions exist from v7; an older request's defaults (session 0, epoch -1) make it
    // sessionless.
    let context = {
        let forgotten: Vec<(TopicKey, i32)> = request
            .forgotten_topics_data
            .iter()
            .flat_map(|t| {
                t.partitions
                    .iter()
                    .map(move |p| (key(&t.topic, t.topic_id), *p))
            })
            .collect();
        ctx.state.fetch_sessions(ctx.broker_id, |cache| {
            cache.new_context(
                request.session_id,
                request.session_epoch,
                uses_topic_ids,
                &wanted,
                &forgotten,
                ctx.state.clock.now_ms(),
            )
        })
    };
    let (partitions, answer) = match context {
        FetchContext::Error(code) => return top_level_error(code),
        FetchContext::Sessionless => (wanted, Answer::Sessionless),
        FetchContext::FullNewSession => (wanted, Answer::NewSession),
        FetchContext::Incremental {
            session_id,
            partitions,
        } => (partitions, Answer::Incremental(session_id)),
    };

    let max_wait =
        Duration::from_millis(u64::try_from(request.max_wait_ms).unwrap_or(0)).min(MAX_WAIT);
    let deadline = Instant::now() + max_wait;
    let min_bytes = usize::try_from(request.min_bytes).unwrap_or(0);
    let mut shutdown = ctx.shutdown.clone();
    let reads = loop {
        // Resolve, then arm the notifications, then read: an append after the read still wakes us.
        let logs = partitions_to_watch(ctx, &partitions);
        let mut waits: Vec<_> = logs
            .iter()
            .map(|log| {
                let mut notified = Box::pin(log.notify.notified());
                notified.as_mut().enable();
                notified
            })
            .collect();
        let reads = read_all(ctx, request, &partitions);
        let bytes: usize = reads.iter().map(|r| r.seen.record_bytes).sum();
        let has_error = reads.iter().any(|r| r.seen.error.is_error());
        if bytes >= min_bytes || has_error || Instant::now() >= deadline {
            break reads;
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
            _ = wait_shutdown(&mut shutdown) => break reads,
            _ = tokio::time::sleep_until(deadline) => {}
            _ = any_change => {}
        }
    };

    let (session_id, reads) = match answer {
        Answer::Sessionless => (0, reads),
        Answer::NewSession => {
            let privileged = request.replica_id >= 0 || request.replica_state.replica_id >= 0;
            let members = reads
                .iter()
                .map(|r| (r.topic.clone(), r.data.partition_index, r.fetch, r.seen))
                .collect();
            let id = ctx.state.fetch_sessions(ctx.broker_id, |cache| {
                cache.create_session(
                    uses_topic_ids,
                    privileged,
                    members,
                    ctx.state.clock.now_ms(),
                )
            });
            (id, reads)
        }
        Answer::Incremental(id) => {
            let reads = ctx.state.fetch_sessions(ctx.broker_id, |cache| {
                reads
                    .into_iter()
                    .filter(|r| cache.must_respond(id, &r.topic, r.data.partition_index, &r.seen))
                    .collect()
            });
            (id, reads)
        }
    };
    response(ctx, session_id, reads)
}

fn top_level_error(code: ErrorCode) -> FetchResponse {
    FetchResponse::default()
        .with_error_code(code)
        .with_session_id(0)
}

fn find_topic(topics: &crate::topics::Registry, key: &TopicKey) -> Option<crate::topics::Topic> {
    match key {
        TopicKey::Id(id) => topics.get_by_id(id).cloned(),
        TopicKey::Name(name) => topics.get(name).cloned(),
    }
}

/// The logs this broker leads among the partitions to read.
fn partitions_to_watch(
    ctx: &RequestContext,
    partitions: &[(TopicKey, i32, PartitionFetch)],
) -> Vec<Arc<PartitionLog>> {
    let topics = lock(&ctx.state.topics);
    partitions
        .iter()
        .filter_map(|(key, partition, _)| {
            let topic = find_topic(&topics, key)?;
            led_partition(ctx, &topic, *partition).ok()
        })
        .collect()
}

/// Reads every partition once, within the request's byte budget.
fn read_all(
    ctx: &RequestContext,
    request: &FetchRequest,
    partitions: &[(TopicKey, i32, PartitionFetch)],
) -> Vec<PartitionRead> {
    // Before v3 there is no response limit; the field's default (i32::MAX) stands in.
    let mut budget = usize::try_from(request.max_bytes).unwrap_or(0);
    let mut total = 0usize;
    let read_committed = request.isolation_level == 1;
    partitions
        .iter()
        .map(|(key, partition, fetch)| {
            let topic = find_topic(&lock(&ctx.state.topics), key);
            // READ on the topic is checked before its existence (a topic id is no secret).
            let may_read = |name: &str| ctx.allowed_topic(AclOperation::Read, name);
            let data = match &topic {
                None => {
                    let code = match key {
                        TopicKey::Id(_) => ErrorCode::UnknownTopicId,
                        TopicKey::Name(name) if !may_read(name) => {
                            ErrorCode::TopicAuthorizationFailed
                        }
                        TopicKey::Name(_) => ErrorCode::UnknownTopicOrPartition,
                    };
                    error_partition(*partition, code, read_committed)
                }
                Some(topic) if !may_read(&topic.name) => error_partition(
                    *partition,
                    ErrorCode::TopicAuthorizationFailed,
                    read_committed,
                ),
                Some(topic) => {
                    let read = led_partition(ctx, topic, *partition).and_then(|log| {
                        check_leader_epoch(fetch.current_leader_epoch, log.leader().1)?;
                        let limit = usize::try_from(fetch.partition_max_bytes)
                            .unwrap_or(0)
                            .min(budget);
                        log.read(fetch.fetch_offset, limit, total == 0, read_committed)
                    });
                    match read {
                        Ok(read) => {
                            let n = read.records.len();
                            total = total.saturating_add(n);
                            budget = budget.saturating_sub(n);
                            PartitionData {
                                partition_index: *partition,
                                error_code: ErrorCode::None,
                                high_watermark: read.offsets.high_watermark,
                                last_stable_offset: read.offsets.last_stable_offset,
                                log_start_offset: read.offsets.log_start_offset,
                                // Kafka sends the list (possibly empty) to read_committed
                                // consumers and null to the others.
                                aborted_transactions: read_committed.then(|| {
                                    read.aborted
                                        .iter()
                                        .map(|(producer_id, first_offset)| {
                                            AbortedTransaction::default()
                                                .with_producer_id(ProducerId(*producer_id))
                                                .with_first_offset(*first_offset)
                                        })
                                        .collect()
                                }),
                                preferred_read_replica: BrokerId::NONE,
                                records: Some(read.records),
                                ..Default::default()
                            }
                        }
                        Err(code) => {
                            let mut data = error_partition(*partition, code, read_committed);
                            data.current_leader = leader_hint(ctx, topic, *partition, code);
                            data
                        }
                    }
                }
            };
            let seen = PartitionSeen {
                error: data.error_code,
                high_watermark: data.high_watermark,
                last_stable_offset: data.last_stable_offset,
                log_start_offset: data.log_start_offset,
                record_bytes: data.records.as_ref().map_or(0, Bytes::len),
            };
            PartitionRead {
                topic: key.clone(),
                data,
                fetch: *fetch,
                seen,
            }
        })
        .collect()
}

/// KIP-951 (Fetch v12+): a partition that moved names its current leader, so the client can
/// follow it without a Metadata round trip.
fn leader_hint(
    ctx: &RequestContext,
    topic: &crate::topics::Topic,
    partition: i32,
    code: ErrorCode,
) -> LeaderIdAndEpoch {
    let moved = matches!(
        code,
        ErrorCode::NotLeaderOrFollower | ErrorCode::FencedLeaderEpoch
    );
    match topic.partition(partition) {
        Some(log) if moved => {
            let (leader, epoch) = log.leader();
            if ctx.state.is_running(leader) {
                LeaderIdAndEpoch::default()
                    .with_leader_id(BrokerId(leader))
                    .with_leader_epoch(epoch)
            } else {
                LeaderIdAndEpoch::default()
            }
        }
        _ => LeaderIdAndEpoch::default(),
    }
}

/// Groups the reads by topic (in order of first appearance) into the response.
fn response(ctx: &RequestContext, session_id: i32, reads: Vec<PartitionRead>) -> FetchResponse {
    let mut leaders = std::collections::BTreeSet::new();
    let mut responses: Vec<FetchableTopicResponse> = Vec::new();
    for read in reads {
        if read.data.current_leader.leader_id >= 0 {
            leaders.insert(read.data.current_leader.leader_id);
        }
        let same = |t: &FetchableTopicResponse| match &read.topic {
            TopicKey::Id(id) => t.topic_id == *id,
            TopicKey::Name(name) => t.topic == *name,
        };
        match responses.iter_mut().find(|t| same(t)) {
            Some(t) => t.partitions.push(read.data),
            None => {
                let (topic, topic_id) = match &read.topic {
                    TopicKey::Id(id) => (String::new(), *id),
                    TopicKey::Name(name) => (name.clone(), Default::default()),
                };
                responses.push(
                    FetchableTopicResponse::default()
                        .with_topic(topic)
                        .with_topic_id(topic_id)
                        .with_partitions(vec![read.data]),
                );
            }
        }
    }
    // NodeEndpoints reaches clients from v16 (KIP-951), CurrentLeader from v12.
    let node_endpoints = leaders
        .into_iter()
        .filter_map(|id| ctx.state.broker(id.0))
        .map(|b| {
            NodeEndpoint::default()
                .with_node_id(BrokerId(b.id))
                .with_host(b.host)
                .with_port(i32::from(b.port))
        })
        .collect();
    FetchResponse::default()
        .with_error_code(ErrorCode::None)
        .with_session_id(session_id)
        .with_responses(responses)
        .with_node_endpoints(node_endpoints)
}

fn error_partition(partition: i32, code: ErrorCode, read_committed: bool) -> PartitionData {
    // Kafka answers a partition it does not know with an empty aborted-transactions list; a
    // partition it knows (out of range, a fenced epoch) as a read would: empty for
    // read_committed, null otherwise.
    let unknown = matches!(
        code,
        ErrorCode::UnknownTopicOrPartition
            | ErrorCode::UnknownTopicId
            | ErrorCode::TopicAuthorizationFailed
    );
    PartitionData::default()
        .with_partition_index(partition)
        .with_error_code(code)
        .with_high_watermark(-1)
        .with_last_stable_offset(-1)
        .with_log_start_offset(-1)
        .with_aborted_transactions((unknown || read_committed).then(Vec::new))
        .with_preferred_read_replica(BrokerId::NONE)
        .with_records(Some(Bytes::new()))
}

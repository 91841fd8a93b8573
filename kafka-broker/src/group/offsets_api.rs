//! OffsetCommit, OffsetFetch and OffsetDelete, with their per-version layouts: OffsetCommit v1+
//! carries the member and generation, v2-4 a retention time, v10 topic ids; OffsetFetch v2+
//! fetches every committed offset when `topics` is null, v8+ batches groups, v10 uses topic ids.

use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::offset_delete_response::{
    OffsetDeleteResponsePartition, OffsetDeleteResponseTopic,
};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::txn_offset_commit_response::{
    TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic,
};
use kafka_protocol::messages::{
    OffsetCommitRequest, OffsetCommitResponse, OffsetDeleteRequest, OffsetDeleteResponse,
    OffsetFetchRequest, OffsetFetchResponse, TxnOffsetCommitRequest, TxnOffsetCommitResponse,
};
use kafka_protocol::ErrorCode;
use kafka_protocol::Uuid;

use super::classic::ClassicGroup;
use super::offsets::CommittedOffset;
use super::table::GroupTable;
use super::types::GroupState;
use super::{GroupConfig, TopicLookup};

/// OffsetCommit.
pub(super) fn commit(
    inner: &mut GroupTable,
    now_ms: u64,
    config: &GroupConfig,
    topics: &dyn TopicLookup,
    req: OffsetCommitRequest,
    version: i16,
) -> OffsetCommitResponse {
    // KIP-848: v10 names topics by id (a zero id is an unknown one), older versions by name.
    let by_id = version >= 10;
    // v0 commits carry no member (the fields' defaults, -1 and ""): they are "simple" commits.
    let group_error = commit_target(
        inner,
        now_ms,
        config,
        &req.group_id,
        &req.member_id,
        req.group_instance_id.as_deref(),
        req.generation_id_or_member_epoch,
    );
    // v2-v4 may set a retention time; other versions leave the field at its default, -1.
    let expire_ms = u64::try_from(req.retention_time_ms)
        .ok()
        .map(|retention| now_ms.saturating_add(retention));
    let mut response = OffsetCommitResponse::default();
    for topic in req.topics {
        let name = if by_id {
            topics.topic_name(topic.topic_id)
        } else {
            Some(topic.name.clone().into())
        };
        let mut out = OffsetCommitResponseTopic::default()
            .with_name(topic.name)
            .with_topic_id(topic.topic_id);
        for p in topic.partitions {
            let error = if let Some(e) = group_error {
                e
            } else if let Some(name) = &name {
                let metadata = p.committed_metadata.unwrap_or_default();
                if !topics.partition_exists(name, p.partition_index) {
                    ErrorCode::UnknownTopicOrPartition
                } else if metadata.len() > config.offset_metadata_max_bytes {
                    ErrorCode::OffsetMetadataTooLarge
                } else if let Some(group) = inner.groups.get_mut(req.group_id.as_str()) {
                    let offset = CommittedOffset {
                        offset: p.committed_offset,
                        leader_epoch: p.committed_leader_epoch,
                        metadata: metadata.to_string(),
                        commit_ms: now_ms,
                        expire_ms,
                    };
                    group.offsets.commit(name, p.partition_index, offset);
                    ErrorCode::None
                } else {
                    ErrorCode::CoordinatorNotAvailable
                }
            } else {
                ErrorCode::UnknownTopicId
            };
            out.partitions.push(
                OffsetCommitResponsePartition::default()
                    .with_partition_index(p.partition_index)
                    .with_error_code(error),
            );
        }
        response.topics.push(out);
    }
    response
}

/// Checks who commits to `group_id` (OffsetCommit and TxnOffsetCommit alike): a member of the
/// current generation, or anyone for a group without members when the generation is -1 (a
/// "simple" group that only stores offsets, created by its first commit). The error to answer
/// every partition with, if any.
fn commit_target(
    inner: &mut GroupTable,
    now_ms: u64,
    config: &GroupConfig,
    group_id: &str,
    member_id: &str,
    instance: Option<&str>,
    generation: i32,
) -> Option<ErrorCode> {
    if !inner.active {
        Some(ErrorCode::CoordinatorNotAvailable)
    } else if let Some(group) = inner.groups.get(group_id) {
        group
            .validate_offset_commit(member_id, instance, generation)
            .err()
    } else if generation < 0 {
        let group = ClassicGroup::new(group_id, now_ms, config.limits());
        inner.groups.insert(group_id.to_string(), group);
        None
    } else {
        // A member of a generation this coordinator never saw.
        Some(ErrorCode::IllegalGeneration)
    }
}

/// TxnOffsetCommit (KIP-98; member and generation from v3, KIP-447): the offsets are staged
/// under the producer id and become committed with the transaction's COMMIT marker. The caller
/// has checked the transaction itself with the transaction coordinator.
pub(super) fn txn_commit(
    inner: &mut GroupTable,
    now_ms: u64,
    config: &GroupConfig,
    topics: &dyn TopicLookup,
    req: TxnOffsetCommitRequest,
) -> TxnOffsetCommitResponse {
    let group_error = commit_target(
        inner,
        now_ms,
        config,
        &req.group_id,
        &req.member_id,
        req.group_instance_id.as_deref(),
        req.generation_id,
    );
    let mut response = TxnOffsetCommitResponse::default();
    for topic in req.topics {
        let mut out = TxnOffsetCommitResponseTopic::default().with_name(topic.name.clone());
        for p in topic.partitions {
            let metadata = p.committed_metadata.unwrap_or_default();
            let error = if let Some(e) = group_error {
                e
            } else if !topics.partition_exists(&topic.name, p.partition_index) {
                ErrorCode::UnknownTopicOrPartition
            } else if metadata.len() > config.offset_metadata_max_bytes {
                ErrorCode::OffsetMetadataTooLarge
            } else if let Some(group) = inner.groups.get_mut(req.group_id.as_str()) {
                let offset = CommittedOffset {
                    offset: p.committed_offset,
                    leader_epoch: p.committed_leader_epoch,
                    metadata: metadata.to_string(),
                    commit_ms: now_ms,
                    expire_ms: None,
                };
                group
                    .offsets
                    .stage(req.producer_id.0, &topic.name, p.partition_index, offset);
                ErrorCode::None
            } else {
                ErrorCode::CoordinatorNotAvailable
            };
            out.partitions.push(
                TxnOffsetCommitResponsePartition::default()
                    .with_partition_index(p.partition_index)
                    .with_error_code(error),
            );
        }
        response.topics.push(out);
    }
    response
}

/// A topic to fetch: its name if known, the id to echo (v10), and the partitions (`None`: all).
struct FetchTopic {
    name: Option<String>,
    topic_id: Uuid,
    partitions: Option<Vec<i32>>,
}

/// One partition's fetch answer.
struct FetchedPartition {
    partition: i32,
    offset: i64,
    leader_epoch: i32,
    metadata: Option<String>,
    error: ErrorCode,
}

/// What one group's fetch yields: topics with their partitions, or a group-level error.
type FetchedGroup = Result<Vec<(FetchTopic, Vec<FetchedPartition>)>, ErrorCode>;

fn fetch_group(
    inner: &GroupTable,
    topics: &dyn TopicLookup,
    group_id: &str,
    requested: Option<Vec<FetchTopic>>,
    require_stable: bool,
) -> FetchedGroup {
    if !inner.active {
        return Err(ErrorCode::CoordinatorNotAvailable);
    }
    let group = inner.groups.get(group_id);
    let requested = match requested {
        Some(t) => t,
        // Null topics: everything the group committed.
        None => group
            .map(|g| {
                g.offsets
                    .all()
                    .map(|(name, _)| FetchTopic {
                        name: Some(name.to_owned()),
                        topic_id: topics.topic_id(name).unwrap_or(Uuid::ZERO),
                        partitions: None,
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };
    let mut out = Vec::with_capacity(requested.len());
    for t in requested {
        let Some(name) = t.name.as_deref() else {
            let parts = t.partitions.clone().unwrap_or_default();
            let unknown = parts
                .into_iter()
                .map(|p| missing(p, ErrorCode::UnknownTopicId));
            let unknown = unknown.collect();
            out.push((t, unknown));
            continue;
        };
        let stored = group.and_then(|g| g.offsets.topic(name));
        let parts: Vec<FetchedPartition> = match &t.partitions {
            None => stored
                .map(|s| {
                    s.iter()
                        .map(|(p, o)| FetchedPartition {
                            partition: *p,
                            offset: o.offset,
                            leader_epoch: o.leader_epoch,
                            metadata: Some(o.metadata.clone()),
                            error: ErrorCode::None,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            Some(list) => list
                .iter()
                .map(|p| match stored.and_then(|s| s.get(p)) {
                    Some(o) => FetchedPartition {
                        partition: *p,
                        offset: o.offset,
                        leader_epoch: o.leader_epoch,
                        metadata: Some(o.metadata.clone()),
                        error: ErrorCode::None,
                    },
                    None => missing(*p, ErrorCode::None),
                })
                .collect(),
        };
        // KIP-447: a consumer that requires stable offsets (read_committed) must not start from
        // an offset an open transaction is about to replace; it retries once the transaction
        // ends.
        let parts = match group {
            Some(g) if require_stable && g.offsets.any_pending() => parts
                .into_iter()
                .map(|p| {
                    if g.offsets.has_pending(name, p.partition) {
                        missing(p.partition, ErrorCode::UnstableOffsetCommit)
                    } else {
                        p
                    }
                })
                .collect(),
            _ => parts,
        };
        out.push((t, parts));
    }
    Ok(out)
}

/// No committed offset: offset -1, empty metadata (Kafka's answer for unknown partitions).
fn missing(partition: i32, error: ErrorCode) -> FetchedPartition {
    FetchedPartition {
        partition,
        offset: -1,
        leader_epoch: -1,
        metadata: Some(String::new()),
        error,
    }
}

/// OffsetFetch.
pub(super) fn fetch(
    inner: &mut GroupTable,
    topics: &dyn TopicLookup,
    req: OffsetFetchRequest,
    version: i16,
) -> OffsetFetchResponse {
    let mut response = OffsetFetchResponse::default();
    // KIP-848: v10 names topics by id, older versions by name.
    let by_id = version >= 10;
    if version >= 8 {
        for g in req.groups {
            let requested = g.topics.map(|ts| {
                ts.into_iter()
                    .map(|t| FetchTopic {
                        name: if by_id {
                            topics.topic_name(t.topic_id)
                        } else {
                            Some(t.name.to_string())
                        },
                        topic_id: t.topic_id,
                        partitions: Some(t.partition_indexes),
                    })
                    .collect()
            });
            let mut group = OffsetFetchResponseGroup::default().with_group_id(g.group_id.clone());
            match fetch_group(inner, topics, &g.group_id, requested, req.require_stable) {
                Err(e) => group.error_code = e,
                Ok(fetched) => {
                    for (t, parts) in fetched {
                        group.topics.push(OffsetFetchResponseTopics {
                            name: t.name.unwrap_or_default().into(),
                            topic_id: t.topic_id,
                            partitions: parts
                                .into_iter()
                                .map(|p| {
                                    OffsetFetchResponsePartitions::default()
                                        .with_partition_index(p.partition)
                                        .with_committed_offset(p.offset)
                                        .with_committed_leader_epoch(p.leader_epoch)
                                        .with_metadata(p.metadata.map(Into::into))
                                        .with_error_code(p.error)
                                })
                                .collect(),
                            ..Default::default()
                        });
                    }
                }
            }
            response.groups.push(group);
        }
        return response;
    }
    // v0-1 cannot ask for "all topics" (their array is not nullable).
    let requested_names: Option<Vec<(String, Vec<i32>)>> = req.topics.map(|ts| {
        ts.into_iter()
            .map(|t| (t.name.into(), t.partition_indexes))
            .collect()
    });
    let requested = requested_names.clone().map(|ts| {
        ts.into_iter()
            .map(|(name, parts)| FetchTopic {
                name: Some(name),
                topic_id: Uuid::ZERO,
                partitions: Some(parts),
            })
            .collect()
    });
    let fetched = match fetch_group(inner, topics, &req.group_id, requested, req.require_stable) {
        Ok(f) => f,
        Err(e) if version >= 2 => {
            response.error_code = e;
            return response;
        }
        // v0-1 have no top-level error: report it on every requested partition.
        Err(e) => requested_names
            .unwrap_or_default()
            .into_iter()
            .map(|(name, parts)| {
                let t = FetchTopic {
                    name: Some(name),
                    topic_id: Uuid::ZERO,
                    partitions: None,
                };
                (t, parts.into_iter().map(|p| missing(p, e)).collect())
            })
            .collect(),
    };
    for (t, parts) in fetched {
        response.topics.push(OffsetFetchResponseTopic {
            name: t.name.unwrap_or_default().into(),
            partitions: parts
                .into_iter()
                .map(|p| {
                    OffsetFetchResponsePartition::default()
                        .with_partition_index(p.partition)
                        .with_committed_offset(p.offset)
                        .with_committed_leader_epoch(p.leader_epoch)
                        .with_metadata(p.metadata.map(Into::into))
                        .with_error_code(p.error)
                })
                .collect(),
            ..Default::default()
        });
    }
    response
}

/// OffsetDelete (KIP-496): refuses topics the group still consumes.
pub(super) fn delete(
    inner: &mut GroupTable,
    topics: &dyn TopicLookup,
    req: OffsetDeleteRequest,
    _version: i16,
) -> OffsetDeleteResponse {
    let mut response = OffsetDeleteResponse::default();
    let group_error = if req.group_id.is_empty() {
        Some(ErrorCode::InvalidGroupId)
    } else if !inner.active {
        Some(ErrorCode::CoordinatorNotAvailable)
    } else {
        match inner.groups.get(req.group_id.as_str()) {
            None => Some(ErrorCode::GroupIdNotFound),
            Some(g) if g.state() == GroupState::Dead => Some(ErrorCode::GroupIdNotFound),
            // Only consumer groups can tell which topics they use; others must be empty.
            Some(g) if g.state() != GroupState::Empty && g.protocol_type() != Some("consumer") => {
                Some(ErrorCode::NonEmptyGroup)
            }
            Some(_) => None,
        }
    };
    if let Some(e) = group_error {
        response.error_code = e;
        return response;
    }
    let Some(group) = inner.groups.get_mut(req.group_id.as_str()) else {
        response.error_code = ErrorCode::GroupIdNotFound;
        return response;
    };
    // Unknown subscriptions (unparsable metadata) count as "subscribed to everything".
    let subscribed = if group.members().is_empty() {
        Some(Default::default())
    } else {
        group.subscribed_topics()
    };
    for topic in req.topics {
        let is_subscribed = match &subscribed {
            Some(s) => s.contains(topic.name.as_str()),
            None => true,
        };
        let mut out = OffsetDeleteResponseTopic::default().with_name(topic.name.clone());
        for p in topic.partitions {
            let error = if !topics.partition_exists(&topic.name, p.partition_index) {
                ErrorCode::UnknownTopicOrPartition
            } else if is_subscribed {
                ErrorCode::GroupSubscribedToTopic
            } else {
                group.offsets.delete(&topic.name, p.partition_index);
                ErrorCode::None
            };
            out.partitions.push(
                OffsetDeleteResponsePartition::default()
                    .with_partition_index(p.partition_index)
                    .with_error_code(error),
            );
        }
        response.topics.push(out);
    }
    response
}

//! Group membership with the classic protocol (KIP-62 timeouts, KIP-394 member ids): find the
//! coordinator, join, let the leader assign, sync, heartbeat on a task of its own, commit and
//! fetch offsets, leave.
//!
//! This is the seam the KIP-848 consumer protocol will sit beside: the consumer only asks a
//! member for "the current assignment, joining if needed", and for commits and committed
//! offsets; fetching never talks to the coordinator.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kafka_client::{Client, ClientError, Connection};
use kafka_protocol::consumer_protocol::{self, PROTOCOL_TYPE};
use kafka_protocol::messages::{
    consumer_protocol_assignment, join_group_request, leave_group_request, offset_commit_request,
    offset_fetch_request, sync_group_request, ConsumerProtocolAssignment,
    ConsumerProtocolSubscription, FindCoordinatorRequest, HeartbeatRequest, JoinGroupRequest,
    LeaveGroupRequest, OffsetCommitRequest, OffsetFetchRequest, SyncGroupRequest,
};
use kafka_protocol::{ApiKey, ErrorCode, GroupId, StrBytes, TopicName};
use tokio::task::JoinHandle;
use tracing::debug;

use crate::assignor::{MemberSubscription, PartitionAssignor};
use crate::error::{ConsumerError, Result};

/// Settings of a group member.
#[derive(Debug, Clone)]
pub(crate) struct MemberSettings {
    pub(crate) group_id: GroupId,
    pub(crate) session_timeout: Duration,
    pub(crate) rebalance_timeout: Duration,
    pub(crate) heartbeat_interval: Duration,
    pub(crate) instance_id: Option<StrBytes>,
    pub(crate) assignors: Vec<Arc<dyn PartitionAssignor>>,
}

/// One consumer's membership in its group.
#[derive(Debug)]
pub(crate) struct GroupMember {
    client: Client,
    settings: MemberSettings,
    coordinator: Option<Arc<Connection>>,
    member_id: StrBytes,
    generation: i32,
    /// Set by the heartbeat task when the coordinator asks members to rejoin.
    rejoin: Arc<AtomicBool>,
    heartbeat: Option<JoinHandle<()>>,
}

fn broker_error(code: ErrorCode) -> ConsumerError {
    ConsumerError::Client(ClientError::Broker(code))
}

impl GroupMember {
    pub(crate) fn new(client: Client, settings: MemberSettings) -> Self {
        GroupMember {
            client,
            settings,
            coordinator: None,
            member_id: StrBytes::new(),
            generation: -1,
            rejoin: Arc::new(AtomicBool::new(true)),
            heartbeat: None,
        }
    }

    /// Whether the member must (re)join before its assignment can be trusted.
    pub(crate) fn needs_join(&self) -> bool {
        self.rejoin.load(Ordering::Acquire)
    }

    /// The generation the member belongs to (-1 outside one).
    pub(crate) fn generation(&self) -> i32 {
        self.generation
    }

    async fn coordinator(&mut self) -> Result<Arc<Connection>> {
        if let Some(c) = self.coordinator.as_ref().filter(|c| !c.is_closed()) {
            return Ok(Arc::clone(c));
        }
        let conn = self.client.any_connection().await?;
        let version = conn.version_for(ApiKey::FindCoordinator)?;
        let mut request = FindCoordinatorRequest::default().with_key_type(0);
        request = if version >= 4 {
            request.with_coordinator_keys(vec![self.settings.group_id.as_str().into()])
        } else {
            request.with_key(self.settings.group_id.as_str())
        };
        let response = conn.send(&request).await?;
        let (code, node) = match response.coordinators.first() {
            Some(c) if version >= 4 => (c.error_code, c.node_id),
            _ => (response.error_code, response.node_id),
        };
        code.into_result().map_err(broker_error)?;
        self.client.refresh_metadata(&[], false).await?;
        let conn = self.client.broker(node).await?;
        self.coordinator = Some(Arc::clone(&conn));
        Ok(conn)
    }

    /// Joins (or rejoins) the group subscribed to `topics` and returns this member's
    /// partitions. Retries the coordinator's transient answers, bounded.
    pub(crate) async fn join(
        &mut self,
        topics: &BTreeSet<TopicName>,
    ) -> Result<Vec<(TopicName, i32)>> {
        if let Some(h) = self.heartbeat.take() {
            h.abort();
        }
        let subscription =
            ConsumerProtocolSubscription::default().with_topics(topics.iter().cloned().collect());
        let metadata = consumer_protocol::encode_subscription(&subscription, 0)
            .map_err(|e| ConsumerError::Client(ClientError::Encode(e)))?;
        let mut last = ErrorCode::None;
        for _attempt in 0..20 {
            let conn = self.coordinator().await?;
            let request = JoinGroupRequest::default()
                .with_group_id(self.settings.group_id.clone())
                .with_session_timeout_ms(millis(self.settings.session_timeout))
                .with_rebalance_timeout_ms(millis(self.settings.rebalance_timeout))
                .with_member_id(self.member_id.clone())
                .with_group_instance_id(self.instance_id_at(&conn, ApiKey::JoinGroup, 5))
                .with_protocol_type(PROTOCOL_TYPE)
                .with_protocols(
                    self.settings
                        .assignors
                        .iter()
                        .map(|a| {
                            join_group_request::JoinGroupRequestProtocol::default()
                                .with_name(a.name())
                                .with_metadata(metadata.clone())
                        })
                        .collect(),
                );
            let joined = match conn.send(&request).await {
                Ok(r) => r,
                Err(e) if e.is_retriable() => {
                    self.coordinator = None;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            match joined.error_code {
                ErrorCode::None => {}
                // KIP-394: the first join hands out the member id to join with.
                ErrorCode::MemberIdRequired => {
                    self.member_id = joined.member_id.clone();
                    continue;
                }
                ErrorCode::UnknownMemberId | ErrorCode::IllegalGeneration => {
                    self.member_id = StrBytes::new();
                    continue;
                }
                ErrorCode::NotCoordinator | ErrorCode::CoordinatorNotAvailable => {
                    self.coordinator = None;
                    last = joined.error_code;
                    continue;
                }
                ErrorCode::RebalanceInProgress | ErrorCode::CoordinatorLoadInProgress => {
                    last = joined.error_code;
                    continue;
                }
                code => return Err(broker_error(code)),
            }
            self.member_id = joined.member_id.clone();
            self.generation = joined.generation_id;
            let protocol = joined.protocol_name.clone().unwrap_or_default();
            let assignments = if joined.leader == joined.member_id {
                self.lead(&protocol, &joined.members).await?
            } else {
                Vec::new()
            };
            let sync_version = conn.version_for(ApiKey::SyncGroup)?;
            let mut sync = SyncGroupRequest::default()
                .with_group_id(self.settings.group_id.clone())
                .with_generation_id(self.generation)
                .with_member_id(self.member_id.clone())
                .with_group_instance_id(self.instance_id_at(&conn, ApiKey::SyncGroup, 3))
                .with_assignments(assignments);
            if sync_version >= 5 {
                sync = sync
                    .with_protocol_type(Some(PROTOCOL_TYPE.into()))
                    .with_protocol_name(Some(protocol.clone()));
            }
            let synced = match conn.send(&sync).await {
                Ok(r) => r,
                Err(e) if e.is_retriable() => {
                    self.coordinator = None;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            match synced.error_code {
                ErrorCode::None => {}
                ErrorCode::RebalanceInProgress => {
                    last = synced.error_code;
                    continue;
                }
                ErrorCode::UnknownMemberId | ErrorCode::IllegalGeneration => {
                    self.member_id = StrBytes::new();
                    continue;
                }
                ErrorCode::NotCoordinator | ErrorCode::CoordinatorNotAvailable => {
                    self.coordinator = None;
                    continue;
                }
                code => return Err(broker_error(code)),
            }
            let partitions = if synced.assignment.is_empty() {
                Vec::new()
            } else {
                let (_, assignment) = consumer_protocol::decode_assignment(&synced.assignment)
                    .map_err(|e| ConsumerError::Client(ClientError::Decode(e)))?;
                assignment
                    .assigned_partitions
                    .into_iter()
                    .flat_map(|t| {
                        let topic = t.topic;
                        t.partitions.into_iter().map(move |p| (topic.clone(), p))
                    })
                    .collect()
            };
            self.rejoin.store(false, Ordering::Release);
            self.start_heartbeat(conn);
            debug!(group = %self.settings.group_id, generation = self.generation, partitions = partitions.len(), "joined");
            return Ok(partitions);
        }
        Err(broker_error(if last == ErrorCode::None {
            ErrorCode::RebalanceInProgress
        } else {
            last
        }))
    }

    /// As the leader: assigns the members' subscribed topics with the chosen assignor.
    async fn lead(
        &mut self,
        protocol: &str,
        members: &[kafka_protocol::messages::join_group_response::JoinGroupResponseMember],
    ) -> Result<Vec<sync_group_request::SyncGroupRequestAssignment>> {
        let subscriptions: Vec<MemberSubscription> = members
            .iter()
            .map(|m| MemberSubscription {
                member_id: m.member_id.to_string(),
                instance_id: m.group_instance_id.as_ref().map(|i| i.to_string()),
                topics: consumer_protocol::subscribed_topics(&m.metadata)
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
            })
            .collect();
        let topics: BTreeSet<TopicName> = subscriptions
            .iter()
            .flat_map(|m| m.topics.iter().cloned())
            .collect();
        let wanted: Vec<TopicName> = topics.iter().cloned().collect();
        self.client.refresh_metadata(&wanted, false).await?;
        let counts: BTreeMap<TopicName, i32> = {
            let md = self.client.metadata();
            topics
                .iter()
                .filter_map(|t| md.topic(t).map(|i| (t.clone(), i.partitions.len() as i32)))
                .collect()
        };
        let assignor = self
            .settings
            .assignors
            .iter()
            .find(|a| a.name() == protocol)
            .ok_or(broker_error(ErrorCode::InconsistentGroupProtocol))?;
        let plan = assignor.assign(&subscriptions, &counts);
        plan.into_iter()
            .map(|(member, by_topic)| {
                let assignment = ConsumerProtocolAssignment::default().with_assigned_partitions(
                    by_topic
                        .into_iter()
                        .map(|(t, ps)| {
                            consumer_protocol_assignment::TopicPartition::default()
                                .with_topic(t)
                                .with_partitions(ps)
                        })
                        .collect(),
                );
                let bytes = consumer_protocol::encode_assignment(&assignment, 0)
                    .map_err(|e| ConsumerError::Client(ClientError::Encode(e)))?;
                Ok(sync_group_request::SyncGroupRequestAssignment::default()
                    .with_member_id(member)
                    .with_assignment(bytes))
            })
            .collect()
    }

    fn start_heartbeat(&mut self, conn: Arc<Connection>) {
        let request = HeartbeatRequest::default()
            .with_group_id(self.settings.group_id.clone())
            .with_generation_id(self.generation)
            .with_member_id(self.member_id.clone())
            .with_group_instance_id(self.instance_id_at(&conn, ApiKey::Heartbeat, 3));
        let rejoin = Arc::clone(&self.rejoin);
        let interval = self.settings.heartbeat_interval;
        self.heartbeat = Some(tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                match conn.send(&request).await {
                    Ok(r) if r.error_code == ErrorCode::None => {}
                    Ok(r) => {
                        debug!(code = ?r.error_code, "heartbeat: rejoin needed");
                        rejoin.store(true, Ordering::Release);
                        return;
                    }
                    Err(e) => {
                        debug!(error = %e, "heartbeat failed: rejoin needed");
                        rejoin.store(true, Ordering::Release);
                        return;
                    }
                }
            }
        }));
    }

    /// The static instance id, if set and `api` at the negotiated version has the field (it
    /// arrived at `since`).
    fn instance_id_at(&self, conn: &Connection, api: ApiKey, since: i16) -> Option<StrBytes> {
        let supported = conn.version_for(api).is_ok_and(|v| v >= since);
        self.settings.instance_id.clone().filter(|_| supported)
    }

    /// Commits `offsets` (the next offsets to read) for the current generation.
    pub(crate) async fn commit(&mut self, offsets: &[(TopicName, i32, i64)]) -> Result<()> {
        if self.needs_join() {
            // A commit with a stale generation would be refused, or worse, accepted late.
            return Err(broker_error(ErrorCode::RebalanceInProgress));
        }
        let conn = self.coordinator().await?;
        let mut topics: Vec<offset_commit_request::OffsetCommitRequestTopic> = Vec::new();
        {
            let md = self.client.metadata();
            for (topic, partition, offset) in offsets {
                let p = offset_commit_request::OffsetCommitRequestPartition::default()
                    .with_partition_index(*partition)
                    .with_committed_offset(*offset)
                    .with_committed_metadata(Some(StrBytes::new()));
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
            .with_group_instance_id(self.instance_id_at(&conn, ApiKey::OffsetCommit, 7))
            .with_topics(topics);
        let response = conn.send(&request).await?;
        for t in &response.topics {
            for p in &t.partitions {
                if p.error_code.is_error() {
                    if matches!(
                        p.error_code,
                        ErrorCode::RebalanceInProgress
                            | ErrorCode::IllegalGeneration
                            | ErrorCode::UnknownMemberId
                    ) {
                        self.rejoin.store(true, Ordering::Release);
                    }
                    return Err(broker_error(p.error_code));
                }
            }
        }
        Ok(())
    }

    /// The group's committed offsets for `partitions` (absent: none committed).
    pub(crate) async fn committed(
        &mut self,
        partitions: &[(TopicName, i32)],
    ) -> Result<BTreeMap<(TopicName, i32), i64>> {
        let conn = self.coordinator().await?;
        let version = conn.version_for(ApiKey::OffsetFetch)?;
        let mut by_topic: BTreeMap<TopicName, Vec<i32>> = BTreeMap::new();
        for (t, p) in partitions {
            by_topic.entry(t.clone()).or_default().push(*p);
        }
        let mut out = BTreeMap::new();
        if version >= 8 {
            let md_ids: BTreeMap<TopicName, kafka_protocol::Uuid> = {
                let md = self.client.metadata();
                by_topic
                    .keys()
                    .map(|t| (t.clone(), md.topic(t).map(|i| i.id).unwrap_or_default()))
                    .collect()
            };
            let request = OffsetFetchRequest::default().with_groups(vec![
                offset_fetch_request::OffsetFetchRequestGroup::default()
                    .with_group_id(self.settings.group_id.clone())
                    .with_topics(Some(
                        by_topic
                            .iter()
                            .map(|(t, ps)| {
                                offset_fetch_request::OffsetFetchRequestTopics::default()
                                    .with_name(t.clone())
                                    .with_topic_id(md_ids.get(t).copied().unwrap_or_default())
                                    .with_partition_indexes(ps.clone())
                            })
                            .collect(),
                    )),
            ]);
            let response = conn.send(&request).await?;
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
                        if p.committed_offset >= 0 {
                            out.insert((name.clone(), p.partition_index), p.committed_offset);
                        }
                    }
                }
            }
        } else {
            let request = OffsetFetchRequest::default()
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
            for t in &response.topics {
                for p in &t.partitions {
                    if p.committed_offset >= 0 {
                        out.insert((t.name.clone(), p.partition_index), p.committed_offset);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Leaves the group (best effort, bounded by the request timeout).
    pub(crate) async fn leave(&mut self) {
        if let Some(h) = self.heartbeat.take() {
            h.abort();
        }
        if self.member_id.is_empty() {
            return;
        }
        let Ok(conn) = self.coordinator().await else {
            return;
        };
        let version = conn.version_for(ApiKey::LeaveGroup).unwrap_or(0);
        let request = if version >= 3 {
            LeaveGroupRequest::default()
                .with_group_id(self.settings.group_id.clone())
                .with_members(vec![leave_group_request::MemberIdentity::default()
                    .with_member_id(self.member_id.clone())
                    .with_group_instance_id(self.settings.instance_id.clone())])
        } else {
            LeaveGroupRequest::default()
                .with_group_id(self.settings.group_id.clone())
                .with_member_id(self.member_id.clone())
        };
        if let Err(e) = conn.send(&request).await {
            debug!(error = %e, "LeaveGroup failed");
        }
        self.member_id = StrBytes::new();
        self.generation = -1;
        self.rejoin.store(true, Ordering::Release);
    }
}

impl Drop for GroupMember {
    fn drop(&mut self) {
        if let Some(h) = self.heartbeat.take() {
            h.abort();
        }
    }
}

fn millis(d: Duration) -> i32 {
    i32::try_from(d.as_millis()).unwrap_or(i32::MAX)
}

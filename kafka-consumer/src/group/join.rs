//! One rebalance as a member sees it: JoinGroup, the leader's assignment, SyncGroup.
//!
//! The exchange runs as a task of its own (spawned by [`super::GroupMember::start_join`]), so
//! that under the cooperative protocol the consumer goes on fetching the partitions it keeps
//! while the coordinator waits for the other members (JoinGroup can take up to the rebalance
//! timeout). It owns copies of what it needs and hands back the outcome; it never touches the
//! consumer's positions.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use kafka_client::{Client, ClientError, Connection};
use kafka_protocol::consumer_protocol::{self, PROTOCOL_TYPE};
use kafka_protocol::messages::{
    consumer_protocol_assignment, consumer_protocol_subscription, join_group_request,
    join_group_response, sync_group_request, ConsumerProtocolAssignment,
    ConsumerProtocolSubscription, JoinGroupRequest, SyncGroupRequest,
};
use kafka_protocol::{ApiKey, ErrorCode, StrBytes, TopicName};
use tracing::debug;

use super::{broker_error, find_coordinator, instance_id_at, millis, MemberSettings};
use crate::assignor::MemberSubscription;
use crate::error::{ConsumerError, Result};
use crate::record::TopicPartition;

/// What a join starts from.
#[derive(Debug)]
pub(crate) struct JoinContext {
    pub(crate) client: Client,
    pub(crate) settings: MemberSettings,
    pub(crate) member_id: StrBytes,
    pub(crate) coordinator: Option<Arc<Connection>>,
    pub(crate) topics: BTreeSet<TopicName>,
    /// Partitions kept through the rebalance (cooperative) or owned before it (eager: they
    /// were revoked already, so they go only into assignors' user data, see
    /// [`subscription_metadata`]).
    pub(crate) owned: Vec<TopicPartition>,
    pub(crate) generation: i32,
    /// The member's poll clock and state flag, for the heartbeat this join starts.
    pub(crate) clock: super::PollClock,
    pub(crate) state: Arc<std::sync::atomic::AtomicU8>,
}

/// A completed rebalance.
#[derive(Debug)]
pub(crate) struct Joined {
    pub(crate) member_id: StrBytes,
    pub(crate) generation: i32,
    pub(crate) coordinator: Arc<Connection>,
    pub(crate) partitions: Vec<TopicPartition>,
    /// Heartbeats for the new generation, already running.
    pub(crate) heartbeat: super::heartbeat::HeartbeatTask,
}

/// A failed one, with the member id to use next time.
#[derive(Debug)]
pub(crate) struct JoinFailed {
    pub(crate) member_id: StrBytes,
    pub(crate) error: ConsumerError,
}

/// How many JoinGroup/SyncGroup round trips one join may take before it reports failure.
const ATTEMPTS: usize = 20;

/// Runs one join to completion or failure.
pub(crate) async fn join_group(mut ctx: JoinContext) -> Result<Joined, JoinFailed> {
    match join_inner(&mut ctx).await {
        Ok(joined) => Ok(joined),
        Err(error) => Err(JoinFailed {
            member_id: ctx.member_id,
            error,
        }),
    }
}

async fn join_inner(ctx: &mut JoinContext) -> Result<Joined> {
    let metadata: Vec<bytes::Bytes> = ctx
        .settings
        .assignors
        .iter()
        .map(|a| subscription_metadata(ctx, a.as_ref()))
        .collect::<Result<_>>()?;
    let mut last = ErrorCode::RebalanceInProgress;
    for _attempt in 0..ATTEMPTS {
        let conn = match ctx.coordinator.clone().filter(|c| !c.is_closed()) {
            Some(c) => c,
            None => {
                let c = find_coordinator(&ctx.client, &ctx.settings.group_id).await?;
                ctx.coordinator = Some(Arc::clone(&c));
                c
            }
        };
        let request = JoinGroupRequest::default()
            .with_group_id(ctx.settings.group_id.clone())
            .with_session_timeout_ms(millis(ctx.settings.session_timeout))
            .with_rebalance_timeout_ms(millis(ctx.settings.rebalance_timeout))
            .with_member_id(ctx.member_id.clone())
            .with_group_instance_id(instance_id_at(&ctx.settings, &conn, ApiKey::JoinGroup, 5))
            .with_protocol_type(PROTOCOL_TYPE)
            .with_protocols(
                ctx.settings
                    .assignors
                    .iter()
                    .zip(&metadata)
                    .map(|(a, metadata)| {
                        join_group_request::JoinGroupRequestProtocol::default()
                            .with_name(a.name())
                            .with_metadata(metadata.clone())
                    })
                    .collect(),
            );
        let joined = match conn.send(&request).await {
            Ok(r) => r,
            Err(e) if e.is_retriable() => {
                ctx.coordinator = None;
                backoff(ctx).await;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        match joined.error_code {
            ErrorCode::None => {}
            // KIP-394: the first join hands out the member id to join with.
            ErrorCode::MemberIdRequired => {
                ctx.member_id = joined.member_id.clone();
                continue;
            }
            ErrorCode::UnknownMemberId | ErrorCode::IllegalGeneration => {
                ctx.member_id = StrBytes::new();
                continue;
            }
            ErrorCode::NotCoordinator | ErrorCode::CoordinatorNotAvailable => {
                ctx.coordinator = None;
                last = joined.error_code;
                backoff(ctx).await;
                continue;
            }
            ErrorCode::RebalanceInProgress | ErrorCode::CoordinatorLoadInProgress => {
                last = joined.error_code;
                backoff(ctx).await;
                continue;
            }
            code => return Err(broker_error(code)),
        }
        ctx.member_id = joined.member_id.clone();
        let generation = joined.generation_id;
        let protocol = joined.protocol_name.clone().unwrap_or_default();
        let assignments = if joined.leader == joined.member_id {
            lead(ctx, &protocol, &joined.members).await?
        } else {
            Vec::new()
        };
        let mut sync = SyncGroupRequest::default()
            .with_group_id(ctx.settings.group_id.clone())
            .with_generation_id(generation)
            .with_member_id(ctx.member_id.clone())
            .with_group_instance_id(instance_id_at(&ctx.settings, &conn, ApiKey::SyncGroup, 3))
            .with_assignments(assignments);
        if conn.version_for(ApiKey::SyncGroup)? >= 5 {
            sync = sync
                .with_protocol_type(Some(PROTOCOL_TYPE.into()))
                .with_protocol_name(Some(protocol.clone()));
        }
        let synced = match conn.send(&sync).await {
            Ok(r) => r,
            Err(e) if e.is_retriable() => {
                ctx.coordinator = None;
                backoff(ctx).await;
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
                ctx.member_id = StrBytes::new();
                continue;
            }
            ErrorCode::NotCoordinator | ErrorCode::CoordinatorNotAvailable => {
                ctx.coordinator = None;
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
        debug!(group = %ctx.settings.group_id, member = %ctx.member_id, generation, partitions = partitions.len(), %protocol, "joined");
        // Stable from here: heartbeat now, whether or not the application polls soon.
        ctx.state
            .store(super::STABLE, std::sync::atomic::Ordering::Release);
        let heartbeat = super::start_heartbeat(
            &ctx.settings,
            &ctx.member_id,
            generation,
            Arc::clone(&conn),
            &ctx.clock,
            &ctx.state,
        );
        return Ok(Joined {
            member_id: ctx.member_id.clone(),
            generation,
            coordinator: conn,
            partitions,
            heartbeat,
        });
    }
    Err(broker_error(last))
}

async fn backoff(ctx: &JoinContext) {
    tokio::time::sleep(ctx.client.config().retry_backoff).await;
}

/// The subscription this member joins with for `assignor` (version 3: owned partitions,
/// generation, the assignor's user data).
///
/// Owned partitions are sent only under the cooperative protocol, as Java does. An eager
/// member has revoked everything before it joins, and a cooperative-sticky leader (the group
/// picks it once every member offers it, even while some still behave eagerly during a
/// KIP-429 upgrade) holds back any partition whose listed owner loses it, waiting for that
/// owner to give it up and rejoin: an eager member never does, so the partition would stay
/// unassigned until some later rebalance.
fn subscription_metadata(
    ctx: &JoinContext,
    assignor: &dyn crate::assignor::PartitionAssignor,
) -> Result<bytes::Bytes> {
    let mut owned: BTreeMap<TopicName, Vec<i32>> = BTreeMap::new();
    if ctx.settings.protocol() == crate::assignor::RebalanceProtocol::Cooperative {
        for (t, p) in &ctx.owned {
            owned.entry(t.clone()).or_default().push(*p);
        }
    }
    let subscription = ConsumerProtocolSubscription::default()
        .with_topics(ctx.topics.iter().cloned().collect())
        .with_user_data(assignor.subscription_user_data(&ctx.owned, ctx.generation))
        .with_owned_partitions(
            owned
                .into_iter()
                .map(|(t, ps)| {
                    consumer_protocol_subscription::TopicPartition::default()
                        .with_topic(t)
                        .with_partitions(ps)
                })
                .collect(),
        )
        .with_generation_id(ctx.generation);
    consumer_protocol::encode_subscription(&subscription, 3)
        .map_err(|e| ConsumerError::Client(ClientError::Encode(e)))
}

/// As the leader: assigns the members' subscribed topics with the chosen assignor.
async fn lead(
    ctx: &JoinContext,
    protocol: &str,
    members: &[join_group_response::JoinGroupResponseMember],
) -> Result<Vec<sync_group_request::SyncGroupRequestAssignment>> {
    let subscriptions: Vec<MemberSubscription> = members.iter().map(member_subscription).collect();
    let topics: BTreeSet<TopicName> = subscriptions
        .iter()
        .flat_map(|m| m.topics.iter().cloned())
        .collect();
    let wanted: Vec<TopicName> = topics.iter().cloned().collect();
    ctx.client.refresh_metadata(&wanted, false).await?;
    let counts: BTreeMap<TopicName, i32> = {
        let md = ctx.client.metadata();
        topics
            .iter()
            .filter_map(|t| md.topic(t).map(|i| (t.clone(), i.partitions.len() as i32)))
            .collect()
    };
    let assignor = ctx
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

/// A member's subscription as the leader reads it. A subscription whose later fields do not
/// decode still counts with its topics (what every version starts with).
fn member_subscription(m: &join_group_response::JoinGroupResponseMember) -> MemberSubscription {
    let full = consumer_protocol::decode_subscription(&m.metadata).ok();
    let topics = match &full {
        Some((_, s)) => s.topics.clone(),
        None => consumer_protocol::subscribed_topics(&m.metadata).unwrap_or_default(),
    };
    let mut sub = MemberSubscription::new(m.member_id.to_string(), topics);
    sub.instance_id = m.group_instance_id.as_ref().map(|i| i.to_string());
    if let Some((_, s)) = full {
        let owned = s
            .owned_partitions
            .into_iter()
            .flat_map(|t| {
                let topic = t.topic;
                t.partitions.into_iter().map(move |p| (topic.clone(), p))
            })
            .collect();
        sub = sub
            .with_owned(owned, s.generation_id)
            .with_user_data(s.user_data);
    }
    sub
}

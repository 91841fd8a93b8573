//! Consumer groups: list, describe (members with their assignments decoded), delete; a
//! group's committed offsets (list, alter, delete, reset); removing static members.
//!
//! Every group request goes to the group's coordinator, found with FindCoordinator; ListGroups
//! goes to every broker, each answering for the groups it coordinates.

use std::collections::BTreeMap;

use kafka_protocol::consumer_protocol::{decode_assignment, decode_subscription, PROTOCOL_TYPE};
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_delete_request::{
    OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::{
    DeleteGroupsRequest, DescribeGroupsRequest, LeaveGroupRequest, ListGroupsRequest,
    OffsetCommitRequest, OffsetDeleteRequest, OffsetFetchRequest,
};
use kafka_protocol::{ApiKey, ErrorCode, GroupId, TopicName};

use crate::error::{AdminError, Result};
use crate::offsets::OffsetSpec;
use crate::router::{self, ItemResults};
use crate::{AdminClient, TopicPartition};

/// A group in [`AdminClient::list_groups`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GroupListing {
    /// The group id.
    pub group_id: String,
    /// `consumer` for Kafka consumers; empty for groups that only store offsets.
    pub protocol_type: String,
    /// Its state (ListGroups v4+): Empty, Stable, PreparingRebalance, ...
    pub state: Option<String>,
    /// Its type (ListGroups v5+, KIP-848): classic, consumer, share.
    pub group_type: Option<String>,
}

/// A group in [`AdminClient::describe_groups`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GroupDescription {
    /// The group id.
    pub group_id: String,
    /// Empty, Stable, PreparingRebalance, CompletingRebalance or Dead.
    pub state: String,
    /// The protocol type, `consumer` for Kafka consumers.
    pub protocol_type: String,
    /// The chosen protocol: for consumers, the assignor (range, cooperative-sticky, ...).
    pub protocol: String,
    /// The members.
    pub members: Vec<MemberDescription>,
    /// The coordinator's broker id.
    pub coordinator: i32,
}

/// One member of a [`GroupDescription`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemberDescription {
    /// The member id the coordinator gave it.
    pub member_id: String,
    /// Its `group.instance.id`, for static members (KIP-345).
    pub group_instance_id: Option<String>,
    /// Its `client.id`.
    pub client_id: String,
    /// Where it connects from.
    pub host: String,
    /// Its partitions, decoded from the consumer protocol's assignment.
    pub assignment: Vec<TopicPartition>,
    /// The topics it subscribes to, decoded from its metadata.
    pub subscription: Vec<String>,
}

/// A committed offset.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommittedOffset {
    /// The next offset the group will read.
    pub offset: i64,
    /// The leader epoch of the record before it (KIP-320), if known.
    pub leader_epoch: Option<i32>,
    /// Text stored with the commit.
    pub metadata: String,
}

impl CommittedOffset {
    /// An offset with no epoch or metadata.
    pub fn new(offset: i64) -> CommittedOffset {
        CommittedOffset {
            offset,
            leader_epoch: None,
            metadata: String::new(),
        }
    }
}

/// Where [`AdminClient::reset_group_offsets`] moves a group.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OffsetSpecForReset {
    /// Each partition's log start.
    Earliest,
    /// Each partition's end.
    Latest,
    /// The first offset with a timestamp at or after this many ms since the epoch (the end
    /// where there is none).
    Timestamp(i64),
    /// These offsets.
    Offsets(BTreeMap<TopicPartition, i64>),
}

/// The highest OffsetFetch and OffsetCommit version that names topics: v10 (KIP-848) names
/// them by topic id only, and an admin that names partitions by topic need not look ids up.
const NAMED_TOPICS_MAX: i16 = 9;

impl AdminClient {
    /// Lists groups on every broker, optionally only those in `states` (Empty, Stable, ...)
    /// and of `types` (classic, consumer); empty slices mean all.
    pub async fn list_groups(&self, states: &[&str], types: &[&str]) -> Result<Vec<GroupListing>> {
        let call = self.call("list_groups");
        let brokers = router::retry(&self.client, &call, || async {
            self.client.refresh_metadata(&[], false).await?;
            Ok(self
                .client
                .metadata()
                .brokers()
                .map(|(id, _)| id)
                .collect::<Vec<_>>())
        })
        .await?;
        let mut groups = BTreeMap::new();
        for id in brokers {
            let listed = router::retry(&self.client, &call, || async {
                let conn = router::broker(&self.client, id).await?;
                let version = conn.version_for(ApiKey::ListGroups)?;
                let request = ListGroupsRequest::default()
                    .with_states_filter(if version >= 4 {
                        states.iter().map(|s| (*s).into()).collect()
                    } else {
                        Vec::new()
                    })
                    .with_types_filter(if version >= 5 {
                        types.iter().map(|s| (*s).into()).collect()
                    } else {
                        Vec::new()
                    });
                let response = conn.send(&request).await?;
                if let Some(e) = AdminError::from_code(response.error_code, None) {
                    return Err(e);
                }
                Ok(response
                    .groups
                    .into_iter()
                    .map(|g| GroupListing {
                        group_id: g.group_id.to_string(),
                        protocol_type: g.protocol_type.to_string(),
                        state: (version >= 4).then(|| g.group_state.to_string()),
                        group_type: (version >= 5).then(|| g.group_type.to_string()),
                    })
                    .collect::<Vec<_>>())
            })
            .await?;
            for g in listed {
                groups.insert(g.group_id.clone(), g);
            }
        }
        // Filter here too, for brokers too old to filter.
        let matches = |want: &[&str], have: &Option<String>| {
            want.is_empty()
                || have
                    .as_deref()
                    .is_some_and(|h| want.iter().any(|w| w.eq_ignore_ascii_case(h)))
        };
        Ok(groups
            .into_values()
            .filter(|g| matches(states, &g.state) && matches(types, &g.group_type))
            .collect())
    }

    /// Describes groups, each at its coordinator.
    pub async fn describe_groups(
        &self,
        group_ids: &[String],
    ) -> Result<ItemResults<String, GroupDescription>> {
        let call = self.call("describe_groups");
        router::retry_items(
            &self.client,
            &call,
            group_ids.to_vec(),
            |groups| async move {
                let mut out = Vec::new();
                for group in groups {
                    let result = self.describe_one(&group).await;
                    out.push((group, result));
                }
                Ok(out)
            },
        )
        .await
    }

    async fn describe_one(&self, group: &str) -> Result<GroupDescription> {
        let coordinator = self.client.find_coordinator(group, 0).await?;
        let conn = self.client.coordinator(coordinator).await?;
        let request = DescribeGroupsRequest::default().with_groups(vec![GroupId::from(group)]);
        let response = conn.send(&request).await?;
        let g = response
            .groups
            .into_iter()
            .find(|g| g.group_id.as_str() == group)
            .ok_or_else(|| AdminError::MissingResult(group.to_string()))?;
        if let Some(e) = AdminError::from_code(g.error_code, g.error_message.as_deref()) {
            return Err(e);
        }
        let consumer = g.protocol_type.as_str() == PROTOCOL_TYPE;
        let members = g
            .members
            .into_iter()
            .map(|m| {
                let (assignment, subscription) = if consumer {
                    let assignment = decode_assignment(&m.member_assignment)
                        .map(|(_, a)| {
                            a.assigned_partitions
                                .into_iter()
                                .flat_map(|t| {
                                    t.partitions.into_iter().map(move |p| (t.topic.clone(), p))
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    let subscription = decode_subscription(&m.member_metadata)
                        .map(|(_, s)| s.topics.into_iter().map(|t| t.to_string()).collect())
                        .unwrap_or_default();
                    (assignment, subscription)
                } else {
                    (Vec::new(), Vec::new())
                };
                MemberDescription {
                    member_id: m.member_id.to_string(),
                    group_instance_id: m.group_instance_id.map(|s| s.to_string()),
                    client_id: m.client_id.to_string(),
                    host: m.client_host.to_string(),
                    assignment,
                    subscription,
                }
            })
            .collect();
        Ok(GroupDescription {
            group_id: g.group_id.to_string(),
            state: g.group_state.to_string(),
            protocol_type: g.protocol_type.to_string(),
            protocol: g.protocol_data.to_string(),
            members,
            coordinator: coordinator.0,
        })
    }

    /// Deletes groups (they must be empty), each at its coordinator.
    pub async fn delete_groups(&self, group_ids: &[String]) -> Result<ItemResults<String, ()>> {
        let call = self.call("delete_groups");
        router::retry_items(
            &self.client,
            &call,
            group_ids.to_vec(),
            |groups| async move {
                let mut out = Vec::new();
                for group in groups {
                    let result = async {
                        let conn = router::group_coordinator(&self.client, &group).await?;
                        let request = DeleteGroupsRequest::default()
                            .with_groups_names(vec![GroupId::from(group.as_str())]);
                        let response = conn.send(&request).await?;
                        let r = response
                            .results
                            .into_iter()
                            .find(|r| r.group_id.as_str() == group)
                            .ok_or_else(|| AdminError::MissingResult(group.clone()))?;
                        AdminError::check(r.error_code, r.error_message.as_deref())
                    }
                    .await;
                    out.push((group, result));
                }
                Ok(out)
            },
        )
        .await
    }

    /// A group's committed offsets: of `partitions`, or of every partition it has committed.
    /// Partitions without a commit are left out.
    pub async fn list_group_offsets(
        &self,
        group: &str,
        partitions: Option<&[TopicPartition]>,
    ) -> Result<BTreeMap<TopicPartition, CommittedOffset>> {
        let call = self.call("list_group_offsets");
        router::retry(&self.client, &call, || {
            self.fetch_offsets(group, partitions)
        })
        .await
    }

    async fn fetch_offsets(
        &self,
        group: &str,
        partitions: Option<&[TopicPartition]>,
    ) -> Result<BTreeMap<TopicPartition, CommittedOffset>> {
        let conn = router::group_coordinator(&self.client, group).await?;
        let version = conn.version_for(ApiKey::OffsetFetch)?.min(NAMED_TOPICS_MAX);
        let by_topic = partitions.map(|ps| {
            let mut m: BTreeMap<TopicName, Vec<i32>> = BTreeMap::new();
            for (t, p) in ps {
                m.entry(t.clone()).or_default().push(*p);
            }
            m
        });
        let mut committed = BTreeMap::new();
        let mut keep = |topic: &TopicName,
                        partition: i32,
                        offset: i64,
                        epoch: i32,
                        metadata: Option<&str>,
                        code: ErrorCode|
         -> Result<()> {
            if let Some(e) = AdminError::from_code(code, None) {
                return Err(e);
            }
            if offset >= 0 {
                committed.insert(
                    (topic.clone(), partition),
                    CommittedOffset {
                        offset,
                        leader_epoch: (epoch >= 0).then_some(epoch),
                        metadata: metadata.unwrap_or_default().to_string(),
                    },
                );
            }
            Ok(())
        };
        if version >= 8 {
            // v8+ (KIP-709) asks for groups in a list; v10 may name topics by id.
            let topics = by_topic.map(|m| {
                m.into_iter()
                    .map(|(t, ps)| {
                        OffsetFetchRequestTopics::default()
                            .with_name(t)
                            .with_partition_indexes(ps)
                    })
                    .collect()
            });
            let request =
                OffsetFetchRequest::default().with_groups(vec![OffsetFetchRequestGroup::default()
                    .with_group_id(group)
                    .with_member_id(None)
                    .with_member_epoch(-1)
                    .with_topics(topics)]);
            let response = conn.send_at(&request, version).await?;
            for g in response.groups {
                if let Some(e) = AdminError::from_code(g.error_code, None) {
                    return Err(e);
                }
                for t in g.topics {
                    for p in t.partitions {
                        keep(
                            &t.name,
                            p.partition_index,
                            p.committed_offset,
                            p.committed_leader_epoch,
                            p.metadata.as_deref(),
                            p.error_code,
                        )?;
                    }
                }
            }
        } else {
            let topics = by_topic.map(|m| {
                m.into_iter()
                    .map(|(t, ps)| {
                        OffsetFetchRequestTopic::default()
                            .with_name(t)
                            .with_partition_indexes(ps)
                    })
                    .collect()
            });
            let request = OffsetFetchRequest::default()
                .with_group_id(group)
                .with_topics(topics);
            let response = conn.send_at(&request, version).await?;
            if let Some(e) = AdminError::from_code(response.error_code, None) {
                return Err(e);
            }
            for t in response.topics {
                for p in t.partitions {
                    keep(
                        &t.name,
                        p.partition_index,
                        p.committed_offset,
                        p.committed_leader_epoch,
                        p.metadata.as_deref(),
                        p.error_code,
                    )?;
                }
            }
        }
        Ok(committed)
    }

    /// Commits offsets for a group from outside it (generation -1). The coordinator refuses
    /// while the group has members (UNKNOWN_MEMBER_ID), as in Kafka.
    pub async fn alter_group_offsets(
        &self,
        group: &str,
        offsets: BTreeMap<TopicPartition, CommittedOffset>,
    ) -> Result<ItemResults<TopicPartition, ()>> {
        let call = self.call("alter_group_offsets");
        let offsets = &offsets;
        router::retry_items(
            &self.client,
            &call,
            offsets.keys().cloned().collect(),
            |tps| async move {
                let conn = router::group_coordinator(&self.client, group).await?;
                let version = conn
                    .version_for(ApiKey::OffsetCommit)?
                    .min(NAMED_TOPICS_MAX);
                let mut topics: BTreeMap<TopicName, Vec<OffsetCommitRequestPartition>> =
                    BTreeMap::new();
                for tp in &tps {
                    let Some(o) = offsets.get(tp) else { continue };
                    topics.entry(tp.0.clone()).or_default().push(
                        OffsetCommitRequestPartition::default()
                            .with_partition_index(tp.1)
                            .with_committed_offset(o.offset)
                            .with_committed_leader_epoch(o.leader_epoch.unwrap_or(-1))
                            .with_committed_metadata(Some(o.metadata.as_str().into())),
                    );
                }
                let request = OffsetCommitRequest::default()
                    .with_group_id(group)
                    .with_generation_id_or_member_epoch(-1)
                    .with_member_id("")
                    .with_topics(
                        topics
                            .into_iter()
                            .map(|(t, ps)| {
                                OffsetCommitRequestTopic::default()
                                    .with_name(t)
                                    .with_partitions(ps)
                            })
                            .collect(),
                    );
                let response = conn.send_at(&request, version).await?;
                Ok(response
                    .topics
                    .into_iter()
                    .flat_map(|t| {
                        t.partitions.into_iter().map(move |p| {
                            let result = AdminError::check(p.error_code, None);
                            ((t.name.clone(), p.partition_index), result)
                        })
                    })
                    .collect())
            },
        )
        .await
    }

    /// Deletes a group's committed offsets (OffsetDelete, KIP-496); refused per partition
    /// (GROUP_SUBSCRIBED_TO_TOPIC) for topics the group's members still subscribe to.
    pub async fn delete_group_offsets(
        &self,
        group: &str,
        partitions: &[TopicPartition],
    ) -> Result<ItemResults<TopicPartition, ()>> {
        let call = self.call("delete_group_offsets");
        router::retry_items(&self.client, &call, partitions.to_vec(), |tps| async move {
            let conn = router::group_coordinator(&self.client, group).await?;
            let mut topics: BTreeMap<TopicName, Vec<OffsetDeleteRequestPartition>> =
                BTreeMap::new();
            for (t, p) in &tps {
                topics
                    .entry(t.clone())
                    .or_default()
                    .push(OffsetDeleteRequestPartition::default().with_partition_index(*p));
            }
            let request = OffsetDeleteRequest::default()
                .with_group_id(group)
                .with_topics(
                    topics
                        .into_iter()
                        .map(|(t, ps)| {
                            OffsetDeleteRequestTopic::default()
                                .with_name(t)
                                .with_partitions(ps)
                        })
                        .collect(),
                );
            let response = conn.send(&request).await?;
            if let Some(e) = AdminError::from_code(response.error_code, None) {
                return Err(e);
            }
            Ok(response
                .topics
                .into_iter()
                .flat_map(|t| {
                    t.partitions.into_iter().map(move |p| {
                        let result = AdminError::check(p.error_code, None);
                        ((t.name.clone(), p.partition_index), result)
                    })
                })
                .collect())
        })
        .await
    }

    /// Moves an empty group's offsets to `to`, for `partitions` or, when `None`, every
    /// partition it has committed (Kafka's tool's `--all-topics`); returns the new offsets.
    /// Refused with [`AdminError::GroupNotEmpty`] while the group has members, as
    /// `kafka-consumer-groups.sh --reset-offsets` refuses. On a
    /// [`validate_only`](AdminClient::validate_only) handle it only computes them (a dry run).
    pub async fn reset_group_offsets(
        &self,
        group: &str,
        to: OffsetSpecForReset,
        partitions: Option<Vec<TopicPartition>>,
    ) -> Result<BTreeMap<TopicPartition, i64>> {
        let described = self.describe_groups(&[group.to_string()]).await?;
        match described.into_values().next() {
            Some(Ok(g)) if !g.members.is_empty() => {
                return Err(AdminError::GroupNotEmpty {
                    group: group.to_string(),
                    state: g.state,
                    members: g.members.len(),
                })
            }
            Some(Ok(_)) => {}
            // A group that never existed (Kafka 4 says GROUP_ID_NOT_FOUND) can have offsets set.
            Some(Err(e)) if e.code() == Some(ErrorCode::GroupIdNotFound) => {}
            Some(Err(e)) => return Err(e),
            None => return Err(AdminError::MissingResult(group.to_string())),
        }
        let partitions: Vec<TopicPartition> = match (partitions, &to) {
            (Some(p), _) => p,
            (None, OffsetSpecForReset::Offsets(o)) => o.keys().cloned().collect(),
            (None, _) => self
                .list_group_offsets(group, None)
                .await?
                .into_keys()
                .collect(),
        };
        let spec = match &to {
            OffsetSpecForReset::Earliest => Some(OffsetSpec::Earliest),
            OffsetSpecForReset::Latest => Some(OffsetSpec::Latest),
            OffsetSpecForReset::Timestamp(ts) => Some(OffsetSpec::Timestamp(*ts)),
            OffsetSpecForReset::Offsets(_) => None,
        };
        let targets: BTreeMap<TopicPartition, i64> = match (spec, &to) {
            (Some(spec), _) => {
                let wanted = partitions.iter().map(|tp| (tp.clone(), spec)).collect();
                let mut out = BTreeMap::new();
                let mut latest_needed = Vec::new();
                for (tp, r) in self.list_offsets(wanted).await? {
                    let listed = r?;
                    // No record at or after the timestamp: the end, as Kafka's tool does.
                    if listed.offset < 0 {
                        latest_needed.push(tp);
                    } else {
                        out.insert(tp, listed.offset);
                    }
                }
                if !latest_needed.is_empty() {
                    let wanted = latest_needed
                        .into_iter()
                        .map(|tp| (tp, OffsetSpec::Latest))
                        .collect();
                    for (tp, r) in self.list_offsets(wanted).await? {
                        out.insert(tp, r?.offset);
                    }
                }
                out
            }
            (None, OffsetSpecForReset::Offsets(o)) => partitions
                .iter()
                .filter_map(|tp| o.get(tp).map(|off| (tp.clone(), *off)))
                .collect(),
            (None, _) => BTreeMap::new(),
        };
        if self.validate_only {
            return Ok(targets);
        }
        let commits = targets
            .iter()
            .map(|(tp, o)| (tp.clone(), CommittedOffset::new(*o)))
            .collect();
        for (tp, r) in self.alter_group_offsets(group, commits).await? {
            if let Err(e) = r {
                return Err(match e.code() {
                    // Someone joined between the check and the commit.
                    Some(ErrorCode::UnknownMemberId) => AdminError::GroupNotEmpty {
                        group: group.to_string(),
                        state: "not empty".into(),
                        members: 1,
                    },
                    _ => AdminError::InvalidArgument(format!("{}-{}: {e}", tp.0, tp.1)),
                });
            }
        }
        Ok(targets)
    }

    /// Removes static members (KIP-345) by `group.instance.id`, or, with `None`, every member
    /// (LeaveGroup v3+ from outside the group). Results by instance id (member id for members
    /// without one).
    pub async fn remove_members(
        &self,
        group: &str,
        instance_ids: Option<&[String]>,
    ) -> Result<ItemResults<String, ()>> {
        let call = self.call("remove_members");
        let members: Vec<MemberIdentity> = match instance_ids {
            Some(ids) => ids
                .iter()
                .map(|id| {
                    MemberIdentity::default()
                        .with_member_id("")
                        .with_group_instance_id(Some(id.as_str().into()))
                        .with_reason(Some("removed by the admin client".into()))
                })
                .collect(),
            None => {
                let described = self.describe_groups(&[group.to_string()]).await?;
                let g = described
                    .into_values()
                    .next()
                    .ok_or_else(|| AdminError::MissingResult(group.to_string()))??;
                g.members
                    .into_iter()
                    .map(|m| match m.group_instance_id {
                        Some(id) => MemberIdentity::default()
                            .with_member_id("")
                            .with_group_instance_id(Some(id.into())),
                        None => MemberIdentity::default()
                            .with_member_id(m.member_id)
                            .with_group_instance_id(None),
                    })
                    .collect()
            }
        };
        let key = |m: &MemberIdentity| {
            m.group_instance_id
                .as_ref()
                .map_or_else(|| m.member_id.to_string(), |s| s.to_string())
        };
        let by_key: BTreeMap<String, MemberIdentity> =
            members.into_iter().map(|m| (key(&m), m)).collect();
        let by_key = &by_key;
        router::retry_items(
            &self.client,
            &call,
            by_key.keys().cloned().collect(),
            |keys| async move {
                let conn = router::group_coordinator(&self.client, group).await?;
                if conn.version_for(ApiKey::LeaveGroup)? < 3 {
                    return Err(AdminError::UnsupportedVersion {
                        operation: "remove_members",
                        api: ApiKey::LeaveGroup,
                        needed: "v3+".into(),
                        broker: "the broker speaks only v0-2".into(),
                    });
                }
                let request = LeaveGroupRequest::default()
                    .with_group_id(group)
                    .with_members(keys.iter().filter_map(|k| by_key.get(k).cloned()).collect());
                let response = conn.send(&request).await?;
                if let Some(e) = AdminError::from_code(response.error_code, None) {
                    return Err(e);
                }
                Ok(response
                    .members
                    .into_iter()
                    .map(|m| {
                        let k = m
                            .group_instance_id
                            .as_ref()
                            .map_or_else(|| m.member_id.to_string(), |s| s.to_string());
                        let result = AdminError::check(m.error_code, None);
                        (k, result)
                    })
                    .collect())
            },
        )
        .await
    }
}

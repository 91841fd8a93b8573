//! Topics: create, delete (by name or id), list, describe, and add partitions.

use std::collections::{BTreeMap, BTreeSet};

use kafka_protocol::messages::create_partitions_request::{
    CreatePartitionsAssignment, CreatePartitionsTopic,
};
use kafka_protocol::messages::create_topics_request::{
    CreatableReplicaAssignment, CreatableTopic, CreatableTopicConfig,
};
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::describe_topic_partitions_request::{Cursor, TopicRequest};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{
    CreatePartitionsRequest, CreateTopicsRequest, DeleteTopicsRequest,
    DescribeTopicPartitionsRequest, MetadataRequest,
};
use kafka_protocol::{ApiKey, BrokerId, TopicName, Uuid};

use crate::error::{AdminError, Result};
use crate::router::{self, ItemResults};
use crate::AdminClient;

/// A topic to create: a partition count and replication factor (`-1` each for the broker's
/// defaults), or an explicit replica assignment, and config overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTopic {
    /// The name.
    pub name: String,
    /// Partitions; -1 for the broker's `num.partitions`.
    pub partitions: i32,
    /// Replicas per partition; -1 for the broker's `default.replication.factor`.
    pub replication_factor: i16,
    /// Explicit replicas per partition (preferred leader first); when set, `partitions` and
    /// `replication_factor` are -1, as Kafka requires.
    pub replica_assignment: Option<Vec<Vec<i32>>>,
    /// Topic config overrides.
    pub configs: BTreeMap<String, String>,
}

impl NewTopic {
    /// A topic with `partitions` partitions of `replication_factor` replicas each.
    pub fn new(name: impl Into<String>, partitions: i32, replication_factor: i16) -> NewTopic {
        NewTopic {
            name: name.into(),
            partitions,
            replication_factor,
            replica_assignment: None,
            configs: BTreeMap::new(),
        }
    }

    /// A topic whose partition `i` has the replicas `assignment[i]`.
    pub fn with_replica_assignment(name: impl Into<String>, assignment: Vec<Vec<i32>>) -> NewTopic {
        NewTopic {
            replica_assignment: Some(assignment),
            ..NewTopic::new(name, -1, -1)
        }
    }

    /// Adds a config override.
    pub fn with_config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.configs.insert(key.into(), value.into());
        self
    }
}

/// What the broker says it created (CreateTopics v5+ reports the result; older brokers leave
/// the counts at -1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreatedTopic {
    /// The topic id (KIP-516), zero before CreateTopics v7.
    pub topic_id: Uuid,
    /// The partition count, -1 if not reported.
    pub partitions: i32,
    /// The replication factor, -1 if not reported.
    pub replication_factor: i16,
    /// The topic's effective configs, if reported.
    pub configs: BTreeMap<String, Option<String>>,
}

/// A topic in [`AdminClient::list_topics`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TopicListing {
    /// The name.
    pub name: String,
    /// The topic id.
    pub topic_id: Uuid,
    /// Whether it is internal (`__consumer_offsets`, `__transaction_state`).
    pub is_internal: bool,
}

/// A topic in [`AdminClient::describe_topics`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TopicDescription {
    /// The name.
    pub name: String,
    /// The topic id.
    pub topic_id: Uuid,
    /// Whether it is internal.
    pub is_internal: bool,
    /// The partitions, by index.
    pub partitions: Vec<PartitionDescription>,
    /// The ACL operations the caller may perform on the topic, when the broker says.
    pub authorized_operations: Option<BTreeSet<AclOperation>>,
}

/// One partition of a [`TopicDescription`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PartitionDescription {
    /// The partition index.
    pub partition: i32,
    /// The leader, `None` while it has none.
    pub leader: Option<i32>,
    /// The leader epoch.
    pub leader_epoch: i32,
    /// Every replica, preferred leader first.
    pub replicas: Vec<i32>,
    /// The in-sync replicas.
    pub isr: Vec<i32>,
    /// Replicas on offline brokers or log dirs.
    pub offline_replicas: Vec<i32>,
}

/// Partitions to add to a topic ([`AdminClient::create_partitions`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPartitions {
    /// The partition count afterwards.
    pub total_count: i32,
    /// Replicas for each new partition, or `None` for the broker to place them.
    pub assignment: Option<Vec<Vec<i32>>>,
}

impl NewPartitions {
    /// Grow to `total_count` partitions.
    pub fn increase_to(total_count: i32) -> NewPartitions {
        NewPartitions {
            total_count,
            assignment: None,
        }
    }
}

/// An ACL operation: the one type the ACL operations and the `authorized_operations` sets
/// (KIP-430) share.
pub use kafka_protocol::acl::AclOperation;

fn ids(v: &[BrokerId]) -> Vec<i32> {
    v.iter().map(|b| b.0).collect()
}

impl AdminClient {
    /// Creates topics (CreateTopics, at the controller). With
    /// [`validate_only`](AdminClient::validate_only) the broker checks them and creates nothing.
    pub async fn create_topics(
        &self,
        topics: Vec<NewTopic>,
    ) -> Result<ItemResults<String, CreatedTopic>> {
        let call = self.call("create_topics");
        let by_name: BTreeMap<String, NewTopic> =
            topics.into_iter().map(|t| (t.name.clone(), t)).collect();
        let validate_only = self.validate_only;
        router::retry_items(
            &self.client,
            &call,
            by_name.keys().cloned().collect(),
            |names| {
                let request = CreateTopicsRequest::default()
                    .with_timeout_ms(call.remaining_ms())
                    .with_validate_only(validate_only)
                    .with_topics(
                        names
                            .iter()
                            .filter_map(|n| by_name.get(n))
                            .map(creatable)
                            .collect(),
                    );
                async move {
                    let conn = router::controller(&self.client).await?;
                    let response = conn.send(&request).await?;
                    Ok(response
                        .topics
                        .into_iter()
                        .map(|t| {
                            let name = t.name.to_string();
                            let result = match AdminError::from_code(
                                t.error_code,
                                t.error_message.as_deref(),
                            ) {
                                Some(e) => Err(e),
                                None => Ok(CreatedTopic {
                                    topic_id: t.topic_id,
                                    partitions: t.num_partitions,
                                    replication_factor: t.replication_factor,
                                    configs: t
                                        .configs
                                        .unwrap_or_default()
                                        .into_iter()
                                        .map(|c| {
                                            (c.name.to_string(), c.value.map(|v| v.to_string()))
                                        })
                                        .collect(),
                                }),
                            };
                            (name, result)
                        })
                        .collect())
                }
            },
        )
        .await
    }

    /// Deletes topics by name (DeleteTopics, at the controller).
    pub async fn delete_topics(&self, names: &[String]) -> Result<ItemResults<String, ()>> {
        let call = self.call("delete_topics");
        router::retry_items(&self.client, &call, names.to_vec(), |names| {
            let timeout = call.remaining_ms();
            async move {
                let conn = router::controller(&self.client).await?;
                let version = conn.version_for(ApiKey::DeleteTopics)?;
                let mut request = DeleteTopicsRequest::default().with_timeout_ms(timeout);
                // v6 moved names into `topics` so that topics can be named by id too.
                request = if version >= 6 {
                    request.with_topics(
                        names
                            .iter()
                            .map(|n| DeleteTopicState::default().with_name(Some(n.as_str().into())))
                            .collect(),
                    )
                } else {
                    request.with_topic_names(names.iter().map(|n| n.as_str().into()).collect())
                };
                let response = conn.send(&request).await?;
                Ok(response
                    .responses
                    .into_iter()
                    .map(|r| {
                        let name = r.name.map(|n| n.to_string()).unwrap_or_default();
                        let result = AdminError::check(r.error_code, r.error_message.as_deref());
                        (name, result)
                    })
                    .collect())
            }
        })
        .await
    }

    /// Deletes topics by topic id (DeleteTopics v6+, KIP-516).
    pub async fn delete_topics_by_id(&self, topic_ids: &[Uuid]) -> Result<ItemResults<Uuid, ()>> {
        let call = self.call("delete_topics_by_id");
        router::retry_items(&self.client, &call, topic_ids.to_vec(), |topic_ids| {
            let timeout = call.remaining_ms();
            async move {
                let conn = router::controller(&self.client).await?;
                let version = conn.version_for(ApiKey::DeleteTopics)?;
                if version < 6 {
                    return Err(AdminError::UnsupportedVersion {
                        operation: "delete_topics_by_id",
                        api: ApiKey::DeleteTopics,
                        needed: "v6+".into(),
                        broker: format!("the broker speaks at most v{version}"),
                    });
                }
                let request = DeleteTopicsRequest::default()
                    .with_timeout_ms(timeout)
                    .with_topics(
                        topic_ids
                            .iter()
                            .map(|id| {
                                DeleteTopicState::default()
                                    .with_name(None)
                                    .with_topic_id(*id)
                            })
                            .collect(),
                    );
                let response = conn.send(&request).await?;
                Ok(response
                    .responses
                    .into_iter()
                    .map(|r| {
                        let result = AdminError::check(r.error_code, r.error_message.as_deref());
                        (r.topic_id, result)
                    })
                    .collect())
            }
        })
        .await
    }

    /// Every topic (Metadata for all topics, at any broker), internal ones only when asked.
    pub async fn list_topics(&self, include_internal: bool) -> Result<Vec<TopicListing>> {
        let call = self.call("list_topics");
        let response = router::retry(&self.client, &call, || async {
            Ok(self.client.refresh_all_metadata().await?)
        })
        .await?;
        let mut topics: Vec<TopicListing> = response
            .topics
            .into_iter()
            .filter(|t| include_internal || !t.is_internal)
            .filter_map(|t| {
                Some(TopicListing {
                    name: t.name?.to_string(),
                    topic_id: t.topic_id,
                    is_internal: t.is_internal,
                })
            })
            .collect();
        topics.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(topics)
    }

    /// Describes topics: partitions with leader, replicas, ISR and offline replicas, topic id,
    /// and the caller's authorized operations. Pages through DescribeTopicPartitions (KIP-966)
    /// where the broker has it, else asks Metadata.
    pub async fn describe_topics(
        &self,
        names: &[String],
    ) -> Result<ItemResults<String, TopicDescription>> {
        let call = self.call("describe_topics");
        router::retry_items(&self.client, &call, names.to_vec(), |names| async move {
            let conn = router::any(&self.client).await?;
            if conn.version_for(ApiKey::DescribeTopicPartitions).is_ok() {
                self.describe_by_pages(&conn, &names).await
            } else {
                self.describe_by_metadata(&conn, &names).await
            }
        })
        .await
    }

    async fn describe_by_pages(
        &self,
        conn: &kafka_client::Connection,
        names: &[String],
    ) -> Result<Vec<(String, Result<TopicDescription>)>> {
        /// Partitions per page, Kafka's default limit.
        const PAGE: i32 = 2_000;
        let mut found: BTreeMap<String, Result<TopicDescription>> = BTreeMap::new();
        let mut cursor: Option<Cursor> = None;
        // Each page continues where the last ended, so the loop ends within
        // (partitions / PAGE + topics) rounds; the bound is a guard against a broker that
        // keeps returning the same cursor.
        for _page in 0..100_000 {
            let request = DescribeTopicPartitionsRequest::default()
                .with_topics(
                    names
                        .iter()
                        .map(|n| TopicRequest::default().with_name(n.as_str()))
                        .collect(),
                )
                .with_response_partition_limit(PAGE)
                .with_cursor(cursor.clone());
            let response = conn.send(&request).await?;
            for t in response.topics {
                let name = t.name.map(|n| n.to_string()).unwrap_or_default();
                if let Some(e) = AdminError::from_code(t.error_code, None) {
                    found.insert(name, Err(e));
                    continue;
                }
                let entry = found.entry(name.clone()).or_insert_with(|| {
                    Ok(TopicDescription {
                        name,
                        topic_id: t.topic_id,
                        is_internal: t.is_internal,
                        partitions: Vec::new(),
                        authorized_operations: AclOperation::from_bits(
                            t.topic_authorized_operations,
                        ),
                    })
                });
                if let Ok(d) = entry {
                    d.partitions
                        .extend(t.partitions.iter().map(|p| PartitionDescription {
                            partition: p.partition_index,
                            leader: (p.leader_id.0 >= 0).then_some(p.leader_id.0),
                            leader_epoch: p.leader_epoch,
                            replicas: ids(&p.replica_nodes),
                            isr: ids(&p.isr_nodes),
                            offline_replicas: ids(&p.offline_replicas),
                        }));
                }
            }
            let next = response.next_cursor.map(|c| {
                Cursor::default()
                    .with_topic_name(c.topic_name)
                    .with_partition_index(c.partition_index)
            });
            match next {
                Some(next) if cursor.as_ref() != Some(&next) => cursor = Some(next),
                _ => break,
            }
        }
        for d in found.values_mut().flatten() {
            d.partitions.sort_by_key(|p| p.partition);
            d.partitions.dedup_by_key(|p| p.partition);
        }
        Ok(found.into_iter().collect())
    }

    async fn describe_by_metadata(
        &self,
        conn: &kafka_client::Connection,
        names: &[String],
    ) -> Result<Vec<(String, Result<TopicDescription>)>> {
        let request = MetadataRequest::default()
            .with_topics(Some(
                names
                    .iter()
                    .map(|n| MetadataRequestTopic::default().with_name(Some(n.as_str().into())))
                    .collect(),
            ))
            .with_allow_auto_topic_creation(false)
            .with_include_topic_authorized_operations(true);
        let response = conn.send(&request).await?;
        Ok(from_metadata(response))
    }

    /// Adds partitions to topics (CreatePartitions, at the controller).
    pub async fn create_partitions(
        &self,
        topics: BTreeMap<String, NewPartitions>,
    ) -> Result<ItemResults<String, ()>> {
        let call = self.call("create_partitions");
        let validate_only = self.validate_only;
        router::retry_items(
            &self.client,
            &call,
            topics.keys().cloned().collect(),
            |names| {
                let request = CreatePartitionsRequest::default()
                    .with_timeout_ms(call.remaining_ms())
                    .with_validate_only(validate_only)
                    .with_topics(
                        names
                            .iter()
                            .filter_map(|n| topics.get_key_value(n))
                            .map(|(name, p)| {
                                CreatePartitionsTopic::default()
                                    .with_name(name.as_str())
                                    .with_count(p.total_count)
                                    .with_assignments(p.assignment.as_ref().map(|a| {
                                        a.iter()
                                            .map(|r| {
                                                CreatePartitionsAssignment::default()
                                                    .with_broker_ids(
                                                        r.iter().map(|b| BrokerId(*b)).collect(),
                                                    )
                                            })
                                            .collect()
                                    }))
                            })
                            .collect(),
                    );
                async move {
                    let conn = router::controller(&self.client).await?;
                    let response = conn.send(&request).await?;
                    Ok(response
                        .results
                        .into_iter()
                        .map(|r| {
                            let result =
                                AdminError::check(r.error_code, r.error_message.as_deref());
                            (r.name.to_string(), result)
                        })
                        .collect())
                }
            },
        )
        .await
    }
}

/// Topic descriptions from a Metadata answer (for brokers without DescribeTopicPartitions).
fn from_metadata(
    response: kafka_protocol::messages::MetadataResponse,
) -> Vec<(String, Result<TopicDescription>)> {
    response
        .topics
        .into_iter()
        .map(|t| {
            let name = t.name.map(|n| n.to_string()).unwrap_or_default();
            let result = match AdminError::from_code(t.error_code, None) {
                Some(e) => Err(e),
                None => {
                    let mut partitions: Vec<PartitionDescription> = t
                        .partitions
                        .iter()
                        .map(|p| PartitionDescription {
                            partition: p.partition_index,
                            leader: (p.leader_id.0 >= 0).then_some(p.leader_id.0),
                            leader_epoch: p.leader_epoch,
                            replicas: ids(&p.replica_nodes),
                            isr: ids(&p.isr_nodes),
                            offline_replicas: ids(&p.offline_replicas),
                        })
                        .collect();
                    partitions.sort_by_key(|p| p.partition);
                    Ok(TopicDescription {
                        name: name.clone(),
                        topic_id: t.topic_id,
                        is_internal: t.is_internal,
                        partitions,
                        authorized_operations: AclOperation::from_bits(
                            t.topic_authorized_operations,
                        ),
                    })
                }
            };
            (name, result)
        })
        .collect()
}

fn creatable(t: &NewTopic) -> CreatableTopic {
    let mut topic = CreatableTopic::default()
        .with_name(TopicName::from(t.name.as_str()))
        .with_num_partitions(t.partitions)
        .with_replication_factor(t.replication_factor)
        .with_configs(
            t.configs
                .iter()
                .map(|(k, v)| {
                    CreatableTopicConfig::default()
                        .with_name(k.as_str())
                        .with_value(Some(v.as_str().into()))
                })
                .collect(),
        );
    if let Some(assignment) = &t.replica_assignment {
        topic = topic
            .with_num_partitions(-1)
            .with_replication_factor(-1)
            .with_assignments(
                (0i32..)
                    .zip(assignment)
                    .map(|(i, replicas)| {
                        CreatableReplicaAssignment::default()
                            .with_partition_index(i)
                            .with_broker_ids(replicas.iter().map(|b| BrokerId(*b)).collect())
                    })
                    .collect(),
            );
    }
    topic
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorized_operations_decode_kip_430_bits() {
        assert_eq!(AclOperation::from_bits(i32::MIN), None);
        let ops = AclOperation::from_bits((1 << 3) | (1 << 8) | (1 << 11)).unwrap();
        assert_eq!(
            ops.into_iter().collect::<Vec<_>>(),
            vec![
                AclOperation::Read,
                AclOperation::Describe,
                AclOperation::AlterConfigs
            ]
        );
    }

    #[test]
    fn metadata_answers_become_descriptions_per_topic() {
        use kafka_protocol::messages::metadata_response::{
            MetadataResponsePartition, MetadataResponseTopic,
        };
        use kafka_protocol::messages::MetadataResponse;
        use kafka_protocol::ErrorCode;
        let partition = |i: i32, leader: i32| {
            MetadataResponsePartition::default()
                .with_partition_index(i)
                .with_leader_id(BrokerId(leader))
                .with_replica_nodes(vec![BrokerId(1), BrokerId(2)])
                .with_isr_nodes(vec![BrokerId(1)])
                .with_offline_replicas(vec![BrokerId(2)])
        };
        let response = MetadataResponse::default().with_topics(vec![
            MetadataResponseTopic::default()
                .with_name(Some("t".into()))
                .with_partitions(vec![partition(1, -1), partition(0, 1)])
                .with_topic_authorized_operations(i32::MIN),
            MetadataResponseTopic::default()
                .with_name(Some("gone".into()))
                .with_error_code(ErrorCode::UnknownTopicOrPartition),
        ]);
        let out: BTreeMap<String, Result<TopicDescription>> =
            from_metadata(response).into_iter().collect();
        let t = out["t"].as_ref().unwrap();
        assert_eq!(
            t.partitions
                .iter()
                .map(|p| (p.partition, p.leader))
                .collect::<Vec<_>>(),
            vec![(0, Some(1)), (1, None)]
        );
        assert_eq!(
            (
                t.partitions[0].isr.clone(),
                t.partitions[0].offline_replicas.clone()
            ),
            (vec![1], vec![2])
        );
        assert_eq!(t.authorized_operations, None);
        assert_eq!(
            out["gone"].as_ref().unwrap_err().code(),
            Some(ErrorCode::UnknownTopicOrPartition)
        );
    }

    #[test]
    fn an_explicit_assignment_leaves_counts_to_the_broker() {
        let t = creatable(&NewTopic::with_replica_assignment(
            "t",
            vec![vec![1, 0], vec![0, 1]],
        ));
        assert_eq!((t.num_partitions, t.replication_factor), (-1, -1));
        assert_eq!(t.assignments.len(), 2);
        assert_eq!(t.assignments[1].broker_ids, vec![BrokerId(0), BrokerId(1)]);
    }
}

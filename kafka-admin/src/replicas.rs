//! Replica placement: leader elections (KIP-460) and partition reassignments (KIP-455), both
//! at the controller.

use std::collections::BTreeMap;

use kafka_protocol::messages::alter_partition_reassignments_request::{
    ReassignablePartition, ReassignableTopic,
};
use kafka_protocol::messages::elect_leaders_request::TopicPartitions;
use kafka_protocol::messages::list_partition_reassignments_request::ListPartitionReassignmentsTopics;
use kafka_protocol::messages::{
    AlterPartitionReassignmentsRequest, ElectLeadersRequest, ListPartitionReassignmentsRequest,
};
use kafka_protocol::{ApiKey, BrokerId};

use crate::error::{AdminError, Result};
use crate::router::{self, ItemResults};
use crate::{AdminClient, TopicPartition};

/// Which leader an election picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ElectionType {
    /// The preferred (first) replica, if it is in sync.
    Preferred,
    /// Any live replica, in sync or not, for partitions without a leader: data may be lost.
    Unclean,
}

/// An ongoing reassignment ([`AdminClient::list_partition_reassignments`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PartitionReassignment {
    /// The current replica set.
    pub replicas: Vec<i32>,
    /// Replicas being added.
    pub adding: Vec<i32>,
    /// Replicas to be removed once the new ones are in sync.
    pub removing: Vec<i32>,
}

fn ids(v: &[BrokerId]) -> Vec<i32> {
    v.iter().map(|b| b.0).collect()
}

impl AdminClient {
    /// Elects leaders for `partitions`, or every partition when `None` (then only partitions
    /// that needed an election are reported). ELECTION_NOT_NEEDED is an error per partition,
    /// as in Java.
    pub async fn elect_leaders(
        &self,
        kind: ElectionType,
        partitions: Option<&[TopicPartition]>,
    ) -> Result<ItemResults<TopicPartition, ()>> {
        let call = self.call("elect_leaders");
        let conn = router::retry(&self.client, &call, || router::controller(&self.client)).await?;
        let version = conn
            .version_for(ApiKey::ElectLeaders)
            .map_err(|e| AdminError::from(e).for_operation("elect_leaders"))?;
        if kind == ElectionType::Unclean && version < 1 {
            return Err(AdminError::UnsupportedVersion {
                operation: "elect_leaders",
                api: ApiKey::ElectLeaders,
                needed: "v1+ for unclean elections".into(),
                broker: "the broker speaks only v0".into(),
            });
        }
        let send = |tps: Option<Vec<TopicPartition>>| {
            let timeout = call.remaining_ms();
            async move {
                let conn = router::controller(&self.client).await?;
                let request = ElectLeadersRequest::default()
                    .with_election_type(match kind {
                        ElectionType::Preferred => 0,
                        ElectionType::Unclean => 1,
                    })
                    .with_timeout_ms(timeout)
                    .with_topic_partitions(tps.map(|tps| {
                        router::by_topic(tps.into_iter().map(|tp| (tp, ())))
                            .into_iter()
                            .map(|(t, ps)| {
                                TopicPartitions::default()
                                    .with_topic(t)
                                    .with_partitions(ps.into_iter().map(|(p, ())| p).collect())
                            })
                            .collect()
                    }));
                let response = conn.send(&request).await?;
                if let Some(e) = AdminError::from_code(response.error_code, None) {
                    return Err(e);
                }
                Ok(response
                    .replica_election_results
                    .into_iter()
                    .flat_map(|t| {
                        t.partition_result.into_iter().map(move |p| {
                            let result =
                                AdminError::check(p.error_code, p.error_message.as_deref());
                            ((t.topic.clone(), p.partition_id), result)
                        })
                    })
                    .collect::<Vec<_>>())
            }
        };
        match partitions {
            Some(tps) => {
                router::retry_items(&self.client, &call, tps.to_vec(), |tps| send(Some(tps))).await
            }
            None => {
                let all = router::retry(&self.client, &call, || send(None)).await?;
                Ok(all.into_iter().collect())
            }
        }
    }

    /// Starts reassignments (`Some(replicas)`) or cancels them (`None`), per partition.
    pub async fn alter_partition_reassignments(
        &self,
        changes: BTreeMap<TopicPartition, Option<Vec<i32>>>,
    ) -> Result<ItemResults<TopicPartition, ()>> {
        let call = self.call("alter_partition_reassignments");
        let changes = &changes;
        router::retry_items(
            &self.client,
            &call,
            changes.keys().cloned().collect(),
            |tps| {
                let timeout = call.remaining_ms();
                async move {
                    let conn = router::controller(&self.client).await?;
                    let items = tps
                        .into_iter()
                        .filter_map(|tp| changes.get(&tp).map(|c| (tp, c.clone())));
                    let request = AlterPartitionReassignmentsRequest::default()
                        .with_timeout_ms(timeout)
                        .with_allow_replication_factor_change(true)
                        .with_topics(
                            router::by_topic(items)
                                .into_iter()
                                .map(|(t, ps)| {
                                    ReassignableTopic::default().with_name(t).with_partitions(
                                        ps.into_iter()
                                            .map(|(p, r)| {
                                                ReassignablePartition::default()
                                                    .with_partition_index(p)
                                                    .with_replicas(r.map(|r| {
                                                        r.into_iter().map(BrokerId).collect()
                                                    }))
                                            })
                                            .collect(),
                                    )
                                })
                                .collect(),
                        );
                    let response = conn.send(&request).await?;
                    if let Some(e) = AdminError::from_code(
                        response.error_code,
                        response.error_message.as_deref(),
                    ) {
                        return Err(e);
                    }
                    Ok(response
                        .responses
                        .into_iter()
                        .flat_map(|t| {
                            t.partitions.into_iter().map(move |p| {
                                let result =
                                    AdminError::check(p.error_code, p.error_message.as_deref());
                                ((t.name.clone(), p.partition_index), result)
                            })
                        })
                        .collect())
                }
            },
        )
        .await
    }

    /// The ongoing reassignments, of `partitions` or all.
    pub async fn list_partition_reassignments(
        &self,
        partitions: Option<&[TopicPartition]>,
    ) -> Result<BTreeMap<TopicPartition, PartitionReassignment>> {
        let call = self.call("list_partition_reassignments");
        router::retry(&self.client, &call, || async {
            let conn = router::controller(&self.client).await?;
            let request = ListPartitionReassignmentsRequest::default()
                .with_timeout_ms(call.remaining_ms())
                .with_topics(partitions.map(|tps| {
                    router::by_topic(tps.iter().map(|tp| (tp.clone(), ())))
                        .into_iter()
                        .map(|(t, ps)| {
                            ListPartitionReassignmentsTopics::default()
                                .with_name(t)
                                .with_partition_indexes(ps.into_iter().map(|(p, ())| p).collect())
                        })
                        .collect()
                }));
            let response = conn.send(&request).await?;
            if let Some(e) =
                AdminError::from_code(response.error_code, response.error_message.as_deref())
            {
                return Err(e);
            }
            Ok(response
                .topics
                .into_iter()
                .flat_map(|t| {
                    t.partitions.into_iter().map(move |p| {
                        (
                            (t.name.clone(), p.partition_index),
                            PartitionReassignment {
                                replicas: ids(&p.replicas),
                                adding: ids(&p.adding_replicas),
                                removing: ids(&p.removing_replicas),
                            },
                        )
                    })
                })
                .collect())
        })
        .await
    }
}

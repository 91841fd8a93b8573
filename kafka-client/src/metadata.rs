//! The metadata cache: brokers, and for each topic in use its partitions' leaders.
//!
//! Pure bookkeeping, no I/O: [`crate::Client`] fetches Metadata responses and feeds them in. The
//! rule that matters is KIP-320's: a partition's leader epoch never goes backwards. Metadata
//! answers come from different brokers, and a broker that has not yet heard of a leader change
//! can answer after one that has; applying that older answer would send produce requests back
//! to the old leader. So a partition entry is replaced only by one with an equal or newer epoch
//! (or when either side does not know its epoch, -1).

use std::collections::HashMap;

use kafka_protocol::messages::MetadataResponse;
use kafka_protocol::{BrokerId, ErrorCode, TopicName, Uuid};

/// A broker's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerAddress {
    /// Host name.
    pub host: String,
    /// Port.
    pub port: i32,
    /// Rack, if configured.
    pub rack: Option<String>,
}

impl BrokerAddress {
    /// `host:port`, bracketing IPv6 literals.
    pub fn to_addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// What the cache knows of one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionInfo {
    /// The leader, or [`BrokerId::NONE`] when there is none (e.g. during an election).
    pub leader: BrokerId,
    /// The leader epoch, -1 if the broker did not say.
    pub leader_epoch: i32,
}

/// What the cache knows of one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo {
    /// The topic id (KIP-516), zero if unknown.
    pub id: Uuid,
    /// Partitions by index.
    pub partitions: Vec<PartitionInfo>,
}

/// The cluster as last described by a Metadata response.
#[derive(Debug, Clone, Default)]
pub struct MetadataCache {
    brokers: HashMap<BrokerId, BrokerAddress>,
    topics: HashMap<TopicName, TopicInfo>,
    /// Topic-level errors from the last answer that named the topic (unknown topic, ...).
    topic_errors: HashMap<TopicName, ErrorCode>,
    controller: BrokerId,
    cluster_id: Option<String>,
}

impl MetadataCache {
    /// Merges a Metadata response. Brokers are replaced by the answer's list (it is always
    /// complete); topics it names are updated partition by partition under the epoch rule.
    pub fn apply(&mut self, response: &MetadataResponse) {
        if !response.brokers.is_empty() {
            self.brokers = response
                .brokers
                .iter()
                .map(|b| {
                    (
                        b.node_id,
                        BrokerAddress {
                            host: b.host.to_string(),
                            port: b.port,
                            rack: b.rack.as_ref().map(|r| r.to_string()),
                        },
                    )
                })
                .collect();
        }
        self.controller = response.controller_id;
        if let Some(id) = &response.cluster_id {
            self.cluster_id = Some(id.to_string());
        }
        for t in &response.topics {
            let Some(name) = t.name.clone() else { continue };
            if t.error_code.is_error() {
                self.topic_errors.insert(name, t.error_code);
                continue;
            }
            self.topic_errors.remove(&name);
            let mut partitions: Vec<PartitionInfo> = Vec::new();
            let count = t
                .partitions
                .iter()
                .map(|p| usize::try_from(p.partition_index).map_or(0, |i| i + 1))
                .max()
                .unwrap_or(0);
            partitions.resize(
                count,
                PartitionInfo {
                    leader: BrokerId::NONE,
                    leader_epoch: -1,
                },
            );
            for p in &t.partitions {
                let Ok(i) = usize::try_from(p.partition_index) else {
                    continue;
                };
                let leader = if p.error_code == ErrorCode::LeaderNotAvailable {
                    BrokerId::NONE
                } else {
                    p.leader_id
                };
                if let Some(slot) = partitions.get_mut(i) {
                    *slot = PartitionInfo {
                        leader,
                        leader_epoch: p.leader_epoch,
                    };
                }
            }
            let entry = self.topics.entry(name).or_insert_with(|| TopicInfo {
                id: t.topic_id,
                partitions: Vec::new(),
            });
            entry.id = t.topic_id;
            merge_partitions(&mut entry.partitions, partitions);
        }
    }

    /// Applies a leader hint from a Produce or Fetch error response (KIP-951): the new leader
    /// and epoch of one partition, and where to reach that broker. Ignored if older than what
    /// the cache has.
    pub fn apply_leader_hint(
        &mut self,
        topic: &str,
        partition: i32,
        leader: BrokerId,
        leader_epoch: i32,
        endpoint: Option<BrokerAddress>,
    ) -> bool {
        if leader == BrokerId::NONE {
            return false;
        }
        let Some(info) = self.topics.get_mut(topic) else {
            return false;
        };
        let Some(slot) = usize::try_from(partition)
            .ok()
            .and_then(|i| info.partitions.get_mut(i))
        else {
            return false;
        };
        if !newer_or_equal(leader_epoch, slot.leader_epoch) {
            return false;
        }
        *slot = PartitionInfo {
            leader,
            leader_epoch,
        };
        if let Some(e) = endpoint {
            self.brokers.insert(leader, e);
        }
        true
    }

    /// Forgets a partition's leader (after NOT_LEADER_OR_FOLLOWER), keeping its epoch so an
    /// older answer still cannot bring the old leader back.
    pub fn invalidate_leader(&mut self, topic: &str, partition: i32) {
        if let Some(slot) = self.topics.get_mut(topic).and_then(|t| {
            usize::try_from(partition)
                .ok()
                .and_then(|i| t.partitions.get_mut(i))
        }) {
            slot.leader = BrokerId::NONE;
        }
    }

    /// The broker's address.
    pub fn broker(&self, id: BrokerId) -> Option<&BrokerAddress> {
        self.brokers.get(&id)
    }

    /// Every known broker.
    pub fn brokers(&self) -> impl Iterator<Item = (BrokerId, &BrokerAddress)> {
        self.brokers.iter().map(|(id, a)| (*id, a))
    }

    /// The topic, if known.
    pub fn topic(&self, name: &str) -> Option<&TopicInfo> {
        self.topics.get(name)
    }

    /// The name of the topic with id `id` (Produce and Fetch v13+ name topics by id).
    pub fn topic_name_by_id(&self, id: Uuid) -> Option<&TopicName> {
        if id.is_zero() {
            return None;
        }
        self.topics.iter().find(|(_, t)| t.id == id).map(|(n, _)| n)
    }

    /// The error the last answer gave for the topic, if any.
    pub fn topic_error(&self, name: &str) -> Option<ErrorCode> {
        self.topic_errors.get(name).copied()
    }

    /// The leader of a partition, if known and present.
    pub fn leader(&self, topic: &str, partition: i32) -> Option<BrokerId> {
        let p = self
            .topics
            .get(topic)?
            .partitions
            .get(usize::try_from(partition).ok()?)?;
        (p.leader != BrokerId::NONE).then_some(p.leader)
    }

    /// The controller broker.
    pub fn controller(&self) -> BrokerId {
        self.controller
    }

    /// The cluster id, once known.
    pub fn cluster_id(&self) -> Option<&str> {
        self.cluster_id.as_deref()
    }
}

/// Whether epoch `new` may replace `old`: -1 means unknown and never blocks an update.
fn newer_or_equal(new: i32, old: i32) -> bool {
    new < 0 || old < 0 || new >= old
}

/// Replaces `old` with `new` partition by partition, except where `new` is older.
fn merge_partitions(old: &mut Vec<PartitionInfo>, new: Vec<PartitionInfo>) {
    let merged = new
        .into_iter()
        .enumerate()
        .map(|(i, n)| match old.get(i) {
            Some(o) if !newer_or_equal(n.leader_epoch, o.leader_epoch) => o.clone(),
            _ => n,
        })
        .collect();
    *old = merged;
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::metadata_response::{
        MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
    };

    fn answer(leader: i32, epoch: i32) -> MetadataResponse {
        MetadataResponse::default()
            .with_brokers(vec![
                MetadataResponseBroker::default()
                    .with_node_id(BrokerId(1))
                    .with_host("h1")
                    .with_port(9092),
                MetadataResponseBroker::default()
                    .with_node_id(BrokerId(2))
                    .with_host("::1")
                    .with_port(9093),
            ])
            .with_topics(vec![MetadataResponseTopic::default()
                .with_name(Some("t".into()))
                .with_partitions(vec![MetadataResponsePartition::default()
                    .with_partition_index(0)
                    .with_leader_id(BrokerId(leader))
                    .with_leader_epoch(epoch)])])
    }

    #[test]
    fn leader_epochs_never_go_backwards() {
        let mut cache = MetadataCache::default();
        cache.apply(&answer(1, 5));
        assert_eq!(cache.leader("t", 0), Some(BrokerId(1)));
        // A newer epoch moves the leader.
        cache.apply(&answer(2, 6));
        assert_eq!(cache.leader("t", 0), Some(BrokerId(2)));
        // A stale broker's answer (epoch 5) does not move it back.
        cache.apply(&answer(1, 5));
        assert_eq!(cache.leader("t", 0), Some(BrokerId(2)));
        // A KIP-951 hint with an older epoch is ignored; a newer one applies with its endpoint.
        assert!(!cache.apply_leader_hint("t", 0, BrokerId(1), 4, None));
        let endpoint = BrokerAddress {
            host: "h3".into(),
            port: 9094,
            rack: None,
        };
        assert!(cache.apply_leader_hint("t", 0, BrokerId(3), 7, Some(endpoint.clone())));
        assert_eq!(cache.leader("t", 0), Some(BrokerId(3)));
        assert_eq!(cache.broker(BrokerId(3)), Some(&endpoint));
        assert_eq!(
            cache.broker(BrokerId(2)).map(|b| b.to_addr()),
            Some("[::1]:9093".into())
        );
    }

    #[test]
    fn an_invalidated_leader_is_unknown_until_the_next_answer() {
        let mut cache = MetadataCache::default();
        cache.apply(&answer(1, 5));
        cache.invalidate_leader("t", 0);
        assert_eq!(cache.leader("t", 0), None);
        cache.apply(&answer(1, 4));
        assert_eq!(
            cache.leader("t", 0),
            None,
            "an older answer does not restore it"
        );
        cache.apply(&answer(2, 6));
        assert_eq!(cache.leader("t", 0), Some(BrokerId(2)));
    }

    #[test]
    fn topic_errors_are_remembered() {
        let mut cache = MetadataCache::default();
        cache.apply(&MetadataResponse::default().with_topics(vec![
            MetadataResponseTopic::default()
                .with_name(Some("missing".into()))
                .with_error_code(ErrorCode::UnknownTopicOrPartition),
        ]));
        assert_eq!(
            cache.topic_error("missing"),
            Some(ErrorCode::UnknownTopicOrPartition)
        );
        assert!(cache.topic("missing").is_none());
    }
}

//! KIP-951: a Produce or Fetch answer that says NOT_LEADER_OR_FOLLOWER also names the
//! partition's current leader and epoch, and how to reach that broker, so a client can move on
//! without a Metadata round trip. This applies those hints to the cache, under the same
//! epoch rule as Metadata answers (an older hint changes nothing).

use kafka_protocol::messages::{FetchResponse, ProduceResponse};
use kafka_protocol::{BrokerId, StrBytes, TopicName, Uuid};

use crate::metadata::{BrokerAddress, MetadataCache};

/// One partition's hint: topic (by name, or by id from v13), partition, leader, epoch.
struct Hint<'a> {
    name: &'a TopicName,
    id: Uuid,
    partition: i32,
    leader: BrokerId,
    epoch: i32,
}

/// Applies the leader hints of a Produce response; returns how many moved a leader.
pub fn apply_produce_hints(cache: &mut MetadataCache, response: &ProduceResponse) -> usize {
    let hints = response.responses.iter().flat_map(|t| {
        t.partition_responses.iter().map(move |p| Hint {
            name: &t.name,
            id: t.topic_id,
            partition: p.index,
            leader: p.current_leader.leader_id,
            epoch: p.current_leader.leader_epoch,
        })
    });
    let endpoints = response
        .node_endpoints
        .iter()
        .map(|n| (n.node_id, &n.host, n.port, n.rack.as_ref()));
    apply(cache, hints, endpoints)
}

/// Applies the leader hints of a Fetch response; returns how many moved a leader.
pub fn apply_fetch_hints(cache: &mut MetadataCache, response: &FetchResponse) -> usize {
    let hints = response.responses.iter().flat_map(|t| {
        t.partitions.iter().map(move |p| Hint {
            name: &t.topic,
            id: t.topic_id,
            partition: p.partition_index,
            leader: p.current_leader.leader_id,
            epoch: p.current_leader.leader_epoch,
        })
    });
    let endpoints = response
        .node_endpoints
        .iter()
        .map(|n| (n.node_id, &n.host, n.port, n.rack.as_ref()));
    apply(cache, hints, endpoints)
}

fn apply<'a>(
    cache: &mut MetadataCache,
    hints: impl Iterator<Item = Hint<'a>>,
    endpoints: impl Iterator<Item = (BrokerId, &'a StrBytes, i32, Option<&'a StrBytes>)> + Clone,
) -> usize {
    let mut moved = 0;
    for h in hints {
        if h.leader == BrokerId::NONE {
            continue;
        }
        let endpoint =
            endpoints
                .clone()
                .find(|(id, ..)| *id == h.leader)
                .map(|(_, host, port, rack)| BrokerAddress {
                    host: host.to_string(),
                    port,
                    rack: rack.map(|r| r.to_string()),
                });
        let topic = if h.name.is_empty() {
            cache.topic_name_by_id(h.id).map(|n| n.to_string())
        } else {
            Some(h.name.to_string())
        };
        if let Some(topic) = topic {
            if cache.apply_leader_hint(&topic, h.partition, h.leader, h.epoch, endpoint) {
                moved += 1;
            }
        }
    }
    moved
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::metadata_response::{
        MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
    };
    use kafka_protocol::messages::{fetch_response, produce_response, MetadataResponse};

    const ID: Uuid = Uuid([7; 16]);

    fn cache() -> MetadataCache {
        let mut cache = MetadataCache::default();
        cache.apply(
            &MetadataResponse::default()
                .with_brokers(vec![MetadataResponseBroker::default()
                    .with_node_id(BrokerId(1))
                    .with_host("h1")
                    .with_port(1)])
                .with_topics(vec![MetadataResponseTopic::default()
                    .with_name(Some("t".into()))
                    .with_topic_id(ID)
                    .with_partitions(vec![MetadataResponsePartition::default()
                        .with_partition_index(0)
                        .with_leader_id(BrokerId(1))
                        .with_leader_epoch(3)])]),
        );
        cache
    }

    #[test]
    fn a_produce_hint_moves_the_leader_and_adds_its_endpoint() {
        let mut cache = cache();
        let response = ProduceResponse::default()
            .with_responses(vec![produce_response::TopicProduceResponse::default()
                .with_name("t")
                .with_partition_responses(vec![
                    produce_response::PartitionProduceResponse::default()
                        .with_index(0)
                        .with_current_leader(
                            produce_response::LeaderIdAndEpoch::default()
                                .with_leader_id(BrokerId(2))
                                .with_leader_epoch(4),
                        ),
                ])])
            .with_node_endpoints(vec![produce_response::NodeEndpoint::default()
                .with_node_id(BrokerId(2))
                .with_host("h2")
                .with_port(2)]);
        assert_eq!(apply_produce_hints(&mut cache, &response), 1);
        assert_eq!(cache.leader("t", 0), Some(BrokerId(2)));
        assert_eq!(
            cache.broker(BrokerId(2)).map(|b| b.to_addr()),
            Some("h2:2".into())
        );
    }

    #[test]
    fn a_fetch_hint_by_topic_id_applies_and_an_older_one_does_not() {
        let mut cache = cache();
        let hint = |leader: i32, epoch: i32| {
            FetchResponse::default().with_responses(vec![
                fetch_response::FetchableTopicResponse::default()
                    .with_topic_id(ID)
                    .with_partitions(vec![fetch_response::PartitionData::default()
                        .with_partition_index(0)
                        .with_current_leader(
                            fetch_response::LeaderIdAndEpoch::default()
                                .with_leader_id(BrokerId(leader))
                                .with_leader_epoch(epoch),
                        )]),
            ])
        };
        assert_eq!(apply_fetch_hints(&mut cache, &hint(1, 2)), 0, "older epoch");
        assert_eq!(apply_fetch_hints(&mut cache, &hint(5, 9)), 1);
        assert_eq!(cache.leader("t", 0), Some(BrokerId(5)));
        // No hint (leader -1, the default) changes nothing.
        assert_eq!(apply_fetch_hints(&mut cache, &FetchResponse::default()), 0);
    }
}

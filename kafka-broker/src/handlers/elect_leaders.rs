//! ElectLeaders (key 43, KIP-183 and KIP-460): preferred and unclean leader elections.
//!
//! Version 0 has no election type and means preferred. A null partition list means every
//! partition; then, as in Kafka, partitions that needed no election are left out of the answer.

use kafka_protocol::messages::elect_leaders_response::{PartitionResult, ReplicaElectionResult};
use kafka_protocol::messages::{ElectLeadersRequest, ElectLeadersResponse};
use kafka_protocol::{ErrorCode, TopicName};

use crate::context::RequestContext;
use crate::reassignment::{elect, ElectionType};
use crate::sync::lock;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &ElectLeadersRequest,
    version: i16,
) -> ElectLeadersResponse {
    let kind = match (version, request.election_type) {
        (0, _) | (_, 0) => ElectionType::Preferred,
        (_, 1) => ElectionType::Unclean,
        _ => {
            return ElectLeadersResponse::default().with_error_code(ErrorCode::InvalidRequest);
        }
    };
    let all = request.topic_partitions.is_none();
    let wanted: Vec<(TopicName, Vec<i32>)> = match &request.topic_partitions {
        Some(topics) => topics
            .iter()
            .map(|t| (t.topic.clone(), t.partitions.clone()))
            .collect(),
        None => lock(&ctx.state.topics)
            .iter()
            .map(|t| {
                let count = i32::try_from(t.partitions.len()).unwrap_or(i32::MAX);
                (TopicName::from(t.name.as_str()), (0..count).collect())
            })
            .collect(),
    };
    let state = &ctx.state;
    let results = wanted
        .into_iter()
        .map(|(topic, partitions)| {
            let partition_result = partitions
                .into_iter()
                .filter_map(|p| {
                    let outcome = state.partition(&topic, p).and_then(|log| {
                        let (leader, _) = log.leader();
                        let next = elect(kind, leader, &log.replicas(), |id| state.is_running(id))?;
                        log.elect_leader(next);
                        Ok(())
                    });
                    let code = outcome.err().unwrap_or(ErrorCode::None);
                    if all && code == ErrorCode::ElectionNotNeeded {
                        return None;
                    }
                    let message = (code != ErrorCode::None).then(|| code.description().into());
                    Some(
                        PartitionResult::default()
                            .with_partition_id(p)
                            .with_error_code(code)
                            .with_error_message(message),
                    )
                })
                .collect::<Vec<_>>();
            ReplicaElectionResult::default()
                .with_topic(topic)
                .with_partition_result(partition_result)
        })
        .filter(|r| !(all && r.partition_result.is_empty()))
        .collect();
    ElectLeadersResponse::default()
        .with_error_code(ErrorCode::None)
        .with_replica_election_results(results)
}

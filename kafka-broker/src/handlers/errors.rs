//! Error responses for injected failures: the response a broker would send if the request failed
//! with `code` everywhere the response has an error field (top level, per topic, per partition).

use kafka_protocol::messages::*;
use kafka_protocol::{ErrorCode, RequestBody, ResponseBody};

/// The response to `body` failing with `code`; `None` when the request gets no response
/// (Produce with acks=0) or the API is not served here.
pub(crate) fn error_response(
    body: &RequestBody,
    version: i16,
    code: ErrorCode,
) -> Option<ResponseBody> {
    let c = code.code();
    Some(match body {
        RequestBody::Produce(r) => {
            if r.acks == 0 {
                return None;
            }
            ProduceResponse {
                responses: r
                    .topic_data
                    .iter()
                    .map(|t| produce_response::TopicProduceResponse {
                        name: t.name.clone(),
                        topic_id: t.topic_id,
                        partition_responses: t
                            .partition_data
                            .iter()
                            .map(|p| produce_response::PartitionProduceResponse {
                                index: p.index,
                                error_code: c,
                                base_offset: -1,
                                ..Default::default()
                            })
                            .collect(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }
            .into()
        }
        RequestBody::Fetch(r) => FetchResponse {
            error_code: if version >= 7 { c } else { 0 },
            responses: r
                .topics
                .iter()
                .map(|t| fetch_response::FetchableTopicResponse {
                    topic: t.topic.clone(),
                    topic_id: t.topic_id,
                    partitions: t
                        .partitions
                        .iter()
                        .map(|p| fetch_response::PartitionData {
                            partition_index: p.partition,
                            error_code: c,
                            high_watermark: -1,
                            last_stable_offset: -1,
                            log_start_offset: -1,
                            records: Some(Default::default()),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
        .into(),
        RequestBody::ListOffsets(r) => ListOffsetsResponse {
            topics: r
                .topics
                .iter()
                .map(|t| list_offsets_response::ListOffsetsTopicResponse {
                    name: t.name.clone(),
                    partitions: t
                        .partitions
                        .iter()
                        .map(|p| list_offsets_response::ListOffsetsPartitionResponse {
                            partition_index: p.partition_index,
                            error_code: c,
                            timestamp: -1,
                            offset: -1,
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
        .into(),
        RequestBody::Metadata(r) => MetadataResponse {
            topics: r
                .topics
                .iter()
                .flatten()
                .map(|t| metadata_response::MetadataResponseTopic {
                    error_code: c,
                    name: t.name.clone(),
                    topic_id: t.topic_id,
                    topic_authorized_operations: i32::MIN,
                    ..Default::default()
                })
                .collect(),
            error_code: if version >= 13 { c } else { 0 },
            cluster_authorized_operations: i32::MIN,
            ..Default::default()
        }
        .into(),
        RequestBody::ApiVersions(_) => ApiVersionsResponse {
            error_code: c,
            ..Default::default()
        }
        .into(),
        RequestBody::CreateTopics(r) => CreateTopicsResponse {
            topics: r
                .topics
                .iter()
                .map(|t| create_topics_response::CreatableTopicResult {
                    name: t.name.clone(),
                    error_code: c,
                    num_partitions: -1,
                    replication_factor: -1,
                    configs: None,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
        .into(),
        RequestBody::DeleteTopics(r) => DeleteTopicsResponse {
            responses: if version >= 6 {
                r.topics
                    .iter()
                    .map(|t| delete_topics_response::DeletableTopicResult {
                        name: t.name.clone(),
                        topic_id: t.topic_id,
                        error_code: c,
                        ..Default::default()
                    })
                    .collect()
            } else {
                r.topic_names
                    .iter()
                    .map(|n| delete_topics_response::DeletableTopicResult {
                        name: Some(n.clone()),
                        error_code: c,
                        ..Default::default()
                    })
                    .collect()
            },
            ..Default::default()
        }
        .into(),
        RequestBody::DeleteRecords(r) => DeleteRecordsResponse {
            topics: r
                .topics
                .iter()
                .map(|t| delete_records_response::DeleteRecordsTopicResult {
                    name: t.name.clone(),
                    partitions: t
                        .partitions
                        .iter()
                        .map(|p| delete_records_response::DeleteRecordsPartitionResult {
                            partition_index: p.partition_index,
                            low_watermark: -1,
                            error_code: c,
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
        .into(),
        RequestBody::InitProducerId(_) => InitProducerIdResponse {
            error_code: c,
            producer_id: -1,
            producer_epoch: -1,
            ..Default::default()
        }
        .into(),
        RequestBody::DescribeConfigs(r) => DescribeConfigsResponse {
            results: r
                .resources
                .iter()
                .map(|res| describe_configs_response::DescribeConfigsResult {
                    error_code: c,
                    resource_type: res.resource_type,
                    resource_name: res.resource_name.clone(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
        .into(),
        RequestBody::AlterConfigs(r) => AlterConfigsResponse {
            responses: r
                .resources
                .iter()
                .map(|res| alter_configs_response::AlterConfigsResourceResponse {
                    error_code: c,
                    resource_type: res.resource_type,
                    resource_name: res.resource_name.clone(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
        .into(),
        RequestBody::IncrementalAlterConfigs(r) => IncrementalAlterConfigsResponse {
            responses: r
                .resources
                .iter()
                .map(
                    |res| incremental_alter_configs_response::AlterConfigsResourceResponse {
                        error_code: c,
                        resource_type: res.resource_type,
                        resource_name: res.resource_name.clone(),
                        ..Default::default()
                    },
                )
                .collect(),
            ..Default::default()
        }
        .into(),
        RequestBody::CreatePartitions(r) => CreatePartitionsResponse {
            results: r
                .topics
                .iter()
                .map(
                    |t| create_partitions_response::CreatePartitionsTopicResult {
                        name: t.name.clone(),
                        error_code: c,
                        ..Default::default()
                    },
                )
                .collect(),
            ..Default::default()
        }
        .into(),
        RequestBody::DescribeCluster(_) => DescribeClusterResponse {
            error_code: c,
            endpoint_type: 1,
            cluster_authorized_operations: i32::MIN,
            ..Default::default()
        }
        .into(),
        RequestBody::FindCoordinator(r) => FindCoordinatorResponse {
            error_code: if version < 4 { c } else { 0 },
            // NodeId, Host and Port exist only before v4 (KIP-699 moved them per key).
            node_id: if version < 4 { -1 } else { 0 },
            port: if version < 4 { -1 } else { 0 },
            coordinators: if version >= 4 {
                r.coordinator_keys
                    .iter()
                    .map(|k| find_coordinator_response::Coordinator {
                        key: k.clone(),
                        node_id: -1,
                        port: -1,
                        error_code: c,
                        ..Default::default()
                    })
                    .collect()
            } else {
                Vec::new()
            },
            ..Default::default()
        }
        .into(),
        other => super::groups::error_response(other, version, code)?,
    })
}

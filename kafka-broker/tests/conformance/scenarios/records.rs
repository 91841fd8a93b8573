//! DeleteRecords (21), DescribeCluster (60) and InitProducerId (22).

use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::{
    DeleteRecordsRequest, DescribeClusterRequest, InitProducerIdRequest,
};
use kafka_protocol::ApiKey;

use crate::harness::{batch, Session};
use crate::scenarios::fetch::fetch_from;

fn delete_records(topic: &str, partition: i32, offset: i64) -> DeleteRecordsRequest {
    DeleteRecordsRequest::default()
        .with_timeout_ms(10_000)
        .with_topics(vec![DeleteRecordsTopic::default()
            .with_name(topic.to_string())
            .with_partitions(vec![DeleteRecordsPartition::default()
                .with_partition_index(partition)
                .with_offset(offset)])])
}

fn topic_with_records(s: &mut Session<'_>) -> String {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    s.produce(&t, 0, batch(&["a", "b", "c"]));
    s.produce(&t, 0, batch(&["d", "e"]));
    t
}

pub fn delete_records_basic(s: &mut Session<'_>) {
    let t = topic_with_records(s);
    let v = s.v(ApiKey::DeleteRecords);
    s.send("delete_before_2", &delete_records(&t, 0, 2), v);
    fetch_from(s, "fetch_from_0", &t, 0, 0);
    fetch_from(s, "fetch_from_2", &t, 0, 2);
    s.send("delete_before_1_again", &delete_records(&t, 0, 1), v);
}

pub fn delete_records_to_high_watermark(s: &mut Session<'_>) {
    let t = topic_with_records(s);
    let v = s.v(ApiKey::DeleteRecords);
    s.send("delete_all", &delete_records(&t, 0, -1), v);
    fetch_from(s, "fetch_at_end", &t, 0, 5);
}

pub fn delete_records_out_of_range(s: &mut Session<'_>) {
    let t = topic_with_records(s);
    let v = s.v(ApiKey::DeleteRecords);
    s.send("delete_past_end", &delete_records(&t, 0, 50), v);
    s.send("delete_negative", &delete_records(&t, 0, -7), v);
}

pub fn delete_records_unknown(s: &mut Session<'_>) {
    let t = topic_with_records(s);
    let missing = s.name("missing");
    let v = s.v(ApiKey::DeleteRecords);
    s.send("delete_unknown_partition", &delete_records(&t, 3, 1), v);
    s.send("delete_unknown_topic", &delete_records(&missing, 0, 1), v);
}

pub fn describe_cluster(s: &mut Session<'_>) {
    let v = s.v(ApiKey::DescribeCluster);
    s.send("describe_cluster", &DescribeClusterRequest::default(), v);
    s.send("describe_cluster_v0", &DescribeClusterRequest::default(), 0);
    s.send(
        "describe_cluster_with_ops",
        &DescribeClusterRequest::default().with_include_cluster_authorized_operations(true),
        v,
    );
}

pub fn describe_cluster_controller_endpoints(s: &mut Session<'_>) {
    let v = s.v(ApiKey::DescribeCluster);
    s.send(
        "describe_cluster_endpoint_type_2",
        &DescribeClusterRequest::default().with_endpoint_type(2),
        v,
    );
}

pub fn init_producer_id(s: &mut Session<'_>) {
    let v = s.v(ApiKey::InitProducerId);
    let request = InitProducerIdRequest::default()
        .with_transactional_id(None)
        .with_transaction_timeout_ms(60_000);
    s.send("init_producer_id", &request, v);
    s.send("init_producer_id_again", &request, v);
    s.send("init_producer_id_v0", &request, 0);
}

pub fn init_producer_id_bump_unknown(s: &mut Session<'_>) {
    let v = s.v(ApiKey::InitProducerId);
    let request = InitProducerIdRequest::default()
        .with_transactional_id(None)
        .with_transaction_timeout_ms(60_000)
        .with_producer_id(123_456_789)
        .with_producer_epoch(3);
    s.send("bump_unknown_producer", &request, v);
}

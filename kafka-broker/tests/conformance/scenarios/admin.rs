//! OffsetForLeaderEpoch (23), DescribeLogDirs (35), DescribeProducers (61) and
//! DescribeTopicPartitions (75).

use kafka_protocol::messages::describe_log_dirs_request::DescribableLogDirTopic;
use kafka_protocol::messages::describe_producers_request::TopicRequest as ProducersTopic;
use kafka_protocol::messages::describe_topic_partitions_request::{Cursor, TopicRequest};
use kafka_protocol::messages::offset_for_leader_epoch_request::{
    OffsetForLeaderPartition, OffsetForLeaderTopic,
};
use kafka_protocol::messages::{
    DescribeLogDirsRequest, DescribeProducersRequest, DescribeTopicPartitionsRequest,
    OffsetForLeaderEpochRequest,
};
use kafka_protocol::records::Compression;
use kafka_protocol::ApiKey;

use crate::harness::{batch, batch_with, produce_request, Session};

fn epoch_request(topic: &str, partitions: &[(i32, i32, i32)]) -> OffsetForLeaderEpochRequest {
    OffsetForLeaderEpochRequest::default()
        .with_replica_id(-1)
        .with_topics(vec![OffsetForLeaderTopic::default()
            .with_topic(topic)
            .with_partitions(
                partitions
                    .iter()
                    .map(|(p, current, epoch)| {
                        OffsetForLeaderPartition::default()
                            .with_partition(*p)
                            .with_current_leader_epoch(*current)
                            .with_leader_epoch(*epoch)
                    })
                    .collect(),
            )])
}

pub fn offset_for_leader_epoch(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 2, &[]);
    s.produce(&t, 0, batch(&["a", "b", "c"]));
    let v = s.v(ApiKey::OffsetForLeaderEpoch);
    s.send(
        "current_epoch",
        &epoch_request(&t, &[(0, -1, 0), (1, -1, 0)]),
        v,
    );
    s.send("undefined_epoch", &epoch_request(&t, &[(0, -1, -1)]), v);
    s.send("future_epoch", &epoch_request(&t, &[(0, -1, 4)]), v);
}

pub fn offset_for_leader_epoch_errors(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let missing = s.name("missing");
    let v = s.v(ApiKey::OffsetForLeaderEpoch);
    s.send("unknown_partition", &epoch_request(&t, &[(5, -1, 0)]), v);
    s.send("unknown_topic", &epoch_request(&missing, &[(0, -1, 0)]), v);
    s.send("fenced_current_epoch", &epoch_request(&t, &[(0, 3, 0)]), v);
    s.send(
        "matching_current_epoch",
        &epoch_request(&t, &[(0, 0, 0)]),
        v,
    );
    s.send("old_version_v2", &epoch_request(&t, &[(0, -1, 0)]), 2);
}

pub fn describe_log_dirs(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 2, &[]);
    s.produce(&t, 0, batch(&["a", "b", "c"]));
    s.produce(&t, 1, batch(&["d"]));
    let v = s.v(ApiKey::DescribeLogDirs);
    let one =
        DescribeLogDirsRequest::default()
            .with_topics(Some(vec![DescribableLogDirTopic::default()
                .with_topic(t.clone())
                .with_partitions(vec![0, 1, 9])]));
    s.send("describe_log_dirs_topic", &one, v);
    s.send(
        "describe_log_dirs_all",
        &DescribeLogDirsRequest::default().with_topics(None),
        v,
    );
    let missing = s.name("missing");
    let unknown =
        DescribeLogDirsRequest::default()
            .with_topics(Some(vec![DescribableLogDirTopic::default()
                .with_topic(missing)
                .with_partitions(vec![0])]));
    s.send("describe_log_dirs_unknown_topic", &unknown, v);
    s.send("describe_log_dirs_v1", &one, 1);
}

pub fn describe_producers(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 2, &[]);
    let (pid, epoch) = s.init_producer_id();
    let v = s.v(ApiKey::Produce).min(12);
    let records = batch_with(Compression::None, &["a", "b"], |b| {
        b.with_producer(pid, epoch, 0)
    });
    s.call(&produce_request(&t, 0, records, -1), v);
    s.produce(&t, 1, batch(&["plain"]));
    let dv = s.v(ApiKey::DescribeProducers);
    let missing = s.name("missing");
    let request = DescribeProducersRequest::default().with_topics(vec![
        ProducersTopic::default()
            .with_name(t)
            .with_partition_indexes(vec![0, 1, 4]),
        ProducersTopic::default()
            .with_name(missing)
            .with_partition_indexes(vec![0]),
    ]);
    s.send("describe_producers", &request, dv);
}

fn partitions_request(names: &[&str], limit: i32) -> DescribeTopicPartitionsRequest {
    DescribeTopicPartitionsRequest::default()
        .with_topics(
            names
                .iter()
                .map(|n| TopicRequest::default().with_name((*n).to_string()))
                .collect(),
        )
        .with_response_partition_limit(limit)
}

pub fn describe_topic_partitions(s: &mut Session<'_>) {
    let a = s.name("a");
    let b = s.name("b");
    s.create_topic(&a, 3, &[]);
    s.create_topic(&b, 2, &[]);
    let missing = s.name("missing");
    let v = s.v(ApiKey::DescribeTopicPartitions);
    s.send(
        "describe_two_and_unknown",
        &partitions_request(&[&b, &a, &missing], 2000),
        v,
    );
    s.send("page_of_two", &partitions_request(&[&a, &b], 2), v);
    let from_cursor = partitions_request(&[&a, &b], 2).with_cursor(Some(
        Cursor::default()
            .with_topic_name(a.clone())
            .with_partition_index(2),
    ));
    s.send("page_from_cursor", &from_cursor, v);
    s.send("all_topics", &partitions_request(&[], 2000), v);
}

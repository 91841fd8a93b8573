//! Fetch (key 1) and ListOffsets (key 2): reads, limits, long polls, isolation levels, out of
//! range and unknown partitions, leader epochs; earliest, latest, by timestamp, max timestamp.

use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{FetchRequest, ListOffsetsRequest};
use kafka_protocol::ApiKey;
use kafka_protocol::Uuid;

use crate::harness::{batch, Session};

/// A fetch of one partition at `offset`, by topic id (Fetch v13+), with generous limits.
pub fn fetch_request(id: Uuid, partition: i32, offset: i64) -> FetchRequest {
    FetchRequest::default()
        .with_max_wait_ms(0)
        .with_min_bytes(0)
        .with_max_bytes(1 << 20)
        .with_topics(vec![FetchTopic::default()
            .with_topic_id(id)
            .with_partitions(vec![partition_at(partition, offset)])])
}

fn partition_at(partition: i32, offset: i64) -> FetchPartition {
    FetchPartition::default()
        .with_partition(partition)
        .with_fetch_offset(offset)
        .with_partition_max_bytes(1 << 20)
}

/// Records a fetch of `topic`/`partition` from `offset`.
pub fn fetch_from(s: &mut Session<'_>, label: &str, topic: &str, partition: i32, offset: i64) {
    let id = s.topic_id(topic);
    let v = s.v(ApiKey::Fetch);
    s.send(label, &fetch_request(id, partition, offset), v);
}

fn list_offsets(topic: &str, partition: i32, timestamp: i64) -> ListOffsetsRequest {
    ListOffsetsRequest::default()
        .with_replica_id(-1)
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(topic.to_string())
            .with_partitions(vec![ListOffsetsPartition::default()
                .with_partition_index(partition)
                .with_timestamp(timestamp)])])
}

/// Records ListOffsets latest (-1) for `topic`/`partition`.
pub fn list_latest(s: &mut Session<'_>, label: &str, topic: &str, partition: i32) {
    let v = s.v(ApiKey::ListOffsets);
    s.send(label, &list_offsets(topic, partition, -1), v);
}

fn with_records(s: &mut Session<'_>, partitions: i32) -> (String, Uuid) {
    let t = s.name("t");
    s.create_topic(&t, partitions, &[]);
    for p in 0..partitions {
        s.produce(&t, p, batch(&["a", "b", "c"]));
        s.produce(&t, p, batch(&["d", "e"]));
    }
    let id = s.topic_id(&t);
    (t, id)
}

pub fn basic(s: &mut Session<'_>) {
    let (t, _) = with_records(s, 1);
    fetch_from(s, "fetch_from_0", &t, 0, 0);
    fetch_from(s, "fetch_from_4", &t, 0, 4);
    fetch_from(s, "fetch_at_end", &t, 0, 5);
}

pub fn by_name_v12(s: &mut Session<'_>) {
    let (t, _) = with_records(s, 1);
    let request = FetchRequest::default()
        .with_max_wait_ms(0)
        .with_min_bytes(0)
        .with_max_bytes(1 << 20)
        .with_topics(vec![FetchTopic::default()
            .with_topic(t.clone())
            .with_partitions(vec![partition_at(0, 0)])]);
    s.send("fetch_v12", &request, 12);
}

pub fn old_version_v4(s: &mut Session<'_>) {
    let (t, _) = with_records(s, 1);
    let request = FetchRequest::default()
        .with_max_wait_ms(0)
        .with_min_bytes(0)
        .with_max_bytes(1 << 20)
        .with_topics(vec![FetchTopic::default()
            .with_topic(t.clone())
            .with_partitions(vec![partition_at(0, 0)])]);
    s.send("fetch_v4", &request, 4);
}

pub fn offset_out_of_range(s: &mut Session<'_>) {
    let (t, _) = with_records(s, 1);
    fetch_from(s, "fetch_past_end", &t, 0, 100);
    fetch_from(s, "fetch_negative", &t, 0, -5);
}

pub fn partition_max_bytes_smaller_than_a_batch(s: &mut Session<'_>) {
    let (_, id) = with_records(s, 1);
    let v = s.v(ApiKey::Fetch);
    let mut request = fetch_request(id, 0, 0);
    request.topics[0].partitions[0].partition_max_bytes = 1;
    s.send("fetch_one_byte_limit", &request, v);
}

pub fn response_max_bytes(s: &mut Session<'_>) {
    let (_, id) = with_records(s, 2);
    let v = s.v(ApiKey::Fetch);
    let mut request = fetch_request(id, 0, 0).with_max_bytes(100);
    request.topics[0].partitions.push(partition_at(1, 0));
    s.send("fetch_max_bytes_100", &request, v);
}

pub fn min_bytes_waits_for_max_wait(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let id = s.topic_id(&t);
    let v = s.v(ApiKey::Fetch);
    let request = fetch_request(id, 0, 0)
        .with_min_bytes(1000)
        .with_max_wait_ms(300);
    s.send("fetch_empty_long_poll", &request, v);
}

pub fn read_committed(s: &mut Session<'_>) {
    let (_, id) = with_records(s, 1);
    let v = s.v(ApiKey::Fetch);
    let request = fetch_request(id, 0, 0).with_isolation_level(1);
    s.send("fetch_read_committed", &request, v);
}

pub fn unknown_topic_id(s: &mut Session<'_>) {
    let v = s.v(ApiKey::Fetch);
    s.send("fetch_unknown_id", &fetch_request(Uuid([5; 16]), 0, 0), v);
}

pub fn unknown_topic_by_name(s: &mut Session<'_>) {
    let t = s.name("missing");
    let request = FetchRequest::default()
        .with_max_wait_ms(0)
        .with_min_bytes(0)
        .with_max_bytes(1 << 20)
        .with_topics(vec![FetchTopic::default()
            .with_topic(t)
            .with_partitions(vec![partition_at(0, 0)])]);
    s.send("fetch_unknown_name_v12", &request, 12);
}

pub fn unknown_partition(s: &mut Session<'_>) {
    let (_, id) = with_records(s, 1);
    let v = s.v(ApiKey::Fetch);
    s.send("fetch_partition_9", &fetch_request(id, 9, 0), v);
}

pub fn current_leader_epoch_checks(s: &mut Session<'_>) {
    let (_, id) = with_records(s, 1);
    let v = s.v(ApiKey::Fetch);
    let mut request = fetch_request(id, 0, 0);
    request.topics[0].partitions[0].current_leader_epoch = 0;
    s.send("epoch_current", &request, v);
    request.topics[0].partitions[0].current_leader_epoch = 5;
    s.send("epoch_newer", &request, v);
}

pub fn several_partitions(s: &mut Session<'_>) {
    let (_, id) = with_records(s, 3);
    let v = s.v(ApiKey::Fetch);
    let mut request = fetch_request(id, 0, 3);
    request.topics[0].partitions.push(partition_at(1, 0));
    request.topics[0].partitions.push(partition_at(2, 5));
    s.send("fetch_three_partitions", &request, v);
}

pub fn list_offsets_earliest_and_latest(s: &mut Session<'_>) {
    let (t, _) = with_records(s, 1);
    let v = s.v(ApiKey::ListOffsets);
    s.send("earliest", &list_offsets(&t, 0, -2), v);
    s.send("latest", &list_offsets(&t, 0, -1), v);
}

pub fn list_offsets_by_timestamp(s: &mut Session<'_>) {
    let (t, _) = with_records(s, 1);
    let v = s.v(ApiKey::ListOffsets);
    // The records carry timestamps 1000, 1001, 1002 and 1000, 1001.
    s.send("ts_1001", &list_offsets(&t, 0, 1001), v);
    s.send("ts_1002", &list_offsets(&t, 0, 1002), v);
    s.send("ts_after_all", &list_offsets(&t, 0, 5000), v);
    s.send("ts_0", &list_offsets(&t, 0, 0), v);
}

pub fn list_offsets_max_timestamp(s: &mut Session<'_>) {
    let (t, _) = with_records(s, 1);
    let v = s.v(ApiKey::ListOffsets);
    s.send("max_timestamp", &list_offsets(&t, 0, -3), v);
}

pub fn list_offsets_earliest_local(s: &mut Session<'_>) {
    let (t, _) = with_records(s, 1);
    let v = s.v(ApiKey::ListOffsets);
    s.send("earliest_local", &list_offsets(&t, 0, -4), v);
    s.send("latest_tiered", &list_offsets(&t, 0, -5), v);
}

pub fn list_offsets_empty_partition(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let v = s.v(ApiKey::ListOffsets);
    s.send("earliest", &list_offsets(&t, 0, -2), v);
    s.send("latest", &list_offsets(&t, 0, -1), v);
    s.send("max_timestamp", &list_offsets(&t, 0, -3), v);
    s.send("by_timestamp", &list_offsets(&t, 0, 10), v);
}

pub fn list_offsets_unknown(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let missing = s.name("missing");
    let v = s.v(ApiKey::ListOffsets);
    s.send("unknown_partition", &list_offsets(&t, 4, -1), v);
    s.send("unknown_topic", &list_offsets(&missing, 0, -1), v);
}

pub fn list_offsets_v1(s: &mut Session<'_>) {
    let (t, _) = with_records(s, 1);
    s.send("latest_v1", &list_offsets(&t, 0, -1), 1);
}

pub fn list_offsets_leader_epoch(s: &mut Session<'_>) {
    let (t, _) = with_records(s, 1);
    let v = s.v(ApiKey::ListOffsets);
    let mut request = list_offsets(&t, 0, -1);
    request.topics[0].partitions[0].current_leader_epoch = 3;
    s.send("newer_epoch", &request, v);
}

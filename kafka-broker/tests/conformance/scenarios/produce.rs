//! Produce (key 0): acks 0, 1 and -1; corrupt, malformed and oversized batches; unknown topics
//! and partitions; every codec; idempotent sequences in order, duplicated, out of order and
//! with a fenced epoch; log-append time.

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{InitProducerIdRequest, ProduceRequest};
use kafka_protocol::records::Compression;
use kafka_protocol::ApiKey;

use crate::harness::{batch, batch_with, produce_request, Session};
use crate::scenarios::fetch::{fetch_from, list_latest};

/// Produce by topic name: the highest version before topic ids (v13) replaced names.
fn by_name(s: &Session<'_>) -> i16 {
    s.v(ApiKey::Produce).min(12)
}

fn produce_and_read_back(s: &mut Session<'_>, compression: Compression) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let v = by_name(s);
    let records = batch_with(compression, &["alpha", "beta", "gamma"], |b| b);
    s.send("produce", &produce_request(&t, 0, records, -1), v);
    fetch_from(s, "fetch_back", &t, 0, 0);
}

pub fn acks_1(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let v = by_name(s);
    s.send(
        "produce_acks_1",
        &produce_request(&t, 0, batch(&["a", "b"]), 1),
        v,
    );
    s.send(
        "produce_again",
        &produce_request(&t, 0, batch(&["c"]), 1),
        v,
    );
}

pub fn acks_all(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let v = by_name(s);
    s.send(
        "produce_acks_all",
        &produce_request(&t, 0, batch(&["a"]), -1),
        v,
    );
}

pub fn acks_0(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let v = by_name(s);
    s.send_expecting_silence(
        "produce_acks_0",
        &produce_request(&t, 0, batch(&["a", "b"]), 0),
        v,
    );
    list_latest(s, "latest_offset", &t, 0);
}

pub fn invalid_acks(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let v = by_name(s);
    s.send(
        "produce_acks_2",
        &produce_request(&t, 0, batch(&["a"]), 2),
        v,
    );
}

pub fn by_topic_id(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let id = s.topic_id(&t);
    let v = s.v(ApiKey::Produce);
    let request = ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(10_000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_topic_id(id)
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(0)
                .with_records(Some(batch(&["by-id"])))])]);
    s.send("produce_by_topic_id", &request, v);
}

pub fn unknown_topic_id(s: &mut Session<'_>) {
    let v = s.v(ApiKey::Produce);
    let request = ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(10_000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_topic_id(kafka_protocol::Uuid([3; 16]))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(0)
                .with_records(Some(batch(&["x"])))])]);
    s.send("produce_unknown_topic_id", &request, v);
}

pub fn bad_crc(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let mut bytes = BytesMut::from(&batch(&["payload"])[..]);
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    let v = by_name(s);
    s.send(
        "produce_bad_crc",
        &produce_request(&t, 0, bytes.freeze(), -1),
        v,
    );
    list_latest(s, "nothing_appended", &t, 0);
}

pub fn wrong_magic(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let mut bytes = BytesMut::from(&batch(&["payload"])[..]);
    bytes[16] = 1; // the magic byte
    let v = by_name(s);
    s.send(
        "produce_magic_1",
        &produce_request(&t, 0, bytes.freeze(), -1),
        v,
    );
}

pub fn truncated_batch(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let full = batch(&["payload", "more"]);
    let v = by_name(s);
    s.send(
        "produce_truncated",
        &produce_request(&t, 0, full.slice(..full.len() - 5), -1),
        v,
    );
}

pub fn two_batches_in_one_partition(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let mut both = BytesMut::from(&batch(&["a"])[..]);
    both.extend_from_slice(&batch(&["b"]));
    let v = by_name(s);
    s.send(
        "produce_two_batches",
        &produce_request(&t, 0, both.freeze(), -1),
        v,
    );
}

pub fn null_records(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    // Kafka 4.4 never answers this request; do not wait the full default timeout for it.
    s.set_timeout(std::time::Duration::from_secs(2));
    let v = by_name(s);
    let request = ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(10_000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(t)
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(0)
                .with_records(None)])]);
    s.send("produce_null_records", &request, v);
}

pub fn oversized_batch(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[("max.message.bytes", "1000")]);
    let big = "x".repeat(2000);
    let v = by_name(s);
    s.send(
        "produce_too_large",
        &produce_request(&t, 0, batch(&[&big]), -1),
        v,
    );
}

pub fn unknown_topic(s: &mut Session<'_>) {
    let t = s.name("missing");
    let v = by_name(s);
    s.send(
        "produce_unknown_topic",
        &produce_request(&t, 0, batch(&["a"]), -1),
        v,
    );
}

pub fn unknown_partition(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let v = by_name(s);
    s.send(
        "produce_partition_7",
        &produce_request(&t, 7, batch(&["a"]), -1),
        v,
    );
}

pub fn control_batch_from_client(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let records = batch_with(Compression::None, &["x"], |b| b.with_control(true));
    let v = by_name(s);
    s.send(
        "produce_control_batch",
        &produce_request(&t, 0, records, -1),
        v,
    );
}

pub fn base_offset_ignored(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let records = batch_with(Compression::None, &["a", "b"], |b| {
        b.with_base_offset(1_000)
    });
    let v = by_name(s);
    s.send(
        "produce_base_offset_1000",
        &produce_request(&t, 0, records, -1),
        v,
    );
    fetch_from(s, "fetch_back", &t, 0, 0);
}

pub fn base_offset_at_maximum(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let records = batch_with(Compression::None, &["a", "b"], |b| {
        b.with_base_offset(i64::MAX)
    });
    let v = by_name(s);
    s.send(
        "produce_base_offset_max",
        &produce_request(&t, 0, records, -1),
        v,
    );
    list_latest(s, "latest_offset", &t, 0);
}

pub fn several_topics_and_partitions(s: &mut Session<'_>) {
    let a = s.name("a");
    let b = s.name("b");
    s.create_topic(&a, 2, &[]);
    s.create_topic(&b, 1, &[]);
    let v = by_name(s);
    let part = |i: i32, value: &str| {
        PartitionProduceData::default()
            .with_index(i)
            .with_records(Some(batch(&[value])))
    };
    let request = ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(10_000)
        .with_topic_data(vec![
            TopicProduceData::default()
                .with_name(a)
                .with_partition_data(vec![part(0, "a0"), part(1, "a1")]),
            TopicProduceData::default()
                .with_name(b)
                .with_partition_data(vec![part(0, "b0"), part(1, "b1-missing")]),
        ]);
    s.send("produce_many", &request, v);
}

pub fn gzip(s: &mut Session<'_>) {
    produce_and_read_back(s, Compression::Gzip);
}

pub fn snappy(s: &mut Session<'_>) {
    produce_and_read_back(s, Compression::Snappy);
}

pub fn lz4(s: &mut Session<'_>) {
    produce_and_read_back(s, Compression::Lz4);
}

pub fn zstd(s: &mut Session<'_>) {
    produce_and_read_back(s, Compression::Zstd);
}

pub fn log_append_time(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[("message.timestamp.type", "LogAppendTime")]);
    let v = by_name(s);
    s.send(
        "produce_log_append_time",
        &produce_request(&t, 0, batch(&["a", "b"]), -1),
        v,
    );
    fetch_from(s, "fetch_back", &t, 0, 0);
}

/// An idempotent producer id and epoch (InitProducerId without a transactional id).
pub fn init_producer(s: &mut Session<'_>) -> (i64, i16) {
    s.init_producer_id()
}

/// A new one-partition topic and an idempotent producer for it: how every idempotence
/// scenario starts.
fn idempotent_topic(s: &mut Session<'_>) -> (String, i64, i16) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let (pid, epoch) = init_producer(s);
    (t, pid, epoch)
}

/// Produces `values` to partition 0 of `t` as producer `(id, epoch)` from sequence `seq`.
fn produce_seq(
    s: &mut Session<'_>,
    step: &str,
    t: &str,
    values: &[&str],
    producer: (i64, i16),
    seq: i32,
) {
    let v = by_name(s);
    s.send(
        step,
        &produce_request(t, 0, idempotent(values, producer.0, producer.1, seq), -1),
        v,
    );
}

fn idempotent(values: &[&str], pid: i64, epoch: i16, seq: i32) -> Bytes {
    batch_with(Compression::None, values, |b| {
        b.with_producer(pid, epoch, seq)
    })
}

pub fn idempotent_in_order(s: &mut Session<'_>) {
    let (t, pid, epoch) = idempotent_topic(s);
    produce_seq(s, "seq_0", &t, &["a", "b"], (pid, epoch), 0);
    produce_seq(s, "seq_2", &t, &["c"], (pid, epoch), 2);
    fetch_from(s, "fetch_back", &t, 0, 0);
}

pub fn idempotent_duplicate(s: &mut Session<'_>) {
    let (t, pid, epoch) = idempotent_topic(s);
    let v = by_name(s);
    let first = idempotent(&["a", "b"], pid, epoch, 0);
    s.send("seq_0", &produce_request(&t, 0, first.clone(), -1), v);
    s.send("seq_0_again", &produce_request(&t, 0, first, -1), v);
    list_latest(s, "latest_offset", &t, 0);
}

pub fn idempotent_older_duplicate(s: &mut Session<'_>) {
    let (t, pid, epoch) = idempotent_topic(s);
    let v = by_name(s);
    let first = idempotent(&["a"], pid, epoch, 0);
    s.send("seq_0", &produce_request(&t, 0, first.clone(), -1), v);
    produce_seq(s, "seq_1", &t, &["b"], (pid, epoch), 1);
    s.send("seq_0_again", &produce_request(&t, 0, first, -1), v);
}

pub fn idempotent_out_of_order(s: &mut Session<'_>) {
    let (t, pid, epoch) = idempotent_topic(s);
    produce_seq(s, "seq_0", &t, &["a"], (pid, epoch), 0);
    produce_seq(s, "seq_5", &t, &["b"], (pid, epoch), 5);
}

pub fn idempotent_first_sequence_not_zero(s: &mut Session<'_>) {
    let (t, pid, epoch) = idempotent_topic(s);
    produce_seq(s, "seq_3_first", &t, &["a"], (pid, epoch), 3);
}

pub fn idempotent_fenced_epoch(s: &mut Session<'_>) {
    let (t, pid, epoch) = idempotent_topic(s);
    produce_seq(s, "epoch_0_seq_0", &t, &["a"], (pid, epoch), 0);
    // KIP-360: an idempotent producer bumps its own epoch by naming its id and epoch.
    let iv = s.v(ApiKey::InitProducerId);
    let bumped = s
        .send(
            "bump_epoch",
            &InitProducerIdRequest::default()
                .with_transactional_id(None)
                .with_transaction_timeout_ms(60_000)
                .with_producer_id(pid)
                .with_producer_epoch(epoch),
            iv,
        )
        .expect("InitProducerId answered");
    let new_epoch = bumped.producer_epoch;
    produce_seq(s, "new_epoch_seq_0", &t, &["b"], (pid, new_epoch), 0);
    produce_seq(s, "old_epoch_seq_1", &t, &["c"], (pid, epoch), 1);
}

pub fn idempotent_acks_1_refused(s: &mut Session<'_>) {
    let (t, pid, epoch) = idempotent_topic(s);
    let v = by_name(s);
    s.send(
        "idempotent_acks_1",
        &produce_request(&t, 0, idempotent(&["a"], pid, epoch, 0), 1),
        v,
    );
}

/// A keyless batch (keys on the first record only, then none), uncompressed.
fn partly_keyless() -> Bytes {
    let mut builder = kafka_protocol::records::RecordBatchBuilder::new(Compression::None);
    builder
        .append(1000, Some(b"k0"), Some(b"keyed"), &[])
        .expect("append");
    builder
        .append(1001, None, Some(b"keyless"), &[])
        .expect("append");
    builder.build().expect("build")
}

/// A compacted topic refuses records without keys (INVALID_RECORD, naming the record), also
/// once compaction is turned on by appending `compact` to `cleanup.policy` (KIP-339).
pub fn compacted_topic_needs_keys(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[("cleanup.policy", "compact")]);
    let v = by_name(s);
    s.send(
        "keyless_refused",
        &produce_request(&t, 0, partly_keyless(), 1),
        v,
    );
    s.send(
        "keyed_accepted",
        &produce_request(&t, 0, batch(&["a"]), 1),
        v,
    );
    let u = s.name("u");
    s.create_topic(&u, 1, &[]);
    s.send(
        "keyless_before_compaction",
        &produce_request(&u, 0, partly_keyless(), 1),
        v,
    );
    let append = kafka_protocol::messages::IncrementalAlterConfigsRequest::default()
        .with_resources(vec![
        kafka_protocol::messages::incremental_alter_configs_request::AlterConfigsResource::default(
        )
        .with_resource_type(2)
        .with_resource_name(u.as_str())
        .with_configs(vec![
            kafka_protocol::messages::incremental_alter_configs_request::AlterableConfig::default()
                .with_name("cleanup.policy".to_string())
                .with_config_operation(2)
                .with_value(Some("compact".to_string().into())),
        ]),
    ]);
    let iv = s.v(ApiKey::IncrementalAlterConfigs);
    s.call(&append, iv);
    // Kafka applies topic configs from its metadata log, just after answering.
    std::thread::sleep(std::time::Duration::from_millis(500));
    s.send(
        "keyless_after_append_compact",
        &produce_request(&u, 0, partly_keyless(), 1),
        v,
    );
}

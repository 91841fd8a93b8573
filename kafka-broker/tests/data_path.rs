//! ApiVersions, Metadata, Produce, Fetch and ListOffsets over real sockets.

mod common;

use std::time::Duration;

use bytes::{BufMut, BytesMut};
use common::*;
use kafka_broker::{Cluster, ClusterConfig};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{
    list_offsets_request, ApiVersionsResponse, FetchResponse, ListOffsetsRequest, MetadataRequest,
    ProduceResponse,
};
use kafka_protocol::BrokerId;
use kafka_protocol::{ApiKey, ErrorCode, Message};

#[tokio::test]
async fn api_versions_lists_the_implemented_apis() {
    let cluster = cluster(1).await;
    let mut c = Client::connect(addr(&cluster, 0)).await;
    for version in [0, 3, 4] {
        let r = c.send(&common::api_versions_request(), version).await;
        assert_eq!(r.error_code, ErrorCode::None);
        let produce = r
            .api_keys
            .iter()
            .find(|k| k.api_key == 0)
            .expect("Produce listed");
        assert_eq!(produce.min_version, 3);
        let fetch = r
            .api_keys
            .iter()
            .find(|k| k.api_key == 1)
            .expect("Fetch listed");
        assert_eq!(fetch.min_version, 4);
        assert!(r
            .api_keys
            .iter()
            .any(|k| k.api_key == ApiKey::Metadata.key()));
        // The transaction APIs are served (issue 15), so advertised.
        assert!(r.api_keys.iter().any(|k| k.api_key == ApiKey::EndTxn.key()));
        // The KIP-848 consumer group protocol is not implemented, so not advertised.
        assert!(!r
            .api_keys
            .iter()
            .any(|k| k.api_key == ApiKey::ConsumerGroupHeartbeat.key()));
    }
    cluster.shutdown().await;
}

#[tokio::test]
async fn api_versions_too_new_gets_unsupported_version_with_v0_body() {
    let cluster = cluster(1).await;
    let mut c = Client::connect(addr(&cluster, 0)).await;
    // Hand-build a v99 ApiVersions request: header v2, empty flexible body.
    let mut frame = BytesMut::new();
    frame.put_i32(0);
    frame.put_i16(18);
    frame.put_i16(99);
    frame.put_i32(7);
    frame.put_i16(4);
    frame.put_slice(b"test");
    frame.put_u8(0); // header tagged fields
    frame.put_u8(1); // client_software_name ""
    frame.put_u8(1); // client_software_version ""
    frame.put_u8(0); // body tagged fields
    let size = (frame.len() - 4) as i32;
    frame[0..4].copy_from_slice(&size.to_be_bytes());
    c.send_frame(&frame).await;
    let mut body = c.read_frame().await.expect("a response");
    let correlation = i32::from_be_bytes(body[0..4].try_into().unwrap());
    assert_eq!(correlation, 7);
    let _ = body.split_to(4);
    let r = ApiVersionsResponse::decode(&mut body, 0).unwrap();
    assert_eq!(r.error_code, ErrorCode::UnsupportedVersion);
    assert!(r.api_keys.iter().any(|k| k.api_key == 18));
    cluster.shutdown().await;
}

#[tokio::test]
async fn metadata_spreads_leaders_over_brokers() {
    let cluster = cluster(3).await;
    cluster.create_topic("spread", 6, &[]).unwrap();
    let mut c = Client::connect(addr(&cluster, 1)).await;
    for version in [1, 9, 12] {
        let r = c
            .send(&MetadataRequest::default().with_topics(None), version)
            .await;
        assert_eq!(r.brokers.len(), 3);
        assert_eq!(r.controller_id, 0);
        let t = r
            .topics
            .iter()
            .find(|t| t.name.as_deref() == Some("spread"))
            .unwrap();
        assert_eq!(t.partitions.len(), 6);
        let mut per_broker = [0; 3];
        for p in &t.partitions {
            assert_eq!(p.replica_nodes, vec![p.leader_id]);
            per_broker[p.leader_id.0 as usize] += 1;
        }
        assert_eq!(per_broker, [2, 2, 2]);
        if version >= 10 {
            assert_eq!(Some(t.topic_id), cluster.topic_id("spread"));
        }
    }
    cluster.shutdown().await;
}

#[tokio::test]
async fn metadata_auto_creates_unless_disabled() {
    let cluster = Cluster::start(ClusterConfig::default().with_default_partitions(4))
        .await
        .unwrap();
    let mut c = Client::connect(addr(&cluster, 0)).await;
    let ask = |name: &str, auto: bool| {
        MetadataRequest::default()
            .with_topics(Some(vec![MetadataRequestTopic {
                name: Some(name.into()),
                ..Default::default()
            }]))
            .with_allow_auto_topic_creation(auto)
    };
    // As Kafka 4 does, the request that creates the topic reports it as not there yet; the next
    // one shows it.
    let r = c.send(&ask("auto", true), 12).await;
    assert_eq!(r.topics[0].error_code, ErrorCode::UnknownTopicOrPartition);
    let r = c.send(&ask("auto", true), 12).await;
    assert_eq!(r.topics[0].error_code, ErrorCode::None);
    assert_eq!(r.topics[0].partitions.len(), 4);
    let r = c.send(&ask("manual", false), 12).await;
    assert_eq!(r.topics[0].error_code, ErrorCode::UnknownTopicOrPartition);
    let r = c.send(&ask("bad name!", true), 12).await;
    assert_eq!(r.topics[0].error_code, ErrorCode::InvalidTopicException);
    cluster.shutdown().await;

    let cluster = Cluster::start(ClusterConfig::default().with_auto_create_topics(false))
        .await
        .unwrap();
    let mut c = Client::connect(addr(&cluster, 0)).await;
    let r = c.send(&ask("auto", true), 12).await;
    assert_eq!(r.topics[0].error_code, ErrorCode::UnknownTopicOrPartition);
    cluster.shutdown().await;
}

#[tokio::test]
async fn produce_then_fetch_round_trips_records() {
    let cluster = cluster(1).await;
    cluster.create_topic("rt", 1, &[]).unwrap();
    let mut c = Client::connect(addr(&cluster, 0)).await;
    assert_eq!(
        produce(&mut c, "rt", 0, &["a", "b", "c"]).await,
        (ErrorCode::None, 0)
    );
    assert_eq!(produce(&mut c, "rt", 0, &["d"]).await, (ErrorCode::None, 3));
    for version in [4, 11, 12] {
        let r: FetchResponse = c.send(&fetch_request("rt", 0, 1, 0, 1), version).await;
        let p = &r.responses[0].partitions[0];
        assert_eq!(p.error_code, ErrorCode::None);
        assert_eq!(p.high_watermark, 4);
        assert_eq!(p.last_stable_offset, 4);
        let got = records_of(&r);
        // Fetch returns whole batches: offset 0..2 come back with the batch that holds offset 1.
        let values: Vec<_> = got.iter().map(|(o, _, v)| (*o, v.as_str())).collect();
        assert_eq!(values, vec![(0, "a"), (1, "b"), (2, "c"), (3, "d")]);
    }
    // Past the end: OFFSET_OUT_OF_RANGE.
    let r: FetchResponse = c.send(&fetch_request("rt", 0, 99, 0, 1), 12).await;
    assert_eq!(
        r.responses[0].partitions[0].error_code,
        ErrorCode::OffsetOutOfRange
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn fetch_by_topic_id_at_v13() {
    let cluster = cluster(1).await;
    cluster.create_topic("ids", 1, &[]).unwrap();
    let mut c = Client::connect(addr(&cluster, 0)).await;
    produce(&mut c, "ids", 0, &["x"]).await;
    let mut req = fetch_request("", 0, 0, 0, 1);
    req.topics[0].topic_id = cluster.topic_id("ids").unwrap();
    let r: FetchResponse = c.send(&req, 13).await;
    assert_eq!(r.responses[0].topic_id, req.topics[0].topic_id);
    assert_eq!(records_of(&r).len(), 1);
    cluster.shutdown().await;
}

#[tokio::test]
async fn long_poll_fetch_wakes_on_produce() {
    let cluster = cluster(1).await;
    cluster.create_topic("lp", 1, &[]).unwrap();
    let a = addr(&cluster, 0);
    let fetcher = tokio::spawn(async move {
        let mut c = Client::connect(a).await;
        let started = std::time::Instant::now();
        let r: FetchResponse = c.send(&fetch_request("lp", 0, 0, 8_000, 1), 12).await;
        (records_of(&r), started.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut p = Client::connect(a).await;
    produce(&mut p, "lp", 0, &["wake"]).await;
    let (records, elapsed) = tokio::time::timeout(STEP, fetcher).await.unwrap().unwrap();
    assert_eq!(records.len(), 1);
    assert!(
        elapsed < Duration::from_secs(8),
        "fetch waited the whole max_wait: {elapsed:?}"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn fetch_returns_empty_after_max_wait() {
    let cluster = cluster(1).await;
    cluster.create_topic("idle", 1, &[]).unwrap();
    let mut c = Client::connect(addr(&cluster, 0)).await;
    let started = std::time::Instant::now();
    let r: FetchResponse = c.send(&fetch_request("idle", 0, 0, 300, 1), 12).await;
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert_eq!(r.responses[0].partitions[0].error_code, ErrorCode::None);
    assert!(records_of(&r).is_empty());
    cluster.shutdown().await;
}

#[tokio::test]
async fn fetch_respects_max_bytes_but_returns_one_batch() {
    let cluster = cluster(1).await;
    cluster.create_topic("mb", 1, &[]).unwrap();
    let mut c = Client::connect(addr(&cluster, 0)).await;
    let big = "x".repeat(1000);
    for _ in 0..3 {
        produce(&mut c, "mb", 0, &[big.as_str()]).await;
    }
    let mut req = fetch_request("mb", 0, 0, 0, 1);
    req.topics[0].partitions[0].partition_max_bytes = 10;
    let r: FetchResponse = c.send(&req, 12).await;
    assert_eq!(
        records_of(&r).len(),
        1,
        "one whole batch although above the limit"
    );
    req.topics[0].partitions[0].partition_max_bytes = 2500;
    let r: FetchResponse = c.send(&req, 12).await;
    assert_eq!(records_of(&r).len(), 2);
    cluster.shutdown().await;
}

#[tokio::test]
async fn produce_to_the_wrong_broker_is_not_leader() {
    let cluster = cluster(2).await;
    cluster.create_topic("nl", 1, &[]).unwrap();
    let (leader, epoch) = cluster.partition_leader("nl", 0).unwrap();
    let mut c = Client::connect(addr(&cluster, 1 - leader)).await;
    let r: ProduceResponse = c
        .send(&produce_request("nl", 0, batch(&["v"], 0), 1), 10)
        .await;
    let p = &r.responses[0].partition_responses[0];
    assert_eq!(p.error_code, ErrorCode::NotLeaderOrFollower);
    assert_eq!(p.current_leader.leader_id, leader);
    assert_eq!(p.current_leader.leader_epoch, epoch);
    assert_eq!(r.node_endpoints.len(), 1);
    let f: FetchResponse = c.send(&fetch_request("nl", 0, 0, 0, 1), 12).await;
    assert_eq!(
        f.responses[0].partitions[0].error_code,
        ErrorCode::NotLeaderOrFollower
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn produce_acks_zero_gets_no_response_but_appends() {
    let cluster = cluster(1).await;
    cluster.create_topic("a0", 1, &[]).unwrap();
    let mut c = Client::connect(addr(&cluster, 0)).await;
    let (_, frame) = c.frame(&produce_request("a0", 0, batch(&["v"], 0), 0), 9);
    c.send_frame(&frame).await;
    // The next response on the connection answers the next request, not the produce.
    let r = c.send(&common::api_versions_request(), 3).await;
    assert_eq!(r.error_code, ErrorCode::None);
    assert_eq!(cluster.partition_offsets("a0", 0), Some((0, 1)));
    cluster.shutdown().await;
}

#[tokio::test]
async fn produce_rejects_corrupt_and_oversized_batches() {
    let cluster = Cluster::start(ClusterConfig::default().with_message_max_bytes(2000))
        .await
        .unwrap();
    cluster.create_topic("v", 1, &[]).unwrap();
    let mut c = Client::connect(addr(&cluster, 0)).await;
    let mut bad = BytesMut::from(&batch(&["hello"], 0)[..]);
    let last = bad.len() - 1;
    bad[last] ^= 0xff;
    let r: ProduceResponse = c.send(&produce_request("v", 0, bad.freeze(), 1), 9).await;
    assert_eq!(
        r.responses[0].partition_responses[0].error_code,
        ErrorCode::CorruptMessage
    );
    let big = "y".repeat(3000);
    let r: ProduceResponse = c
        .send(&produce_request("v", 0, batch(&[big.as_str()], 0), 1), 9)
        .await;
    assert_eq!(
        r.responses[0].partition_responses[0].error_code,
        ErrorCode::MessageTooLarge
    );
    let r: ProduceResponse = c
        .send(&produce_request("v", 0, batch(&["ok"], 0), 1), 9)
        .await;
    assert_eq!(
        r.responses[0].partition_responses[0].error_code,
        ErrorCode::None
    );
    assert_eq!(cluster.partition_offsets("v", 0), Some((0, 1)));
    cluster.shutdown().await;
}

/// A producer chooses a batch's base offset; the broker must not do arithmetic on it. At
/// `i64::MAX` (where adding the record count would overflow) the batch is refused with
/// INVALID_RECORD, as Kafka refuses any base offset but 0, and the connection keeps serving.
#[tokio::test]
async fn produce_refuses_a_base_offset_at_the_maximum_without_panicking() {
    use kafka_protocol::records::{Compression, RecordBatchBuilder};
    let cluster = cluster(1).await;
    cluster.create_topic("overflow", 1, &[]).unwrap();
    let mut c = Client::connect(addr(&cluster, 0)).await;
    for base in [i64::MAX, i64::MAX - 1, -1, 1] {
        let mut b = RecordBatchBuilder::new(Compression::None).with_base_offset(base);
        for i in 0..3 {
            b.append(i, Some(b"k"), Some(b"v"), &[]).unwrap();
        }
        let r: ProduceResponse = c
            .send(&produce_request("overflow", 0, b.build().unwrap(), 1), 9)
            .await;
        let p = &r.responses[0].partition_responses[0];
        assert_eq!(p.error_code, ErrorCode::InvalidRecord, "base {base}");
        // Refused at the log: Kafka reports the log start offset with such an error.
        assert_eq!(p.log_start_offset, 0, "base {base}");
    }
    let r: ProduceResponse = c
        .send(&produce_request("overflow", 0, batch(&["ok"], 0), 1), 9)
        .await;
    assert_eq!(
        r.responses[0].partition_responses[0].error_code,
        ErrorCode::None
    );
    assert_eq!(cluster.partition_offsets("overflow", 0), Some((0, 1)));
    cluster.shutdown().await;
}

#[tokio::test]
async fn log_append_time_topics_rewrite_the_timestamp() {
    let cluster = cluster(1).await;
    cluster
        .create_topic("lat", 1, &[("message.timestamp.type", "LogAppendTime")])
        .unwrap();
    let mut c = Client::connect(addr(&cluster, 0)).await;
    let r: ProduceResponse = c
        .send(&produce_request("lat", 0, batch(&["v"], 5), 1), 9)
        .await;
    let append_time = r.responses[0].partition_responses[0].log_append_time_ms;
    assert!(append_time > 1_600_000_000_000);
    let f: FetchResponse = c.send(&fetch_request("lat", 0, 0, 0, 1), 12).await;
    let data = f.responses[0].partitions[0].records.clone().unwrap();
    // Decoding verifies the recomputed CRC.
    let batch = kafka_protocol::records::RecordBatch::decode(&mut data.clone()).unwrap();
    assert_eq!(batch.header().max_timestamp, append_time);
    let record = batch.records().next().unwrap().unwrap();
    assert_eq!(record.timestamp, append_time);
    cluster.shutdown().await;
}

#[tokio::test]
async fn list_offsets_earliest_latest_and_by_timestamp() {
    let cluster = cluster(1).await;
    cluster.create_topic("lo", 1, &[]).unwrap();
    let mut c = Client::connect(addr(&cluster, 0)).await;
    let mut p = Client::connect(addr(&cluster, 0)).await;
    // Timestamps 1000, 1001, 1002 then 1000 again.
    produce(&mut p, "lo", 0, &["a", "b", "c"]).await;
    produce(&mut p, "lo", 0, &["d"]).await;
    let ask = |ts: i64| ListOffsetsRequest {
        replica_id: BrokerId::NONE,
        topics: vec![list_offsets_request::ListOffsetsTopic {
            name: "lo".into(),
            partitions: vec![list_offsets_request::ListOffsetsPartition {
                partition_index: 0,
                current_leader_epoch: -1,
                timestamp: ts,
                max_num_offsets: 1,
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let offset =
        |r: kafka_protocol::messages::ListOffsetsResponse| r.topics[0].partitions[0].offset;
    assert_eq!(offset(c.send(&ask(-2), 7).await), 0);
    assert_eq!(offset(c.send(&ask(-1), 7).await), 4);
    assert_eq!(offset(c.send(&ask(1001), 7).await), 1);
    assert_eq!(offset(c.send(&ask(5000), 7).await), -1);
    let max = c.send(&ask(-3), 7).await;
    assert_eq!(
        (
            max.topics[0].partitions[0].offset,
            max.topics[0].partitions[0].timestamp
        ),
        (2, 1002)
    );
    let v0 = c.send(&ask(-1), 0).await;
    assert_eq!(v0.topics[0].partitions[0].old_style_offsets, vec![4]);
    cluster.shutdown().await;
}

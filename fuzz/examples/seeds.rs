//! Writes seed corpora for the fuzz targets into `fuzz/corpus/<target>/`, so the fuzzer starts
//! from valid frames instead of discovering the wire format from scratch:
//!
//! * every request and response body, default-valued, at every supported version;
//! * a few populated messages (arrays, strings, tagged fields, record batches inside Produce and
//!   Fetch) at every version they encode at;
//! * record batches built with every codec, a control batch, a multi-batch set with a partial
//!   tail, and compressed payloads for the direct decompression mode;
//! * the golden frames in `kafka-protocol/tests/golden/` (captured from real clients), if any,
//!   plus the record sets they carry.
//!
//! Every seed is also run through the target's checks, so a seed that trips one is reported here.
//!
//! Run: `cargo run --manifest-path fuzz/Cargo.toml --example seeds` (from the repository root).

use std::collections::BTreeSet;
use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::*;
use kafka_protocol::records::{
    Compression, EndTransactionMarker, RecordBatchBuilder, RecordHeader,
};
use kafka_protocol::{BrokerId, ProducerId};
use kafka_protocol::{Message, RequestBody, ResponseBody};
use kafka_protocol::{RawTaggedField, Uuid};
use kafka_protocol_fuzz::checks::{self, MessageSelector};

/// The default request and response of every API, by key.
fn defaults(api_key: ApiKey) -> Option<(RequestBody, ResponseBody)> {
    macro_rules! table {
        ($($key:ident => $req:ident, $resp:ident;)*) => {
            match api_key {
                $(ApiKey::$key => Some(($req::default().into(), $resp::default().into())),)*
                _ => None,
            }
        };
    }
    table! {
        Produce => ProduceRequest, ProduceResponse;
        Fetch => FetchRequest, FetchResponse;
        ListOffsets => ListOffsetsRequest, ListOffsetsResponse;
        Metadata => MetadataRequest, MetadataResponse;
        OffsetCommit => OffsetCommitRequest, OffsetCommitResponse;
        OffsetFetch => OffsetFetchRequest, OffsetFetchResponse;
        FindCoordinator => FindCoordinatorRequest, FindCoordinatorResponse;
        JoinGroup => JoinGroupRequest, JoinGroupResponse;
        Heartbeat => HeartbeatRequest, HeartbeatResponse;
        LeaveGroup => LeaveGroupRequest, LeaveGroupResponse;
        SyncGroup => SyncGroupRequest, SyncGroupResponse;
        DescribeGroups => DescribeGroupsRequest, DescribeGroupsResponse;
        ListGroups => ListGroupsRequest, ListGroupsResponse;
        SaslHandshake => SaslHandshakeRequest, SaslHandshakeResponse;
        ApiVersions => ApiVersionsRequest, ApiVersionsResponse;
        CreateTopics => CreateTopicsRequest, CreateTopicsResponse;
        DeleteTopics => DeleteTopicsRequest, DeleteTopicsResponse;
        DeleteRecords => DeleteRecordsRequest, DeleteRecordsResponse;
        InitProducerId => InitProducerIdRequest, InitProducerIdResponse;
        OffsetForLeaderEpoch => OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse;
        AddPartitionsToTxn => AddPartitionsToTxnRequest, AddPartitionsToTxnResponse;
        AddOffsetsToTxn => AddOffsetsToTxnRequest, AddOffsetsToTxnResponse;
        EndTxn => EndTxnRequest, EndTxnResponse;
        WriteTxnMarkers => WriteTxnMarkersRequest, WriteTxnMarkersResponse;
        TxnOffsetCommit => TxnOffsetCommitRequest, TxnOffsetCommitResponse;
        DescribeAcls => DescribeAclsRequest, DescribeAclsResponse;
        CreateAcls => CreateAclsRequest, CreateAclsResponse;
        DeleteAcls => DeleteAclsRequest, DeleteAclsResponse;
        DescribeConfigs => DescribeConfigsRequest, DescribeConfigsResponse;
        AlterConfigs => AlterConfigsRequest, AlterConfigsResponse;
        DescribeLogDirs => DescribeLogDirsRequest, DescribeLogDirsResponse;
        SaslAuthenticate => SaslAuthenticateRequest, SaslAuthenticateResponse;
        CreatePartitions => CreatePartitionsRequest, CreatePartitionsResponse;
        DeleteGroups => DeleteGroupsRequest, DeleteGroupsResponse;
        ElectLeaders => ElectLeadersRequest, ElectLeadersResponse;
        IncrementalAlterConfigs => IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse;
        OffsetDelete => OffsetDeleteRequest, OffsetDeleteResponse;
        DescribeClientQuotas => DescribeClientQuotasRequest, DescribeClientQuotasResponse;
        DescribeUserScramCredentials =>
            DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse;
        AlterUserScramCredentials =>
            AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse;
        DescribeCluster => DescribeClusterRequest, DescribeClusterResponse;
        DescribeProducers => DescribeProducersRequest, DescribeProducersResponse;
        DescribeTransactions => DescribeTransactionsRequest, DescribeTransactionsResponse;
        ListTransactions => ListTransactionsRequest, ListTransactionsResponse;
        ConsumerGroupHeartbeat => ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse;
        ConsumerGroupDescribe => ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse;
    }
}

/// A small record batch with keys, values, headers and a null value.
fn sample_batch(codec: Compression, base_offset: i64) -> Option<Bytes> {
    let mut builder = RecordBatchBuilder::new(codec).with_base_offset(base_offset);
    let headers = [
        RecordHeader::new("trace", Some(Bytes::from_static(b"abc"))),
        RecordHeader::new("empty", None),
    ];
    builder
        .append(
            1_700_000_000_000,
            Some(b"key-1"),
            Some(b"value one"),
            &headers,
        )
        .ok()?;
    builder
        .append(1_700_000_000_005, None, Some(&[7u8; 40][..]), &[])
        .ok()?;
    builder
        .append(1_699_999_999_990, Some(b"tombstone"), None, &[])
        .ok()?;
    builder.build().ok()
}

/// Populated messages: arrays with elements, strings, nullable fields, unknown tagged fields and
/// record batches, so the fuzzer mutates real structure.
fn populated() -> Vec<(RequestBody, ResponseBody)> {
    let records = sample_batch(Compression::Lz4, 0);
    let tagged = vec![RawTaggedField {
        tag: 99,
        data: Bytes::from_static(b"\x01\x02"),
    }];
    let topic_id = Uuid([7; 16]);

    let produce = |by_id: bool| {
        ProduceRequest::default()
            .with_transactional_id(Some("txn".into()))
            .with_acks(-1)
            .with_timeout_ms(30_000)
            .with_topic_data(vec![produce_request::TopicProduceData {
                name: if by_id {
                    String::new().into()
                } else {
                    "orders".into()
                },
                topic_id: if by_id { topic_id } else { Uuid::ZERO },
                partition_data: vec![produce_request::PartitionProduceData {
                    index: 3,
                    records: records.clone(),
                    ..Default::default()
                }],
                ..Default::default()
            }])
    };
    let fetch_response = |by_id: bool| {
        FetchResponse::default()
            .with_session_id(5)
            .with_responses(vec![fetch_response::FetchableTopicResponse {
                topic: if by_id {
                    String::new().into()
                } else {
                    "orders".into()
                },
                topic_id: if by_id { topic_id } else { Uuid::ZERO },
                partitions: vec![fetch_response::PartitionData {
                    partition_index: 3,
                    high_watermark: 10,
                    aborted_transactions: Some(vec![fetch_response::AbortedTransaction {
                        producer_id: ProducerId(4),
                        first_offset: 1,
                        ..Default::default()
                    }]),
                    records: records.clone(),
                    ..Default::default()
                }],
                ..Default::default()
            }])
    };
    let fetch_request = |by_id: bool| FetchRequest {
        max_wait_ms: 500,
        min_bytes: 1,
        max_bytes: 1 << 20,
        topics: vec![fetch_request::FetchTopic {
            topic: if by_id {
                String::new().into()
            } else {
                "orders".into()
            },
            topic_id: if by_id { topic_id } else { Uuid::ZERO },
            partitions: vec![fetch_request::FetchPartition {
                partition: 3,
                fetch_offset: 42,
                partition_max_bytes: 1 << 20,
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let metadata_request = MetadataRequest::default().with_topics(Some(vec![
        metadata_request::MetadataRequestTopic {
            name: Some("orders".into()),
            ..Default::default()
        },
    ]));
    let metadata_response = MetadataResponse {
        brokers: vec![metadata_response::MetadataResponseBroker {
            node_id: BrokerId(1),
            host: "broker-1".into(),
            port: 9092,
            rack: Some("r1".into()),
            ..Default::default()
        }],
        cluster_id: Some("cluster".into()),
        controller_id: BrokerId(1),
        topics: vec![metadata_response::MetadataResponseTopic {
            name: Some("orders".into()),
            partitions: vec![metadata_response::MetadataResponsePartition {
                partition_index: 0,
                leader_id: BrokerId(1),
                replica_nodes: vec![BrokerId(1), BrokerId(2), BrokerId(3)],
                isr_nodes: vec![BrokerId(1), BrokerId(2)],
                ..Default::default()
            }],
            ..Default::default()
        }],
        unknown_tagged_fields: tagged.clone(),
        ..Default::default()
    };
    let api_versions = ApiVersionsResponse {
        api_keys: ApiKey::ALL
            .iter()
            .map(|k| api_versions_response::ApiVersion {
                api_key: k.key(),
                min_version: k.versions().min,
                max_version: k.versions().max,
                ..Default::default()
            })
            .collect(),
        unknown_tagged_fields: tagged,
        ..Default::default()
    };
    vec![
        (produce(false).into(), fetch_response(false).into()),
        (produce(true).into(), fetch_response(true).into()),
        (fetch_request(false).into(), api_versions.into()),
        (fetch_request(true).into(), metadata_response.into()),
        (metadata_request.into(), ProduceResponse::default().into()),
    ]
}

/// Collects seeds per target, deduplicated, and checks each one.
struct Corpus {
    root: PathBuf,
    seeds: Vec<(&'static str, Vec<u8>)>,
    seen: BTreeSet<(&'static str, Vec<u8>)>,
}

impl Corpus {
    fn add(&mut self, target: &'static str, seed: Vec<u8>) {
        if self.seen.insert((target, seed.clone())) {
            self.seeds.push((target, seed));
        }
    }

    /// A request/response pair at `version`, for both message targets.
    fn add_pair(&mut self, api_key: ApiKey, version: i16, req: &RequestBody, resp: &ResponseBody) {
        let mut body = BytesMut::new();
        if req.encode(&mut body, version).is_ok() {
            let header = RequestHeader::default()
                .with_request_api_key(api_key.key())
                .with_request_api_version(version)
                .with_correlation_id(7)
                .with_client_id(Some("seed".into()));
            let mut frame = BytesMut::new();
            if header
                .encode(&mut frame, api_key.request_header_version(version))
                .is_ok()
            {
                frame.extend_from_slice(&body);
                self.add("frame", frame.to_vec());
            }
            self.add_message(api_key, version, false, &body);
        }
        let mut body = BytesMut::new();
        if resp.encode(&mut body, version).is_ok() {
            let mut frame = Vec::new();
            frame.extend_from_slice(&api_key.key().to_be_bytes());
            frame.extend_from_slice(&version.to_be_bytes());
            let mut header = BytesMut::new();
            let header_version = api_key.response_header_version(version);
            if ResponseHeader::default()
                .with_correlation_id(7)
                .encode(&mut header, header_version)
                .is_ok()
            {
                frame.extend_from_slice(&header);
                frame.extend_from_slice(&body);
                self.add("frame", frame);
            }
            self.add_message(api_key, version, true, &body);
        }
    }

    fn add_message(&mut self, api_key: ApiKey, version: i16, response: bool, body: &[u8]) {
        let selector = MessageSelector {
            api_key,
            version,
            response,
            prefixes: true,
        };
        if let Some(head) = selector.to_bytes() {
            let mut seed = head.to_vec();
            seed.extend_from_slice(body);
            self.add("message", seed);
        }
    }

    /// A record set, with CRC checking on and the largest cap.
    fn add_records(&mut self, set: &[u8]) {
        let mut seed = vec![0b0000_0111];
        seed.extend_from_slice(set);
        self.add("record_batch", seed);
    }

    /// Writes the seeds and runs each through its target's checks; returns the failures.
    fn finish(self) -> usize {
        let mut failures = 0;
        for (target, seed) in &self.seeds {
            let dir = self.root.join(target);
            if let Err(error) = fs::create_dir_all(&dir) {
                panic!("{}: {error}", dir.display());
            }
            let name = format!("seed-{:016x}", fnv1a(seed));
            if let Err(error) = fs::write(dir.join(name), seed) {
                panic!("{}: {error}", dir.display());
            }
            let check: fn(&[u8]) = match *target {
                "frame" => checks::frame,
                "message" => checks::message,
                _ => checks::record_batch,
            };
            if catch_unwind(AssertUnwindSafe(|| check(seed))).is_err() {
                failures += 1;
                eprintln!("seed for {target} fails its checks: {seed:02x?}");
            }
        }
        for target in ["frame", "message", "record_batch"] {
            let n = self.seeds.iter().filter(|(t, _)| *t == target).count();
            println!(
                "{target}: {n} seeds in {}",
                self.root.join(target).display()
            );
        }
        failures
    }
}

/// A stable content hash for seed file names.
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Golden frames are `<client>/<seq>_<ApiName>_v<version>_<req|resp>.bin`, without the size
/// prefix.
fn add_golden(corpus: &mut Corpus, dir: &Path) {
    let Ok(clients) = fs::read_dir(dir) else {
        return;
    };
    for client in clients.flatten() {
        let Ok(files) = fs::read_dir(client.path()) else {
            continue;
        };
        for file in files.flatten() {
            let name = file.file_name().to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(".bin") else {
                continue;
            };
            let parts: Vec<&str> = stem.split('_').collect();
            let [_, api_name, version, side] = parts[..] else {
                continue;
            };
            let Some(api_key) = ApiKey::ALL.iter().copied().find(|k| k.name() == api_name) else {
                continue;
            };
            let Some(Ok(version)) = version.strip_prefix('v').map(str::parse::<i16>) else {
                continue;
            };
            let Ok(frame) = fs::read(file.path()) else {
                continue;
            };
            add_golden_frame(corpus, api_key, version, side == "resp", frame);
        }
    }
}

fn add_golden_frame(
    corpus: &mut Corpus,
    api_key: ApiKey,
    version: i16,
    response: bool,
    frame: Vec<u8>,
) {
    let mut buf = Bytes::from(frame.clone());
    if response {
        let mut seed = api_key.key().to_be_bytes().to_vec();
        seed.extend_from_slice(&version.to_be_bytes());
        seed.extend_from_slice(&frame);
        corpus.add("frame", seed);
        if ResponseHeader::decode(&mut buf, api_key.response_header_version(version)).is_err() {
            return;
        }
        corpus.add_message(api_key, version, true, &buf);
        if let Ok(ResponseBody::Fetch(fetch)) = ResponseBody::decode(api_key, &mut buf, version) {
            let sets = fetch.responses.iter().flat_map(|t| &t.partitions);
            for records in sets.filter_map(|p| p.records.as_ref()) {
                corpus.add_records(records);
            }
        }
    } else {
        corpus.add("frame", frame);
        if RequestHeader::decode(&mut buf, api_key.request_header_version(version)).is_err() {
            return;
        }
        corpus.add_message(api_key, version, false, &buf);
        if let Ok(RequestBody::Produce(produce)) = RequestBody::decode(api_key, &mut buf, version) {
            let sets = produce.topic_data.iter().flat_map(|t| &t.partition_data);
            for records in sets.filter_map(|p| p.records.as_ref()) {
                corpus.add_records(records);
            }
        }
    }
}

fn main() {
    let fuzz_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut corpus = Corpus {
        root: fuzz_dir.join("corpus"),
        seeds: Vec::new(),
        seen: BTreeSet::new(),
    };

    let pairs: Vec<_> = ApiKey::ALL.iter().filter_map(|k| defaults(*k)).collect();
    for (req, resp) in pairs.iter().chain(&populated()) {
        let api_key = req.api_key();
        let range = api_key.versions();
        for version in range.min..=range.max {
            corpus.add_pair(api_key, version, req, resp);
        }
    }

    let codecs = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];
    let mut set = Vec::new();
    for (i, codec) in codecs.into_iter().enumerate() {
        if let Some(batch) = sample_batch(codec, 100 * i as i64) {
            corpus.add_records(&batch);
            set.extend_from_slice(&batch);
        }
        // The direct decompression mode: bit 7, codec in bits 4-6, largest cap.
        let mut payload = vec![0x80 | ((codec.id() as u8) << 4) | 0b110];
        if codec
            .compress(b"hello hello hello kafka", None, &mut payload)
            .is_ok()
        {
            corpus.add("record_batch", payload);
        }
    }
    let marker = EndTransactionMarker {
        committed: true,
        coordinator_epoch: 3,
    };
    if let Ok(control) = marker.encode_batch(9, 1, 1_700_000_000_000) {
        corpus.add_records(&control);
        set.extend_from_slice(&control);
    }
    // A record set of several batches, then one cut short as a Fetch response may end.
    if let Some(tail) = sample_batch(Compression::None, 1000) {
        set.extend_from_slice(&tail[..tail.len() / 2]);
    }
    corpus.add_records(&set);

    add_golden(
        &mut corpus,
        &fuzz_dir.join("../kafka-protocol/tests/golden"),
    );

    let failures = corpus.finish();
    if failures > 0 {
        eprintln!("{failures} seeds fail their checks");
        std::process::exit(1);
    }
}

//! Quickstart: the SDK's main job end to end, with no Kafka installed.
//!
//! Starts a 3-broker cluster in this process (`kafka-broker`), creates a topic (CreateTopics),
//! finds partition leaders (Metadata), produces keyed records with the producer
//! (`kafka-producer`), joins a consumer group (FindCoordinator, JoinGroup, SyncGroup), consumes
//! what it was assigned (Fetch), commits its position (OffsetCommit, OffsetFetch) and leaves the
//! group (LeaveGroup).
//!
//! The consumer and admin clients will replace the hand-written requests below as they land, as
//! the producer already has; this example then shrinks to their calls.
//!
//! Run it with `cargo run --example quickstart`.

use std::collections::HashMap;
use std::error::Error;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kafka_sdk::broker::{Cluster, ClusterConfig};
use kafka_sdk::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_sdk::protocol::frame::{self, FrameSplitter};
use kafka_sdk::protocol::messages::{
    consumer_protocol_assignment, create_topics_request, fetch_request, join_group_request,
    metadata_request, offset_commit_request, offset_fetch_request, ApiVersionsRequest,
    ConsumerProtocolAssignment, ConsumerProtocolSubscription, CreateTopicsRequest, FetchRequest,
    FindCoordinatorRequest, JoinGroupRequest, LeaveGroupRequest, MetadataRequest,
    OffsetCommitRequest, OffsetFetchRequest, SyncGroupRequest,
};
use kafka_sdk::protocol::records::{Compression, RecordSet};
use kafka_sdk::protocol::{consumer_protocol, ApiKey, BrokerId, ErrorCode, Request, TopicName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const TOPIC: &str = "quickstart-events";
const GROUP: &str = "quickstart-group";
const PARTITIONS: i32 = 3;
/// Every network wait in this example is bounded.
const TIMEOUT: Duration = Duration::from_secs(10);

/// One connection to one broker: framed requests with correlation ids, answered in order.
struct Connection {
    stream: TcpStream,
    correlation_id: i32,
    /// The version of each API both sides support (from ApiVersions).
    versions: HashMap<ApiKey, i16>,
}

impl Connection {
    async fn open(addr: SocketAddr) -> Result<Connection> {
        let stream = tokio::time::timeout(TIMEOUT, TcpStream::connect(addr)).await??;
        let mut conn = Connection {
            stream,
            correlation_id: 0,
            versions: HashMap::new(),
        };
        // ApiVersions v3 is flexible; its response header is nevertheless v0 (KIP-511).
        let resp = conn
            .call(
                &ApiVersionsRequest::default()
                    .with_client_software_name("kafka-sdk-quickstart")
                    .with_client_software_version(env!("CARGO_PKG_VERSION")),
                3,
            )
            .await?;
        resp.error_code.into_result()?;
        for k in &resp.api_keys {
            if let Some(api) = ApiKey::from_i16(k.api_key) {
                let ours = api.versions();
                let stable = api.max_stable_version();
                let theirs = kafka_sdk::protocol::VersionRange {
                    min: k.min_version,
                    max: k.max_version,
                };
                let range = kafka_sdk::protocol::VersionRange {
                    min: ours.min,
                    max: stable,
                };
                if let Some(v) = range.highest_common(theirs) {
                    conn.versions.insert(api, v);
                }
            }
        }
        Ok(conn)
    }

    /// Sends `request` at the negotiated version and waits for its response.
    async fn send<R: Request>(&mut self, request: &R) -> Result<R::Response> {
        let version = *self
            .versions
            .get(&R::API_KEY)
            .ok_or("broker lacks an API")?;
        self.call(request, version).await
    }

    async fn call<R: Request>(&mut self, request: &R, version: i16) -> Result<R::Response> {
        self.correlation_id += 1;
        // kafka_protocol::frame writes the size prefix and the request header of the right
        // version for this API and version.
        let mut out = BytesMut::new();
        frame::encode_request(
            &mut out,
            self.correlation_id,
            Some("quickstart"),
            request,
            version,
        )?;
        tokio::time::timeout(TIMEOUT, self.stream.write_all(&out)).await??;

        // Read until the splitter has one whole frame, whose size it checks against a cap.
        let splitter = FrameSplitter::new(64 << 20);
        let mut input = BytesMut::new();
        let response = loop {
            if let Some(response) = splitter.next_frame(&mut input)? {
                break response;
            }
            let read = tokio::time::timeout(TIMEOUT, self.stream.read_buf(&mut input)).await??;
            if read == 0 {
                return Err("the broker closed the connection".into());
            }
        };
        let (correlation_id, body) = frame::decode_response::<R>(response, version)?;
        if correlation_id != self.correlation_id {
            return Err("response out of order".into());
        }
        Ok(body)
    }
}

/// The consumer protocol's subscription, which JoinGroup carries for protocol type "consumer".
fn subscription(topics: &[&str]) -> Result<Bytes> {
    let subscription = ConsumerProtocolSubscription::default()
        .with_topics(topics.iter().map(|t| TopicName::from(*t)).collect());
    Ok(consumer_protocol::encode_subscription(&subscription, 0)?)
}

/// The consumer protocol's assignment the leader hands a member through SyncGroup.
fn assignment(topic: &str, partitions: &[i32]) -> Result<Bytes> {
    let assignment = ConsumerProtocolAssignment::default().with_assigned_partitions(vec![
        consumer_protocol_assignment::TopicPartition::default()
            .with_topic(topic)
            .with_partitions(partitions.to_vec()),
    ]);
    Ok(consumer_protocol::encode_assignment(&assignment, 0)?)
}

fn parse_assignment(bytes: &Bytes) -> Result<Vec<(TopicName, Vec<i32>)>> {
    let (_version, assignment) = consumer_protocol::decode_assignment(bytes)?;
    Ok(assignment
        .assigned_partitions
        .into_iter()
        .map(|t| (t.topic, t.partitions))
        .collect())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    // 1. A three-broker cluster on loopback, in this process.
    let cluster = Cluster::start(ClusterConfig::default().with_brokers(3)).await?;
    println!(
        "started 3 brokers: bootstrap {}",
        cluster.bootstrap_servers()
    );
    let addrs: HashMap<BrokerId, SocketAddr> = cluster
        .brokers()
        .into_iter()
        .map(|(id, addr)| (BrokerId(id), addr))
        .collect();
    let mut bootstrap = Connection::open(addrs[&BrokerId(0)]).await?;
    println!("negotiated {} APIs with broker 0", bootstrap.versions.len());

    // 2. Create a topic through the controller.
    let meta = bootstrap.send(&MetadataRequest::default()).await?;
    let mut controller = Connection::open(addrs[&meta.controller_id]).await?;
    let created = controller
        .send(
            &CreateTopicsRequest::default()
                .with_timeout_ms(5000)
                .with_topics(vec![create_topics_request::CreatableTopic::default()
                    .with_name(TOPIC)
                    .with_num_partitions(PARTITIONS)
                    .with_replication_factor(1)]),
        )
        .await?;
    created.topics[0].error_code.into_result()?;
    println!("created topic {TOPIC} with {PARTITIONS} partitions");

    // 3. Find each partition's leader and open a connection to it.
    let meta = bootstrap
        .send(&MetadataRequest::default().with_topics(Some(vec![
            metadata_request::MetadataRequestTopic::default().with_name(Some(TOPIC.into())),
        ])))
        .await?;
    let topic_id = meta.topics[0].topic_id;
    let mut leaders = HashMap::new();
    for p in &meta.topics[0].partitions {
        leaders.insert(p.partition_index, p.leader_id);
        println!(
            "  partition {} is led by broker {}",
            p.partition_index, p.leader_id
        );
    }
    let mut conns: HashMap<BrokerId, Connection> = HashMap::new();
    for id in leaders.values() {
        if !conns.contains_key(id) {
            conns.insert(*id, Connection::open(addrs[id]).await?);
        }
    }

    // 4. Produce keyed records with the producer (kafka-producer): it picks each record's
    //    partition as the Java client would (murmur2 of the key), batches per partition,
    //    compresses with lz4 and waits for acks=all; idempotence is on, as in Java.
    let producer = Producer::new(
        ProducerConfig::new(&cluster.bootstrap_servers()).with_compression(Compression::Lz4),
    )
    .await?;
    let mut deliveries = Vec::new();
    for i in 0..6 {
        let key = format!("user-{i}");
        let record = ProducerRecord::new(TOPIC)
            .with_key(key.clone())
            .with_value(format!("event {i} for {key}"));
        deliveries.push((key, producer.send(record).await?));
    }
    for (key, delivery) in deliveries {
        let written = delivery.await?;
        println!(
            "produced {key} to partition {} at offset {}",
            written.partition, written.offset
        );
    }
    producer.close(TIMEOUT).await;

    // 5. Join a consumer group: find the coordinator, join (twice: KIP-394 hands out the member
    //    id on the first try), and as the leader assign every partition to ourselves.
    // FindCoordinator v4+ batches keys (KIP-699); older versions take one key.
    let find = if bootstrap
        .versions
        .get(&ApiKey::FindCoordinator)
        .is_some_and(|v| *v >= 4)
    {
        FindCoordinatorRequest::default().with_coordinator_keys(vec![GROUP.into()])
    } else {
        FindCoordinatorRequest::default().with_key(GROUP)
    };
    let coord = bootstrap.send(&find).await?;
    let coordinator_id = coord
        .coordinators
        .first()
        .map_or(coord.node_id, |c| c.node_id);
    let mut coordinator = Connection::open(addrs[&coordinator_id]).await?;
    println!("group {GROUP} is coordinated by broker {coordinator_id}");
    let mut join = JoinGroupRequest::default()
        .with_group_id(GROUP)
        .with_session_timeout_ms(10_000)
        .with_rebalance_timeout_ms(10_000)
        .with_protocol_type("consumer")
        .with_protocols(vec![join_group_request::JoinGroupRequestProtocol::default(
        )
        .with_name("range")
        .with_metadata(subscription(&[TOPIC])?)]);
    let mut joined = coordinator.send(&join).await?;
    if joined.error_code == ErrorCode::MemberIdRequired {
        join.member_id = joined.member_id.clone();
        joined = coordinator.send(&join).await?;
    }
    joined.error_code.into_result()?;
    let member_id = joined.member_id.clone();
    println!(
        "joined generation {} as {member_id} (leader: {})",
        joined.generation_id,
        joined.leader == member_id
    );
    let all: Vec<i32> = (0..PARTITIONS).collect();
    let synced = coordinator
        .send(&SyncGroupRequest::default()
            .with_group_id(GROUP)
            .with_generation_id(joined.generation_id)
            .with_member_id(member_id.clone())
            .with_protocol_type(Some("consumer".into()))
            .with_protocol_name(Some("range".into()))
            .with_assignments(vec![kafka_sdk::protocol::messages::sync_group_request::SyncGroupRequestAssignment::default()
                .with_member_id(member_id.clone())
                .with_assignment(assignment(TOPIC, &all)?)]))
        .await?;
    synced.error_code.into_result()?;
    let assigned = parse_assignment(&synced.assignment)?;
    println!("assigned {:?}", assigned);

    // 6. Consume every assigned partition from its leader, then commit the next offsets.
    let mut commits = Vec::new();
    for (topic, partitions) in &assigned {
        for &partition in partitions {
            let conn = conns
                .get_mut(&leaders[&partition])
                .ok_or("no leader connection")?;
            let resp = conn
                .send(
                    &FetchRequest::default()
                        .with_max_wait_ms(500)
                        .with_min_bytes(1)
                        .with_topics(vec![fetch_request::FetchTopic::default()
                            .with_topic(topic.clone())
                            .with_topic_id(topic_id)
                            .with_partitions(vec![fetch_request::FetchPartition::default()
                                .with_partition(partition)
                                .with_fetch_offset(0)
                                .with_partition_max_bytes(1 << 20)])]),
                )
                .await?;
            let data = &resp.responses[0].partitions[0];
            data.error_code.into_result()?;
            let mut next = 0;
            for batch in RecordSet::decode(data.records.clone().unwrap_or_default())?.batches {
                for record in batch.records() {
                    let r = record?;
                    let key =
                        String::from_utf8_lossy(r.key.as_deref().unwrap_or_default()).into_owned();
                    let value = String::from_utf8_lossy(r.value.as_deref().unwrap_or_default())
                        .into_owned();
                    println!("consumed {topic}/{partition}@{}: {key} = {value}", r.offset);
                    next = r.offset + 1;
                }
            }
            commits.push((partition, next));
        }
    }
    let committed =
        coordinator
            .send(
                &OffsetCommitRequest::default()
                    .with_group_id(GROUP)
                    .with_generation_id_or_member_epoch(joined.generation_id)
                    .with_member_id(member_id.clone())
                    .with_topics(
                        vec![offset_commit_request::OffsetCommitRequestTopic::default()
                .with_name(TOPIC)
                .with_topic_id(topic_id)
                .with_partitions(commits.iter().map(|(p, o)| {
                    offset_commit_request::OffsetCommitRequestPartition::default()
                        .with_partition_index(*p)
                        .with_committed_offset(*o)
                }).collect())],
                    ),
            )
            .await?;
    for p in &committed.topics[0].partitions {
        p.error_code.into_result()?;
    }
    // OffsetFetch v8+ batches groups (KIP-709); older versions name one group at top level.
    let offset_fetch = if coordinator
        .versions
        .get(&ApiKey::OffsetFetch)
        .is_some_and(|v| *v >= 8)
    {
        OffsetFetchRequest::default().with_groups(vec![
            offset_fetch_request::OffsetFetchRequestGroup::default()
                .with_group_id(GROUP)
                .with_member_id(Some(member_id.clone()))
                .with_member_epoch(joined.generation_id)
                .with_topics(Some(vec![
                    offset_fetch_request::OffsetFetchRequestTopics::default()
                        .with_name(TOPIC)
                        .with_topic_id(topic_id)
                        .with_partition_indexes(all.clone()),
                ])),
        ])
    } else {
        OffsetFetchRequest::default()
            .with_group_id(GROUP)
            .with_topics(Some(vec![
                offset_fetch_request::OffsetFetchRequestTopic::default()
                    .with_name(TOPIC)
                    .with_partition_indexes(all.clone()),
            ]))
    };
    let fetched = coordinator.send(&offset_fetch).await?;
    let positions: Vec<(i32, i64)> = match fetched.groups.first() {
        Some(g) => g
            .topics
            .iter()
            .flat_map(|t| {
                t.partitions
                    .iter()
                    .map(|p| (p.partition_index, p.committed_offset))
            })
            .collect(),
        None => fetched
            .topics
            .iter()
            .flat_map(|t| {
                t.partitions
                    .iter()
                    .map(|p| (p.partition_index, p.committed_offset))
            })
            .collect(),
    };
    println!("committed offsets for {GROUP}: {positions:?}");

    // 7. Leave the group and shut the cluster down.
    // LeaveGroup v3+ names a batch of members (KIP-345); older versions one member id.
    let leave = if coordinator
        .versions
        .get(&ApiKey::LeaveGroup)
        .is_some_and(|v| *v >= 3)
    {
        LeaveGroupRequest::default()
            .with_group_id(GROUP)
            .with_members(vec![
                kafka_sdk::protocol::messages::leave_group_request::MemberIdentity::default()
                    .with_member_id(member_id.clone()),
            ])
    } else {
        LeaveGroupRequest::default()
            .with_group_id(GROUP)
            .with_member_id(member_id.clone())
    };
    let left = coordinator.send(&leave).await?;
    left.error_code.into_result()?;
    println!("left group {GROUP}");
    cluster.shutdown().await;
    println!("cluster shut down");
    Ok(())
}

//! Quickstart: the SDK's main job end to end, with no Kafka installed.
//!
//! Starts a 3-broker cluster in this process (`kafka-broker`), creates a replicated topic with the
//! admin client (`kafka-admin`), produces keyed records with the producer (`kafka-producer`),
//! consumes them as a member of a consumer group (`kafka-consumer`), commits what it read, leaves
//! the group, and reads the group's committed offsets back with the admin client.
//!
//! Run it with `cargo run --example quickstart`.

use std::error::Error;
use std::time::{Duration, Instant};

use kafka_sdk::admin::{AdminClient, AdminConfig, NewTopic};
use kafka_sdk::broker::{Cluster, ClusterConfig};
use kafka_sdk::consumer::{Consumer, ConsumerConfig, OffsetReset};
use kafka_sdk::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_sdk::protocol::records::Compression;
use kafka_sdk::protocol::{ApiKey, TopicName};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const TOPIC: &str = "quickstart-events";
const GROUP: &str = "quickstart-group";
const PARTITIONS: i32 = 3;
const RECORDS: usize = 6;
/// Every wait in this example is bounded.
const TIMEOUT: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> Result<()> {
    // 1. A three-broker cluster on loopback, in this process.
    let cluster = Cluster::start(ClusterConfig::default().with_brokers(3)).await?;
    let bootstrap = cluster.bootstrap_servers();
    println!("started 3 brokers: bootstrap {bootstrap}");

    // 2. Create a topic with the admin client: it bootstraps, negotiates API versions with each
    //    broker (ApiVersions), sends CreateTopics to the controller and reports per topic.
    let admin = AdminClient::connect(AdminConfig::new(&bootstrap)).await?;
    let created = admin
        .create_topics(vec![
            NewTopic::new(TOPIC, PARTITIONS, 2).with_config("retention.ms", "3600000")
        ])
        .await?;
    created[TOPIC].clone()?;
    let described = admin.describe_topics(&[TOPIC.to_string()]).await?;
    for p in &described[TOPIC].clone()?.partitions {
        let leader = p.leader.map_or("none".into(), |b| b.to_string());
        println!(
            "created {TOPIC} partition {}, replicas {:?}, led by broker {leader}",
            p.partition, p.replicas
        );
    }
    let client = admin.client().clone();

    // 3. Produce keyed records: the producer picks each record's partition as the Java client
    //    would (murmur2 of the key), batches per partition, compresses with lz4 and waits for
    //    acks=all; idempotence is on, as in Java.
    let producer =
        Producer::new(ProducerConfig::new(&bootstrap).with_compression(Compression::Lz4)).await?;
    let mut deliveries = Vec::new();
    for i in 0..RECORDS {
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

    // 4. Consume in a group: the consumer finds the group's coordinator, joins, is assigned
    //    every partition (it is the only member, and the leader), fetches from each leader and
    //    commits what it read.
    let mut consumer = Consumer::new(
        ConsumerConfig::new(&bootstrap)
            .with_group_id(GROUP)
            .with_auto_offset_reset(OffsetReset::Earliest),
    )
    .await?;
    consumer.subscribe([TopicName::from(TOPIC)])?;
    let mut read = 0;
    let deadline = Instant::now() + TIMEOUT;
    while read < RECORDS && Instant::now() < deadline {
        for r in consumer.poll(Duration::from_millis(500)).await? {
            let text = |b: &Option<bytes::Bytes>| {
                String::from_utf8_lossy(b.as_deref().unwrap_or_default()).into_owned()
            };
            println!(
                "consumed {TOPIC}/{}@{}: {} = {}",
                r.partition,
                r.offset,
                text(&r.key),
                text(&r.value)
            );
            read += 1;
        }
    }
    println!(
        "group {GROUP}, generation {}, assigned partitions {:?}",
        consumer.generation(),
        consumer
            .assignment()
            .iter()
            .map(|(_, p)| *p)
            .collect::<Vec<_>>()
    );
    consumer.commit_sync().await?;
    let partitions: Vec<(TopicName, i32)> = (0..PARTITIONS)
        .map(|p| (TopicName::from(TOPIC), p))
        .collect();
    let committed = consumer.committed(&partitions).await?;
    println!(
        "committed offsets for {GROUP}: {:?}",
        committed
            .iter()
            .map(|((_, p), o)| (*p, o.offset))
            .collect::<Vec<_>>()
    );

    // 5. Leave the group; the admin client then sees it empty, with its offsets.
    consumer.close(Duration::from_secs(5)).await;
    println!("left group {GROUP}");
    let group = admin.describe_groups(&[GROUP.to_string()]).await?;
    let group = group[GROUP].clone()?;
    let offsets = admin.list_group_offsets(GROUP, None).await?;
    println!(
        "admin: group {GROUP} is {} with {} members; committed {:?}",
        group.state,
        group.members.len(),
        offsets
            .iter()
            .map(|((_, p), o)| (*p, o.offset))
            .collect::<Vec<_>>()
    );
    let requests = client.metrics().for_api(ApiKey::Metadata).requests;
    println!("the admin client sent {requests} Metadata requests");
    cluster.shutdown().await;
    println!("cluster shut down");
    if read < RECORDS {
        return Err(format!("consumed {read} of {RECORDS} records").into());
    }
    Ok(())
}

//! Against a three-node Apache Kafka cluster (KRaft, from Maven Central): the leader of consumed
//! partitions is killed while the consumer reads, and consumption goes on with no gap and no
//! record read twice.
//!
//! Without Java and Maven the test prints `SKIPPED: ...` (CI installs them and requires them).

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kafka_client::{Client, ClientConfig};
use kafka_consumer::{Consumer, ConsumerConfig, OffsetReset};
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::CreateTopicsRequest;
use kafka_protocol::{ErrorCode, TopicName};
use kafka_testkit::RealKafka;

const TOPIC: &str = "consumed";
const PARTITIONS: i32 = 3;
const RECORDS: usize = 30_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_leader_leaves_no_gap_and_no_repeat() {
    let Some(kafka) = tokio::task::spawn_blocking(|| RealKafka::cluster(3))
        .await
        .unwrap()
    else {
        return;
    };
    let bootstrap = kafka.bootstrap();
    let client = Client::connect(ClientConfig::new(&bootstrap))
        .await
        .unwrap();
    let create = CreateTopicsRequest::default()
        .with_timeout_ms(30_000)
        .with_topics(vec![CreatableTopic::default()
            .with_name(TOPIC)
            .with_num_partitions(PARTITIONS)
            .with_replication_factor(3)]);
    let created = client
        .any_connection()
        .await
        .unwrap()
        .send(&create)
        .await
        .unwrap();
    assert_eq!(created.topics[0].error_code, ErrorCode::None, "{created:?}");

    let expected = common::produce(&bootstrap, TOPIC, 0, RECORDS).await;

    let mut config = ConsumerConfig::new(&bootstrap)
        .with_auto_offset_reset(OffsetReset::Earliest)
        .with_fetch_max_wait(Duration::from_millis(100))
        .with_client(|c| {
            c.with_request_timeout(Duration::from_secs(5))
                .with_reconnect_backoff(Duration::from_millis(50), Duration::from_millis(500))
        });
    // Small fetches, so that the kill lands in the middle of reading.
    config.max_partition_fetch_bytes = 4_096;
    let mut consumer = Consumer::new(config).await.unwrap();
    consumer.assign((0..PARTITIONS).map(|p| (TopicName::from(TOPIC), p)));
    let mut got: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    let mut total = 0;
    let mut killed = false;
    let deadline = Instant::now() + Duration::from_secs(120);
    while total < RECORDS {
        assert!(Instant::now() < deadline, "read {total} of {RECORDS}");
        if !killed && total >= RECORDS / 3 {
            let leader = consumer
                .client()
                .metadata()
                .leader(TOPIC, 0)
                .expect("a leader")
                .get();
            let k = &kafka;
            tokio::task::block_in_place(|| k.kill(leader));
            killed = true;
            println!("killed broker {leader} after {total} records");
        }
        for r in consumer.poll(Duration::from_millis(300)).await.unwrap() {
            got.entry(r.partition)
                .or_default()
                .push(String::from_utf8(r.value.unwrap_or_default().to_vec()).unwrap());
            total += 1;
        }
    }
    assert!(killed);
    assert_eq!(got, expected, "every record once, in order per partition");
    drop(kafka);
}

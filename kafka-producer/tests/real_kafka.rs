//! The producer against a three-node Apache Kafka cluster (KRaft, from Maven Central): a broker
//! that leads partitions is killed in the middle of 200,000 idempotent acks=all records, and
//! every record ends up in its partition exactly once and in send order.
//!
//! Without Java and Maven the test prints `SKIPPED: ...` (CI installs them and requires them).

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use kafka_client::{Client, ClientConfig};
use kafka_producer::partitioner::partition_for_key;
use kafka_producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::CreateTopicsRequest;
use kafka_protocol::ErrorCode;
use kafka_testkit::RealKafka;

const TOPIC: &str = "durable";
const PARTITIONS: i32 = 6;
const RECORDS: usize = 200_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_a_leader_mid_stream_loses_and_duplicates_nothing() {
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
            .with_replication_factor(3)
            .with_configs(vec![CreatableTopicConfig::default()
                .with_name("min.insync.replicas")
                .with_value(Some("2".into()))])]);
    let created = client
        .any_connection()
        .await
        .unwrap()
        .send(&create)
        .await
        .unwrap();
    assert_eq!(created.topics[0].error_code, ErrorCode::None, "{created:?}");
    // Wait until every partition has a leader.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        client
            .refresh_metadata(&[TOPIC.into()], false)
            .await
            .unwrap();
        let led = (0..PARTITIONS).all(|p| client.metadata().leader(TOPIC, p).is_some());
        if led {
            break;
        }
        assert!(Instant::now() < deadline, "partitions without leaders");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let producer = Producer::new(ProducerConfig::new(&bootstrap).with_client(|c| {
        c.with_request_timeout(Duration::from_secs(5))
            .with_retry_backoff(Duration::from_millis(20), Duration::from_millis(500))
    }))
    .await
    .unwrap();
    let mut expected: HashMap<i32, Vec<String>> = HashMap::new();
    let mut futures = Vec::with_capacity(RECORDS);
    let mut victim = None;
    for i in 0..RECORDS {
        if i == RECORDS / 2 {
            producer.flush().await;
            let leader = producer
                .client()
                .metadata()
                .leader(TOPIC, 0)
                .expect("partition 0 has a leader");
            let leader_id = leader.get();
            victim = Some(leader_id);
            let k = &kafka;
            tokio::task::block_in_place(|| k.kill(leader_id));
        }
        let key = format!("key-{i}");
        let value = format!("v{i}");
        expected
            .entry(partition_for_key(key.as_bytes(), PARTITIONS))
            .or_default()
            .push(value.clone());
        futures.push(
            producer
                .send(ProducerRecord::new(TOPIC).with_key(key).with_value(value))
                .await
                .unwrap(),
        );
    }
    for f in futures {
        f.await.expect("every record is acknowledged");
    }
    let retries = producer.metrics().retries;
    producer.close(Duration::from_secs(10)).await;
    println!("killed broker {victim:?}; {retries} batch retries");

    for p in 0..PARTITIONS {
        let got = common::read_partition(&client, TOPIC, p).await;
        let values: Vec<String> = got
            .iter()
            .map(|(_, _, v)| String::from_utf8(v.clone().unwrap_or_default().to_vec()).unwrap())
            .collect();
        let want = &expected[&p];
        assert_eq!(values.len(), want.len(), "{TOPIC}/{p}: record count");
        assert_eq!(
            values.iter().zip(want).position(|(a, b)| a != b),
            None,
            "{TOPIC}/{p}: first record out of place"
        );
    }
    drop(kafka);
}

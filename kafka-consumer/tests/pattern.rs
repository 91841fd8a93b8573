//! Pattern subscriptions on the bundled broker: a group member subscribed to `orders-.*` reads
//! the matching topics only, picks up a matching topic created while it runs (within
//! `metadata.max.age.ms`), and never touches the others.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use kafka_broker::{Cluster, ClusterConfig};
use kafka_consumer::{Consumer, ConsumerConfig, ConsumerError, OffsetReset};

/// Polls until `want` records arrived (or `limit` passed) and returns them as topic -> values.
async fn read_for(
    consumer: &mut Consumer,
    want: usize,
    limit: Duration,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut got: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut n = 0;
    let deadline = Instant::now() + limit;
    while n < want && Instant::now() < deadline {
        for r in consumer.poll(Duration::from_millis(200)).await.unwrap() {
            let value = String::from_utf8(r.value.unwrap_or_default().to_vec()).unwrap();
            got.entry(r.topic.to_string()).or_default().insert(value);
            n += 1;
        }
    }
    got
}

async fn read(consumer: &mut Consumer, want: usize) -> BTreeMap<String, BTreeSet<String>> {
    read_for(consumer, want, Duration::from_secs(30)).await
}

async fn delete_topics(bootstrap: &str, topics: &[&str]) {
    use kafka_client::{Client, ClientConfig};
    use kafka_protocol::messages::DeleteTopicsRequest;
    use kafka_protocol::ErrorCode;

    let client = Client::connect(ClientConfig::new(bootstrap)).await.unwrap();
    use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
    // Names in both fields: v0-5 read `topic_names`, v6+ `topics`.
    let request = DeleteTopicsRequest::default()
        .with_timeout_ms(10_000)
        .with_topic_names(topics.iter().map(|t| (*t).into()).collect())
        .with_topics(
            topics
                .iter()
                .map(|t| DeleteTopicState::default().with_name(Some((*t).into())))
                .collect(),
        );
    let response = client
        .any_connection()
        .await
        .unwrap()
        .send(&request)
        .await
        .unwrap();
    assert_eq!(response.responses.len(), topics.len(), "{response:?}");
    for r in &response.responses {
        assert_eq!(r.error_code, ErrorCode::None, "{r:?}");
    }
}

fn values(from: usize, count: usize) -> BTreeSet<String> {
    (from..from + count).map(|i| format!("v{i}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pattern_follows_topic_creation_and_reads_only_matching_topics() {
    common::init_tracing();
    let cluster = Cluster::start(ClusterConfig::default().with_brokers(3))
        .await
        .unwrap();
    for t in ["orders-eu", "orders-us", "payments", "orders"] {
        cluster.create_topic(t, 2, &[]).unwrap();
    }
    let bootstrap = cluster.bootstrap_servers();
    for (i, t) in ["orders-eu", "orders-us", "payments", "orders"]
        .iter()
        .enumerate()
    {
        common::produce(&bootstrap, t, i * 100, 100).await;
    }

    let config = ConsumerConfig::new(&bootstrap)
        .with_group_id("g-pattern")
        .with_auto_offset_reset(OffsetReset::Earliest)
        .with_fetch_max_wait(Duration::from_millis(100))
        .with_client(|c| c.with_metadata_max_age(Duration::from_millis(300)));
    let mut consumer = Consumer::new(config).await.unwrap();
    consumer.subscribe_pattern("orders-.*").unwrap();
    assert_eq!(consumer.subscription_pattern(), Some("orders-.*"));

    let got = read(&mut consumer, 200).await;
    assert_eq!(
        got,
        BTreeMap::from([
            ("orders-eu".to_string(), values(0, 100)),
            ("orders-us".to_string(), values(100, 100)),
        ]),
        "the two matching topics, whole, and neither `payments` nor `orders`"
    );

    // A matching topic created now is found and assigned without a restart.
    cluster.create_topic("orders-asia", 3, &[]).unwrap();
    common::produce(&bootstrap, "orders-asia", 1_000, 50).await;
    common::produce(&bootstrap, "payments", 2_000, 50).await;
    let got = read(&mut consumer, 50).await;
    assert_eq!(
        got,
        BTreeMap::from([("orders-asia".to_string(), values(1_000, 50))]),
        "the new topic's records, and nothing of `payments`"
    );
    let topics: BTreeSet<String> = consumer
        .assignment()
        .iter()
        .map(|(t, _)| t.to_string())
        .collect();
    assert_eq!(
        topics,
        BTreeSet::from(["orders-asia", "orders-eu", "orders-us"].map(String::from))
    );
    // Nothing more arrives (through several pattern checks): the others stay unread.
    assert!(read_for(&mut consumer, 1, Duration::from_secs(2))
        .await
        .is_empty());

    // Every matching topic deleted: the member stays in the group with nothing to read, and
    // gives its partitions up instead of holding on to deleted ones.
    delete_topics(&bootstrap, &["orders-asia", "orders-eu", "orders-us"]).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while !consumer.assignment().is_empty() {
        assert!(
            Instant::now() < deadline,
            "still assigned {:?}",
            consumer.assignment()
        );
        if let Err(e) = consumer.poll(Duration::from_millis(100)).await {
            eprintln!("poll: {e}");
        }
    }
    assert!(consumer.subscription().is_empty());
    consumer.close(Duration::from_secs(5)).await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_pattern_is_refused() {
    let cluster = Cluster::start(ClusterConfig::default()).await.unwrap();
    let config = ConsumerConfig::new(&cluster.bootstrap_servers()).with_group_id("g");
    let mut consumer = Consumer::new(config).await.unwrap();
    match consumer.subscribe_pattern("orders-[") {
        Err(ConsumerError::InvalidPattern { pattern, .. }) => assert_eq!(pattern, "orders-["),
        other => panic!("{other:?}"),
    }
    assert_eq!(consumer.subscription_pattern(), None);
    consumer.close(Duration::from_secs(5)).await;
    cluster.shutdown().await;
}

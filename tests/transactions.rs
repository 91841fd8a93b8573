//! Transactions end to end on the bundled broker: our transactional producer, our
//! read_committed and read_uncommitted consumers, and the broker's transaction coordinator.
//!
//! Each test checks what a consumer sees, not what the producer says it did: committed records
//! appear exactly once to read_committed, aborted ones never (but do to read_uncommitted), a
//! producer fenced by a newer one with the same `transactional.id` gets the fatal error, and
//! consumed offsets sent to a transaction are committed with it and only with it.

use std::collections::BTreeMap;
use std::time::Duration;

use kafka_sdk::admin::{AdminClient, AdminConfig, NewTopic};
use kafka_sdk::broker::{Cluster, ClusterConfig};
use kafka_sdk::consumer::{Consumer, ConsumerConfig, IsolationLevel, OffsetReset};
use kafka_sdk::producer::{Producer, ProducerConfig, ProducerError, ProducerRecord};
use kafka_sdk::protocol::TopicName;

/// Every wait in these tests is bounded by this.
const TIMEOUT: Duration = Duration::from_secs(20);

async fn cluster(config: ClusterConfig) -> Cluster {
    Cluster::start(config.with_brokers(3))
        .await
        .expect("bundled cluster starts")
}

fn producer_config(cluster: &Cluster, transactional_id: &str) -> ProducerConfig {
    ProducerConfig::new(&cluster.bootstrap_servers())
        .with_transactional_id(transactional_id)
        .with_linger(Duration::from_millis(2))
        .with_max_block(Duration::from_secs(15))
        .with_client(|c| {
            c.with_retry_backoff(Duration::from_millis(5), Duration::from_millis(50))
                .with_reconnect_backoff(Duration::from_millis(5), Duration::from_millis(50))
        })
}

/// A transactional producer with `transactional_id`, its transactions initialized.
async fn initialized_producer(cluster: &Cluster, transactional_id: &str) -> Producer {
    let producer = Producer::new(producer_config(cluster, transactional_id))
        .await
        .expect("producer starts");
    producer
        .init_transactions()
        .await
        .expect("transactions initialized");
    producer
}

/// A consumer with `isolation` that starts partitions with no committed offset at the earliest.
async fn consumer_from_earliest(cluster: &Cluster, isolation: IsolationLevel) -> Consumer {
    Consumer::new(
        ConsumerConfig::new(&cluster.bootstrap_servers())
            .with_isolation_level(isolation)
            .with_auto_offset_reset(OffsetReset::Earliest),
    )
    .await
    .expect("consumer starts")
}

/// Reads every partition of `topic` from the beginning with `isolation`, until `expected`
/// records arrived and a further quiet poll brought nothing (so that extra records would be
/// seen), and returns the values per partition in offset order.
async fn read_all(
    cluster: &Cluster,
    topic: &str,
    partitions: i32,
    isolation: IsolationLevel,
    expected: usize,
) -> BTreeMap<i32, Vec<String>> {
    let mut consumer = consumer_from_earliest(cluster, isolation).await;
    consumer.assign((0..partitions).map(|p| (TopicName::from(topic), p)));
    let mut out: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    let mut count = 0;
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    let mut quiet_after_expected = 0;
    while tokio::time::Instant::now() < deadline && quiet_after_expected < 2 {
        let records = consumer
            .poll(Duration::from_millis(200))
            .await
            .expect("poll");
        if records.is_empty() && count >= expected {
            quiet_after_expected += 1;
        }
        for r in records {
            let value = String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into();
            out.entry(r.partition).or_default().push(value);
            count += 1;
        }
    }
    consumer.close(Duration::from_secs(1)).await;
    out
}

fn values(read: &BTreeMap<i32, Vec<String>>) -> Vec<String> {
    let mut all: Vec<String> = read.values().flatten().cloned().collect();
    all.sort();
    all
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i:03}")).collect()
}

async fn send_all(producer: &Producer, topic: &str, values: &[String]) {
    let mut deliveries = Vec::new();
    for v in values {
        deliveries.push(
            producer
                .send(ProducerRecord::new(topic).with_value(v.clone()))
                .await
                .expect("send"),
        );
    }
    for d in deliveries {
        d.await.expect("delivered");
    }
}

#[tokio::test]
async fn committed_records_are_read_once_and_aborted_ones_only_by_read_uncommitted() {
    let cluster = cluster(ClusterConfig::default()).await;
    cluster.create_topic("txn-out", 3, &[]).unwrap();
    let producer = initialized_producer(&cluster, "txn-visibility").await;

    let first = names("committed-a", 30);
    let aborted = names("aborted", 20);
    let second = names("committed-b", 10);
    producer.begin_transaction().unwrap();
    send_all(&producer, "txn-out", &first).await;
    producer.commit_transaction().await.unwrap();
    producer.begin_transaction().unwrap();
    send_all(&producer, "txn-out", &aborted).await;
    producer.abort_transaction().await.unwrap();
    producer.begin_transaction().unwrap();
    send_all(&producer, "txn-out", &second).await;
    producer.commit_transaction().await.unwrap();
    producer.close(Duration::from_secs(5)).await;

    let mut committed: Vec<String> = first.iter().chain(&second).cloned().collect();
    committed.sort();
    let read = read_all(
        &cluster,
        "txn-out",
        3,
        IsolationLevel::ReadCommitted,
        committed.len(),
    )
    .await;
    assert_eq!(
        values(&read),
        committed,
        "read_committed sees exactly the committed records"
    );

    let mut everything: Vec<String> = committed.iter().chain(&aborted).cloned().collect();
    everything.sort();
    let read = read_all(
        &cluster,
        "txn-out",
        3,
        IsolationLevel::ReadUncommitted,
        everything.len(),
    )
    .await;
    assert_eq!(
        values(&read),
        everything,
        "read_uncommitted sees aborted records too"
    );
    // Within a partition the send order holds: the first transaction's records come before
    // the aborted ones, which come before the second's.
    for (p, vs) in &read {
        let rank = |v: &String| {
            if v.starts_with("committed-a") {
                0
            } else if v.starts_with("aborted") {
                1
            } else {
                2
            }
        };
        let ranks: Vec<i32> = vs.iter().map(rank).collect();
        let mut sorted = ranks.clone();
        sorted.sort();
        assert_eq!(ranks, sorted, "partition {p} keeps transaction order");
    }
}

#[tokio::test]
async fn an_open_transaction_is_invisible_to_read_committed_until_it_commits() {
    let cluster = cluster(ClusterConfig::default()).await;
    cluster.create_topic("txn-open", 1, &[]).unwrap();
    let producer = initialized_producer(&cluster, "txn-open").await;
    producer.begin_transaction().unwrap();
    let open = names("open", 5);
    send_all(&producer, "txn-open", &open).await;

    // Written but not committed: read_uncommitted sees the records, read_committed stops at
    // the last stable offset, before them.
    let read = read_all(&cluster, "txn-open", 1, IsolationLevel::ReadUncommitted, 5).await;
    assert_eq!(values(&read), open);
    let read = read_all(&cluster, "txn-open", 1, IsolationLevel::ReadCommitted, 0).await;
    assert!(
        read.is_empty(),
        "read_committed read {read:?} of an open transaction"
    );

    producer.commit_transaction().await.unwrap();
    let read = read_all(&cluster, "txn-open", 1, IsolationLevel::ReadCommitted, 5).await;
    assert_eq!(values(&read), open);
    producer.close(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_second_producer_with_the_same_transactional_id_fences_the_first() {
    let cluster = cluster(ClusterConfig::default()).await;
    cluster.create_topic("txn-fence", 2, &[]).unwrap();
    let old = initialized_producer(&cluster, "txn-fence").await;
    old.begin_transaction().unwrap();
    let zombie = names("zombie", 8);
    send_all(&old, "txn-fence", &zombie).await;

    // The new producer's InitProducerId bumps the epoch and aborts the old one's open
    // transaction before it returns.
    let new = initialized_producer(&cluster, "txn-fence").await;

    let err = old.commit_transaction().await.unwrap_err();
    assert!(
        matches!(err, ProducerError::Fenced(_)),
        "the fenced producer's commit failed with {err:?}"
    );
    // Fatal: every later transactional call fails the same way.
    let again = old.begin_transaction().unwrap_err();
    assert!(matches!(again, ProducerError::Fenced(_)), "then {again:?}");

    new.begin_transaction().unwrap();
    let fresh = names("fresh", 6);
    send_all(&new, "txn-fence", &fresh).await;
    new.commit_transaction().await.unwrap();
    new.close(Duration::from_secs(5)).await;
    old.close(Duration::from_secs(1)).await;

    let read = read_all(&cluster, "txn-fence", 2, IsolationLevel::ReadCommitted, 6).await;
    assert_eq!(
        values(&read),
        fresh,
        "only the new producer's transaction is visible"
    );
}

#[tokio::test]
async fn offsets_sent_to_a_transaction_are_committed_with_it_and_only_with_it() {
    let cluster = cluster(ClusterConfig::default().with_group_initial_rebalance_delay_ms(0)).await;
    cluster.create_topic("txn-in", 1, &[]).unwrap();
    cluster.create_topic("txn-copied", 1, &[]).unwrap();
    let plain = Producer::new(ProducerConfig::new(&cluster.bootstrap_servers()))
        .await
        .unwrap();
    send_all(&plain, "txn-in", &names("in", 10)).await;
    plain.close(Duration::from_secs(5)).await;

    let mut consumer = Consumer::new(
        ConsumerConfig::new(&cluster.bootstrap_servers())
            .with_group_id("txn-group")
            .with_isolation_level(IsolationLevel::ReadCommitted)
            .with_auto_offset_reset(OffsetReset::Earliest)
            .with_auto_commit(false, Duration::from_secs(5)),
    )
    .await
    .unwrap();
    consumer.subscribe([TopicName::from("txn-in")]).unwrap();
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while got.len() < 10 && tokio::time::Instant::now() < deadline {
        got.extend(consumer.poll(Duration::from_millis(200)).await.unwrap());
    }
    assert_eq!(got.len(), 10);
    let metadata = consumer
        .group_metadata()
        .expect("a group member has metadata");
    let tp = [(TopicName::from("txn-in"), 0)];

    let producer = initialized_producer(&cluster, "txn-copier").await;
    // An aborted transaction's offsets are not committed.
    producer.begin_transaction().unwrap();
    send_all(&producer, "txn-copied", &names("copy", 4)).await;
    producer
        .send_offsets_to_transaction(&[("txn-in".into(), 0, 4)], &metadata)
        .await
        .unwrap();
    producer.abort_transaction().await.unwrap();
    let committed = consumer.committed(&tp).await.unwrap();
    assert_eq!(committed.get(&tp[0]).map(|o| o.offset), None);

    // A committed one's are.
    producer.begin_transaction().unwrap();
    send_all(&producer, "txn-copied", &names("copy", 10)).await;
    producer
        .send_offsets_to_transaction(&[("txn-in".into(), 0, 10)], &metadata)
        .await
        .unwrap();
    producer.commit_transaction().await.unwrap();
    let committed = consumer.committed(&tp).await.unwrap();
    assert_eq!(committed.get(&tp[0]).map(|o| o.offset), Some(10));
    producer.close(Duration::from_secs(5)).await;
    consumer.close(Duration::from_secs(2)).await;

    let read = read_all(&cluster, "txn-copied", 1, IsolationLevel::ReadCommitted, 10).await;
    assert_eq!(values(&read), names("copy", 10));
}

#[tokio::test]
async fn a_transaction_left_open_past_its_timeout_is_aborted_by_the_coordinator() {
    let cluster = cluster(
        ClusterConfig::default().with_transaction_abort_check_interval(Duration::from_millis(50)),
    )
    .await;
    cluster.create_topic("txn-expire", 1, &[]).unwrap();
    let producer = Producer::new(
        producer_config(&cluster, "txn-expire")
            .with_transaction_timeout(Duration::from_millis(300)),
    )
    .await
    .unwrap();
    producer.init_transactions().await.unwrap();
    producer.begin_transaction().unwrap();
    send_all(&producer, "txn-expire", &names("late", 3)).await;
    // The coordinator checks every 50 ms and aborts once 300 ms have passed since the first
    // partition was added; the producer is left idle past that.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    // Its commit now fails: aborting bumped the epoch, so the coordinator refuses the old one
    // (Java reports this as fatal, ProducerFenced / InvalidProducerEpoch).
    let err = producer.commit_transaction().await.unwrap_err();
    assert!(
        matches!(
            err,
            ProducerError::Fenced(_) | ProducerError::TransactionAborted(_)
        ),
        "commit after the timeout failed with {err:?}"
    );
    producer.close(Duration::from_secs(1)).await;
    let read = read_all(
        &cluster,
        "txn-expire",
        1,
        IsolationLevel::ReadUncommitted,
        3,
    )
    .await;
    assert_eq!(values(&read), names("late", 3));
    let read = read_all(&cluster, "txn-expire", 1, IsolationLevel::ReadCommitted, 0).await;
    assert!(read.is_empty());
}

#[tokio::test]
async fn the_admin_client_lists_describes_and_aborts_a_hanging_transaction() {
    use kafka_sdk::admin::{
        AbortTransactionSpec, AdminClient, AdminConfig, ListTransactionsFilter,
    };

    let cluster = cluster(ClusterConfig::default()).await;
    cluster.create_topic("txn-hang", 1, &[]).unwrap();
    let admin = AdminClient::connect(AdminConfig::new(&cluster.bootstrap_servers()))
        .await
        .unwrap();
    let producer = initialized_producer(&cluster, "txn-hanging").await;
    producer.begin_transaction().unwrap();
    send_all(&producer, "txn-hang", &names("stuck", 4)).await;

    let listed = admin
        .list_transactions(&ListTransactionsFilter::default().with_states(["Ongoing"]))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].transactional_id, "txn-hanging");
    let none = admin
        .list_transactions(&ListTransactionsFilter::default().with_states(["CompleteCommit"]))
        .await
        .unwrap();
    assert!(none.is_empty(), "{none:?}");

    let described = admin
        .describe_transactions(&["txn-hanging".to_string(), "no-such-id".to_string()])
        .await
        .unwrap();
    let d = described["txn-hanging"].clone().unwrap();
    assert_eq!(d.state, "Ongoing");
    assert_eq!(d.producer_id, listed[0].producer_id);
    assert_eq!(d.partitions, vec![(TopicName::from("txn-hang"), 0)]);
    assert!(d.transaction_start_time_ms.is_some());
    assert!(
        described["no-such-id"].is_err(),
        "{:?}",
        described["no-such-id"]
    );

    // The partition knows the open transaction: its producer, epoch and first offset.
    let tp = (TopicName::from("txn-hang"), 0);
    let producers = admin
        .describe_producers(std::slice::from_ref(&tp))
        .await
        .unwrap();
    let states = producers[&tp].clone().unwrap();
    let open = states
        .iter()
        .find(|s| s.producer_id == d.producer_id)
        .expect("the transactional producer is listed");
    assert_eq!(open.current_txn_start_offset, Some(0));

    // Records written after the open transaction stay invisible to read_committed: the last
    // stable offset is stuck at the transaction's first offset.
    let plain = Producer::new(ProducerConfig::new(&cluster.bootstrap_servers()))
        .await
        .unwrap();
    send_all(&plain, "txn-hang", &names("after", 3)).await;
    let read = read_all(&cluster, "txn-hang", 1, IsolationLevel::ReadCommitted, 0).await;
    assert!(read.is_empty(), "{read:?}");

    // Aborting it on the partition releases them, and the aborted records stay hidden.
    admin
        .abort_transaction(&AbortTransactionSpec::new(
            tp.clone(),
            open.producer_id,
            open.producer_epoch as i16,
            open.coordinator_epoch,
        ))
        .await
        .unwrap();
    let read = read_all(&cluster, "txn-hang", 1, IsolationLevel::ReadCommitted, 3).await;
    assert_eq!(values(&read), names("after", 3));
    let producers = admin
        .describe_producers(std::slice::from_ref(&tp))
        .await
        .unwrap();
    let states = producers[&tp].clone().unwrap();
    assert!(
        states.iter().all(|s| s.current_txn_start_offset.is_none()),
        "{states:?}"
    );
    plain.close(Duration::from_secs(5)).await;
    producer.close(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn after_a_failed_batch_the_abort_bumps_the_epoch_and_the_next_transaction_succeeds() {
    use kafka_sdk::broker::Fault;
    use kafka_sdk::protocol::{ApiKey, ErrorCode};

    let cluster = cluster(ClusterConfig::default()).await;
    cluster.create_topic("txn-retry", 1, &[]).unwrap();
    let producer = initialized_producer(&cluster, "txn-retry").await;
    producer.begin_transaction().unwrap();
    send_all(&producer, "txn-retry", &names("first", 3)).await;
    // The next batch is refused for good: its sequence numbers are used up on our side but
    // never reached the partition.
    cluster.inject(Fault::fail(ErrorCode::InvalidRecord).with_api(ApiKey::Produce));
    let failed = producer
        .send(ProducerRecord::new("txn-retry").with_value("lost"))
        .await
        .unwrap();
    assert!(failed.await.is_err(), "the refused batch fails");
    let err = producer.commit_transaction().await.unwrap_err();
    assert!(
        matches!(err, ProducerError::TransactionAborted(_)),
        "commit after a failed batch: {err:?}"
    );
    producer.abort_transaction().await.unwrap();

    // Without a new epoch this batch would carry a sequence the partition never saw the
    // predecessor of (OUT_OF_ORDER_SEQUENCE_NUMBER).
    producer.begin_transaction().unwrap();
    send_all(&producer, "txn-retry", &names("second", 4)).await;
    producer.commit_transaction().await.unwrap();
    producer.close(Duration::from_secs(5)).await;
    let read = read_all(&cluster, "txn-retry", 1, IsolationLevel::ReadCommitted, 4).await;
    assert_eq!(values(&read), names("second", 4));
}

#[tokio::test]
async fn a_transaction_commits_after_its_coordinator_stops_on_the_next_replica() {
    if let Ok(filter) = std::env::var("TXN_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    }
    let cluster = cluster(ClusterConfig::default()).await;
    // Replicated, so that the partitions the stopped broker led move to a running replica
    // (with one replica they would stay unavailable until it came back, as in Kafka).
    let admin = AdminClient::connect(AdminConfig::new(&cluster.bootstrap_servers()))
        .await
        .expect("admin");
    for (topic, result) in admin
        .create_topics(vec![NewTopic::new("txn-move", 3, 3)])
        .await
        .expect("create topics")
    {
        result.unwrap_or_else(|e| panic!("create {topic}: {e}"));
    }
    let tid = "txn-coordinator-moves";
    let producer = initialized_producer(&cluster, tid).await;
    producer.begin_transaction().unwrap();
    let first = names("before-stop", 30);
    send_all(&producer, "txn-move", &first).await;

    // The transactional id's __transaction_state partition has its leader stopped: the next
    // replica coordinates the open transaction, and the producer finds it there.
    let coordinator = cluster.coordinator(tid).expect("a coordinator");
    cluster.stop_broker(coordinator).await.unwrap();
    let next = cluster
        .coordinator(tid)
        .expect("the next replica coordinates");
    assert_ne!(next, coordinator);
    let second = names("after-stop", 30);
    send_all(&producer, "txn-move", &second).await;
    tokio::time::timeout(TIMEOUT, producer.commit_transaction())
        .await
        .expect("commit within the timeout")
        .expect("commit on the new coordinator");
    // The commit went to the new coordinator: every EndTxn reached it, none a stopped broker.
    let end_txn: Vec<i32> = cluster
        .request_log()
        .iter()
        .filter(|e| e.api_key == kafka_sdk::protocol::ApiKey::EndTxn.key())
        .map(|e| e.broker_id)
        .collect();
    assert!(
        !end_txn.is_empty() && end_txn.iter().all(|b| *b == next),
        "{end_txn:?}"
    );

    let mut expected: Vec<String> = first.into_iter().chain(second).collect();
    expected.sort();
    let read = read_all(&cluster, "txn-move", 3, IsolationLevel::ReadCommitted, 60).await;
    assert_eq!(values(&read), expected);
    producer.close(Duration::from_secs(5)).await;
    cluster.shutdown().await;
}

/// Polls a consumer assigned to partition 0 of `topic` until it has read `expected` records and
/// knows its lag, and returns that lag.
async fn lag_after_reading(
    cluster: &Cluster,
    topic: &str,
    isolation: IsolationLevel,
    expected: usize,
) -> Option<i64> {
    let mut consumer = consumer_from_earliest(cluster, isolation).await;
    consumer.assign([(TopicName::from(topic), 0)]);
    let mut read = 0;
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while tokio::time::Instant::now() < deadline
        && (read < expected || consumer.lag(topic, 0).is_none())
    {
        read += consumer
            .poll(Duration::from_millis(200))
            .await
            .expect("poll")
            .len();
    }
    assert_eq!(read, expected, "{isolation:?} read");
    let lag = consumer.lag(topic, 0);
    consumer.close(Duration::from_secs(1)).await;
    lag
}

#[tokio::test]
async fn read_committed_lag_is_measured_to_the_last_stable_offset() {
    let cluster = cluster(ClusterConfig::default()).await;
    cluster.create_topic("txn-lag", 1, &[]).unwrap();
    let producer = initialized_producer(&cluster, "txn-lag").await;
    producer.begin_transaction().unwrap();
    send_all(&producer, "txn-lag", &names("committed", 3)).await;
    producer.commit_transaction().await.unwrap();
    // Offsets 0-2 committed, 3 their marker, 4-8 an open transaction: the last stable offset
    // is 4 and the high watermark 9.
    producer.begin_transaction().unwrap();
    send_all(&producer, "txn-lag", &names("open", 5)).await;

    // read_committed reads the 3 committed records and stands at the LSO: nothing is left
    // that it could read, so it lags by 0, not by the 5 open records.
    let committed = lag_after_reading(&cluster, "txn-lag", IsolationLevel::ReadCommitted, 3).await;
    assert_eq!(committed, Some(0));
    // read_uncommitted reads all 8 and stands at the high watermark.
    let uncommitted =
        lag_after_reading(&cluster, "txn-lag", IsolationLevel::ReadUncommitted, 8).await;
    assert_eq!(uncommitted, Some(0));
    producer.abort_transaction().await.unwrap();
    producer.close(Duration::from_secs(5)).await;
}

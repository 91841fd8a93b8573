//! Static membership (KIP-345) against the bundled broker: a member with a `group.instance.id`
//! that closes and comes back within the session timeout takes its partitions back, and the
//! rest of the group never rebalances.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kafka_broker::{Cluster, ClusterConfig};
use kafka_consumer::{Consumer, ConsumerConfig, OffsetReset, RebalanceListener, TopicPartition};
use kafka_protocol::TopicName;

/// Counts the revocations a member is told of.
#[derive(Debug, Default)]
struct Revocations(AtomicUsize);

#[async_trait::async_trait]
impl RebalanceListener for Revocations {
    async fn on_partitions_revoked(&self, _: &mut Consumer, _: &[TopicPartition]) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    async fn on_partitions_assigned(&self, _: &mut Consumer, _: &[TopicPartition]) {}
}

fn config(cluster: &Cluster) -> ConsumerConfig {
    ConsumerConfig::new(&cluster.bootstrap_servers())
        .with_group_id("g-static")
        .with_auto_offset_reset(OffsetReset::Earliest)
        .with_fetch_max_wait(Duration::from_millis(50))
        .with_session_timeout(Duration::from_secs(10), Duration::from_millis(300))
}

/// Polls both until each holds two partitions.
async fn settle(a: &mut Consumer, b: &mut Consumer) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while a.assignment().len() != 2 || b.assignment().len() != 2 {
        assert!(
            Instant::now() < deadline,
            "not settled: {:?} / {:?}",
            a.assignment(),
            b.assignment()
        );
        a.poll(Duration::from_millis(50)).await.unwrap();
        b.poll(Duration::from_millis(50)).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_member_that_comes_back_in_time_takes_its_partitions_without_a_rebalance() {
    let cluster = Cluster::start(ClusterConfig::default()).await.unwrap();
    cluster.create_topic("s", 4, &[]).unwrap();
    let topic = [TopicName::from("s")];

    let revocations = Arc::new(Revocations::default());
    let mut dynamic = Consumer::new(config(&cluster)).await.unwrap();
    dynamic
        .subscribe_with_listener(topic.clone(), revocations.clone())
        .unwrap();
    let mut member = Consumer::new(config(&cluster).with_group_instance_id("s-1"))
        .await
        .unwrap();
    member.subscribe(topic.clone()).unwrap();
    settle(&mut dynamic, &mut member).await;
    let held = member.assignment();
    let revoked_before = revocations.0.load(Ordering::Relaxed);

    // A restart: closed (no LeaveGroup for a static member), and back under the same id.
    member.close(Duration::from_secs(2)).await;
    let mut back = Consumer::new(config(&cluster).with_group_instance_id("s-1"))
        .await
        .unwrap();
    back.subscribe(topic.clone()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(8);
    while back.assignment().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the static member got nothing back"
        );
        back.poll(Duration::from_millis(50)).await.unwrap();
        dynamic.poll(Duration::from_millis(50)).await.unwrap();
    }
    assert_eq!(back.assignment(), held, "the same partitions, taken back");
    // A while longer (heartbeats go on): the dynamic member keeps its partitions throughout.
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        back.poll(Duration::from_millis(50)).await.unwrap();
        dynamic.poll(Duration::from_millis(50)).await.unwrap();
    }
    assert_eq!(
        revocations.0.load(Ordering::Relaxed),
        revoked_before,
        "the dynamic member never had to give its partitions up"
    );
    assert_eq!(dynamic.assignment().len(), 2);
    back.close(Duration::from_secs(2)).await;
    dynamic.close(Duration::from_secs(2)).await;
    cluster.shutdown().await;
}

//! Every admin operation against a three-broker bundled cluster (so that routing to leaders,
//! coordinators and particular brokers matters), plus what only the bundled broker can set up:
//! a reassignment held in progress, a stopped broker, injected retriable errors.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use kafka_admin::{AdminClient, AdminConfig, ElectionType, NewTopic};
use kafka_broker::{Cluster, ClusterConfig, Fault};
use kafka_protocol::{ApiKey, ErrorCode, TopicName};

async fn start() -> (Cluster, AdminClient, Vec<i32>) {
    let cluster = Cluster::start(ClusterConfig::default().with_brokers(3))
        .await
        .unwrap();
    let admin = AdminClient::connect(AdminConfig::new(&cluster.bootstrap_servers()))
        .await
        .unwrap();
    let brokers = cluster.brokers().into_iter().map(|(id, _)| id).collect();
    (cluster, admin, brokers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics() {
    let (cluster, admin, brokers) = start().await;
    common::topics(&admin, &brokers, "bundled").await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configs() {
    let (cluster, admin, brokers) = start().await;
    common::configs(&admin, &brokers, "bundled").await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups() {
    let (cluster, admin, _) = start().await;
    common::groups(&admin, &cluster.bootstrap_servers(), "bundled").await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets() {
    let (cluster, admin, _) = start().await;
    common::offsets(&admin, &cluster.bootstrap_servers(), "bundled").await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_log_dirs_and_features() {
    let (cluster, admin, brokers) = start().await;
    common::cluster(&admin, &brokers, &cluster.bootstrap_servers(), "bundled").await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas() {
    let (cluster, admin, brokers) = start().await;
    common::replicas(&admin, &brokers, "bundled").await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotas() {
    let (cluster, admin, _) = start().await;
    common::quotas(&admin, "bundled").await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_reassignment_is_listed_and_can_be_cancelled() {
    let (cluster, admin, brokers) = start().await;
    let (b0, b1, b2) = (brokers[0], brokers[1], brokers[2]);
    admin
        .create_topics(vec![NewTopic::with_replica_assignment(
            "held",
            vec![vec![b0, b1]],
        )])
        .await
        .unwrap();
    let tp = (TopicName::from("held"), 0);
    cluster.hold_reassignments(true);
    let started = admin
        .alter_partition_reassignments(BTreeMap::from([(tp.clone(), Some(vec![b2, b1]))]))
        .await
        .unwrap();
    assert!(started[&tp].is_ok());
    let ongoing = admin.list_partition_reassignments(None).await.unwrap();
    let r = &ongoing[&tp];
    assert_eq!(
        (r.replicas.clone(), r.adding.clone(), r.removing.clone()),
        (vec![b2, b1, b0], vec![b2], vec![b0])
    );
    let only = admin
        .list_partition_reassignments(Some(&[(TopicName::from("held"), 1)]))
        .await
        .unwrap();
    assert!(only.is_empty(), "another partition has none");
    let cancelled = admin
        .alter_partition_reassignments(BTreeMap::from([(tp.clone(), None)]))
        .await
        .unwrap();
    assert!(cancelled[&tp].is_ok());
    assert!(admin
        .list_partition_reassignments(None)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        cluster.partition_replicas("held", 0),
        Some(vec![b0, b1]),
        "cancelling restores the replicas"
    );
    // Released, a held reassignment completes.
    admin
        .alter_partition_reassignments(BTreeMap::from([(tp.clone(), Some(vec![b2]))]))
        .await
        .unwrap();
    cluster.hold_reassignments(false);
    assert_eq!(cluster.partition_replicas("held", 0), Some(vec![b2]));
    assert_eq!(
        cluster.partition_leader("held", 0).map(|(l, _)| l),
        Some(b2),
        "the leader moved onto the new replicas"
    );
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elections_with_a_stopped_broker() {
    let (cluster, admin, brokers) = start().await;
    let (b0, b1, b2) = (brokers[0], brokers[1], brokers[2]);
    admin
        .create_topics(vec![
            NewTopic::with_replica_assignment("pair", vec![vec![b2, b1]]),
            NewTopic::with_replica_assignment("single", vec![vec![b2]]),
        ])
        .await
        .unwrap();
    let _ = b0;
    cluster.stop_broker(b2).await.unwrap();
    let pair = (TopicName::from("pair"), 0);
    let single = (TopicName::from("single"), 0);
    let d = admin
        .describe_topics(&["pair".into(), "single".into()])
        .await
        .unwrap();
    let p = &d["pair"].as_ref().unwrap().partitions[0];
    assert_eq!(
        (p.leader, p.isr.clone(), p.offline_replicas.clone()),
        (Some(b1), vec![b1], vec![b2]),
        "leadership failed over"
    );
    let s = &d["single"].as_ref().unwrap().partitions[0];
    assert_eq!((s.leader, s.offline_replicas.clone()), (None, vec![b2]));
    let preferred = admin
        .elect_leaders(ElectionType::Preferred, Some(std::slice::from_ref(&pair)))
        .await
        .unwrap();
    assert_eq!(
        common::code(&preferred[&pair]),
        Some(ErrorCode::PreferredLeaderNotAvailable)
    );
    let unclean = admin
        .with_timeout(Duration::from_secs(2))
        .elect_leaders(ElectionType::Unclean, Some(std::slice::from_ref(&single)))
        .await
        .unwrap();
    assert_eq!(
        common::code(&unclean[&single]),
        Some(ErrorCode::EligibleLeadersNotAvailable)
    );
    cluster.restart_broker(b2).await.unwrap();
    let back = admin
        .elect_leaders(ElectionType::Preferred, Some(std::slice::from_ref(&pair)))
        .await
        .unwrap();
    assert!(back[&pair].is_ok(), "{back:?}");
    assert_eq!(
        cluster.partition_leader("pair", 0).map(|(l, _)| l),
        Some(b2)
    );
    // With no partitions named, every partition is considered and those needing nothing are left out.
    let all = admin
        .elect_leaders(ElectionType::Preferred, None)
        .await
        .unwrap();
    assert!(all.is_empty(), "{all:?}");
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retriable_errors_are_retried_within_the_timeout_and_others_are_not() {
    let (cluster, admin, _) = start().await;
    cluster.inject(
        Fault::fail(ErrorCode::NotController)
            .with_api(ApiKey::CreateTopics)
            .with_times(2),
    );
    let created = admin
        .create_topics(vec![NewTopic::new("retried", 1, 1)])
        .await
        .unwrap();
    assert!(
        created["retried"].is_ok(),
        "NOT_CONTROLLER twice, then created: {created:?}"
    );
    cluster.inject(
        Fault::fail(ErrorCode::CoordinatorLoadInProgress)
            .with_api(ApiKey::DescribeGroups)
            .with_times(2),
    );
    let d = admin.describe_groups(&["nobody".into()]).await.unwrap();
    assert!(d["nobody"].as_ref().map_or_else(
        |e| e.code() == Some(ErrorCode::GroupIdNotFound),
        |g| g.state == "Dead"
    ));
    // Retriable forever: the operation ends at its timeout, naming the last error.
    cluster.inject(
        Fault::fail(ErrorCode::NotController)
            .with_api(ApiKey::CreateTopics)
            .with_no_limit(),
    );
    let started = tokio::time::Instant::now();
    let timed = admin
        .with_timeout(Duration::from_millis(800))
        .create_topics(vec![NewTopic::new("never", 1, 1)])
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    let e = timed["never"].as_ref().unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::NotController), "{e}");
    cluster.clear_faults();
    // Not retriable: answered at once.
    cluster.inject(Fault::fail(ErrorCode::PolicyViolation).with_api(ApiKey::CreateTopics));
    let refused = admin
        .create_topics(vec![NewTopic::new("refused", 1, 1)])
        .await
        .unwrap();
    assert_eq!(
        common::code(&refused["refused"]),
        Some(ErrorCode::PolicyViolation)
    );
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describing_a_topic_larger_than_a_page_pages_through_it() {
    let (cluster, admin, _) = start().await;
    // Kafka pages DescribeTopicPartitions at 2,000 partitions.
    let created = admin
        .create_topics(vec![
            NewTopic::new("wide", 2_500, 1),
            NewTopic::new("narrow", 2, 1),
        ])
        .await
        .unwrap();
    assert!(created.values().all(Result::is_ok), "{created:?}");
    let d = admin
        .describe_topics(&["wide".into(), "narrow".into()])
        .await
        .unwrap();
    let wide = d["wide"].as_ref().unwrap();
    assert_eq!(
        wide.partitions
            .iter()
            .map(|p| p.partition)
            .collect::<Vec<_>>(),
        (0..2_500).collect::<Vec<_>>()
    );
    assert_eq!(
        d["narrow"].as_ref().unwrap().partitions.len(),
        2,
        "the topic after the page break"
    );
    cluster.shutdown().await;
}

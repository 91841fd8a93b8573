//! The admin checks of `bundled.rs`, against a three-node Apache Kafka cluster (KRaft, from
//! Maven Central): what ours does against the bundled broker, it does against Kafka.
//!
//! Without Java and Maven the test prints `SKIPPED: ...` (CI installs them and requires them).

mod common;

use kafka_admin::{AdminClient, AdminConfig};
use kafka_testkit::RealKafka;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_admin_operation_against_a_three_node_kafka() {
    let Some(kafka) = tokio::task::spawn_blocking(|| RealKafka::cluster(3))
        .await
        .unwrap()
    else {
        return;
    };
    let bootstrap = kafka.bootstrap();
    let admin = AdminClient::connect(AdminConfig::new(&bootstrap))
        .await
        .unwrap();
    let mut brokers: Vec<i32> = kafka.nodes().into_iter().map(|(id, _)| id).collect();
    brokers.sort_unstable();
    common::topics(&admin, &brokers, "real").await;
    common::configs(&admin, &brokers, "real").await;
    common::groups(&admin, &bootstrap, "real").await;
    common::offsets(&admin, &bootstrap, "real").await;
    common::cluster(&admin, &brokers, &bootstrap, "real").await;
    common::replicas(&admin, &brokers, "real").await;
    common::quotas(&admin, "real").await;
    drop(kafka);
}

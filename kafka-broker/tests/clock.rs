//! One clock for the whole broker: under `tokio::time::pause()` a test moves log-append
//! timestamps, offset retention and request timeouts alike by advancing tokio's time.
//!
//! The client talks to the broker over an in-memory stream (`Cluster::serve_connection`), so no
//! socket wait races tokio's auto-advancing paused clock.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::{batch, fetch_request, produce_request, Client};
use kafka_broker::{Cluster, ClusterConfig};
use kafka_protocol::messages::{
    offset_commit_request, offset_fetch_request, OffsetCommitRequest, OffsetFetchRequest,
};
use kafka_protocol::records::{RecordBatches, TimestampType};
use kafka_protocol::ErrorCode;
use tokio::io::DuplexStream;
use tokio::task::JoinHandle;

const RETENTION_MS: u64 = 60_000;

/// A client whose connection broker 0 serves in a task; the task ends when the client is
/// dropped.
fn in_memory_client(cluster: &Arc<Cluster>) -> (Client<DuplexStream>, JoinHandle<()>) {
    let (ours, theirs) = tokio::io::duplex(1 << 20);
    let cluster = Arc::clone(cluster);
    let served = tokio::spawn(async move {
        cluster
            .serve_connection(0, theirs)
            .await
            .expect("broker 0 serves");
    });
    (Client::over(ours), served)
}

/// maxTimestamp and timestamp type of every batch in the partition, from offset 0.
async fn batch_times(client: &mut Client<DuplexStream>) -> Vec<(i64, TimestampType)> {
    let response = client.send(&fetch_request("stamps", 0, 0, 0, 1), 12).await;
    let records: Bytes = response.responses[0].partitions[0]
        .records
        .clone()
        .unwrap_or_default();
    RecordBatches::new(records)
        .map(|b| {
            let b = b.expect("batch decodes");
            (b.header().max_timestamp, b.header().timestamp_type())
        })
        .collect()
}

async fn committed(client: &mut Client<DuplexStream>) -> i64 {
    let request = OffsetFetchRequest::default()
        .with_group_id("retained")
        .with_topics(Some(vec![
            offset_fetch_request::OffsetFetchRequestTopic::default()
                .with_name("stamps")
                .with_partition_indexes(vec![0]),
        ]));
    let response = client.send(&request, 7).await;
    response.topics[0].partitions[0].committed_offset
}

#[tokio::test(start_paused = true)]
async fn paused_time_moves_log_append_time_and_offset_retention() {
    let mut config = ClusterConfig::default();
    config.group.offsets_retention_ms = RETENTION_MS;
    config.group.offsets_retention_check_interval_ms = 1_000;
    let cluster = Arc::new(Cluster::start(config).await.expect("cluster starts"));
    cluster
        .create_topic("stamps", 1, &[("message.timestamp.type", "LogAppendTime")])
        .expect("topic");
    let (mut client, served) = in_memory_client(&cluster);

    // Log-append time: the broker stamps each batch with its clock, which moves only when the
    // test advances tokio's time.
    let produced = client
        .send(&produce_request("stamps", 0, batch(&["a"], 1), -1), 9)
        .await;
    let first_append = produced.responses[0].partition_responses[0].log_append_time_ms;
    tokio::time::advance(Duration::from_secs(3600)).await;
    client
        .send(&produce_request("stamps", 0, batch(&["b"], 1), -1), 9)
        .await;
    let times = batch_times(&mut client).await;
    assert_eq!(
        times,
        vec![
            (first_append, TimestampType::LogAppendTime),
            (first_append + 3_600_000, TimestampType::LogAppendTime),
        ]
    );

    // Offset retention (KIP-211): an empty group's offsets go `offsets.retention` after the
    // commit, on the coordinator's next cleanup after that.
    let commit = OffsetCommitRequest::default()
        .with_group_id("retained")
        .with_generation_id_or_member_epoch(-1)
        .with_topics(vec![
            offset_commit_request::OffsetCommitRequestTopic::default()
                .with_name("stamps")
                .with_partitions(vec![
                    offset_commit_request::OffsetCommitRequestPartition::default()
                        .with_partition_index(0)
                        .with_committed_offset(2),
                ]),
        ]);
    let response = client.send(&commit, 8).await;
    assert_eq!(response.topics[0].partitions[0].error_code, ErrorCode::None);
    assert_eq!(committed(&mut client).await, 2);
    tokio::time::advance(Duration::from_millis(RETENTION_MS - 5_000)).await;
    assert_eq!(committed(&mut client).await, 2, "kept before the retention");
    tokio::time::advance(Duration::from_millis(7_000)).await;
    // Let the coordinator's cleanup timer, due during the advance, run.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(committed(&mut client).await, -1, "gone after the retention");

    // Request timeouts run on the same clock: a Fetch that waits for data answers when its
    // max wait has passed in tokio time, however little wall time went by. (8 s stays inside
    // the test client's own 10 s step timeout, which runs on the same paused clock.)
    let started = tokio::time::Instant::now();
    let wall = std::time::Instant::now();
    let waited = client
        .send(&fetch_request("stamps", 0, 2, 8_000, 1), 12)
        .await;
    assert_eq!(
        waited.responses[0].partitions[0].error_code,
        ErrorCode::None
    );
    assert!(common::records_of(&waited).is_empty());
    assert!(started.elapsed() >= Duration::from_secs(8));
    assert!(wall.elapsed() < Duration::from_secs(5));

    drop(client);
    served.await.expect("the connection task ends");
    let cluster = Arc::try_unwrap(cluster).expect("no other handle");
    cluster.shutdown().await;
}

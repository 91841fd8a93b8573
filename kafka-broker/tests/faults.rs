//! Fault injection: failures, delays, dropped connections, broker stop/restart, leader moves and
//! the request log.

mod common;

use std::time::{Duration, Instant};

use common::*;
use kafka_broker::{Fault, FaultAction};
use kafka_protocol::messages::{FetchResponse, MetadataRequest};
use kafka_protocol::BrokerId;
use kafka_protocol::{ApiKey, ErrorCode};

#[tokio::test]
async fn fail_next_requests_of_an_api_on_one_broker() {
    let cluster = cluster(2).await;
    cluster.create_topic("f", 2, &[]).unwrap();
    let (leader, _) = cluster.partition_leader("f", 0).unwrap();
    cluster.inject(
        Fault::fail(ErrorCode::NotEnoughReplicas)
            .with_api(ApiKey::Produce)
            .with_broker(leader)
            .with_times(2),
    );
    let mut c = Client::connect(addr(&cluster, leader)).await;
    let code = ErrorCode::NotEnoughReplicas;
    assert_eq!(produce(&mut c, "f", 0, &["1"]).await.0, code);
    assert_eq!(produce(&mut c, "f", 0, &["2"]).await.0, code);
    assert_eq!(produce(&mut c, "f", 0, &["3"]).await, (ErrorCode::None, 0));
    // The failed requests were not applied.
    assert_eq!(cluster.partition_offsets("f", 0), Some((0, 1)));
    // Other APIs are untouched.
    let r = c.send(&common::api_versions_request(), 3).await;
    assert_eq!(r.error_code, ErrorCode::None);
    cluster.shutdown().await;
}

#[tokio::test]
async fn delayed_responses_arrive_late() {
    let cluster = cluster(1).await;
    cluster.inject(Fault::delay(Duration::from_millis(300)).with_api(ApiKey::Metadata));
    let mut c = Client::connect(addr(&cluster, 0)).await;
    let started = Instant::now();
    c.send(&MetadataRequest::default().with_topics(None), 12)
        .await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    // Only once.
    let started = Instant::now();
    c.send(&MetadataRequest::default().with_topics(None), 12)
        .await;
    assert!(started.elapsed() < Duration::from_millis(300));
    cluster.shutdown().await;
}

#[tokio::test]
async fn drop_before_apply_closes_without_appending() {
    let cluster = cluster(1).await;
    cluster.create_topic("d", 1, &[]).unwrap();
    cluster.inject(Fault::drop_before_apply().with_api(ApiKey::Produce));
    let mut c = Client::connect(addr(&cluster, 0)).await;
    let r = c
        .try_send(&produce_request("d", 0, batch(&["x"], 0), -1), 9)
        .await;
    assert!(r.is_none(), "connection should close");
    assert_eq!(cluster.partition_offsets("d", 0), Some((0, 0)));
    let mut c = Client::connect(addr(&cluster, 0)).await;
    assert_eq!(produce(&mut c, "d", 0, &["x"]).await, (ErrorCode::None, 0));
    cluster.shutdown().await;
}

#[tokio::test]
async fn drop_after_apply_appends_but_loses_the_response() {
    let cluster = cluster(1).await;
    cluster.create_topic("d", 1, &[]).unwrap();
    cluster.inject(Fault::new(FaultAction::DropAfterApply).with_api(ApiKey::Produce));
    let mut c = Client::connect(addr(&cluster, 0)).await;
    let r = c
        .try_send(&produce_request("d", 0, batch(&["x"], 0), -1), 9)
        .await;
    assert!(r.is_none(), "connection should close");
    assert_eq!(cluster.partition_offsets("d", 0), Some((0, 1)));
    cluster.shutdown().await;
}

#[tokio::test]
async fn stop_and_restart_a_broker_on_the_same_port() {
    let cluster = cluster(2).await;
    cluster.create_topic("s", 2, &[]).unwrap();
    let port_before = addr(&cluster, 1).port();
    cluster.stop_broker(1).await.unwrap();
    assert!(tokio::net::TcpStream::connect(addr(&cluster, 1))
        .await
        .is_err());
    let mut c = Client::connect(addr(&cluster, 0)).await;
    let r = c
        .send(&MetadataRequest::default().with_topics(None), 12)
        .await;
    assert_eq!(r.brokers.len(), 1);
    let t = &r.topics[0];
    let offline = t
        .partitions
        .iter()
        .find(|p| p.replica_nodes == vec![1])
        .unwrap();
    assert_eq!(offline.leader_id, -1);
    assert_eq!(offline.error_code, ErrorCode::LeaderNotAvailable);
    assert!(cluster.stop_broker(1).await.is_err(), "already stopped");

    cluster.restart_broker(1).await.unwrap();
    assert_eq!(addr(&cluster, 1).port(), port_before);
    let mut c1 = Client::connect(addr(&cluster, 1)).await;
    let r = c1
        .send(&MetadataRequest::default().with_topics(None), 12)
        .await;
    assert_eq!(r.brokers.len(), 2);
    assert!(r.topics[0]
        .partitions
        .iter()
        .all(|p| p.error_code == ErrorCode::None));
    cluster.shutdown().await;
}

#[tokio::test]
async fn moving_a_leader_bumps_the_epoch_and_redirects_clients() {
    let cluster = cluster(2).await;
    cluster.create_topic("m", 1, &[]).unwrap();
    let (old, epoch) = cluster.partition_leader("m", 0).unwrap();
    let new = 1 - old;
    // A long-poll fetch parked on the old leader returns as soon as leadership moves.
    let old_addr = addr(&cluster, old);
    let parked = tokio::spawn(async move {
        let mut c = Client::connect(old_addr).await;
        let started = Instant::now();
        let r: FetchResponse = c.send(&fetch_request("m", 0, 0, 8_000, 1), 12).await;
        (r.responses[0].partitions[0].error_code, started.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(cluster.move_leader("m", 0, new).unwrap(), epoch + 1);
    let (code, waited) = parked.await.unwrap();
    assert_eq!(code, ErrorCode::NotLeaderOrFollower);
    assert!(waited < Duration::from_secs(8));

    let mut c_old = Client::connect(addr(&cluster, old)).await;
    assert_eq!(
        produce(&mut c_old, "m", 0, &["x"]).await.0,
        ErrorCode::NotLeaderOrFollower
    );
    let mut c_new = Client::connect(addr(&cluster, new)).await;
    assert_eq!(
        produce(&mut c_new, "m", 0, &["x"]).await,
        (ErrorCode::None, 0)
    );
    let r = c_new
        .send(&MetadataRequest::default().with_topics(None), 12)
        .await;
    let p = &r.topics[0].partitions[0];
    assert_eq!((p.leader_id, p.leader_epoch), (BrokerId(new), epoch + 1));
    // The stamped epoch of the appended batch is the new one.
    let f: FetchResponse = c_new.send(&fetch_request("m", 0, 0, 0, 1), 12).await;
    let data = f.responses[0].partitions[0].records.clone().unwrap();
    let header = kafka_protocol::records::RecordBatchHeader::parse(&data).unwrap();
    assert_eq!(header.partition_leader_epoch, epoch + 1);
    cluster.shutdown().await;
}

#[tokio::test]
async fn request_log_records_api_version_client_and_broker() {
    let cluster = cluster(2).await;
    let mut c = Client::connect(addr(&cluster, 1)).await;
    c.client_id = "log-test".into();
    c.send(&common::api_versions_request(), 3).await;
    c.send(&MetadataRequest::default().with_topics(None), 9)
        .await;
    let log = cluster.request_log();
    let mine: Vec<_> = log
        .iter()
        .filter(|e| e.client_id.as_deref() == Some("log-test"))
        .map(|e| (e.broker_id, e.api_key, e.api_version))
        .collect();
    assert_eq!(mine, vec![(1, 18, 3), (1, 3, 9)]);
    cluster.clear_request_log();
    assert!(cluster.request_log().is_empty());
    cluster.shutdown().await;
}

/// Injected failures answer with the request's schema-generated error response, for every
/// served API: the error code lands where the response carries errors and the request's keys
/// are echoed, so a client can tell which of its partitions failed.
#[tokio::test]
async fn injected_failures_answer_every_api_with_its_error_response() {
    use kafka_protocol::messages::describe_producers_request::TopicRequest;
    use kafka_protocol::messages::{DescribeProducersRequest, DescribeProducersResponse};
    let cluster = cluster(1).await;
    cluster.create_topic("f", 2, &[]).unwrap();
    cluster.inject(Fault::fail(ErrorCode::KafkaStorageError).with_api(ApiKey::DescribeProducers));
    let mut c = Client::connect(addr(&cluster, 0)).await;
    let request = DescribeProducersRequest::default().with_topics(vec![TopicRequest::default()
        .with_name("f")
        .with_partition_indexes(vec![0, 1])]);
    let r: DescribeProducersResponse = c.send(&request, 0).await;
    assert_eq!(r.topics[0].name, "f");
    let codes: Vec<(i32, ErrorCode)> = r.topics[0]
        .partitions
        .iter()
        .map(|p| (p.partition_index, p.error_code))
        .collect();
    let storage = ErrorCode::KafkaStorageError;
    assert_eq!(codes, vec![(0, storage), (1, storage)]);
    // The fault ran out: the next request is served.
    let r: DescribeProducersResponse = c.send(&request, 0).await;
    assert_eq!(r.topics[0].partitions[0].error_code, ErrorCode::None);
    cluster.shutdown().await;
}

#[tokio::test]
async fn an_unclean_election_cuts_the_log_and_offset_for_leader_epoch_shows_it() {
    use kafka_protocol::messages::offset_for_leader_epoch_request::{
        OffsetForLeaderPartition, OffsetForLeaderTopic,
    };
    use kafka_protocol::messages::{OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse};

    let cluster = cluster(2).await;
    cluster.create_topic("u", 1, &[]).unwrap();
    let (old, epoch) = cluster.partition_leader("u", 0).unwrap();
    let mut c_old = Client::connect(addr(&cluster, old)).await;
    // Three batches: offsets 0-1, 2-3, 4-5.
    for values in [["a", "b"], ["c", "d"], ["e", "f"]] {
        assert_eq!(
            produce(&mut c_old, "u", 0, &values).await.0,
            ErrorCode::None
        );
    }
    // The new leader's replica ended inside the second batch: that batch goes whole.
    let new = 1 - old;
    let (new_epoch, end) = cluster.elect_unclean_leader("u", 0, new, 3).unwrap();
    assert_eq!((new_epoch, end), (epoch + 1, 2));
    assert_eq!(cluster.partition_offsets("u", 0), Some((0, 2)));
    assert_eq!(cluster.partition_leader("u", 0), Some((new, epoch + 1)));

    // A consumer that read up to offset 6 in the old epoch asks where that epoch ended.
    let mut c_new = Client::connect(addr(&cluster, new)).await;
    let request = OffsetForLeaderEpochRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![OffsetForLeaderTopic::default()
            .with_topic("u")
            .with_partitions(vec![OffsetForLeaderPartition::default()
                .with_partition(0)
                .with_current_leader_epoch(new_epoch)
                .with_leader_epoch(epoch)])]);
    let r: OffsetForLeaderEpochResponse = c_new.send(&request, 4).await;
    let p = &r.topics[0].partitions[0];
    assert_eq!(
        (p.error_code, p.leader_epoch, p.end_offset),
        (ErrorCode::None, epoch, 2)
    );
    // The log goes on from the cut, stamped with the new epoch.
    assert_eq!(
        produce(&mut c_new, "u", 0, &["x"]).await,
        (ErrorCode::None, 2)
    );
    // Cutting past the end, or electing an unknown broker, is refused.
    assert!(cluster.elect_unclean_leader("u", 0, old, 10).is_err());
    assert!(cluster.elect_unclean_leader("u", 0, 7, 0).is_err());
    cluster.shutdown().await;
}

//! Bad frames close only their connection; a client that never reads is pushed back; shutdown
//! ends everything, parked fetches included.

mod common;

use std::time::{Duration, Instant};

use bytes::{BufMut, BytesMut};
use common::*;
use kafka_protocol::messages::{MetadataRequest, ProduceRequest};
use kafka_protocol::ErrorCode;
use tokio::io::AsyncWriteExt;

async fn still_serving(cluster: &kafka_broker::Cluster) {
    let mut c = Client::connect(addr(cluster, 0)).await;
    assert_eq!(
        c.send(&common::api_versions_request(), 3).await.error_code,
        ErrorCode::None
    );
}

fn raw_frame(payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as i32).to_be_bytes().to_vec();
    f.extend_from_slice(payload);
    f
}

#[tokio::test]
async fn malformed_frames_close_only_their_connection() {
    let cluster = cluster(1).await;
    let bystander_addr = addr(&cluster, 0);
    let mut bystander = Client::connect(bystander_addr).await;
    let bad_frames: Vec<Vec<u8>> = vec![
        raw_frame(&[0x00]),                                     // too short for a header
        raw_frame(&[0x7f, 0x00, 0x00, 0x00, 0, 0, 0, 1, 0, 0]), // unknown api key
        raw_frame(&[0x00, 0x00, 0x00, 0x00, 0, 0, 0, 1, 0, 0]), // Produce v0: unsupported
        raw_frame(&[0x00, 0x03, 0x00, 0x0c, 0, 0, 0, 1, 0xff, 0x7f]), // Metadata v12, bad client id
        (-5i32).to_be_bytes().to_vec(),                         // negative size
        i32::MAX.to_be_bytes().to_vec(),                        // oversized
    ];
    for frame in bad_frames {
        let mut c = Client::connect(addr(&cluster, 0)).await;
        c.send_frame(&frame).await;
        assert!(
            c.is_closed().await,
            "frame {frame:?} should close the connection"
        );
    }
    // A truncated body: valid header, Metadata v12 body cut short.
    let mut c = Client::connect(addr(&cluster, 0)).await;
    let (_, frame) = c.frame(&MetadataRequest::default(), 12);
    let mut cut = BytesMut::new();
    cut.put_i32(frame.len() as i32 - 6);
    cut.put_slice(&frame[4..frame.len() - 2]);
    c.send_frame(&cut).await;
    assert!(c.is_closed().await);
    // Garbage in the records of a Produce is a per-partition error, not a closed connection.
    let mut c = Client::connect(addr(&cluster, 0)).await;
    let r = c
        .send(
            &produce_request("g", 0, bytes::Bytes::from_static(b"junk"), 1),
            9,
        )
        .await;
    assert_ne!(
        r.responses[0].partition_responses[0].error_code,
        ErrorCode::None
    );

    assert_eq!(
        bystander
            .send(&common::api_versions_request(), 3)
            .await
            .error_code,
        ErrorCode::None
    );
    still_serving(&cluster).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_client_that_never_reads_is_pushed_back() {
    let cluster = cluster(1).await;
    // Large Metadata responses fill the socket buffers quickly.
    for i in 0..100 {
        cluster
            .create_topic(&format!("topic-with-a-long-name-{i:04}"), 8, &[])
            .unwrap();
    }
    let mut c = Client::connect(addr(&cluster, 0)).await;
    let (_, frame) = c.frame(&MetadataRequest::default().with_topics(None), 12);
    let mut blocked = false;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        let write =
            tokio::time::timeout(Duration::from_millis(500), c.stream.write_all(&frame)).await;
        match write {
            Err(_) => {
                blocked = true;
                break;
            }
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("write failed: {e}"),
        }
    }
    assert!(
        blocked,
        "the broker kept reading requests whose responses nobody reads"
    );
    still_serving(&cluster).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn shutdown_ends_parked_fetches_and_connections() {
    let cluster = cluster(2).await;
    cluster.create_topic("p", 2, &[]).unwrap();
    let (leader, _) = cluster.partition_leader("p", 0).unwrap();
    let a = addr(&cluster, leader);
    let parked = tokio::spawn(async move {
        let mut c = Client::connect(a).await;
        c.try_send(&fetch_request("p", 0, 0, 60_000, 1), 12)
            .await
            .is_some()
    });
    let mut idle = Client::connect(addr(&cluster, 0)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(10), cluster.shutdown())
        .await
        .expect("shutdown completes");
    assert!(started.elapsed() < Duration::from_secs(5));
    // The parked fetch ended (answered or closed) well before its 60 s wait.
    tokio::time::timeout(Duration::from_secs(5), parked)
        .await
        .unwrap()
        .unwrap();
    assert!(idle.is_closed().await);
    assert!(tokio::net::TcpStream::connect(a).await.is_err());
}

#[tokio::test]
async fn produce_with_an_invalid_acks_value_is_rejected() {
    let cluster = cluster(1).await;
    cluster.create_topic("acks", 1, &[]).unwrap();
    let mut c = Client::connect(addr(&cluster, 0)).await;
    let req: ProduceRequest = produce_request("acks", 0, batch(&["v"], 0), 2);
    let r = c.send(&req, 9).await;
    assert_eq!(
        r.responses[0].partition_responses[0].error_code,
        kafka_protocol::ErrorCode::InvalidRequiredAcks
    );
    cluster.shutdown().await;
}

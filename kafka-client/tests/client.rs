//! The client core against the bundled broker: bootstrap, version negotiation, metadata, and a
//! connection poisoned under a request.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BufMut, BytesMut};
use kafka_broker::{Cluster, ClusterConfig, Fault};
use kafka_client::{Client, ClientConfig, ClientError, ConnectFuture, Transport};
use kafka_protocol::messages::{ApiVersionsResponse, MetadataRequest};
use kafka_protocol::{ApiKey, BrokerId, ErrorCode, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn cluster(brokers: usize) -> Cluster {
    Cluster::start(ClusterConfig::default().with_brokers(brokers))
        .await
        .expect("bundled cluster starts")
}

#[tokio::test]
async fn bootstraps_negotiates_and_learns_leaders() {
    let cluster = cluster(3).await;
    cluster.create_topic("orders", 6, &[]).unwrap();
    let client = Client::connect(ClientConfig::new(&cluster.bootstrap_servers()))
        .await
        .unwrap();
    client
        .refresh_metadata(&["orders".into()], false)
        .await
        .unwrap();
    let expected: Vec<Option<BrokerId>> = (0..6)
        .map(|p| {
            cluster
                .partition_leader("orders", p)
                .map(|(l, _)| BrokerId(l))
        })
        .collect();
    let cached: Vec<Option<BrokerId>> = (0..6)
        .map(|p| client.metadata().leader("orders", p))
        .collect();
    assert_eq!(cached, expected);
    assert_eq!(client.metadata().brokers().count(), 3);

    // Every broker connection negotiated versions: Produce at our highest stable version,
    // which the bundled broker (Kafka 4.4's ranges) supports.
    for id in 0..3 {
        let conn = client.broker(BrokerId(id)).await.unwrap();
        assert_eq!(
            conn.versions().version_for(ApiKey::Produce),
            Some(ApiKey::Produce.max_stable_version())
        );
    }
    // Every request was counted: ApiVersions once per connection (bootstrap and 3 brokers),
    // Metadata twice.
    let metadata = client.metrics().for_api(ApiKey::Metadata);
    assert_eq!((metadata.requests, metadata.errors), (2, 0));
    assert!(metadata.bytes_sent > 0 && metadata.bytes_received > metadata.bytes_sent);
    assert_eq!(client.metrics().for_api(ApiKey::ApiVersions).requests, 4);
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_dropped_connection_fails_the_request_as_retriable_and_the_next_one_reconnects() {
    let cluster = cluster(1).await;
    let client = Client::connect(
        ClientConfig::new(&cluster.bootstrap_servers())
            .with_reconnect_backoff(Duration::from_millis(10), Duration::from_millis(50)),
    )
    .await
    .unwrap();
    let conn = client.broker(BrokerId(0)).await.unwrap();
    cluster.inject(Fault::drop_before_apply().with_api(ApiKey::Metadata));
    let err = conn
        .send(&MetadataRequest::default().with_topics(Some(Vec::new())))
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Connection { .. }), "{err}");
    assert!(err.is_retriable());
    // The task has stopped: the handle says so, and the client opens a new connection.
    tokio::time::timeout(Duration::from_secs(5), async {
        while !conn.is_closed() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the poisoned connection closes");
    let again = client.broker(BrokerId(0)).await.unwrap();
    assert!(!Arc::ptr_eq(&conn, &again));
    again
        .send(&MetadataRequest::default().with_topics(Some(Vec::new())))
        .await
        .unwrap();
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_request_without_an_answer_times_out() {
    let cluster = cluster(1).await;
    let client = Client::connect(
        ClientConfig::new(&cluster.bootstrap_servers())
            .with_request_timeout(Duration::from_millis(200)),
    )
    .await
    .unwrap();
    cluster.inject(Fault::delay(Duration::from_secs(3)).with_api(ApiKey::Metadata));
    let conn = client.broker(BrokerId(0)).await.unwrap();
    let err = conn
        .send(&MetadataRequest::default().with_topics(Some(Vec::new())))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Timeout {
                api: ApiKey::Metadata,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.is_retriable());
    cluster.shutdown().await;
}

#[tokio::test]
async fn unreachable_bootstrap_is_a_clear_error() {
    // Port 1 on loopback: nothing listens there.
    let err = Client::connect(
        ClientConfig::new("127.0.0.1:1")
            .with_reconnect_backoff(Duration::from_millis(1), Duration::from_millis(1)),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, ClientError::NoBrokerReachable { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("127.0.0.1:1"), "{err}");
}

/// A fake broker that answers ApiVersions the way librdkafka's mock cluster does: error 35 with
/// a body that is not the v0 layout, whatever version above 2 is asked; v0 properly.
#[derive(Debug)]
struct OldBroker;

impl Transport for OldBroker {
    fn connect(&self, _addr: &str, _timeout: Duration) -> ConnectFuture {
        Box::pin(async move {
            let (ours, mut theirs) = tokio::io::duplex(1 << 16);
            tokio::spawn(async move {
                let mut buf = BytesMut::new();
                loop {
                    while buf.len() < 4 || buf.len() < 4 + (&buf[..4]).get_i32() as usize {
                        if theirs.read_buf(&mut buf).await.unwrap_or(0) == 0 {
                            return;
                        }
                    }
                    let size = (&buf[..4]).get_i32() as usize;
                    let mut frame = buf.split_to(4 + size).freeze();
                    frame.advance(4);
                    let (_key, version, cid) = (frame.get_i16(), frame.get_i16(), frame.get_i32());
                    let mut body = BytesMut::new();
                    body.put_i32(cid);
                    if version > 2 {
                        body.put_slice(&[0, 35, 1]); // non-standard: a 1-byte array count
                    } else {
                        ApiVersionsResponse::default()
                            .with_api_keys(vec![
                                kafka_protocol::messages::api_versions_response::ApiVersion::default()
                                    .with_api_key(ApiKey::ApiVersions.key())
                                    .with_min_version(0)
                                    .with_max_version(2),
                                kafka_protocol::messages::api_versions_response::ApiVersion::default()
                                    .with_api_key(ApiKey::Metadata.key())
                                    .with_min_version(0)
                                    .with_max_version(9),
                            ])
                            .encode(&mut body, version)
                            .unwrap();
                    }
                    let mut out = BytesMut::new();
                    out.put_i32(body.len() as i32);
                    out.put_slice(&body);
                    if theirs.write_all(&out).await.is_err() {
                        return;
                    }
                }
            });
            Ok(Box::new(ours) as Box<dyn kafka_client::BrokerStream>)
        })
    }
}

#[tokio::test]
async fn unsupported_api_versions_with_an_unreadable_body_falls_back_to_v0() {
    let client =
        Client::with_transport(ClientConfig::new("old:9092"), Arc::new(OldBroker)).unwrap();
    let conn = client.any_connection().await.unwrap();
    assert_eq!(conn.versions().version_for(ApiKey::Metadata), Some(9));
    assert_eq!(conn.versions().version_for(ApiKey::Produce), None);
    let err = conn.version_for(ApiKey::Produce).unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::UnsupportedVersion {
                api: ApiKey::Produce,
                ..
            }
        ),
        "{err}"
    );
    let _ = ErrorCode::None;
}

#[tokio::test]
async fn idle_connections_close_and_reopen_on_next_use() {
    let cluster = cluster(1).await;
    let client = Client::connect(
        ClientConfig::new(&cluster.bootstrap_servers())
            .with_connections_max_idle(Duration::from_millis(100)),
    )
    .await
    .unwrap();
    let conn = client.broker(BrokerId(0)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(conn.is_closed(), "closed after connections.max.idle.ms");
    let again = client.broker(BrokerId(0)).await.unwrap();
    assert!(!again.is_closed());
    again
        .send(&MetadataRequest::default().with_topics(Some(Vec::new())))
        .await
        .unwrap();
    cluster.shutdown().await;
}

#[tokio::test]
async fn when_every_known_broker_is_gone_the_client_rebootstraps() {
    // Two clusters: the client learns the first one's brokers, which then all stop; its
    // bootstrap list also names the second cluster, which it must fall back to (KIP-899).
    let first = cluster(1).await;
    let second = cluster(1).await;
    let bootstrap = format!(
        "{},{}",
        first.bootstrap_servers(),
        second.bootstrap_servers()
    );
    let client = Client::connect(
        ClientConfig::new(&bootstrap)
            .with_reconnect_backoff(Duration::from_millis(5), Duration::from_millis(20)),
    )
    .await
    .unwrap();
    first.shutdown().await;
    let conn = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match client.any_connection().await {
                Ok(c) if c.addr() == second.bootstrap_servers() => break c,
                _ => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    })
    .await
    .expect("the client reaches the second bootstrap address");
    conn.send(&MetadataRequest::default().with_topics(Some(Vec::new())))
        .await
        .unwrap();
    second.shutdown().await;
}

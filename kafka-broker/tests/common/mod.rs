//! A minimal raw Kafka client for the broker's tests: typed requests over a TcpStream.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use kafka_broker::{Cluster, ClusterConfig};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    fetch_request, FetchRequest, FetchResponse, ProduceRequest, ProduceResponse,
};
use kafka_protocol::records::{Compression, RecordBatchBuilder, RecordBatches};
use kafka_protocol::BrokerId;
use kafka_protocol::{frame, ApiKey, ErrorCode, Request};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Every network step of a test is bounded by this.
pub const STEP: Duration = Duration::from_secs(10);

/// A client over a TCP connection, or over any byte stream (such as a `tokio::io::duplex`
/// half handed to `Cluster::serve_connection`, which works under paused tokio time).
pub struct Client<S = TcpStream> {
    pub stream: S,
    correlation_id: i32,
    pub client_id: String,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        let stream = tokio::time::timeout(STEP, TcpStream::connect(addr))
            .await
            .expect("connect timed out")
            .expect("connect failed");
        Client::over(stream)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    /// A client speaking over `stream`.
    pub fn over(stream: S) -> Client<S> {
        Client {
            stream,
            correlation_id: 0,
            client_id: "test-client".into(),
        }
    }

    /// Encodes a request frame.
    pub fn frame<R: Request>(&mut self, request: &R, version: i16) -> (i32, Bytes) {
        self.correlation_id += 1;
        let mut buf = BytesMut::new();
        frame::encode_request(
            &mut buf,
            self.correlation_id,
            Some(&self.client_id),
            request,
            version,
        )
        .unwrap();
        (self.correlation_id, buf.freeze())
    }

    pub async fn send_frame(&mut self, frame: &[u8]) {
        tokio::time::timeout(STEP, self.stream.write_all(frame))
            .await
            .expect("write timed out")
            .expect("write failed");
    }

    /// Reads one response frame; `None` on EOF.
    pub async fn read_frame(&mut self) -> Option<Bytes> {
        let mut size = [0u8; 4];
        match tokio::time::timeout(STEP, self.stream.read_exact(&mut size))
            .await
            .expect("read timed out")
        {
            Ok(_) => {}
            Err(_) => return None,
        }
        let mut body = vec![0u8; i32::from_be_bytes(size) as usize];
        tokio::time::timeout(STEP, self.stream.read_exact(&mut body))
            .await
            .expect("read timed out")
            .ok()?;
        Some(Bytes::from(body))
    }

    /// Sends a request and decodes its response.
    pub async fn send<R: Request>(&mut self, request: &R, version: i16) -> R::Response {
        self.try_send(request, version)
            .await
            .expect("connection closed instead of a response")
    }

    /// Sends a request; `None` if the connection closed instead of answering.
    pub async fn try_send<R: Request>(&mut self, request: &R, version: i16) -> Option<R::Response> {
        let (correlation_id, frame) = self.frame(request, version);
        self.send_frame(&frame).await;
        let body = self.read_frame().await?;
        let (answered, response) = frame::decode_response::<R>(body, version).unwrap();
        assert_eq!(answered, correlation_id);
        Some(response)
    }

    /// True when the broker has closed the connection (EOF within the step timeout).
    pub async fn is_closed(&mut self) -> bool {
        let mut buf = [0u8; 1];
        matches!(
            tokio::time::timeout(STEP, self.stream.read(&mut buf)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    }
}

pub async fn cluster(brokers: usize) -> Cluster {
    Cluster::start(ClusterConfig::default().with_brokers(brokers))
        .await
        .expect("cluster starts")
}

pub fn addr(cluster: &Cluster, broker: i32) -> SocketAddr {
    cluster
        .brokers()
        .into_iter()
        .find(|(id, _)| *id == broker)
        .map(|(_, a)| a)
        .expect("broker exists")
}

/// A batch of `values` (keys `k{i}`), uncompressed, timestamps from `ts`.
pub fn batch(values: &[&str], ts: i64) -> Bytes {
    let mut b = RecordBatchBuilder::new(Compression::None);
    for (i, v) in values.iter().enumerate() {
        let key = format!("k{i}");
        b.append(ts + i as i64, Some(key.as_bytes()), Some(v.as_bytes()), &[])
            .unwrap();
    }
    b.build().unwrap()
}

pub fn produce_request(topic: &str, partition: i32, records: Bytes, acks: i16) -> ProduceRequest {
    ProduceRequest {
        acks,
        timeout_ms: 5000,
        topic_data: vec![TopicProduceData {
            name: topic.into(),
            partition_data: vec![PartitionProduceData {
                index: partition,
                records: Some(records),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Produces one batch and returns (error code, base offset).
pub async fn produce(
    client: &mut Client,
    topic: &str,
    partition: i32,
    values: &[&str],
) -> (ErrorCode, i64) {
    let response: ProduceResponse = client
        .send(
            &produce_request(topic, partition, batch(values, 1_000), -1),
            9,
        )
        .await;
    let p = &response.responses[0].partition_responses[0];
    (p.error_code, p.base_offset)
}

pub fn fetch_request(
    topic: &str,
    partition: i32,
    offset: i64,
    max_wait_ms: i32,
    min_bytes: i32,
) -> FetchRequest {
    FetchRequest {
        replica_id: BrokerId::NONE,
        max_wait_ms,
        min_bytes,
        max_bytes: 50 * 1024 * 1024,
        session_epoch: -1,
        topics: vec![fetch_request::FetchTopic {
            topic: topic.into(),
            partitions: vec![fetch_request::FetchPartition {
                partition,
                current_leader_epoch: -1,
                fetch_offset: offset,
                log_start_offset: -1,
                partition_max_bytes: 1024 * 1024,
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// (offset, key, value) of every record in a fetch response partition's records.
pub fn records_of(response: &FetchResponse) -> Vec<(i64, String, String)> {
    let mut out = Vec::new();
    for t in &response.responses {
        for p in &t.partitions {
            let data = p.records.clone().unwrap_or_default();
            for batch in RecordBatches::new(data) {
                let batch = batch.unwrap();
                for r in batch.records() {
                    let r = r.unwrap();
                    let s = |b: Option<Bytes>| {
                        String::from_utf8(b.map(|b| b.chunk().to_vec()).unwrap_or_default())
                            .unwrap()
                    };
                    out.push((r.offset, s(r.key), s(r.value)));
                }
            }
        }
    }
    out
}

/// An ApiVersions request naming this test client, as KIP-511 requires from v3 on (a broker
/// refuses an empty or malformed name with INVALID_REQUEST, as Kafka does).
pub fn api_versions_request() -> kafka_protocol::messages::ApiVersionsRequest {
    kafka_protocol::messages::ApiVersionsRequest::default()
        .with_client_software_name("kafka-broker-tests")
        .with_client_software_version("0.1.0")
}

/// The API key of a request type (for request-log assertions).
pub fn key_of<R: Request>() -> ApiKey {
    R::API_KEY
}

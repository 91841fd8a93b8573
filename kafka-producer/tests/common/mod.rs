//! Reading a partition back, to check what the producer wrote.

use bytes::Bytes;
use kafka_client::Client;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::FetchRequest;
use kafka_protocol::records::RecordSet;
use kafka_protocol::{BrokerId, ErrorCode};

/// Every record of `topic`/`partition` as (offset, key, value), read from its leader.
pub async fn read_partition(
    client: &Client,
    topic: &str,
    partition: i32,
) -> Vec<(i64, Option<Bytes>, Option<Bytes>)> {
    let mut out = Vec::new();
    let mut offset = 0i64;
    for _round in 0..10_000 {
        client
            .refresh_metadata(&[topic.into()], false)
            .await
            .unwrap();
        let leader: BrokerId = client.metadata().leader(topic, partition).expect("leader");
        let topic_id = client
            .metadata()
            .topic(topic)
            .map(|t| t.id)
            .unwrap_or_default();
        let conn = client.broker(leader).await.unwrap();
        let request = FetchRequest::default()
            .with_max_wait_ms(0)
            .with_min_bytes(0)
            .with_max_bytes(16 << 20)
            .with_topics(vec![FetchTopic::default()
                .with_topic(topic)
                .with_topic_id(topic_id)
                .with_partitions(vec![FetchPartition::default()
                    .with_partition(partition)
                    .with_fetch_offset(offset)
                    .with_partition_max_bytes(8 << 20)])]);
        let response = conn.send(&request).await.unwrap();
        let p = &response.responses[0].partitions[0];
        assert_eq!(p.error_code, ErrorCode::None, "fetch {topic}/{partition}");
        let Some(records) = p.records.clone() else {
            break;
        };
        let set = RecordSet::decode(records).unwrap();
        let before = out.len();
        for b in &set.batches {
            for r in b.records() {
                let r = r.unwrap();
                if r.offset >= offset {
                    out.push((r.offset, r.key, r.value));
                }
            }
        }
        if out.len() == before {
            break;
        }
        offset = out.last().map_or(offset, |r| r.0 + 1);
        if offset >= p.high_watermark {
            break;
        }
    }
    out
}

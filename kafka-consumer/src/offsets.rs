//! ListOffsets for the consumer: earliest, latest and by timestamp, one request per leader.

use std::collections::BTreeMap;

use kafka_client::{Client, ClientError};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::ListOffsetsRequest;
use kafka_protocol::{BrokerId, ErrorCode};

use crate::record::TopicPartition;

/// ListOffsets' special timestamp: the first offset still in the log.
pub(crate) const EARLIEST: i64 = -2;
/// ListOffsets' special timestamp: the offset after the last record.
pub(crate) const LATEST: i64 = -1;

/// The offset found for a timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetAndTimestamp {
    /// The first offset whose timestamp is at or after the one asked for.
    pub offset: i64,
    /// That record's timestamp.
    pub timestamp: i64,
}

/// Looks up each partition's offset for its timestamp; a partition whose lookup failed maps to
/// its error, one that has no such record to `None`.
pub(crate) async fn list_offsets(
    client: &Client,
    isolation_level: i8,
    wanted: &[(TopicPartition, i64)],
) -> BTreeMap<TopicPartition, Result<Option<OffsetAndTimestamp>, ClientError>> {
    let mut out = BTreeMap::new();
    let mut by_leader: BTreeMap<BrokerId, Vec<(TopicPartition, i64)>> = BTreeMap::new();
    {
        let md = client.metadata();
        for ((t, p), ts) in wanted {
            match md.leader(t, *p) {
                Some(l) => by_leader.entry(l).or_default().push(((t.clone(), *p), *ts)),
                None => {
                    out.insert(
                        (t.clone(), *p),
                        Err(ClientError::UnknownTopicOrPartition {
                            topic: t.to_string(),
                            partition: *p,
                        }),
                    );
                }
            }
        }
    }
    for (leader, asks) in by_leader {
        let mut topics: Vec<ListOffsetsTopic> = Vec::new();
        for ((t, p), ts) in &asks {
            let part = ListOffsetsPartition::default()
                .with_partition_index(*p)
                .with_timestamp(*ts);
            match topics.iter_mut().find(|x| &x.name == t) {
                Some(x) => x.partitions.push(part),
                None => topics.push(
                    ListOffsetsTopic::default()
                        .with_name(t.clone())
                        .with_partitions(vec![part]),
                ),
            }
        }
        let request = ListOffsetsRequest::default()
            .with_replica_id(BrokerId::NONE)
            .with_isolation_level(isolation_level)
            .with_topics(topics);
        let response = match client.broker(leader).await {
            Ok(conn) => conn.send(&request).await,
            Err(e) => Err(e),
        };
        let response = match response {
            Ok(r) => r,
            Err(e) => {
                for (tp, _) in asks {
                    out.insert(tp, Err(e.clone()));
                }
                continue;
            }
        };
        for t in &response.topics {
            for p in &t.partitions {
                let tp = (t.name.clone(), p.partition_index);
                let result = match p.error_code {
                    ErrorCode::None if p.offset < 0 => Ok(None),
                    ErrorCode::None => Ok(Some(OffsetAndTimestamp {
                        offset: p.offset,
                        timestamp: p.timestamp,
                    })),
                    code => {
                        if matches!(
                            code,
                            ErrorCode::NotLeaderOrFollower | ErrorCode::FencedLeaderEpoch
                        ) {
                            client
                                .metadata()
                                .invalidate_leader(&t.name, p.partition_index);
                        }
                        Err(ClientError::Broker(code))
                    }
                };
                out.insert(tp, result);
            }
        }
        for (tp, _) in asks {
            out.entry(tp)
                .or_insert(Err(ClientError::Broker(ErrorCode::UnknownServerError)));
        }
    }
    out
}

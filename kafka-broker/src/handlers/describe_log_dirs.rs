//! DescribeLogDirs (key 35, KIP-113): the broker's log directory and the size of every partition
//! replica in it. The bundled broker keeps its logs in memory and reports them as one directory,
//! with each partition's size the bytes of its stored batches (the size of its segment files on
//! a Kafka broker).

use kafka_protocol::messages::describe_log_dirs_response::{
    DescribeLogDirsPartition, DescribeLogDirsResult, DescribeLogDirsTopic,
};
use kafka_protocol::messages::{DescribeLogDirsRequest, DescribeLogDirsResponse};
use kafka_protocol::{ErrorCode, StrBytes};

use crate::context::RequestContext;
use crate::sync::lock;

/// The directory name reported for the in-memory logs.
pub(crate) const LOG_DIR: &str = "/kafka-broker/in-memory";

/// The notional capacity reported for the directory (v4+): the bundled broker's logs live in
/// memory, so this is what it holds plus a fixed headroom, never a disk reading.
const HEADROOM_BYTES: i64 = 1 << 40;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &DescribeLogDirsRequest,
    _version: i16,
) -> DescribeLogDirsResponse {
    let topics = lock(&ctx.state.topics);
    let mut held = 0i64;
    let mut described = Vec::new();
    for topic in topics.iter() {
        // Null topics asks for everything; otherwise only the named partitions that exist here.
        let wanted: Option<Vec<i32>> = match &request.topics {
            None => None,
            Some(list) => match list.iter().find(|t| t.topic == topic.name) {
                Some(t) => Some(t.partitions.clone()),
                None => continue,
            },
        };
        let partitions: Vec<DescribeLogDirsPartition> = topic
            .partitions
            .iter()
            .zip(0i32..)
            .filter(|(log, index)| {
                log.leader().0 == ctx.broker_id && wanted.as_ref().is_none_or(|w| w.contains(index))
            })
            .map(|(log, index)| {
                let size = i64::try_from(log.lock().size_bytes).unwrap_or(i64::MAX);
                held = held.saturating_add(size);
                DescribeLogDirsPartition {
                    partition_index: index,
                    partition_size: size,
                    offset_lag: 0,
                    is_future_key: false,
                    ..Default::default()
                }
            })
            .collect();
        if !partitions.is_empty() {
            described.push(DescribeLogDirsTopic {
                name: topic.name.clone().into(),
                partitions,
                ..Default::default()
            });
        }
    }
    DescribeLogDirsResponse {
        throttle_time_ms: 0,
        error_code: ErrorCode::None,
        results: vec![DescribeLogDirsResult {
            error_code: ErrorCode::None,
            log_dir: StrBytes::from_static(LOG_DIR),
            topics: described,
            total_bytes: held.saturating_add(HEADROOM_BYTES),
            usable_bytes: HEADROOM_BYTES,
            is_cordoned: false,
            ..Default::default()
        }],
        ..Default::default()
    }
}

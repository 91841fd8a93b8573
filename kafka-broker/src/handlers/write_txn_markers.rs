//! WriteTxnMarkers (key 27): a coordinator (or an admin aborting a hanging transaction, KIP-664)
//! writes COMMIT or ABORT markers into partitions this broker leads. It needs CLUSTER_ACTION.
//!
//! The bundled broker's own coordinator writes its markers directly ([`crate::txn`]); this API
//! serves `Admin.abortTransaction` and tools that close a transaction its coordinator lost.

use kafka_protocol::acl::AclOperation;
use kafka_protocol::messages::write_txn_markers_response::{
    WritableTxnMarkerPartitionResult, WritableTxnMarkerResult, WritableTxnMarkerTopicResult,
};
use kafka_protocol::messages::{WriteTxnMarkersRequest, WriteTxnMarkersResponse};
use kafka_protocol::records::EndTransactionMarker;
use kafka_protocol::ErrorCode;

use super::common::led_partition;
use crate::context::RequestContext;
use crate::sync::lock;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &WriteTxnMarkersRequest,
    _version: i16,
) -> WriteTxnMarkersResponse {
    let authorized = ctx.allowed_cluster(AclOperation::ClusterAction);
    let now = ctx.state.clock.now_ms();
    let markers = request
        .markers
        .iter()
        .map(|m| {
            let marker = EndTransactionMarker {
                committed: m.transaction_result,
                coordinator_epoch: m.coordinator_epoch,
            };
            let topics = m
                .topics
                .iter()
                .map(|t| {
                    let topic = lock(&ctx.state.topics).get_shared(&t.name);
                    let partitions = t
                        .partition_indexes
                        .iter()
                        .map(|index| {
                            let written = if !authorized {
                                Err(ErrorCode::ClusterAuthorizationFailed)
                            } else {
                                topic
                                    .as_deref()
                                    .ok_or(ErrorCode::UnknownTopicOrPartition)
                                    .and_then(|topic| led_partition(ctx, topic, *index))
                                    .and_then(|log| {
                                        log.append_marker(
                                            m.producer_id.0,
                                            m.producer_epoch,
                                            marker,
                                            now,
                                        )
                                    })
                            };
                            WritableTxnMarkerPartitionResult::default()
                                .with_partition_index(*index)
                                .with_error_code(written.err().unwrap_or(ErrorCode::None))
                        })
                        .collect();
                    WritableTxnMarkerTopicResult::default()
                        .with_name(t.name.clone())
                        .with_partitions(partitions)
                })
                .collect();
            WritableTxnMarkerResult::default()
                .with_producer_id(m.producer_id)
                .with_topics(topics)
        })
        .collect();
    WriteTxnMarkersResponse::default().with_markers(markers)
}

//! DescribeCluster (key 60, KIP-700): the cluster id, controller and brokers.

use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::{DescribeClusterRequest, DescribeClusterResponse};
use kafka_protocol::ErrorCode;

use crate::connection::Ctx;

/// `endpoint_type` 1: brokers. Type 2 (controllers, KIP-919) is not served: there are none.
const ENDPOINT_BROKERS: i8 = 1;

pub(crate) fn handle(
    ctx: &Ctx,
    request: &DescribeClusterRequest,
    _version: i16,
) -> DescribeClusterResponse {
    if request.endpoint_type != ENDPOINT_BROKERS {
        return DescribeClusterResponse {
            error_code: ErrorCode::UnsupportedEndpointType.code(),
            error_message: Some("Only broker endpoints are served.".into()),
            endpoint_type: request.endpoint_type,
            cluster_authorized_operations: i32::MIN,
            ..Default::default()
        };
    }
    let brokers = ctx
        .state
        .live_brokers()
        .into_iter()
        .map(|b| DescribeClusterBroker {
            broker_id: b.id,
            host: b.host,
            port: i32::from(b.port),
            rack: None,
            is_fenced: false,
            ..Default::default()
        })
        .collect();
    DescribeClusterResponse {
        throttle_time_ms: 0,
        error_code: ErrorCode::None.code(),
        error_message: None,
        endpoint_type: ENDPOINT_BROKERS,
        cluster_id: ctx.state.config.cluster_id.clone(),
        controller_id: ctx.state.controller_id(),
        brokers,
        cluster_authorized_operations: i32::MIN,
        ..Default::default()
    }
}

//! DescribeCluster (key 60, KIP-700): the cluster id, controller and brokers.

use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::{DescribeClusterRequest, DescribeClusterResponse};
use kafka_protocol::{BrokerId, ErrorCode};

use crate::authorized_operations::{when, NOT_REQUESTED};
use crate::context::RequestContext;

/// `endpoint_type` 1: brokers. Type 2 (controllers, KIP-919) is served only by controllers.
const ENDPOINT_BROKERS: i8 = 1;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &DescribeClusterRequest,
    _version: i16,
) -> DescribeClusterResponse {
    if request.endpoint_type != ENDPOINT_BROKERS {
        // A broker asked for controller endpoints answers as Kafka's brokers do: the request
        // belongs on a controller listener.
        return DescribeClusterResponse {
            error_code: ErrorCode::MismatchedEndpointType,
            error_message: Some(
                "controller endpoints are described by controllers; this is a broker".into(),
            ),
            endpoint_type: ENDPOINT_BROKERS,
            cluster_authorized_operations: NOT_REQUESTED,
            ..Default::default()
        };
    }
    let brokers = ctx
        .state
        .live_brokers()
        .into_iter()
        .map(|b| DescribeClusterBroker {
            broker_id: BrokerId(b.id),
            host: b.host.into(),
            port: i32::from(b.port),
            rack: None,
            is_fenced: false,
            ..Default::default()
        })
        .collect();
    DescribeClusterResponse {
        throttle_time_ms: 0,
        error_code: ErrorCode::None,
        error_message: None,
        endpoint_type: ENDPOINT_BROKERS,
        cluster_id: ctx.state.config.cluster_id.clone().into(),
        controller_id: BrokerId(ctx.state.controller_id()),
        brokers,
        cluster_authorized_operations: when(request.include_cluster_authorized_operations, || {
            ctx.cluster_authorized_operations()
        }),
        ..Default::default()
    }
}

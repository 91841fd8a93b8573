//! Request handlers, one module per API (as in franz-go's kfake), and the one registry of what
//! the broker serves.
//!
//! [`served!`] below lists every served API with its lowest version and its handler. From that
//! one list come the dispatcher, the version ranges the connection enforces, and the ApiVersions
//! answer, so what is advertised is exactly what is implemented. The highest version of each is
//! the highest stable version `kafka-protocol` can encode.
//!
//! Handlers fill one response for every version: fields a version lacks are dropped when the
//! response is encoded (`EncodeMode::DropAbsent`), so a handler tests the version only where
//! the *behaviour* differs between versions.

pub(crate) mod acls;
pub(crate) mod add_offsets_to_txn;
pub(crate) mod add_partitions_to_txn;
pub(crate) mod alter_configs;
pub(crate) mod api_versions;
pub(crate) mod client_quotas;
pub(crate) mod common;
pub(crate) mod configs;
pub(crate) mod create_partitions;
pub(crate) mod create_topics;
pub(crate) mod delete_records;
pub(crate) mod delete_topics;
pub(crate) mod describe_cluster;
pub(crate) mod describe_configs;
pub(crate) mod describe_log_dirs;
pub(crate) mod describe_producers;
pub(crate) mod describe_topic_partitions;
pub(crate) mod describe_transactions;
pub(crate) mod elect_leaders;
pub(crate) mod end_txn;
pub(crate) mod fetch;
pub(crate) mod find_coordinator;
pub(crate) mod groups;
pub(crate) mod init_producer_id;
pub(crate) mod list_offsets;
pub(crate) mod list_transactions;
pub(crate) mod metadata;
pub(crate) mod offset_for_leader_epoch;
pub(crate) mod produce;
pub(crate) mod reassignments;
pub(crate) mod scram_credentials;
pub(crate) mod update_features;
pub(crate) mod write_txn_markers;

use kafka_protocol::acl::AclOperation;
use kafka_protocol::messages::RequestHeader;
use kafka_protocol::{ApiKey, ErrorCode, RequestBody, ResponseBody, VersionRange};

use crate::context::RequestContext;

/// What the connection should do with a handled request.
pub(crate) enum Reply {
    /// Send this response.
    Send(ResponseBody),
    /// Send nothing (Produce with acks=0).
    Silent,
    /// The API is not served: close the connection.
    Unsupported,
}

impl<T: Into<ResponseBody>> From<T> for Reply {
    fn from(body: T) -> Self {
        Reply::Send(body.into())
    }
}

/// Declares the served APIs: `Api from MIN => how handler`, where `how` is `sync` (a function
/// of the context, the request and the version returning a response), `async` (the same,
/// awaited) or `header` (an async function that also reads the request header and returns a
/// [`Reply`]).
macro_rules! served {
    ($($api:ident from $min:literal => $how:ident $handler:path),* $(,)?) => {
        /// Every served API and the lowest version served.
        pub(crate) const SERVED: &[(ApiKey, i16)] = &[$((ApiKey::$api, $min)),*];

        /// Applies one decoded request, once it passed [`dispatch`]'s cluster ACL check.
        async fn dispatch_served(
            ctx: &RequestContext,
            header: &RequestHeader,
            body: RequestBody,
            version: i16,
        ) -> Reply {
            match body {
                $(RequestBody::$api(r) => served!(@call $how $handler, ctx, header, r, version),)*
                _ => Reply::Unsupported,
            }
        }
    };
    (@call sync $handler:path, $ctx:ident, $header:ident, $r:ident, $version:ident) => {
        $handler($ctx, &$r, $version).into()
    };
    (@call async $handler:path, $ctx:ident, $header:ident, $r:ident, $version:ident) => {
        $handler($ctx, &$r, $version).await.into()
    };
    (@call header $handler:path, $ctx:ident, $header:ident, $r:ident, $version:ident) => {
        $handler($ctx, $header, $r, $version).await
    };
}

served! {
    // Produce from 3 and Fetch from 4: older versions carry the pre-0.11 message formats
    // (magic 0 and 1), which this broker does not store or convert (Kafka 4.0 dropped them
    // too, KIP-896).
    Produce from 3 => sync produce::handle,
    Fetch from 4 => async fetch::handle,
    ListOffsets from 0 => sync list_offsets::handle,
    Metadata from 0 => sync metadata::handle,
    OffsetCommit from 0 => header groups::offset_commit,
    OffsetFetch from 0 => header groups::offset_fetch,
    FindCoordinator from 0 => sync find_coordinator::handle,
    JoinGroup from 0 => header groups::join_group,
    Heartbeat from 0 => header groups::heartbeat,
    LeaveGroup from 0 => header groups::leave_group,
    SyncGroup from 0 => header groups::sync_group,
    DescribeGroups from 0 => header groups::describe_groups,
    ListGroups from 0 => header groups::list_groups,
    ApiVersions from 0 => sync api_versions::handle,
    CreateTopics from 0 => sync create_topics::handle,
    DeleteTopics from 0 => sync delete_topics::handle,
    DeleteRecords from 0 => sync delete_records::handle,
    InitProducerId from 0 => sync init_producer_id::handle,
    OffsetForLeaderEpoch from 0 => sync offset_for_leader_epoch::handle,
    DescribeConfigs from 0 => sync describe_configs::handle,
    AlterConfigs from 0 => sync alter_configs::handle_alter,
    DescribeLogDirs from 0 => sync describe_log_dirs::handle,
    CreatePartitions from 0 => sync create_partitions::handle,
    DeleteGroups from 0 => header groups::delete_groups,
    IncrementalAlterConfigs from 0 => sync alter_configs::handle_incremental,
    OffsetDelete from 0 => header groups::offset_delete,
    DescribeCluster from 0 => sync describe_cluster::handle,
    DescribeProducers from 0 => sync describe_producers::handle,
    DescribeTopicPartitions from 0 => sync describe_topic_partitions::handle,
    ElectLeaders from 0 => sync elect_leaders::handle,
    AlterPartitionReassignments from 0 => sync reassignments::handle_alter,
    ListPartitionReassignments from 0 => sync reassignments::handle_list,
    DescribeClientQuotas from 0 => sync client_quotas::handle_describe,
    AlterClientQuotas from 0 => sync client_quotas::handle_alter,
    UpdateFeatures from 0 => sync update_features::handle,
    // Answered here only on listeners without SASL; with SASL the connection handles them
    // (they change its state). Handshake v0 is advertised, as Kafka 4.4 does and librdkafka's
    // feature detection requires, but a client that really uses it (raw SASL tokens after
    // the handshake instead of SaslAuthenticate) is not served: every current client sends
    // SaslAuthenticate.
    SaslHandshake from 0 => sync crate::sasl::handshake_without_sasl,
    SaslAuthenticate from 0 => sync crate::sasl::authenticate_without_sasl,
    DescribeUserScramCredentials from 0 => sync scram_credentials::handle_describe,
    AlterUserScramCredentials from 0 => sync scram_credentials::handle_alter,
    DescribeAcls from 0 => sync acls::handle_describe,
    CreateAcls from 0 => sync acls::handle_create,
    DeleteAcls from 0 => sync acls::handle_delete,
    AddPartitionsToTxn from 0 => sync add_partitions_to_txn::handle,
    AddOffsetsToTxn from 0 => sync add_offsets_to_txn::handle,
    EndTxn from 0 => sync end_txn::handle,
    WriteTxnMarkers from 0 => sync write_txn_markers::handle,
    TxnOffsetCommit from 0 => header groups::txn_offset_commit,
    DescribeTransactions from 0 => sync describe_transactions::handle,
    ListTransactions from 0 => sync list_transactions::handle,
}

/// The ACL operation on the cluster that an API needs as a whole, for the APIs that act on the
/// cluster rather than on topics or groups (those check their resources in their handlers) and
/// whose error response is one top-level error (AlterClientQuotas and
/// AlterUserScramCredentials answer per item, in their handlers).
fn cluster_operation(api: ApiKey) -> Option<AclOperation> {
    use AclOperation::*;
    Some(match api {
        ApiKey::DescribeLogDirs | ApiKey::ListPartitionReassignments => Describe,
        ApiKey::DescribeUserScramCredentials => Describe,
        ApiKey::ElectLeaders | ApiKey::AlterPartitionReassignments => Alter,
        ApiKey::UpdateFeatures => Alter,
        ApiKey::DescribeClientQuotas => DescribeConfigs,
        _ => return None,
    })
}

/// Applies one decoded request: a principal without the cluster ACL an API needs gets the
/// request's CLUSTER_AUTHORIZATION_FAILED response; every other request goes to its handler.
pub(crate) async fn dispatch(
    ctx: &RequestContext,
    header: &RequestHeader,
    body: RequestBody,
    version: i16,
) -> Reply {
    if let Some(operation) = cluster_operation(body.api_key()) {
        if !ctx.allowed_cluster(operation) {
            return Reply::Send(body.error_response(ErrorCode::ClusterAuthorizationFailed));
        }
    }
    dispatch_served(ctx, header, body, version).await
}

/// The versions of `api_key` this broker serves, or `None` if it does not implement the API.
pub(crate) fn served_versions(api_key: ApiKey) -> Option<VersionRange> {
    let (_, min) = SERVED.iter().find(|(k, _)| *k == api_key)?;
    let codec = api_key.versions();
    let max = api_key.max_stable_version().min(codec.max);
    let min = (*min).max(codec.min);
    (min <= max).then_some(VersionRange { min, max })
}

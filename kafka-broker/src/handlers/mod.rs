//! Request handlers, one module per API key (as in franz-go's kfake), and the dispatcher.

pub(crate) mod alter_configs;
pub(crate) mod api_versions;
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
pub(crate) mod errors;
pub(crate) mod fetch;
pub(crate) mod find_coordinator;
pub(crate) mod groups;
pub(crate) mod init_producer_id;
pub(crate) mod list_offsets;
pub(crate) mod metadata;
pub(crate) mod offset_for_leader_epoch;
pub(crate) mod produce;

use kafka_protocol::messages::RequestHeader;
use kafka_protocol::{RequestBody, ResponseBody};

use crate::connection::Ctx;

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

/// Applies one decoded request.
pub(crate) async fn dispatch(
    ctx: &Ctx,
    header: &RequestHeader,
    body: RequestBody,
    version: i16,
) -> Reply {
    match body {
        RequestBody::ApiVersions(r) => api_versions::handle(ctx, &r, version).into(),
        RequestBody::Metadata(r) => metadata::handle(ctx, &r, version).into(),
        RequestBody::Produce(r) => match produce::handle(ctx, &r, version) {
            Some(response) => response.into(),
            None => Reply::Silent,
        },
        RequestBody::Fetch(r) => fetch::handle(ctx, &r, version).await.into(),
        RequestBody::ListOffsets(r) => list_offsets::handle(ctx, &r, version).into(),
        RequestBody::CreateTopics(r) => create_topics::handle(ctx, &r, version).into(),
        RequestBody::DeleteTopics(r) => delete_topics::handle(ctx, &r, version).into(),
        RequestBody::CreatePartitions(r) => create_partitions::handle(ctx, &r, version).into(),
        RequestBody::DeleteRecords(r) => delete_records::handle(ctx, &r, version).into(),
        RequestBody::DescribeConfigs(r) => describe_configs::handle(ctx, &r, version).into(),
        RequestBody::AlterConfigs(r) => alter_configs::handle_alter(ctx, &r, version).into(),
        RequestBody::IncrementalAlterConfigs(r) => {
            alter_configs::handle_incremental(ctx, &r, version).into()
        }
        RequestBody::DescribeCluster(r) => describe_cluster::handle(ctx, &r, version).into(),
        RequestBody::FindCoordinator(r) => find_coordinator::handle(ctx, &r, version).into(),
        RequestBody::InitProducerId(r) => init_producer_id::handle(ctx, &r, version).into(),
        RequestBody::OffsetForLeaderEpoch(r) => {
            offset_for_leader_epoch::handle(ctx, &r, version).into()
        }
        RequestBody::DescribeLogDirs(r) => describe_log_dirs::handle(ctx, &r, version).into(),
        RequestBody::DescribeProducers(r) => describe_producers::handle(ctx, &r, version).into(),
        RequestBody::DescribeTopicPartitions(r) => {
            describe_topic_partitions::handle(ctx, &r, version).into()
        }
        other => groups::dispatch(ctx, header, other, version).await,
    }
}

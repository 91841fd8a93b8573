//! ApiVersions (key 18): which APIs and versions this broker serves (KIP-35, KIP-511).
//!
//! The table below is the single source of truth: the connection layer closes connections that
//! use an API or version outside it, exactly as Kafka does, so what is advertised is exactly what
//! is implemented.

use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::{ApiKey, ErrorCode, VersionRange};

use crate::connection::Ctx;

/// The implemented APIs with the lowest version served. The highest is the highest stable version
/// `kafka-protocol` can encode.
///
/// Produce starts at 3 and Fetch at 4 because older versions carry the pre-0.11 message formats
/// (magic 0 and 1), which this broker does not store or convert (Kafka 4.0 dropped them too,
/// KIP-896).
const SUPPORTED: &[(ApiKey, i16)] = &[
    (ApiKey::Produce, 3),
    (ApiKey::Fetch, 4),
    (ApiKey::ListOffsets, 0),
    (ApiKey::Metadata, 0),
    (ApiKey::ApiVersions, 0),
    (ApiKey::CreateTopics, 0),
    (ApiKey::DeleteTopics, 0),
    (ApiKey::DeleteRecords, 0),
    (ApiKey::InitProducerId, 0),
    (ApiKey::DescribeConfigs, 0),
    (ApiKey::AlterConfigs, 0),
    (ApiKey::CreatePartitions, 0),
    (ApiKey::IncrementalAlterConfigs, 0),
    (ApiKey::DescribeCluster, 0),
    (ApiKey::FindCoordinator, 0),
    (ApiKey::JoinGroup, 0),
    (ApiKey::SyncGroup, 0),
    (ApiKey::Heartbeat, 0),
    (ApiKey::LeaveGroup, 0),
    (ApiKey::OffsetCommit, 0),
    (ApiKey::OffsetFetch, 0),
    (ApiKey::DescribeGroups, 0),
    (ApiKey::ListGroups, 0),
    (ApiKey::DeleteGroups, 0),
    (ApiKey::OffsetDelete, 0),
    (ApiKey::OffsetForLeaderEpoch, 0),
    (ApiKey::DescribeLogDirs, 0),
    (ApiKey::DescribeProducers, 0),
    (ApiKey::DescribeTopicPartitions, 0),
];

/// The versions of `api_key` this broker serves, or `None` if it does not implement the API.
pub(crate) fn supported(api_key: ApiKey) -> Option<VersionRange> {
    let (_, min) = SUPPORTED.iter().find(|(k, _)| *k == api_key)?;
    let codec = api_key.versions();
    let max = api_key.max_stable_version().min(codec.max);
    let min = (*min).max(codec.min);
    (min <= max).then_some(VersionRange { min, max })
}

/// The advertised `api_keys` list, in key order.
pub(crate) fn api_keys() -> Vec<ApiVersion> {
    let mut keys: Vec<ApiVersion> = SUPPORTED
        .iter()
        .filter_map(|(k, _)| {
            supported(*k).map(|r| ApiVersion {
                api_key: k.key(),
                min_version: r.min,
                max_version: r.max,
                ..Default::default()
            })
        })
        .collect();
    keys.sort_by_key(|k| k.api_key);
    keys
}

/// The ApiVersions entry alone: what a broker lists in the v0 body it sends a client that asked
/// for a version above its maximum (KIP-511), as Kafka does, so the client learns which version
/// of ApiVersions to retry with.
pub(crate) fn api_versions_entry() -> Vec<ApiVersion> {
    api_keys()
        .into_iter()
        .filter(|k| k.api_key == ApiKey::ApiVersions.key())
        .collect()
}

/// KIP-511's rule for the client software name and version of ApiVersions v3+: letters and
/// digits, with dots and dashes inside: `[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?`.
fn valid_software_field(s: &str) -> bool {
    let alnum = |c: u8| c.is_ascii_alphanumeric();
    let bytes = s.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            alnum(*first)
                && alnum(*last)
                && bytes.iter().all(|c| alnum(*c) || *c == b'-' || *c == b'.')
        }
        _ => false,
    }
}

/// Answers ApiVersions. Features (KIP-584) are reported empty: no feature flags are finalized, so
/// clients fall back to behaviour that needs none.
///
/// From v3 on, a client software name or version that breaks KIP-511's pattern gets
/// INVALID_REQUEST and no API list, as from Kafka.
///
/// From v5 (KIP-1242) a client may name the cluster and node it believes it is talking to; when
/// either is wrong (its metadata is stale, the address now belongs to another broker) the answer
/// is REBOOTSTRAP_REQUIRED.
pub(crate) fn handle(ctx: &Ctx, request: &ApiVersionsRequest, version: i16) -> ApiVersionsResponse {
    let wrong_cluster = request
        .cluster_id
        .as_deref()
        .is_some_and(|id| id != ctx.state.config.cluster_id);
    let wrong_node = request.node_id != -1 && request.node_id != ctx.broker_id;
    if version >= 5 && (wrong_cluster || wrong_node) {
        return ApiVersionsResponse {
            error_code: ErrorCode::RebootstrapRequired.code(),
            finalized_features_epoch: -1,
            ..Default::default()
        };
    }
    if version >= 3
        && !(valid_software_field(&request.client_software_name)
            && valid_software_field(&request.client_software_version))
    {
        return ApiVersionsResponse {
            error_code: ErrorCode::InvalidRequest.code(),
            finalized_features_epoch: -1,
            ..Default::default()
        };
    }
    ApiVersionsResponse {
        error_code: ErrorCode::None.code(),
        api_keys: api_keys(),
        throttle_time_ms: 0,
        supported_features: Vec::new(),
        finalized_features_epoch: -1,
        finalized_features: Vec::new(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::valid_software_field;

    #[test]
    fn software_names_follow_kip_511() {
        for ok in ["librdkafka", "apache-kafka-java", "2.16.1", "a", "x.y-z9"] {
            assert!(valid_software_field(ok), "{ok}");
        }
        for bad in ["", "-lead", "trail.", "not valid!", "under_score"] {
            assert!(!valid_software_field(bad), "{bad}");
        }
    }
}

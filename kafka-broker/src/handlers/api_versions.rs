//! ApiVersions (key 18): which APIs and versions this broker serves (KIP-35, KIP-511).
//!
//! The table below is the single source of truth: the connection layer closes connections that
//! use an API or version outside it, exactly as Kafka does, so what is advertised is exactly what
//! is implemented.

use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::{ApiKey, ErrorCode, VersionRange};

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

/// Answers ApiVersions. Features (KIP-584) are reported empty: no feature flags are finalized, so
/// clients fall back to behaviour that needs none.
pub(crate) fn handle(_request: &ApiVersionsRequest, _version: i16) -> ApiVersionsResponse {
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

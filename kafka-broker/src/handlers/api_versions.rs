//! ApiVersions (key 18): which APIs and versions this broker serves (KIP-35, KIP-511).
//!
//! The answer comes from the registry in [`super`]: the connection layer closes connections that
//! use an API or version outside it, exactly as Kafka does, so what is advertised is exactly what
//! is implemented.

use kafka_protocol::messages::api_versions_response::{
    ApiVersion, FinalizedFeatureKey, SupportedFeatureKey,
};
use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::{ApiKey, ErrorCode};

use crate::context::RequestContext;
use crate::features::SUPPORTED;
use crate::sync::lock;

/// The advertised `api_keys` list, in key order.
pub(crate) fn api_keys() -> Vec<ApiVersion> {
    let mut keys: Vec<ApiVersion> = super::SERVED
        .iter()
        .filter_map(|(k, _)| {
            super::served_versions(*k).map(|r| ApiVersion {
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

/// Answers ApiVersions, with the supported and finalized features (KIP-584) of
/// [`crate::features`].
///
/// From v3 on, a client software name or version that breaks KIP-511's pattern gets
/// INVALID_REQUEST and no API list, as from Kafka.
///
/// From v5 (KIP-1242) a client may name the cluster and node it believes it is talking to; when
/// either is wrong (its metadata is stale, the address now belongs to another broker) the answer
/// is REBOOTSTRAP_REQUIRED.
pub(crate) fn handle(
    ctx: &RequestContext,
    request: &ApiVersionsRequest,
    version: i16,
) -> ApiVersionsResponse {
    let wrong_cluster = request
        .cluster_id
        .as_deref()
        .is_some_and(|id| id != ctx.state.config.cluster_id);
    let wrong_node = request.node_id != -1 && request.node_id != ctx.broker_id;
    // Before v5 the fields hold their defaults (null, -1) and never mismatch.
    if wrong_cluster || wrong_node {
        return ApiVersionsResponse {
            error_code: ErrorCode::RebootstrapRequired,
            finalized_features_epoch: -1,
            ..Default::default()
        };
    }
    if version >= 3
        && !(valid_software_field(&request.client_software_name)
            && valid_software_field(&request.client_software_version))
    {
        return ApiVersionsResponse {
            error_code: ErrorCode::InvalidRequest,
            finalized_features_epoch: -1,
            ..Default::default()
        };
    }
    let features = lock(&ctx.state.features).clone();
    ApiVersionsResponse {
        error_code: ErrorCode::None,
        api_keys: api_keys(),
        throttle_time_ms: 0,
        supported_features: SUPPORTED
            .iter()
            .map(|(name, min, max)| SupportedFeatureKey {
                name: (*name).into(),
                min_version: *min,
                max_version: *max,
                ..Default::default()
            })
            .collect(),
        finalized_features_epoch: features.epoch(),
        finalized_features: features
            .finalized()
            .iter()
            .map(|(name, level)| FinalizedFeatureKey {
                name: name.clone().into(),
                max_version_level: *level,
                min_version_level: *level,
                ..Default::default()
            })
            .collect(),
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

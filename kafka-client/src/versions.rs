//! ApiVersions negotiation (KIP-35, KIP-511): for each API, the highest version both this
//! client and the broker speak.

use std::collections::BTreeMap;

use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::{ApiKey, ErrorCode, Message, VersionRange};
use tracing::debug;

use crate::connection::Connection;
use crate::error::{ClientError, Result};

/// The version chosen for each API the broker and this client both speak.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiVersionTable {
    chosen: BTreeMap<ApiKey, i16>,
    /// What the broker advertised for each API key, known to us or not.
    advertised: BTreeMap<i16, VersionRange>,
}

impl ApiVersionTable {
    /// The table for a broker that advertises `advertised` (API key, min, max): each API gets
    /// the highest version in both our stable range and the broker's. Keys we do not know, and
    /// APIs whose ranges do not overlap, are left out.
    pub fn from_advertised(advertised: impl IntoIterator<Item = (i16, i16, i16)>) -> Self {
        let mut chosen = BTreeMap::new();
        let mut ranges = BTreeMap::new();
        for (key, min, max) in advertised {
            ranges.insert(key, VersionRange { min, max });
            let Some(api) = ApiKey::from_i16(key) else {
                continue;
            };
            let ours = VersionRange {
                min: api.versions().min,
                max: api.max_stable_version(),
            };
            if let Some(v) = ours.highest_common(VersionRange { min, max }) {
                chosen.insert(api, v);
            }
        }
        ApiVersionTable {
            chosen,
            advertised: ranges,
        }
    }

    /// The versions the broker advertised for `api`; `None` if it does not serve it at all.
    pub fn advertised(&self, api: ApiKey) -> Option<VersionRange> {
        self.advertised.get(&api.key()).copied()
    }

    /// The versions of `api` this client speaks (its stable range).
    pub fn ours(api: ApiKey) -> VersionRange {
        VersionRange {
            min: api.versions().min,
            max: api.max_stable_version(),
        }
    }

    /// The version to use for `api`, if there is one.
    pub fn version_for(&self, api: ApiKey) -> Option<i16> {
        self.chosen.get(&api).copied()
    }

    /// How many APIs can be used.
    pub fn len(&self) -> usize {
        self.chosen.len()
    }

    /// Whether no API can be used.
    pub fn is_empty(&self) -> bool {
        self.chosen.is_empty()
    }
}

/// Runs ApiVersions on a fresh connection.
///
/// We ask at our highest stable version. A broker that does not know that version answers
/// UNSUPPORTED_VERSION with a v0 body listing the ApiVersions versions it does support
/// (KIP-511); we retry at the highest of those. If that body cannot be parsed (librdkafka's mock
/// cluster writes a non-standard one), we retry at v0, which every broker understands.
pub(crate) async fn negotiate(conn: &Connection) -> Result<ApiVersionTable> {
    let request = ApiVersionsRequest::default()
        .with_client_software_name("kafka-sdk-rust")
        .with_client_software_version(env!("CARGO_PKG_VERSION"));
    let mut version = ApiKey::ApiVersions.max_stable_version();
    for _attempt in 0..3 {
        let frame = conn
            .raw(ApiKey::ApiVersions, |buf, cid, client_id| {
                kafka_protocol::frame::encode_request(buf, cid, client_id, &request, version)
            })?
            .await?;
        let response = match kafka_protocol::frame::decode_response::<ApiVersionsRequest>(
            frame.clone(),
            version,
        ) {
            Ok((_, response)) => response,
            // An error answer is written as v0 whatever we asked (KIP-511), so it may not
            // decode at our version.
            Err(_) if version > 0 => {
                version = lower(parse_v0_fallback(frame), version);
                debug!(
                    addr = conn.addr(),
                    version, "retrying ApiVersions at a lower version"
                );
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        match response.error_code {
            ErrorCode::None => return Ok(table_of(&response)),
            ErrorCode::UnsupportedVersion if version > 0 => {
                let theirs = response
                    .api_keys
                    .iter()
                    .find(|k| k.api_key == ApiKey::ApiVersions.key())
                    .map(|k| k.max_version);
                version = lower(theirs, version);
                debug!(
                    addr = conn.addr(),
                    version, "retrying ApiVersions at a lower version"
                );
            }
            code => return Err(ClientError::Broker(code)),
        }
    }
    Err(ClientError::UnsupportedVersion {
        api: ApiKey::ApiVersions,
        addr: conn.addr().to_string(),
        ours: ApiVersionTable::ours(ApiKey::ApiVersions),
        broker: None,
    })
}

/// The next version to try: the broker's maximum if it said one, else 0; always below `tried`.
fn lower(theirs: Option<i16>, tried: i16) -> i16 {
    theirs.unwrap_or(0).min(tried - 1).max(0)
}

/// The broker's highest ApiVersions version from a response frame read as v0, if it parses.
fn parse_v0_fallback(mut frame: bytes::Bytes) -> Option<i16> {
    use bytes::Buf;
    if frame.remaining() < 4 {
        return None;
    }
    frame.advance(4); // correlation id: response header v0
    let body = ApiVersionsResponse::decode(&mut frame, 0).ok()?;
    body.api_keys
        .iter()
        .find(|k| k.api_key == ApiKey::ApiVersions.key())
        .map(|k| k.max_version)
}

fn table_of(response: &ApiVersionsResponse) -> ApiVersionTable {
    ApiVersionTable::from_advertised(
        response
            .api_keys
            .iter()
            .map(|k| (k.api_key, k.min_version, k.max_version)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_highest_common_version_and_skips_what_does_not_overlap() {
        let produce = ApiKey::Produce.max_stable_version();
        let table = ApiVersionTable::from_advertised([
            (ApiKey::Produce.key(), 3, produce + 5), // newer broker: our max
            (ApiKey::Metadata.key(), 0, 4),          // older broker: theirs
            (ApiKey::Fetch.key(), 0, 2),             // below our minimum: unusable
            (9999, 0, 3),                            // unknown API
        ]);
        assert_eq!(table.version_for(ApiKey::Produce), Some(produce));
        let metadata_min = ApiKey::Metadata.versions().min;
        assert_eq!(
            table.version_for(ApiKey::Metadata),
            (metadata_min <= 4).then_some(4)
        );
        assert_eq!(
            table.version_for(ApiKey::Fetch),
            (ApiKey::Fetch.versions().min <= 2).then_some(2)
        );
        assert_eq!(table.version_for(ApiKey::ApiVersions), None);
    }

    #[test]
    fn a_v0_error_body_gives_the_broker_maximum() {
        use bytes::BufMut;
        let body = ApiVersionsResponse::default()
            .with_error_code(ErrorCode::UnsupportedVersion)
            .with_api_keys(vec![
                kafka_protocol::messages::api_versions_response::ApiVersion::default()
                    .with_api_key(18)
                    .with_min_version(0)
                    .with_max_version(2),
            ]);
        let mut frame = bytes::BytesMut::new();
        frame.put_i32(7);
        body.encode(&mut frame, 0).unwrap();
        assert_eq!(parse_v0_fallback(frame.freeze()), Some(2));
        // librdkafka's mock cluster: not a v0 layout.
        assert_eq!(
            parse_v0_fallback(bytes::Bytes::from_static(&[0, 0, 0, 7, 0, 35, 1])),
            None
        );
    }
}

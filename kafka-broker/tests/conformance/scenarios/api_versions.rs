//! ApiVersions (key 18) at every version, above the maximum (KIP-511), and with a client
//! software name Kafka refuses.

use bytes::{BufMut, BytesMut};
use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse, RequestHeader};
use kafka_protocol::{ApiKey, Message};

use crate::harness::Session;

fn at(s: &mut Session<'_>, version: i16) {
    let request = ApiVersionsRequest::default()
        .with_client_software_name("kafka-sdk-conformance")
        .with_client_software_version("0.1.0");
    s.send("api_versions", &request, version);
}

pub fn v0(s: &mut Session<'_>) {
    at(s, 0);
}

pub fn v1(s: &mut Session<'_>) {
    at(s, 1);
}

pub fn v2(s: &mut Session<'_>) {
    at(s, 2);
}

pub fn v3(s: &mut Session<'_>) {
    at(s, 3);
}

pub fn v4(s: &mut Session<'_>) {
    at(s, 4);
}

pub fn v5(s: &mut Session<'_>) {
    at(s, 5);
}

fn v5_naming(s: &mut Session<'_>, label: &str, cluster_id: Option<String>, node_id: i32) {
    let request = ApiVersionsRequest::default()
        .with_client_software_name("kafka-sdk-conformance")
        .with_client_software_version("0.1.0")
        .with_cluster_id(cluster_id.map(Into::into))
        .with_node_id(node_id);
    s.send(label, &request, 5);
}

/// KIP-1242: a client that names the right cluster and node is answered as usual.
pub fn v5_right_cluster_and_node(s: &mut Session<'_>) {
    let cluster = s.target.cluster_id.clone();
    let node = s.broker();
    v5_naming(s, "api_versions_v5_right", Some(cluster), node);
}

/// KIP-1242: a client whose metadata names another cluster or node must rebootstrap.
pub fn v5_wrong_cluster_or_node(s: &mut Session<'_>) {
    let node = s.broker();
    v5_naming(
        s,
        "api_versions_v5_wrong_cluster",
        Some("AAAAAAAAAAAAAAAAAAAAAA".into()),
        node,
    );
    let cluster = s.target.cluster_id.clone();
    v5_naming(s, "api_versions_v5_wrong_node", Some(cluster), node + 100);
}

/// A version above every broker's maximum: error 35 in a v0 body that still lists the ranges.
pub fn above_max(s: &mut Session<'_>) {
    let header = RequestHeader::default()
        .with_request_api_key(ApiKey::ApiVersions.key())
        .with_request_api_version(127)
        .with_correlation_id(1)
        .with_client_id(Some("conformance".into()));
    let mut buf = BytesMut::new();
    buf.put_i32(0);
    header.encode(&mut buf, 2).expect("header");
    // A v3-shaped body: two compact strings and no tagged fields.
    buf.put_slice(&[3, b'a', b'b', 2, b'1', 0]);
    let size = (buf.len() - 4) as i32;
    buf[..4].copy_from_slice(&size.to_be_bytes());
    s.send_frame::<ApiVersionsResponse>("api_versions_v127", &buf, ApiKey::ApiVersions, 0, 1);
}

/// KIP-511: the client software name and version must match
/// `[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?`.
pub fn invalid_software_name(s: &mut Session<'_>) {
    let request = ApiVersionsRequest::default()
        .with_client_software_name("not valid!")
        .with_client_software_version("1.0");
    s.send("api_versions_bad_name", &request, 3);
}

/// SASL requests on a listener without SASL (the corpus runs against PLAINTEXT listeners).
pub fn sasl_on_a_plaintext_listener(s: &mut Session<'_>) {
    use kafka_protocol::messages::{SaslAuthenticateRequest, SaslHandshakeRequest};
    let v = s.v(ApiKey::SaslHandshake);
    s.send(
        "sasl_handshake",
        &SaslHandshakeRequest::default().with_mechanism("PLAIN"),
        v,
    );
    let v = s.v(ApiKey::SaslAuthenticate);
    s.send(
        "sasl_authenticate",
        &SaslAuthenticateRequest::default().with_auth_bytes(bytes::Bytes::from_static(b"\0u\0p")),
        v,
    );
}

//! Frames a broker cannot serve: an unknown API key, a version above the maximum, a body cut
//! short. Kafka closes the connection in each case (there is no way to answer a request whose
//! header or body cannot be read), and so must the bundled broker.

use bytes::{BufMut, BytesMut};
use kafka_protocol::frame;
use kafka_protocol::messages::{MetadataRequest, RequestHeader};
use kafka_protocol::Message;

use crate::harness::Session;

/// A frame with a v1 request header for `api_key`/`version` and `body` as its body.
fn raw_frame(api_key: i16, version: i16, body: &[u8]) -> Vec<u8> {
    let mut buf = BytesMut::new();
    buf.put_i32(0);
    RequestHeader::default()
        .with_request_api_key(api_key)
        .with_request_api_version(version)
        .with_correlation_id(9)
        .with_client_id(Some("conformance".into()))
        .encode(&mut buf, 1)
        .expect("header");
    buf.put_slice(body);
    let size = (buf.len() - frame::SIZE_PREFIX) as i32;
    buf[..4].copy_from_slice(&size.to_be_bytes());
    buf.to_vec()
}

pub fn unknown_api_key(s: &mut Session<'_>) {
    s.send_raw("api_key_9999", &raw_frame(9999, 0, &[]));
}

pub fn version_above_maximum(s: &mut Session<'_>) {
    // Metadata v99: neither broker knows how to read its body.
    s.send_raw("metadata_v99", &raw_frame(3, 99, &[0, 0, 0, 0]));
}

pub fn truncated_body(s: &mut Session<'_>) {
    let mut body = BytesMut::new();
    MetadataRequest::default()
        .with_topics(Some(Vec::new()))
        .encode(&mut body, 4)
        .expect("encode");
    // Metadata v4 is a topics array and a flag; drop the flag.
    s.send_raw("metadata_v4_cut", &raw_frame(3, 4, &body[..body.len() - 1]));
}

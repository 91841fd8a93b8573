//! Behaviour of the generated message API beyond plain round trips (those are generated, one test
//! per message, in `src/messages/roundtrip_tests.rs`).

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{
    api_versions_request, fetch_request, metadata_request, produce_request, produce_response,
    ApiVersionsRequest, FetchRequest, MetadataRequest, ProduceRequest, ProduceResponse,
    RequestHeader, ResponseHeader,
};
use kafka_protocol::RawTaggedField;
use kafka_protocol::{ApiKey, DecodeError, EncodeError, Message, Request, RequestBody};

fn encode<M: Message>(m: &M, version: i16) -> Result<Bytes, EncodeError> {
    let mut buf = BytesMut::new();
    m.encode(&mut buf, version)?;
    Ok(buf.freeze())
}

#[test]
fn non_ignorable_field_at_a_version_without_it_is_an_encode_error() {
    // TransactionalId exists from v3 on and is not ignorable: dropping it would silently turn a
    // transactional produce into a plain one.
    let req = ProduceRequest::default().with_transactional_id(Some("tx".into()));
    assert_eq!(
        encode(&req, 2),
        Err(EncodeError::FieldNotSupported {
            field: "ProduceRequest.transactional_id",
            version: 2
        })
    );
    assert!(encode(&req, 3).is_ok());
    // At its default (null) the field is simply absent.
    assert!(encode(&ProduceRequest::default(), 2).is_ok());
}

#[test]
fn ignorable_field_is_dropped_at_a_version_without_it() {
    let part = produce_response::PartitionProduceResponse::default().with_log_append_time_ms(42);
    let topic = produce_response::TopicProduceResponse::default()
        .with_name("t")
        .with_partition_responses(vec![part]);
    let resp = ProduceResponse::default().with_responses(vec![topic]);
    let bytes = encode(&resp, 1).expect("ignorable fields never fail encoding");
    let back = ProduceResponse::decode(&mut bytes.clone(), 1).unwrap();
    assert_eq!(
        back.responses[0].partition_responses[0].log_append_time_ms,
        -1
    );
    let bytes = encode(&resp, 2).unwrap();
    let back = ProduceResponse::decode(&mut bytes.clone(), 2).unwrap();
    assert_eq!(
        back.responses[0].partition_responses[0].log_append_time_ms,
        42
    );
}

#[test]
fn null_where_the_version_forbids_it_is_an_error_both_ways() {
    // Metadata topics became nullable ("all topics") in v1.
    let all = MetadataRequest::default().with_topics(None);
    assert_eq!(
        encode(&all, 0),
        Err(EncodeError::NullNotAllowed {
            field: "MetadataRequest.topics",
            version: 0
        })
    );
    let v1 = encode(&all, 1).unwrap();
    assert_eq!(&v1[..], &[0xff, 0xff, 0xff, 0xff]);
    let err = MetadataRequest::decode(&mut v1.clone(), 0).unwrap_err();
    assert_eq!(
        err,
        DecodeError::UnexpectedNull {
            field: "MetadataRequest.topics",
            version: 0
        }
    );
}

#[test]
fn versions_outside_the_range_are_rejected() {
    assert!(matches!(
        encode(&FetchRequest::default(), 99),
        Err(EncodeError::UnsupportedVersion {
            message: "FetchRequest",
            version: 99
        })
    ));
    assert!(matches!(
        FetchRequest::decode(&mut Bytes::new(), -1),
        Err(DecodeError::UnsupportedVersion { .. })
    ));
}

/// Bytes written by hand from the protocol guide, not by our encoder.
#[test]
fn api_versions_request_v3_matches_hand_written_bytes() {
    let req = ApiVersionsRequest::default()
        .with_client_software_name("kcat")
        .with_client_software_version("1.7");
    let expected: &[u8] = &[
        5, b'k', b'c', b'a', b't', // compact string: length + 1
        4, b'1', b'.', b'7', // compact string
        0,    // no tagged fields
    ];
    assert_eq!(&encode(&req, 3).unwrap()[..], expected);
    assert_eq!(
        ApiVersionsRequest::decode(&mut Bytes::from_static(expected), 3).unwrap(),
        req
    );
    let _ = api_versions_request::ApiVersionsRequest::default();
}

#[test]
fn request_header_v2_keeps_a_classic_client_id() {
    // Header v2 is flexible, but its client id stays an int16-prefixed string so that a broker can
    // read it before it knows anything about the request (KIP-482).
    let h = RequestHeader::default()
        .with_request_api_key(ApiKey::ApiVersions.key())
        .with_request_api_version(3)
        .with_correlation_id(7)
        .with_client_id(Some("c1".into()));
    let expected: &[u8] = &[0, 18, 0, 3, 0, 0, 0, 7, 0, 2, b'c', b'1', 0];
    assert_eq!(&encode(&h, 2).unwrap()[..], expected);
    assert_eq!(&encode(&h, 1).unwrap()[..], &expected[..12]);
    // v0 has no client id at all: leaving it at its default is fine, setting one is an error.
    let v0 = RequestHeader {
        client_id: RequestHeader::default().client_id,
        ..h.clone()
    };
    assert_eq!(encode(&v0, 0).unwrap().len(), 8);
    assert!(matches!(
        encode(&h, 0),
        Err(EncodeError::FieldNotSupported { .. })
    ));
    let r = ResponseHeader::default().with_correlation_id(7);
    assert_eq!(&encode(&r, 1).unwrap()[..], &[0, 0, 0, 7, 0]);
}

#[test]
fn header_versions_follow_flexible_versions_with_the_api_versions_exception() {
    assert_eq!(ApiKey::Produce.request_header_version(8), 1);
    assert_eq!(ApiKey::Produce.request_header_version(9), 2);
    assert_eq!(ApiKey::Produce.response_header_version(9), 1);
    assert_eq!(ApiKey::ApiVersions.request_header_version(3), 2);
    assert_eq!(ApiKey::ApiVersions.response_header_version(3), 0);
    assert_eq!(ApiKey::SaslHandshake.request_header_version(1), 1);
    assert_eq!(ApiKey::DescribeCluster.response_header_version(0), 1);
    assert_eq!(<ProduceRequest as Request>::API_KEY, ApiKey::Produce);
}

#[test]
fn every_api_key_round_trips_and_knows_its_versions() {
    assert_eq!(ApiKey::ALL.len(), 51);
    for &k in ApiKey::ALL {
        assert_eq!(ApiKey::from_i16(k.key()), Some(k));
        let v = k.versions();
        assert!(
            v.min <= k.max_stable_version() && k.max_stable_version() <= v.max,
            "{k:?}"
        );
    }
    assert_eq!(ApiKey::from_i16(34), None);
    assert_eq!(ApiKey::Fetch.versions().max, 18);
    assert_eq!(ApiKey::Produce.versions().min, 0);
}

#[test]
fn unknown_tagged_fields_survive_a_round_trip_byte_for_byte() {
    let mut buf = BytesMut::new();
    // MetadataRequest v12: topics (compact array, null), allow auto create, include topic ops,
    // then tagged fields: one unknown tag 77 carrying 3 bytes.
    buf.put_u8(0); // null topics
    buf.put_u8(1);
    buf.put_u8(0);
    buf.put_u8(1); // one tagged field
    buf.put_u8(77);
    buf.put_u8(3);
    buf.put_slice(b"xyz");
    let wire = buf.freeze();
    let m = MetadataRequest::decode(&mut wire.clone(), 12).unwrap();
    assert_eq!(
        m.unknown_tagged_fields,
        vec![RawTaggedField {
            tag: 77,
            data: Bytes::from_static(b"xyz")
        }]
    );
    assert_eq!(encode(&m, 12).unwrap(), wire);
    let _ = metadata_request::MetadataRequestTopic::default();
}

#[test]
fn decode_errors_name_the_field() {
    // FetchRequest v4: replica id, max wait, min bytes, max bytes, isolation level, then the topics
    // array whose count claims a billion entries.
    let mut buf = BytesMut::new();
    buf.put_i32(-1);
    buf.put_i32(500);
    buf.put_i32(1);
    buf.put_i32(1 << 20);
    buf.put_i8(0);
    buf.put_i32(1_000_000_000);
    let err = FetchRequest::decode(&mut buf.freeze(), 4).unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::InvalidLength {
                field: "FetchRequest.topics",
                ..
            }
        ),
        "{err}"
    );
    let _ = fetch_request::FetchTopic::default();
}

#[test]
fn every_truncation_of_a_populated_message_is_an_error_not_a_panic() {
    let req = ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![produce_request::TopicProduceData::default()
            .with_name("events")
            .with_partition_data(vec![
                produce_request::PartitionProduceData::default()
                    .with_index(3)
                    .with_records(Some(Bytes::from_static(b"not really a batch"))),
            ])]);
    for version in [3, 8, 9, 12] {
        let full = encode(&req, version).unwrap();
        for cut in 0..full.len() {
            let mut part = full.slice(..cut);
            assert!(
                ProduceRequest::decode(&mut part, version).is_err(),
                "v{version} truncated to {cut} bytes decoded"
            );
        }
    }
}

#[test]
fn request_body_dispatches_on_api_key() {
    let req = MetadataRequest::default().with_topics(None);
    let mut buf = BytesMut::new();
    RequestBody::from(req.clone()).encode(&mut buf, 12).unwrap();
    let body = RequestBody::decode(ApiKey::Metadata, &mut buf.freeze(), 12).unwrap();
    assert_eq!(body.api_key(), ApiKey::Metadata);
    assert_eq!(body, RequestBody::Metadata(req));
}

#[test]
fn decoded_strings_and_records_point_into_the_input_buffer() {
    use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
    use kafka_protocol::messages::FetchResponse;

    let response = FetchResponse::default().with_responses(vec![FetchableTopicResponse::default()
        .with_topic("orders")
        .with_partitions(vec![
            PartitionData::default().with_records(Some(Bytes::from_static(b"not really a batch")))
        ])]);
    let input = encode(&response, 12).unwrap();
    let range = input.as_ptr() as usize..input.as_ptr() as usize + input.len();
    let decoded = FetchResponse::decode(&mut input.clone(), 12).unwrap();
    let topic = &decoded.responses[0].topic;
    assert_eq!(topic, "orders");
    // Nothing was copied: the name and the records are views of `input`.
    assert!(range.contains(&(topic.as_str().as_ptr() as usize)));
    let records = decoded.responses[0].partitions[0].records.as_ref().unwrap();
    assert!(range.contains(&(records.as_ptr() as usize)));
}

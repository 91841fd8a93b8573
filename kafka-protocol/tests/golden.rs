//! Golden frames: real requests from kcat, confluent-kafka and kafka-python, and real responses
//! from librdkafka's mock broker, captured by `tools/golden/capture.py` into `tests/golden/`
//! (see its README). Each one must decode (header, then body by api key and version) with nothing
//! left over and re-encode to the identical bytes. Rows are listed in `tests/golden/MANIFEST.tsv`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::messages::{ApiVersionsResponse, ResponseHeader};
use kafka_protocol::{frame, ApiKey, EncodeMode, Message, RequestBody};

/// API keys present in the captures that this crate deliberately has no schema for. Frames of
/// these keys are skipped; any other unknown key fails the test so new captures get looked at.
const NOT_COVERED: &[(i16, &str)] = &[(71, "GetTelemetrySubscriptions (KIP-714 client metrics)")];

/// Marks the mock's non-standard answer to an ApiVersions version it does not support.
const REJECTION_NOTE: &str = "unsupported-version-v0-body";
/// Marks an OffsetFetch response whose (non-nullable) Topics array the mock sent as null.
const NULL_TOPICS_NOTE: &str = "mock-null-topics-array";
/// Marks a Metadata v13 response the mock ended with one byte too many.
const EXTRA_BYTE_NOTE: &str = "mock-metadata-v13-extra-trailing-byte";
/// Notes of frames that break the schema; each has its own test below instead of a round trip.
const DEVIATIONS: &[&str] = &[REJECTION_NOTE, NULL_TOPICS_NOTE, EXTRA_BYTE_NOTE];

#[derive(Debug)]
struct Row {
    file: String,
    client: String,
    api_key: i16,
    api_version: i16,
    header_version: i16,
    correlation_id: i32,
    direction: String,
    note: String,
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("golden")
}

fn manifest() -> Vec<Row> {
    let text = std::fs::read_to_string(golden_dir().join("MANIFEST.tsv"))
        .expect("tests/golden/MANIFEST.tsv is readable");
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let c: Vec<&str> = line.split('\t').collect();
            assert_eq!(
                c.len(),
                9,
                "MANIFEST.tsv row with {} columns: {line}",
                c.len()
            );
            let num = |i: usize| -> i64 {
                c[i].parse()
                    .unwrap_or_else(|_| panic!("column {i} of {line} is not a number"))
            };
            Row {
                file: c[0].to_string(),
                client: c[1].to_string(),
                api_key: num(2) as i16,
                api_version: num(3) as i16,
                header_version: num(4) as i16,
                correlation_id: num(5) as i32,
                direction: c[7].to_string(),
                note: c[8].to_string(),
            }
        })
        .collect()
}

fn frame(row: &Row) -> Bytes {
    let path = golden_dir().join(&row.file);
    Bytes::from(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// Decodes a request frame through `kafka_protocol::frame` and frames it again from what was
/// decoded: the bytes must come out identical.
fn round_trip_request(row: &Row, api: ApiKey, bytes: &Bytes) -> Result<(), String> {
    let hv = api.request_header_version(row.api_version);
    if hv != row.header_version {
        return Err(format!(
            "crate says request header v{hv}, manifest v{}",
            row.header_version
        ));
    }
    let mut buf = bytes.clone();
    let (decoded_api, header) =
        frame::decode_request_header(&mut buf).map_err(|e| format!("header: {e}"))?;
    if (
        decoded_api.key(),
        header.request_api_version,
        header.correlation_id,
    ) != (row.api_key, row.api_version, row.correlation_id)
    {
        return Err(format!(
            "header fields {header:?} disagree with the manifest"
        ));
    }
    let body =
        RequestBody::decode(api, &mut buf, row.api_version).map_err(|e| format!("body: {e}"))?;
    if buf.has_remaining() {
        return Err(format!("{} bytes left after the body", buf.remaining()));
    }
    if !header.unknown_tagged_fields.is_empty() {
        return Err("the header carries tagged fields frame::encode_request would drop".into());
    }
    let mut out = BytesMut::new();
    frame::encode_request_body(
        &mut out,
        header.correlation_id,
        header.client_id.as_deref(),
        &body,
        row.api_version,
    )
    .map_err(|e| format!("re-encode: {e}"))?;
    let predicted = frame::SIZE_PREFIX + header.encoded_len(hv) + body.encoded_len(row.api_version);
    compare(bytes, &out, predicted)
}

/// Decodes a response frame through `kafka_protocol::frame` (which refuses trailing bytes) and
/// frames it again: the bytes must come out identical.
fn round_trip_response(row: &Row, api: ApiKey, bytes: &Bytes) -> Result<(), String> {
    let hv = api.response_header_version(row.api_version);
    if hv != row.header_version {
        return Err(format!(
            "crate says response header v{hv}, manifest v{}",
            row.header_version
        ));
    }
    let (correlation_id, body) = frame::decode_response_body(api, row.api_version, bytes.clone())
        .map_err(|e| format!("decode: {e}"))?;
    if correlation_id != row.correlation_id {
        return Err(format!("correlation id {correlation_id} in the frame"));
    }
    let mut out = BytesMut::new();
    frame::encode_response(
        &mut out,
        api,
        row.api_version,
        correlation_id,
        &body,
        EncodeMode::Strict,
    )
    .map_err(|e| format!("re-encode: {e}"))?;
    let predicted = frame::SIZE_PREFIX
        + ResponseHeader::default().encoded_len(hv)
        + body.encoded_len(row.api_version);
    compare(bytes, &out, predicted)
}

/// Compares a frame as captured (no size prefix) with one framed again (with its prefix).
fn compare(original: &Bytes, framed: &BytesMut, predicted_len: usize) -> Result<(), String> {
    let size = i32::from_be_bytes([framed[0], framed[1], framed[2], framed[3]]);
    if usize::try_from(size).ok() != Some(framed.len() - frame::SIZE_PREFIX) {
        return Err(format!("size prefix {size} for {} bytes", framed.len() - 4));
    }
    let out = &framed[frame::SIZE_PREFIX..];
    if out[..] != original[..] {
        let at = original.iter().zip(out.iter()).position(|(a, b)| a != b);
        return Err(format!(
            "re-encoding differs (len {} vs {}, first difference at byte {:?})",
            original.len(),
            out.len(),
            at.unwrap_or(original.len().min(out.len()))
        ));
    }
    if predicted_len != framed.len() {
        return Err(format!(
            "encoded_len said {predicted_len}, wrote {}",
            framed.len()
        ));
    }
    Ok(())
}

#[test]
fn golden_frames_decode_and_re_encode_byte_identically() {
    let rows = manifest();
    let mut failures = Vec::new();
    let mut checked = 0usize;
    let mut clients = BTreeSet::new();
    for row in rows
        .iter()
        .filter(|r| !DEVIATIONS.iter().any(|d| r.note.contains(d)))
    {
        let Some(api) = ApiKey::from_i16(row.api_key) else {
            if !NOT_COVERED.iter().any(|(k, _)| *k == row.api_key) {
                failures.push(format!(
                    "{}: api key {} unknown to the crate",
                    row.file, row.api_key
                ));
            }
            continue;
        };
        if !api.versions().contains(row.api_version) {
            failures.push(format!(
                "{}: version outside {:?}",
                row.file,
                api.versions()
            ));
            continue;
        }
        let bytes = frame(row);
        let result = match row.direction.as_str() {
            "req" => round_trip_request(row, api, &bytes),
            "resp" => round_trip_response(row, api, &bytes),
            other => Err(format!("direction {other:?}")),
        };
        match result {
            Ok(()) => {
                checked += 1;
                clients.insert(row.client.clone());
            }
            Err(e) => failures.push(format!("{}: {e}", row.file)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} golden frames failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
    // Guards against a vacuous pass (an emptied manifest or a filter gone wrong).
    assert!(checked >= 200, "only {checked} frames were round-tripped");
    let expected: BTreeSet<String> = ["confluent_kafka", "kafka_python", "kcat"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(clients, expected, "every client's frames are exercised");
}

fn rows_noted(note: &str) -> Vec<Row> {
    let rows: Vec<Row> = manifest()
        .into_iter()
        .filter(|r| r.note.contains(note))
        .collect();
    assert!(!rows.is_empty(), "no golden frame carries the note {note}");
    rows
}

/// librdkafka's mock answers an OffsetFetch for all of a group's topics with a null Topics array,
/// which the schema does not allow in any response version; the decoder must refuse it with a
/// typed error rather than invent an empty list.
#[test]
fn mock_null_offset_fetch_topics_is_a_typed_decode_error() {
    for row in rows_noted(NULL_TOPICS_NOTE) {
        let api = ApiKey::from_i16(row.api_key).expect("OffsetFetch");
        match frame::decode_response_body(api, row.api_version, frame(&row)) {
            Err(e) => assert!(
                e.to_string().contains("null"),
                "{}: unexpected error {e}",
                row.file
            ),
            Ok((_, body)) => panic!("{}: null Topics accepted: {body:?}", row.file),
        }
    }
}

/// The 2.16.0 mock ends Metadata v13 responses with one byte beyond the schema (ErrorCode int16
/// plus empty tagged fields, KIP-1102). Everything before that byte must still round-trip.
#[test]
fn mock_metadata_v13_has_exactly_one_extra_trailing_byte() {
    for row in rows_noted(EXTRA_BYTE_NOTE) {
        let bytes = frame(&row);
        let api = ApiKey::from_i16(row.api_key).expect("Metadata");
        let whole = frame::decode_response_body(api, row.api_version, bytes.clone());
        assert!(
            matches!(
                whole,
                Err(kafka_protocol::DecodeError::TrailingBytes { remaining: 1, .. })
            ),
            "{}: {whole:?}",
            row.file
        );
        let short = bytes.slice(..bytes.len() - 1);
        let (correlation_id, body) = frame::decode_response_body(api, row.api_version, short)
            .unwrap_or_else(|e| panic!("{}: {e}", row.file));
        assert_eq!(correlation_id, row.correlation_id, "{}", row.file);
        let mut out = BytesMut::new();
        frame::encode_response(
            &mut out,
            api,
            row.api_version,
            correlation_id,
            &body,
            EncodeMode::Strict,
        )
        .expect("re-encode");
        assert_eq!(
            out[frame::SIZE_PREFIX..],
            bytes[..bytes.len() - 1],
            "{}",
            row.file
        );
    }
}

/// The mock broker answers ApiVersions v3+ with error 35 and a body in no standard layout (see the
/// golden README). KIP-511 tells a client to read such an answer as v0; the body must then fail
/// with a typed error, and it must not pass as a clean frame of the requested version either.
#[test]
fn mock_apiversions_rejection_is_not_mistaken_for_a_valid_frame() {
    for row in &rows_noted(REJECTION_NOTE) {
        let bytes = frame(row);
        let mut buf = bytes.clone();
        let header = ResponseHeader::decode(&mut buf, 0).expect("response header v0");
        assert_eq!(header.correlation_id, row.correlation_id);
        // Error code 35 (UNSUPPORTED_VERSION) sits right after the header in every version.
        assert_eq!(&buf[..2], &[0x00, 0x23], "{}", row.file);

        let as_v0 = ApiVersionsResponse::decode(&mut buf.clone(), 0);
        assert!(as_v0.is_err(), "{}: decoded as v0: {as_v0:?}", row.file);

        let mut at_version = buf.clone();
        if let Ok(body) = ApiVersionsResponse::decode(&mut at_version, row.api_version) {
            let mut out = BytesMut::new();
            body.encode(&mut out, row.api_version).expect("re-encode");
            assert!(
                at_version.has_remaining() || out[..] != buf[..],
                "{}: the non-standard body round-tripped as v{}",
                row.file,
                row.api_version
            );
        }
    }
}

//! The checks the fuzz targets run on every input.
//!
//! This file is shared: the fuzz targets call it through the `kafka_protocol_fuzz` crate, and
//! `kafka-protocol/tests/fuzz_regressions.rs` includes it with `#[path]` to replay the saved
//! reproducers in `fuzz/regressions/` as ordinary tests. It therefore uses only `bytes` and
//! `kafka_protocol`.
//!
//! Every check panics on a broken invariant, which is what libFuzzer reports as a crash; an input
//! the decoders reject with an error is simply uninteresting.

use std::fmt::Debug;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::records::{
    set_base_offset, Compression, ControlRecordType, DecodeOptions, EndTransactionMarker, Record,
    RecordBatch, RecordBatchBuilder, RecordBatchHeader, RecordBatches, RecordSet, TimestampType,
};
use kafka_protocol::{DecodeError, EncodeError, Message, RequestBody, ResponseBody};

/// Something the checks can decode and re-encode at a version: message bodies need their API key
/// to decode, headers do not.
pub trait Codec: Sized + PartialEq + Debug {
    /// Decodes from the front of `buf`.
    fn decode_as(buf: &mut Bytes, api_key: ApiKey, version: i16) -> Result<Self, DecodeError>;
    /// Appends the encoding to `buf`.
    fn encode_as(&self, buf: &mut BytesMut, version: i16) -> Result<(), EncodeError>;
    /// The number of bytes `encode_as` writes.
    fn len_as(&self, version: i16) -> usize;
}

impl Codec for RequestBody {
    fn decode_as(buf: &mut Bytes, api_key: ApiKey, version: i16) -> Result<Self, DecodeError> {
        RequestBody::decode(api_key, buf, version)
    }
    fn encode_as(&self, buf: &mut BytesMut, version: i16) -> Result<(), EncodeError> {
        self.encode(buf, version)
    }
    fn len_as(&self, version: i16) -> usize {
        self.encoded_len(version)
    }
}

impl Codec for ResponseBody {
    fn decode_as(buf: &mut Bytes, api_key: ApiKey, version: i16) -> Result<Self, DecodeError> {
        ResponseBody::decode(api_key, buf, version)
    }
    fn encode_as(&self, buf: &mut BytesMut, version: i16) -> Result<(), EncodeError> {
        self.encode(buf, version)
    }
    fn len_as(&self, version: i16) -> usize {
        self.encoded_len(version)
    }
}

macro_rules! header_codec {
    ($($ty:ty),*) => {$(
        impl Codec for $ty {
            fn decode_as(buf: &mut Bytes, _: ApiKey, version: i16) -> Result<Self, DecodeError> {
                <$ty as Message>::decode(buf, version)
            }
            fn encode_as(&self, buf: &mut BytesMut, version: i16) -> Result<(), EncodeError> {
                Message::encode(self, buf, version)
            }
            fn len_as(&self, version: i16) -> usize {
                Message::encoded_len(self, version)
            }
        }
    )*};
}
header_codec!(RequestHeader, ResponseHeader);

/// Checks a value the decoder produced at `version`:
///
/// * it re-encodes (a decoder must not accept what the encoder refuses to write),
/// * `encoded_len` equals the bytes written,
/// * decoding those bytes consumes all of them and gives the same value
///   (decode ∘ encode ∘ decode = decode),
/// * encoding the second value writes the same bytes (so the check also holds for `NaN` floats,
///   which `PartialEq` never calls equal),
/// * with `prefixes`, decoding a strict prefix of the encoding fails: Kafka messages have no
///   optional trailing fields, so running out of bytes is always an error.
///
/// Returns the encoding.
pub fn round_trip<T: Codec>(
    what: &str,
    first: &T,
    api_key: ApiKey,
    version: i16,
    prefixes: bool,
) -> Bytes {
    let mut buf = BytesMut::new();
    if let Err(error) = first.encode_as(&mut buf, version) {
        panic!("{what} v{version}: decoded value does not re-encode: {error}\n{first:?}");
    }
    assert_eq!(
        buf.len(),
        first.len_as(version),
        "{what} v{version}: encoded_len disagrees with the bytes written\n{first:?}"
    );
    let encoded = buf.freeze();
    let mut rest = encoded.clone();
    let second = match T::decode_as(&mut rest, api_key, version) {
        Ok(second) => second,
        Err(error) => panic!("{what} v{version}: re-encoded value does not decode: {error}"),
    };
    assert!(
        rest.is_empty(),
        "{what} v{version}: {} of {} re-encoded bytes left over",
        rest.len(),
        encoded.len()
    );
    if &second != first {
        // Only NaN floats may differ under PartialEq while printing identically.
        assert_eq!(
            format!("{first:?}"),
            format!("{second:?}"),
            "{what} v{version}: decode ∘ encode ∘ decode ≠ decode"
        );
    }
    let mut again = BytesMut::new();
    if let Err(error) = second.encode_as(&mut again, version) {
        panic!("{what} v{version}: second encode failed: {error}");
    }
    assert_eq!(
        &again[..],
        &encoded[..],
        "{what} v{version}: encoding is not stable"
    );
    if prefixes {
        let len = encoded.len();
        for cut in [0, len / 2, len.saturating_sub(1)] {
            if cut < len {
                let mut prefix = encoded.slice(..cut);
                assert!(
                    T::decode_as(&mut prefix, api_key, version).is_err(),
                    "{what} v{version}: a {cut}-byte prefix of a {len}-byte encoding decoded"
                );
            }
        }
    }
    encoded
}

/// Reads the big-endian i16 at `at`.
fn i16_at(data: &[u8], at: usize) -> Option<i16> {
    let bytes = data.get(at..at + 2)?;
    Some(i16::from_be_bytes([*bytes.first()?, *bytes.get(1)?]))
}

/// Target `frame`: `data` is a request frame body (size prefix removed) and, with its first four
/// bytes read as the (api key, api version) a client asked with, a response frame body.
pub fn frame(data: &[u8]) {
    request_frame(data);
    if let Some(rest) = data.get(4..) {
        response_frame(data, rest);
    }
}

/// A request frame: the header (whose version follows from the api key and version it starts
/// with, KIP-482), then the body.
fn request_frame(data: &[u8]) {
    let (Some(key), Some(version)) = (i16_at(data, 0), i16_at(data, 2)) else {
        return;
    };
    let Some(api_key) = ApiKey::from_i16(key) else {
        return;
    };
    let header_version = api_key.request_header_version(version);
    let mut buf = Bytes::copy_from_slice(data);
    let Ok(header) = RequestHeader::decode(&mut buf, header_version) else {
        return;
    };
    assert_eq!(header.request_api_key, key, "RequestHeader api key");
    assert_eq!(
        header.request_api_version, version,
        "RequestHeader api version"
    );
    let header_bytes = round_trip("RequestHeader", &header, api_key, header_version, false);
    let Ok(body) = RequestBody::decode(api_key, &mut buf, version) else {
        return;
    };
    assert!(
        api_key.versions().contains(version),
        "{api_key:?} request decoded at unsupported version {version}"
    );
    assert_eq!(body.api_key(), api_key, "RequestBody api key");
    let body_bytes = round_trip("RequestBody", &body, api_key, version, false);
    // The re-encoded frame must read back as the same header and body.
    let mut frame = BytesMut::new();
    frame.extend_from_slice(&header_bytes);
    frame.extend_from_slice(&body_bytes);
    let mut frame = frame.freeze();
    assert_eq!(
        RequestHeader::decode(&mut frame, header_version).as_ref(),
        Ok(&header),
        "re-encoded request frame header"
    );
    let again = RequestBody::decode(api_key, &mut frame, version);
    assert!(
        again.is_ok() && frame.is_empty(),
        "re-encoded request frame body"
    );
}

/// A response frame for the request `selector` names: the header (v1 for flexible responses,
/// except ApiVersions, KIP-511), then the body.
fn response_frame(selector: &[u8], data: &[u8]) {
    let (Some(key), Some(version)) = (i16_at(selector, 0), i16_at(selector, 2)) else {
        return;
    };
    let Some(api_key) = ApiKey::from_i16(key) else {
        return;
    };
    let header_version = api_key.response_header_version(version);
    let mut buf = Bytes::copy_from_slice(data);
    let Ok(header) = ResponseHeader::decode(&mut buf, header_version) else {
        return;
    };
    round_trip("ResponseHeader", &header, api_key, header_version, false);
    let Ok(body) = ResponseBody::decode(api_key, &mut buf, version) else {
        return;
    };
    assert!(
        api_key.versions().contains(version),
        "{api_key:?} response decoded at unsupported version {version}"
    );
    assert_eq!(body.api_key(), api_key, "ResponseBody api key");
    round_trip("ResponseBody", &body, api_key, version, false);
}

/// What the first four bytes of a `message` input select.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageSelector {
    /// The API.
    pub api_key: ApiKey,
    /// The version; one past the highest supported version is reachable, to check it fails.
    pub version: i16,
    /// Response (`true`) or request body.
    pub response: bool,
    /// Whether to also check that prefixes of the re-encoding fail to decode.
    pub prefixes: bool,
}

impl MessageSelector {
    /// Reads the selector: byte 0 picks the API (modulo the number of APIs), byte 1 the version
    /// offset from the lowest supported one (modulo the range plus one), byte 2 bit 0 the
    /// response side, byte 3 bit 0 the prefix check.
    pub fn parse(data: &[u8]) -> Option<Self> {
        let [a, v, r, p] = *data.first_chunk::<4>()?;
        let api_key = *ApiKey::ALL.get(usize::from(a) % ApiKey::ALL.len())?;
        let range = api_key.versions();
        let span = i32::from(range.max) - i32::from(range.min) + 2;
        let offset = i32::from(v) % span.max(1);
        let version = i16::try_from(i32::from(range.min) + offset).ok()?;
        Some(MessageSelector {
            api_key,
            version,
            response: r & 1 == 1,
            prefixes: p & 1 == 1,
        })
    }

    /// The four bytes that select this (the inverse of [`MessageSelector::parse`]), for seeds.
    pub fn to_bytes(self) -> Option<[u8; 4]> {
        let index = ApiKey::ALL.iter().position(|k| *k == self.api_key)?;
        let offset = self.version.checked_sub(self.api_key.versions().min)?;
        Some([
            u8::try_from(index).ok()?,
            u8::try_from(offset).ok()?,
            u8::from(self.response),
            u8::from(self.prefixes),
        ])
    }
}

/// Target `message`: the first four bytes select a body type and version (see
/// [`MessageSelector`]); the rest is decoded as that body, and a decoded body must round-trip.
pub fn message(data: &[u8]) {
    let (Some(selector), Some(rest)) = (MessageSelector::parse(data), data.get(4..)) else {
        return;
    };
    let MessageSelector {
        api_key,
        version,
        response,
        prefixes,
    } = selector;
    let range = api_key.versions();
    let supported = range.contains(version);
    let mut buf = Bytes::copy_from_slice(rest);
    if response {
        if let Ok(body) = ResponseBody::decode(api_key, &mut buf, version) {
            assert!(supported, "{api_key:?} response decoded at v{version}");
            round_trip("ResponseBody", &body, api_key, version, prefixes);
            for outside in [range.min - 1, range.max + 1] {
                let encoded = body.encode(&mut BytesMut::new(), outside);
                assert!(
                    encoded.is_err(),
                    "{api_key:?} response encoded at v{outside}"
                );
            }
        }
    } else if let Ok(body) = RequestBody::decode(api_key, &mut buf, version) {
        assert!(supported, "{api_key:?} request decoded at v{version}");
        round_trip("RequestBody", &body, api_key, version, prefixes);
        for outside in [range.min - 1, range.max + 1] {
            let encoded = body.encode(&mut BytesMut::new(), outside);
            assert!(
                encoded.is_err(),
                "{api_key:?} request encoded at v{outside}"
            );
        }
    }
}

/// The decompressed-size caps the `record_batch` target picks from: small ones reach the
/// `TooLarge` paths, and none lets one input spend long inflating.
const CAPS: [usize; 4] = [1 << 10, 1 << 14, 1 << 18, 1 << 22];

/// Target `record_batch`. Byte 0 is a mode:
///
/// * bit 7 clear: the rest is a record set (the `records` field of Produce/Fetch), decoded with
///   CRC checking on (bit 0 set) or off, and the cap `CAPS[bits 1-2]`;
/// * bit 7 set: the rest is the compressed payload of codec `bits 4-6` (unknown ids are skipped),
///   inflated within `CAPS[bits 1-2]`.
pub fn record_batch(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let cap = CAPS[usize::from((mode >> 1) & 3)];
    if mode & 0x80 != 0 {
        if let Ok(codec) = Compression::from_id(i16::from((mode >> 4) & 7)) {
            decompression(codec, rest, cap);
        }
        return;
    }
    let options = DecodeOptions::default()
        .with_verify_crc(mode & 1 == 1)
        .with_max_decompressed_size(cap);
    let data = Bytes::copy_from_slice(rest);

    // The eager and the lazy walk must agree.
    let set = RecordSet::decode_with(data.clone(), options);
    let mut lazy = RecordBatches::with_options(data.clone(), options);
    let lazy_batches: Vec<_> = lazy.by_ref().collect();
    match &set {
        Ok(set) => {
            assert!(lazy_batches.iter().all(Result::is_ok), "lazy walk failed");
            assert_eq!(set.batches.len(), lazy_batches.len(), "batch counts");
            assert_eq!(set.partial, lazy.partial(), "partial batch");
            let used: usize = set.batches.iter().map(|b| b.as_bytes().len()).sum();
            let partial = set.partial.map_or(0, |p| p.available);
            assert_eq!(
                used + partial,
                data.len(),
                "record set bytes unaccounted for"
            );
        }
        Err(_) => assert!(
            lazy_batches.last().is_some_and(Result::is_err),
            "lazy walk did not fail"
        ),
    }
    for batch in lazy_batches.iter().flatten() {
        check_batch(batch, &options);
    }
}

/// Inflates `input`; what comes out must fit the cap and survive compress → decompress.
fn decompression(codec: Compression, input: &[u8], cap: usize) {
    let Ok(plain) = codec.decompress(input, cap) else {
        return;
    };
    assert!(
        plain.len() <= cap,
        "{codec:?}: {} bytes over cap {cap}",
        plain.len()
    );
    let mut packed = Vec::new();
    if let Err(error) = codec.compress(&plain, None, &mut packed) {
        panic!("{codec:?}: compress failed: {error}");
    }
    match codec.decompress(&packed, plain.len()) {
        Ok(back) => assert!(back == plain, "{codec:?}: compress/decompress changed data"),
        Err(error) => panic!("{codec:?}: own output does not decompress: {error}"),
    }
}

/// Walks every record of a decoded batch and checks it against a rebuilt copy.
fn check_batch(batch: &RecordBatch, options: &DecodeOptions) {
    let header = *batch.header();
    assert_eq!(
        RecordBatchHeader::parse(batch.as_bytes()).as_ref(),
        Ok(&header),
        "header re-parse"
    );
    assert_eq!(header.total_size(), batch.as_bytes().len(), "batch size");
    assert_eq!(
        header.compression().ok(),
        Some(batch.compression()),
        "codec"
    );

    let mut records = Vec::new();
    let mut failed = false;
    for item in batch.records() {
        match item {
            Ok(record) => records.push(record),
            Err(_) => failed = true,
        }
    }
    assert!(
        records.len() <= batch.records_count(),
        "more records than declared"
    );
    for record in &records {
        for h in &record.headers {
            assert_eq!(
                h.key().as_bytes(),
                &h.key_bytes()[..],
                "header key is UTF-8"
            );
        }
        if header.is_control() {
            // Either may fail on a hostile record; neither may panic.
            let _ = ControlRecordType::of_record(record);
            let _ = EndTransactionMarker::from_record(record);
        }
    }
    if failed {
        return;
    }
    assert_eq!(records.len(), batch.records_count(), "records iterated");

    // baseOffset sits outside the CRC'd range, so rewriting it keeps the batch valid.
    let mut moved = batch.as_bytes().to_vec();
    let new_base = header.base_offset.wrapping_add(1);
    assert!(
        set_base_offset(&mut moved, new_base).is_ok(),
        "set_base_offset"
    );
    match RecordBatch::decode_with(&mut Bytes::from(moved), options) {
        Ok(moved) => assert_eq!(moved.header().base_offset, new_base, "moved base offset"),
        Err(error) => panic!("batch with a new baseOffset no longer decodes: {error}"),
    }

    rebuild(batch, &records);
}

/// Encodes `records` again with the batch's settings; the copy must decode to the same records.
/// Inputs the builder cannot express (offsets out of order, timestamps too far apart, no
/// records) are skipped: the builder rejects them by design.
fn rebuild(batch: &RecordBatch, records: &[Record]) {
    let header = batch.header();
    let mut builder = RecordBatchBuilder::new(batch.compression())
        .with_base_offset(header.base_offset)
        .with_partition_leader_epoch(header.partition_leader_epoch)
        .with_producer(
            header.producer_id,
            header.producer_epoch,
            header.base_sequence,
        )
        .with_transactional(header.is_transactional())
        .with_control(header.is_control());
    if header.timestamp_type() == TimestampType::LogAppendTime {
        builder = builder.with_log_append_time(header.max_timestamp);
    }
    for record in records {
        // Offsets wrap on decode, so the wrapping difference is the wire delta.
        let Ok(delta) = i32::try_from(record.offset.wrapping_sub(header.base_offset)) else {
            panic!("offset {} is not baseOffset + an i32", record.offset);
        };
        let appended = builder.append_with_offset_delta(
            delta,
            record.timestamp,
            record.key.as_deref(),
            record.value.as_deref(),
            &record.headers,
        );
        if appended.is_err() {
            return;
        }
    }
    let Ok(mut wire) = builder.build() else {
        return;
    };
    let copy = match RecordBatch::decode(&mut wire) {
        Ok(copy) => copy,
        Err(error) => panic!("rebuilt batch does not decode: {error}"),
    };
    assert!(wire.is_empty(), "rebuilt batch left bytes");
    let back: Result<Vec<Record>, DecodeError> = copy.records().collect();
    assert_eq!(back.as_deref(), Ok(records), "rebuilt records");
    let (a, b) = (header, copy.header());
    assert_eq!(
        (a.base_offset, a.partition_leader_epoch, a.producer_id),
        (b.base_offset, b.partition_leader_epoch, b.producer_id),
        "rebuilt header"
    );
    assert_eq!(
        (a.producer_epoch, a.base_sequence, a.records_count),
        (b.producer_epoch, b.base_sequence, b.records_count),
        "rebuilt header"
    );
    assert_eq!(
        (a.is_transactional(), a.is_control(), a.timestamp_type()),
        (b.is_transactional(), b.is_control(), b.timestamp_type()),
        "rebuilt attributes"
    );
    assert_eq!(copy.compression(), batch.compression(), "rebuilt codec");
}

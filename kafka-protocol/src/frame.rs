//! Framing: how requests and responses travel on a connection.
//!
//! Every Kafka message on the wire is one *frame*: a 4-byte big-endian size, then a header, then
//! the body (protocol guide, "Common Request and Response Structure"). The header's own version
//! depends on the API and its version, which is why a broker must read the first four bytes of a
//! request header (API key and version) before it knows how to read the rest:
//!
//! * request header v1 (non-flexible request): key, version, correlation id, client id;
//!   v2 (flexible request, KIP-482) adds tagged fields. The client id keeps its classic
//!   encoding in v2 so that any broker can read it.
//! * response header v0: correlation id; v1 (flexible response) adds tagged fields, except for
//!   ApiVersions, whose response header is always v0 (KIP-511) so that a client that does not
//!   yet know which versions the broker speaks can still read the answer.
//!
//! This module is the one place that knows these rules: the bundled broker, the clients and the
//! tests all frame through it. It performs no I/O; [`FrameSplitter`] cuts frames out of whatever
//! bytes a reader has collected, checking each size prefix against a cap before trusting it.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::error::{DecodeError, EncodeError};
use crate::message::{EncodeMode, Message, Request};
use crate::messages::{ApiKey, RequestBody, RequestHeader, ResponseBody, ResponseHeader};
use crate::StrBytes;

/// Bytes of the size prefix in front of every frame.
pub const SIZE_PREFIX: usize = 4;

/// Appends a whole request frame (size prefix, header, body) to `buf`.
///
/// ```
/// use bytes::BytesMut;
/// use kafka_protocol::frame;
/// use kafka_protocol::messages::MetadataRequest;
///
/// let mut buf = BytesMut::new();
/// frame::encode_request(&mut buf, 7, Some("my-client"), &MetadataRequest::default(), 12)?;
/// let size = i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
/// assert_eq!(size as usize, buf.len() - 4);
/// # Ok::<(), kafka_protocol::EncodeError>(())
/// ```
pub fn encode_request<R: Request>(
    buf: &mut BytesMut,
    correlation_id: i32,
    client_id: Option<&str>,
    request: &R,
    version: i16,
) -> Result<(), EncodeError> {
    write_framed(buf, |buf| {
        request_header(R::API_KEY, version, correlation_id, client_id)
            .encode(buf, R::API_KEY.request_header_version(version))?;
        request.encode(buf, version)
    })
}

/// Appends a request frame for a body of any API (the dynamically typed twin of
/// [`encode_request`]).
pub fn encode_request_body(
    buf: &mut BytesMut,
    correlation_id: i32,
    client_id: Option<&str>,
    body: &RequestBody,
    version: i16,
) -> Result<(), EncodeError> {
    let api_key = body.api_key();
    write_framed(buf, |buf| {
        request_header(api_key, version, correlation_id, client_id)
            .encode(buf, api_key.request_header_version(version))?;
        body.encode(buf, version)
    })
}

fn request_header(
    api_key: ApiKey,
    version: i16,
    correlation_id: i32,
    client_id: Option<&str>,
) -> RequestHeader {
    RequestHeader {
        request_api_key: api_key.key(),
        request_api_version: version,
        correlation_id,
        client_id: client_id.map(StrBytes::from),
        ..Default::default()
    }
}

/// Appends a response frame (size prefix, header of the right version, body) to `buf`, the
/// body encoded in `mode` (a broker uses [`EncodeMode::DropAbsent`]: see there).
pub fn encode_response(
    buf: &mut BytesMut,
    api_key: ApiKey,
    version: i16,
    correlation_id: i32,
    body: &ResponseBody,
    mode: EncodeMode,
) -> Result<(), EncodeError> {
    write_framed(buf, |buf| {
        ResponseHeader {
            correlation_id,
            ..Default::default()
        }
        .encode(buf, api_key.response_header_version(version))?;
        body.encode_with(buf, version, mode)
    })
}

/// Reserves the size prefix, lets `write` append the frame's contents, then fills the prefix in.
fn write_framed(
    buf: &mut BytesMut,
    write: impl FnOnce(&mut BytesMut) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let start = buf.len();
    buf.put_i32(0);
    if let Err(e) = write(buf) {
        buf.truncate(start);
        return Err(e);
    }
    let len = buf.len() - start - SIZE_PREFIX;
    let size = i32::try_from(len).map_err(|_| EncodeError::TooLong {
        field: "frame",
        length: len,
    })?;
    buf[start..start + SIZE_PREFIX].copy_from_slice(&size.to_be_bytes());
    Ok(())
}

/// The first four bytes of every request header: enough to pick the header and body versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestPrefix {
    /// The API key as sent (it may be one this crate does not know).
    pub api_key: i16,
    /// The API version as sent.
    pub api_version: i16,
}

/// Reads the API key and version at the front of a request frame (after its size prefix)
/// without consuming anything.
pub fn peek_request_prefix(frame: &[u8]) -> Result<RequestPrefix, DecodeError> {
    match frame {
        [k0, k1, v0, v1, ..] => Ok(RequestPrefix {
            api_key: i16::from_be_bytes([*k0, *k1]),
            api_version: i16::from_be_bytes([*v0, *v1]),
        }),
        _ => Err(DecodeError::UnexpectedEof {
            field: "RequestHeader.request_api_version",
            needed: 4,
            remaining: frame.len(),
        }),
    }
}

/// Decodes the header of a request frame for a known API, leaving `frame` at the body.
pub fn decode_request_header(frame: &mut Bytes) -> Result<(ApiKey, RequestHeader), DecodeError> {
    let prefix = peek_request_prefix(frame)?;
    let api_key =
        ApiKey::from_i16(prefix.api_key).ok_or(DecodeError::UnknownApiKey(prefix.api_key))?;
    let header = RequestHeader::decode(frame, api_key.request_header_version(prefix.api_version))?;
    Ok((api_key, header))
}

/// Decodes a response frame (without its size prefix) to `R`, returning its correlation id too.
/// Bytes left after the body are an error: a response is exactly one message.
pub fn decode_response<R: Request>(
    frame: Bytes,
    version: i16,
) -> Result<(i32, R::Response), DecodeError> {
    let (correlation_id, body, rest) = decode_response_prefix::<R>(frame, version)?;
    reject_trailing(&rest, <R::Response as Message>::NAME)?;
    Ok((correlation_id, body))
}

/// Like [`decode_response`], but returns the bytes left after the body instead of refusing
/// them. Clients use this: Java's client and librdkafka ignore trailing bytes, and some brokers
/// send them (librdkafka's mock cluster ends Metadata v12+ responses with an extra byte), while
/// a broker keeps [`decode_response`]'s strictness for what it checks.
pub fn decode_response_prefix<R: Request>(
    mut frame: Bytes,
    version: i16,
) -> Result<(i32, R::Response, Bytes), DecodeError> {
    let header = ResponseHeader::decode(&mut frame, R::API_KEY.response_header_version(version))?;
    let body = <R::Response as Message>::decode(&mut frame, version)?;
    Ok((header.correlation_id, body, frame))
}

/// Decodes a response frame of any API (the dynamically typed twin of [`decode_response`]).
pub fn decode_response_body(
    api_key: ApiKey,
    version: i16,
    mut frame: Bytes,
) -> Result<(i32, ResponseBody), DecodeError> {
    let header = ResponseHeader::decode(&mut frame, api_key.response_header_version(version))?;
    let body = ResponseBody::decode(api_key, &mut frame, version)?;
    reject_trailing(&frame, api_key.name())?;
    Ok((header.correlation_id, body))
}

/// The correlation id at the front of a response frame, without decoding the rest. Every response
/// header version starts with it, so a connection can route a frame before it knows its type.
pub fn peek_correlation_id(frame: &[u8]) -> Result<i32, DecodeError> {
    match frame {
        [a, b, c, d, ..] => Ok(i32::from_be_bytes([*a, *b, *c, *d])),
        _ => Err(DecodeError::UnexpectedEof {
            field: "ResponseHeader.correlation_id",
            needed: 4,
            remaining: frame.len(),
        }),
    }
}

fn reject_trailing(rest: &Bytes, message: &'static str) -> Result<(), DecodeError> {
    if rest.is_empty() {
        Ok(())
    } else {
        Err(DecodeError::TrailingBytes {
            message,
            remaining: rest.len(),
        })
    }
}

/// A size prefix that cannot start a valid frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The prefix is negative.
    #[error("negative frame size {0}")]
    Negative(i32),
    /// The prefix exceeds the cap the reader set.
    #[error("frame of {size} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// The size as read.
        size: usize,
        /// The cap.
        limit: usize,
    },
}

/// Cuts complete frames out of a growing read buffer: the sans-io half of a connection reader.
///
/// ```
/// use bytes::{BufMut, BytesMut};
/// use kafka_protocol::frame::FrameSplitter;
///
/// let splitter = FrameSplitter::new(1024);
/// let mut buf = BytesMut::new();
/// buf.put_i32(3);
/// buf.put_slice(b"ab");
/// assert_eq!(splitter.next_frame(&mut buf).unwrap(), None); // one byte still missing
/// buf.put_u8(b'c');
/// assert_eq!(&splitter.next_frame(&mut buf).unwrap().unwrap()[..], b"abc");
/// assert!(buf.is_empty());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct FrameSplitter {
    max_frame: usize,
}

impl FrameSplitter {
    /// A splitter refusing frames larger than `max_frame` bytes.
    pub fn new(max_frame: usize) -> Self {
        FrameSplitter { max_frame }
    }

    /// The size of the frame starting at the front of `buf`, once its prefix is complete; checked
    /// against the cap so that a reader never reserves memory for a hostile size.
    pub fn frame_size(&self, buf: &[u8]) -> Result<Option<usize>, FrameError> {
        let Some(prefix) = buf.get(..SIZE_PREFIX) else {
            return Ok(None);
        };
        let raw = i32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
        let size = usize::try_from(raw).map_err(|_| FrameError::Negative(raw))?;
        if size > self.max_frame {
            return Err(FrameError::TooLarge {
                size,
                limit: self.max_frame,
            });
        }
        Ok(Some(size))
    }

    /// Removes and returns the first complete frame (without its prefix), or `None` when more
    /// bytes are needed.
    pub fn next_frame(&self, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        let Some(size) = self.frame_size(buf)? else {
            return Ok(None);
        };
        if buf.len() < SIZE_PREFIX + size {
            return Ok(None);
        }
        buf.advance(SIZE_PREFIX);
        Ok(Some(buf.split_to(size).freeze()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::{ApiVersionsRequest, ApiVersionsResponse, MetadataRequest};

    #[test]
    fn request_round_trips_through_the_header_functions() {
        let mut buf = BytesMut::new();
        let req = MetadataRequest::default().with_allow_auto_topic_creation(false);
        encode_request(&mut buf, 42, Some("c"), &req, 12).unwrap();
        let splitter = FrameSplitter::new(1 << 20);
        let mut frame = splitter.next_frame(&mut buf).unwrap().unwrap();
        let prefix = peek_request_prefix(&frame).unwrap();
        assert_eq!((prefix.api_key, prefix.api_version), (3, 12));
        let (key, header) = decode_request_header(&mut frame).unwrap();
        assert_eq!(key, ApiKey::Metadata);
        assert_eq!(header.correlation_id, 42);
        assert_eq!(header.client_id.as_deref(), Some("c"));
        let back = RequestBody::decode(key, &mut frame, 12).unwrap();
        assert_eq!(back, RequestBody::Metadata(req));
    }

    /// A framed, empty ApiVersions response at `version` with `correlation_id`.
    fn api_versions_response_frame(version: i16, correlation_id: i32) -> BytesMut {
        let mut buf = BytesMut::new();
        let body = ResponseBody::ApiVersions(ApiVersionsResponse::default());
        encode_response(
            &mut buf,
            ApiKey::ApiVersions,
            version,
            correlation_id,
            &body,
            EncodeMode::Strict,
        )
        .unwrap();
        buf
    }

    #[test]
    fn api_versions_responses_use_header_v0_even_when_flexible() {
        let mut buf = api_versions_response_frame(3, 9);
        let frame = FrameSplitter::new(1 << 20)
            .next_frame(&mut buf)
            .unwrap()
            .unwrap();
        assert_eq!(peek_correlation_id(&frame).unwrap(), 9);
        let (cid, back) = decode_response::<ApiVersionsRequest>(frame, 3).unwrap();
        assert_eq!(cid, 9);
        assert_eq!(back, ApiVersionsResponse::default());
    }

    #[test]
    fn hostile_sizes_are_refused_before_any_allocation() {
        let splitter = FrameSplitter::new(100);
        let mut buf = BytesMut::from(&(-5i32).to_be_bytes()[..]);
        assert_eq!(splitter.next_frame(&mut buf), Err(FrameError::Negative(-5)));
        let mut buf = BytesMut::from(&101i32.to_be_bytes()[..]);
        assert!(matches!(
            splitter.next_frame(&mut buf),
            Err(FrameError::TooLarge { size: 101, .. })
        ));
    }

    #[test]
    fn drop_absent_mode_leaves_out_fields_the_version_lacks() {
        use crate::messages::FetchResponse;
        // Fetch's session id exists from v7 and is not ignorable.
        let body = ResponseBody::Fetch(FetchResponse::default().with_session_id(71));
        let mut strict = BytesMut::new();
        assert!(
            encode_response(&mut strict, ApiKey::Fetch, 4, 1, &body, EncodeMode::Strict).is_err()
        );
        assert!(
            strict.is_empty(),
            "a failed encode leaves the buffer as it was"
        );
        let mut lenient = BytesMut::new();
        encode_response(
            &mut lenient,
            ApiKey::Fetch,
            4,
            1,
            &body,
            EncodeMode::DropAbsent,
        )
        .unwrap();
        let mut frame = lenient.freeze();
        frame.advance(SIZE_PREFIX);
        let (_, back) = decode_response_body(ApiKey::Fetch, 4, frame).unwrap();
        assert_eq!(back, ResponseBody::Fetch(FetchResponse::default()));
    }

    #[test]
    fn trailing_bytes_after_a_response_are_an_error() {
        let mut buf = api_versions_response_frame(0, 1);
        buf.put_u8(0);
        let mut bytes = buf.freeze();
        bytes.advance(SIZE_PREFIX);
        assert!(matches!(
            decode_response::<ApiVersionsRequest>(bytes, 0),
            Err(DecodeError::TrailingBytes { .. })
        ));
    }

    #[test]
    fn short_input_is_a_typed_error() {
        assert!(peek_request_prefix(&[0, 1]).is_err());
        assert!(peek_correlation_id(&[0]).is_err());
        let mut empty = Bytes::new();
        assert!(decode_request_header(&mut empty).is_err());
    }
}

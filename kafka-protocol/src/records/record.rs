//! Records inside a v2 batch: their wire form, and a lazy zero-copy iterator over them.
//!
//! Each record (KIP-98) is
//!
//! ```text
//! length          varint   bytes that follow, up to the end of the headers
//! attributes      i8       unused, written as 0
//! timestampDelta  varlong  timestamp minus the batch's baseTimestamp
//! offsetDelta     varint   offset minus the batch's baseOffset
//! keyLength       varint   -1 for a null key
//! key             bytes
//! valueLength     varint   -1 for a null value
//! value           bytes
//! headersCount    varint
//! headers         headerKeyLength varint, headerKey UTF-8,
//!                 headerValueLength varint (-1 for null), headerValue bytes
//! ```
//!
//! Keys, values and header parts are returned as [`Bytes`] slices of the batch's record data, so
//! iterating never copies payloads.

use bytes::Bytes;

use crate::error::{DecodeError, EncodeError};
use crate::primitive::{put_varint, put_varlong, varint_len, varlong_len, SliceReader};

/// The smallest possible record: a one-byte length, then attributes, timestamp delta, offset
/// delta, key length, value length and header count of one byte each.
pub(crate) const MIN_RECORD_SIZE: usize = 7;
/// The smallest possible header: a zero key length and a value length of one byte each.
const MIN_HEADER_SIZE: usize = 2;

/// A record header: a UTF-8 key and an optional byte value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordHeader {
    /// Always valid UTF-8: built from a `String` or checked when decoded.
    key: Bytes,
    /// The header value; `None` is written as length -1.
    pub value: Option<Bytes>,
}

impl RecordHeader {
    /// A header with the given key and value.
    pub fn new(key: impl Into<String>, value: Option<Bytes>) -> Self {
        RecordHeader {
            key: Bytes::from(key.into()),
            value,
        }
    }

    /// The header key.
    pub fn key(&self) -> &str {
        // The constructor and the decoder only admit UTF-8, so this never falls back.
        std::str::from_utf8(&self.key).unwrap_or_default()
    }

    /// The header key as a `Bytes` slice of the record data.
    pub fn key_bytes(&self) -> &Bytes {
        &self.key
    }
}

/// A decoded record, with its offset and timestamp made absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The record's offset: the batch's baseOffset plus the record's offsetDelta.
    pub offset: i64,
    /// The record's timestamp: the batch's baseTimestamp plus the record's timestampDelta, or
    /// the batch's maxTimestamp when the batch uses log-append time (the broker overwrites only
    /// the batch header, so the per-record deltas are stale then).
    pub timestamp: i64,
    /// The record key, or `None` for a null key.
    pub key: Option<Bytes>,
    /// The record value, or `None` for a null value (a tombstone in a compacted topic).
    pub value: Option<Bytes>,
    /// The record headers, in wire order.
    pub headers: Vec<RecordHeader>,
}

/// Converts a length to the `i32` its varint prefix holds.
fn wire_len(len: usize, field: &'static str) -> Result<i32, EncodeError> {
    i32::try_from(len).map_err(|_| EncodeError::TooLong { field, length: len })
}

/// Bytes a nullable byte field takes: its varint length and its contents.
fn nullable_len(bytes: Option<&[u8]>, field: &'static str) -> Result<usize, EncodeError> {
    Ok(match bytes {
        None => varint_len(-1),
        Some(bytes) => varint_len(wire_len(bytes.len(), field)?) + bytes.len(),
    })
}

/// Appends a varint length and the contents of a nullable byte field.
fn put_nullable(out: &mut Vec<u8>, bytes: Option<&[u8]>) {
    match bytes {
        None => put_varint(out, -1),
        Some(bytes) => {
            // Lengths were checked to fit an i32 when the record size was computed.
            put_varint(out, i32::try_from(bytes.len()).unwrap_or(i32::MAX));
            out.extend_from_slice(bytes);
        }
    }
}

/// Appends one record, length prefix included, and returns the bytes written.
pub(crate) fn encode_record(
    out: &mut Vec<u8>,
    offset_delta: i32,
    timestamp_delta: i64,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[RecordHeader],
) -> Result<usize, EncodeError> {
    // The length prefix precedes the body, so size the body first instead of encoding twice.
    let mut body = 1 + varlong_len(timestamp_delta) + varint_len(offset_delta);
    body += nullable_len(key, "Record.key")?;
    body += nullable_len(value, "Record.value")?;
    body += varint_len(wire_len(headers.len(), "Record.headers")?);
    for header in headers {
        body += nullable_len(Some(&header.key), "Record.headers.key")?;
        body += nullable_len(header.value.as_deref(), "Record.headers.value")?;
    }
    let body_len = wire_len(body, "Record")?;

    let start = out.len();
    out.reserve(varint_len(body_len) + body);
    put_varint(out, body_len);
    out.push(0); // attributes: unused in v2
    put_varlong(out, timestamp_delta);
    put_varint(out, offset_delta);
    put_nullable(out, key);
    put_nullable(out, value);
    put_varint(out, wire_len(headers.len(), "Record.headers")?);
    for header in headers {
        put_nullable(out, Some(&header.key));
        put_nullable(out, header.value.as_deref());
    }
    Ok(out.len() - start)
}

/// Reads a varint length that may be -1 (null) and returns the range of the bytes it covers.
fn nullable_range(
    reader: &mut SliceReader<'_>,
    field: &'static str,
) -> Result<Option<std::ops::Range<usize>>, DecodeError> {
    let length = reader.varint(field)?;
    if length == -1 {
        return Ok(None);
    }
    let remaining = reader.remaining();
    match usize::try_from(length) {
        Ok(len) if len <= remaining => Ok(Some(reader.take_range(len, field)?)),
        _ => Err(DecodeError::InvalidLength {
            field,
            length: i64::from(length),
            remaining,
        }),
    }
}

/// Where a record's fields are relative to: the batch fields the deltas apply to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecordContext {
    pub(crate) base_offset: i64,
    pub(crate) base_timestamp: i64,
    /// The batch's maxTimestamp when the batch uses log-append time.
    pub(crate) log_append_time: Option<i64>,
}

/// Decodes the record that starts at `*pos` in `data`, advancing `*pos` past it.
fn decode_record(
    data: &Bytes,
    pos: &mut usize,
    context: &RecordContext,
) -> Result<Record, DecodeError> {
    let rest = data.get(*pos..).unwrap_or_default();
    let mut outer = SliceReader::new(rest);
    let length = outer.varint("Record.length")?;
    let remaining = outer.remaining();
    let body_len = match usize::try_from(length) {
        Ok(len) if len <= remaining => len,
        _ => {
            return Err(DecodeError::InvalidLength {
                field: "Record.length",
                length: i64::from(length),
                remaining,
            })
        }
    };
    let body_start = *pos + outer.position();
    let body = outer.take(body_len, "Record")?;
    // Fields are read from the body alone so that none can run into the next record.
    let mut reader = SliceReader::new(body);
    let _attributes = reader.i8("Record.attributes")?;
    let timestamp_delta = reader.varlong("Record.timestampDelta")?;
    let offset_delta = reader.varint("Record.offsetDelta")?;
    let slice = |range: std::ops::Range<usize>| {
        data.slice(body_start + range.start..body_start + range.end)
    };
    let key = nullable_range(&mut reader, "Record.key")?.map(slice);
    let value = nullable_range(&mut reader, "Record.value")?.map(slice);

    let count = reader.varint("Record.headersCount")?;
    let remaining = reader.remaining();
    let count = match usize::try_from(count) {
        Ok(count) if count <= remaining / MIN_HEADER_SIZE => count,
        _ => {
            return Err(DecodeError::InvalidLength {
                field: "Record.headersCount",
                length: i64::from(count),
                remaining,
            })
        }
    };
    let mut headers = Vec::with_capacity(count);
    for _ in 0..count {
        let key_range = match nullable_range(&mut reader, "Record.headers.key")? {
            Some(range) => range,
            None => {
                return Err(DecodeError::InvalidLength {
                    field: "Record.headers.key",
                    length: -1,
                    remaining: reader.remaining(),
                })
            }
        };
        let key_bytes = body.get(key_range.clone()).unwrap_or_default();
        if std::str::from_utf8(key_bytes).is_err() {
            return Err(DecodeError::InvalidUtf8 {
                field: "Record.headers.key",
            });
        }
        let value = nullable_range(&mut reader, "Record.headers.value")?.map(slice);
        headers.push(RecordHeader {
            key: slice(key_range),
            value,
        });
    }
    if reader.remaining() != 0 {
        return Err(DecodeError::Invalid {
            field: "Record",
            reason: format!(
                "length {body_len} leaves {} bytes after the headers",
                reader.remaining()
            ),
        });
    }
    *pos = body_start + body_len;
    // Offsets and timestamps wrap as in the Java client rather than overflow on hostile deltas.
    let timestamp = match context.log_append_time {
        Some(time) => time,
        None => context.base_timestamp.wrapping_add(timestamp_delta),
    };
    Ok(Record {
        offset: context.base_offset.wrapping_add(i64::from(offset_delta)),
        timestamp,
        key,
        value,
        headers,
    })
}

/// A lazy iterator over the records of a batch.
///
/// Each item is decoded when asked for; a malformed record ends the iteration with its error.
/// After the declared number of records, leftover bytes are reported as an error too, since the
/// batch's record count and its length then disagree.
#[derive(Debug, Clone)]
pub struct Records {
    data: Bytes,
    pos: usize,
    remaining_count: usize,
    context: RecordContext,
    done: bool,
}

impl Records {
    /// Iterates `count` records in `data` (the batch's uncompressed record data).
    pub(crate) fn new(data: Bytes, count: usize, context: RecordContext) -> Self {
        Records {
            data,
            pos: 0,
            remaining_count: count,
            context,
            done: false,
        }
    }

    /// Records not yet returned.
    pub fn remaining(&self) -> usize {
        if self.done {
            0
        } else {
            self.remaining_count
        }
    }
}

impl Iterator for Records {
    type Item = Result<Record, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.remaining_count == 0 {
            self.done = true;
            let left = self.data.len().saturating_sub(self.pos);
            return (left != 0).then_some(Err(DecodeError::TrailingBytes {
                message: "RecordBatch",
                remaining: left,
            }));
        }
        match decode_record(&self.data, &mut self.pos, &self.context) {
            Ok(record) => {
                self.remaining_count -= 1;
                Some(Ok(record))
            }
            Err(error) => {
                self.done = true;
                Some(Err(error))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let count = self.remaining();
        // One more item is possible: the trailing-bytes error.
        (0, Some(count.saturating_add(usize::from(!self.done))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTEXT: RecordContext = RecordContext {
        base_offset: 100,
        base_timestamp: 1_000,
        log_append_time: None,
    };

    #[test]
    fn minimal_record_is_seven_bytes() {
        let mut out = Vec::new();
        let written = encode_record(&mut out, 0, 0, None, None, &[]).unwrap();
        assert_eq!(written, MIN_RECORD_SIZE);
        // length 6, attributes, deltas 0, key -1, value -1, no headers.
        assert_eq!(out, [0x0c, 0, 0, 0, 0x01, 0x01, 0]);
    }

    #[test]
    fn record_decodes_with_absolute_offset_and_zero_copy_slices() {
        let headers = [
            RecordHeader::new("h1", Some(Bytes::from_static(b"v1"))),
            RecordHeader::new("h2", None),
        ];
        let mut out = Vec::new();
        encode_record(&mut out, 3, -5, Some(b"key"), Some(b"value"), &headers).unwrap();
        let data = Bytes::from(out);
        let mut records = Records::new(data.clone(), 1, CONTEXT);
        let record = records.next().unwrap().unwrap();
        assert!(records.next().is_none());
        assert_eq!(record.offset, 103);
        assert_eq!(record.timestamp, 995);
        assert_eq!(record.key.as_deref(), Some(&b"key"[..]));
        assert_eq!(record.value.as_deref(), Some(&b"value"[..]));
        assert_eq!(record.headers, headers);
        assert_eq!(record.headers[0].key(), "h1");
        // The value points into `data` rather than into a copy.
        let value = record.value.unwrap();
        let data_range = data.as_ptr() as usize..data.as_ptr() as usize + data.len();
        assert!(data_range.contains(&(value.as_ptr() as usize)));
    }

    #[test]
    fn log_append_time_overrides_record_timestamps() {
        let mut out = Vec::new();
        encode_record(&mut out, 0, 7, None, Some(b"v"), &[]).unwrap();
        let context = RecordContext {
            log_append_time: Some(42),
            ..CONTEXT
        };
        let record = Records::new(Bytes::from(out), 1, context)
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(record.timestamp, 42);
    }

    #[test]
    fn count_and_data_must_agree() {
        let mut out = Vec::new();
        encode_record(&mut out, 0, 0, None, None, &[]).unwrap();
        let data = Bytes::from(out);
        let mut too_few = Records::new(data.clone(), 0, CONTEXT);
        assert!(matches!(
            too_few.next(),
            Some(Err(DecodeError::TrailingBytes { remaining: 7, .. }))
        ));
        assert!(too_few.next().is_none());
        let mut too_many = Records::new(data, 2, CONTEXT);
        assert!(too_many.next().unwrap().is_ok());
        assert!(too_many.next().unwrap().is_err());
        assert!(too_many.next().is_none());
    }

    #[test]
    fn malformed_fields_are_rejected() {
        // Body claims a key of 5 bytes but the record is only 7 long.
        let key_too_long = [0x0c, 0, 0, 0, 0x0a, 0x01, 0];
        // Negative key length other than -1.
        let key_negative = [0x0c, 0, 0, 0, 0x03, 0x01, 0];
        // Header key that is not UTF-8.
        let bad_utf8 = [0x12, 0, 0, 0, 0x01, 0x01, 0x02, 0x02, 0xff, 0x01];
        // Length shorter than the fields it should hold.
        let short_length = [0x0a, 0, 0, 0, 0x01, 0x01, 0];
        // Length longer than the fields: a stray byte after the headers.
        let long_length = [0x0e, 0, 0, 0, 0x01, 0x01, 0, 0];
        for bad in [
            &key_too_long[..],
            &key_negative,
            &bad_utf8,
            &short_length,
            &long_length,
        ] {
            let mut records = Records::new(Bytes::copy_from_slice(bad), 1, CONTEXT);
            assert!(records.next().unwrap().is_err(), "{bad:?}");
        }
    }
}

//! Checking a batch's records without decoding them: the walk a broker needs before storing a
//! producer's batch (Kafka's `LogValidator` for magic 2) at a fraction of the cost of
//! materialising records.
//!
//! Each record's length prefix must fit the data; inside it, the fields must parse (varints,
//! key and value lengths, header keys present and UTF-8) and fill the record exactly; the
//! offset deltas must run 0, 1, 2, ...; and the declared count must use up the data. Nothing is
//! allocated and no field is copied.

use crate::error::DecodeError;
use crate::primitive::SliceReader;

use super::record::MIN_RECORD_SIZE;

/// Why a batch's records failed the walk.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FramingError {
    /// A record does not parse, or the records and the count disagree (Kafka's
    /// CORRUPT_MESSAGE).
    #[error(transparent)]
    Malformed(#[from] DecodeError),
    /// A record's offset delta is not its position (Kafka's INVALID_RECORD).
    #[error("record {position} has offset delta {found}")]
    OffsetDelta {
        /// The record's position in the batch, the delta it should have.
        position: i64,
        /// The delta it has.
        found: i32,
    },
    /// Keys were required (a compacted topic) and these records have none (INVALID_RECORD;
    /// Kafka names each of them).
    #[error("{} record(s) have no key", positions.len())]
    MissingKeys {
        /// The records' positions in the batch.
        positions: Vec<i64>,
    },
}

/// Skips a varint length that may be -1 (null); returns the bytes it covered.
fn skip_nullable<'a>(
    reader: &mut SliceReader<'a>,
    field: &'static str,
) -> Result<Option<&'a [u8]>, DecodeError> {
    let length = reader.varint(field)?;
    if length == -1 {
        return Ok(None);
    }
    let remaining = reader.remaining();
    match usize::try_from(length) {
        Ok(len) if len <= remaining => Ok(Some(reader.take(len, field)?)),
        _ => Err(DecodeError::InvalidLength {
            field,
            length: i64::from(length),
            remaining,
        }),
    }
}

/// Walks `count` records in `data` (a batch's uncompressed record data); see the module docs.
/// With `require_keys` (a compacted topic's batch) a record without a key fails too.
pub fn check_record_framing(
    data: &[u8],
    count: usize,
    require_keys: bool,
) -> Result<(), FramingError> {
    if count > data.len() / MIN_RECORD_SIZE {
        return Err(DecodeError::InvalidLength {
            field: "RecordBatch.recordsCount",
            length: i64::try_from(count).unwrap_or(i64::MAX),
            remaining: data.len(),
        }
        .into());
    }
    let mut outer = SliceReader::new(data);
    // Allocated only when a key is missing: the error path.
    let mut keyless: Vec<i64> = Vec::new();
    for position in 0..count {
        let length = outer.varint("Record.length")?;
        let remaining = outer.remaining();
        let body = match usize::try_from(length) {
            Ok(len) if len <= remaining => outer.take(len, "Record")?,
            _ => {
                return Err(DecodeError::InvalidLength {
                    field: "Record.length",
                    length: i64::from(length),
                    remaining,
                }
                .into())
            }
        };
        let mut reader = SliceReader::new(body);
        let _attributes = reader.i8("Record.attributes")?;
        let _timestamp_delta = reader.varlong("Record.timestampDelta")?;
        let offset_delta = reader.varint("Record.offsetDelta")?;
        // `position` < count <= data.len(), so it fits an i64.
        let position = i64::try_from(position).unwrap_or(i64::MAX);
        if i64::from(offset_delta) != position {
            return Err(FramingError::OffsetDelta {
                position,
                found: offset_delta,
            });
        }
        let key = skip_nullable(&mut reader, "Record.key")?;
        if require_keys && key.is_none() {
            keyless.push(position);
        }
        skip_nullable(&mut reader, "Record.value")?;
        let headers = reader.varint("Record.headersCount")?;
        let remaining = reader.remaining();
        let headers = match usize::try_from(headers) {
            // A header takes at least two bytes (two one-byte lengths).
            Ok(n) if n <= remaining / 2 => n,
            _ => {
                return Err(DecodeError::InvalidLength {
                    field: "Record.headersCount",
                    length: i64::from(headers),
                    remaining,
                }
                .into())
            }
        };
        for _ in 0..headers {
            let key = skip_nullable(&mut reader, "Record.headers.key")?.ok_or(
                DecodeError::InvalidLength {
                    field: "Record.headers.key",
                    length: -1,
                    remaining: reader.remaining(),
                },
            )?;
            if std::str::from_utf8(key).is_err() {
                return Err(DecodeError::InvalidUtf8 {
                    field: "Record.headers.key",
                }
                .into());
            }
            skip_nullable(&mut reader, "Record.headers.value")?;
        }
        if reader.remaining() != 0 {
            return Err(DecodeError::Invalid {
                field: "Record",
                reason: format!(
                    "length {} leaves {} bytes after the headers",
                    body.len(),
                    reader.remaining()
                ),
            }
            .into());
        }
    }
    if outer.remaining() != 0 {
        return Err(DecodeError::TrailingBytes {
            message: "RecordBatch",
            remaining: outer.remaining(),
        }
        .into());
    }
    if !keyless.is_empty() {
        return Err(FramingError::MissingKeys { positions: keyless });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{Compression, RecordBatch, RecordBatchBuilder, RecordHeader};
    use bytes::Bytes;

    fn records(n: usize) -> (Bytes, usize) {
        let mut b = RecordBatchBuilder::new(Compression::None);
        for i in 0..n {
            let header = RecordHeader::new("h", Some(Bytes::from_static(b"v")));
            b.append(
                i as i64,
                Some(b"key"),
                (i % 2 == 0).then_some(&b"value"[..]),
                &[header],
            )
            .unwrap();
        }
        let batch = RecordBatch::decode(&mut b.build().unwrap()).unwrap();
        (batch.record_data().clone(), n)
    }

    #[test]
    fn well_formed_records_pass_and_agree_with_the_decoder() {
        let (data, n) = records(50);
        assert_eq!(check_record_framing(&data, n, false), Ok(()));
        // The count must use the data up exactly, either way.
        assert!(matches!(
            check_record_framing(&data, n - 1, false),
            Err(FramingError::Malformed(DecodeError::TrailingBytes { .. }))
        ));
        assert!(matches!(
            check_record_framing(&data, n + 1, false),
            Err(FramingError::Malformed(_))
        ));
        assert_eq!(check_record_framing(&[], 0, false), Ok(()));
    }

    #[test]
    fn compacted_topics_need_keys() {
        let mut b = RecordBatchBuilder::new(Compression::None);
        b.append(0, Some(b"k"), Some(b"a"), &[]).unwrap();
        b.append(0, None, Some(b"b"), &[]).unwrap();
        b.append(0, Some(b"k"), Some(b"c"), &[]).unwrap();
        b.append(0, None, Some(b"d"), &[]).unwrap();
        let batch = RecordBatch::decode(&mut b.build().unwrap()).unwrap();
        assert_eq!(check_record_framing(batch.record_data(), 4, false), Ok(()));
        assert_eq!(
            check_record_framing(batch.record_data(), 4, true),
            Err(FramingError::MissingKeys {
                positions: vec![1, 3]
            })
        );
    }

    #[test]
    fn offset_deltas_must_be_positions() {
        let mut b = RecordBatchBuilder::new(Compression::None);
        b.append_with_offset_delta(0, 0, None, Some(b"a"), &[])
            .unwrap();
        b.append_with_offset_delta(2, 0, None, Some(b"b"), &[])
            .unwrap();
        let batch = RecordBatch::decode(&mut b.build().unwrap()).unwrap();
        assert_eq!(
            check_record_framing(batch.record_data(), 2, false),
            Err(FramingError::OffsetDelta {
                position: 1,
                found: 2
            })
        );
    }

    #[test]
    fn every_truncation_and_corruption_is_an_error_never_a_panic() {
        let (data, n) = records(5);
        for cut in 0..data.len() {
            assert!(
                check_record_framing(&data[..cut], n, false).is_err(),
                "cut {cut}"
            );
        }
        for i in 0..data.len() {
            for byte in [0x00, 0x7f, 0x80, 0xff] {
                let mut bad = data.to_vec();
                bad[i] = byte;
                // Either it still parses (a changed value byte) or it is an error.
                let _ = check_record_framing(&bad, n, true);
            }
        }
        assert!(check_record_framing(&data, usize::MAX, false).is_err());
    }
}

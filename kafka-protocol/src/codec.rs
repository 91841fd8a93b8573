//! Primitive wire types shared by every generated message.
//!
//! Kafka messages are built from a handful of primitives (protocol guide, "Protocol Primitive
//! Types"): fixed-width big-endian integers, unsigned varints, UUIDs, and length-prefixed strings,
//! byte arrays and arrays. Flexible versions (KIP-482) switch strings, bytes and arrays to their
//! "compact" forms, whose length is an unsigned varint holding `length + 1` (so 0 means null).
//!
//! Every reader checks a length prefix against the bytes that are left *before* it slices or
//! allocates, so a hostile length can neither panic nor make us allocate more than the input holds.
//! Readers take the field's name so errors point at the field that failed.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::error::{DecodeError, EncodeError};
use crate::primitive::SliceReader;
pub use crate::str_bytes::StrBytes;
pub use crate::uuid::Uuid;

/// A tagged field (KIP-482) that this version of the schema does not know. It is kept as raw bytes
/// so that a message decoded and re-encoded by us is byte-identical to what the peer sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawTaggedField {
    /// The tag number.
    pub tag: u32,
    /// The field's encoded value.
    pub data: Bytes,
}

/// Runs `read` over the bytes left in `buf` and consumes what it read: the fixed-width and varint
/// readers of [`crate::primitive`] serve `Bytes` input this way (a `Bytes` is one contiguous
/// slice), so each encoding is implemented once.
#[inline]
fn read<T>(
    buf: &mut Bytes,
    read: impl FnOnce(&mut SliceReader<'_>) -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    let mut reader = SliceReader::new(buf.chunk());
    let value = read(&mut reader)?;
    let used = reader.position();
    buf.advance(used);
    Ok(value)
}

macro_rules! fixed {
    ($get:ident, $ty:ident) => {
        #[doc = concat!("Reads a big-endian `", stringify!($ty), "`.")]
        // The schema format has uint16 and uint32 fields, which no message uses today.
        #[allow(dead_code)]
        #[inline]
        pub fn $get(buf: &mut Bytes, field: &'static str) -> Result<$ty, DecodeError> {
            read(buf, |r| r.$ty(field))
        }
    };
}
fixed!(get_i8, i8);
fixed!(get_i16, i16);
fixed!(get_u16, u16);
fixed!(get_i32, i32);
fixed!(get_u32, u32);
fixed!(get_i64, i64);
fixed!(get_f64, f64);

/// Reads a boolean: Kafka writes 0 or 1; like the Java client we read any non-zero byte as true.
#[inline]
pub fn get_bool(buf: &mut Bytes, field: &'static str) -> Result<bool, DecodeError> {
    Ok(get_i8(buf, field)? != 0)
}

/// Reads a UUID.
#[inline]
pub fn get_uuid(buf: &mut Bytes, field: &'static str) -> Result<Uuid, DecodeError> {
    read(buf, |r| r.bytes::<16>(field)).map(Uuid)
}

/// Writes a UUID.
#[inline]
pub fn put_uuid(buf: &mut BytesMut, v: &Uuid) {
    buf.put_slice(&v.0);
}

/// Reads an unsigned varint of at most 32 bits (5 bytes).
#[inline]
pub fn get_uvarint(buf: &mut Bytes, field: &'static str) -> Result<u32, DecodeError> {
    read(buf, |r| r.uvarint(field))
}

pub(crate) use crate::primitive::{put_uvarint, uvarint_len};

/// Reads a length prefix: `int16` (strings) or `int32` (bytes, arrays) in classic versions, and
/// `uvarint(len + 1)` in compact ones. Returns `None` for the null marker. A length larger than the
/// bytes left is rejected here, before anyone allocates for it; `min_elem` is the smallest number of
/// bytes one element can take (1 for bytes and for every array element type Kafka uses).
#[inline]
fn get_len(
    buf: &mut Bytes,
    field: &'static str,
    compact: bool,
    wide: bool,
) -> Result<Option<usize>, DecodeError> {
    let raw: i64 = if compact {
        i64::from(get_uvarint(buf, field)?) - 1
    } else if wide {
        i64::from(get_i32(buf, field)?)
    } else {
        i64::from(get_i16(buf, field)?)
    };
    if raw == -1 {
        return Ok(None);
    }
    if raw < 0 || raw as u64 > buf.remaining() as u64 {
        return Err(DecodeError::InvalidLength {
            field,
            length: raw,
            remaining: buf.remaining(),
        });
    }
    Ok(Some(raw as usize))
}

/// Reads a nullable string (classic `int16` length or compact). The result shares the input
/// buffer: the bytes are checked to be UTF-8, not copied.
#[inline]
pub fn get_nullable_string(
    buf: &mut Bytes,
    field: &'static str,
    compact: bool,
) -> Result<Option<StrBytes>, DecodeError> {
    match get_len(buf, field, compact, false)? {
        None => Ok(None),
        Some(n) => StrBytes::from_utf8(buf.split_to(n))
            .map(Some)
            .map_err(|_| DecodeError::InvalidUtf8 { field }),
    }
}

/// Reads a non-nullable string; a null marker is an error.
#[inline]
pub fn get_string(
    buf: &mut Bytes,
    field: &'static str,
    compact: bool,
    version: i16,
) -> Result<StrBytes, DecodeError> {
    get_nullable_string(buf, field, compact)?.ok_or(DecodeError::UnexpectedNull { field, version })
}

/// Reads nullable bytes (classic `int32` length or compact). The result shares the input buffer.
#[inline]
pub fn get_nullable_bytes(
    buf: &mut Bytes,
    field: &'static str,
    compact: bool,
) -> Result<Option<Bytes>, DecodeError> {
    Ok(get_len(buf, field, compact, true)?.map(|n| buf.split_to(n)))
}

/// Reads non-nullable bytes; a null marker is an error.
#[inline]
pub fn get_bytes(
    buf: &mut Bytes,
    field: &'static str,
    compact: bool,
    version: i16,
) -> Result<Bytes, DecodeError> {
    get_nullable_bytes(buf, field, compact)?.ok_or(DecodeError::UnexpectedNull { field, version })
}

/// Reads an array's element count (`None` for a null array). Every element Kafka defines takes at
/// least one byte, so a count above the bytes left is rejected as invalid.
#[inline]
pub fn get_array_len(
    buf: &mut Bytes,
    field: &'static str,
    compact: bool,
) -> Result<Option<usize>, DecodeError> {
    get_len(buf, field, compact, true)
}

/// The capacity to reserve for an array of `n` elements: never more than a small bound, so a count
/// that is within the bytes left but describes tiny elements cannot make us reserve a huge block of
/// large structs up front. The vector grows as elements actually decode.
#[inline]
pub fn initial_capacity(n: usize) -> usize {
    n.min(1024)
}

/// Reads a non-nullable array count; a null marker is an error.
#[inline]
pub fn get_array_len_non_null(
    buf: &mut Bytes,
    field: &'static str,
    compact: bool,
    version: i16,
) -> Result<usize, DecodeError> {
    get_array_len(buf, field, compact)?.ok_or(DecodeError::UnexpectedNull { field, version })
}

fn too_long(field: &'static str, length: usize) -> EncodeError {
    EncodeError::TooLong { field, length }
}

/// Writes a length prefix (see [`get_len`]); `None` writes the null marker.
#[inline]
fn put_len(
    buf: &mut BytesMut,
    field: &'static str,
    len: Option<usize>,
    compact: bool,
    wide: bool,
) -> Result<(), EncodeError> {
    match (len, compact) {
        (None, true) => put_uvarint(buf, 0),
        (None, false) if wide => buf.put_i32(-1),
        (None, false) => buf.put_i16(-1),
        (Some(n), true) => {
            let v = u32::try_from(n)
                .ok()
                .and_then(|n| n.checked_add(1))
                .filter(|v| *v <= i32::MAX as u32)
                .ok_or_else(|| too_long(field, n))?;
            put_uvarint(buf, v);
        }
        (Some(n), false) if wide => {
            buf.put_i32(i32::try_from(n).map_err(|_| too_long(field, n))?);
        }
        (Some(n), false) => {
            buf.put_i16(i16::try_from(n).map_err(|_| too_long(field, n))?);
        }
    }
    Ok(())
}

#[inline]
fn len_len(len: Option<usize>, compact: bool, wide: bool) -> usize {
    match (compact, wide) {
        (true, _) => uvarint_len(len.map_or(0, |n| (n as u32).saturating_add(1))),
        (false, true) => 4,
        (false, false) => 2,
    }
}

/// Writes a nullable string.
#[inline]
pub fn put_nullable_string(
    buf: &mut BytesMut,
    field: &'static str,
    v: Option<&str>,
    compact: bool,
) -> Result<(), EncodeError> {
    put_len(buf, field, v.map(str::len), compact, false)?;
    if let Some(s) = v {
        buf.put_slice(s.as_bytes());
    }
    Ok(())
}

/// Encoded size of a nullable string.
#[inline]
pub fn nullable_string_len(v: Option<&str>, compact: bool) -> usize {
    let n = v.map(str::len);
    len_len(n, compact, false) + n.unwrap_or(0)
}

/// Writes nullable bytes.
#[inline]
pub fn put_nullable_bytes(
    buf: &mut BytesMut,
    field: &'static str,
    v: Option<&[u8]>,
    compact: bool,
) -> Result<(), EncodeError> {
    put_len(buf, field, v.map(<[u8]>::len), compact, true)?;
    if let Some(b) = v {
        buf.put_slice(b);
    }
    Ok(())
}

/// Encoded size of nullable bytes.
#[inline]
pub fn nullable_bytes_len(v: Option<&[u8]>, compact: bool) -> usize {
    let n = v.map(<[u8]>::len);
    len_len(n, compact, true) + n.unwrap_or(0)
}

/// Writes an array count (`None` for a null array).
#[inline]
pub fn put_array_len(
    buf: &mut BytesMut,
    field: &'static str,
    len: Option<usize>,
    compact: bool,
) -> Result<(), EncodeError> {
    put_len(buf, field, len, compact, true)
}

/// Encoded size of an array count.
#[inline]
pub fn array_len_len(len: Option<usize>, compact: bool) -> usize {
    len_len(len, compact, true)
}

/// Reads the tagged-field section of a flexible struct, handing each known tag to `known` (which
/// returns `Ok(false)` for a tag it does not know) and keeping the rest raw in `unknown`.
pub fn get_tagged_fields(
    buf: &mut Bytes,
    field: &'static str,
    unknown: &mut Vec<RawTaggedField>,
    mut known: impl FnMut(u32, &mut Bytes) -> Result<bool, DecodeError>,
) -> Result<(), DecodeError> {
    let count = get_uvarint(buf, field)?;
    for _ in 0..count {
        let tag = get_uvarint(buf, field)?;
        let size = get_uvarint(buf, field)? as usize;
        if size > buf.remaining() {
            return Err(DecodeError::UnexpectedEof {
                field,
                needed: size,
                remaining: buf.remaining(),
            });
        }
        let mut data = buf.split_to(size);
        if !known(tag, &mut data)? {
            unknown.push(RawTaggedField { tag, data });
        } else if data.has_remaining() {
            // A known tagged field must use exactly the bytes its size prefix claims.
            return Err(DecodeError::TrailingBytes {
                message: field,
                remaining: data.remaining(),
            });
        }
    }
    Ok(())
}

/// Writes one tagged field: tag, size, then the value that `size` bytes long `write` emits.
#[inline]
pub fn put_tagged_header(buf: &mut BytesMut, tag: u32, size: usize) {
    put_uvarint(buf, tag);
    put_uvarint(buf, size as u32);
}

/// Encoded size of a tagged field's tag and size prefixes.
#[inline]
pub fn tagged_header_len(tag: u32, size: usize) -> usize {
    uvarint_len(tag) + uvarint_len(size as u32)
}

/// Writes an unknown tagged field kept from decoding.
#[inline]
pub fn put_raw_tagged(buf: &mut BytesMut, f: &RawTaggedField) {
    put_tagged_header(buf, f.tag, f.data.len());
    buf.put_slice(&f.data);
}

/// Encoded size of an unknown tagged field.
#[inline]
pub fn raw_tagged_len(f: &RawTaggedField) -> usize {
    tagged_header_len(f.tag, f.data.len()) + f.data.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uvarint_round_trip_and_sizes() {
        for v in [
            0u32,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            2_097_151,
            2_097_152,
            u32::MAX,
        ] {
            let mut b = BytesMut::new();
            put_uvarint(&mut b, v);
            assert_eq!(b.len(), uvarint_len(v), "size of {v}");
            let mut r = b.freeze();
            assert_eq!(get_uvarint(&mut r, "t").unwrap(), v);
            assert!(r.is_empty());
        }
    }

    #[test]
    fn overlong_uvarint_is_an_error() {
        let mut r = Bytes::from_static(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
        assert!(matches!(
            get_uvarint(&mut r, "t"),
            Err(DecodeError::VarintOverflow { .. })
        ));
    }

    #[test]
    fn length_beyond_input_is_rejected_before_allocation() {
        // int32 length of 2^31-1 with two bytes behind it.
        let mut r = Bytes::from_static(&[0x7f, 0xff, 0xff, 0xff, 1, 2]);
        let err = get_nullable_bytes(&mut r, "X.data", false).unwrap_err();
        assert!(
            matches!(
                err,
                DecodeError::InvalidLength {
                    field: "X.data",
                    ..
                }
            ),
            "{err}"
        );
        let mut r = Bytes::from_static(&[0xff, 0xff, 0xff, 0xf0]);
        assert!(get_array_len(&mut r, "X.items", false).is_err());
    }

    #[test]
    fn null_and_compact_strings() {
        let mut b = BytesMut::new();
        put_nullable_string(&mut b, "s", None, true).unwrap();
        put_nullable_string(&mut b, "s", Some("hé"), true).unwrap();
        put_nullable_string(&mut b, "s", None, false).unwrap();
        put_nullable_string(&mut b, "s", Some("x"), false).unwrap();
        assert_eq!(&b[..], &[0, 4, b'h', 0xc3, 0xa9, 0xff, 0xff, 0, 1, b'x']);
        let mut r = b.freeze();
        assert_eq!(get_nullable_string(&mut r, "s", true).unwrap(), None);
        assert_eq!(get_string(&mut r, "s", true, 0).unwrap(), "hé");
        assert!(matches!(
            get_string(&mut r, "s", false, 3),
            Err(DecodeError::UnexpectedNull {
                field: "s",
                version: 3
            })
        ));
        assert_eq!(get_string(&mut r, "s", false, 0).unwrap(), "x");
    }

    #[test]
    fn invalid_utf8_names_the_field() {
        let mut r = Bytes::from_static(&[0, 2, 0xff, 0xfe]);
        assert_eq!(
            get_string(&mut r, "Msg.name", false, 0),
            Err(DecodeError::InvalidUtf8 { field: "Msg.name" })
        );
    }

    #[test]
    fn oversized_classic_string_is_an_encode_error() {
        let s = "a".repeat(40_000);
        let mut b = BytesMut::new();
        assert!(matches!(
            put_nullable_string(&mut b, "s", Some(&s), false),
            Err(EncodeError::TooLong { .. })
        ));
    }
}

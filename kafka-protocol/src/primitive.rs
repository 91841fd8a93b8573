//! The primitive encodings every part of the protocol shares, implemented once: big-endian
//! fixed-width integers and base-128 varints, and [`SliceReader`], the bounds-checked reader that
//! both the generated messages ([`crate::codec`]) and record batches ([`crate::records`]) decode
//! with.
//!
//! Varints are written seven bits at a time, least significant group first, with the high bit of
//! each byte set while more bytes follow. Messages use *unsigned* varints (KIP-482: compact
//! lengths, tagged fields). Records inside a v2 batch (KIP-98) use *signed* ones: the value is
//! zigzag-mapped (`(n << 1) ^ (n >> 31)`) so that small negative numbers, notably the `-1` null
//! marker, stay one byte long. A 32-bit varint takes at most 5 bytes and a 64-bit varlong at most
//! 10; anything longer is rejected, as the Java client does, so a run of continuation bytes cannot
//! make the reader loop or overflow.

use std::ops::Range;

use bytes::BufMut;

use crate::error::DecodeError;

/// Longest encoding of a 32-bit varint.
const MAX_VARINT_LEN: usize = 5;
/// Longest encoding of a 64-bit varlong.
const MAX_VARLONG_LEN: usize = 10;

/// Maps a signed 32-bit value onto the unsigned zigzag space.
fn zigzag32(value: i32) -> u32 {
    ((value << 1) ^ (value >> 31)) as u32
}

/// Maps a signed 64-bit value onto the unsigned zigzag space.
fn zigzag64(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

/// Writes `value` as an unsigned base-128 varint.
fn put_unsigned(out: &mut impl BufMut, mut value: u64) {
    while value >= 0x80 {
        out.put_u8((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.put_u8(value as u8);
}

/// Bytes an unsigned base-128 varint of `value` takes.
fn unsigned_len(value: u64) -> usize {
    // One byte per started group of seven significant bits, and at least one byte for zero.
    let bits = 64 - value.leading_zeros() as usize;
    bits.div_ceil(7).max(1)
}

/// Appends `value` as an unsigned varint (KIP-482).
pub(crate) fn put_uvarint(out: &mut impl BufMut, value: u32) {
    put_unsigned(out, u64::from(value));
}

/// Bytes `value` takes as an unsigned varint.
pub(crate) fn uvarint_len(value: u32) -> usize {
    unsigned_len(u64::from(value))
}

/// Appends `value` as a zigzag varint.
pub(crate) fn put_varint(out: &mut impl BufMut, value: i32) {
    put_unsigned(out, u64::from(zigzag32(value)));
}

/// Appends `value` as a zigzag varlong.
pub(crate) fn put_varlong(out: &mut impl BufMut, value: i64) {
    put_unsigned(out, zigzag64(value));
}

/// Bytes `value` takes as a zigzag varint.
pub(crate) fn varint_len(value: i32) -> usize {
    unsigned_len(u64::from(zigzag32(value)))
}

/// Bytes `value` takes as a zigzag varlong.
pub(crate) fn varlong_len(value: i64) -> usize {
    unsigned_len(zigzag64(value))
}

/// A forward-only reader over a byte slice whose every read is checked against the bytes left.
///
/// Reads return ranges rather than sub-slices where the caller wants to turn them into
/// zero-copy `Bytes` slices of the buffer the slice was borrowed from.
#[derive(Debug, Clone)]
pub(crate) struct SliceReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> SliceReader<'a> {
    /// Starts reading at the beginning of `buf`.
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        SliceReader { buf, pos: 0 }
    }

    /// Offset of the next unread byte.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not yet read.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Consumes `len` bytes and returns their range within the underlying buffer.
    pub(crate) fn take_range(
        &mut self,
        len: usize,
        field: &'static str,
    ) -> Result<Range<usize>, DecodeError> {
        let remaining = self.remaining();
        if len > remaining {
            return Err(DecodeError::UnexpectedEof {
                field,
                needed: len,
                remaining,
            });
        }
        let start = self.pos;
        self.pos += len;
        Ok(start..self.pos)
    }

    /// Consumes `len` bytes and returns them.
    pub(crate) fn take(
        &mut self,
        len: usize,
        field: &'static str,
    ) -> Result<&'a [u8], DecodeError> {
        let range = self.take_range(len, field)?;
        // The range was checked against the buffer length just above.
        self.buf.get(range).ok_or(DecodeError::UnexpectedEof {
            field,
            needed: len,
            remaining: 0,
        })
    }

    /// Consumes exactly `N` bytes as an array.
    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let bytes = self.take(N, field)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// Reads a big-endian `i8`.
    pub(crate) fn i8(&mut self, field: &'static str) -> Result<i8, DecodeError> {
        Ok(i8::from_be_bytes(self.array(field)?))
    }

    /// Reads a big-endian `i16`.
    pub(crate) fn i16(&mut self, field: &'static str) -> Result<i16, DecodeError> {
        Ok(i16::from_be_bytes(self.array(field)?))
    }

    /// Reads a big-endian `u16` (for uint16 fields, which no message uses today).
    #[allow(dead_code)]
    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    /// Reads a big-endian `i32`.
    pub(crate) fn i32(&mut self, field: &'static str) -> Result<i32, DecodeError> {
        Ok(i32::from_be_bytes(self.array(field)?))
    }

    /// Reads a big-endian `u32`.
    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    /// Reads a big-endian `i64`.
    pub(crate) fn i64(&mut self, field: &'static str) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.array(field)?))
    }

    /// Reads a big-endian IEEE 754 `f64`.
    pub(crate) fn f64(&mut self, field: &'static str) -> Result<f64, DecodeError> {
        Ok(f64::from_be_bytes(self.array(field)?))
    }

    /// Reads `N` bytes as they are (UUIDs).
    pub(crate) fn bytes<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], DecodeError> {
        self.array(field)
    }

    /// Reads an unsigned base-128 value of at most `max_len` bytes.
    fn unsigned(&mut self, max_len: usize, field: &'static str) -> Result<u64, DecodeError> {
        let mut value: u64 = 0;
        for index in 0..max_len {
            let byte = self.array::<1>(field)?[0];
            value |= u64::from(byte & 0x7f) << (7 * index);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::VarintOverflow { field })
    }

    /// Reads an unsigned varint (at most 5 bytes, 32 significant bits).
    pub(crate) fn uvarint(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let raw = self.unsigned(MAX_VARINT_LEN, field)?;
        // The fifth byte may carry bits above bit 31; such a value does not fit the type.
        u32::try_from(raw).map_err(|_| DecodeError::VarintOverflow { field })
    }

    /// Reads a zigzag varint (at most 5 bytes, 32 significant bits).
    pub(crate) fn varint(&mut self, field: &'static str) -> Result<i32, DecodeError> {
        let raw = self.uvarint(field)?;
        Ok(((raw >> 1) as i32) ^ -((raw & 1) as i32))
    }

    /// Reads a zigzag varlong (at most 10 bytes, 64 significant bits).
    pub(crate) fn varlong(&mut self, field: &'static str) -> Result<i64, DecodeError> {
        let raw = self.unsigned(MAX_VARLONG_LEN, field)?;
        Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint_round_trip(value: i32) {
        let mut out = Vec::new();
        put_varint(&mut out, value);
        assert_eq!(out.len(), varint_len(value), "length of {value}");
        let mut reader = SliceReader::new(&out);
        assert_eq!(reader.varint("t").unwrap(), value);
        assert_eq!(reader.remaining(), 0);
    }

    fn varlong_round_trip(value: i64) {
        let mut out = Vec::new();
        put_varlong(&mut out, value);
        assert_eq!(out.len(), varlong_len(value), "length of {value}");
        let mut reader = SliceReader::new(&out);
        assert_eq!(reader.varlong("t").unwrap(), value);
        assert_eq!(reader.remaining(), 0);
    }

    #[test]
    fn zigzag_known_encodings() {
        // Values from the protobuf zigzag table, which Kafka's varints share.
        let cases: [(i32, &[u8]); 6] = [
            (0, &[0x00]),
            (-1, &[0x01]),
            (1, &[0x02]),
            (-64, &[0x7f]),
            (64, &[0x80, 0x01]),
            (i32::MIN, &[0xff, 0xff, 0xff, 0xff, 0x0f]),
        ];
        for (value, expected) in cases {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            assert_eq!(out, expected, "encoding of {value}");
        }
    }

    #[test]
    fn varint_round_trips_at_edges() {
        for value in [0, 1, -1, 63, -64, 64, -65, 8191, -8192, i32::MAX, i32::MIN] {
            varint_round_trip(value);
        }
        for value in [0, 1, -1, i64::from(i32::MAX) + 1, i64::MAX, i64::MIN] {
            varlong_round_trip(value);
        }
    }

    #[test]
    fn overlong_varints_are_rejected() {
        let six = [0x80u8, 0x80, 0x80, 0x80, 0x80, 0x00];
        assert!(matches!(
            SliceReader::new(&six).varint("t"),
            Err(DecodeError::VarintOverflow { .. })
        ));
        // Five bytes, but with bits above bit 31 set.
        let wide = [0xffu8, 0xff, 0xff, 0xff, 0x7f];
        assert!(matches!(
            SliceReader::new(&wide).varint("t"),
            Err(DecodeError::VarintOverflow { .. })
        ));
        let eleven = [0x80u8; 11];
        assert!(matches!(
            SliceReader::new(&eleven).varlong("t"),
            Err(DecodeError::VarintOverflow { .. })
        ));
    }

    #[test]
    fn truncated_varint_is_eof() {
        assert!(matches!(
            SliceReader::new(&[0x80u8]).varint("t"),
            Err(DecodeError::UnexpectedEof { .. })
        ));
    }
}

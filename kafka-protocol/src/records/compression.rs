//! Compression codecs of record batches.
//!
//! Bits 0-2 of a v2 batch's attributes name the codec that compressed the batch's records (the
//! part after the 61-byte header); the header itself is never compressed. The wire formats follow
//! what the Java client writes, since brokers and other clients must read what we produce:
//!
//! * gzip: an RFC 1952 gzip stream.
//! * snappy: the "xerial" framing of snappy-java (`\x82SNAPPY\0`, a version and a compatible
//!   version as big-endian `i32`s, then blocks each prefixed with its big-endian `i32` length).
//!   Some non-Java producers write one raw snappy block instead, so decoding accepts both.
//! * lz4: the LZ4 *frame* format with independent 64 KiB blocks and no checksums besides the
//!   header checksum, as `KafkaLZ4BlockOutputStream` writes for magic 1 and 2 (the broken header
//!   checksum of KAFKA-1493 only ever applied to magic 0).
//! * zstd: a zstd frame (KIP-110).
//!
//! Decompression never grows past a caller-given limit: every decoder is read through a cap, so
//! a small "zip bomb" yields [`DecodeError::TooLarge`] rather than exhausting memory.

use std::io::{Read, Write};

use crate::error::{DecodeError, EncodeError};

/// Field name used in errors about a batch's (compressed) record data.
const FIELD: &str = "RecordBatch.records";

/// The magic header snappy-java writes before its length-prefixed blocks.
const XERIAL_MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
/// Magic plus the version and compatible-version `i32`s.
const XERIAL_HEADER_LEN: usize = XERIAL_MAGIC.len() + 8;
/// snappy-java's format version and the oldest reader version it claims compatibility with.
const XERIAL_VERSION: i32 = 1;
/// Uncompressed bytes per xerial block; snappy-java's default block size.
const XERIAL_BLOCK_SIZE: usize = 32 * 1024;
/// Upper bound on how far raw snappy can expand: the densest element, a 3-byte copy, yields 64
/// bytes. A claimed length beyond this is a lie, and is rejected before anything is allocated.
const SNAPPY_MAX_EXPANSION: usize = 32;

/// The smallest zstd window (as log2 of bytes) a decoder accepts regardless of the size limit:
/// the Java client streams zstd with an unknown content size, so frames of small batches may still
/// declare the codec level's default window (2 MiB at level 3, 8 MiB at level 19).
const ZSTD_MIN_WINDOW_LOG: u32 = 23;
/// The largest zstd window accepted; libzstd's own default decoding limit.
const ZSTD_MAX_WINDOW_LOG: u32 = 27;

/// A record batch compression codec (attributes bits 0-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Compression {
    /// Records are stored as they are.
    #[default]
    None,
    /// gzip (RFC 1952).
    Gzip,
    /// snappy, xerial-framed on encode; xerial or a raw block on decode.
    Snappy,
    /// LZ4 frame format.
    Lz4,
    /// zstd (KIP-110; needs produce v7 / fetch v10 or later).
    Zstd,
}

impl Compression {
    /// Mask of the codec bits within a batch's attributes.
    pub const ATTRIBUTE_MASK: i16 = 0x07;

    /// The codec id stored in attributes bits 0-2.
    pub const fn id(self) -> i16 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }

    /// The codec whose id is `id`; ids 5-7 are unassigned and rejected.
    pub fn from_id(id: i16) -> Result<Self, DecodeError> {
        match id {
            0 => Ok(Compression::None),
            1 => Ok(Compression::Gzip),
            2 => Ok(Compression::Snappy),
            3 => Ok(Compression::Lz4),
            4 => Ok(Compression::Zstd),
            other => Err(DecodeError::Invalid {
                field: "RecordBatch.attributes",
                reason: format!("unknown compression codec id {other}"),
            }),
        }
    }

    /// The codec named in batch `attributes`.
    pub fn from_attributes(attributes: i16) -> Result<Self, DecodeError> {
        Self::from_id(attributes & Self::ATTRIBUTE_MASK)
    }

    /// The name used by the `compression.type` configuration.
    pub const fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }

    /// The codec with the `compression.type` name `name` (ASCII case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Compression::None,
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ]
        .into_iter()
        .find(|codec| codec.name().eq_ignore_ascii_case(name))
    }

    /// Compresses `input` and appends the result to `out`.
    ///
    /// `level` is the codec level of KIP-390: gzip accepts 1-9 and zstd its own range (negative
    /// levels included); snappy and lz4 have no levels here and ignore it. `None` picks the codec's
    /// default (gzip 6, zstd 3), as the Java client does.
    pub fn compress(
        self,
        input: &[u8],
        level: Option<i32>,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        match self {
            Compression::None => {
                out.extend_from_slice(input);
                Ok(())
            }
            Compression::Gzip => gzip_compress(input, level, out),
            Compression::Snappy => xerial_compress(input, out),
            Compression::Lz4 => lz4_compress(input, out),
            Compression::Zstd => zstd_compress(input, level, out),
        }
    }

    /// Decompresses `input`, failing with [`DecodeError::TooLarge`] once the output would exceed
    /// `limit` bytes.
    pub fn decompress(self, input: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
        match self {
            Compression::None => {
                if input.len() > limit {
                    return Err(DecodeError::TooLarge {
                        field: FIELD,
                        limit,
                    });
                }
                Ok(input.to_vec())
            }
            Compression::Gzip => read_capped(
                flate2::read::MultiGzDecoder::new(input),
                input.len(),
                limit,
                self,
            ),
            Compression::Snappy => snappy_decompress(input, limit),
            Compression::Lz4 => read_capped(
                lz4_flex::frame::FrameDecoder::new(input),
                input.len(),
                limit,
                self,
            ),
            Compression::Zstd => zstd_decompress(input, limit),
        }
    }
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Wraps a codec failure while encoding.
fn encode_failure(codec: Compression, error: impl std::fmt::Display) -> EncodeError {
    EncodeError::Invalid {
        field: FIELD,
        reason: format!("{codec} compression failed: {error}"),
    }
}

/// Wraps a codec failure (corrupt or truncated stream) while decoding.
fn decode_failure(codec: Compression, error: impl std::fmt::Display) -> DecodeError {
    DecodeError::Invalid {
        field: FIELD,
        reason: format!("{codec} decompression failed: {error}"),
    }
}

/// Reads `reader` to its end, but never more than `limit` bytes.
///
/// The initial capacity guesses a typical ratio from the compressed size yet stays within the
/// limit, so a bomb gets at most `limit` (plus the vector's growth slack) before it is refused.
fn read_capped(
    reader: impl Read,
    compressed_len: usize,
    limit: usize,
    codec: Compression,
) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::with_capacity(compressed_len.saturating_mul(4).min(limit));
    // One byte more than allowed tells "exactly at the limit" apart from "beyond it".
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| decode_failure(codec, e))?;
    if out.len() > limit {
        return Err(DecodeError::TooLarge {
            field: FIELD,
            limit,
        });
    }
    Ok(out)
}

fn gzip_compress(input: &[u8], level: Option<i32>, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let level = match level {
        None => flate2::Compression::default(),
        Some(level @ 1..=9) => flate2::Compression::new(level.unsigned_abs()),
        Some(other) => {
            return Err(encode_failure(
                Compression::Gzip,
                format!("level {other} is outside 1-9"),
            ))
        }
    };
    let mut encoder = flate2::write::GzEncoder::new(out, level);
    encoder
        .write_all(input)
        .map_err(|e| encode_failure(Compression::Gzip, e))?;
    encoder
        .finish()
        .map_err(|e| encode_failure(Compression::Gzip, e))?;
    Ok(())
}

fn lz4_compress(input: &[u8], out: &mut Vec<u8>) -> Result<(), EncodeError> {
    use lz4_flex::frame::{BlockMode, BlockSize, FrameEncoder, FrameInfo};
    // Independent 64 KiB blocks without block or content checksums, like the Java client's
    // writer: its reader (KafkaLZ4BlockInputStream) cannot decode linked blocks.
    let info = FrameInfo::new()
        .block_size(BlockSize::Max64KB)
        .block_mode(BlockMode::Independent)
        .block_checksums(false)
        .content_checksum(false);
    let mut encoder = FrameEncoder::with_frame_info(info, out);
    encoder
        .write_all(input)
        .map_err(|e| encode_failure(Compression::Lz4, e))?;
    encoder
        .finish()
        .map_err(|e| encode_failure(Compression::Lz4, e))?;
    Ok(())
}

fn zstd_compress(input: &[u8], level: Option<i32>, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let level = level.unwrap_or(zstd::DEFAULT_COMPRESSION_LEVEL);
    let range = zstd::compression_level_range();
    if !range.contains(&level) {
        return Err(encode_failure(
            Compression::Zstd,
            format!("level {level} is outside {range:?}"),
        ));
    }
    let mut encoder = zstd::stream::write::Encoder::new(out, level)
        .map_err(|e| encode_failure(Compression::Zstd, e))?;
    encoder
        .write_all(input)
        .map_err(|e| encode_failure(Compression::Zstd, e))?;
    encoder
        .finish()
        .map_err(|e| encode_failure(Compression::Zstd, e))?;
    Ok(())
}

fn zstd_decompress(input: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let mut decoder = zstd::stream::read::Decoder::with_buffer(input)
        .map_err(|e| decode_failure(Compression::Zstd, e))?;
    // Bound the window the frame header may ask the decoder to allocate: a window larger than
    // the output limit could never be filled legitimately.
    let needed_log = usize::BITS - limit.saturating_sub(1).leading_zeros();
    let window_log = needed_log.clamp(ZSTD_MIN_WINDOW_LOG, ZSTD_MAX_WINDOW_LOG);
    decoder
        .window_log_max(window_log)
        .map_err(|e| decode_failure(Compression::Zstd, e))?;
    read_capped(decoder, input.len(), limit, Compression::Zstd)
}

/// Writes the snappy-java ("xerial") stream of `input`.
fn xerial_compress(input: &[u8], out: &mut Vec<u8>) -> Result<(), EncodeError> {
    out.extend_from_slice(&XERIAL_MAGIC);
    out.extend_from_slice(&XERIAL_VERSION.to_be_bytes());
    out.extend_from_slice(&XERIAL_VERSION.to_be_bytes());
    let mut encoder = snap::raw::Encoder::new();
    for block in input.chunks(XERIAL_BLOCK_SIZE) {
        let length_at = out.len();
        out.extend_from_slice(&[0; 4]);
        let start = out.len();
        out.resize(start + snap::raw::max_compress_len(block.len()), 0);
        let written = encoder
            .compress(block, out.get_mut(start..).unwrap_or_default())
            .map_err(|e| encode_failure(Compression::Snappy, e))?;
        out.truncate(start + written);
        let length = i32::try_from(written).map_err(|_| EncodeError::TooLong {
            field: FIELD,
            length: written,
        })?;
        if let Some(slot) = out.get_mut(length_at..start) {
            slot.copy_from_slice(&length.to_be_bytes());
        }
    }
    Ok(())
}

/// Decodes either a xerial stream (recognised by its magic) or a single raw snappy block.
fn snappy_decompress(input: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    if input.starts_with(&XERIAL_MAGIC) {
        xerial_decompress(input, limit)
    } else {
        let mut out = Vec::new();
        append_raw_snappy(input, limit, &mut out)?;
        Ok(out)
    }
}

/// Decompresses one raw snappy block onto the end of `out`, keeping `out` within `limit`.
fn append_raw_snappy(block: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<(), DecodeError> {
    let length =
        snap::raw::decompress_len(block).map_err(|e| decode_failure(Compression::Snappy, e))?;
    if length
        > block
            .len()
            .saturating_mul(SNAPPY_MAX_EXPANSION)
            .saturating_add(64)
    {
        return Err(decode_failure(
            Compression::Snappy,
            format!(
                "block of {} bytes claims {length} uncompressed bytes",
                block.len()
            ),
        ));
    }
    let start = out.len();
    if start.saturating_add(length) > limit {
        return Err(DecodeError::TooLarge {
            field: FIELD,
            limit,
        });
    }
    out.resize(start + length, 0);
    let written = snap::raw::Decoder::new()
        .decompress(block, out.get_mut(start..).unwrap_or_default())
        .map_err(|e| decode_failure(Compression::Snappy, e))?;
    out.truncate(start + written);
    Ok(())
}

/// Decodes a snappy-java stream: header, then `i32`-length-prefixed raw blocks. A second header
/// may appear between blocks (concatenated streams), which snappy-java also accepts.
fn xerial_decompress(input: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        if rest.starts_with(&XERIAL_MAGIC) {
            rest = rest
                .get(XERIAL_HEADER_LEN..)
                .ok_or_else(|| decode_failure(Compression::Snappy, "truncated xerial header"))?;
            continue;
        }
        let (length, after) = match rest.split_first_chunk::<4>() {
            Some((length, after)) => (i32::from_be_bytes(*length), after),
            None => {
                return Err(decode_failure(
                    Compression::Snappy,
                    "truncated xerial block length",
                ))
            }
        };
        let block = usize::try_from(length)
            .ok()
            .and_then(|length| after.get(..length))
            .ok_or_else(|| {
                decode_failure(
                    Compression::Snappy,
                    format!(
                        "xerial block length {length} with {} bytes left",
                        after.len()
                    ),
                )
            })?;
        append_raw_snappy(block, limit, &mut out)?;
        rest = after.get(block.len()..).unwrap_or_default();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    fn sample(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8 ^ (i / 7) as u8).collect()
    }

    #[test]
    fn every_codec_round_trips() {
        for codec in ALL {
            for len in [0, 1, 100, XERIAL_BLOCK_SIZE, 200_000] {
                let input = sample(len);
                let mut packed = Vec::new();
                codec.compress(&input, None, &mut packed).unwrap();
                let unpacked = codec.decompress(&packed, 1 << 20).unwrap();
                assert_eq!(unpacked, input, "{codec} at {len} bytes");
            }
        }
    }

    #[test]
    fn codec_ids_and_names_round_trip() {
        for codec in ALL {
            assert_eq!(Compression::from_id(codec.id()).unwrap(), codec);
            assert_eq!(Compression::from_name(codec.name()), Some(codec));
        }
        for id in 5..8 {
            assert!(Compression::from_id(id).is_err());
        }
        assert_eq!(
            Compression::from_attributes(0x0014),
            Ok(Compression::Zstd),
            "only bits 0-2 name the codec"
        );
    }

    #[test]
    fn xerial_stream_has_java_header_and_blocks() {
        let input = sample(XERIAL_BLOCK_SIZE + 10);
        let mut packed = Vec::new();
        Compression::Snappy
            .compress(&input, None, &mut packed)
            .unwrap();
        assert_eq!(packed.get(..8), Some(&XERIAL_MAGIC[..]));
        assert_eq!(packed.get(8..16), Some(&[0, 0, 0, 1, 0, 0, 0, 1][..]));
        // Walk the blocks by their length prefixes: two blocks must end exactly at the end.
        let mut at = XERIAL_HEADER_LEN;
        let mut blocks = 0;
        while at < packed.len() {
            let len = i32::from_be_bytes(packed[at..at + 4].try_into().unwrap()) as usize;
            at += 4 + len;
            blocks += 1;
        }
        assert_eq!((at, blocks), (packed.len(), 2));
    }

    #[test]
    fn raw_snappy_block_is_accepted() {
        let input = sample(5000);
        let raw = snap::raw::Encoder::new().compress_vec(&input).unwrap();
        assert_eq!(
            Compression::Snappy.decompress(&raw, 1 << 20).unwrap(),
            input
        );
    }

    #[test]
    fn lying_snappy_length_is_rejected_without_allocating() {
        // A raw block claiming 1 GiB of output from five bytes.
        let mut bogus = Vec::new();
        let mut claimed: u32 = 1 << 30;
        while claimed >= 0x80 {
            bogus.push((claimed as u8) | 0x80);
            claimed >>= 7;
        }
        bogus.push(claimed as u8);
        assert!(Compression::Snappy.decompress(&bogus, usize::MAX).is_err());
    }

    #[test]
    fn limit_is_enforced_for_every_codec() {
        let input = vec![0u8; 100_000];
        for codec in ALL {
            let mut packed = Vec::new();
            codec.compress(&input, None, &mut packed).unwrap();
            assert!(
                matches!(
                    codec.decompress(&packed, 99_999),
                    Err(DecodeError::TooLarge { limit: 99_999, .. })
                ),
                "{codec}"
            );
            assert_eq!(codec.decompress(&packed, 100_000).unwrap().len(), 100_000);
        }
    }

    #[test]
    fn bad_levels_are_rejected() {
        let mut out = Vec::new();
        assert!(Compression::Gzip
            .compress(b"x", Some(10), &mut out)
            .is_err());
        assert!(Compression::Zstd
            .compress(b"x", Some(1000), &mut out)
            .is_err());
        assert!(Compression::Gzip.compress(b"x", Some(1), &mut out).is_ok());
    }
}

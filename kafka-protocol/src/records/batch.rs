//! The v2 record batch header, and decoding of one whole batch.
//!
//! Layout (KIP-98; "Record Batch" in the protocol guide), big-endian:
//!
//! ```text
//! offset  field                 type
//!  0      baseOffset            i64
//!  8      batchLength           i32   bytes after this field, to the end of the batch
//! 12      partitionLeaderEpoch  i32
//! 16      magic                 i8    2
//! 17      crc                   u32   CRC32C of bytes 21.. to the end of the batch
//! 21      attributes            i16
//! 23      lastOffsetDelta       i32
//! 27      baseTimestamp         i64
//! 35      maxTimestamp          i64
//! 43      producerId            i64
//! 51      producerEpoch         i16
//! 53      baseSequence          i32
//! 57      recordsCount          i32
//! 61      records               (compressed as a whole when the codec is not none)
//! ```
//!
//! baseOffset and partitionLeaderEpoch sit before the CRC'd range so a broker can assign them
//! without recomputing the checksum.

use bytes::Bytes;

use super::compression::Compression;
use super::record::{RecordContext, Records, MIN_RECORD_SIZE};
use crate::error::DecodeError;
use crate::primitive::SliceReader;

/// The magic byte (message format version) of record batches.
pub const MAGIC: i8 = 2;
/// Bytes of baseOffset and batchLength, which batchLength does not count.
pub const LOG_OVERHEAD: usize = 12;
/// Bytes of the batch header, up to the first record.
pub const RECORD_BATCH_OVERHEAD: usize = 61;
/// Offset of the magic byte; it sits here in every message format, old ones included.
pub(crate) const MAGIC_OFFSET: usize = 16;
/// Offset of the crc field.
pub(crate) const CRC_OFFSET: usize = 17;
/// Offset of attributes, where the CRC'd range begins.
pub(crate) const ATTRIBUTES_OFFSET: usize = 21;
/// Offset of partitionLeaderEpoch.
pub(crate) const PARTITION_LEADER_EPOCH_OFFSET: usize = 12;
/// Offset of batchLength.
pub(crate) const BATCH_LENGTH_OFFSET: usize = 8;
/// Offset of maxTimestamp.
pub(crate) const MAX_TIMESTAMP_OFFSET: usize = 35;
/// Where producerId starts; producerEpoch (int16) and baseSequence (int32) follow it.
pub(crate) const PRODUCER_ID_OFFSET: usize = 43;
/// The smallest valid batchLength: a header with no records.
pub(crate) const MIN_BATCH_LENGTH: i32 = (RECORD_BATCH_OVERHEAD - LOG_OVERHEAD) as i32;

/// Attributes bit 3: timestamps are log-append time rather than create time.
pub(crate) const TIMESTAMP_TYPE_BIT: i16 = 1 << 3;
/// Attributes bit 4: the batch belongs to a transaction.
const TRANSACTIONAL_BIT: i16 = 1 << 4;
/// Attributes bit 5: the batch holds control records (transaction markers and the like).
const CONTROL_BIT: i16 = 1 << 5;
/// Attributes bit 6 (KIP-534): baseTimestamp holds the delete horizon set by the log cleaner.
const DELETE_HORIZON_BIT: i16 = 1 << 6;

/// The decompressed size cap applied by [`DecodeOptions::default`].
pub const DEFAULT_MAX_DECOMPRESSED_SIZE: usize = 64 * 1024 * 1024;

/// What the timestamps of a batch mean (attributes bit 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TimestampType {
    /// Set by the producer when the record was created.
    #[default]
    CreateTime,
    /// Set by the broker when it appended the batch; carried in maxTimestamp only.
    LogAppendTime,
}

/// Limits and checks applied while decoding batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodeOptions {
    /// The most bytes a compressed batch's records may inflate to.
    pub max_decompressed_size: usize,
    /// Whether to check each batch's CRC32C.
    pub verify_crc: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            max_decompressed_size: DEFAULT_MAX_DECOMPRESSED_SIZE,
            verify_crc: true,
        }
    }
}

impl DecodeOptions {
    /// These options with a different decompressed size cap.
    pub fn with_max_decompressed_size(mut self, limit: usize) -> Self {
        self.max_decompressed_size = limit;
        self
    }

    /// These options with CRC checking switched on or off.
    pub fn with_verify_crc(mut self, verify: bool) -> Self {
        self.verify_crc = verify;
        self
    }
}

/// The 61-byte header of a v2 record batch, as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordBatchHeader {
    /// Offset of the first record (assigned by the leader on append).
    pub base_offset: i64,
    /// Bytes after this field up to the end of the batch.
    pub batch_length: i32,
    /// The leader epoch of the leader that appended the batch (KIP-101), or -1.
    pub partition_leader_epoch: i32,
    /// Message format version; always [`MAGIC`] once parsed.
    pub magic: i8,
    /// CRC32C of everything from attributes to the end of the batch.
    pub crc: u32,
    /// Codec, timestamp type, transactional, control and delete-horizon bits.
    pub attributes: i16,
    /// Offset of the last record minus baseOffset.
    pub last_offset_delta: i32,
    /// Timestamp of the first record (or the delete horizon, see attributes bit 6).
    pub base_timestamp: i64,
    /// Largest record timestamp, or the log-append time.
    pub max_timestamp: i64,
    /// Idempotent/transactional producer id, or -1.
    pub producer_id: i64,
    /// Producer epoch, or -1.
    pub producer_epoch: i16,
    /// Sequence number of the first record, or -1.
    pub base_sequence: i32,
    /// Number of records in the batch.
    pub records_count: i32,
}

impl RecordBatchHeader {
    /// Parses the header at the start of `buf` without checking the CRC.
    ///
    /// Rejects any magic other than 2 and a batchLength too small to hold the header; the
    /// records themselves need not be present, which suits peeking at a partial batch.
    pub fn parse(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = SliceReader::new(buf);
        let base_offset = reader.i64("RecordBatch.baseOffset")?;
        let batch_length = reader.i32("RecordBatch.batchLength")?;
        let partition_leader_epoch = reader.i32("RecordBatch.partitionLeaderEpoch")?;
        let magic = reader.i8("RecordBatch.magic")?;
        if magic != MAGIC {
            return Err(DecodeError::Invalid {
                field: "RecordBatch.magic",
                reason: format!("unsupported message format magic {magic} (only 2 is supported)"),
            });
        }
        if batch_length < MIN_BATCH_LENGTH {
            return Err(DecodeError::InvalidLength {
                field: "RecordBatch.batchLength",
                length: i64::from(batch_length),
                remaining: buf.len().saturating_sub(LOG_OVERHEAD),
            });
        }
        Ok(RecordBatchHeader {
            base_offset,
            batch_length,
            partition_leader_epoch,
            magic,
            crc: reader.u32("RecordBatch.crc")?,
            attributes: reader.i16("RecordBatch.attributes")?,
            last_offset_delta: reader.i32("RecordBatch.lastOffsetDelta")?,
            base_timestamp: reader.i64("RecordBatch.baseTimestamp")?,
            max_timestamp: reader.i64("RecordBatch.maxTimestamp")?,
            producer_id: reader.i64("RecordBatch.producerId")?,
            producer_epoch: reader.i16("RecordBatch.producerEpoch")?,
            base_sequence: reader.i32("RecordBatch.baseSequence")?,
            records_count: reader.i32("RecordBatch.recordsCount")?,
        })
    }

    /// Writes the header into the first [`RECORD_BATCH_OVERHEAD`] bytes of `out`.
    pub(crate) fn write(&self, out: &mut [u8; RECORD_BATCH_OVERHEAD]) {
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            if let Some(slot) = out.get_mut(at..at + bytes.len()) {
                slot.copy_from_slice(bytes);
            }
            at += bytes.len();
        };
        put(&self.base_offset.to_be_bytes());
        put(&self.batch_length.to_be_bytes());
        put(&self.partition_leader_epoch.to_be_bytes());
        put(&self.magic.to_be_bytes());
        put(&self.crc.to_be_bytes());
        put(&self.attributes.to_be_bytes());
        put(&self.last_offset_delta.to_be_bytes());
        put(&self.base_timestamp.to_be_bytes());
        put(&self.max_timestamp.to_be_bytes());
        put(&self.producer_id.to_be_bytes());
        put(&self.producer_epoch.to_be_bytes());
        put(&self.base_sequence.to_be_bytes());
        put(&self.records_count.to_be_bytes());
    }

    /// The codec that compressed the records.
    pub fn compression(&self) -> Result<Compression, DecodeError> {
        Compression::from_attributes(self.attributes)
    }

    /// Whether timestamps are create time or log-append time.
    pub fn timestamp_type(&self) -> TimestampType {
        if self.attributes & TIMESTAMP_TYPE_BIT != 0 {
            TimestampType::LogAppendTime
        } else {
            TimestampType::CreateTime
        }
    }

    /// Whether the batch is part of a transaction.
    pub fn is_transactional(&self) -> bool {
        self.attributes & TRANSACTIONAL_BIT != 0
    }

    /// Whether the batch holds control records rather than user data.
    pub fn is_control(&self) -> bool {
        self.attributes & CONTROL_BIT != 0
    }

    /// Whether baseTimestamp is the delete horizon of KIP-534.
    pub fn has_delete_horizon(&self) -> bool {
        self.attributes & DELETE_HORIZON_BIT != 0
    }

    /// Offset of the last record (wrapping like the Java client on a hostile delta).
    pub fn last_offset(&self) -> i64 {
        self.base_offset
            .wrapping_add(i64::from(self.last_offset_delta))
    }

    /// Bytes of the whole batch, baseOffset and batchLength included.
    pub fn total_size(&self) -> usize {
        LOG_OVERHEAD + usize::try_from(self.batch_length).unwrap_or(0)
    }

    /// Checks the CRC32C of `batch` (the batch this header was parsed from) against the one
    /// the header carries, without decoding anything else.
    pub fn check_crc(&self, batch: &[u8]) -> Result<(), DecodeError> {
        let covered =
            batch
                .get(ATTRIBUTES_OFFSET..self.total_size())
                .ok_or(DecodeError::UnexpectedEof {
                    field: "RecordBatch",
                    needed: self.total_size(),
                    remaining: batch.len(),
                })?;
        let computed = ::crc32c::crc32c(covered);
        if computed == self.crc {
            Ok(())
        } else {
            Err(DecodeError::CrcMismatch {
                field: "RecordBatch.crc",
                stored: self.crc,
                computed,
            })
        }
    }

    /// Attributes bits for the given flags.
    pub(crate) fn attributes_for(
        compression: Compression,
        timestamp_type: TimestampType,
        transactional: bool,
        control: bool,
    ) -> i16 {
        let mut attributes = compression.id();
        if timestamp_type == TimestampType::LogAppendTime {
            attributes |= TIMESTAMP_TYPE_BIT;
        }
        if transactional {
            attributes |= TRANSACTIONAL_BIT;
        }
        if control {
            attributes |= CONTROL_BIT;
        }
        attributes
    }
}

/// A decoded record batch: its header, its wire bytes, and its (decompressed) record data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordBatch {
    header: RecordBatchHeader,
    compression: Compression,
    raw: Bytes,
    records: Bytes,
}

impl RecordBatch {
    /// Decodes the batch at the front of `buf` with default options, advancing `buf` past it.
    pub fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        Self::decode_with(buf, &DecodeOptions::default())
    }

    /// Decodes the batch at the front of `buf`, advancing `buf` past it on success.
    ///
    /// Checks, in order: that batchLength fits the bytes left, the magic, the CRC32C, the codec,
    /// and that recordsCount could fit in the (decompressed) record data. Records themselves are
    /// decoded lazily by [`RecordBatch::records`]. Uncompressed record data is a zero-copy slice
    /// of `buf`; compressed data is inflated once, within `options.max_decompressed_size`.
    pub fn decode_with(buf: &mut Bytes, options: &DecodeOptions) -> Result<Self, DecodeError> {
        let mut prefix = SliceReader::new(buf);
        let _base_offset = prefix.i64("RecordBatch.baseOffset")?;
        let batch_length = prefix.i32("RecordBatch.batchLength")?;
        let remaining = prefix.remaining();
        let length = match usize::try_from(batch_length) {
            Ok(length) if length <= remaining => length,
            Ok(length) => {
                return Err(DecodeError::UnexpectedEof {
                    field: "RecordBatch",
                    needed: length,
                    remaining,
                })
            }
            Err(_) => {
                return Err(DecodeError::InvalidLength {
                    field: "RecordBatch.batchLength",
                    length: i64::from(batch_length),
                    remaining,
                })
            }
        };
        let total = LOG_OVERHEAD + length;
        let header = RecordBatchHeader::parse(buf.get(..total).unwrap_or_default())?;

        if options.verify_crc {
            let covered = buf.get(ATTRIBUTES_OFFSET..total).unwrap_or_default();
            let computed = ::crc32c::crc32c(covered);
            if computed != header.crc {
                return Err(DecodeError::CrcMismatch {
                    field: "RecordBatch.crc",
                    stored: header.crc,
                    computed,
                });
            }
        }

        let compression = header.compression()?;
        let count =
            usize::try_from(header.records_count).map_err(|_| DecodeError::InvalidLength {
                field: "RecordBatch.recordsCount",
                length: i64::from(header.records_count),
                remaining: length,
            })?;
        let raw = buf.split_to(total);
        let payload = raw.slice(RECORD_BATCH_OVERHEAD..);
        let records = match compression {
            Compression::None => payload,
            codec => Bytes::from(codec.decompress(&payload, options.max_decompressed_size)?),
        };
        // Every record takes at least MIN_RECORD_SIZE bytes, so a larger count is a lie that
        // would otherwise drive allocations (e.g. `Vec::with_capacity(count)`) in callers.
        if count > records.len() / MIN_RECORD_SIZE {
            return Err(DecodeError::InvalidLength {
                field: "RecordBatch.recordsCount",
                length: i64::from(header.records_count),
                remaining: records.len(),
            });
        }
        Ok(RecordBatch {
            header,
            compression,
            raw,
            records,
        })
    }

    /// The batch header.
    pub fn header(&self) -> &RecordBatchHeader {
        &self.header
    }

    /// The codec the records were compressed with.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// The batch exactly as it was on the wire, header included.
    pub fn as_bytes(&self) -> &Bytes {
        &self.raw
    }

    /// The uncompressed record data (the concatenated records, without the header).
    pub fn record_data(&self) -> &Bytes {
        &self.records
    }

    /// Number of records the header declares.
    pub fn records_count(&self) -> usize {
        usize::try_from(self.header.records_count).unwrap_or(0)
    }

    /// Iterates the records lazily; keys, values and headers are slices of
    /// [`record_data`](Self::record_data).
    pub fn records(&self) -> Records {
        let log_append_time = (self.header.timestamp_type() == TimestampType::LogAppendTime)
            .then_some(self.header.max_timestamp);
        Records::new(
            self.records.clone(),
            self.records_count(),
            RecordContext {
                base_offset: self.header.base_offset,
                base_timestamp: self.header.base_timestamp,
                log_append_time,
            },
        )
    }
}

//! Building v2 record batches.
//!
//! Records are encoded as they are appended, behind 61 bytes reserved for the header. On
//! [`RecordBatchBuilder::build`] an uncompressed batch gets its header written into that space
//! (no copy of the records), while a compressed one compresses the record bytes behind a fresh
//! header. The CRC32C is computed last, over attributes through the end of the batch.

use bytes::Bytes;

use super::batch::{
    RecordBatchHeader, TimestampType, ATTRIBUTES_OFFSET, CRC_OFFSET, LOG_OVERHEAD, MAGIC,
    RECORD_BATCH_OVERHEAD,
};
use super::compression::Compression;
use super::record::{encode_record, RecordHeader};
use crate::error::EncodeError;

/// The value of producerId, producerEpoch and baseSequence for a non-idempotent producer.
pub const NO_PRODUCER_ID: i64 = -1;
/// The producerEpoch of a non-idempotent producer.
pub const NO_PRODUCER_EPOCH: i16 = -1;
/// The baseSequence of a non-idempotent producer (and of control batches).
pub const NO_SEQUENCE: i32 = -1;
/// The partitionLeaderEpoch a producer sends; the leader fills in its own.
pub const NO_PARTITION_LEADER_EPOCH: i32 = -1;
/// The timestamp of a batch without records.
pub const NO_TIMESTAMP: i64 = -1;

/// Builds one v2 record batch.
///
/// ```
/// use kafka_protocol::records::{Compression, RecordBatch, RecordBatchBuilder};
///
/// let mut builder = RecordBatchBuilder::new(Compression::Lz4);
/// builder.append(1_700_000_000_000, Some(b"k"), Some(b"v"), &[])?;
/// let mut wire = builder.build()?;
/// let batch = RecordBatch::decode(&mut wire)?;
/// assert_eq!(batch.records().count(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct RecordBatchBuilder {
    /// Header space followed by the uncompressed records.
    buf: Vec<u8>,
    compression: Compression,
    compression_level: Option<i32>,
    log_append_time: Option<i64>,
    base_offset: i64,
    partition_leader_epoch: i32,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
    transactional: bool,
    control: bool,
    base_timestamp: Option<i64>,
    max_timestamp: i64,
    count: i32,
    last_offset_delta: Option<i32>,
}

impl RecordBatchBuilder {
    /// A builder for a batch compressed with `compression`, with no producer id, create-time
    /// timestamps, baseOffset 0 and partitionLeaderEpoch -1 (what a producer sends).
    pub fn new(compression: Compression) -> Self {
        Self::with_capacity(compression, 0)
    }

    /// Like [`new`](Self::new), with room for `capacity` bytes of records reserved up front (for
    /// example the producer's `batch.size`), so appending does not grow the buffer repeatedly.
    pub fn with_capacity(compression: Compression, capacity: usize) -> Self {
        Self::with_buffer(
            compression,
            Vec::with_capacity(RECORD_BATCH_OVERHEAD.saturating_add(capacity)),
        )
    }

    /// Like [`new`](Self::new), writing into `buf` (cleared first): a producer hands back the
    /// buffer of a batch it finished, so steady-state batching allocates no new buffers.
    pub fn with_buffer(compression: Compression, mut buf: Vec<u8>) -> Self {
        buf.clear();
        buf.resize(RECORD_BATCH_OVERHEAD, 0);
        RecordBatchBuilder {
            buf,
            compression,
            compression_level: None,
            log_append_time: None,
            base_offset: 0,
            partition_leader_epoch: NO_PARTITION_LEADER_EPOCH,
            producer_id: NO_PRODUCER_ID,
            producer_epoch: NO_PRODUCER_EPOCH,
            base_sequence: NO_SEQUENCE,
            transactional: false,
            control: false,
            base_timestamp: None,
            max_timestamp: NO_TIMESTAMP,
            count: 0,
            last_offset_delta: None,
        }
    }

    /// Sets the codec level (KIP-390); see [`Compression::compress`].
    pub fn with_compression_level(mut self, level: i32) -> Self {
        self.compression_level = Some(level);
        self
    }

    /// Sets baseOffset (a broker assigning offsets; producers leave it 0).
    pub fn with_base_offset(mut self, base_offset: i64) -> Self {
        self.base_offset = base_offset;
        self
    }

    /// Sets partitionLeaderEpoch (a broker stamping its epoch; producers leave it -1).
    pub fn with_partition_leader_epoch(mut self, epoch: i32) -> Self {
        self.partition_leader_epoch = epoch;
        self
    }

    /// Sets the idempotent producer's id, epoch and the sequence number of the first record.
    pub fn with_producer(
        mut self,
        producer_id: i64,
        producer_epoch: i16,
        base_sequence: i32,
    ) -> Self {
        self.producer_id = producer_id;
        self.producer_epoch = producer_epoch;
        self.base_sequence = base_sequence;
        self
    }

    /// Marks the batch as part of a transaction (attributes bit 4).
    pub fn with_transactional(mut self, transactional: bool) -> Self {
        self.transactional = transactional;
        self
    }

    /// Marks the batch as holding control records (attributes bit 5).
    pub fn with_control(mut self, control: bool) -> Self {
        self.control = control;
        self
    }

    /// Uses log-append time: sets attributes bit 3 and writes `time` as maxTimestamp, which is
    /// where readers take the timestamp of every record from.
    pub fn with_log_append_time(mut self, time: i64) -> Self {
        self.log_append_time = Some(time);
        self
    }

    /// Records appended so far.
    pub fn len(&self) -> usize {
        usize::try_from(self.count).unwrap_or(0)
    }

    /// Whether no record was appended yet.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes of the batch if it were built uncompressed now; an upper bound for sizing batches
    /// against `batch.size` (compression usually shrinks it).
    pub fn uncompressed_size(&self) -> usize {
        self.buf.len()
    }

    /// Appends a record at the next offset (offsetDelta one past the previous record's).
    pub fn append(
        &mut self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[RecordHeader],
    ) -> Result<(), EncodeError> {
        let offset_delta = match self.last_offset_delta {
            None => 0,
            Some(last) => last.checked_add(1).ok_or(EncodeError::TooLong {
                field: "RecordBatch.records",
                length: self.len(),
            })?,
        };
        self.append_with_offset_delta(offset_delta, timestamp, key, value, headers)
    }

    /// Appends a record at baseOffset + `offset_delta`; deltas must strictly increase, and may
    /// skip values (as in a compacted batch).
    pub fn append_with_offset_delta(
        &mut self,
        offset_delta: i32,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[RecordHeader],
    ) -> Result<(), EncodeError> {
        let in_order = match self.last_offset_delta {
            None => offset_delta >= 0,
            Some(last) => offset_delta > last,
        };
        if !in_order {
            return Err(EncodeError::Invalid {
                field: "Record.offsetDelta",
                reason: format!(
                    "offset delta {offset_delta} does not follow {:?}",
                    self.last_offset_delta
                ),
            });
        }
        // The first record's timestamp is the base, as in the Java client; later ones may be
        // earlier, giving negative deltas.
        let base_timestamp = *self.base_timestamp.get_or_insert(timestamp);
        let timestamp_delta =
            timestamp
                .checked_sub(base_timestamp)
                .ok_or_else(|| EncodeError::Invalid {
                    field: "Record.timestampDelta",
                    reason: format!("timestamp {timestamp} is too far from {base_timestamp}"),
                })?;
        let count = self.count.checked_add(1).ok_or(EncodeError::TooLong {
            field: "RecordBatch.records",
            length: self.len(),
        })?;
        encode_record(
            &mut self.buf,
            offset_delta,
            timestamp_delta,
            key,
            value,
            headers,
        )?;
        self.count = count;
        self.last_offset_delta = Some(offset_delta);
        self.max_timestamp = self.max_timestamp.max(timestamp);
        Ok(())
    }

    /// Finishes the batch: compresses the records, fills in the header and the CRC32C.
    ///
    /// A batch needs at least one record: an empty one carries no offsets to assign.
    pub fn build(self) -> Result<Bytes, EncodeError> {
        let Some(last_offset_delta) = self.last_offset_delta else {
            return Err(EncodeError::Invalid {
                field: "RecordBatch.records",
                reason: "a batch needs at least one record".to_string(),
            });
        };
        let timestamp_type = if self.log_append_time.is_some() {
            TimestampType::LogAppendTime
        } else {
            TimestampType::CreateTime
        };
        let mut buf = match self.compression {
            Compression::None => self.buf,
            codec => {
                let records = self.buf.get(RECORD_BATCH_OVERHEAD..).unwrap_or_default();
                let mut out = Vec::with_capacity(RECORD_BATCH_OVERHEAD + records.len() / 2);
                out.resize(RECORD_BATCH_OVERHEAD, 0);
                codec.compress(records, self.compression_level, &mut out)?;
                out
            }
        };
        let batch_length =
            i32::try_from(buf.len() - LOG_OVERHEAD).map_err(|_| EncodeError::TooLong {
                field: "RecordBatch",
                length: buf.len(),
            })?;
        let header = RecordBatchHeader {
            base_offset: self.base_offset,
            batch_length,
            partition_leader_epoch: self.partition_leader_epoch,
            magic: MAGIC,
            crc: 0,
            attributes: RecordBatchHeader::attributes_for(
                self.compression,
                timestamp_type,
                self.transactional,
                self.control,
            ),
            last_offset_delta,
            base_timestamp: self.base_timestamp.unwrap_or(NO_TIMESTAMP),
            max_timestamp: self.log_append_time.unwrap_or(self.max_timestamp),
            producer_id: self.producer_id,
            producer_epoch: self.producer_epoch,
            base_sequence: self.base_sequence,
            records_count: self.count,
        };
        let mut head = [0u8; RECORD_BATCH_OVERHEAD];
        header.write(&mut head);
        if let Some(slot) = buf.get_mut(..RECORD_BATCH_OVERHEAD) {
            slot.copy_from_slice(&head);
        }
        let crc = ::crc32c::crc32c(buf.get(ATTRIBUTES_OFFSET..).unwrap_or_default());
        if let Some(slot) = buf.get_mut(CRC_OFFSET..ATTRIBUTES_OFFSET) {
            slot.copy_from_slice(&crc.to_be_bytes());
        }
        Ok(Bytes::from(buf))
    }
}

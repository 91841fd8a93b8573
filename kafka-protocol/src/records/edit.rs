//! Editing encoded batches in place, as a leader does on append, and splitting a record set into
//! its batches by their length fields alone.
//!
//! A leader stores the producer's bytes. It assigns baseOffset and partitionLeaderEpoch, which
//! lie before the CRC'd range (so the checksum stays valid), and on topics with
//! `message.timestamp.type=LogAppendTime` it rewrites the timestamp type and maxTimestamp, which
//! lie inside it (so the CRC is recomputed). The layout these functions rely on is the one in
//! [`super::batch`]; nothing else in the workspace should know a byte offset of the header.

use super::batch::{
    RecordBatchHeader, ATTRIBUTES_OFFSET, BATCH_LENGTH_OFFSET, CRC_OFFSET, LOG_OVERHEAD,
    MAGIC_OFFSET, MAX_TIMESTAMP_OFFSET, PARTITION_LEADER_EPOCH_OFFSET, PRODUCER_ID_OFFSET,
    TIMESTAMP_TYPE_BIT,
};
use crate::error::DecodeError;

/// Copies `bytes` over `batch[at..]`, or names the field that does not fit.
fn put(batch: &mut [u8], at: usize, bytes: &[u8], field: &'static str) -> Result<(), DecodeError> {
    let remaining = batch.len();
    let slot = batch
        .get_mut(at..at + bytes.len())
        .ok_or(DecodeError::UnexpectedEof {
            field,
            needed: at + bytes.len(),
            remaining,
        })?;
    slot.copy_from_slice(bytes);
    Ok(())
}

/// Overwrites baseOffset of the encoded batch at the start of `batch`.
///
/// baseOffset is outside the CRC'd range, so a leader can assign offsets in place.
pub fn set_base_offset(batch: &mut [u8], base_offset: i64) -> Result<(), DecodeError> {
    put(
        batch,
        0,
        &base_offset.to_be_bytes(),
        "RecordBatch.baseOffset",
    )
}

/// Overwrites partitionLeaderEpoch of the encoded batch at the start of `batch`.
///
/// partitionLeaderEpoch is outside the CRC'd range (KIP-101), so a leader can stamp it in place.
pub fn set_partition_leader_epoch(batch: &mut [u8], epoch: i32) -> Result<(), DecodeError> {
    put(
        batch,
        PARTITION_LEADER_EPOCH_OFFSET,
        &epoch.to_be_bytes(),
        "RecordBatch.partitionLeaderEpoch",
    )
}

/// Marks the encoded batch at the start of `batch` as log-append time with maxTimestamp
/// `time`, and recomputes its CRC32C, since both fields are covered by it.
///
/// This is what Kafka's `LogValidator` does on topics with
/// `message.timestamp.type=LogAppendTime`: the records' own timestamps stay as the producer
/// wrote them, and readers take maxTimestamp for every record of the batch. The batch must be
/// complete: the CRC covers everything from attributes to the end of the batch.
pub fn set_log_append_time(batch: &mut [u8], time: i64) -> Result<(), DecodeError> {
    let header = RecordBatchHeader::parse(batch)?;
    let end = header.total_size();
    if end > batch.len() {
        return Err(DecodeError::UnexpectedEof {
            field: "RecordBatch.records",
            needed: end,
            remaining: batch.len(),
        });
    }
    put(
        batch,
        ATTRIBUTES_OFFSET,
        &(header.attributes | TIMESTAMP_TYPE_BIT).to_be_bytes(),
        "RecordBatch.attributes",
    )?;
    put(
        batch,
        MAX_TIMESTAMP_OFFSET,
        &time.to_be_bytes(),
        "RecordBatch.maxTimestamp",
    )?;
    let crc = super::crc32c(&batch[ATTRIBUTES_OFFSET..end]);
    put(batch, CRC_OFFSET, &crc.to_be_bytes(), "RecordBatch.crc")
}

/// Overwrites the producer id, epoch and base sequence of the complete batch at the start of
/// `batch`, and recomputes its CRC32C.
///
/// An idempotent producer builds a batch once and resends those bytes on retry; only when it
/// bumps its epoch after an unknown outcome (KIP-360) do the batches still queued need the new
/// epoch and fresh sequence numbers, and rebuilding them from records would mean keeping every
/// record twice.
pub fn set_producer(
    batch: &mut [u8],
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
) -> Result<(), DecodeError> {
    let header = RecordBatchHeader::parse(batch)?;
    let end = header.total_size();
    if end > batch.len() {
        return Err(DecodeError::UnexpectedEof {
            field: "RecordBatch.records",
            needed: end,
            remaining: batch.len(),
        });
    }
    let mut fields = [0u8; 14];
    fields[..8].copy_from_slice(&producer_id.to_be_bytes());
    fields[8..10].copy_from_slice(&producer_epoch.to_be_bytes());
    fields[10..].copy_from_slice(&base_sequence.to_be_bytes());
    put(batch, PRODUCER_ID_OFFSET, &fields, "RecordBatch.producerId")?;
    let crc = super::crc32c(&batch[ATTRIBUTES_OFFSET..end]);
    put(batch, CRC_OFFSET, &crc.to_be_bytes(), "RecordBatch.crc")
}

/// Where one complete batch sits in a record set, and its magic byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchFrame {
    /// Offset of the batch's first byte in the record set.
    pub start: usize,
    /// Bytes of the whole batch, baseOffset and batchLength included.
    pub len: usize,
    /// The magic byte (message format version); it sits at the same place in every format.
    pub magic: i8,
}

/// The complete batches of a record set, found by their length fields alone (no CRC check, no
/// decoding); the walk stops at the first batch that is cut short or has a negative length.
///
/// This is how Kafka checks a Produce request's shape before validating anything
/// (`ProduceRequest.validateRecords`): since Produce v3 a partition carries exactly one complete
/// batch of magic 2.
///
/// ```
/// use kafka_protocol::records::{batch_frames, Compression, RecordBatchBuilder};
///
/// let mut builder = RecordBatchBuilder::new(Compression::None);
/// builder.append(0, None, Some(b"v"), &[])?;
/// let batch = builder.build()?;
/// let mut two = batch.to_vec();
/// two.extend_from_slice(&batch);
/// assert_eq!(batch_frames(&two).count(), 2);
/// // A batch cut short ends the walk.
/// assert_eq!(batch_frames(&two[..batch.len() + 3]).count(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn batch_frames(records: &[u8]) -> BatchFrames<'_> {
    BatchFrames { records, at: 0 }
}

/// Iterator returned by [`batch_frames`].
#[derive(Debug, Clone)]
pub struct BatchFrames<'a> {
    records: &'a [u8],
    at: usize,
}

impl Iterator for BatchFrames<'_> {
    type Item = BatchFrame;

    fn next(&mut self) -> Option<BatchFrame> {
        let start = self.at;
        let length_at = start.checked_add(BATCH_LENGTH_OFFSET)?;
        let length = self
            .records
            .get(length_at..length_at.checked_add(4)?)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(i32::from_be_bytes)?;
        let len = usize::try_from(length).ok()?.checked_add(LOG_OVERHEAD)?;
        let end = start
            .checked_add(len)
            .filter(|e| *e <= self.records.len())?;
        let magic = *self.records.get(start + MAGIC_OFFSET)? as i8;
        self.at = end;
        Some(BatchFrame { start, len, magic })
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::records::{Compression, RecordBatch, RecordBatchBuilder, TimestampType};

    fn batch() -> Bytes {
        let mut builder = RecordBatchBuilder::new(Compression::None);
        builder.append(5, Some(b"k"), Some(b"v"), &[]).unwrap();
        builder.append(6, None, Some(b"w"), &[]).unwrap();
        builder.build().unwrap()
    }

    #[test]
    fn log_append_time_keeps_the_batch_valid() {
        let mut bytes = batch().to_vec();
        set_log_append_time(&mut bytes, 1_700_000_000_123).unwrap();
        let decoded = RecordBatch::decode(&mut Bytes::from(bytes)).unwrap();
        assert_eq!(
            decoded.header().timestamp_type(),
            TimestampType::LogAppendTime
        );
        assert_eq!(decoded.header().max_timestamp, 1_700_000_000_123);
        assert_eq!(decoded.records().count(), 2);
    }

    #[test]
    fn offsets_and_epochs_leave_the_crc_alone() {
        let mut bytes = batch().to_vec();
        set_base_offset(&mut bytes, 41).unwrap();
        set_partition_leader_epoch(&mut bytes, 7).unwrap();
        let decoded = RecordBatch::decode(&mut Bytes::from(bytes)).unwrap();
        assert_eq!(decoded.header().base_offset, 41);
        assert_eq!(decoded.header().partition_leader_epoch, 7);
    }

    #[test]
    fn a_new_producer_epoch_and_sequence_keep_the_batch_valid() {
        let mut bytes = batch().to_vec();
        set_producer(&mut bytes, 77, 3, 1_000).unwrap();
        // decode checks the CRC: it was recomputed.
        let decoded = RecordBatch::decode(&mut Bytes::from(bytes)).unwrap();
        let h = decoded.header();
        assert_eq!(
            (h.producer_id, h.producer_epoch, h.base_sequence),
            (77, 3, 1_000)
        );
        assert!(set_producer(&mut batch()[..40].to_vec(), 1, 1, 1).is_err());
    }

    #[test]
    fn edits_of_short_input_are_errors() {
        let full = batch();
        for cut in [0, 5, 13, 30, full.len() - 1] {
            let mut short = full[..cut].to_vec();
            assert!(set_log_append_time(&mut short, 1).is_err(), "cut at {cut}");
        }
        assert!(set_base_offset(&mut [0u8; 7], 1).is_err());
        assert!(set_partition_leader_epoch(&mut [0u8; 15], 1).is_err());
    }

    #[test]
    fn frames_stop_at_hostile_lengths() {
        let one = batch();
        let frames: Vec<BatchFrame> = batch_frames(&one).collect();
        assert_eq!(
            frames,
            vec![BatchFrame {
                start: 0,
                len: one.len(),
                magic: 2
            }]
        );
        for length in [-1i32, i32::MAX, i32::MIN] {
            let mut bad = one.to_vec();
            bad[8..12].copy_from_slice(&length.to_be_bytes());
            assert_eq!(batch_frames(&bad).count(), 0, "length {length}");
        }
        assert_eq!(batch_frames(&[]).count(), 0);
    }
}

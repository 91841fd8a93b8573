//! Record batches (message format v2, magic 2), CRC32C and compression.
//!
//! * [`RecordBatchBuilder`] encodes a batch: record deltas, lengths, compression and CRC32C.
//! * [`RecordBatch::decode`] decodes one batch after checking its length, magic and CRC32C, and
//!   inflates compressed records within a size cap ([`DecodeOptions`]); [`RecordBatch::records`]
//!   then iterates records lazily, handing out keys and values as zero-copy [`bytes::Bytes`].
//! * [`RecordSet`] / [`RecordBatches`] walk the concatenated batches of a Produce or Fetch
//!   `records` field and tolerate the trailing partial batch a Fetch response may carry.
//! * [`set_base_offset`], [`set_partition_leader_epoch`] and [`set_log_append_time`] edit an
//!   encoded batch in place as a leader does on append; [`batch_frames`] splits a record set by
//!   its length fields alone.
//! * [`ControlRecordType`] and [`EndTransactionMarker`] read and write control records.
//! * [`Compression`] implements the gzip, snappy (xerial), lz4 (frame) and zstd codecs.
//!
//! Old message formats (magic 0 and 1) are rejected with a typed error: they are gone from
//! Kafka 4.0 (KIP-724) and no broker this crate targets writes them.

mod batch;
mod builder;
mod compression;
mod control;
mod edit;
mod framing;
mod record;
mod record_set;

pub use batch::{
    DecodeOptions, RecordBatch, RecordBatchHeader, TimestampType, DEFAULT_MAX_DECOMPRESSED_SIZE,
    LOG_OVERHEAD, MAGIC, RECORD_BATCH_OVERHEAD,
};
pub use builder::{
    RecordBatchBuilder, NO_PARTITION_LEADER_EPOCH, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE,
    NO_TIMESTAMP,
};
pub use compression::Compression;
pub use control::{ControlRecordType, EndTransactionMarker};
pub use edit::{
    batch_frames, set_base_offset, set_log_append_time, set_partition_leader_epoch, set_producer,
    BatchFrame, BatchFrames,
};
pub use framing::{check_record_framing, FramingError};
pub use record::{Record, RecordHeader, Records};
pub use record_set::{PartialBatch, RecordBatches, RecordSet};

/// CRC32C (Castagnoli) of `data`: the checksum of v2 record batches (KIP-98), which replaced the
/// CRC32 of older formats because CPUs compute it in hardware.
pub fn crc32c(data: &[u8]) -> u32 {
    ::crc32c::crc32c(data)
}

#[cfg(test)]
mod tests {
    use super::crc32c;

    #[test]
    fn crc32c_known_answers() {
        // The check value of CRC-32C (iSCSI), and the RFC 3720 B.4 test vectors.
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
        assert_eq!(crc32c(&[0xffu8; 32]), 0x62A8_AB43);
        let ascending: Vec<u8> = (0..32).collect();
        assert_eq!(crc32c(&ascending), 0x46DD_794E);
        assert_eq!(crc32c(b""), 0);
    }
}

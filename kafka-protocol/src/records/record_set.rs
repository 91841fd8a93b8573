//! Record sets: the `records` field of Produce and Fetch, zero or more concatenated batches.
//!
//! A broker answering a Fetch copies log bytes up to the requested size and may cut the last
//! batch short. Such a trailing partial batch is normal, not corruption: it is skipped and
//! reported (as the Java client's `ByteBufferLogInputStream` does) so the consumer can fetch again
//! from the next offset, or raise the fetch size when not even one batch fitted.

use bytes::Bytes;

use super::batch::{
    DecodeOptions, RecordBatch, LOG_OVERHEAD, MAGIC, MAGIC_OFFSET, MIN_BATCH_LENGTH,
};
use crate::error::DecodeError;
use crate::primitive::SliceReader;

/// The incomplete batch at the end of a record set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartialBatch {
    /// Bytes of the partial batch that were present.
    pub available: usize,
    /// Size of the whole batch, when its batchLength was present.
    pub batch_size: Option<usize>,
    /// baseOffset of the batch, when present.
    pub base_offset: Option<i64>,
}

/// A lazy iterator over the batches of a record set.
///
/// Yields each complete batch (or the first error, after which it stops). A trailing partial
/// batch ends the iteration without an error; [`partial`](Self::partial) describes it afterwards.
#[derive(Debug, Clone)]
pub struct RecordBatches {
    data: Bytes,
    options: DecodeOptions,
    partial: Option<PartialBatch>,
    done: bool,
}

impl RecordBatches {
    /// Iterates the batches of `data` with default options.
    pub fn new(data: Bytes) -> Self {
        Self::with_options(data, DecodeOptions::default())
    }

    /// Iterates the batches of `data` with the given options.
    pub fn with_options(data: Bytes, options: DecodeOptions) -> Self {
        RecordBatches {
            data,
            options,
            partial: None,
            done: false,
        }
    }

    /// The trailing partial batch, once iteration has reached it.
    pub fn partial(&self) -> Option<PartialBatch> {
        self.partial
    }

    /// Looks at the front of `data`: `Ok(None)` for a complete batch, `Ok(Some(..))` for a
    /// partial one, an error for something that cannot be a v2 batch at all.
    fn front_is_complete(&self) -> Result<Option<PartialBatch>, DecodeError> {
        let data = &self.data[..];
        let mut reader = SliceReader::new(data);
        let (Ok(base_offset), Ok(batch_length)) = (
            reader.i64("RecordBatch.baseOffset"),
            reader.i32("RecordBatch.batchLength"),
        ) else {
            return Ok(Some(PartialBatch {
                available: data.len(),
                batch_size: None,
                base_offset: SliceReader::new(data).i64("RecordBatch.baseOffset").ok(),
            }));
        };
        // The magic sits at the same place in every format; an old-format message set is not
        // something to wait for more bytes of.
        if let Some(&magic) = data.get(MAGIC_OFFSET) {
            if magic as i8 != MAGIC {
                return Err(DecodeError::Invalid {
                    field: "RecordBatch.magic",
                    reason: format!(
                        "unsupported message format magic {} (only 2 is supported)",
                        magic as i8
                    ),
                });
            }
        }
        if batch_length < MIN_BATCH_LENGTH {
            return Err(DecodeError::InvalidLength {
                field: "RecordBatch.batchLength",
                length: i64::from(batch_length),
                remaining: reader.remaining(),
            });
        }
        let batch_size = LOG_OVERHEAD + usize::try_from(batch_length).unwrap_or(0);
        if batch_size > data.len() {
            return Ok(Some(PartialBatch {
                available: data.len(),
                batch_size: Some(batch_size),
                base_offset: Some(base_offset),
            }));
        }
        Ok(None)
    }
}

impl Iterator for RecordBatches {
    type Item = Result<RecordBatch, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.data.is_empty() {
            self.done = true;
            return None;
        }
        match self.front_is_complete() {
            Ok(None) => {}
            Ok(Some(partial)) => {
                self.partial = Some(partial);
                self.done = true;
                return None;
            }
            Err(error) => {
                self.done = true;
                return Some(Err(error));
            }
        }
        let result = RecordBatch::decode_with(&mut self.data, &self.options);
        if result.is_err() {
            self.done = true;
        }
        Some(result)
    }
}

/// A fully decoded record set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordSet {
    /// The complete batches, in order.
    pub batches: Vec<RecordBatch>,
    /// The trailing partial batch a Fetch response may end with.
    pub partial: Option<PartialBatch>,
}

impl RecordSet {
    /// Decodes every complete batch of `data` with default options.
    pub fn decode(data: Bytes) -> Result<Self, DecodeError> {
        Self::decode_with(data, DecodeOptions::default())
    }

    /// Decodes every complete batch of `data`; the first bad batch fails the whole set.
    pub fn decode_with(data: Bytes, options: DecodeOptions) -> Result<Self, DecodeError> {
        let mut batches = RecordBatches::with_options(data, options);
        let mut set = RecordSet::default();
        for batch in batches.by_ref() {
            set.batches.push(batch?);
        }
        set.partial = batches.partial();
        Ok(set)
    }
}

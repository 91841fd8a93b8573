//! What the consumer hands out: [`ConsumerRecord`] and the partition it came from.

use bytes::Bytes;
use kafka_protocol::records::RecordHeader;
use kafka_protocol::TopicName;

/// A topic and one of its partitions.
pub type TopicPartition = (TopicName, i32);

/// A fetched record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConsumerRecord {
    /// The topic.
    pub topic: TopicName,
    /// The partition.
    pub partition: i32,
    /// The record's offset.
    pub offset: i64,
    /// Its timestamp (create time, or the broker's append time on LogAppendTime topics).
    pub timestamp: i64,
    /// The epoch of the leader that appended it (KIP-320), when the broker recorded one.
    pub leader_epoch: Option<i32>,
    /// The key: a slice of the fetched buffer.
    pub key: Option<Bytes>,
    /// The value: a slice of the fetched buffer.
    pub value: Option<Bytes>,
    /// Headers, in order.
    pub headers: Vec<RecordHeader>,
}

/// An offset to commit: the next offset to read, with optional application metadata.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct OffsetAndMetadata {
    /// The next offset the group should read.
    pub offset: i64,
    /// Free-form text stored with the commit.
    pub metadata: String,
    /// The leader epoch of the last record read (KIP-320), if known.
    pub leader_epoch: Option<i32>,
}

impl OffsetAndMetadata {
    /// `offset` without metadata.
    pub fn new(offset: i64) -> Self {
        OffsetAndMetadata {
            offset,
            metadata: String::new(),
            leader_epoch: None,
        }
    }

    /// This offset with `metadata`.
    pub fn with_metadata(mut self, metadata: impl Into<String>) -> Self {
        self.metadata = metadata.into();
        self
    }
}

//! What is sent and what comes back.

use bytes::Bytes;
use kafka_protocol::records::RecordHeader;
use kafka_protocol::TopicName;

/// A record to send.
///
/// ```
/// use kafka_producer::ProducerRecord;
///
/// let record = ProducerRecord::new("orders")
///     .with_key("customer-7")
///     .with_value("{\"total\": 12}")
///     .with_header("trace", "abc");
/// assert_eq!(record.key.as_deref(), Some(&b"customer-7"[..]));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProducerRecord {
    /// The topic. A [`TopicName`] made once (`TopicName::from_static("orders")`, or from a
    /// `String`) and cloned into each record costs no allocation per record; `&str` and
    /// `String` convert too.
    pub topic: TopicName,
    /// An explicit partition; `None` lets the partitioner choose.
    pub partition: Option<i32>,
    /// The key (the default partitioner hashes it).
    pub key: Option<Bytes>,
    /// The value.
    pub value: Option<Bytes>,
    /// Headers, in order.
    pub headers: Vec<RecordHeader>,
    /// Create time in milliseconds since the epoch; `None` for now.
    pub timestamp: Option<i64>,
}

impl ProducerRecord {
    /// A record for `topic` with no key, value or headers.
    pub fn new(topic: impl Into<TopicName>) -> Self {
        ProducerRecord {
            topic: topic.into(),
            ..Default::default()
        }
    }

    /// Sets the key.
    pub fn with_key(mut self, key: impl Into<Bytes>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets the value.
    pub fn with_value(mut self, value: impl Into<Bytes>) -> Self {
        self.value = Some(value.into());
        self
    }

    /// Adds a header.
    pub fn with_header(mut self, key: impl Into<String>, value: impl Into<Bytes>) -> Self {
        self.headers
            .push(RecordHeader::new(key, Some(value.into())));
        self
    }

    /// Sends to this partition, bypassing the partitioner.
    pub fn with_partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }

    /// Sets the create time (ms since the epoch).
    pub fn with_timestamp(mut self, timestamp: i64) -> Self {
        self.timestamp = Some(timestamp);
        self
    }

    /// An upper bound of the record's size inside a batch: what `batch.size`, `buffer.memory`
    /// and `max.request.size` are checked against.
    pub fn estimated_size(&self) -> usize {
        // Varint length prefixes and deltas take at most 5 or 10 bytes each.
        let headers: usize = self
            .headers
            .iter()
            .map(|h| 10 + h.key().len() + h.value.as_ref().map_or(0, Bytes::len))
            .sum();
        32 + self.key.as_ref().map_or(0, Bytes::len)
            + self.value.as_ref().map_or(0, Bytes::len)
            + headers
    }
}

/// Where an acknowledged record was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordMetadata {
    /// The partition.
    pub partition: i32,
    /// The record's offset; -1 when unknown (acks=0).
    pub offset: i64,
    /// The record's timestamp: the broker's append time on LogAppendTime topics, else the
    /// create time sent.
    pub timestamp: i64,
}

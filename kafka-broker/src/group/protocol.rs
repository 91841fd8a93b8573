//! The parts of the consumer embedded protocol (`protocol_type = "consumer"`) the coordinator
//! needs to read.
//!
//! The classic group protocol treats member metadata as opaque bytes, but OffsetDelete (KIP-496)
//! must refuse to delete offsets of a topic the group is still subscribed to, so the coordinator
//! parses the `ConsumerProtocolSubscription` each consumer sends in JoinGroup. Its layout is
//! `version: int16` followed by the version's fields; every version (0 through 3) starts with
//! `topics: [string]` (classic `int32` count, `int16`-prefixed strings), and later versions only
//! append fields, so reading the version and the topic list is enough. Like the Java client we
//! accept versions newer than we know, because their prefix is the same.
//!
//! The bytes come from clients, so the parser checks every prefix against the bytes left and
//! reports junk as a [`DecodeError`] instead of panicking or allocating without bound.

use bytes::Bytes;
use kafka_protocol::codec::{get_array_len, get_i16, get_string, initial_capacity};
use kafka_protocol::DecodeError;

/// `protocol_type` of groups formed by Kafka consumers.
pub const CONSUMER_PROTOCOL_TYPE: &str = "consumer";

/// Reads the subscribed topic names from a `ConsumerProtocolSubscription`.
///
/// Bytes after the topic list (user data, owned partitions, generation, rack) are ignored.
pub fn subscribed_topics(metadata: &Bytes) -> Result<Vec<String>, DecodeError> {
    let mut buf = metadata.clone();
    let version = get_i16(&mut buf, "ConsumerProtocolSubscription.version")?;
    if version < 0 {
        return Err(DecodeError::Invalid {
            field: "ConsumerProtocolSubscription.version",
            reason: format!("negative version {version}"),
        });
    }
    let field = "ConsumerProtocolSubscription.topics";
    // `get_array_len` rejects counts above the bytes left, which bounds the loop below.
    let count = get_array_len(&mut buf, field, false)?
        .ok_or(DecodeError::UnexpectedNull { field, version })?;
    let mut topics = Vec::with_capacity(initial_capacity(count));
    for _ in 0..count {
        topics.push(get_string(&mut buf, field, false, version)?);
    }
    Ok(topics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::{BufMut, BytesMut};

    /// Builds a subscription the way the Java consumer writes it.
    pub(crate) fn subscription(version: i16, topics: &[&str], trailer: &[u8]) -> Bytes {
        let mut b = BytesMut::new();
        b.put_i16(version);
        b.put_i32(topics.len() as i32);
        for t in topics {
            b.put_i16(t.len() as i16);
            b.put_slice(t.as_bytes());
        }
        b.put_slice(trailer);
        b.freeze()
    }

    #[test]
    fn reads_topics_of_every_version() {
        for version in [0, 1, 2, 3, 7] {
            // user_data = null (-1), then arbitrary later-version fields.
            let meta = subscription(
                version,
                &["orders", "payments"],
                &[0xff, 0xff, 0xff, 0xff, 1],
            );
            assert_eq!(
                subscribed_topics(&meta).unwrap(),
                vec!["orders", "payments"]
            );
        }
    }

    #[test]
    fn empty_subscription() {
        assert!(subscribed_topics(&subscription(0, &[], &[]))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn junk_is_an_error_not_a_panic() {
        let cases: Vec<Bytes> = vec![
            Bytes::new(),
            Bytes::from_static(&[0]),
            Bytes::from_static(&[0xff, 0xff, 0, 0, 0, 0]),
            // count far above the bytes left
            Bytes::from_static(&[0, 0, 0x7f, 0xff, 0xff, 0xff]),
            // null topic array
            Bytes::from_static(&[0, 0, 0xff, 0xff, 0xff, 0xff]),
            // string longer than the input
            Bytes::from_static(&[0, 1, 0, 0, 0, 1, 0, 9, b'a']),
            // invalid UTF-8
            Bytes::from_static(&[0, 1, 0, 0, 0, 1, 0, 1, 0xff]),
        ];
        for c in cases {
            assert!(subscribed_topics(&c).is_err(), "{c:?}");
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // Deterministic pseudo-random inputs (xorshift), including truncations of a valid one.
        let valid = subscription(1, &["a", "bb", "ccc"], &[0, 0, 0, 0]);
        for cut in 0..valid.len() {
            let _ = subscribed_topics(&valid.slice(..cut));
        }
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..2000 {
            let len = (x % 40) as usize;
            let mut v = Vec::with_capacity(len);
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                v.push(x as u8);
            }
            let _ = subscribed_topics(&Bytes::from(v));
        }
    }
}

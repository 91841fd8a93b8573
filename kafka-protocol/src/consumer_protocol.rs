//! The consumer's embedded protocol (`protocol_type = "consumer"`), carried inside the group
//! APIs.
//!
//! The classic group protocol treats member metadata and assignments as opaque bytes: a
//! consumer puts its [`ConsumerProtocolSubscription`] in JoinGroup, and the group leader hands
//! each member a [`ConsumerProtocolAssignment`] through SyncGroup. Both are an `int16` version
//! followed by that version's fields (see `schema/consumer_protocol.kschema`). Later versions only
//! append fields, so, as the Java client does, a reader that meets a version newer than it knows
//! reads the fields of the newest version it knows and ignores the rest.
//!
//! The bytes come from other clients: every decoder checks prefixes against the bytes left and
//! reports junk as a [`DecodeError`].
//!
//! ```
//! use kafka_protocol::consumer_protocol::{decode_subscription, encode_subscription};
//! use kafka_protocol::messages::ConsumerProtocolSubscription;
//!
//! let subscription = ConsumerProtocolSubscription::default()
//!     .with_topics(vec!["orders".into(), "payments".into()]);
//! let bytes = encode_subscription(&subscription, 3)?;
//! let (version, decoded) = decode_subscription(&bytes)?;
//! assert_eq!((version, decoded), (3, subscription));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::{get_array_len, get_i16, get_string, initial_capacity};
use crate::error::{DecodeError, EncodeError};
use crate::message::Message;
use crate::messages::{
    ConsumerProtocolAssignment, ConsumerProtocolSubscription, StickyAssignorUserData,
};
use crate::TopicName;

/// `protocol_type` of groups formed by Kafka consumers.
pub const PROTOCOL_TYPE: &str = "consumer";

/// Encodes a subscription at `version`, version prefix included.
pub fn encode_subscription(
    subscription: &ConsumerProtocolSubscription,
    version: i16,
) -> Result<Bytes, EncodeError> {
    encode_versioned(subscription, version)
}

/// Decodes a subscription: the version it was written at, and its fields.
pub fn decode_subscription(
    bytes: &Bytes,
) -> Result<(i16, ConsumerProtocolSubscription), DecodeError> {
    decode_versioned(bytes, "ConsumerProtocolSubscription.version")
}

/// Encodes an assignment at `version`, version prefix included.
pub fn encode_assignment(
    assignment: &ConsumerProtocolAssignment,
    version: i16,
) -> Result<Bytes, EncodeError> {
    encode_versioned(assignment, version)
}

/// Decodes an assignment: the version it was written at, and its fields.
pub fn decode_assignment(bytes: &Bytes) -> Result<(i16, ConsumerProtocolAssignment), DecodeError> {
    decode_versioned(bytes, "ConsumerProtocolAssignment.version")
}

/// Reads only the subscribed topic names of a subscription, the part every version starts with.
///
/// This is what a group coordinator needs (OffsetDelete, KIP-496, refuses to delete offsets of a
/// topic the group still subscribes to), and it accepts a subscription whose later fields it
/// could not read.
pub fn subscribed_topics(metadata: &Bytes) -> Result<Vec<TopicName>, DecodeError> {
    let mut buf = metadata.clone();
    let version = read_version(&mut buf, "ConsumerProtocolSubscription.version")?;
    let field = "ConsumerProtocolSubscription.topics";
    // `get_array_len` rejects counts above the bytes left, which bounds the loop below.
    let count = get_array_len(&mut buf, field, false)?
        .ok_or(DecodeError::UnexpectedNull { field, version })?;
    let mut topics = Vec::with_capacity(initial_capacity(count));
    for _ in 0..count {
        topics.push(TopicName(get_string(&mut buf, field, false, version)?));
    }
    Ok(topics)
}

/// Encodes the `sticky` assignor's user data at version 1, which has no version prefix.
pub fn encode_sticky_user_data(data: &StickyAssignorUserData) -> Result<Bytes, EncodeError> {
    let mut buf = BytesMut::with_capacity(data.encoded_len(1));
    data.encode(&mut buf, 1)?;
    Ok(buf.freeze())
}

/// Decodes the `sticky` assignor's user data. With no version on the wire, version 1 is tried
/// first and must account for every byte; otherwise the bytes must be exactly a version 0
/// (which has no generation, left at -1).
pub fn decode_sticky_user_data(bytes: &Bytes) -> Result<StickyAssignorUserData, DecodeError> {
    let whole = |version: i16| -> Result<StickyAssignorUserData, DecodeError> {
        let mut buf = bytes.clone();
        let data = StickyAssignorUserData::decode(&mut buf, version)?;
        if buf.is_empty() {
            Ok(data)
        } else {
            Err(DecodeError::Invalid {
                field: "StickyAssignorUserData",
                reason: format!("{} bytes left over at version {version}", buf.len()),
            })
        }
    };
    whole(1).or_else(|_| whole(0))
}

fn encode_versioned<M: Message>(message: &M, version: i16) -> Result<Bytes, EncodeError> {
    let mut buf = BytesMut::with_capacity(2 + message.encoded_len(version));
    buf.put_i16(version);
    message.encode(&mut buf, version)?;
    Ok(buf.freeze())
}

fn read_version(buf: &mut Bytes, field: &'static str) -> Result<i16, DecodeError> {
    let version = get_i16(buf, field)?;
    if version < 0 {
        return Err(DecodeError::Invalid {
            field,
            reason: format!("negative version {version}"),
        });
    }
    Ok(version)
}

fn decode_versioned<M: Message>(
    bytes: &Bytes,
    field: &'static str,
) -> Result<(i16, M), DecodeError> {
    let mut buf = bytes.clone();
    let version = read_version(&mut buf, field)?;
    // A newer version starts with the fields of the newest one we know.
    let readable = version.min(M::VERSIONS.max);
    let message = M::decode(&mut buf, readable)?;
    Ok((version, message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::sticky_assignor_user_data::TopicPartition as PreviousTopic;

    #[test]
    fn sticky_user_data_round_trips_and_reads_version_0() {
        let data = StickyAssignorUserData::default()
            .with_previous_assignment(vec![PreviousTopic::default()
                .with_topic("t")
                .with_partitions(vec![0, 2])])
            .with_generation(7);
        let bytes = encode_sticky_user_data(&data).unwrap();
        // Laid out by hand: one topic, "t", partitions [0, 2], generation 7.
        let expected: &[u8] = &[
            0, 0, 0, 1, 0, 1, b't', 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 7,
        ];
        assert_eq!(&bytes[..], expected);
        assert_eq!(decode_sticky_user_data(&bytes).unwrap(), data);
        // Version 0 is the same without the generation.
        let v0 = Bytes::copy_from_slice(&expected[..expected.len() - 4]);
        let old = decode_sticky_user_data(&v0).unwrap();
        assert_eq!(old.generation, -1);
        assert_eq!(old.previous_assignment, data.previous_assignment);
        // Junk after either layout, or a count beyond the bytes, is an error.
        let mut longer = expected.to_vec();
        longer.push(9);
        assert!(decode_sticky_user_data(&Bytes::from(longer)).is_err());
        assert!(decode_sticky_user_data(&Bytes::from_static(&[0x7f, 0, 0, 0])).is_err());
    }
    use crate::messages::consumer_protocol_assignment::TopicPartition as AssignedTopic;
    use crate::messages::consumer_protocol_subscription::TopicPartition as OwnedTopic;

    /// A subscription laid out by hand, as the Java consumer writes version 0's prefix.
    fn subscription(version: i16, topics: &[&str], trailer: &[u8]) -> Bytes {
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
    fn topics_of_every_version_even_unknown_ones() {
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
            assert!(decode_subscription(&c).is_err(), "{c:?}");
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // Deterministic pseudo-random inputs (xorshift), including truncations of a valid one.
        let valid = subscription(1, &["a", "bb", "ccc"], &[0, 0, 0, 0]);
        for cut in 0..valid.len() {
            let _ = subscribed_topics(&valid.slice(..cut));
            let _ = decode_subscription(&valid.slice(..cut));
            let _ = decode_assignment(&valid.slice(..cut));
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
            let v = Bytes::from(v);
            let _ = subscribed_topics(&v);
            let _ = decode_subscription(&v);
            let _ = decode_assignment(&v);
        }
    }

    #[test]
    fn full_round_trips_and_newer_versions() {
        let subscription = ConsumerProtocolSubscription::default()
            .with_topics(vec!["t".into()])
            .with_user_data(Some(Bytes::from_static(b"u")))
            .with_owned_partitions(vec![OwnedTopic::default()
                .with_topic("t")
                .with_partitions(vec![0, 2])])
            .with_generation_id(4)
            .with_rack_id(Some("r1".into()));
        let bytes = encode_subscription(&subscription, 3).unwrap();
        assert_eq!(
            decode_subscription(&bytes).unwrap(),
            (3, subscription.clone())
        );
        // Version 0 has neither owned partitions nor generation: strict encoding refuses them
        // unless they are ignorable, and these are, so they are dropped.
        let v0 = encode_subscription(&subscription, 0).unwrap();
        let (_, old) = decode_subscription(&v0).unwrap();
        assert!(old.owned_partitions.is_empty());
        assert_eq!(old.generation_id, -1);

        // A version from the future: our newest fields, then bytes we do not know.
        let mut future = BytesMut::new();
        future.put_i16(9);
        future.put_slice(&bytes[2..]);
        future.put_slice(b"later fields");
        let (version, read) = decode_subscription(&future.freeze()).unwrap();
        assert_eq!((version, read), (9, subscription));

        let assignment = ConsumerProtocolAssignment::default().with_assigned_partitions(vec![
            AssignedTopic::default()
                .with_topic("t")
                .with_partitions(vec![1]),
        ]);
        let bytes = encode_assignment(&assignment, 1).unwrap();
        assert_eq!(decode_assignment(&bytes).unwrap(), (1, assignment));
    }
}

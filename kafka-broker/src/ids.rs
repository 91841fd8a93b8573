//! Random identifiers: topic ids (KIP-516) and the UUIDs in member ids.
//!
//! Randomness comes from the standard library's randomly keyed hasher over a counter and the
//! time, which is unique and unpredictable enough for identifiers without an RNG dependency.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use kafka_protocol::Uuid;

/// 16 random bytes shaped as a version-4 UUID.
fn random_bytes() -> [u8; 16] {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let state = std::collections::hash_map::RandomState::new();
    let mut bytes = [0u8; 16];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        let mut h = state.build_hasher();
        h.write_u64(count);
        h.write_u128(nanos);
        h.write_usize(i);
        chunk.copy_from_slice(&h.finish().to_be_bytes());
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    bytes
}

/// A fresh topic id. Like Kafka's `Uuid.randomUuid`, it is never zero and its base64 form never
/// starts with `-` (the top bit is cleared).
pub(crate) fn random_uuid() -> Uuid {
    let mut bytes = random_bytes();
    bytes[0] &= 0x7f;
    if bytes == [0; 16] {
        bytes[15] = 1;
    }
    Uuid(bytes)
}

/// A random UUID in its dashed hexadecimal text form, as in Kafka's member ids.
pub(crate) fn random_uuid_text() -> String {
    let hex: String = random_bytes().iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_differ_and_have_their_shape() {
        let (a, b) = (random_uuid(), random_uuid());
        assert_ne!(a, b);
        assert!(!a.is_zero());
        assert_eq!(a.0[0] & 0x80, 0);
        let text = random_uuid_text();
        assert_eq!(text.len(), 36);
        assert_eq!(text.matches('-').count(), 4);
        assert_ne!(text, random_uuid_text());
    }
}

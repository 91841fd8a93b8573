//! Kafka's 128-bit UUID (topic ids, KIP-516; also directory ids and member ids in KIP-848).

use std::fmt;
use std::str::FromStr;

/// A 128-bit UUID as Kafka puts it on the wire, most significant bits first.
///
/// It prints as Kafka prints it: URL-safe base64 without padding, 22 characters (Java's
/// `Uuid.toString`), so ids in our logs and errors can be pasted into `kafka-topics.sh` output
/// and back. [`FromStr`] reads that form.
///
/// ```
/// use kafka_protocol::Uuid;
///
/// let id: Uuid = "AAAAAAAAAAAAAAAAAAAAAQ".parse().unwrap();
/// assert_eq!(id.0[15], 1);
/// assert_eq!(id.to_string(), "AAAAAAAAAAAAAAAAAAAAAQ");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// The all-zero UUID, which Kafka uses to mean "no topic id".
    pub const ZERO: Uuid = Uuid([0; 16]);

    /// Whether this is the all-zero UUID.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 16]
    }
}

/// RFC 4648 section 5: the URL- and file-name-safe alphabet.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The 22 characters of a base64 string without padding carry 132 bits; the last character's
/// low 4 bits must be zero for the text to be the encoding of exactly 16 bytes.
const ENCODED_LEN: usize = 22;

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = [0u8; ENCODED_LEN];
        let mut acc: u32 = 0;
        let mut bits = 0;
        let mut n = 0;
        for &b in &self.0 {
            acc = (acc << 8) | u32::from(b);
            bits += 8;
            while bits >= 6 {
                bits -= 6;
                out[n] = ALPHABET[((acc >> bits) & 0x3f) as usize];
                n += 1;
            }
        }
        // 128 = 21 * 6 + 2: two bits remain, padded with zeros on the right.
        out[n] = ALPHABET[((acc << (6 - bits)) & 0x3f) as usize];
        // Every byte written is from ALPHABET, so this is ASCII.
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

/// Why text is not a [`Uuid`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseUuidError {
    /// Not 22 characters long.
    #[error("a Kafka UUID is 22 base64 characters, not {0}")]
    Length(usize),
    /// A character outside the URL-safe base64 alphabet.
    #[error("{0:?} is not a URL-safe base64 character")]
    Character(char),
    /// The last character carries bits beyond the 128 a UUID has.
    #[error("the last character encodes bits beyond 128")]
    TrailingBits,
}

impl FromStr for Uuid {
    type Err = ParseUuidError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != ENCODED_LEN {
            return Err(ParseUuidError::Length(s.chars().count()));
        }
        let mut out = [0u8; 16];
        let mut acc: u32 = 0;
        let mut bits = 0;
        let mut n = 0;
        for c in s.chars() {
            let v = ALPHABET
                .iter()
                .position(|&a| char::from(a) == c)
                .ok_or(ParseUuidError::Character(c))? as u32;
            acc = (acc << 6) | v;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                if n == out.len() {
                    return Err(ParseUuidError::TrailingBits);
                }
                out[n] = (acc >> bits) as u8;
                n += 1;
            }
        }
        if acc & ((1 << bits) - 1) != 0 {
            return Err(ParseUuidError::TrailingBits);
        }
        Ok(Uuid(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_as_kafka_does() {
        // Java: new Uuid(0x0123456789abcdefL, 0xfedcba9876543210L).toString()
        let id = Uuid([
            0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54,
            0x32, 0x10,
        ]);
        assert_eq!(id.to_string(), "ASNFZ4mrze_-3LqYdlQyEA");
        assert_eq!(Uuid::ZERO.to_string(), "AAAAAAAAAAAAAAAAAAAAAA");
        assert_eq!(Uuid([0xff; 16]).to_string(), "_____________________w");
    }

    #[test]
    fn parses_what_it_prints() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200 {
            let mut b = [0u8; 16];
            for v in &mut b {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *v = x as u8;
            }
            let id = Uuid(b);
            assert_eq!(id.to_string().parse::<Uuid>(), Ok(id));
        }
    }

    #[test]
    fn refuses_what_is_not_a_uuid() {
        assert_eq!("abc".parse::<Uuid>(), Err(ParseUuidError::Length(3)));
        assert_eq!(
            "AAAAAAAAAAAAAAAAAAAAA+".parse::<Uuid>(),
            Err(ParseUuidError::Character('+'))
        );
        // 'B' is 000001: its low bits are beyond the 128th.
        assert_eq!(
            "AAAAAAAAAAAAAAAAAAAAAB".parse::<Uuid>(),
            Err(ParseUuidError::TrailingBits)
        );
        // A multi-byte character of the right byte length is still refused.
        assert!("AAAAAAAAAAAAAAAAAAAAé".parse::<Uuid>().is_err());
    }
}

//! [`StrBytes`]: a string that shares the buffer it was decoded from.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use bytes::Bytes;
use bytestring::ByteString;

/// An immutable UTF-8 string stored in [`Bytes`].
///
/// Every string field of a decoded message is one: decoding checks the bytes are UTF-8 once and
/// then points into the input buffer instead of copying, so a consumer's fetch path (topic names,
/// and the record batches beside them, which are `Bytes` too) allocates nothing per string.
/// Cloning is a reference-count increment. Build one from a `&'static str`, a `String` or a
/// `&str` (the last copies); read it through `Deref<Target = str>`.
///
/// ```
/// use kafka_protocol::StrBytes;
///
/// let name = StrBytes::from_static("orders");
/// assert_eq!(name, "orders");
/// assert_eq!(name.len(), 6);
/// let owned: StrBytes = String::from("audit").into();
/// assert!(owned.starts_with("au"));
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct StrBytes(ByteString);

impl StrBytes {
    /// The empty string.
    pub const fn new() -> StrBytes {
        StrBytes(ByteString::new())
    }

    /// A string pointing at static text; no allocation.
    pub const fn from_static(s: &'static str) -> StrBytes {
        StrBytes(ByteString::from_static(s))
    }

    /// Wraps `bytes` without copying if they are UTF-8.
    pub fn from_utf8(bytes: Bytes) -> Result<StrBytes, std::str::Utf8Error> {
        ByteString::try_from(bytes).map(StrBytes)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The bytes the text is stored in (shared, not copied).
    pub fn as_bytes(&self) -> &Bytes {
        self.0.as_bytes()
    }

    /// Gives up the string for its storage.
    pub fn into_bytes(self) -> Bytes {
        self.0.into_bytes()
    }
}

impl Deref for StrBytes {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for StrBytes {
    fn as_ref(&self) -> &str {
        self
    }
}

impl AsRef<[u8]> for StrBytes {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// `HashMap<StrBytes, _>` can be looked up with a `&str`.
impl Borrow<str> for StrBytes {
    fn borrow(&self) -> &str {
        self
    }
}

/// Hashes as the `str` it holds, as [`Borrow<str>`] requires.
impl Hash for StrBytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl From<String> for StrBytes {
    fn from(s: String) -> StrBytes {
        StrBytes(ByteString::from(s))
    }
}

impl From<&str> for StrBytes {
    fn from(s: &str) -> StrBytes {
        StrBytes(ByteString::from(s))
    }
}

impl From<&String> for StrBytes {
    fn from(s: &String) -> StrBytes {
        StrBytes(ByteString::from(s.as_str()))
    }
}

impl From<StrBytes> for String {
    fn from(s: StrBytes) -> String {
        s.as_str().to_owned()
    }
}

impl PartialEq<str> for StrBytes {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for StrBytes {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for StrBytes {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<StrBytes> for str {
    fn eq(&self, other: &StrBytes) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<StrBytes> for &str {
    fn eq(&self, other: &StrBytes) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<StrBytes> for String {
    fn eq(&self, other: &StrBytes) -> bool {
        self == other.as_str()
    }
}

impl fmt::Display for StrBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for StrBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_text_shares_its_buffer() {
        let frame = Bytes::from_static(b"..orders..");
        let s = StrBytes::from_utf8(frame.slice(2..8)).unwrap();
        assert_eq!(s, "orders");
        // Same memory as the frame: nothing was copied.
        assert_eq!(s.as_bytes().as_ptr(), frame[2..].as_ptr());
    }

    #[test]
    fn refuses_bytes_that_are_not_utf8() {
        assert!(StrBytes::from_utf8(Bytes::from_static(&[b'a', 0xff])).is_err());
        assert_eq!(
            StrBytes::from_utf8(Bytes::from_static("hé".as_bytes())).unwrap(),
            "hé"
        );
    }

    #[test]
    fn looks_up_and_compares_as_str() {
        let mut m = std::collections::HashMap::new();
        m.insert(StrBytes::from(String::from("a")), 1);
        assert_eq!(m.get("a"), Some(&1));
        assert!("a" == StrBytes::from_static("a"));
        assert_eq!(format!("{:?}", StrBytes::from_static("x")), "\"x\"");
    }
}

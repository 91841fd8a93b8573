//! The traits every generated message implements.

use bytes::{Bytes, BytesMut};

use crate::error::{DecodeError, EncodeError};
use crate::messages::ApiKey;

/// An inclusive range of versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VersionRange {
    /// Lowest version.
    pub min: i16,
    /// Highest version.
    pub max: i16,
}

impl VersionRange {
    /// Whether `version` lies in the range.
    pub const fn contains(self, version: i16) -> bool {
        self.min <= version && version <= self.max
    }

    /// The highest version both ranges contain, if they overlap: the version a client picks
    /// after ApiVersions negotiation.
    pub fn highest_common(self, other: VersionRange) -> Option<i16> {
        let lo = self.min.max(other.min);
        let hi = self.max.min(other.max);
        (lo <= hi).then_some(hi)
    }
}

/// How [`Message::encode_with`] treats a field set to a non-default value at a version that
/// lacks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum EncodeMode {
    /// Refuse it (`EncodeError::FieldNotSupported`) unless the schema marks the field ignorable:
    /// dropping it silently could change what the message means. What clients use.
    #[default]
    Strict,
    /// Leave it out, as if every field were ignorable. A broker answering many versions fills
    /// one response and lets each version carry the fields it has; the schema, not the
    /// handler, decides what exists at which version.
    DropAbsent,
}

/// A message (request, response or header) that can be written and read at any of its versions.
///
/// ```
/// use bytes::BytesMut;
/// use kafka_protocol::messages::MetadataRequest;
/// use kafka_protocol::Message;
///
/// let req = MetadataRequest::default().with_allow_auto_topic_creation(false);
/// let mut buf = BytesMut::new();
/// req.encode(&mut buf, 12).unwrap();
/// assert_eq!(buf.len(), req.encoded_len(12));
/// let back = MetadataRequest::decode(&mut buf.freeze(), 12).unwrap();
/// assert_eq!(back, req);
/// ```
pub trait Message: Sized + Default + Clone + std::fmt::Debug + PartialEq {
    /// The schema name, e.g. `ProduceRequest`.
    const NAME: &'static str;
    /// Every version this crate can encode and decode.
    const VERSIONS: VersionRange;
    /// The first flexible version (KIP-482), if any.
    const FLEXIBLE_MIN: Option<i16>;

    /// Appends the message, encoded at `version`, to `buf`.
    ///
    /// Fails if the version is out of range, if a field the version lacks holds a non-default
    /// value and is not ignorable, or if a null sits where the version allows none.
    fn encode(&self, buf: &mut BytesMut, version: i16) -> Result<(), EncodeError> {
        self.encode_with(buf, version, EncodeMode::Strict)
    }

    /// Appends the message at `version`, treating fields the version lacks as `mode` says.
    fn encode_with(
        &self,
        buf: &mut BytesMut,
        version: i16,
        mode: EncodeMode,
    ) -> Result<(), EncodeError>;

    /// Reads a message encoded at `version` from the front of `buf`, advancing it.
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError>;

    /// The number of bytes [`Message::encode`] writes at `version`.
    fn encoded_len(&self, version: i16) -> usize;
}

/// A request, paired with its response type and API key.
pub trait Request: Message {
    /// The API key.
    const API_KEY: ApiKey;
    /// The response type.
    type Response: Response;
}

/// A response, paired with its request type and API key.
pub trait Response: Message {
    /// The API key.
    const API_KEY: ApiKey;
    /// The request type.
    type Request: Message;
}

//! Typed errors for encoding and decoding.
//!
//! Every decode error names the field (as `Message.field` or `Message.field.subfield`) that was being
//! read when the input ran out or turned out to be invalid, so a malformed frame can be diagnosed
//! from the error alone.

/// Decoding failed: the input is truncated, malformed, or not valid for the requested version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended before the field was complete.
    #[error("{field}: needed {needed} bytes but only {remaining} remain")]
    UnexpectedEof {
        /// The field being read.
        field: &'static str,
        /// Bytes the field needed.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A length or count prefix is negative (and not the null marker), or larger than what is left.
    #[error("{field}: invalid length {length} with {remaining} bytes remaining")]
    InvalidLength {
        /// The field being read.
        field: &'static str,
        /// The length as read from the wire.
        length: i64,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A null value where the field is not nullable at this version.
    #[error("{field}: null is not allowed at version {version}")]
    UnexpectedNull {
        /// The field being read.
        field: &'static str,
        /// The message version.
        version: i16,
    },
    /// A string that is not UTF-8.
    #[error("{field}: string is not valid UTF-8")]
    InvalidUtf8 {
        /// The field being read.
        field: &'static str,
    },
    /// A varint longer than its type allows.
    #[error("{field}: varint is too long")]
    VarintOverflow {
        /// The field being read.
        field: &'static str,
    },
    /// The message does not exist at this version.
    #[error("{message} does not support version {version}")]
    UnsupportedVersion {
        /// The message type.
        message: &'static str,
        /// The requested version.
        version: i16,
    },
    /// An API key that this crate does not know.
    #[error("unknown api key {0}")]
    UnknownApiKey(i16),
    /// Bytes were left after a complete message was decoded.
    #[error("{message}: {remaining} trailing bytes after the message")]
    TrailingBytes {
        /// The message type.
        message: &'static str,
        /// Bytes left over.
        remaining: usize,
    },
    /// A stored checksum does not match the one computed over the bytes it covers (a record
    /// batch's CRC32C, KIP-98), so the data was corrupted in transit or on disk.
    #[error("{field}: stored checksum {stored:#010x} but computed {computed:#010x}")]
    CrcMismatch {
        /// The structure whose checksum failed.
        field: &'static str,
        /// The checksum as read from the wire.
        stored: u32,
        /// The checksum computed over the covered bytes.
        computed: u32,
    },
    /// Data would grow past a configured cap (for example a compressed record batch that inflates
    /// beyond the decompression limit), so decoding stops instead of allocating without bound.
    #[error("{field}: exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The field or structure being read.
        field: &'static str,
        /// The cap in bytes.
        limit: usize,
    },
    /// A value that is structurally invalid (bad magic, unknown codec, ...).
    #[error("{field}: {reason}")]
    Invalid {
        /// The field or structure being read.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// Encoding failed: the message cannot be represented at the requested version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The message does not exist at this version.
    #[error("{message} does not support version {version}")]
    UnsupportedVersion {
        /// The message type.
        message: &'static str,
        /// The requested version.
        version: i16,
    },
    /// A field that the version lacks was set to a non-default value, and the field is not
    /// ignorable, so silently dropping it would change the meaning of the message.
    #[error("{field} is set but does not exist at version {version}")]
    FieldNotSupported {
        /// The field.
        field: &'static str,
        /// The message version.
        version: i16,
    },
    /// A field is null but is not nullable at this version.
    #[error("{field} is null but not nullable at version {version}")]
    NullNotAllowed {
        /// The field.
        field: &'static str,
        /// The message version.
        version: i16,
    },
    /// A string, byte array or array is longer than its length prefix can express.
    #[error("{field} is too long: {length}")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its length.
        length: usize,
    },
    /// Something else could not be encoded (for example a compression failure).
    #[error("{field}: {reason}")]
    Invalid {
        /// The field or structure being written.
        field: &'static str,
        /// What went wrong.
        reason: String,
    },
}

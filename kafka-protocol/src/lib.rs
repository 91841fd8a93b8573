//! Sans-io Kafka wire protocol.
//!
//! * [`messages`]: request and response types generated from `schema/*.kschema`, one struct per
//!   message covering all its versions, with `encode`, `decode` and `encoded_len`.
//! * [`records`]: record batches (magic v2), CRC32C and compression.
//! * [`ErrorCode`]: every Kafka error code with its retriable classification.
//! * [`consumer_protocol`]: the subscription and assignment bytes consumers exchange through a
//!   group.
//! * [`Uuid`]: topic ids (KIP-516), printed as Kafka prints them.
//! * [`StrBytes`]: decoded strings, sharing the input buffer.
//! * [`entity`]: [`TopicName`], [`GroupId`], [`TransactionalId`], [`BrokerId`], [`ProducerId`].
//! * [`acl`]: ACL resource types, patterns, operations and the filters that select bindings.
//! * [`frame`]: size prefixes and request/response headers, the one place that frames messages.
//! * `inspect` (cargo feature `inspect`): a field-by-field view of any message.
//!
//! Nothing here performs I/O, and no input makes decoding panic.
#![deny(missing_docs)]

pub mod acl;
mod codec;
pub mod consumer_protocol;
pub mod entity;
pub mod error;
pub mod error_code;
pub mod frame;
#[cfg(feature = "inspect")]
pub mod inspect;
pub mod message;
pub mod messages;
pub(crate) mod primitive;
pub mod records;
pub mod sasl;
mod str_bytes;
#[cfg(test)]
mod test_rng;
mod uuid;

pub use codec::RawTaggedField;
pub use entity::{BrokerId, GroupId, ProducerId, TopicName, TransactionalId};
pub use error::{DecodeError, EncodeError};
pub use error_code::ErrorCode;
pub use message::{EncodeMode, Message, Request, Response, VersionRange};
pub use messages::{ApiKey, RequestBody, ResponseBody};
pub use str_bytes::StrBytes;
pub use uuid::{ParseUuidError, Uuid};

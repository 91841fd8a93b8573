//! Control records: the records of batches with the control attribute (bit 5) set.
//!
//! A control record's key is a version `i16` (0) followed by a type `i16`. Transaction markers
//! (KIP-98) are types ABORT (0) and COMMIT (1); their value is an `EndTransactionMarker`: a version
//! `i16` (0) and the transaction coordinator's epoch as an `i32`. Readers accept newer key and
//! value versions and ignore bytes they do not know, so later versions can add fields.

use bytes::Bytes;

use super::builder::{RecordBatchBuilder, NO_SEQUENCE};
use super::compression::Compression;
use super::record::Record;
use crate::error::{DecodeError, EncodeError};
use crate::primitive::SliceReader;

/// The control record key version this crate writes.
const CONTROL_KEY_VERSION: i16 = 0;
/// The end transaction marker value version this crate writes.
const END_TXN_MARKER_VERSION: i16 = 0;

/// The type of a control record, from its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ControlRecordType {
    /// Transaction marker: the transaction was aborted.
    Abort,
    /// Transaction marker: the transaction was committed.
    Commit,
    /// KRaft: a new leader was elected (KIP-595).
    LeaderChange,
    /// KRaft: first record of a metadata snapshot (KIP-630).
    SnapshotHeader,
    /// KRaft: last record of a metadata snapshot (KIP-630).
    SnapshotFooter,
    /// KRaft: the kraft.version feature level (KIP-853).
    KRaftVersion,
    /// KRaft: the voter set (KIP-853).
    KRaftVoters,
    /// A type this crate does not know; consumers skip such records.
    Unknown(i16),
}

impl ControlRecordType {
    /// The type id stored in the key.
    pub fn id(self) -> i16 {
        match self {
            ControlRecordType::Abort => 0,
            ControlRecordType::Commit => 1,
            ControlRecordType::LeaderChange => 2,
            ControlRecordType::SnapshotHeader => 3,
            ControlRecordType::SnapshotFooter => 4,
            ControlRecordType::KRaftVersion => 5,
            ControlRecordType::KRaftVoters => 6,
            ControlRecordType::Unknown(id) => id,
        }
    }

    /// The type with id `id`.
    pub fn from_id(id: i16) -> Self {
        match id {
            0 => ControlRecordType::Abort,
            1 => ControlRecordType::Commit,
            2 => ControlRecordType::LeaderChange,
            3 => ControlRecordType::SnapshotHeader,
            4 => ControlRecordType::SnapshotFooter,
            5 => ControlRecordType::KRaftVersion,
            6 => ControlRecordType::KRaftVoters,
            other => ControlRecordType::Unknown(other),
        }
    }

    /// The control record key for this type.
    pub fn encode_key(self) -> [u8; 4] {
        let mut key = [0u8; 4];
        let (version, kind) = key.split_at_mut(2);
        version.copy_from_slice(&CONTROL_KEY_VERSION.to_be_bytes());
        kind.copy_from_slice(&self.id().to_be_bytes());
        key
    }

    /// Parses a control record key. A negative version is invalid; a newer one is read as far
    /// as this crate understands it.
    pub fn parse_key(key: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = SliceReader::new(key);
        let version = reader.i16("ControlRecord.key.version")?;
        if version < 0 {
            return Err(DecodeError::Invalid {
                field: "ControlRecord.key.version",
                reason: format!("negative version {version}"),
            });
        }
        Ok(Self::from_id(reader.i16("ControlRecord.key.type")?))
    }

    /// The type of a decoded control record; its key must be present.
    pub fn of_record(record: &Record) -> Result<Self, DecodeError> {
        match &record.key {
            Some(key) => Self::parse_key(key),
            None => Err(DecodeError::Invalid {
                field: "ControlRecord.key",
                reason: "control record has a null key".to_string(),
            }),
        }
    }
}

/// A transaction marker: the outcome of a transaction, written by the coordinator into every
/// partition the transaction touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EndTransactionMarker {
    /// Whether the transaction committed (`true`) or aborted.
    pub committed: bool,
    /// Epoch of the transaction coordinator that wrote the marker (fences zombie coordinators).
    pub coordinator_epoch: i32,
}

impl EndTransactionMarker {
    /// The control type of this marker.
    pub fn control_type(&self) -> ControlRecordType {
        if self.committed {
            ControlRecordType::Commit
        } else {
            ControlRecordType::Abort
        }
    }

    /// The marker's record value: version 0 and the coordinator epoch.
    pub fn encode_value(&self) -> [u8; 6] {
        let mut value = [0u8; 6];
        let (version, epoch) = value.split_at_mut(2);
        version.copy_from_slice(&END_TXN_MARKER_VERSION.to_be_bytes());
        epoch.copy_from_slice(&self.coordinator_epoch.to_be_bytes());
        value
    }

    /// Reads the marker out of a decoded control record. Fails when the record is not a COMMIT or
    /// ABORT marker or its value is malformed.
    pub fn from_record(record: &Record) -> Result<Self, DecodeError> {
        let committed = match ControlRecordType::of_record(record)? {
            ControlRecordType::Commit => true,
            ControlRecordType::Abort => false,
            other => {
                return Err(DecodeError::Invalid {
                    field: "ControlRecord.key.type",
                    reason: format!("{other:?} is not a transaction marker"),
                })
            }
        };
        let value = record.value.as_ref().ok_or_else(|| DecodeError::Invalid {
            field: "EndTransactionMarker",
            reason: "transaction marker has a null value".to_string(),
        })?;
        let mut reader = SliceReader::new(value);
        let version = reader.i16("EndTransactionMarker.version")?;
        if version < 0 {
            return Err(DecodeError::Invalid {
                field: "EndTransactionMarker.version",
                reason: format!("negative version {version}"),
            });
        }
        let coordinator_epoch = reader.i32("EndTransactionMarker.coordinatorEpoch")?;
        Ok(EndTransactionMarker {
            committed,
            coordinator_epoch,
        })
    }

    /// Encodes the control batch that carries this marker: transactional and control bits set,
    /// one uncompressed record, no base sequence (markers are not part of the producer's
    /// sequence), at baseOffset 0 for the leader to assign.
    pub fn encode_batch(
        &self,
        producer_id: i64,
        producer_epoch: i16,
        timestamp: i64,
    ) -> Result<Bytes, EncodeError> {
        let mut builder = RecordBatchBuilder::new(Compression::None)
            .with_producer(producer_id, producer_epoch, NO_SEQUENCE)
            .with_transactional(true)
            .with_control(true);
        builder.append(
            timestamp,
            Some(&self.control_type().encode_key()),
            Some(&self.encode_value()),
            &[],
        )?;
        builder.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_bytes_match_the_wire_layout() {
        assert_eq!(ControlRecordType::Commit.encode_key(), [0, 0, 0, 1]);
        assert_eq!(ControlRecordType::Abort.encode_key(), [0, 0, 0, 0]);
        let marker = EndTransactionMarker {
            committed: true,
            coordinator_epoch: 0x0102_0304,
        };
        assert_eq!(marker.encode_value(), [0, 0, 1, 2, 3, 4]);
    }

    #[test]
    fn keys_parse_leniently_but_not_blindly() {
        for id in [0, 1, 2, 3, 4, 5, 6, 99, -1] {
            let kind = ControlRecordType::from_id(id);
            assert_eq!(kind.id(), id);
            assert_eq!(ControlRecordType::parse_key(&kind.encode_key()), Ok(kind));
        }
        // A newer key version with extra bytes still yields its type.
        assert_eq!(
            ControlRecordType::parse_key(&[0, 1, 0, 1, 0xaa]),
            Ok(ControlRecordType::Commit)
        );
        assert!(ControlRecordType::parse_key(&[0xff, 0xff, 0, 1]).is_err());
        assert!(ControlRecordType::parse_key(&[0, 0, 0]).is_err());
    }
}

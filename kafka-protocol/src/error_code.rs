//! Kafka error codes.
//!
//! Every response carries one or more `INT16` error codes; the protocol guide's "Error Codes" table
//! assigns each a name, a number and a *retriable* flag. The flag in that table is generated from
//! the Java client: an error is retriable when its exception type derives from
//! `RetriableException`, i.e. sending the same request again (possibly after refreshing metadata or
//! finding the coordinator) may succeed. We mirror that column so callers can decide on retries
//! without a second table.
//!
//! The list below covers every code up to Apache Kafka 4.4 (`-1` to `136`). Codes a newer broker
//! may send are kept as [`ErrorCode::Unknown`] so they round-trip unchanged; like the Java client,
//! which maps unrecognised codes to the non-retriable `UnknownServerException`, we treat them as
//! not retriable.
//!
//! To add a code, append one line to the `error_codes!` invocation at the bottom of this file.

use std::fmt;

/// Generates [`ErrorCode`] and its lookup methods from one table, so that the enum, the
/// code ↔ variant mapping, the names, the retriable flags and the descriptions cannot drift apart.
/// `NONE` (0): what a response field holds when nothing went wrong.
impl Default for ErrorCode {
    fn default() -> Self {
        ErrorCode::None
    }
}

macro_rules! error_codes {
    ($( $code:literal => $variant:ident, $name:literal, $retriable:literal, $desc:literal; )*) => {
        /// A Kafka protocol error code.
        ///
        /// Convert from the wire with [`ErrorCode::from_code`] (total: unrecognised values become
        /// [`ErrorCode::Unknown`]) and back with [`ErrorCode::code`]. [`ErrorCode::None`] (`0`)
        /// means success; see [`ErrorCode::into_result`].
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $(
                #[doc = concat!("`", $name, "` (", stringify!($code), "): ", $desc)]
                $variant,
            )*
            /// A code this crate does not know, e.g. one added in a Kafka release newer than 4.4.
            ///
            /// [`ErrorCode::from_code`] only produces this for values that have no named variant,
            /// so `Unknown(6)` built by hand is not equal to `from_code(6)`.
            Unknown(i16),
        }

        impl ErrorCode {
            /// Every named error code, in table order (ascending by code).
            pub const KNOWN: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// Maps a wire value to its error code. Never fails: values without a named variant
            /// become [`ErrorCode::Unknown`] carrying the original value.
            pub const fn from_code(code: i16) -> Self {
                match code {
                    $($code => ErrorCode::$variant,)*
                    other => ErrorCode::Unknown(other),
                }
            }

            /// The value sent on the wire.
            pub const fn code(self) -> i16 {
                match self {
                    $(ErrorCode::$variant => $code,)*
                    ErrorCode::Unknown(code) => code,
                }
            }

            /// Whether retrying the request may succeed, per the Retriable column of the protocol
            /// guide. Unknown codes are not retriable (as in the Java client).
            pub const fn is_retriable(self) -> bool {
                match self {
                    $(ErrorCode::$variant => $retriable,)*
                    ErrorCode::Unknown(_) => false,
                }
            }

            /// Kafka's upper-case name for the code, e.g. `"NOT_LEADER_OR_FOLLOWER"`.
            ///
            /// Unknown codes are named `"UNKNOWN_ERROR_CODE"` (not a Kafka name; the numeric value
            /// is available from [`ErrorCode::code`]).
            pub const fn name(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $name,)*
                    ErrorCode::Unknown(_) => "UNKNOWN_ERROR_CODE",
                }
            }

            /// A short human-readable explanation of the code.
            pub const fn description(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $desc,)*
                    ErrorCode::Unknown(_) => {
                        "The broker returned an error code this client does not recognise."
                    }
                }
            }
        }
    };
}

impl ErrorCode {
    /// `true` for [`ErrorCode::None`], the code meaning success.
    pub const fn is_ok(self) -> bool {
        matches!(self, ErrorCode::None)
    }

    /// `true` for every code except [`ErrorCode::None`].
    pub const fn is_error(self) -> bool {
        !self.is_ok()
    }

    /// `Ok(())` for [`ErrorCode::None`], otherwise `Err(self)`, so response handling can use `?`.
    pub const fn into_result(self) -> Result<(), ErrorCode> {
        if self.is_ok() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

impl From<i16> for ErrorCode {
    fn from(code: i16) -> Self {
        ErrorCode::from_code(code)
    }
}

impl From<ErrorCode> for i16 {
    fn from(error: ErrorCode) -> Self {
        error.code()
    }
}

impl fmt::Display for ErrorCode {
    /// Formats as `NAME (code): description`, e.g.
    /// `REQUEST_TIMED_OUT (7): The broker did not complete the request within its timeout.`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.name(),
            self.code(),
            self.description()
        )
    }
}

impl std::error::Error for ErrorCode {}

// code => Variant, "KAFKA_NAME", retriable, "description";
// Names and retriable flags follow the protocol guide's "Error Codes" table (Kafka 4.4; codes 134-136 from its `Errors` table).
error_codes! {
    -1 => UnknownServerError, "UNKNOWN_SERVER_ERROR", false,
        "The broker hit an unexpected error while handling the request.";
    0 => None, "NONE", false,
        "No error: the request succeeded.";
    1 => OffsetOutOfRange, "OFFSET_OUT_OF_RANGE", false,
        "The requested offset lies outside the range the broker holds for the partition.";
    2 => CorruptMessage, "CORRUPT_MESSAGE", true,
        "A record batch failed its CRC check, exceeded the size limit or was otherwise malformed.";
    3 => UnknownTopicOrPartition, "UNKNOWN_TOPIC_OR_PARTITION", true,
        "This broker does not host the topic-partition (it may not exist, or metadata is stale).";
    4 => InvalidFetchSize, "INVALID_FETCH_SIZE", false,
        "The fetch size in the request is not valid.";
    5 => LeaderNotAvailable, "LEADER_NOT_AVAILABLE", true,
        "The partition has no leader right now, typically during a leader election.";
    6 => NotLeaderOrFollower, "NOT_LEADER_OR_FOLLOWER", true,
        "This broker is not the leader (or, for replica reads, not a replica) of the partition.";
    7 => RequestTimedOut, "REQUEST_TIMED_OUT", true,
        "The broker did not complete the request within its timeout.";
    8 => BrokerNotAvailable, "BROKER_NOT_AVAILABLE", false,
        "The broker is not available.";
    9 => ReplicaNotAvailable, "REPLICA_NOT_AVAILABLE", true,
        "The replica for the requested partition is not available on this broker.";
    10 => MessageTooLarge, "MESSAGE_TOO_LARGE", false,
        "A record exceeds the largest message size the broker accepts.";
    11 => StaleControllerEpoch, "STALE_CONTROLLER_EPOCH", false,
        "The request carried an outdated controller epoch; the controller has moved.";
    12 => OffsetMetadataTooLarge, "OFFSET_METADATA_TOO_LARGE", false,
        "The metadata string attached to an offset commit is too long.";
    13 => NetworkException, "NETWORK_EXCEPTION", true,
        "The connection was lost before a response arrived.";
    14 => CoordinatorLoadInProgress, "COORDINATOR_LOAD_IN_PROGRESS", true,
        "The coordinator is still loading its state and cannot serve requests yet.";
    15 => CoordinatorNotAvailable, "COORDINATOR_NOT_AVAILABLE", true,
        "The group or transaction coordinator is not available.";
    16 => NotCoordinator, "NOT_COORDINATOR", true,
        "This broker is not the coordinator for the group or transactional id.";
    17 => InvalidTopicException, "INVALID_TOPIC_EXCEPTION", false,
        "The topic name is invalid, or the operation is not allowed on this topic.";
    18 => RecordListTooLarge, "RECORD_LIST_TOO_LARGE", false,
        "A record batch is larger than the segment size configured on the broker.";
    19 => NotEnoughReplicas, "NOT_ENOUGH_REPLICAS", true,
        "Rejected because fewer replicas are in sync than the topic requires.";
    20 => NotEnoughReplicasAfterAppend, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", true,
        "Appended to the leader, but fewer in-sync replicas than required acknowledged it.";
    21 => InvalidRequiredAcks, "INVALID_REQUIRED_ACKS", false,
        "The acks value of the produce request is not valid.";
    22 => IllegalGeneration, "ILLEGAL_GENERATION", false,
        "The group generation id in the request is not the current one.";
    23 => InconsistentGroupProtocol, "INCONSISTENT_GROUP_PROTOCOL", false,
        "The member's protocols are empty or do not match those of the other group members.";
    24 => InvalidGroupId, "INVALID_GROUP_ID", false,
        "The group id is empty or otherwise invalid.";
    25 => UnknownMemberId, "UNKNOWN_MEMBER_ID", false,
        "The coordinator does not know this member id.";
    26 => InvalidSessionTimeout, "INVALID_SESSION_TIMEOUT", false,
        "The session timeout is outside the range the broker allows.";
    27 => RebalanceInProgress, "REBALANCE_IN_PROGRESS", false,
        "The group is rebalancing, so the member has to rejoin.";
    28 => InvalidCommitOffsetSize, "INVALID_COMMIT_OFFSET_SIZE", false,
        "The size of the offset commit data is not valid.";
    29 => TopicAuthorizationFailed, "TOPIC_AUTHORIZATION_FAILED", false,
        "The principal is not authorized for the topic.";
    30 => GroupAuthorizationFailed, "GROUP_AUTHORIZATION_FAILED", false,
        "The principal is not authorized for the group.";
    31 => ClusterAuthorizationFailed, "CLUSTER_AUTHORIZATION_FAILED", false,
        "The principal is not authorized for the cluster operation.";
    32 => InvalidTimestamp, "INVALID_TIMESTAMP", false,
        "A record timestamp is outside the range the broker accepts.";
    33 => UnsupportedSaslMechanism, "UNSUPPORTED_SASL_MECHANISM", false,
        "The broker does not offer the requested SASL mechanism.";
    34 => IllegalSaslState, "ILLEGAL_SASL_STATE", false,
        "The request is not valid at this point of the SASL exchange.";
    35 => UnsupportedVersion, "UNSUPPORTED_VERSION", false,
        "The broker does not support this version of the API.";
    36 => TopicAlreadyExists, "TOPIC_ALREADY_EXISTS", false,
        "A topic with this name already exists.";
    37 => InvalidPartitions, "INVALID_PARTITIONS", false,
        "The requested number of partitions is not valid.";
    38 => InvalidReplicationFactor, "INVALID_REPLICATION_FACTOR", false,
        "The requested replication factor is not valid for this cluster.";
    39 => InvalidReplicaAssignment, "INVALID_REPLICA_ASSIGNMENT", false,
        "The requested replica assignment is not valid.";
    40 => InvalidConfig, "INVALID_CONFIG", false,
        "The supplied configuration is not valid.";
    41 => NotController, "NOT_CONTROLLER", true,
        "This node is not the active controller.";
    42 => InvalidRequest, "INVALID_REQUEST", false,
        "The request is malformed or not valid for this broker; the broker log has details.";
    43 => UnsupportedForMessageFormat, "UNSUPPORTED_FOR_MESSAGE_FORMAT", false,
        "The message format in use on the broker does not support this request.";
    44 => PolicyViolation, "POLICY_VIOLATION", false,
        "The request breaks a policy configured on the broker.";
    45 => OutOfOrderSequenceNumber, "OUT_OF_ORDER_SEQUENCE_NUMBER", false,
        "The broker received a producer sequence number out of order.";
    46 => DuplicateSequenceNumber, "DUPLICATE_SEQUENCE_NUMBER", false,
        "The broker received a producer sequence number it has already seen.";
    47 => InvalidProducerEpoch, "INVALID_PRODUCER_EPOCH", false,
        "The producer epoch is older than the current one.";
    48 => InvalidTxnState, "INVALID_TXN_STATE", false,
        "The operation is not valid in the transaction's current state.";
    49 => InvalidProducerIdMapping, "INVALID_PRODUCER_ID_MAPPING", false,
        "The producer id is not the one currently assigned to this transactional id.";
    50 => InvalidTransactionTimeout, "INVALID_TRANSACTION_TIMEOUT", false,
        "The transaction timeout is above the broker's maximum.";
    51 => ConcurrentTransactions, "CONCURRENT_TRANSACTIONS", true,
        "Another operation on the same transaction is still in progress.";
    52 => TransactionCoordinatorFenced, "TRANSACTION_COORDINATOR_FENCED", false,
        "The transaction coordinator sending markers is no longer the current one.";
    53 => TransactionalIdAuthorizationFailed, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", false,
        "The principal is not authorized for the transactional id.";
    54 => SecurityDisabled, "SECURITY_DISABLED", false,
        "Security features are disabled on the broker.";
    55 => OperationNotAttempted, "OPERATION_NOT_ATTEMPTED", false,
        "The broker skipped this operation because another one in the same batch failed.";
    56 => KafkaStorageError, "KAFKA_STORAGE_ERROR", true,
        "The broker hit a disk error while accessing the log.";
    57 => LogDirNotFound, "LOG_DIR_NOT_FOUND", false,
        "The requested log directory is not configured on the broker.";
    58 => SaslAuthenticationFailed, "SASL_AUTHENTICATION_FAILED", false,
        "SASL authentication failed.";
    59 => UnknownProducerId, "UNKNOWN_PRODUCER_ID", false,
        "The broker holds no state for this producer id, e.g. because its records expired.";
    60 => ReassignmentInProgress, "REASSIGNMENT_IN_PROGRESS", false,
        "A partition reassignment is in progress.";
    61 => DelegationTokenAuthDisabled, "DELEGATION_TOKEN_AUTH_DISABLED", false,
        "Delegation tokens are not enabled.";
    62 => DelegationTokenNotFound, "DELEGATION_TOKEN_NOT_FOUND", false,
        "The delegation token does not exist on the broker.";
    63 => DelegationTokenOwnerMismatch, "DELEGATION_TOKEN_OWNER_MISMATCH", false,
        "The principal is neither owner nor renewer of the delegation token.";
    64 => DelegationTokenRequestNotAllowed, "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", false,
        "Delegation token requests are refused on plaintext, one-way TLS or token channels.";
    65 => DelegationTokenAuthorizationFailed, "DELEGATION_TOKEN_AUTHORIZATION_FAILED", false,
        "The principal is not authorized for the delegation token operation.";
    66 => DelegationTokenExpired, "DELEGATION_TOKEN_EXPIRED", false,
        "The delegation token has expired.";
    67 => InvalidPrincipalType, "INVALID_PRINCIPAL_TYPE", false,
        "The principal type is not supported.";
    68 => NonEmptyGroup, "NON_EMPTY_GROUP", false,
        "The group still has members.";
    69 => GroupIdNotFound, "GROUP_ID_NOT_FOUND", false,
        "The group id does not exist.";
    70 => FetchSessionIdNotFound, "FETCH_SESSION_ID_NOT_FOUND", true,
        "The broker does not know this incremental fetch session id.";
    71 => InvalidFetchSessionEpoch, "INVALID_FETCH_SESSION_EPOCH", true,
        "The fetch session epoch does not match the broker's.";
    72 => ListenerNotFound, "LISTENER_NOT_FOUND", true,
        "The leader has no listener matching the one the metadata request arrived on.";
    73 => TopicDeletionDisabled, "TOPIC_DELETION_DISABLED", false,
        "Topic deletion is disabled.";
    74 => FencedLeaderEpoch, "FENCED_LEADER_EPOCH", true,
        "The leader epoch in the request is older than the broker's.";
    75 => UnknownLeaderEpoch, "UNKNOWN_LEADER_EPOCH", true,
        "The leader epoch in the request is newer than the broker's.";
    76 => UnsupportedCompressionType, "UNSUPPORTED_COMPRESSION_TYPE", false,
        "The client cannot read the compression type used by the partition.";
    77 => StaleBrokerEpoch, "STALE_BROKER_EPOCH", false,
        "The broker epoch in the request is outdated.";
    78 => OffsetNotAvailable, "OFFSET_NOT_AVAILABLE", true,
        "The new leader's high watermark has not caught up, so offsets could go backwards.";
    79 => MemberIdRequired, "MEMBER_ID_REQUIRED", false,
        "The member must rejoin with the member id the coordinator assigned.";
    80 => PreferredLeaderNotAvailable, "PREFERRED_LEADER_NOT_AVAILABLE", true,
        "The preferred leader is not available.";
    81 => GroupMaxSizeReached, "GROUP_MAX_SIZE_REACHED", false,
        "The group already has its maximum number of members.";
    82 => FencedInstanceId, "FENCED_INSTANCE_ID", false,
        "Another member registered with the same group.instance.id and fenced this one.";
    83 => EligibleLeadersNotAvailable, "ELIGIBLE_LEADERS_NOT_AVAILABLE", true,
        "No eligible leader is available for the partition.";
    84 => ElectionNotNeeded, "ELECTION_NOT_NEEDED", true,
        "The partition already has the desired leader, so no election took place.";
    85 => NoReassignmentInProgress, "NO_REASSIGNMENT_IN_PROGRESS", false,
        "No partition reassignment is in progress.";
    86 => GroupSubscribedToTopic, "GROUP_SUBSCRIBED_TO_TOPIC", false,
        "A topic's offsets cannot be deleted while the group is subscribed to it.";
    87 => InvalidRecord, "INVALID_RECORD", false,
        "The broker's validation rejected the record.";
    88 => UnstableOffsetCommit, "UNSTABLE_OFFSET_COMMIT", true,
        "Pending transactional offsets must be resolved before offsets can be read.";
    89 => ThrottlingQuotaExceeded, "THROTTLING_QUOTA_EXCEEDED", true,
        "The request went over the throttling quota.";
    90 => ProducerFenced, "PRODUCER_FENCED", false,
        "A newer producer with the same transactional id has fenced this one.";
    91 => ResourceNotFound, "RESOURCE_NOT_FOUND", false,
        "The request names a resource that does not exist.";
    92 => DuplicateResource, "DUPLICATE_RESOURCE", false,
        "The request names the same resource more than once.";
    93 => UnacceptableCredential, "UNACCEPTABLE_CREDENTIAL", false,
        "The requested credential does not meet the acceptance criteria.";
    94 => InconsistentVoterSet, "INCONSISTENT_VOTER_SET", false,
        "The sender or receiver of a voter request is not among the expected voters.";
    95 => InvalidUpdateVersion, "INVALID_UPDATE_VERSION", false,
        "The update version is not valid.";
    96 => FeatureUpdateFailed, "FEATURE_UPDATE_FAILED", false,
        "An unexpected server error prevented updating the finalized features.";
    97 => PrincipalDeserializationFailure, "PRINCIPAL_DESERIALIZATION_FAILURE", false,
        "The broker could not deserialize the principal of a forwarded request.";
    98 => SnapshotNotFound, "SNAPSHOT_NOT_FOUND", false,
        "The requested snapshot does not exist.";
    99 => PositionOutOfRange, "POSITION_OUT_OF_RANGE", false,
        "The requested position is negative or beyond the end of the snapshot.";
    100 => UnknownTopicId, "UNKNOWN_TOPIC_ID", true,
        "This broker does not host a topic with this id.";
    101 => DuplicateBrokerRegistration, "DUPLICATE_BROKER_REGISTRATION", false,
        "The broker id is already in use.";
    102 => BrokerIdNotRegistered, "BROKER_ID_NOT_REGISTERED", false,
        "The broker id is not registered.";
    103 => InconsistentTopicId, "INCONSISTENT_TOPIC_ID", true,
        "The topic id in the request differs from the one stored with the log.";
    104 => InconsistentClusterId, "INCONSISTENT_CLUSTER_ID", false,
        "The cluster id in the request differs from the server's.";
    105 => TransactionalIdNotFound, "TRANSACTIONAL_ID_NOT_FOUND", false,
        "The transactional id does not exist.";
    106 => FetchSessionTopicIdError, "FETCH_SESSION_TOPIC_ID_ERROR", true,
        "The fetch session used topic ids inconsistently.";
    107 => IneligibleReplica, "INELIGIBLE_REPLICA", false,
        "The proposed ISR contains at least one ineligible replica.";
    108 => NewLeaderElected, "NEW_LEADER_ELECTED", false,
        "The partition change was applied, but the partition now has a different leader.";
    109 => OffsetMovedToTieredStorage, "OFFSET_MOVED_TO_TIERED_STORAGE", false,
        "The requested offset now lives in tiered storage.";
    110 => FencedMemberEpoch, "FENCED_MEMBER_EPOCH", false,
        "The coordinator fenced this member epoch; the member must drop its partitions and rejoin.";
    111 => UnreleasedInstanceId, "UNRELEASED_INSTANCE_ID", false,
        "Another member still holds this instance id and has to leave first.";
    112 => UnsupportedAssignor, "UNSUPPORTED_ASSIGNOR", false,
        "The consumer group does not support the assignor or its version range.";
    113 => StaleMemberEpoch, "STALE_MEMBER_EPOCH", false,
        "The member epoch is stale; retry once a heartbeat has returned the current epoch.";
    114 => MismatchedEndpointType, "MISMATCHED_ENDPOINT_TYPE", false,
        "The request reached the wrong kind of endpoint (broker versus controller).";
    115 => UnsupportedEndpointType, "UNSUPPORTED_ENDPOINT_TYPE", false,
        "This endpoint type is not supported yet.";
    116 => UnknownControllerId, "UNKNOWN_CONTROLLER_ID", false,
        "The controller id is not known.";
    117 => UnknownSubscriptionId, "UNKNOWN_SUBSCRIPTION_ID", false,
        "The client telemetry subscription id is unknown or outdated.";
    118 => TelemetryTooLarge, "TELEMETRY_TOO_LARGE", false,
        "The pushed client telemetry is larger than the broker accepts.";
    119 => InvalidRegistration, "INVALID_REGISTRATION", false,
        "The controller considers the broker registration invalid.";
    120 => TransactionAbortable, "TRANSACTION_ABORTABLE", false,
        "The transaction failed; aborting it lets the client keep using the transactional id.";
    121 => InvalidRecordState, "INVALID_RECORD_STATE", false,
        "The record's state does not allow the delivery acknowledgement to be applied.";
    122 => ShareSessionNotFound, "SHARE_SESSION_NOT_FOUND", true,
        "The share session does not exist.";
    123 => InvalidShareSessionEpoch, "INVALID_SHARE_SESSION_EPOCH", true,
        "The share session epoch is not valid.";
    124 => FencedStateEpoch, "FENCED_STATE_EPOCH", false,
        "The share coordinator rejected the request because the share-group state epoch differs.";
    125 => InvalidVoterKey, "INVALID_VOTER_KEY", false,
        "The voter key does not match the receiving replica's key.";
    126 => DuplicateVoter, "DUPLICATE_VOTER", false,
        "The voter is already in the voter set.";
    127 => VoterNotFound, "VOTER_NOT_FOUND", false,
        "The voter is not in the voter set.";
    128 => InvalidRegularExpression, "INVALID_REGULAR_EXPRESSION", false,
        "The regular expression is not valid.";
    129 => RebootstrapRequired, "REBOOTSTRAP_REQUIRED", false,
        "The client's metadata is stale and it should rebootstrap (KIP-1102).";
    130 => StreamsInvalidTopology, "STREAMS_INVALID_TOPOLOGY", false,
        "The supplied Streams topology is not valid.";
    131 => StreamsInvalidTopologyEpoch, "STREAMS_INVALID_TOPOLOGY_EPOCH", false,
        "The supplied Streams topology epoch is not valid.";
    132 => StreamsTopologyFenced, "STREAMS_TOPOLOGY_FENCED", false,
        "The supplied Streams topology epoch is outdated.";
    133 => ShareSessionLimitReached, "SHARE_SESSION_LIMIT_REACHED", true,
        "No new share session can be opened because the session limit has been reached.";
    134 => GroupDeletionFailed, "GROUP_DELETION_FAILED", false,
        "The group could not be deleted.";
    135 => StreamsTopologyDescriptionUpdateFailed, "STREAMS_TOPOLOGY_DESCRIPTION_UPDATE_FAILED", false,
        "A Streams group's topology description could not be updated.";
    136 => ControllerIdNotRegistered, "CONTROLLER_ID_NOT_REGISTERED", false,
        "The controller id is not registered.";
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;
    use std::collections::HashSet;

    /// Lowest and highest codes defined up to Kafka 4.4.
    const FIRST: i16 = -1;
    const LAST: i16 = 136;

    #[test]
    fn error_code_every_known_code_round_trips() {
        for &e in ErrorCode::KNOWN {
            assert_eq!(ErrorCode::from_code(e.code()), e, "{}", e.name());
            assert!(!matches!(e, ErrorCode::Unknown(_)));
        }
    }

    #[test]
    fn error_code_table_is_contiguous_up_to_kafka_4_4() {
        // Kafka has never skipped a number, so a gap means a line was lost from the table.
        for c in FIRST..=LAST {
            let e = ErrorCode::from_code(c);
            assert!(!matches!(e, ErrorCode::Unknown(_)), "code {c} missing");
            assert_eq!(e.code(), c);
        }
        assert_eq!(
            ErrorCode::KNOWN.len(),
            usize::try_from(LAST - FIRST + 1).unwrap()
        );
        let codes: Vec<i16> = ErrorCode::KNOWN.iter().map(|e| e.code()).collect();
        assert!(codes.windows(2).all(|w| w[0] < w[1]), "table not ascending");
    }

    #[test]
    fn error_code_every_i16_round_trips() {
        for c in i16::MIN..=i16::MAX {
            assert_eq!(ErrorCode::from_code(c).code(), c);
            assert_eq!(i16::from(ErrorCode::from(c)), c);
        }
    }

    #[test]
    fn error_code_names_are_unique_and_upper_snake_case() {
        let mut seen = HashSet::new();
        for &e in ErrorCode::KNOWN {
            let name = e.name();
            assert!(seen.insert(name), "duplicate name {name}");
            assert!(!name.is_empty());
            assert!(
                name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
                "bad name {name}"
            );
            assert!(!e.description().is_empty(), "{name} lacks a description");
        }
        assert!(!seen.contains(ErrorCode::Unknown(9999).name()));
    }

    #[test]
    fn error_code_spot_check_names() {
        assert_eq!(ErrorCode::from_code(6).name(), "NOT_LEADER_OR_FOLLOWER");
        assert_eq!(ErrorCode::from_code(-1), ErrorCode::UnknownServerError);
        assert_eq!(ErrorCode::from_code(0), ErrorCode::None);
        assert_eq!(ErrorCode::from_code(35), ErrorCode::UnsupportedVersion);
        assert_eq!(
            ErrorCode::from_code(133).name(),
            "SHARE_SESSION_LIMIT_REACHED"
        );
    }

    #[test]
    fn error_code_retriable_spot_checks() {
        assert!(ErrorCode::from_code(6).is_retriable()); // NOT_LEADER_OR_FOLLOWER
        assert!(ErrorCode::from_code(3).is_retriable()); // UNKNOWN_TOPIC_OR_PARTITION
        assert!(ErrorCode::from_code(7).is_retriable()); // REQUEST_TIMED_OUT
        assert!(!ErrorCode::from_code(29).is_retriable()); // TOPIC_AUTHORIZATION_FAILED
        assert!(!ErrorCode::from_code(35).is_retriable()); // UNSUPPORTED_VERSION
        assert!(!ErrorCode::from_code(0).is_retriable()); // NONE
        assert!(!ErrorCode::from_code(-1).is_retriable()); // UNKNOWN_SERVER_ERROR
        assert!(!ErrorCode::from_code(27).is_retriable()); // REBALANCE_IN_PROGRESS
    }

    #[test]
    fn error_code_retriable_set_matches_protocol_guide() {
        // Written out independently of the table: the codes whose Retriable column is True in
        // the Kafka 4.1 protocol guide. A flipped flag in the table makes this fail.
        let expected: HashSet<i16> = [
            2, 3, 5, 6, 7, 9, 13, 14, 15, 16, 19, 20, 41, 51, 56, 70, 71, 72, 74, 75, 78, 80, 83,
            84, 88, 89, 100, 103, 106, 122, 123, 133,
        ]
        .into_iter()
        .collect();
        let actual: HashSet<i16> = ErrorCode::KNOWN
            .iter()
            .filter(|e| e.is_retriable())
            .map(|e| e.code())
            .collect();
        assert_eq!(actual, expected);
    }

    #[test]
    fn error_code_unknown_round_trips() {
        let e = ErrorCode::from_code(9999);
        assert_eq!(e, ErrorCode::Unknown(9999));
        assert_eq!(e.code(), 9999);
        assert!(!e.is_retriable());
        assert!(e.is_error());
        assert_eq!(ErrorCode::from_code(-2), ErrorCode::Unknown(-2));
        assert_eq!(ErrorCode::from_code(LAST + 1), ErrorCode::Unknown(LAST + 1));
    }

    #[test]
    fn error_code_ok_and_into_result() {
        assert!(ErrorCode::None.is_ok());
        assert!(!ErrorCode::None.is_error());
        assert_eq!(ErrorCode::None.into_result(), Ok(()));
        for &e in ErrorCode::KNOWN.iter().filter(|e| e.code() != 0) {
            assert!(e.is_error() && !e.is_ok(), "{}", e.name());
            assert_eq!(e.into_result(), Err(e));
        }
        assert_eq!(
            ErrorCode::Unknown(9999).into_result(),
            Err(ErrorCode::Unknown(9999))
        );
    }

    #[test]
    fn error_code_display_and_error_trait() {
        let text = ErrorCode::RequestTimedOut.to_string();
        assert!(text.starts_with("REQUEST_TIMED_OUT (7): "), "{text}");
        assert!(text.ends_with(ErrorCode::RequestTimedOut.description()));
        assert!(ErrorCode::Unknown(-300).to_string().contains("(-300)"));

        let boxed: Box<dyn std::error::Error> = Box::new(ErrorCode::TopicAuthorizationFailed);
        assert!(boxed
            .to_string()
            .contains("TOPIC_AUTHORIZATION_FAILED (29)"));
        assert!(boxed.source().is_none());
    }
}

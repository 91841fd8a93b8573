//! The `AuthorizedOperations` bit sets that Metadata, DescribeCluster, DescribeGroups and
//! DescribeTopicPartitions return when a client asks for them (KIP-430): bit `n` is set when
//! ACL operation `n` is allowed.
//!
//! Each resource type has the operations Kafka defines for it (`AclEntry.supportedOperations`);
//! the set reported is those the principal may perform (see
//! [`crate::context::RequestContext::authorized_operations`]). With ACLs off that is every
//! supported operation, which is what Kafka answers without an authorizer: not every bit.

use kafka_protocol::acl::AclOperation::{self, *};

/// The marker meaning "not requested".
pub(crate) const NOT_REQUESTED: i32 = i32::MIN;

/// What can be done to a topic.
pub(crate) const TOPIC: &[AclOperation] = &[
    Read,
    Write,
    Create,
    Delete,
    Alter,
    Describe,
    DescribeConfigs,
    AlterConfigs,
];

/// What can be done to a consumer group.
pub(crate) const GROUP: &[AclOperation] = &[Read, Delete, Describe, DescribeConfigs, AlterConfigs];

/// What can be done to the cluster.
pub(crate) const CLUSTER: &[AclOperation] = &[
    Create,
    Alter,
    Describe,
    ClusterAction,
    DescribeConfigs,
    AlterConfigs,
    IdempotentWrite,
];

/// Every operation of `ops`: the set with ACLs off.
pub(crate) fn all(ops: &[AclOperation]) -> i32 {
    ops.iter().fold(0, |set, op| set | (1 << op.code()))
}

/// `set` when `requested`, else [`NOT_REQUESTED`].
pub(crate) fn when(requested: bool, set: impl FnOnce() -> i32) -> i32 {
    if requested {
        set()
    } else {
        NOT_REQUESTED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_match_kafka_without_an_authorizer() {
        // The values Apache Kafka 4.4 returns with no authorizer configured.
        assert_eq!(all(TOPIC), 3576);
        assert_eq!(all(GROUP), 3400);
        assert_eq!(all(CLUSTER), 8096);
    }
}

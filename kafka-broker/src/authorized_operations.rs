//! The `AuthorizedOperations` bit sets that Metadata, DescribeCluster and DescribeGroups return
//! when a client asks for them (KIP-430): bit `n` is set when ACL operation `n` is allowed.
//!
//! The bundled broker has no authorizer (until ACLs arrive), so every operation a resource type
//! supports is allowed, which is what Kafka answers without an authorizer: the operations
//! Kafka defines for that resource type, not every bit.

/// ACL operation codes (`AclOperation` in Kafka).
const READ: i32 = 3;
const WRITE: i32 = 4;
const CREATE: i32 = 5;
const DELETE: i32 = 6;
const ALTER: i32 = 7;
const DESCRIBE: i32 = 8;
const CLUSTER_ACTION: i32 = 9;
const DESCRIBE_CONFIGS: i32 = 10;
const ALTER_CONFIGS: i32 = 11;
const IDEMPOTENT_WRITE: i32 = 12;

/// The marker meaning "not requested".
pub(crate) const NOT_REQUESTED: i32 = i32::MIN;

const fn bits(operations: &[i32]) -> i32 {
    let mut set = 0;
    let mut i = 0;
    while i < operations.len() {
        set |= 1 << operations[i];
        i += 1;
    }
    set
}

/// What can be done to a topic.
pub(crate) const TOPIC: i32 = bits(&[
    READ,
    WRITE,
    CREATE,
    DELETE,
    ALTER,
    DESCRIBE,
    DESCRIBE_CONFIGS,
    ALTER_CONFIGS,
]);

/// What can be done to a consumer group.
pub(crate) const GROUP: i32 = bits(&[READ, DELETE, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS]);

/// What can be done to the cluster.
pub(crate) const CLUSTER: i32 = bits(&[
    CREATE,
    ALTER,
    DESCRIBE,
    CLUSTER_ACTION,
    DESCRIBE_CONFIGS,
    ALTER_CONFIGS,
    IDEMPOTENT_WRITE,
]);

/// `set` when `requested`, else [`NOT_REQUESTED`].
pub(crate) fn when(requested: bool, set: i32) -> i32 {
    if requested {
        set
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
        assert_eq!(TOPIC, 3576);
        assert_eq!(GROUP, 3400);
        assert_eq!(CLUSTER, 8096);
    }
}

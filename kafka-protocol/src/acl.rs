//! Access control lists as the protocol carries them (KIP-140, prefixed patterns KIP-290):
//! resource types, pattern types, operations and permissions with their wire codes, an ACL
//! binding, and the filters DescribeAcls and DeleteAcls match bindings with.
//!
//! Matching a *filter* against stored *bindings* (which ACLs to list or delete) is here, because
//! clients and brokers agree on it. Deciding whether a principal may do something (an
//! authorizer) is the broker's business and lives there.

/// Declares a wire enum: `Name { Variant = code, ... }` with `code()` and `from_code()`; codes
/// this version does not know decode as `Unknown`.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $code:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant),*
        }

        impl $name {
            /// The code on the wire.
            pub fn code(self) -> i8 {
                match self { $($name::$variant => $code),* }
            }

            /// The value of a wire code; codes this version does not know are `Unknown`.
            pub fn from_code(code: i8) -> Self {
                match code { $($code => $name::$variant,)* _ => $name::Unknown }
            }
        }
    };
}

wire_enum! {
    /// What kind of resource an ACL protects (`ResourceType` in Kafka).
    ResourceType {
        /// A code this version does not know.
        Unknown = 0,
        /// Any type: only in filters.
        Any = 1,
        /// A topic.
        Topic = 2,
        /// A consumer group.
        Group = 3,
        /// The cluster (its one name is `kafka-cluster`).
        Cluster = 4,
        /// A transactional id.
        TransactionalId = 5,
        /// A delegation token.
        DelegationToken = 6,
        /// A user (for delegation tokens created on behalf of others).
        User = 7,
    }
}

wire_enum! {
    /// How an ACL's resource name matches resource names (KIP-290).
    PatternType {
        /// A code this version does not know.
        Unknown = 0,
        /// Filters only: any pattern type, the name compared as it is.
        Any = 1,
        /// Filters only: every pattern that would match the given name.
        Match = 2,
        /// The name exactly, or every name when it is `*`.
        Literal = 3,
        /// Every name that starts with it.
        Prefixed = 4,
    }
}

wire_enum! {
    /// What an ACL allows or denies (`AclOperation` in Kafka).
    AclOperation {
        /// A code this version does not know.
        Unknown = 0,
        /// Filters only: any operation.
        Any = 1,
        /// Every operation.
        All = 2,
        /// Read (consume, commit offsets, join a group).
        Read = 3,
        /// Write (produce).
        Write = 4,
        /// Create topics.
        Create = 5,
        /// Delete topics, records or groups.
        Delete = 6,
        /// Alter (partitions, ACLs, reassignments).
        Alter = 7,
        /// Describe.
        Describe = 8,
        /// Broker-to-broker actions.
        ClusterAction = 9,
        /// Describe configs.
        DescribeConfigs = 10,
        /// Alter configs.
        AlterConfigs = 11,
        /// Idempotent produce (deprecated by KIP-679: WRITE on a topic implies it).
        IdempotentWrite = 12,
        /// Create delegation tokens.
        CreateTokens = 13,
        /// Describe delegation tokens.
        DescribeTokens = 14,
        /// Two-phase commit of transactions (KIP-939).
        TwoPhaseCommit = 15,
    }
}

wire_enum! {
    /// Whether an ACL allows or denies.
    AclPermissionType {
        /// A code this version does not know.
        Unknown = 0,
        /// Filters only: either.
        Any = 1,
        /// Deny: wins over any allow.
        Deny = 2,
        /// Allow.
        Allow = 3,
    }
}

impl AclOperation {
    /// Decodes a KIP-430 `authorized_operations` bit set (bit `n` is operation code `n`);
    /// `None` for `i32::MIN`, which means the set was not requested.
    pub fn from_bits(bits: i32) -> Option<std::collections::BTreeSet<AclOperation>> {
        if bits == i32::MIN {
            return None;
        }
        Some(
            (0i8..16)
                .filter(|b| bits & (1 << b) != 0)
                .map(AclOperation::from_code)
                .collect(),
        )
    }
}

/// The name every `CLUSTER` resource has.
pub const CLUSTER_NAME: &str = "kafka-cluster";

/// The wildcard resource name (a literal `*` matches every name) and the wildcard host.
pub const WILDCARD: &str = "*";

/// The wildcard principal: an ACL for `User:*` applies to every user.
pub const WILDCARD_PRINCIPAL: &str = "User:*";

/// A resource pattern: a type, a name, and how the name matches.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourcePattern {
    /// The resource type.
    pub resource_type: ResourceType,
    /// The name, or prefix, or `*`.
    pub name: String,
    /// Literal or prefixed.
    pub pattern_type: PatternType,
}

impl ResourcePattern {
    /// The resource named exactly `name` (or every one, for `*`).
    pub fn literal(resource_type: ResourceType, name: impl Into<String>) -> ResourcePattern {
        ResourcePattern {
            resource_type,
            name: name.into(),
            pattern_type: PatternType::Literal,
        }
    }

    /// Every resource whose name starts with `prefix`.
    pub fn prefixed(resource_type: ResourceType, prefix: impl Into<String>) -> ResourcePattern {
        ResourcePattern {
            resource_type,
            name: prefix.into(),
            pattern_type: PatternType::Prefixed,
        }
    }

    /// The cluster.
    pub fn cluster() -> ResourcePattern {
        ResourcePattern::literal(ResourceType::Cluster, CLUSTER_NAME)
    }

    /// Whether this pattern covers the resource `resource_type`/`name` (a literal name).
    pub fn covers(&self, resource_type: ResourceType, name: &str) -> bool {
        self.resource_type == resource_type
            && match self.pattern_type {
                PatternType::Literal => self.name == name || self.name == WILDCARD,
                PatternType::Prefixed => name.starts_with(&self.name),
                _ => false,
            }
    }
}

/// Who an ACL applies to and what it decides.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccessControlEntry {
    /// `User:name`, or `User:*`.
    pub principal: String,
    /// A client address, or `*`.
    pub host: String,
    /// The operation.
    pub operation: AclOperation,
    /// Allow or deny.
    pub permission: AclPermissionType,
}

impl AccessControlEntry {
    /// Allows `principal` (`User:NAME`) `operation` from any host.
    pub fn allow(principal: impl Into<String>, operation: AclOperation) -> AccessControlEntry {
        AccessControlEntry {
            principal: principal.into(),
            host: WILDCARD.into(),
            operation,
            permission: AclPermissionType::Allow,
        }
    }

    /// Denies `principal` (`User:NAME`) `operation` from any host.
    pub fn deny(principal: impl Into<String>, operation: AclOperation) -> AccessControlEntry {
        AccessControlEntry {
            permission: AclPermissionType::Deny,
            ..AccessControlEntry::allow(principal, operation)
        }
    }

    /// The same entry, for connections from `host` only.
    pub fn from_host(mut self, host: impl Into<String>) -> AccessControlEntry {
        self.host = host.into();
        self
    }
}

/// An ACL: a resource pattern and an entry.
///
/// ```
/// use kafka_protocol::acl::{AccessControlEntry, AclBinding, AclOperation, ResourcePattern, ResourceType};
///
/// let acl = AclBinding::new(
///     ResourcePattern::prefixed(ResourceType::Topic, "orders."),
///     AccessControlEntry::allow("User:alice", AclOperation::Read),
/// );
/// assert!(acl.filter().matches(&acl));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AclBinding {
    /// What it protects.
    pub pattern: ResourcePattern,
    /// Who and what.
    pub entry: AccessControlEntry,
}

impl AclBinding {
    /// An ACL for `pattern`.
    pub fn new(pattern: ResourcePattern, entry: AccessControlEntry) -> AclBinding {
        AclBinding { pattern, entry }
    }

    /// The filter that selects exactly this binding.
    pub fn filter(&self) -> AclBindingFilter {
        AclBindingFilter {
            resource_type: self.pattern.resource_type,
            name: Some(self.pattern.name.clone()),
            pattern_type: self.pattern.pattern_type,
            principal: Some(self.entry.principal.clone()),
            host: Some(self.entry.host.clone()),
            operation: self.entry.operation,
            permission: self.entry.permission,
        }
    }
}

/// Selects ACL bindings, as DescribeAcls and DeleteAcls carry it: `None` names match any.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AclBindingFilter {
    /// A type, or [`ResourceType::Any`].
    pub resource_type: ResourceType,
    /// A name, or any.
    pub name: Option<String>,
    /// A pattern type, [`PatternType::Any`] or [`PatternType::Match`].
    pub pattern_type: PatternType,
    /// A principal, or any.
    pub principal: Option<String>,
    /// A host, or any.
    pub host: Option<String>,
    /// An operation, or [`AclOperation::Any`].
    pub operation: AclOperation,
    /// A permission, or [`AclPermissionType::Any`].
    pub permission: AclPermissionType,
}

impl AclBindingFilter {
    /// The filter that matches every binding.
    pub fn any() -> AclBindingFilter {
        AclBindingFilter {
            resource_type: ResourceType::Any,
            name: None,
            pattern_type: PatternType::Any,
            principal: None,
            host: None,
            operation: AclOperation::Any,
            permission: AclPermissionType::Any,
        }
    }

    /// The bindings of one principal (`User:NAME`).
    pub fn for_principal(principal: impl Into<String>) -> AclBindingFilter {
        AclBindingFilter {
            principal: Some(principal.into()),
            ..AclBindingFilter::any()
        }
    }

    /// Whether a part of the filter is a code this version does not know (Kafka refuses such
    /// a filter rather than guess).
    pub fn is_unknown(&self) -> bool {
        self.resource_type == ResourceType::Unknown
            || self.pattern_type == PatternType::Unknown
            || self.operation == AclOperation::Unknown
            || self.permission == AclPermissionType::Unknown
    }

    /// Whether `binding` is selected. `Match` selects the patterns that would apply to the
    /// named resource: the literal name, the literal wildcard, and every prefix of it.
    pub fn matches(&self, binding: &AclBinding) -> bool {
        let p = &binding.pattern;
        let e = &binding.entry;
        let type_ok =
            self.resource_type == ResourceType::Any || self.resource_type == p.resource_type;
        let pattern_ok = match self.pattern_type {
            PatternType::Any => self.name.as_ref().is_none_or(|n| *n == p.name),
            PatternType::Match => match &self.name {
                None => true,
                Some(n) => p.covers(p.resource_type, n),
            },
            t => t == p.pattern_type && self.name.as_ref().is_none_or(|n| *n == p.name),
        };
        let entry_ok = self.principal.as_ref().is_none_or(|x| *x == e.principal)
            && self.host.as_ref().is_none_or(|x| *x == e.host)
            && (self.operation == AclOperation::Any || self.operation == e.operation)
            && (self.permission == AclPermissionType::Any || self.permission == e.permission);
        type_ok && pattern_ok && entry_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(name: &str, pattern_type: PatternType, principal: &str) -> AclBinding {
        AclBinding {
            pattern: ResourcePattern {
                resource_type: ResourceType::Topic,
                name: name.into(),
                pattern_type,
            },
            entry: AccessControlEntry {
                principal: principal.into(),
                host: "*".into(),
                operation: AclOperation::Read,
                permission: AclPermissionType::Allow,
            },
        }
    }

    #[test]
    fn codes_round_trip_and_unknown_codes_are_unknown() {
        for code in 0..=15 {
            assert_eq!(AclOperation::from_code(code).code(), code);
        }
        assert_eq!(AclOperation::from_code(99), AclOperation::Unknown);
        assert_eq!(ResourceType::from_code(-1), ResourceType::Unknown);
        assert_eq!(PatternType::from_code(4), PatternType::Prefixed);
        assert_eq!(AclPermissionType::from_code(3), AclPermissionType::Allow);
    }

    #[test]
    fn patterns_cover_names_as_kafka_matches_them() {
        let literal = binding("orders", PatternType::Literal, "User:a").pattern;
        let wildcard = binding("*", PatternType::Literal, "User:a").pattern;
        let prefixed = binding("ord", PatternType::Prefixed, "User:a").pattern;
        assert!(literal.covers(ResourceType::Topic, "orders"));
        assert!(!literal.covers(ResourceType::Topic, "orders2"));
        assert!(!literal.covers(ResourceType::Group, "orders"));
        assert!(wildcard.covers(ResourceType::Topic, "anything"));
        assert!(prefixed.covers(ResourceType::Topic, "orders"));
        assert!(prefixed.covers(ResourceType::Topic, "ord"));
        assert!(!prefixed.covers(ResourceType::Topic, "or"));
    }

    #[test]
    fn filters_select_by_each_field() {
        let b = binding("orders", PatternType::Literal, "User:a");
        let p = binding("ord", PatternType::Prefixed, "User:b");
        assert!(AclBindingFilter::any().matches(&b));
        let by_name = AclBindingFilter {
            name: Some("orders".into()),
            ..AclBindingFilter::any()
        };
        assert!(by_name.matches(&b) && !by_name.matches(&p));
        let matching = AclBindingFilter {
            name: Some("orders".into()),
            pattern_type: PatternType::Match,
            ..AclBindingFilter::any()
        };
        assert!(matching.matches(&b) && matching.matches(&p));
        let prefixed_only = AclBindingFilter {
            pattern_type: PatternType::Prefixed,
            ..AclBindingFilter::any()
        };
        assert!(!prefixed_only.matches(&b) && prefixed_only.matches(&p));
        let by_principal = AclBindingFilter {
            principal: Some("User:b".into()),
            ..AclBindingFilter::any()
        };
        assert!(!by_principal.matches(&b) && by_principal.matches(&p));
        let deny = AclBindingFilter {
            permission: AclPermissionType::Deny,
            ..AclBindingFilter::any()
        };
        assert!(!deny.matches(&b));
        assert!(AclBindingFilter {
            operation: AclOperation::Unknown,
            ..AclBindingFilter::any()
        }
        .is_unknown());
    }
}

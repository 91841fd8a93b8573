//! The ACL authorizer: the bundled broker's counterpart of Kafka's `StandardAuthorizer`, on
//! only when the cluster is configured with ACLs ([`crate::AclConfig`]).
//!
//! A decision, as Kafka makes it (KIP-140, KIP-290):
//! 1. A super user may do anything.
//! 2. The ACLs that apply are those whose pattern covers the resource: the literal name, the
//!    literal wildcard `*`, and every prefixed pattern the name starts with.
//! 3. Of those, the ones for the principal (or `User:*`) and the client's host (or `*`) count.
//!    A DENY for the operation (or ALL) wins over everything. An ALLOW for the operation (or
//!    ALL) allows; an ALLOW for READ, WRITE, DELETE or ALTER also allows DESCRIBE, and one for
//!    ALTER_CONFIGS allows DESCRIBE_CONFIGS. Those implications hold for ALLOW only: denying
//!    READ does not deny DESCRIBE.
//! 4. With no ACL covering the resource at all (for anyone), the answer is
//!    `allow.everyone.if.no.acl.found` (false by default); with some but none allowing, deny.

use std::collections::BTreeSet;
use std::sync::RwLock;

use kafka_protocol::acl::{
    AclBinding, AclBindingFilter, AclOperation, AclPermissionType, PatternType, ResourceType,
    WILDCARD, WILDCARD_PRINCIPAL,
};

/// The principal of a connection that did not authenticate (PLAINTEXT, or TLS without a
/// client certificate), as Kafka names it.
pub const ANONYMOUS: &str = "User:ANONYMOUS";

/// The ACL settings of a cluster.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct AclConfig {
    /// Principals allowed everything (`super.users`), e.g. `User:admin`.
    pub super_users: Vec<String>,
    /// Whether a resource no ACL covers is open to everyone (`allow.everyone.if.no.acl.found`,
    /// false by default, as in Kafka).
    pub allow_everyone_if_no_acl_found: bool,
}

impl AclConfig {
    /// ACLs on, with no super users.
    pub fn new() -> AclConfig {
        AclConfig::default()
    }

    /// Adds a super user, `User:NAME` (a bare `NAME` is taken as a user).
    pub fn with_super_user(mut self, principal: &str) -> Self {
        self.super_users.push(principal_of(principal));
        self
    }

    /// Sets `allow.everyone.if.no.acl.found`.
    pub fn with_allow_everyone_if_no_acl_found(mut self, allow: bool) -> Self {
        self.allow_everyone_if_no_acl_found = allow;
        self
    }
}

/// `User:NAME` for a bare name; a name that already has a type is kept.
pub(crate) fn principal_of(name: &str) -> String {
    if name.contains(':') {
        name.to_string()
    } else {
        format!("User:{name}")
    }
}

/// Who is asking: the authenticated principal and the client's address.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Requester<'a> {
    pub principal: &'a str,
    pub host: &'a str,
}

/// The cluster's ACLs and the decisions made from them.
#[derive(Debug)]
pub(crate) struct Authorizer {
    config: AclConfig,
    acls: RwLock<BTreeSet<AclBinding>>,
}

/// Operations that an ALLOW for them implies DESCRIBE.
const IMPLIES_DESCRIBE: &[AclOperation] = &[
    AclOperation::Describe,
    AclOperation::Read,
    AclOperation::Write,
    AclOperation::Delete,
    AclOperation::Alter,
];

impl Authorizer {
    pub fn new(config: AclConfig) -> Authorizer {
        Authorizer {
            config,
            acls: RwLock::new(BTreeSet::new()),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeSet<AclBinding>> {
        self.acls.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `who` may perform `operation` on the resource `resource_type`/`name`.
    pub fn authorize(
        &self,
        who: Requester<'_>,
        operation: AclOperation,
        resource_type: ResourceType,
        name: &str,
    ) -> bool {
        if self.config.super_users.iter().any(|s| s == who.principal) {
            return true;
        }
        let acls = self.read();
        let mut covered = false;
        let mut allowed = false;
        for acl in acls
            .iter()
            .filter(|a| a.pattern.covers(resource_type, name))
        {
            covered = true;
            let e = &acl.entry;
            if !(e.principal == who.principal || e.principal == WILDCARD_PRINCIPAL) {
                continue;
            }
            if !(e.host == WILDCARD || e.host == who.host) {
                continue;
            }
            match e.permission {
                AclPermissionType::Deny
                    if e.operation == AclOperation::All || e.operation == operation =>
                {
                    return false;
                }
                AclPermissionType::Allow if implies(e.operation, operation) => allowed = true,
                _ => {}
            }
        }
        if covered {
            allowed
        } else {
            self.config.allow_everyone_if_no_acl_found
        }
    }

    /// Whether `who` may perform `operation` on some resource of `resource_type` (Kafka's
    /// `authorizeByResourceType`, KIP-679): used where Kafka lets WRITE on any topic stand for
    /// IDEMPOTENT_WRITE on the cluster. Some ALLOW for the principal must not be shadowed by a
    /// DENY of the same or a shorter pattern.
    pub fn authorize_any(
        &self,
        who: Requester<'_>,
        operation: AclOperation,
        resource_type: ResourceType,
    ) -> bool {
        if self.config.super_users.iter().any(|s| s == who.principal) {
            return true;
        }
        let acls = self.read();
        let applies = |a: &&AclBinding| {
            a.pattern.resource_type == resource_type
                && (a.entry.principal == who.principal || a.entry.principal == WILDCARD_PRINCIPAL)
                && (a.entry.host == WILDCARD || a.entry.host == who.host)
                && (a.entry.operation == AclOperation::All || a.entry.operation == operation)
        };
        let denies: Vec<&AclBinding> = acls
            .iter()
            .filter(applies)
            .filter(|a| a.entry.permission == AclPermissionType::Deny)
            .collect();
        let denied_everything = denies.iter().any(|d| {
            (d.pattern.pattern_type == PatternType::Literal && d.pattern.name == WILDCARD)
                || (d.pattern.pattern_type == PatternType::Prefixed && d.pattern.name.is_empty())
        });
        if denied_everything {
            return false;
        }
        let any_for_type = acls
            .iter()
            .any(|a| a.pattern.resource_type == resource_type);
        if !any_for_type && self.config.allow_everyone_if_no_acl_found {
            return true;
        }
        acls.iter()
            .filter(applies)
            .filter(|a| a.entry.permission == AclPermissionType::Allow)
            .any(|allow| {
                !denies.iter().any(|d| match d.pattern.pattern_type {
                    PatternType::Literal => {
                        allow.pattern.pattern_type == PatternType::Literal
                            && d.pattern.name == allow.pattern.name
                    }
                    PatternType::Prefixed => allow.pattern.name.starts_with(&d.pattern.name),
                    _ => false,
                })
            })
    }

    /// The KIP-430 bit set of `supported` operations `who` may perform on the resource.
    pub fn authorized_operations(
        &self,
        who: Requester<'_>,
        resource_type: ResourceType,
        name: &str,
        supported: &[AclOperation],
    ) -> i32 {
        supported
            .iter()
            .filter(|op| self.authorize(who, **op, resource_type, name))
            .fold(0, |set, op| set | (1 << op.code()))
    }

    /// Stores `binding` (storing one twice is not an error, as in Kafka).
    pub fn add(&self, binding: AclBinding) {
        self.acls
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(binding);
    }

    /// The stored bindings `filter` selects.
    pub fn describe(&self, filter: &AclBindingFilter) -> Vec<AclBinding> {
        self.read()
            .iter()
            .filter(|b| filter.matches(b))
            .cloned()
            .collect()
    }

    /// Removes and returns the bindings `filter` selects.
    pub fn delete(&self, filter: &AclBindingFilter) -> Vec<AclBinding> {
        let mut acls = self.acls.write().unwrap_or_else(|p| p.into_inner());
        let gone: Vec<AclBinding> = acls.iter().filter(|b| filter.matches(b)).cloned().collect();
        for b in &gone {
            acls.remove(b);
        }
        gone
    }
}

/// Whether an ALLOW for `granted` allows `wanted`.
fn implies(granted: AclOperation, wanted: AclOperation) -> bool {
    granted == AclOperation::All
        || granted == wanted
        || (wanted == AclOperation::Describe && IMPLIES_DESCRIBE.contains(&granted))
        || (wanted == AclOperation::DescribeConfigs && granted == AclOperation::AlterConfigs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::acl::{AccessControlEntry, ResourcePattern};

    fn acl(
        name: &str,
        pattern_type: PatternType,
        principal: &str,
        host: &str,
        operation: AclOperation,
        permission: AclPermissionType,
    ) -> AclBinding {
        AclBinding {
            pattern: ResourcePattern {
                resource_type: ResourceType::Topic,
                name: name.into(),
                pattern_type,
            },
            entry: AccessControlEntry {
                principal: principal.into(),
                host: host.into(),
                operation,
                permission,
            },
        }
    }

    const ALICE: Requester<'static> = Requester {
        principal: "User:alice",
        host: "127.0.0.1",
    };
    const BOB: Requester<'static> = Requester {
        principal: "User:bob",
        host: "127.0.0.1",
    };
    use AclOperation::*;
    use AclPermissionType::*;
    use PatternType::*;

    fn topic(a: &Authorizer, who: Requester<'_>, op: AclOperation, name: &str) -> bool {
        a.authorize(who, op, ResourceType::Topic, name)
    }

    #[test]
    fn nothing_is_allowed_without_acls_unless_configured() {
        let closed = Authorizer::new(AclConfig::new());
        assert!(!topic(&closed, ALICE, Read, "t"));
        let open = Authorizer::new(AclConfig::new().with_allow_everyone_if_no_acl_found(true));
        assert!(topic(&open, ALICE, Read, "t"));
        // Once any ACL covers the resource, the default no longer applies.
        open.add(acl("t", Literal, "User:bob", "*", Read, Allow));
        assert!(!topic(&open, ALICE, Read, "t"));
        assert!(topic(&open, ALICE, Read, "other"));
    }

    #[test]
    fn super_users_may_do_anything() {
        let a = Authorizer::new(AclConfig::new().with_super_user("alice"));
        a.add(acl("t", Literal, "User:alice", "*", All, Deny));
        assert!(topic(&a, ALICE, Write, "t"));
        assert!(!topic(&a, BOB, Write, "t"));
    }

    #[test]
    fn literal_prefixed_and_wildcard_patterns() {
        let a = Authorizer::new(AclConfig::new());
        a.add(acl("orders", Literal, "User:alice", "*", Read, Allow));
        a.add(acl("pay", Prefixed, "User:alice", "*", Write, Allow));
        a.add(acl("*", Literal, "User:bob", "*", Describe, Allow));
        assert!(topic(&a, ALICE, Read, "orders"));
        assert!(!topic(&a, ALICE, Read, "orders2"));
        assert!(topic(&a, ALICE, Write, "payments"));
        assert!(!topic(&a, ALICE, Write, "pa"));
        assert!(topic(&a, BOB, Describe, "anything"));
        assert!(!topic(&a, BOB, Read, "anything"));
    }

    #[test]
    fn deny_wins_and_implications_hold_for_allow_only() {
        let a = Authorizer::new(AclConfig::new());
        a.add(acl("pay", Prefixed, "User:alice", "*", All, Allow));
        a.add(acl("payroll", Literal, "User:alice", "*", Write, Deny));
        a.add(acl("cfg", Literal, "User:alice", "*", AlterConfigs, Allow));
        a.add(acl("ro", Literal, "User:alice", "*", Read, Deny));
        a.add(acl("ro", Literal, "User:alice", "*", Write, Allow));
        assert!(topic(&a, ALICE, Write, "payments"));
        assert!(!topic(&a, ALICE, Write, "payroll"));
        assert!(topic(&a, ALICE, Read, "payroll"));
        assert!(topic(&a, ALICE, DescribeConfigs, "cfg"));
        assert!(!topic(&a, ALICE, Describe, "cfg"));
        // A DENY READ does not deny DESCRIBE, which the ALLOW WRITE implies.
        assert!(!topic(&a, ALICE, Read, "ro"));
        assert!(topic(&a, ALICE, Describe, "ro"));
    }

    #[test]
    fn principals_and_hosts_match_exactly_or_by_wildcard() {
        let a = Authorizer::new(AclConfig::new());
        a.add(acl("t", Literal, "User:*", "*", Read, Allow));
        a.add(acl("t", Literal, "User:bob", "127.0.0.1", Read, Deny));
        a.add(acl("u", Literal, "User:alice", "10.0.0.1", Read, Allow));
        assert!(topic(&a, ALICE, Read, "t"));
        assert!(!topic(&a, BOB, Read, "t"));
        assert!(!topic(&a, ALICE, Read, "u"));
    }

    #[test]
    fn authorized_operations_is_a_bit_set_of_codes() {
        let a = Authorizer::new(AclConfig::new());
        a.add(acl("t", Literal, "User:alice", "*", Read, Allow));
        let set =
            a.authorized_operations(ALICE, ResourceType::Topic, "t", &[Read, Write, Describe]);
        assert_eq!(set, (1 << 3) | (1 << 8));
    }

    #[test]
    fn any_resource_of_a_type_unless_denied_by_a_wider_pattern() {
        let a = Authorizer::new(AclConfig::new());
        assert!(!a.authorize_any(ALICE, Write, ResourceType::Topic));
        a.add(acl("pay", Prefixed, "User:alice", "*", Write, Allow));
        assert!(a.authorize_any(ALICE, Write, ResourceType::Topic));
        a.add(acl("pa", Prefixed, "User:alice", "*", Write, Deny));
        assert!(!a.authorize_any(ALICE, Write, ResourceType::Topic));
        a.add(acl("x", Literal, "User:bob", "*", All, Allow));
        assert!(a.authorize_any(BOB, Write, ResourceType::Topic));
        a.add(acl("*", Literal, "User:bob", "*", Write, Deny));
        assert!(!a.authorize_any(BOB, Write, ResourceType::Topic));
    }

    #[test]
    fn delete_removes_what_the_filter_selects() {
        let a = Authorizer::new(AclConfig::new());
        a.add(acl("t", Literal, "User:alice", "*", Read, Allow));
        a.add(acl("t", Literal, "User:alice", "*", Read, Allow));
        a.add(acl("u", Literal, "User:bob", "*", Read, Allow));
        let filter = AclBindingFilter {
            principal: Some("User:alice".into()),
            ..AclBindingFilter::any()
        };
        assert_eq!(a.describe(&filter).len(), 1);
        assert_eq!(a.delete(&filter).len(), 1);
        assert_eq!(a.describe(&AclBindingFilter::any()).len(), 1);
    }
}

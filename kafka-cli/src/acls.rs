//! `kfk acls`: list, create and delete ACLs, as `kafka-acls.sh` does, on the admin client's
//! ACL operations. A resource is named by one of `--topic`, `--group`, `--transactional-id`
//! or `--cluster`, literally or (`--prefixed`) as a prefix; a principal is `User:NAME`.

use clap::{ArgGroup, Args, Subcommand};
use kafka_admin::acl::{
    AccessControlEntry, AclBinding, AclBindingFilter, AclOperation, PatternType, ResourcePattern,
    ResourceType, CLUSTER_NAME,
};
use serde_json::json;

use crate::output::{emit, say};
use crate::settings::Settings;
use crate::{Failure, Outcome};

#[derive(Debug, Subcommand)]
pub enum AclsCommand {
    /// Lists ACLs, all or those of a resource or principal.
    #[command(after_help = "Example:\n  kfk acls list --principal User:alice -o json")]
    List(Selection),
    /// Creates ACLs: each --operation for the principal on the resource.
    #[command(
        group(ArgGroup::new("resource").required(true).args(["topic", "group", "transactional_id", "cluster"])),
        after_help = "Example:\n  kfk acls create --principal User:alice --operation read --operation describe --topic orders. --prefixed"
    )]
    Create {
        /// The principal, `User:NAME` (or `User:*` for everyone).
        #[arg(long, required = true)]
        principal: String,
        /// An operation (repeatable): read, write, create, delete, alter, describe,
        /// describe-configs, alter-configs, cluster-action, idempotent-write, all.
        #[arg(long = "operation", required = true, value_parser = parse_operation)]
        operations: Vec<AclOperation>,
        /// Deny instead of allow.
        #[arg(long)]
        deny: bool,
        /// The client host the ACL applies to.
        #[arg(long, default_value = "*")]
        host: String,
        #[command(flatten)]
        resource: Resource,
    },
    /// Deletes the ACLs the selection matches (every ACL when nothing is selected, with --all).
    #[command(after_help = "Example:\n  kfk acls delete --principal User:alice --topic orders")]
    Delete {
        #[command(flatten)]
        selection: Selection,
        /// Allows deleting every ACL when no resource or principal is named.
        #[arg(long)]
        all: bool,
    },
}

/// One resource, by type and name.
#[derive(Debug, Args)]
pub struct Resource {
    /// A topic (or, with --prefixed, a prefix of topic names; `*` for every topic).
    #[arg(long)]
    topic: Option<String>,
    /// A consumer group (or prefix).
    #[arg(long)]
    group: Option<String>,
    /// A transactional id (or prefix).
    #[arg(long)]
    transactional_id: Option<String>,
    /// The cluster.
    #[arg(long)]
    cluster: bool,
    /// The name is a prefix (PREFIXED), not a literal name.
    #[arg(long)]
    prefixed: bool,
}

/// Which ACLs a listing or deletion covers.
#[derive(Debug, Args)]
pub struct Selection {
    /// Only this principal's ACLs.
    #[arg(long)]
    principal: Option<String>,
    #[command(flatten)]
    resource: Resource,
}

/// `read`, `describe-configs`, `DESCRIBE_CONFIGS`, `DescribeConfigs`: all the same.
fn parse_operation(text: &str) -> Result<AclOperation, String> {
    let key: String = text
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .collect::<String>()
        .to_lowercase();
    Ok(match key.as_str() {
        "all" => AclOperation::All,
        "read" => AclOperation::Read,
        "write" => AclOperation::Write,
        "create" => AclOperation::Create,
        "delete" => AclOperation::Delete,
        "alter" => AclOperation::Alter,
        "describe" => AclOperation::Describe,
        "clusteraction" => AclOperation::ClusterAction,
        "describeconfigs" => AclOperation::DescribeConfigs,
        "alterconfigs" => AclOperation::AlterConfigs,
        "idempotentwrite" => AclOperation::IdempotentWrite,
        _ => return Err(format!("unknown operation {text:?}")),
    })
}

impl Resource {
    /// The resource's type and name, if one is named.
    fn named(&self) -> Option<(ResourceType, String)> {
        if self.cluster {
            return Some((ResourceType::Cluster, CLUSTER_NAME.to_string()));
        }
        [
            (ResourceType::Topic, &self.topic),
            (ResourceType::Group, &self.group),
            (ResourceType::TransactionalId, &self.transactional_id),
        ]
        .into_iter()
        .find_map(|(t, n)| n.clone().map(|n| (t, n)))
    }

    fn pattern_type(&self) -> PatternType {
        if self.prefixed {
            PatternType::Prefixed
        } else {
            PatternType::Literal
        }
    }
}

impl Selection {
    fn filter(&self) -> AclBindingFilter {
        let mut filter = AclBindingFilter::any();
        if let Some((resource_type, name)) = self.resource.named() {
            filter.resource_type = resource_type;
            filter.name = Some(name);
            filter.pattern_type = self.resource.pattern_type();
        }
        filter.principal = self.principal.clone();
        filter
    }

    fn is_everything(&self) -> bool {
        self.principal.is_none() && self.resource.named().is_none()
    }
}

fn name_of<T: std::fmt::Debug>(value: T) -> String {
    // `DescribeConfigs` -> `DESCRIBE_CONFIGS`, as Kafka's tools print them.
    let mut out = String::new();
    for (i, c) in format!("{value:?}").chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

fn print(s: &Settings, acls: &[AclBinding]) {
    let rows: Vec<Vec<String>> = acls
        .iter()
        .map(|a| {
            vec![
                a.entry.principal.clone(),
                a.entry.host.clone(),
                name_of(a.entry.operation),
                name_of(a.entry.permission),
                name_of(a.pattern.resource_type),
                a.pattern.name.clone(),
                name_of(a.pattern.pattern_type),
            ]
        })
        .collect();
    let json = json!(acls
        .iter()
        .map(|a| json!({
            "principal": a.entry.principal, "host": a.entry.host,
            "operation": name_of(a.entry.operation), "permission": name_of(a.entry.permission),
            "resource_type": name_of(a.pattern.resource_type), "resource_name": a.pattern.name,
            "pattern_type": name_of(a.pattern.pattern_type),
        }))
        .collect::<Vec<_>>());
    emit(
        s.output,
        &json,
        &[
            "PRINCIPAL",
            "HOST",
            "OPERATION",
            "PERMISSION",
            "RESOURCE",
            "NAME",
            "PATTERN",
        ],
        &rows,
    );
}

pub async fn run(command: AclsCommand, s: &Settings) -> Outcome {
    let admin = s.admin().await?;
    match command {
        AclsCommand::List(selection) => {
            let mut acls = admin.describe_acls(&selection.filter()).await?;
            acls.sort();
            print(s, &acls);
        }
        AclsCommand::Create {
            principal,
            operations,
            deny,
            host,
            resource,
        } => {
            if !principal.contains(':') {
                return Err(Failure(format!(
                    "--principal {principal}: expected TYPE:NAME, such as User:{principal}"
                )));
            }
            let (resource_type, name) = resource
                .named()
                .ok_or_else(|| Failure("name a resource".into()))?;
            let pattern = ResourcePattern {
                resource_type,
                name,
                pattern_type: resource.pattern_type(),
            };
            let acls: Vec<AclBinding> = operations
                .iter()
                .map(|op| {
                    let entry = if deny {
                        AccessControlEntry::deny(principal.clone(), *op)
                    } else {
                        AccessControlEntry::allow(principal.clone(), *op)
                    };
                    AclBinding::new(pattern.clone(), entry.from_host(host.clone()))
                })
                .collect();
            let results = admin.create_acls(acls.clone()).await?;
            let failures: Vec<String> = results
                .iter()
                .filter_map(|(a, r)| {
                    r.as_ref()
                        .err()
                        .map(|e| format!("{}: {e}", name_of(a.entry.operation)))
                })
                .collect();
            if !failures.is_empty() {
                return Err(Failure(failures.join("; ")));
            }
            let permission = if deny { "denied" } else { "allowed" };
            say(
                s.output,
                &json!({"created": acls.len()}),
                &format!("created {} ACL(s): {permission} to {principal}", acls.len()),
            );
        }
        AclsCommand::Delete { selection, all } => {
            if selection.is_everything() && !all {
                return Err(Failure(
                    "this would delete every ACL: name a resource or principal, or add --all"
                        .into(),
                ));
            }
            let results = admin.delete_acls(vec![selection.filter()]).await?;
            let mut deleted = Vec::new();
            for (_, r) in results {
                deleted.extend(r?);
            }
            deleted.sort();
            print(s, &deleted);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_admin::acl::AclPermissionType;

    #[test]
    fn operations_parse_in_any_spelling_and_print_as_kafka_does() {
        for text in ["describe-configs", "DESCRIBE_CONFIGS", "DescribeConfigs"] {
            assert_eq!(parse_operation(text), Ok(AclOperation::DescribeConfigs));
        }
        assert!(parse_operation("fly").is_err());
        assert_eq!(name_of(AclOperation::DescribeConfigs), "DESCRIBE_CONFIGS");
        assert_eq!(name_of(AclPermissionType::Allow), "ALLOW");
        assert_eq!(name_of(ResourceType::TransactionalId), "TRANSACTIONAL_ID");
    }
}

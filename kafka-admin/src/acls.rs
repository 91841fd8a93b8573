//! ACLs (KIP-140, prefixed patterns KIP-290): create, describe and delete the bindings a
//! cluster's authorizer decides with. A cluster without an authorizer answers
//! SECURITY_DISABLED; a principal without ALTER (create, delete) or DESCRIBE (describe) on the
//! cluster gets CLUSTER_AUTHORIZATION_FAILED.
//!
//! ```no_run
//! # async fn example(admin: &kafka_admin::AdminClient) -> kafka_admin::Result<()> {
//! use kafka_admin::acl::{AccessControlEntry, AclBinding, AclBindingFilter, AclOperation, ResourcePattern, ResourceType};
//!
//! let acl = AclBinding::new(
//!     ResourcePattern::prefixed(ResourceType::Topic, "orders."),
//!     AccessControlEntry::allow("User:alice", AclOperation::Read),
//! );
//! for (binding, result) in admin.create_acls(vec![acl]).await? {
//!     result?;
//! }
//! let alices = admin.describe_acls(&AclBindingFilter::for_principal("User:alice")).await?;
//! assert!(!alices.is_empty());
//! # Ok(()) }
//! ```

use kafka_protocol::acl::{
    AccessControlEntry, AclBinding, AclBindingFilter, AclOperation, AclPermissionType, PatternType,
    ResourcePattern, ResourceType,
};
use kafka_protocol::messages::create_acls_request::AclCreation;
use kafka_protocol::messages::delete_acls_request::DeleteAclsFilter;
use kafka_protocol::messages::{CreateAclsRequest, DeleteAclsRequest, DescribeAclsRequest};
use kafka_protocol::ApiKey;

use crate::error::{AdminError, Result};
use crate::router::{self, ItemResults};
use crate::AdminClient;

/// Pattern types other than LITERAL need v1 (KIP-290); a v0 broker cannot store them.
fn needs_v1(pattern_type: PatternType) -> bool {
    pattern_type != PatternType::Literal
}

fn check_version(
    operation: &'static str,
    api: ApiKey,
    version: i16,
    pattern_type: PatternType,
) -> Result<()> {
    if version < 1 && needs_v1(pattern_type) {
        return Err(AdminError::UnsupportedVersion {
            operation,
            api,
            needed: "v1+ (prefixed and match patterns, KIP-290)".into(),
            broker: format!("the broker serves only v{version}"),
        });
    }
    Ok(())
}

impl AdminClient {
    /// Creates ACL bindings; one result per binding (creating one that exists is no error).
    pub async fn create_acls(&self, acls: Vec<AclBinding>) -> Result<ItemResults<AclBinding, ()>> {
        let call = self.call("create_acls");
        let acls = &acls;
        let response = router::retry(&self.client, &call, || async move {
            let conn = router::any(&self.client).await?;
            let version = conn.version_for(ApiKey::CreateAcls)?;
            for a in acls {
                check_version(
                    "create_acls",
                    ApiKey::CreateAcls,
                    version,
                    a.pattern.pattern_type,
                )?;
            }
            let request = CreateAclsRequest::default().with_creations(
                acls.iter()
                    .map(|a| {
                        AclCreation::default()
                            .with_resource_type(a.pattern.resource_type.code())
                            .with_resource_name(a.pattern.name.as_str())
                            .with_resource_pattern_type(a.pattern.pattern_type.code())
                            .with_principal(a.entry.principal.as_str())
                            .with_host(a.entry.host.as_str())
                            .with_operation(a.entry.operation.code())
                            .with_permission_type(a.entry.permission.code())
                    })
                    .collect(),
            );
            let response = conn.send(&request).await?;
            // A failure of the whole request comes back as the same error for every binding;
            // an authorization failure or a disabled authorizer fails the operation.
            if let Some(first) = response.results.first() {
                if response
                    .results
                    .iter()
                    .all(|r| r.error_code == first.error_code)
                    && first.error_code.is_error()
                    && !matches!(first.error_code, kafka_protocol::ErrorCode::InvalidRequest)
                {
                    AdminError::check(first.error_code, first.error_message.as_deref())?;
                }
            }
            Ok(response)
        })
        .await?;
        Ok(acls
            .iter()
            .cloned()
            .zip(response.results)
            .map(|(acl, r)| {
                (
                    acl,
                    AdminError::check(r.error_code, r.error_message.as_deref()),
                )
            })
            .collect())
    }

    /// The ACL bindings `filter` selects.
    pub async fn describe_acls(&self, filter: &AclBindingFilter) -> Result<Vec<AclBinding>> {
        let call = self.call("describe_acls");
        let response = router::retry(&self.client, &call, || async {
            let conn = router::any(&self.client).await?;
            let version = conn.version_for(ApiKey::DescribeAcls)?;
            check_version(
                "describe_acls",
                ApiKey::DescribeAcls,
                version,
                filter.pattern_type,
            )?;
            let request = DescribeAclsRequest::default()
                .with_resource_type_filter(filter.resource_type.code())
                .with_resource_name_filter(filter.name.as_deref().map(Into::into))
                .with_pattern_type_filter(filter.pattern_type.code())
                .with_principal_filter(filter.principal.as_deref().map(Into::into))
                .with_host_filter(filter.host.as_deref().map(Into::into))
                .with_operation(filter.operation.code())
                .with_permission_type(filter.permission.code());
            let response = conn.send(&request).await?;
            AdminError::check(response.error_code, response.error_message.as_deref())?;
            Ok(response)
        })
        .await?;
        Ok(response
            .resources
            .iter()
            .flat_map(|r| {
                r.acls.iter().map(move |a| AclBinding {
                    pattern: ResourcePattern {
                        resource_type: ResourceType::from_code(r.resource_type),
                        name: r.resource_name.to_string(),
                        pattern_type: PatternType::from_code(r.pattern_type),
                    },
                    entry: AccessControlEntry {
                        principal: a.principal.to_string(),
                        host: a.host.to_string(),
                        operation: AclOperation::from_code(a.operation),
                        permission: AclPermissionType::from_code(a.permission_type),
                    },
                })
            })
            .collect())
    }

    /// Deletes the ACL bindings each filter selects; per filter, the bindings it deleted.
    pub async fn delete_acls(
        &self,
        filters: Vec<AclBindingFilter>,
    ) -> Result<ItemResults<AclBindingFilter, Vec<AclBinding>>> {
        let call = self.call("delete_acls");
        let filters = &filters;
        let response = router::retry(&self.client, &call, || async move {
            let conn = router::any(&self.client).await?;
            let version = conn.version_for(ApiKey::DeleteAcls)?;
            for f in filters {
                check_version("delete_acls", ApiKey::DeleteAcls, version, f.pattern_type)?;
            }
            let request = DeleteAclsRequest::default().with_filters(
                filters
                    .iter()
                    .map(|f| {
                        DeleteAclsFilter::default()
                            .with_resource_type_filter(f.resource_type.code())
                            .with_resource_name_filter(f.name.as_deref().map(Into::into))
                            .with_pattern_type_filter(f.pattern_type.code())
                            .with_principal_filter(f.principal.as_deref().map(Into::into))
                            .with_host_filter(f.host.as_deref().map(Into::into))
                            .with_operation(f.operation.code())
                            .with_permission_type(f.permission.code())
                    })
                    .collect(),
            );
            let response = conn.send(&request).await?;
            if let Some(first) = response.filter_results.first() {
                if matches!(
                    first.error_code,
                    kafka_protocol::ErrorCode::SecurityDisabled
                        | kafka_protocol::ErrorCode::ClusterAuthorizationFailed
                ) {
                    AdminError::check(first.error_code, first.error_message.as_deref())?;
                }
            }
            Ok(response)
        })
        .await?;
        Ok(filters
            .iter()
            .cloned()
            .zip(response.filter_results)
            .map(|(filter, r)| {
                let deleted =
                    AdminError::check(r.error_code, r.error_message.as_deref()).map(|()| {
                        r.matching_acls
                            .iter()
                            .map(|m| AclBinding {
                                pattern: ResourcePattern {
                                    resource_type: ResourceType::from_code(m.resource_type),
                                    name: m.resource_name.to_string(),
                                    pattern_type: PatternType::from_code(m.pattern_type),
                                },
                                entry: AccessControlEntry {
                                    principal: m.principal.to_string(),
                                    host: m.host.to_string(),
                                    operation: AclOperation::from_code(m.operation),
                                    permission: AclPermissionType::from_code(m.permission_type),
                                },
                            })
                            .collect()
                    });
                (filter, deleted)
            })
            .collect())
    }
}

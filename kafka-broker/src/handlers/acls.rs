//! CreateAcls (key 30), DescribeAcls (key 29) and DeleteAcls (key 31), KIP-140: the ACLs the
//! authorizer ([`crate::authorizer`]) decides with.
//!
//! Creating and deleting take ALTER on the cluster, describing DESCRIBE (CLUSTER_AUTHORIZATION
//! FAILED otherwise). Without ACLs enabled each answers SECURITY_DISABLED, as Kafka without an
//! authorizer does. A creation needs a concrete type, pattern (literal or prefixed), operation
//! and permission, else the whole request fails as Kafka's does; then the cluster's one name
//! and a non-empty name, per binding.

use kafka_protocol::acl::{
    AccessControlEntry, AclBinding, AclBindingFilter, AclOperation, AclPermissionType, PatternType,
    ResourcePattern, ResourceType, CLUSTER_NAME,
};
use kafka_protocol::messages::create_acls_request::AclCreation;
use kafka_protocol::messages::create_acls_response::AclCreationResult;
use kafka_protocol::messages::delete_acls_response::{
    DeleteAclsFilterResult, DeleteAclsMatchingAcl,
};
use kafka_protocol::messages::describe_acls_response::{AclDescription, DescribeAclsResource};
use kafka_protocol::messages::{
    CreateAclsRequest, CreateAclsResponse, DeleteAclsRequest, DeleteAclsResponse,
    DescribeAclsRequest, DescribeAclsResponse,
};
use kafka_protocol::{ErrorCode, StrBytes};

use crate::authorizer::Authorizer;
use crate::context::RequestContext;

/// The authorizer, or the error a request gets without one (or without the cluster ACL).
fn authorizer(ctx: &RequestContext, operation: AclOperation) -> Result<&Authorizer, ErrorCode> {
    if !ctx.allowed_cluster(operation) {
        return Err(ErrorCode::ClusterAuthorizationFailed);
    }
    ctx.state
        .authorizer
        .as_ref()
        .ok_or(ErrorCode::SecurityDisabled)
}

/// The message Kafka sends with a whole-request failure.
fn message(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::SecurityDisabled => "No Authorizer is configured.",
        _ => "Cluster authorization failed.",
    }
}

pub(crate) fn handle_create(
    ctx: &RequestContext,
    request: &CreateAclsRequest,
    _version: i16,
) -> CreateAclsResponse {
    let authorizer = match authorizer(ctx, AclOperation::Alter) {
        Ok(a) => a,
        // One failed result per creation, as Kafka answers.
        Err(code) => {
            let failed = AclCreationResult::default()
                .with_error_code(code)
                .with_error_message(Some(message(code).into()));
            return CreateAclsResponse::default()
                .with_results(vec![failed; request.creations.len()]);
        }
    };
    // A creation that is not a binding at all (a filter's ANY or MATCH where a binding needs a
    // concrete value) fails Kafka's whole request before any is checked: every creation gets
    // UNKNOWN_SERVER_ERROR with no message, the valid ones too (Kafka 4.4 answers so).
    if request.creations.iter().any(|c| !is_binding(c)) {
        let failed = AclCreationResult::default()
            .with_error_code(ErrorCode::UnknownServerError)
            .with_error_message(None);
        return CreateAclsResponse::default().with_results(vec![failed; request.creations.len()]);
    }
    let results = request
        .creations
        .iter()
        .map(|c| match binding(c) {
            Ok(b) => {
                tracing::info!(acl = ?b, principal = %ctx.principal, "ACL created");
                authorizer.add(b);
                AclCreationResult::default()
            }
            Err(m) => AclCreationResult::default()
                .with_error_code(ErrorCode::InvalidRequest)
                .with_error_message(Some(m.into())),
        })
        .collect();
    CreateAclsResponse::default().with_results(results)
}

/// Whether a creation's codes can make a binding at all: no ANY (or MATCH) and no code this
/// version does not know.
fn is_binding(c: &AclCreation) -> bool {
    let concrete = |code: i8| code > 1;
    concrete(c.resource_type)
        && concrete(c.operation)
        && concrete(c.permission_type)
        && matches!(
            PatternType::from_code(c.resource_pattern_type),
            PatternType::Literal | PatternType::Prefixed
        )
        && ResourceType::from_code(c.resource_type) != ResourceType::Unknown
        && AclOperation::from_code(c.operation) != AclOperation::Unknown
        && AclPermissionType::from_code(c.permission_type) != AclPermissionType::Unknown
}

/// Checks a creation that [`is_binding`] as Kafka's broker does and builds its binding; the
/// error is INVALID_REQUEST's message.
fn binding(c: &AclCreation) -> Result<AclBinding, String> {
    let resource_type = ResourceType::from_code(c.resource_type);
    let pattern_type = PatternType::from_code(c.resource_pattern_type);
    let operation = AclOperation::from_code(c.operation);
    let permission = AclPermissionType::from_code(c.permission_type);
    let name = c.resource_name.as_str();
    if resource_type == ResourceType::Cluster && name != CLUSTER_NAME {
        return Err(format!(
            "The only valid name for the CLUSTER resource is {CLUSTER_NAME}"
        ));
    }
    if name.is_empty() {
        return Err("Invalid empty resource name".into());
    }
    Ok(AclBinding {
        pattern: ResourcePattern {
            resource_type,
            name: name.to_string(),
            pattern_type,
        },
        entry: AccessControlEntry {
            principal: c.principal.to_string(),
            host: c.host.to_string(),
            operation,
            permission,
        },
    })
}

pub(crate) fn handle_describe(
    ctx: &RequestContext,
    request: &DescribeAclsRequest,
    _version: i16,
) -> DescribeAclsResponse {
    let authorizer = match authorizer(ctx, AclOperation::Describe) {
        Ok(a) => a,
        Err(code) => {
            let text = match code {
                ErrorCode::SecurityDisabled => "No Authorizer is configured on the broker",
                _ => message(code),
            };
            return DescribeAclsResponse::default()
                .with_error_code(code)
                .with_error_message(Some(text.into()));
        }
    };
    let filter = AclBindingFilter {
        resource_type: ResourceType::from_code(request.resource_type_filter),
        name: request.resource_name_filter.as_ref().map(|s| s.to_string()),
        pattern_type: PatternType::from_code(request.pattern_type_filter),
        principal: request.principal_filter.as_ref().map(|s| s.to_string()),
        host: request.host_filter.as_ref().map(|s| s.to_string()),
        operation: AclOperation::from_code(request.operation),
        permission: AclPermissionType::from_code(request.permission_type),
    };
    // One entry per resource pattern, with its ACLs (the bindings come sorted by pattern).
    let mut resources: Vec<DescribeAclsResource> = Vec::new();
    for b in authorizer.describe(&filter) {
        let acl = AclDescription::default()
            .with_principal(b.entry.principal.clone())
            .with_host(b.entry.host.clone())
            .with_operation(b.entry.operation.code())
            .with_permission_type(b.entry.permission.code());
        let same = resources.last().is_some_and(|r| {
            r.resource_type == b.pattern.resource_type.code()
                && r.resource_name.as_str() == b.pattern.name
                && r.pattern_type == b.pattern.pattern_type.code()
        });
        if !same {
            resources.push(
                DescribeAclsResource::default()
                    .with_resource_type(b.pattern.resource_type.code())
                    .with_resource_name(b.pattern.name.clone())
                    .with_pattern_type(b.pattern.pattern_type.code()),
            );
        }
        if let Some(r) = resources.last_mut() {
            r.acls.push(acl);
        }
    }
    // Kafka sends an empty message, not null, with success.
    DescribeAclsResponse::default()
        .with_error_message(Some(String::new().into()))
        .with_resources(resources)
}

pub(crate) fn handle_delete(
    ctx: &RequestContext,
    request: &DeleteAclsRequest,
    _version: i16,
) -> DeleteAclsResponse {
    let authorizer = match authorizer(ctx, AclOperation::Alter) {
        Ok(a) => a,
        // One failed result per filter, as Kafka answers.
        Err(code) => {
            let failed = DeleteAclsFilterResult::default()
                .with_error_code(code)
                .with_error_message(Some(message(code).into()));
            return DeleteAclsResponse::default()
                .with_filter_results(vec![failed; request.filters.len()]);
        }
    };
    let filter_results = request
        .filters
        .iter()
        .map(|f| {
            let filter = AclBindingFilter {
                resource_type: ResourceType::from_code(f.resource_type_filter),
                name: f.resource_name_filter.as_ref().map(|s| s.to_string()),
                pattern_type: PatternType::from_code(f.pattern_type_filter),
                principal: f.principal_filter.as_ref().map(|s| s.to_string()),
                host: f.host_filter.as_ref().map(|s| s.to_string()),
                operation: AclOperation::from_code(f.operation),
                permission: AclPermissionType::from_code(f.permission_type),
            };
            if filter.is_unknown() {
                return DeleteAclsFilterResult::default()
                    .with_error_code(ErrorCode::InvalidRequest)
                    .with_error_message(Some("Unknown patternFilter.".into()));
            }
            let matching_acls = authorizer
                .delete(&filter)
                .into_iter()
                .map(|b| {
                    tracing::info!(acl = ?b, principal = %ctx.principal, "ACL deleted");
                    DeleteAclsMatchingAcl::default()
                        .with_error_message(None)
                        .with_resource_type(b.pattern.resource_type.code())
                        .with_resource_name(StrBytes::from(b.pattern.name))
                        .with_pattern_type(b.pattern.pattern_type.code())
                        .with_principal(b.entry.principal)
                        .with_host(b.entry.host)
                        .with_operation(b.entry.operation.code())
                        .with_permission_type(b.entry.permission.code())
                })
                .collect();
            DeleteAclsFilterResult::default()
                .with_error_message(None)
                .with_matching_acls(matching_acls)
        })
        .collect();
    DeleteAclsResponse::default().with_filter_results(filter_results)
}

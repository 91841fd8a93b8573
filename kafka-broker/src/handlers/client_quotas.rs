//! DescribeClientQuotas (key 48) and AlterClientQuotas (key 49), KIP-546, over
//! [`crate::quotas`].

use kafka_protocol::messages::alter_client_quotas_response as alter;
use kafka_protocol::messages::describe_client_quotas_response as describe;
use kafka_protocol::messages::{
    AlterClientQuotasRequest, AlterClientQuotasResponse, DescribeClientQuotasRequest,
    DescribeClientQuotasResponse,
};
use kafka_protocol::ErrorCode;

use crate::context::RequestContext;
use crate::quotas::{entity, QuotaMatch, QuotaOp};
use crate::sync::lock;

pub(crate) fn handle_describe(
    ctx: &RequestContext,
    request: &DescribeClientQuotasRequest,
    _version: i16,
) -> DescribeClientQuotasResponse {
    let mut filters = Vec::new();
    for c in &request.components {
        let m = match (c.match_type, &c.match_) {
            (0, Some(name)) => QuotaMatch::Exact(name.to_string()),
            (1, _) => QuotaMatch::Default,
            (2, _) => QuotaMatch::Any,
            _ => {
                return DescribeClientQuotasResponse::default()
                    .with_error_code(ErrorCode::InvalidRequest)
                    .with_error_message(Some(
                        format!("Unknown match type {} or a missing name", c.match_type).into(),
                    ))
                    .with_entries(None)
            }
        };
        if filters.iter().any(|(t, _)| *t == *c.entity_type) {
            return DescribeClientQuotasResponse::default()
                .with_error_code(ErrorCode::InvalidRequest)
                .with_error_message(Some(
                    format!("Duplicate {} entity type in the filter", c.entity_type).into(),
                ))
                .with_entries(None);
        }
        filters.push((c.entity_type.to_string(), m));
    }
    let entries = lock(&ctx.state.quotas)
        .describe(&filters, request.strict)
        .into_iter()
        .map(|(entity, values)| describe::EntryData {
            entity: entity
                .into_iter()
                .map(|(t, n)| describe::EntityData {
                    entity_type: t.into(),
                    entity_name: n.map(Into::into),
                    ..Default::default()
                })
                .collect(),
            values: values
                .into_iter()
                .map(|(k, v)| describe::ValueData {
                    key: k.into(),
                    value: v,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    DescribeClientQuotasResponse::default()
        .with_error_code(ErrorCode::None)
        .with_entries(Some(entries))
}

pub(crate) fn handle_alter(
    ctx: &RequestContext,
    request: &AlterClientQuotasRequest,
    _version: i16,
) -> AlterClientQuotasResponse {
    let entries = request
        .entries
        .iter()
        .map(|e| {
            let components = e.entity.iter().map(|c| {
                (
                    c.entity_type.to_string(),
                    c.entity_name.as_deref().map(String::from),
                )
            });
            let ops: Vec<QuotaOp> = e
                .ops
                .iter()
                .map(|o| QuotaOp {
                    key: o.key.to_string(),
                    value: o.value,
                    remove: o.remove,
                })
                .collect();
            // Each entry needs ALTER_CONFIGS on the cluster.
            let outcome = if ctx.allowed_cluster(kafka_protocol::acl::AclOperation::AlterConfigs) {
                entity(components).and_then(|entity| {
                    lock(&ctx.state.quotas).alter(&entity, &ops, request.validate_only)
                })
            } else {
                Err((
                    ErrorCode::ClusterAuthorizationFailed,
                    "Cluster authorization failed.".to_string(),
                ))
            };
            let (code, message) = match outcome {
                Ok(()) => (ErrorCode::None, None),
                Err((code, m)) => (code, Some(m.into())),
            };
            alter::EntryData {
                error_code: code,
                error_message: message,
                entity: e
                    .entity
                    .iter()
                    .map(|c| alter::EntityData {
                        entity_type: c.entity_type.clone(),
                        entity_name: c.entity_name.clone(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }
        })
        .collect();
    AlterClientQuotasResponse::default().with_entries(entries)
}

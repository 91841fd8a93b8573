//! DescribeConfigs (key 32): topic and broker configs with value, source, type and docs.

use kafka_protocol::acl::AclOperation;
use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym,
};
use kafka_protocol::messages::{DescribeConfigsRequest, DescribeConfigsResponse};
use kafka_protocol::ErrorCode;

use super::configs::{
    broker_resource, config_access, describe_broker_configs, describe_group_configs,
    describe_topic_configs, ConfigEntry, RESOURCE_BROKER, RESOURCE_GROUP, RESOURCE_TOPIC,
    SOURCE_DEFAULT,
};
use crate::context::RequestContext;
use crate::sync::lock;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &DescribeConfigsRequest,
    _version: i16,
) -> DescribeConfigsResponse {
    let state = &ctx.state;
    let results = request
        .resources
        .iter()
        .map(|r| {
            // Null or empty both mean "every config", as in Kafka's ConfigHelper.
            let keys = r.configuration_keys.as_deref().filter(|k| !k.is_empty());
            let access = config_access(
                ctx,
                r.resource_type,
                &r.resource_name,
                AclOperation::DescribeConfigs,
            );
            let entries: Result<Vec<ConfigEntry>, (ErrorCode, String)> = match r.resource_type {
                _ if access.is_err()
                    && matches!(
                        r.resource_type,
                        RESOURCE_TOPIC | RESOURCE_BROKER | RESOURCE_GROUP
                    ) =>
                {
                    access.map(|()| Vec::new())
                }
                RESOURCE_TOPIC => {
                    let topic = lock(&state.topics).get(&r.resource_name).cloned();
                    topic
                        .map(|t| describe_topic_configs(state, &t, keys))
                        // Kafka names no reason beyond the code here (an empty message).
                        .ok_or((ErrorCode::UnknownTopicOrPartition, String::new()))
                }
                RESOURCE_BROKER => broker_resource(state, &r.resource_name)
                    .map(|id| describe_broker_configs(state, id, keys)),
                RESOURCE_GROUP => Ok(describe_group_configs(state, &r.resource_name, keys)),
                other => Err((
                    ErrorCode::InvalidRequest,
                    format!("Unsupported resource type {other}"),
                )),
            };
            match entries {
                Ok(entries) => DescribeConfigsResult {
                    error_code: ErrorCode::None,
                    // Kafka sends an empty message, not null, with success.
                    error_message: Some(String::new().into()),
                    resource_type: r.resource_type,
                    resource_name: r.resource_name.clone(),
                    configs: entries.into_iter().map(|e| to_wire(e, request)).collect(),
                    ..Default::default()
                },
                Err((code, message)) => DescribeConfigsResult::default()
                    .with_error_code(code)
                    .with_error_message(Some(message.into()))
                    .with_resource_type(r.resource_type)
                    .with_resource_name(r.resource_name.clone()),
            }
        })
        .collect();
    DescribeConfigsResponse::default().with_results(results)
}

fn to_wire(e: ConfigEntry, request: &DescribeConfigsRequest) -> DescribeConfigsResourceResult {
    let synonyms = if request.include_synonyms {
        e.synonyms
            .iter()
            .map(|(name, value, source)| {
                DescribeConfigsSynonym::default()
                    .with_name(name.clone())
                    .with_value(value.clone().map(Into::into))
                    .with_source(*source)
            })
            .collect()
    } else {
        Vec::new()
    };
    DescribeConfigsResourceResult {
        // IsDefault exists only in v0; v1+ carries ConfigSource instead. Each version keeps the
        // one it has.
        is_default: e.source == SOURCE_DEFAULT,
        config_source: e.source,
        read_only: e.read_only,
        is_sensitive: false,
        synonyms,
        config_type: e.config_type,
        documentation: (request.include_documentation.then(|| e.doc.to_string())).map(Into::into),
        name: e.name.into(),
        value: Some(e.value.into()),
        ..Default::default()
    }
}

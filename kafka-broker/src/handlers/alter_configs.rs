//! AlterConfigs (key 33) and IncrementalAlterConfigs (key 44, KIP-339) for topic and broker
//! resources.
//!
//! AlterConfigs replaces a resource's whole set of overrides (keys left out return to their
//! defaults); IncrementalAlterConfigs applies SET / DELETE / APPEND / SUBTRACT per key. Both
//! validate every change before applying any (INVALID_CONFIG), and apply nothing when
//! `validate_only` is set.

use std::collections::BTreeMap;

use kafka_protocol::messages::{
    alter_configs_response, incremental_alter_configs_response, AlterConfigsRequest,
    AlterConfigsResponse, IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse,
};
use kafka_protocol::ErrorCode;

use super::configs::{
    apply_broker_overrides, broker_resource, is_list, validate_broker_configs, RESOURCE_BROKER,
    RESOURCE_GROUP, RESOURCE_TOPIC,
};
use crate::context::RequestContext;
use crate::sync::lock;
use crate::topics::validate_configs;

type ResourceResult = Result<(), (ErrorCode, String)>;

/// IncrementalAlterConfigs operations.
const OP_SET: i8 = 0;
const OP_DELETE: i8 = 1;
const OP_APPEND: i8 = 2;
const OP_SUBTRACT: i8 = 3;

pub(crate) fn handle_alter(
    ctx: &RequestContext,
    request: &AlterConfigsRequest,
    _version: i16,
) -> AlterConfigsResponse {
    let responses = request
        .resources
        .iter()
        .map(|r| {
            let outcome = update(
                ctx,
                r.resource_type,
                &r.resource_name,
                request.validate_only,
                |_, _| {
                    let mut next = BTreeMap::new();
                    for c in &r.configs {
                        let value = c.value.clone().ok_or((
                            ErrorCode::InvalidRequest,
                            format!("Null value not supported for {}", c.name),
                        ))?;
                        next.insert(c.name.to_string(), value.to_string());
                    }
                    Ok(next)
                },
            );
            let (code, message) = split(outcome);
            alter_configs_response::AlterConfigsResourceResponse::default()
                .with_error_code(code)
                .with_error_message(message.map(Into::into))
                .with_resource_type(r.resource_type)
                .with_resource_name(r.resource_name.clone())
        })
        .collect();
    AlterConfigsResponse::default().with_responses(responses)
}

pub(crate) fn handle_incremental(
    ctx: &RequestContext,
    request: &IncrementalAlterConfigsRequest,
    _version: i16,
) -> IncrementalAlterConfigsResponse {
    let responses = request
        .resources
        .iter()
        .map(|r| {
            let outcome = update(
                ctx,
                r.resource_type,
                &r.resource_name,
                request.validate_only,
                |current, default_of| {
                    let mut next = current.clone();
                    for c in &r.configs {
                        let base = default_of(&c.name);
                        apply_op(
                            &mut next,
                            &c.name,
                            c.config_operation,
                            c.value.as_deref(),
                            base,
                        )?;
                    }
                    Ok(next)
                },
            );
            let (code, message) = split(outcome);
            incremental_alter_configs_response::AlterConfigsResourceResponse::default()
                .with_error_code(code)
                .with_error_message(message.map(Into::into))
                .with_resource_type(r.resource_type)
                .with_resource_name(r.resource_name.clone())
        })
        .collect();
    IncrementalAlterConfigsResponse::default().with_responses(responses)
}

fn split(outcome: ResourceResult) -> (ErrorCode, Option<String>) {
    match outcome {
        Ok(()) => (ErrorCode::None, None),
        Err((code, message)) => (code, Some(message)),
    }
}

/// Applies one IncrementalAlterConfigs operation. APPEND and SUBTRACT start from the config's
/// current value, which is its default (`default`) when it has no override: appending
/// `compact` to a topic whose `cleanup.policy` is the default `delete` gives `delete,compact`,
/// as in Kafka.
fn apply_op(
    configs: &mut BTreeMap<String, String>,
    name: &str,
    op: i8,
    value: Option<&str>,
    default: Option<String>,
) -> ResourceResult {
    let need_value = || {
        value.ok_or((
            ErrorCode::InvalidRequest,
            format!("Null value not supported for {name}"),
        ))
    };
    match op {
        OP_SET => {
            configs.insert(name.to_string(), need_value()?.to_string());
        }
        OP_DELETE => {
            configs.remove(name);
        }
        OP_APPEND | OP_SUBTRACT => {
            if !is_list(name) {
                return Err((
                    ErrorCode::InvalidConfig,
                    format!("Config {name} is not a list; APPEND/SUBTRACT need a list config"),
                ));
            }
            let mut items: Vec<String> = configs
                .get(name)
                .cloned()
                .or(default)
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            for item in need_value()?
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                if op == OP_APPEND {
                    if !items.iter().any(|i| i == item) {
                        items.push(item.to_string());
                    }
                } else {
                    items.retain(|i| i != item);
                }
            }
            if items.is_empty() {
                configs.remove(name);
            } else {
                configs.insert(name.to_string(), items.join(","));
            }
        }
        other => {
            return Err((
                ErrorCode::InvalidRequest,
                format!("Unknown config operation {other}"),
            ));
        }
    }
    Ok(())
}

/// Computes a resource's new overrides from its current ones, validates them, and stores them
/// unless `validate_only`.
fn update(
    ctx: &RequestContext,
    resource_type: i8,
    name: &str,
    validate_only: bool,
    next: impl FnOnce(
        &BTreeMap<String, String>,
        &dyn Fn(&str) -> Option<String>,
    ) -> Result<BTreeMap<String, String>, (ErrorCode, String)>,
) -> ResourceResult {
    if matches!(
        resource_type,
        RESOURCE_TOPIC | RESOURCE_BROKER | RESOURCE_GROUP
    ) {
        super::configs::config_access(
            ctx,
            resource_type,
            name,
            kafka_protocol::acl::AclOperation::AlterConfigs,
        )?;
    }
    let state = &ctx.state;
    match resource_type {
        RESOURCE_TOPIC => {
            let mut topics = lock(&state.topics);
            let topic = topics.get_mut(name).ok_or((
                ErrorCode::UnknownTopicOrPartition,
                format!("Topic '{name}' does not exist."),
            ))?;
            let message_max_bytes = state.settings().message_max_bytes;
            let default_of = |n: &str| {
                crate::config::topic_config(n)
                    .map(|d| crate::config::topic_default(d, message_max_bytes))
            };
            let proposed = next(&topic.configs, &default_of)?;
            let valid =
                validate_configs(proposed.iter().map(|(k, v)| (k.as_str(), Some(v.as_str()))))?;
            if !validate_only {
                topic.set_configs(valid);
            }
            Ok(())
        }
        RESOURCE_BROKER => {
            let broker_id = broker_resource(state, name)?;
            let current = state.settings().overrides;
            let base = crate::config::broker_configs(&state.config, broker_id);
            let default_of = |n: &str| base.get(n).cloned();
            let proposed = next(&current, &default_of)?;
            validate_broker_configs(&proposed)?;
            if !validate_only {
                apply_broker_overrides(state, proposed);
            }
            Ok(())
        }
        RESOURCE_GROUP => {
            let mut groups = lock(&state.group_configs);
            let current = groups.get(name).cloned().unwrap_or_default();
            let default_of =
                |n: &str| crate::group_configs::group_config(n).map(|d| d.default.to_string());
            let proposed = next(&current, &default_of)?;
            for (k, v) in &proposed {
                crate::group_configs::validate_group_config(k, v)
                    .map_err(|m| (ErrorCode::InvalidConfig, m))?;
            }
            if !validate_only {
                if proposed.is_empty() {
                    groups.remove(name);
                } else {
                    groups.insert(name.to_string(), proposed);
                }
            }
            Ok(())
        }
        other => Err((
            ErrorCode::InvalidRequest,
            format!("Unsupported resource type {other}"),
        )),
    }
}

//! Configs of topics, brokers and groups: describe (with synonyms, sources and documentation
//! where the broker gives them), incremental alter (KIP-339) and the older whole-set alter.
//!
//! A broker's configs (and its loggers') are held by that broker, so requests for them go to
//! it; every other resource's go to any broker.

use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::{
    alter_configs_request, incremental_alter_configs_request, AlterConfigsRequest,
    DescribeConfigsRequest, IncrementalAlterConfigsRequest,
};
use kafka_protocol::BrokerId;

use crate::error::{AdminError, Result};
use crate::router::{self, ItemResults};
use crate::AdminClient;

/// What a config belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ResourceType {
    /// A topic (2).
    Topic,
    /// A broker (4), named by its id; the empty name is the cluster-wide default.
    Broker,
    /// A broker's loggers (8).
    BrokerLogger,
    /// Client metrics subscriptions (16, KIP-714).
    ClientMetrics,
    /// A consumer or share group (32, KIP-848).
    Group,
}

impl ResourceType {
    /// The wire value.
    pub fn code(self) -> i8 {
        match self {
            ResourceType::Topic => 2,
            ResourceType::Broker => 4,
            ResourceType::BrokerLogger => 8,
            ResourceType::ClientMetrics => 16,
            ResourceType::Group => 32,
        }
    }

    fn from_code(code: i8) -> Option<ResourceType> {
        Some(match code {
            2 => ResourceType::Topic,
            4 => ResourceType::Broker,
            8 => ResourceType::BrokerLogger,
            16 => ResourceType::ClientMetrics,
            32 => ResourceType::Group,
            _ => return None,
        })
    }
}

/// A resource whose configs are described or altered.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConfigResource {
    /// Its type.
    pub kind: ResourceType,
    /// Its name: a topic, a broker id, a group.
    pub name: String,
}

impl ConfigResource {
    /// A topic's configs.
    pub fn topic(name: impl Into<String>) -> ConfigResource {
        ConfigResource {
            kind: ResourceType::Topic,
            name: name.into(),
        }
    }

    /// Broker `id`'s configs.
    pub fn broker(id: i32) -> ConfigResource {
        ConfigResource {
            kind: ResourceType::Broker,
            name: id.to_string(),
        }
    }

    /// The cluster-wide default broker configs.
    pub fn broker_default() -> ConfigResource {
        ConfigResource {
            kind: ResourceType::Broker,
            name: String::new(),
        }
    }

    /// A group's configs.
    pub fn group(name: impl Into<String>) -> ConfigResource {
        ConfigResource {
            kind: ResourceType::Group,
            name: name.into(),
        }
    }

    /// The broker that must answer for this resource, if one must.
    fn owner(&self) -> Option<BrokerId> {
        match self.kind {
            ResourceType::Broker | ResourceType::BrokerLogger => {
                self.name.parse().ok().map(BrokerId)
            }
            _ => None,
        }
    }
}

/// Where a config's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum ConfigSource {
    Unknown,
    DynamicTopicConfig,
    DynamicBrokerConfig,
    DynamicDefaultBrokerConfig,
    StaticBrokerConfig,
    DefaultConfig,
    DynamicBrokerLoggerConfig,
    ClientMetricsConfig,
    GroupConfig,
}

impl ConfigSource {
    fn from_code(code: i8) -> ConfigSource {
        match code {
            1 => ConfigSource::DynamicTopicConfig,
            2 => ConfigSource::DynamicBrokerConfig,
            3 => ConfigSource::DynamicDefaultBrokerConfig,
            4 => ConfigSource::StaticBrokerConfig,
            5 => ConfigSource::DefaultConfig,
            6 => ConfigSource::DynamicBrokerLoggerConfig,
            7 => ConfigSource::ClientMetricsConfig,
            8 => ConfigSource::GroupConfig,
            _ => ConfigSource::Unknown,
        }
    }
}

/// One config of a described resource.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ConfigEntry {
    /// The key.
    pub name: String,
    /// The value; `None` when sensitive or unset.
    pub value: Option<String>,
    /// Where the value comes from.
    pub source: ConfigSource,
    /// Whether the value is secret.
    pub is_sensitive: bool,
    /// Whether it cannot be changed.
    pub is_read_only: bool,
    /// Where else the key is set, most specific first (`include_synonyms`).
    pub synonyms: Vec<(String, Option<String>, ConfigSource)>,
    /// The value's type: 1 boolean, 2 string, 3 int, 4 short, 5 long, 6 double, 7 list,
    /// 8 class, 9 password; 0 when not reported.
    pub config_type: i8,
    /// The documentation, where the broker gives it.
    pub documentation: Option<String>,
}

impl ConfigEntry {
    /// Whether the value is the default (no override at any level).
    pub fn is_default(&self) -> bool {
        self.source == ConfigSource::DefaultConfig
    }
}

/// One change of [`AdminClient::incremental_alter_configs`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AlterConfigOp {
    /// Sets the key (0).
    Set(String, String),
    /// Removes the override, back to the default (1).
    Delete(String),
    /// Adds to a list-valued key (2).
    Append(String, String),
    /// Removes from a list-valued key (3).
    Subtract(String, String),
}

impl AlterConfigOp {
    fn wire(&self) -> incremental_alter_configs_request::AlterableConfig {
        let (name, op, value) = match self {
            AlterConfigOp::Set(k, v) => (k, 0, Some(v)),
            AlterConfigOp::Delete(k) => (k, 1, None),
            AlterConfigOp::Append(k, v) => (k, 2, Some(v)),
            AlterConfigOp::Subtract(k, v) => (k, 3, Some(v)),
        };
        incremental_alter_configs_request::AlterableConfig::default()
            .with_name(name.as_str())
            .with_config_operation(op)
            .with_value(value.map(|v| v.as_str().into()))
    }
}

/// Resources grouped by the broker that must answer for them (`None`: any broker).
fn by_owner(resources: Vec<ConfigResource>) -> BTreeMap<Option<BrokerId>, Vec<ConfigResource>> {
    let mut groups: BTreeMap<Option<BrokerId>, Vec<ConfigResource>> = BTreeMap::new();
    for r in resources {
        groups.entry(r.owner()).or_default().push(r);
    }
    groups
}

async fn connection_for(
    admin: &AdminClient,
    owner: Option<BrokerId>,
) -> Result<Arc<kafka_client::Connection>> {
    match owner {
        Some(id) => router::broker(&admin.client, id).await,
        None => router::any(&admin.client).await,
    }
}

/// Sends one request per owner and merges the per-resource answers.
async fn per_owner<T, F, Fut>(
    admin: &AdminClient,
    resources: Vec<ConfigResource>,
    send: F,
) -> Result<Vec<(ConfigResource, Result<T>)>>
where
    F: Fn(Arc<kafka_client::Connection>, Vec<ConfigResource>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<(ConfigResource, Result<T>)>>>,
{
    let mut out = Vec::new();
    for (owner, resources) in by_owner(resources) {
        let conn = connection_for(admin, owner).await;
        let answers = match conn {
            Ok(conn) => send(conn, resources.clone()).await,
            Err(e) => Err(e),
        };
        match answers {
            Ok(a) => out.extend(a),
            Err(e) if router::retriable(&e) => {
                out.extend(resources.into_iter().map(|r| (r, Err(e.clone()))));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

fn resource_of(kind: i8, name: &str) -> Option<ConfigResource> {
    Some(ConfigResource {
        kind: ResourceType::from_code(kind)?,
        name: name.to_string(),
    })
}

impl AdminClient {
    /// Describes every config of each resource, with synonyms and documentation.
    pub async fn describe_configs(
        &self,
        resources: &[ConfigResource],
    ) -> Result<ItemResults<ConfigResource, Vec<ConfigEntry>>> {
        let call = self.call("describe_configs");
        router::retry_items(&self.client, &call, resources.to_vec(), |resources| {
            per_owner(self, resources, |conn, resources| async move {
                let request = DescribeConfigsRequest::default()
                    .with_include_synonyms(true)
                    .with_include_documentation(true)
                    .with_resources(
                        resources
                            .iter()
                            .map(|r| {
                                DescribeConfigsResource::default()
                                    .with_resource_type(r.kind.code())
                                    .with_resource_name(r.name.as_str())
                                    .with_configuration_keys(None)
                            })
                            .collect(),
                    );
                let response = conn.send(&request).await?;
                Ok(response
                    .results
                    .into_iter()
                    .filter_map(|r| {
                        let resource = resource_of(r.resource_type, &r.resource_name)?;
                        let result =
                            match AdminError::from_code(r.error_code, r.error_message.as_deref()) {
                                Some(e) => Err(e),
                                None => Ok(r
                                    .configs
                                    .into_iter()
                                    .map(|c| ConfigEntry {
                                        name: c.name.to_string(),
                                        value: c.value.map(|v| v.to_string()),
                                        // v0 has no source, only is_default.
                                        source: if c.config_source == -1 && c.is_default {
                                            ConfigSource::DefaultConfig
                                        } else {
                                            ConfigSource::from_code(c.config_source)
                                        },
                                        is_sensitive: c.is_sensitive,
                                        is_read_only: c.read_only,
                                        synonyms: c
                                            .synonyms
                                            .into_iter()
                                            .map(|s| {
                                                (
                                                    s.name.to_string(),
                                                    s.value.map(|v| v.to_string()),
                                                    ConfigSource::from_code(s.source),
                                                )
                                            })
                                            .collect(),
                                        config_type: c.config_type,
                                        documentation: c.documentation.map(|d| d.to_string()),
                                    })
                                    .collect()),
                            };
                        Some((resource, result))
                    })
                    .collect())
            })
        })
        .await
    }

    /// Changes configs key by key (IncrementalAlterConfigs, KIP-339): set, delete, append and
    /// subtract, leaving other keys as they are.
    pub async fn incremental_alter_configs(
        &self,
        changes: BTreeMap<ConfigResource, Vec<AlterConfigOp>>,
    ) -> Result<ItemResults<ConfigResource, ()>> {
        let call = self.call("incremental_alter_configs");
        let validate_only = self.validate_only;
        let changes = &changes;
        router::retry_items(&self.client, &call, changes.keys().cloned().collect(), |resources| {
            per_owner(self, resources, move |conn, resources| async move {
                let request = IncrementalAlterConfigsRequest::default()
                    .with_validate_only(validate_only)
                    .with_resources(
                        resources
                            .iter()
                            .map(|r| {
                                incremental_alter_configs_request::AlterConfigsResource::default()
                                    .with_resource_type(r.kind.code())
                                    .with_resource_name(r.name.as_str())
                                    .with_configs(changes.get(r).into_iter().flatten().map(AlterConfigOp::wire).collect())
                            })
                            .collect(),
                    );
                let response = conn.send(&request).await?;
                Ok(response
                    .responses
                    .into_iter()
                    .filter_map(|r| {
                        let resource = resource_of(r.resource_type, &r.resource_name)?;
                        let result = AdminError::check(r.error_code, r.error_message.as_deref());
                        Some((resource, result))
                    })
                    .collect())
            })
        })
        .await
    }

    /// Replaces each resource's whole set of overrides (AlterConfigs): keys left out go back
    /// to their defaults. Prefer [`incremental_alter_configs`](Self::incremental_alter_configs).
    pub async fn alter_configs(
        &self,
        configs: BTreeMap<ConfigResource, BTreeMap<String, String>>,
    ) -> Result<ItemResults<ConfigResource, ()>> {
        let call = self.call("alter_configs");
        let validate_only = self.validate_only;
        let configs = &configs;
        router::retry_items(
            &self.client,
            &call,
            configs.keys().cloned().collect(),
            |resources| {
                per_owner(self, resources, move |conn, resources| async move {
                    let request = AlterConfigsRequest::default()
                        .with_validate_only(validate_only)
                        .with_resources(
                            resources
                                .iter()
                                .map(|r| {
                                    alter_configs_request::AlterConfigsResource::default()
                                        .with_resource_type(r.kind.code())
                                        .with_resource_name(r.name.as_str())
                                        .with_configs(
                                            configs
                                                .get(r)
                                                .into_iter()
                                                .flatten()
                                                .map(|(k, v)| {
                                                    alter_configs_request::AlterableConfig::default(
                                                    )
                                                    .with_name(k.as_str())
                                                    .with_value(Some(v.as_str().into()))
                                                })
                                                .collect(),
                                        )
                                })
                                .collect(),
                        );
                    let response = conn.send(&request).await?;
                    Ok(response
                        .responses
                        .into_iter()
                        .filter_map(|r| {
                            let resource = resource_of(r.resource_type, &r.resource_name)?;
                            let result =
                                AdminError::check(r.error_code, r.error_message.as_deref());
                            Some((resource, result))
                        })
                        .collect())
                })
            },
        )
        .await
    }
}

//! The cluster: its brokers, racks, controller and id; each broker's log dirs; feature levels
//! (KIP-584), read from ApiVersions and changed with UpdateFeatures.

use std::collections::BTreeMap;

use kafka_protocol::messages::update_features_request::FeatureUpdateKey;
use kafka_protocol::messages::{
    ApiVersionsRequest, DescribeClusterRequest, DescribeLogDirsRequest, UpdateFeaturesRequest,
};
use kafka_protocol::{ApiKey, BrokerId};

use crate::error::{AdminError, Result};
use crate::router::{self, ItemResults};
use crate::{AdminClient, TopicPartition};

/// A broker.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub struct Node {
    /// Its id.
    pub id: i32,
    /// Its advertised host.
    pub host: String,
    /// Its advertised port.
    pub port: i32,
    /// Its `broker.rack`, if set.
    pub rack: Option<String>,
}

/// What [`AdminClient::describe_cluster`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClusterDescription {
    /// The cluster id.
    pub cluster_id: Option<String>,
    /// The controller as clients see it (under KRaft, a broker that forwards to it).
    pub controller: Option<i32>,
    /// The brokers, by id.
    pub brokers: Vec<Node>,
}

/// One log dir of a broker ([`AdminClient::describe_log_dirs`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogDirDescription {
    /// The dir's own error (KAFKA_STORAGE_ERROR for an offline dir), if any.
    pub error: Option<AdminError>,
    /// Its size in bytes (v4+), if known.
    pub total_bytes: Option<i64>,
    /// Its free space in bytes (v4+), if known.
    pub usable_bytes: Option<i64>,
    /// Each replica in it: size in bytes and lag behind the log end (future replicas of a
    /// move between dirs have a lag).
    pub replicas: BTreeMap<TopicPartition, ReplicaInfo>,
}

/// A replica in a log dir.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplicaInfo {
    /// Bytes on disk.
    pub size: i64,
    /// How far behind the log end offset it is.
    pub offset_lag: i64,
    /// Whether it is the future replica of a move between log dirs.
    pub is_future: bool,
}

impl PartialEq for AdminError {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}
impl Eq for AdminError {}

/// Feature levels ([`AdminClient::describe_features`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FeatureMetadata {
    /// Finalized features: name, lowest and highest finalized level.
    pub finalized: BTreeMap<String, (i16, i16)>,
    /// The epoch of the finalized levels, if the broker says.
    pub finalized_epoch: Option<i64>,
    /// Features the answering broker supports: name, lowest and highest level.
    pub supported: BTreeMap<String, (i16, i16)>,
}

/// How [`AdminClient::update_features`] may move a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpgradeType {
    /// Only up (1).
    Upgrade,
    /// Down, keeping metadata (2).
    SafeDowngrade,
    /// Down, possibly losing metadata (3).
    UnsafeDowngrade,
}

impl AdminClient {
    /// The cluster id, controller and brokers (DescribeCluster, KIP-700; Metadata on brokers
    /// older than 2.8).
    pub async fn describe_cluster(&self) -> Result<ClusterDescription> {
        let call = self.call("describe_cluster");
        router::retry(&self.client, &call, || async {
            let conn = router::any(&self.client).await?;
            if conn.version_for(ApiKey::DescribeCluster).is_ok() {
                let response = conn.send(&DescribeClusterRequest::default()).await?;
                if let Some(e) =
                    AdminError::from_code(response.error_code, response.error_message.as_deref())
                {
                    return Err(e);
                }
                let mut brokers: Vec<Node> = response
                    .brokers
                    .into_iter()
                    .map(|b| Node {
                        id: b.broker_id.0,
                        host: b.host.to_string(),
                        port: b.port,
                        rack: b.rack.map(|r| r.to_string()),
                    })
                    .collect();
                brokers.sort();
                return Ok(ClusterDescription {
                    cluster_id: Some(response.cluster_id.to_string()),
                    controller: (response.controller_id.0 >= 0).then_some(response.controller_id.0),
                    brokers,
                });
            }
            let response = self.client.refresh_metadata(&[], false).await?;
            let mut brokers: Vec<Node> = response
                .brokers
                .into_iter()
                .map(|b| Node {
                    id: b.node_id.0,
                    host: b.host.to_string(),
                    port: b.port,
                    rack: b.rack.map(|r| r.to_string()),
                })
                .collect();
            brokers.sort();
            Ok(ClusterDescription {
                cluster_id: response.cluster_id.map(|c| c.to_string()),
                controller: (response.controller_id.0 >= 0).then_some(response.controller_id.0),
                brokers,
            })
        })
        .await
    }

    /// Each broker's log dirs and the replicas in them (DescribeLogDirs, at each broker).
    pub async fn describe_log_dirs(
        &self,
        brokers: &[i32],
    ) -> Result<ItemResults<i32, BTreeMap<String, LogDirDescription>>> {
        let call = self.call("describe_log_dirs");
        router::retry_items(&self.client, &call, brokers.to_vec(), |ids| async move {
            let mut out = Vec::new();
            for id in ids {
                let result = async {
                    let conn = router::broker(&self.client, BrokerId(id)).await?;
                    let response = conn
                        .send(&DescribeLogDirsRequest::default().with_topics(None))
                        .await?;
                    if let Some(e) = AdminError::from_code(response.error_code, None) {
                        return Err(e);
                    }
                    Ok(response
                        .results
                        .into_iter()
                        .map(|d| {
                            let replicas = d
                                .topics
                                .iter()
                                .flat_map(|t| {
                                    t.partitions.iter().map(move |p| {
                                        (
                                            (t.name.clone(), p.partition_index),
                                            ReplicaInfo {
                                                size: p.partition_size,
                                                offset_lag: p.offset_lag,
                                                is_future: p.is_future_key,
                                            },
                                        )
                                    })
                                })
                                .collect();
                            (
                                d.log_dir.to_string(),
                                LogDirDescription {
                                    error: AdminError::from_code(d.error_code, None),
                                    total_bytes: (d.total_bytes >= 0).then_some(d.total_bytes),
                                    usable_bytes: (d.usable_bytes >= 0).then_some(d.usable_bytes),
                                    replicas,
                                },
                            )
                        })
                        .collect())
                }
                .await;
                out.push((id, result));
            }
            Ok(out)
        })
        .await
    }

    /// Supported and finalized feature levels, from any broker's ApiVersions (v3+).
    pub async fn describe_features(&self) -> Result<FeatureMetadata> {
        let call = self.call("describe_features");
        router::retry(&self.client, &call, || async {
            let conn = router::any(&self.client).await?;
            let version = conn.version_for(ApiKey::ApiVersions)?;
            if version < 3 {
                return Err(AdminError::UnsupportedVersion {
                    operation: "describe_features",
                    api: ApiKey::ApiVersions,
                    needed: "v3+".into(),
                    broker: format!("the broker speaks at most v{version}"),
                });
            }
            let request = ApiVersionsRequest::default()
                .with_client_software_name("kafka-sdk-rust")
                .with_client_software_version(env!("CARGO_PKG_VERSION"));
            let response = conn.send(&request).await?;
            if let Some(e) = AdminError::from_code(response.error_code, None) {
                return Err(e);
            }
            Ok(FeatureMetadata {
                finalized: response
                    .finalized_features
                    .into_iter()
                    .map(|f| {
                        (
                            f.name.to_string(),
                            (f.min_version_level, f.max_version_level),
                        )
                    })
                    .collect(),
                finalized_epoch: (response.finalized_features_epoch >= 0)
                    .then_some(response.finalized_features_epoch),
                supported: response
                    .supported_features
                    .into_iter()
                    .map(|f| (f.name.to_string(), (f.min_version, f.max_version)))
                    .collect(),
            })
        })
        .await
    }

    /// Finalizes feature levels (UpdateFeatures, at the controller). Kafka applies the updates
    /// of one request together: when one is refused, none is applied.
    pub async fn update_features(
        &self,
        updates: BTreeMap<String, (i16, UpgradeType)>,
    ) -> Result<ItemResults<String, ()>> {
        let call = self.call("update_features");
        let validate_only = self.validate_only;
        let updates = &updates;
        router::retry_items(
            &self.client,
            &call,
            updates.keys().cloned().collect(),
            |names| {
                let timeout = call.remaining_ms();
                async move {
                    let conn = router::controller(&self.client).await?;
                    let version = conn.version_for(ApiKey::UpdateFeatures)?;
                    let request = UpdateFeaturesRequest::default()
                        .with_timeout_ms(timeout)
                        .with_validate_only(validate_only && version >= 1)
                        .with_feature_updates(
                            names
                                .iter()
                                .filter_map(|n| updates.get(n).map(|u| (n, u)))
                                .map(|(name, (level, how))| {
                                    let code = match how {
                                        UpgradeType::Upgrade => 1,
                                        UpgradeType::SafeDowngrade => 2,
                                        UpgradeType::UnsafeDowngrade => 3,
                                    };
                                    FeatureUpdateKey::default()
                                        .with_feature(name.as_str())
                                        .with_max_version_level(*level)
                                        .with_allow_downgrade(code != 1)
                                        .with_upgrade_type(code)
                                })
                                .collect(),
                        );
                    let response = conn.send(&request).await?;
                    let top = AdminError::from_code(
                        response.error_code,
                        response.error_message.as_deref(),
                    );
                    // v2 dropped the per-feature results: the top-level error speaks for all.
                    if version >= 2 || response.results.is_empty() {
                        return Ok(names
                            .into_iter()
                            .map(|n| (n, top.clone().map_or(Ok(()), Err)))
                            .collect());
                    }
                    Ok(response
                        .results
                        .into_iter()
                        .map(|r| {
                            let own =
                                AdminError::from_code(r.error_code, r.error_message.as_deref());
                            let result = match own.or_else(|| top.clone()) {
                                Some(e) => Err(e),
                                None => Ok(()),
                            };
                            (r.feature.to_string(), result)
                        })
                        .collect())
                }
            },
        )
        .await
    }
}

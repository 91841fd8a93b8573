//! A Kafka admin client: the operations of Java's `AdminClient`, answering as it does, with a
//! result per item so that one topic's (group's, partition's) failure never fails the others.
//!
//! ```no_run
//! # async fn demo() -> Result<(), kafka_admin::AdminError> {
//! use kafka_admin::{AdminClient, AdminConfig, NewTopic};
//!
//! let admin = AdminClient::connect(AdminConfig::new("127.0.0.1:9092")).await?;
//! let created = admin
//!     .create_topics(vec![NewTopic::new("orders", 6, 3).with_config("cleanup.policy", "compact")])
//!     .await?;
//! for (topic, result) in &created {
//!     match result {
//!         Ok(t) => println!("{topic}: created with {} partitions", t.partitions),
//!         Err(e) => println!("{topic}: {e}"),
//!     }
//! }
//! let described = admin.describe_topics(&["orders".into()]).await?;
//! # let _ = described;
//! # Ok(())
//! # }
//! ```
//!
//! Modules by subject: [`topics`] (create, delete, list, describe, partitions), [`configs`],
//! [`groups`] (groups and their offsets), [`offsets`] (list offsets, delete records, producers),
//! [`cluster`] (cluster, log dirs, features), [`replicas`] (elections, reassignments),
//! [`quotas`], [`scram`] (SCRAM users), [`acls`] (ACLs, with the types in [`acl`]). Where each request goes and how it is retried is in `router`.
#![deny(missing_docs)]

pub mod acls;
pub mod cluster;
pub mod configs;
mod error;
pub mod groups;
pub mod offsets;
pub mod quotas;
pub mod replicas;
mod router;
pub mod scram;
pub mod topics;
pub mod transactions;

use std::time::Duration;

use kafka_client::{Client, ClientConfig};

/// The ACL types the ACL operations take ([`kafka_protocol::acl`]).
pub mod acl {
    pub use kafka_protocol::acl::{
        AccessControlEntry, AclBinding, AclBindingFilter, AclOperation, AclPermissionType,
        PatternType, ResourcePattern, ResourceType, CLUSTER_NAME, WILDCARD, WILDCARD_PRINCIPAL,
    };
}
pub use cluster::{ClusterDescription, FeatureMetadata, LogDirDescription, Node};
pub use configs::{AlterConfigOp, ConfigEntry, ConfigResource, ConfigSource, ResourceType};
pub use error::{AdminError, Result};
pub use groups::{GroupDescription, GroupListing, MemberDescription, OffsetSpecForReset};
pub use offsets::{ListedOffset, OffsetSpec};
pub use quotas::{QuotaAlteration, QuotaEntity, QuotaFilter};
pub use replicas::{ElectionType, PartitionReassignment};
pub use router::ItemResults;
pub use scram::{ScramAlteration, ScramCredentialInfo};
pub use topics::{
    CreatedTopic, NewPartitions, NewTopic, PartitionDescription, TopicDescription, TopicListing,
};
pub use transactions::{
    AbortTransactionSpec, ListTransactionsFilter, TransactionDescription, TransactionListing,
};

/// A topic and a partition index.
pub type TopicPartition = (kafka_protocol::TopicName, i32);

/// Settings: the client core's (`bootstrap.servers`, `request.timeout.ms`, `retry.backoff.ms`,
/// ...) and `default.api.timeout.ms`, each operation's overall deadline.
#[derive(Debug, Clone)]
pub struct AdminConfig {
    /// The shared client settings.
    pub client: ClientConfig,
    /// `default.api.timeout.ms`: how long one operation may take, retries included (60 s).
    pub default_api_timeout: Duration,
}

impl AdminConfig {
    /// Java's defaults, for `bootstrap` (`host:port[,host:port...]`).
    pub fn new(bootstrap: &str) -> AdminConfig {
        AdminConfig {
            client: ClientConfig::new(bootstrap).with_client_id("adminclient"),
            default_api_timeout: Duration::from_secs(60),
        }
    }

    /// Sets `default.api.timeout.ms`.
    pub fn with_default_api_timeout(mut self, timeout: Duration) -> Self {
        self.default_api_timeout = timeout;
        self
    }

    /// Builds a configuration from Java-named properties; unknown keys are errors.
    pub fn from_properties<'a>(
        props: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<AdminConfig> {
        let mut config = AdminConfig::new("");
        for (key, value) in props {
            if key == "default.api.timeout.ms" {
                config.default_api_timeout = kafka_client::config::parse_ms(key, value)?;
            } else if !config.client.set(key, value)? {
                return Err(kafka_client::config::unknown(key).into());
            }
        }
        config.client.validate()?;
        Ok(config)
    }
}

/// The admin client. Cheap to clone; clones share connections.
///
/// [`with_timeout`](Self::with_timeout) and [`validate_only`](Self::validate_only) return
/// handles whose operations use another deadline, or only validate what they would change
/// (CreateTopics, CreatePartitions, AlterConfigs, IncrementalAlterConfigs, AlterClientQuotas,
/// UpdateFeatures, and resetting group offsets, which then only computes the offsets).
#[derive(Debug, Clone)]
pub struct AdminClient {
    client: Client,
    timeout: Duration,
    validate_only: bool,
}

impl AdminClient {
    /// Connects: bootstraps and fetches cluster metadata.
    pub async fn connect(config: AdminConfig) -> Result<AdminClient> {
        let client = Client::connect(config.client).await?;
        Ok(AdminClient::from_client(client, config.default_api_timeout))
    }

    /// An admin client over an existing core client (sharing its connections).
    pub fn from_client(client: Client, default_api_timeout: Duration) -> AdminClient {
        AdminClient {
            client,
            timeout: default_api_timeout,
            validate_only: false,
        }
    }

    /// A handle whose operations each have `timeout` instead of `default.api.timeout.ms`.
    pub fn with_timeout(&self, timeout: Duration) -> AdminClient {
        AdminClient {
            timeout,
            ..self.clone()
        }
    }

    /// A handle whose changing operations only validate (see the type's docs).
    pub fn validate_only(&self) -> AdminClient {
        AdminClient {
            validate_only: true,
            ..self.clone()
        }
    }

    /// The client core underneath.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn call(&self, operation: &'static str) -> router::Call {
        router::Call::new(operation, self.timeout)
    }
}

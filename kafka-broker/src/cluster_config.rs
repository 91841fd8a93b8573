//! Settings of an in-process cluster, and their validation.

use std::time::Duration;

use kafka_protocol::records::RECORD_BATCH_OVERHEAD;

use crate::error::{BrokerError, Result};

/// Settings of an in-process cluster.
///
/// ```
/// use kafka_broker::ClusterConfig;
///
/// let config = ClusterConfig::default().with_brokers(3).with_default_partitions(6);
/// assert_eq!(config.brokers, 3);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClusterConfig {
    /// Number of brokers; ids are `0..brokers`.
    pub brokers: usize,
    /// Host to bind and advertise, `127.0.0.1` by default.
    pub host: String,
    /// First port: broker `i` listens on `port + i`. `0` picks free ports.
    pub port: u16,
    /// Partitions of an auto-created topic, and of `CreateTopics` with `num_partitions = -1`
    /// (Kafka's `num.partitions`).
    pub default_partitions: i32,
    /// Whether Metadata creates unknown topics (Kafka's `auto.create.topics.enable`).
    pub auto_create_topics: bool,
    /// Largest record batch a topic accepts unless it overrides `max.message.bytes`
    /// (Kafka's `message.max.bytes`, 1048588 by default).
    pub message_max_bytes: i32,
    /// The cluster id Metadata and DescribeCluster report.
    pub cluster_id: String,
    /// The group coordinator's settings (session timeout bounds, initial rebalance delay...).
    pub group: crate::group::GroupConfig,
    /// How long shutdown waits for connections to finish before aborting them.
    pub shutdown_timeout: Duration,
    /// SASL on every listener (SASL_PLAINTEXT, or SASL_SSL with `tls`); `None` (the default)
    /// for PLAINTEXT.
    pub sasl: Option<SaslConfig>,
    /// TLS on every listener (SSL, or SASL_SSL with `sasl`).
    pub tls: Option<crate::tls::TlsConfig>,
    /// The most connections one broker holds at once; more are closed as they arrive, so that
    /// a flood of connections cannot exhaust the process (4096).
    pub max_connections: usize,
    /// ACLs (an authorizer, as Kafka's `authorizer.class.name` enables); `None` (the default)
    /// allows every principal everything, as Kafka without an authorizer does.
    pub acl: Option<crate::authorizer::AclConfig>,
    /// The transaction coordinator's settings.
    pub transactions: TransactionConfig,
}

/// The transaction coordinator's settings, with Kafka's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransactionConfig {
    /// The longest `transaction.timeout.ms` a producer may ask for (Kafka's
    /// `transaction.max.timeout.ms`, 15 minutes).
    pub max_timeout: Duration,
    /// How often open transactions are checked against their timeout and aborted (Kafka's
    /// `transaction.abort.timed.out.transaction.cleanup.interval.ms`, 10 s).
    pub abort_check_interval: Duration,
}

impl Default for TransactionConfig {
    fn default() -> Self {
        TransactionConfig {
            max_timeout: Duration::from_secs(900),
            abort_check_interval: Duration::from_secs(10),
        }
    }
}

/// The SASL a cluster's listeners require: the enabled mechanisms and the users.
#[derive(Clone, Default)]
pub struct SaslConfig {
    /// Enabled mechanisms, in the order SaslHandshake lists them.
    pub mechanisms: Vec<kafka_protocol::sasl::Mechanism>,
    /// Users and their passwords (for SCRAM the broker stores only salted keys derived from
    /// them at start-up).
    pub users: std::collections::BTreeMap<String, String>,
    /// How long a connection may take to authenticate before it is closed, so that a flood of
    /// unauthenticated connections cannot hold the broker's resources (10 s).
    pub authentication_timeout: Duration,
    /// The longest an authenticated session lasts before the client must re-authenticate on
    /// the same connection (KIP-368, Kafka's `connections.max.reauth.ms`); `None` (Kafka's
    /// default, 0) for sessions that never expire. A connection whose session expired is
    /// closed at its next request other than SaslHandshake.
    pub max_reauth: Option<Duration>,
}

impl std::fmt::Debug for SaslConfig {
    // Passwords never reach Debug output (or logs that print configs).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaslConfig")
            .field("mechanisms", &self.mechanisms)
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .field("authentication_timeout", &self.authentication_timeout)
            .field("max_reauth", &self.max_reauth)
            .finish()
    }
}

impl SaslConfig {
    /// SASL with `mechanisms` and no users yet.
    pub fn new(mechanisms: &[kafka_protocol::sasl::Mechanism]) -> SaslConfig {
        SaslConfig {
            mechanisms: mechanisms.to_vec(),
            users: Default::default(),
            authentication_timeout: Duration::from_secs(10),
            max_reauth: None,
        }
    }

    /// Sessions expire after `max_reauth` (`connections.max.reauth.ms`, KIP-368).
    pub fn with_max_reauth(mut self, max_reauth: Duration) -> Self {
        self.max_reauth = Some(max_reauth);
        self
    }

    /// Adds a user.
    pub fn with_user(mut self, name: impl Into<String>, password: impl Into<String>) -> Self {
        self.users.insert(name.into(), password.into());
        self
    }
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            brokers: 1,
            host: "127.0.0.1".to_string(),
            port: 0,
            default_partitions: 1,
            auto_create_topics: true,
            message_max_bytes: DEFAULT_MESSAGE_MAX_BYTES,
            cluster_id: "kafka-broker-cluster".to_string(),
            group: crate::group::GroupConfig::default(),
            shutdown_timeout: Duration::from_secs(5),
            sasl: None,
            tls: None,
            max_connections: 4096,
            acl: None,
            transactions: TransactionConfig::default(),
        }
    }
}

impl ClusterConfig {
    /// Sets the number of brokers.
    pub fn with_brokers(mut self, brokers: usize) -> Self {
        self.brokers = brokers;
        self
    }

    /// Sets the host to bind and advertise.
    pub fn with_host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// Sets the first port (`0`: any free port for every broker).
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Sets the partition count of auto-created topics.
    pub fn with_default_partitions(mut self, partitions: i32) -> Self {
        self.default_partitions = partitions;
        self
    }

    /// Turns topic auto-creation on or off.
    pub fn with_auto_create_topics(mut self, enabled: bool) -> Self {
        self.auto_create_topics = enabled;
        self
    }

    /// Sets the cluster id Metadata and DescribeCluster report.
    pub fn with_cluster_id(mut self, cluster_id: impl Into<String>) -> Self {
        self.cluster_id = cluster_id.into();
        self
    }

    /// Sets the broker-wide `message.max.bytes`.
    pub fn with_message_max_bytes(mut self, bytes: i32) -> Self {
        self.message_max_bytes = bytes;
        self
    }

    /// Sets `group.initial.rebalance.delay.ms`: how long the first rebalance of an empty group
    /// waits for more members to join. Kafka's default is 3000; the bundled broker's is 0, so
    /// that tests form groups at once.
    ///
    /// ```
    /// use kafka_broker::ClusterConfig;
    ///
    /// let config = ClusterConfig::default().with_group_initial_rebalance_delay_ms(3000);
    /// assert_eq!(config.group.initial_rebalance_delay_ms, 3000);
    /// ```
    pub fn with_group_initial_rebalance_delay_ms(mut self, delay_ms: u64) -> Self {
        self.group.initial_rebalance_delay_ms = delay_ms;
        self
    }

    /// Checks open transactions against their timeout every `interval` (Kafka's
    /// `transaction.abort.timed.out.transaction.cleanup.interval.ms`, 10 s by default); tests of
    /// transaction timeouts shorten it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use kafka_broker::ClusterConfig;
    ///
    /// let config = ClusterConfig::default().with_transaction_abort_check_interval(Duration::from_millis(100));
    /// assert_eq!(config.transactions.abort_check_interval, Duration::from_millis(100));
    /// ```
    pub fn with_transaction_abort_check_interval(mut self, interval: Duration) -> Self {
        self.transactions.abort_check_interval = interval;
        self
    }

    /// Requires SASL on every listener.
    ///
    /// ```
    /// use kafka_broker::{ClusterConfig, SaslConfig};
    /// use kafka_protocol::sasl::Mechanism;
    ///
    /// let config = ClusterConfig::default()
    ///     .with_sasl(SaslConfig::new(&[Mechanism::Plain, Mechanism::ScramSha256]).with_user("alice", "s3cret"));
    /// assert!(!format!("{config:?}").contains("s3cret"));
    /// ```
    pub fn with_sasl(mut self, sasl: SaslConfig) -> Self {
        self.sasl = Some(sasl);
        self
    }

    /// Authorizes every request with ACLs.
    ///
    /// ```
    /// use kafka_broker::{AclConfig, ClusterConfig};
    ///
    /// let config = ClusterConfig::default().with_acl(AclConfig::new().with_super_user("admin"));
    /// assert_eq!(config.acl.unwrap().super_users, ["User:admin"]);
    /// ```
    pub fn with_acl(mut self, acl: crate::authorizer::AclConfig) -> Self {
        self.acl = Some(acl);
        self
    }

    /// Serves every listener over TLS.
    pub fn with_tls(mut self, tls: crate::tls::TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }
}

impl ClusterConfig {
    /// Checks that the settings make sense before anything starts: at least one broker, ports
    /// within 0..=65535 for every broker, at least one partition per topic, room for a record
    /// batch header in `message_max_bytes`, and a cluster id a client can print.
    pub fn validate(&self) -> Result<()> {
        let invalid = |m: String| Err(BrokerError::InvalidConfig(m));
        if self.brokers == 0 {
            return invalid("at least one broker is needed".into());
        }
        if self.sasl.as_ref().is_some_and(|s| s.mechanisms.is_empty()) {
            return invalid("SASL needs at least one mechanism".into());
        }
        if let Some(tls) = &self.tls {
            tls.acceptor()?;
        }
        if self.max_connections == 0 {
            return invalid("max_connections must be at least 1".into());
        }
        if i32::try_from(self.brokers).is_err() {
            return invalid("too many brokers".into());
        }
        let last_port = u64::from(self.port) + self.brokers as u64 - 1;
        if self.port != 0 && last_port > 65_535 {
            return invalid(format!(
                "ports {}..={last_port} for {} brokers exceed 65535",
                self.port, self.brokers
            ));
        }
        if self.host.trim().is_empty() {
            return invalid("the host is empty".into());
        }
        if self.default_partitions < 1 {
            return invalid(format!(
                "default partitions must be at least 1, not {}",
                self.default_partitions
            ));
        }
        // A batch is at least its 61-byte header: a smaller limit refuses every produce.
        if usize::try_from(self.message_max_bytes).map_or(true, |m| m < RECORD_BATCH_OVERHEAD) {
            return invalid(format!(
                "message.max.bytes must be at least {RECORD_BATCH_OVERHEAD} (one record batch \
                 header), not {}",
                self.message_max_bytes
            ));
        }
        if self.cluster_id.is_empty()
            || self
                .cluster_id
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return invalid(format!(
                "the cluster id must be non-empty, without spaces: {:?}",
                self.cluster_id
            ));
        }
        Ok(())
    }

    /// `host:port` as `bootstrap.servers` spells it: an IPv6 literal goes in brackets
    /// (`[::1]:9092`), since its own colons would otherwise run into the port's.
    pub(crate) fn host_port(&self, port: u16) -> String {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        }
    }
}

/// Kafka's default `message.max.bytes`: 1 MiB plus the record batch overhead.
pub const DEFAULT_MESSAGE_MAX_BYTES: i32 = 1_048_588;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonsense_is_refused_with_the_reason() {
        let ok = ClusterConfig::default();
        assert!(ok.validate().is_ok());
        let cases = [
            (ok.clone().with_brokers(0), "at least one broker"),
            (ok.clone().with_port(65_535).with_brokers(2), "exceed 65535"),
            (ok.clone().with_default_partitions(0), "partitions"),
            (ok.clone().with_message_max_bytes(0), "message.max.bytes"),
            (ok.clone().with_message_max_bytes(-5), "message.max.bytes"),
            (ok.clone().with_cluster_id(""), "cluster id"),
            (ok.clone().with_cluster_id("a b"), "cluster id"),
            (ok.clone().with_host(" "), "host"),
        ];
        for (config, reason) in cases {
            let error = config.validate().expect_err(reason).to_string();
            assert!(error.contains(reason), "{error} should say {reason}");
        }
        assert!(ok.with_port(65_535).validate().is_ok());
    }

    #[test]
    fn ipv6_hosts_are_bracketed() {
        let v4 = ClusterConfig::default();
        assert_eq!(v4.host_port(9092), "127.0.0.1:9092");
        let v6 = ClusterConfig::default().with_host("::1");
        assert_eq!(v6.host_port(9092), "[::1]:9092");
        let bracketed = ClusterConfig::default().with_host("[::1]");
        assert_eq!(bracketed.host_port(1), "[::1]:1");
        let name = ClusterConfig::default().with_host("localhost");
        assert_eq!(name.host_port(1), "localhost:1");
    }
}

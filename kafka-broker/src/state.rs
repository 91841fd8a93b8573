//! State shared by every broker of a cluster: topics, broker liveness, settings, faults.
//!
//! The brokers of an in-process cluster share one metadata image directly, the way KRaft brokers
//! converge on the controller's metadata log, only without the lag: a topic created through one
//! broker is visible to all of them at once.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use kafka_protocol::ErrorCode;

use crate::clock::Clock;
use crate::cluster_config::ClusterConfig;
use crate::fault::Faults;
use crate::features::Features;
use crate::fetch_session::FetchSessionCache;
use crate::group::{GroupCoordinator, TopicLookup};
use crate::ids::random_uuid;
use crate::log::PartitionLog;
use crate::producer_state::ProducerIdManagerConfig;
use crate::quotas::QuotaStore;
use crate::reassignment::Reassignment;
use crate::sync::lock;
use crate::topics::{validate_topic_name, Registry, Topic};

/// A broker's address and whether it is serving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BrokerInfo {
    pub id: i32,
    pub host: String,
    pub port: u16,
    pub running: bool,
}

/// Broker-level settings that DescribeConfigs/AlterConfigs on a broker resource can change.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub auto_create_topics: bool,
    pub default_partitions: i32,
    pub message_max_bytes: i32,
    /// Dynamic broker config overrides, as set through AlterConfigs.
    pub overrides: BTreeMap<String, String>,
}

/// Everything the brokers of one cluster share.
pub(crate) struct ClusterState {
    pub config: ClusterConfig,
    pub topics: Arc<Mutex<Registry>>,
    pub brokers: Mutex<Vec<BrokerInfo>>,
    pub settings: Mutex<Settings>,
    pub faults: Faults,
    /// The classic group coordinator; one serves the whole cluster, and each broker answers
    /// only for the groups placed on it.
    pub groups: Arc<GroupCoordinator>,
    /// The transaction coordinator, which also hands out every producer id; one serves the
    /// whole cluster, and each broker answers only for the transactional ids placed on it.
    pub transactions: Mutex<crate::txn::TransactionCoordinator>,
    /// Wall-clock and timer time for every broker of the cluster.
    pub clock: Clock,
    /// Each broker's incremental fetch sessions (KIP-227), by broker id.
    fetch_sessions: Mutex<HashMap<i32, FetchSessionCache>>,
    /// Rotates the first leader of each new topic so leaders spread over the brokers.
    next_leader: AtomicUsize,
    /// Reassignments in progress (KIP-455), by topic and partition.
    pub reassignments: Mutex<BTreeMap<(String, i32), Reassignment>>,
    /// While set, reassignments stay in progress until released (see `reassignment`).
    pub hold_reassignments: AtomicBool,
    /// Client quotas (KIP-546), stored and reported, not enforced.
    pub quotas: Mutex<QuotaStore>,
    /// Finalized feature levels (KIP-584).
    pub features: Mutex<Features>,
    /// The SASL users and mechanisms, when the listeners require SASL.
    pub sasl: Option<crate::sasl::SaslUsers>,
    /// The TLS acceptor, when the listeners use TLS.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// SCRAM credentials (Describe/AlterUserScramCredentials), shared with `sasl`.
    pub scram: Arc<Mutex<crate::sasl::ScramStore>>,
    /// Group config overrides (resource type GROUP), by group id.
    pub group_configs: Mutex<BTreeMap<String, BTreeMap<String, String>>>,
    /// The ACL authorizer, when ACLs are on.
    pub authorizer: Option<crate::authorizer::Authorizer>,
}

impl std::fmt::Debug for ClusterState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A request to create a topic, after the wire format has been parsed.
#[derive(Debug, Clone)]
pub(crate) struct NewTopic {
    pub name: String,
    /// Partition count; `-1` for the default.
    pub partitions: i32,
    /// Replication factor; `-1` for the default (1).
    pub replication_factor: i16,
    /// Explicit replicas per partition (preferred leader first), if given.
    pub assignments: Vec<Vec<i32>>,
    pub configs: BTreeMap<String, String>,
}

impl ClusterState {
    pub fn new(config: ClusterConfig, brokers: Vec<BrokerInfo>) -> Self {
        let scram = Arc::new(Mutex::new(crate::sasl::initial_scram(config.sasl.as_ref())));
        let config_tls = config.tls.as_ref().and_then(|t| t.acceptor().ok());
        let sasl = config
            .sasl
            .as_ref()
            .map(|c| crate::sasl::SaslUsers::new(c, Arc::clone(&scram)));
        let clock = Clock::new();
        let settings = Settings {
            auto_create_topics: config.auto_create_topics,
            default_partitions: config.default_partitions,
            message_max_bytes: config.message_max_bytes,
            overrides: BTreeMap::new(),
        };
        let topics = Arc::new(Mutex::new(Registry::default()));
        let lookup = Arc::new(RegistryLookup(Arc::clone(&topics)));
        let authorizer = config.acl.clone().map(crate::authorizer::Authorizer::new);
        ClusterState {
            groups: GroupCoordinator::with_topics(config.group.clone(), lookup, clock),
            clock,
            transactions: Mutex::new(crate::txn::TransactionCoordinator::new(
                ProducerIdManagerConfig {
                    max_transaction_timeout_ms: i32::try_from(
                        config.transactions.max_timeout.as_millis(),
                    )
                    .unwrap_or(i32::MAX),
                    ..ProducerIdManagerConfig::default()
                },
            )),
            config,
            topics,
            brokers: Mutex::new(brokers),
            settings: Mutex::new(settings),
            faults: Faults::default(),
            fetch_sessions: Mutex::new(HashMap::new()),
            next_leader: AtomicUsize::new(0),
            reassignments: Mutex::default(),
            hold_reassignments: AtomicBool::new(false),
            quotas: Mutex::default(),
            features: Mutex::default(),
            group_configs: Mutex::default(),
            authorizer,
            sasl,
            // `ClusterConfig::validate` built it once already, so this cannot fail here.
            tls: config_tls,
            scram,
        }
    }

    /// Runs `f` on broker `broker_id`'s fetch session cache.
    pub fn fetch_sessions<T>(
        &self,
        broker_id: i32,
        f: impl FnOnce(&mut FetchSessionCache) -> T,
    ) -> T {
        f(lock(&self.fetch_sessions).entry(broker_id).or_default())
    }

    /// Forgets broker `broker_id`'s fetch sessions, as a broker restart does.
    pub fn clear_fetch_sessions(&self, broker_id: i32) {
        if let Some(cache) = lock(&self.fetch_sessions).get_mut(&broker_id) {
            cache.clear();
        }
    }

    pub fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }

    /// Running brokers, sorted by id.
    pub fn live_brokers(&self) -> Vec<BrokerInfo> {
        let mut live: Vec<BrokerInfo> = lock(&self.brokers)
            .iter()
            .filter(|b| b.running)
            .cloned()
            .collect();
        live.sort_by_key(|b| b.id);
        live
    }

    pub fn broker(&self, id: i32) -> Option<BrokerInfo> {
        lock(&self.brokers).iter().find(|b| b.id == id).cloned()
    }

    pub fn is_running(&self, id: i32) -> bool {
        self.broker(id).is_some_and(|b| b.running)
    }

    /// The controller id reported to clients: the lowest running broker.
    pub fn controller_id(&self) -> i32 {
        self.live_brokers().first().map_or(-1, |b| b.id)
    }

    /// The broker that coordinates `key` (a group id or transactional id): the leader of the
    /// key's partition of `__consumer_offsets` or `__transaction_state`, placed as Kafka places
    /// it ([`crate::coordinator_placement`]; both topics have the same layout, so one function
    /// serves both).
    pub fn coordinator_for(&self, key: &str) -> Option<BrokerInfo> {
        let brokers = lock(&self.brokers).clone();
        let mut ids: Vec<i32> = brokers.iter().map(|b| b.id).collect();
        ids.sort_unstable();
        let running = |id: i32| brokers.iter().any(|b| b.id == id && b.running);
        let id = crate::coordinator_placement::coordinator_of(key, &ids, running)?;
        brokers.into_iter().find(|b| b.id == id)
    }

    /// Moves every partition led by the stopped broker `broker_id` to its first running
    /// replica, if it has one.
    pub fn fail_over(&self, broker_id: i32) {
        let logs: Vec<Arc<PartitionLog>> = lock(&self.topics)
            .iter()
            .flat_map(|t| t.partitions.iter().cloned())
            .collect();
        for log in logs {
            if log.leader().0 != broker_id {
                continue;
            }
            if let Some(next) = log
                .replicas()
                .into_iter()
                .find(|r| *r != broker_id && self.is_running(*r))
            {
                let epoch = log.elect_leader(next);
                tracing::debug!(from = broker_id, to = next, epoch, "leader failed over");
            }
        }
    }

    /// Creates a topic (or only validates it), returning the stored topic.
    pub fn create_topic(
        &self,
        new: NewTopic,
        validate_only: bool,
    ) -> Result<Topic, (ErrorCode, String)> {
        validate_topic_name(&new.name).map_err(|m| (ErrorCode::InvalidTopicException, m))?;
        let settings = self.settings();
        let live = self.live_brokers();
        let partitions = match new.partitions {
            -1 if new.assignments.is_empty() => settings.default_partitions,
            -1 => i32::try_from(new.assignments.len()).unwrap_or(i32::MAX),
            n if n > 0 => n,
            n => {
                return Err((
                    ErrorCode::InvalidPartitions,
                    format!("Number of partitions was set to an invalid non-positive value ({n})."),
                ))
            }
        };
        let replication = match new.replication_factor {
            -1 => 1,
            n if n > 0 => n,
            n => {
                return Err((
                    ErrorCode::InvalidReplicationFactor,
                    format!("Replication factor must be larger than 0, or -1 to use the default value ({n})."),
                ))
            }
        };
        if usize::try_from(replication).unwrap_or(usize::MAX) > live.len() {
            return Err((
                ErrorCode::InvalidReplicationFactor,
                format!(
                    "Unable to replicate the partition {replication} time(s): The target replication factor of {replication} cannot be reached because only {} broker(s) are registered.",
                    live.len()
                ),
            ));
        }
        if partitions > MAX_PARTITIONS {
            return Err((
                ErrorCode::InvalidPartitions,
                format!("This broker allows at most {MAX_PARTITIONS} partitions per topic."),
            ));
        }
        check_assignments(&live, &new.assignments)?;
        let mut topics = lock(&self.topics);
        if topics.contains(&new.name) {
            return Err((
                ErrorCode::TopicAlreadyExists,
                format!("Topic '{}' already exists.", new.name),
            ));
        }
        let replicas = self.assign_replicas(&live, partitions, replication, &new.assignments);
        let topic = Topic::new(
            new.name,
            random_uuid(),
            replicas
                .into_iter()
                .map(|r| Arc::new(PartitionLog::new(r)))
                .collect(),
            new.configs,
        );
        if !validate_only {
            tracing::debug!(topic = %topic.name, partitions, "created topic");
            topics.insert(topic.clone());
        }
        Ok(topic)
    }

    /// Replicas for `count` partitions, `replication` each: the explicit assignment where
    /// given, otherwise consecutive live brokers from a position that advances by one per
    /// partition and starts at a rotating broker, so leaders (the first replica) spread over
    /// the brokers (Kafka also starts at a random broker).
    pub fn assign_replicas(
        &self,
        live: &[BrokerInfo],
        count: i32,
        replication: i16,
        explicit: &[Vec<i32>],
    ) -> Vec<Vec<i32>> {
        let count = usize::try_from(count).unwrap_or(0);
        let replication = usize::try_from(replication)
            .unwrap_or(1)
            .clamp(1, live.len().max(1));
        let start = self.next_leader.fetch_add(1, Ordering::Relaxed);
        (0..count)
            .map(|p| {
                explicit.get(p).cloned().unwrap_or_else(|| {
                    if live.is_empty() {
                        vec![-1]
                    } else {
                        (0..replication)
                            .filter_map(|i| live.get((start + p + i) % live.len()).map(|b| b.id))
                            .collect()
                    }
                })
            })
            .collect()
    }
}

/// Checks an explicit replica assignment: every partition names at least one broker, each
/// broker once, only live brokers, and every partition the same number of replicas.
pub(crate) fn check_assignments(
    live: &[BrokerInfo],
    assignments: &[Vec<i32>],
) -> Result<(), (ErrorCode, String)> {
    let invalid = |m: String| Err((ErrorCode::InvalidReplicaAssignment, m));
    let Some(first) = assignments.first() else {
        return Ok(());
    };
    for (p, replicas) in assignments.iter().enumerate() {
        if replicas.is_empty() {
            return invalid(format!("Partition {p} has no replicas."));
        }
        if replicas.len() != first.len() {
            return invalid("All partitions should have the same number of replicas.".to_string());
        }
        for (i, id) in replicas.iter().enumerate() {
            if replicas[..i].contains(id) {
                return invalid(format!("Duplicate brokers not allowed in replica assignment: {replicas:?} for partition id {p}."));
            }
            if !live.iter().any(|b| b.id == *id) {
                return invalid(format!("The replica assignment names unknown broker {id}."));
            }
        }
    }
    Ok(())
}

/// Lets the group coordinator check partitions and resolve topic ids (OffsetCommit v10).
struct RegistryLookup(Arc<Mutex<Registry>>);

impl TopicLookup for RegistryLookup {
    fn partition_exists(&self, topic: &str, partition: i32) -> bool {
        lock(&self.0)
            .get(topic)
            .is_some_and(|t| t.partition(partition).is_some())
    }

    fn topic_name(&self, topic_id: kafka_protocol::Uuid) -> Option<String> {
        lock(&self.0).get_by_id(&topic_id).map(|t| t.name.clone())
    }

    fn topic_id(&self, topic: &str) -> Option<kafka_protocol::Uuid> {
        lock(&self.0).get(topic).map(|t| t.id)
    }
}

/// The most partitions one topic may have here; a guard against a request that would allocate
/// millions of partition logs.
pub const MAX_PARTITIONS: i32 = 10_000;

/// Java's `String.hashCode`: `s[0]*31^(n-1) + ... + s[n-1]` over UTF-16 code units, wrapping.
pub(crate) fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

#[cfg(test)]
mod tests {
    use super::java_string_hash;

    #[test]
    fn matches_java_string_hash_code() {
        // Values computed by java.lang.String#hashCode.
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        assert_eq!(java_string_hash("hello"), 99_162_322);
        assert_eq!(java_string_hash("my-group-with-a-long-name"), 1_977_297_176);
        assert_eq!(
            java_string_hash("consumer-group-0000000000"),
            -2_070_410_491
        );
    }
}

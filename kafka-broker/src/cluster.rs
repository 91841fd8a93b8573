//! The public face of the library: start a cluster, create topics, inject faults, shut down.

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex};

use kafka_protocol::ErrorCode;
use kafka_protocol::Uuid;

use crate::broker::{self, RunningBroker};
use crate::cluster_config::ClusterConfig;
use crate::error::{BrokerError, Result};
use crate::fault::{Fault, RequestLogEntry};
use crate::log::PartitionLog;
use crate::state::{BrokerInfo, ClusterState, NewTopic};
use crate::sync::lock;
use crate::topics::validate_configs;

/// One broker slot: its fixed address and, while it runs, its listener.
#[derive(Debug)]
struct Slot {
    id: i32,
    addr: SocketAddr,
    running: Option<RunningBroker>,
}

/// An in-process Kafka cluster of N brokers, running in the current tokio runtime.
///
/// ```
/// use kafka_broker::{Cluster, ClusterConfig};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let cluster = Cluster::start(ClusterConfig::default().with_brokers(3)).await.unwrap();
/// assert_eq!(cluster.bootstrap_servers().split(',').count(), 3);
/// cluster.create_topic("orders", 6, &[("retention.ms", "60000")]).unwrap();
/// cluster.shutdown().await;
/// # });
/// ```
///
/// Dropping a `Cluster` without calling [`Cluster::shutdown`] also stops its brokers, but
/// without waiting for their tasks to end.
#[derive(Debug)]
pub struct Cluster {
    state: Arc<ClusterState>,
    slots: Mutex<Vec<Slot>>,
}

impl Cluster {
    /// Starts `config.brokers` brokers, each listening on `config.host`, on `config.port + i`
    /// (or on a free port when `config.port` is 0). Returns once every broker accepts connections.
    pub async fn start(config: ClusterConfig) -> Result<Cluster> {
        config.validate()?;
        let count = i32::try_from(config.brokers)
            .map_err(|_| BrokerError::InvalidConfig("too many brokers".into()))?;
        let base = resolve(&config.host, 0)?;
        let infos = (0..count)
            .map(|id| BrokerInfo {
                id,
                // Metadata carries the bare address, brackets or not (as Kafka advertises it).
                host: config
                    .host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string(),
                port: 0,
                running: false,
            })
            .collect();
        let state = Arc::new(ClusterState::new(config.clone(), infos));
        tokio::spawn(crate::txn::abort_timed_out(
            Arc::downgrade(&state),
            config.transactions.abort_check_interval,
        ));
        let mut slots = Vec::new();
        for id in 0..count {
            let port = if config.port == 0 {
                0
            } else {
                config.port + u16::try_from(id).unwrap_or(0)
            };
            let addr = SocketAddr::new(base.ip(), port);
            let started =
                broker::start(Arc::clone(&state), id, addr, config.shutdown_timeout).await;
            let (bound, running) = match started {
                Ok(ok) => ok,
                Err(e) => {
                    for slot in slots {
                        stop_slot(slot).await;
                    }
                    return Err(e);
                }
            };
            set_running(&state, id, Some(bound.port()));
            slots.push(Slot {
                id,
                addr: bound,
                running: Some(running),
            });
        }
        Ok(Cluster {
            state,
            slots: Mutex::new(slots),
        })
    }

    /// The `host:port` list of every broker, comma-separated, for `bootstrap.servers` (IPv6
    /// hosts in brackets: `[::1]:9092`).
    pub fn bootstrap_servers(&self) -> String {
        let config = &self.state.config;
        lock(&self.slots)
            .iter()
            .map(|s| config.host_port(s.addr.port()))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Each broker's id and listening address.
    pub fn brokers(&self) -> Vec<(i32, SocketAddr)> {
        lock(&self.slots).iter().map(|s| (s.id, s.addr)).collect()
    }

    /// Creates a topic with `partitions` partitions and the given config overrides, as
    /// CreateTopics would (same validation and errors).
    pub fn create_topic(
        &self,
        name: &str,
        partitions: i32,
        configs: &[(&str, &str)],
    ) -> Result<()> {
        let operation = || format!("create_topic {name}");
        let configs = validate_configs(configs.iter().map(|(k, v)| (*k, Some(*v))))
            .map_err(|(code, _)| BrokerError::kafka(operation(), code))?;
        let new = NewTopic {
            name: name.to_string(),
            partitions,
            replication_factor: -1,
            assignments: Vec::new(),
            configs,
        };
        self.state
            .create_topic(new, false)
            .map(|_| ())
            .map_err(|(code, _)| BrokerError::kafka(operation(), code))
    }

    /// The topic id (KIP-516) of a topic.
    pub fn topic_id(&self, name: &str) -> Option<Uuid> {
        lock(&self.state.topics).get(name).map(|t| t.id)
    }

    /// A topic's config overrides.
    pub fn topic_configs(&self, name: &str) -> Option<BTreeMap<String, String>> {
        lock(&self.state.topics)
            .get(name)
            .map(|t| t.configs.clone())
    }

    /// The leader id and leader epoch of a partition.
    pub fn partition_leader(&self, topic: &str, partition: i32) -> Option<(i32, i32)> {
        let topics = lock(&self.state.topics);
        topics.get(topic)?.partition(partition).map(|p| p.leader())
    }

    /// The broker that coordinates a consumer group or a transactional id now: the leader of
    /// the key's partition of `__consumer_offsets` or `__transaction_state`, as Kafka places
    /// it. `None` while every replica of that partition is stopped. A test that wants to stop
    /// the coordinator under a running client asks here which broker that is.
    ///
    /// ```
    /// use kafka_broker::{Cluster, ClusterConfig};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let cluster = Cluster::start(ClusterConfig::default().with_brokers(3)).await.unwrap();
    /// let before = cluster.coordinator("my-transactional-id").unwrap();
    /// cluster.stop_broker(before).await.unwrap();
    /// let after = cluster.coordinator("my-transactional-id").unwrap();
    /// assert_ne!(before, after, "the partition's next replica took over");
    /// cluster.shutdown().await;
    /// # });
    /// ```
    pub fn coordinator(&self, key: &str) -> Option<i32> {
        self.state.coordinator_for(key).map(|b| b.id)
    }

    /// The log start offset and high watermark of a partition.
    pub fn partition_offsets(&self, topic: &str, partition: i32) -> Option<(i64, i64)> {
        let topics = lock(&self.state.topics);
        let offsets = topics.get(topic)?.partition(partition)?.offsets();
        Some((offsets.log_start_offset, offsets.high_watermark))
    }

    /// Moves a partition's leadership to `broker_id`, bumping the leader epoch (KIP-101) as a
    /// leader election does; returns the new epoch. The old leader answers
    /// NOT_LEADER_OR_FOLLOWER from then on, and fetches waiting on it return at once.
    ///
    /// ```
    /// use kafka_broker::{Cluster, ClusterConfig};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let cluster = Cluster::start(ClusterConfig::default().with_brokers(2)).await.unwrap();
    /// cluster.create_topic("t", 1, &[]).unwrap();
    /// let (leader, epoch) = cluster.partition_leader("t", 0).unwrap();
    /// let new_epoch = cluster.move_leader("t", 0, 1 - leader).unwrap();
    /// assert_eq!(new_epoch, epoch + 1);
    /// assert_eq!(cluster.partition_leader("t", 0), Some((1 - leader, new_epoch)));
    /// cluster.shutdown().await;
    /// # });
    /// ```
    pub fn move_leader(&self, topic: &str, partition: i32, broker_id: i32) -> Result<i32> {
        let log = self.partition_log("move_leader", topic, partition, broker_id)?;
        let epoch = log.elect_leader(broker_id);
        tracing::info!(topic, partition, broker_id, epoch, "moved partition leader");
        Ok(epoch)
    }

    /// An unclean leader election (`unclean.leader.election.enable`): `broker_id` becomes the
    /// leader at the next epoch with a replica that held only the offsets before `end_offset`,
    /// and everything from there on is lost (the batch holding `end_offset` goes whole).
    /// Returns the new leader epoch and log end offset. A consumer that had read past the cut
    /// detects it through OffsetForLeaderEpoch (KIP-320).
    ///
    /// ```
    /// use kafka_broker::{Cluster, ClusterConfig};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let cluster = Cluster::start(ClusterConfig::default().with_brokers(2)).await.unwrap();
    /// cluster.create_topic("t", 1, &[]).unwrap();
    /// let (leader, epoch) = cluster.partition_leader("t", 0).unwrap();
    /// // An empty log has nothing to lose.
    /// assert_eq!(cluster.elect_unclean_leader("t", 0, 1 - leader, 0).unwrap(), (epoch + 1, 0));
    /// assert!(cluster.elect_unclean_leader("t", 0, leader, 5).is_err());
    /// cluster.shutdown().await;
    /// # });
    /// ```
    pub fn elect_unclean_leader(
        &self,
        topic: &str,
        partition: i32,
        broker_id: i32,
        end_offset: i64,
    ) -> Result<(i32, i64)> {
        let what = "elect_unclean_leader";
        let log = self.partition_log(what, topic, partition, broker_id)?;
        let (epoch, end) = log
            .elect_unclean(broker_id, end_offset)
            .map_err(|code| BrokerError::kafka(format!("{what} {topic}-{partition}"), code))?;
        tracing::info!(
            topic,
            partition,
            broker_id,
            epoch,
            end,
            "unclean leader election"
        );
        Ok((epoch, end))
    }

    /// The log of `topic`-`partition`, for an election won by `broker_id`.
    fn partition_log(
        &self,
        what: &str,
        topic: &str,
        partition: i32,
        broker_id: i32,
    ) -> Result<Arc<PartitionLog>> {
        if self.state.broker(broker_id).is_none() {
            return Err(BrokerError::UnknownBroker(broker_id));
        }
        let topics = lock(&self.state.topics);
        topics
            .get(topic)
            .and_then(|t| t.partition(partition))
            .cloned()
            .ok_or_else(|| {
                BrokerError::kafka(
                    format!("{what} {topic}-{partition}"),
                    ErrorCode::UnknownTopicOrPartition,
                )
            })
    }

    /// Holds partition reassignments (KIP-455) in progress while `hold` is set: a reassignment
    /// then shows in ListPartitionReassignments, with the replicas being added and removed,
    /// until it is cancelled or `hold_reassignments(false)` completes every held one. Without
    /// a hold a reassignment completes at once (the brokers share their logs: there is nothing
    /// to copy).
    pub fn hold_reassignments(&self, hold: bool) {
        self.state
            .hold_reassignments
            .store(hold, std::sync::atomic::Ordering::Release);
        if !hold {
            self.state.complete_reassignments();
        }
    }

    /// A partition's replicas, preferred leader first.
    pub fn partition_replicas(&self, topic: &str, partition: i32) -> Option<Vec<i32>> {
        self.state
            .partition(topic, partition)
            .ok()
            .map(|p| p.replicas())
    }

    /// Injects a fault; see [`Fault`] for examples.
    ///
    /// ```
    /// use kafka_broker::{Cluster, ClusterConfig, Fault};
    /// use kafka_protocol::{ApiKey, ErrorCode};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let cluster = Cluster::start(ClusterConfig::default()).await.unwrap();
    /// // The next 3 Produce requests, on any broker, fail with NOT_ENOUGH_REPLICAS.
    /// cluster.inject(Fault::fail(ErrorCode::NotEnoughReplicas).with_api(ApiKey::Produce).with_times(3));
    /// // The next Fetch on broker 0 closes the connection before it is applied.
    /// cluster.inject(Fault::drop_before_apply().with_api(ApiKey::Fetch).with_broker(0));
    /// cluster.clear_faults();
    /// cluster.shutdown().await;
    /// # });
    /// ```
    pub fn inject(&self, fault: Fault) {
        self.state.faults.inject(fault);
    }

    /// Removes every injected fault that has not run out yet.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }

    /// The requests received so far (most recent last; at most
    /// [`REQUEST_LOG_CAPACITY`](crate::REQUEST_LOG_CAPACITY) are kept).
    ///
    /// ```
    /// use kafka_broker::{Cluster, ClusterConfig};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let cluster = Cluster::start(ClusterConfig::default()).await.unwrap();
    /// // ... run a client against cluster.bootstrap_servers() ...
    /// for entry in cluster.request_log() {
    ///     println!("broker {} got api {} v{} from {:?}",
    ///         entry.broker_id, entry.api_key, entry.api_version, entry.client_id);
    /// }
    /// cluster.shutdown().await;
    /// # });
    /// ```
    pub fn request_log(&self) -> Vec<RequestLogEntry> {
        self.state.faults.log()
    }

    /// Empties the request log.
    pub fn clear_request_log(&self) {
        self.state.faults.clear_log();
    }

    /// Stops one broker: it stops accepting, closes its connections and drops out of Metadata.
    /// Each partition it leads moves to its next running replica at a new leader epoch, as the
    /// controller elects a leader from the ISR; a partition with no other running replica keeps
    /// it as leader, so clients see it as leaderless until [`Cluster::restart_broker`] or
    /// [`Cluster::move_leader`].
    ///
    /// ```
    /// use kafka_broker::{Cluster, ClusterConfig};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let cluster = Cluster::start(ClusterConfig::default().with_brokers(2)).await.unwrap();
    /// let before = cluster.bootstrap_servers();
    /// cluster.stop_broker(1).await.unwrap();
    /// cluster.restart_broker(1).await.unwrap(); // same port as before
    /// assert_eq!(cluster.bootstrap_servers(), before);
    /// cluster.shutdown().await;
    /// # });
    /// ```
    pub async fn stop_broker(&self, broker_id: i32) -> Result<()> {
        let running = {
            let mut slots = lock(&self.slots);
            let slot = slots
                .iter_mut()
                .find(|s| s.id == broker_id)
                .ok_or(BrokerError::UnknownBroker(broker_id))?;
            slot.running.take().ok_or(BrokerError::BrokerState {
                id: broker_id,
                state: "stopped",
            })?
        };
        set_running(&self.state, broker_id, None);
        self.state.fail_over(broker_id);
        self.state.clear_fetch_sessions(broker_id);
        self.wake_all();
        running.stop().await;
        Ok(())
    }

    /// Restarts a stopped broker on the port it had before. Its data was never lost (the log is
    /// shared memory), as with a broker restart on persistent disks.
    pub async fn restart_broker(&self, broker_id: i32) -> Result<()> {
        let addr = {
            let slots = lock(&self.slots);
            let slot = slots
                .iter()
                .find(|s| s.id == broker_id)
                .ok_or(BrokerError::UnknownBroker(broker_id))?;
            if slot.running.is_some() {
                return Err(BrokerError::BrokerState {
                    id: broker_id,
                    state: "running",
                });
            }
            slot.addr
        };
        let timeout = self.state.config.shutdown_timeout;
        let (_, running) = broker::start(Arc::clone(&self.state), broker_id, addr, timeout).await?;
        {
            let mut slots = lock(&self.slots);
            if let Some(slot) = slots.iter_mut().find(|s| s.id == broker_id) {
                slot.running = Some(running);
            }
        }
        set_running(&self.state, broker_id, Some(addr.port()));
        Ok(())
    }

    /// Serves one connection on an arbitrary byte stream as broker `broker_id` would serve a TCP
    /// connection, returning when the peer closes it, the request stream turns malformed, or the
    /// cluster shuts down. Meant for fuzzing and for tests without sockets.
    ///
    /// ```
    /// use kafka_broker::{Cluster, ClusterConfig};
    /// use tokio::io::AsyncWriteExt;
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let cluster = Cluster::start(ClusterConfig::default()).await.unwrap();
    /// let (mut client, server) = tokio::io::duplex(64 * 1024);
    /// // Garbage: the handler closes the connection instead of panicking.
    /// client.write_all(&[0, 0, 0, 3, 1, 2, 3]).await.unwrap();
    /// cluster.serve_connection(0, server).await.unwrap();
    /// cluster.shutdown().await;
    /// # });
    /// ```
    pub async fn serve_connection<S>(&self, broker_id: i32, stream: S) -> Result<()>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
    {
        let shutdown = {
            let slots = lock(&self.slots);
            let slot = slots
                .iter()
                .find(|s| s.id == broker_id)
                .ok_or(BrokerError::UnknownBroker(broker_id))?;
            slot.running
                .as_ref()
                .ok_or(BrokerError::BrokerState {
                    id: broker_id,
                    state: "stopped",
                })?
                .subscribe()
        };
        let ctx = crate::context::RequestContext {
            state: Arc::clone(&self.state),
            broker_id,
            shutdown,
            client_host: "/in-memory".to_string(),
            principal: crate::authorizer::ANONYMOUS.into(),
        };
        crate::connection::serve(stream, ctx).await;
        Ok(())
    }

    /// Stops every broker gracefully: listeners close, connections close, and every task has
    /// ended when this returns.
    pub async fn shutdown(self) {
        let slots: Vec<Slot> = std::mem::take(&mut *lock(&self.slots));
        for slot in &slots {
            set_running(&self.state, slot.id, None);
        }
        self.wake_all();
        for slot in slots {
            stop_slot(slot).await;
        }
        // Ends the coordinator's timer task.
        self.state.groups.shutdown().await;
    }

    /// Wakes every waiting fetch so it re-checks leadership and liveness.
    fn wake_all(&self) {
        let topics = lock(&self.state.topics);
        for topic in topics.iter() {
            for p in &topic.partitions {
                p.wake();
            }
        }
    }
}

async fn stop_slot(slot: Slot) {
    if let Some(running) = slot.running {
        running.stop().await;
    }
}

/// Marks a broker running (with its port) or stopped in the shared broker table.
fn set_running(state: &ClusterState, id: i32, port: Option<u16>) {
    let mut brokers = lock(&state.brokers);
    if let Some(b) = brokers.iter_mut().find(|b| b.id == id) {
        b.running = port.is_some();
        if let Some(port) = port {
            b.port = port;
        }
    }
}

fn resolve(host: &str, port: u16) -> Result<SocketAddr> {
    // `[::1]` is how URLs write an IPv6 literal; the resolver wants it bare.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (host, port)
        .to_socket_addrs()
        .map_err(|e| BrokerError::io(format!("resolve {host}"), e))?
        .next()
        .ok_or_else(|| BrokerError::InvalidConfig(format!("host {host} resolves to no address")))
}

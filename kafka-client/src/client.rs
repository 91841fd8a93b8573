//! [`Client`]: the cluster as the producer, consumer and admin clients see it — connections by
//! broker id, bootstrap, and the metadata cache.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{FindCoordinatorRequest, MetadataRequest, MetadataResponse};
use kafka_protocol::{ApiKey, BrokerId, ErrorCode, TopicName};
use tokio::time::Instant;
use tracing::{debug, warn};

use crate::backoff::{jitter_unit, Backoff};
use crate::config::ClientConfig;
use crate::connection::{Connection, ConnectionSettings};
use crate::error::{ClientError, Result};
use crate::metadata::MetadataCache;
use crate::metrics::ClientMetrics;
use crate::transport::{TcpTransport, Transport};

/// A handle to a Kafka cluster. Cheap to clone; clones share connections and metadata.
///
/// ```no_run
/// # async fn demo() -> Result<(), kafka_client::ClientError> {
/// use kafka_client::{Client, ClientConfig};
///
/// let client = Client::connect(ClientConfig::new("127.0.0.1:9092")).await?;
/// client.refresh_metadata(&["orders".into()], false).await?;
/// let leader = client.metadata().leader("orders", 0);
/// # let _ = leader;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: ClientConfig,
    settings: ConnectionSettings,
    transport: Arc<dyn Transport>,
    metadata: Mutex<MetadataCache>,
    /// When metadata was last fetched, for `metadata.max.age.ms`.
    metadata_fetched: Mutex<Option<Instant>>,
    /// The topics refreshed with every metadata request.
    topics: Mutex<BTreeSet<TopicName>>,
    brokers: Mutex<HashMap<BrokerId, Arc<tokio::sync::Mutex<Slot>>>>,
    /// Second connections to brokers acting as group or transaction coordinators (see
    /// [`Client::coordinator`]).
    coordinators: Mutex<HashMap<BrokerId, Arc<tokio::sync::Mutex<Slot>>>>,
    /// A connection to a bootstrap address, until broker ids are known.
    bootstrap: tokio::sync::Mutex<Slot>,
}

/// One broker's connection and its reconnect state.
#[derive(Debug, Default)]
struct Slot {
    conn: Option<Arc<Connection>>,
    failures: u32,
    retry_at: Option<Instant>,
}

impl Client {
    /// A client over plain TCP, or TLS when `security.protocol` says so; nothing is connected
    /// until first use.
    pub fn new(config: ClientConfig) -> Result<Client> {
        let transport: Arc<dyn Transport> = if config.security.uses_tls() {
            Arc::new(crate::tls::TlsTransport::new(&config.security.tls)?)
        } else {
            Arc::new(TcpTransport)
        };
        Client::with_transport(config, transport)
    }

    /// A client over `transport` (TLS, SASL or a test stream).
    pub fn with_transport(config: ClientConfig, transport: Arc<dyn Transport>) -> Result<Client> {
        config.validate()?;
        let sasl = config.security.credentials()?;
        let settings = ConnectionSettings {
            client_id: config.client_id.clone(),
            request_timeout: config.request_timeout,
            max_in_flight: config.max_in_flight_requests_per_connection,
            max_idle: config.connections_max_idle,
            metrics: Arc::default(),
            sasl,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                settings,
                transport,
                metadata: Mutex::default(),
                metadata_fetched: Mutex::default(),
                topics: Mutex::default(),
                brokers: Mutex::default(),
                coordinators: Mutex::default(),
                bootstrap: tokio::sync::Mutex::default(),
            }),
        })
    }

    /// A client that has reached the cluster: bootstrapped and holding broker metadata.
    pub async fn connect(config: ClientConfig) -> Result<Client> {
        let client = Client::new(config)?;
        client.refresh_metadata(&[], false).await?;
        Ok(client)
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Request counters per broker and API, for every connection of this client.
    pub fn metrics(&self) -> &ClientMetrics {
        &self.inner.settings.metrics
    }

    /// The metadata cache, locked; keep the guard short.
    pub fn metadata(&self) -> MutexGuard<'_, MetadataCache> {
        lock(&self.inner.metadata)
    }

    /// Adds topics to those every metadata refresh asks about.
    pub fn track_topics(&self, topics: impl IntoIterator<Item = TopicName>) {
        lock(&self.inner.topics).extend(topics);
    }

    /// Whether the cached metadata is older than `metadata.max.age.ms`.
    pub fn metadata_is_stale(&self) -> bool {
        lock(&self.inner.metadata_fetched)
            .is_none_or(|at| at.elapsed() >= self.inner.config.metadata_max_age)
    }

    /// Fetches metadata for `topics` plus the tracked ones, from any reachable broker, and
    /// merges it into the cache. `auto_create` asks the broker to create missing topics.
    pub async fn refresh_metadata(
        &self,
        topics: &[TopicName],
        auto_create: bool,
    ) -> Result<MetadataResponse> {
        let mut wanted = lock(&self.inner.topics).clone();
        wanted.extend(topics.iter().cloned());
        let request = MetadataRequest::default()
            .with_topics(Some(
                wanted
                    .into_iter()
                    .map(|t| MetadataRequestTopic::default().with_name(Some(t)))
                    .collect(),
            ))
            .with_allow_auto_topic_creation(auto_create);
        self.send_metadata(&request).await
    }

    /// Fetches metadata for every topic in the cluster (a null topic list) and merges it into
    /// the cache: what a pattern subscription matches against.
    pub async fn refresh_all_metadata(&self) -> Result<MetadataResponse> {
        let request = MetadataRequest::default()
            .with_topics(None)
            .with_allow_auto_topic_creation(false);
        self.send_metadata(&request).await
    }

    async fn send_metadata(&self, request: &MetadataRequest) -> Result<MetadataResponse> {
        let conn = self.any_connection().await?;
        let response = match conn.send(request).await {
            Ok(r) => r,
            Err(e) => {
                self.connection_failed(&conn);
                return Err(e);
            }
        };
        self.metadata().apply(&response);
        *lock(&self.inner.metadata_fetched) = Some(Instant::now());
        Ok(response)
    }

    /// The connection to broker `id`, connecting (after its reconnect backoff) if needed.
    pub async fn broker(&self, id: BrokerId) -> Result<Arc<Connection>> {
        self.connect_slot(&self.inner.brokers, id).await
    }

    /// A connection to broker `id` in its role as a coordinator, apart from the one
    /// [`broker`](Self::broker) gives.
    ///
    /// A broker reads one request per connection at a time and answers in order, so a
    /// JoinGroup that the coordinator parks until every member has rejoined (up to the
    /// rebalance timeout) would hold up every fetch behind it on a shared connection: under the
    /// cooperative protocol (KIP-429) the partitions a member keeps would stop flowing for the
    /// whole rebalance. The Java client keeps its coordinator connection apart for the same
    /// reason.
    pub async fn coordinator(&self, id: BrokerId) -> Result<Arc<Connection>> {
        self.connect_slot(&self.inner.coordinators, id).await
    }

    async fn connect_slot(
        &self,
        slots: &Mutex<HashMap<BrokerId, Arc<tokio::sync::Mutex<Slot>>>>,
        id: BrokerId,
    ) -> Result<Arc<Connection>> {
        let slot = Arc::clone(lock(slots).entry(id).or_default());
        let mut slot = slot.lock().await;
        if let Some(conn) = slot.conn.as_ref().filter(|c| !c.is_closed()) {
            return Ok(Arc::clone(conn));
        }
        let addr = self
            .metadata()
            .broker(id)
            .map(|b| b.to_addr())
            .ok_or_else(|| ClientError::NoBrokerReachable {
                tried: format!("broker {id} (not in metadata)"),
            })?;
        self.open(&mut slot, &addr).await
    }

    /// A connection to some broker: a live one if there is one, else each known broker in
    /// turn, else `bootstrap.servers` again (KIP-899 rebootstrap: the cluster may have moved
    /// entirely since the metadata was fetched).
    pub async fn any_connection(&self) -> Result<Arc<Connection>> {
        let slots: Vec<Arc<tokio::sync::Mutex<Slot>>> =
            lock(&self.inner.brokers).values().cloned().collect();
        for slot in &slots {
            if let Ok(slot) = slot.try_lock() {
                if let Some(conn) = slot.conn.as_ref().filter(|c| !c.is_closed()) {
                    return Ok(Arc::clone(conn));
                }
            }
        }
        let known: Vec<BrokerId> = self.metadata().brokers().map(|(id, _)| id).collect();
        for id in known {
            match self.broker(id).await {
                Ok(conn) => return Ok(conn),
                // Refused credentials are the answer, not a reason to try elsewhere.
                Err(e @ (ClientError::Authentication { .. } | ClientError::Tls { .. })) => {
                    return Err(e)
                }
                Err(e) => debug!(%id, error = %e, "broker unreachable"),
            }
        }
        let mut slot = self.inner.bootstrap.lock().await;
        if let Some(conn) = slot.conn.as_ref().filter(|c| !c.is_closed()) {
            return Ok(Arc::clone(conn));
        }
        let mut tried = Vec::new();
        for addr in &self.inner.config.bootstrap_servers {
            match self.open(&mut slot, addr).await {
                Ok(conn) => return Ok(conn),
                Err(e @ (ClientError::Authentication { .. } | ClientError::Tls { .. })) => {
                    return Err(e)
                }
                Err(e) => {
                    warn!(%addr, error = %e, "bootstrap address unreachable");
                    tried.push(addr.clone());
                }
            }
        }
        Err(ClientError::NoBrokerReachable {
            tried: tried.join(","),
        })
    }

    /// Asks any broker which broker coordinates `key`: a group id (`key_type` 0) or a
    /// transactional id (`key_type` 1). Batched FindCoordinator (v4+, KIP-699) carries the
    /// key in a list; older versions in the single `key` field. The coordinator's address is
    /// merged into the metadata cache so that [`Client::broker`] and [`Client::coordinator`]
    /// can reach it.
    pub async fn find_coordinator(&self, key: &str, key_type: i8) -> Result<BrokerId> {
        let conn = self.any_connection().await?;
        let version = conn.version_for(ApiKey::FindCoordinator)?;
        let mut request = FindCoordinatorRequest::default().with_key_type(key_type);
        request = if version >= 4 {
            request.with_coordinator_keys(vec![key.into()])
        } else {
            request.with_key(key)
        };
        let response = match conn.send(&request).await {
            Ok(r) => r,
            Err(e) => {
                self.connection_failed(&conn);
                return Err(e);
            }
        };
        let (code, node) = match response.coordinators.first() {
            Some(c) if version >= 4 => (c.error_code, c.node_id),
            _ => (response.error_code, response.node_id),
        };
        if code != ErrorCode::None {
            return Err(ClientError::Broker(code));
        }
        if self.metadata().broker(node).is_none() {
            self.refresh_metadata(&[], false).await?;
        }
        Ok(node)
    }

    /// Marks `conn` as failed so that the next use reconnects (after backoff).
    pub fn connection_failed(&self, conn: &Arc<Connection>) {
        debug!(addr = conn.addr(), "connection marked failed");
        let slots: Vec<Arc<tokio::sync::Mutex<Slot>>> = lock(&self.inner.brokers)
            .values()
            .chain(lock(&self.inner.coordinators).values())
            .cloned()
            .collect();
        for slot in slots {
            if let Ok(mut slot) = slot.try_lock() {
                if slot.conn.as_ref().is_some_and(|c| Arc::ptr_eq(c, conn)) {
                    slot.conn = None;
                }
            }
        }
    }

    /// Connects `slot` to `addr`, waiting out its backoff first.
    async fn open(&self, slot: &mut Slot, addr: &str) -> Result<Arc<Connection>> {
        if let Some(at) = slot.retry_at {
            tokio::time::sleep_until(at).await;
        }
        let config = &self.inner.config;
        let attempt = async {
            let stream = self
                .inner
                .transport
                .connect(addr, config.connection_setup_timeout)
                .await
                .map_err(|e| {
                    let reason = e.to_string();
                    match reason.strip_prefix(crate::tls::TLS_ERROR_PREFIX) {
                        Some(why) => ClientError::Tls {
                            addr: addr.to_string(),
                            reason: why.to_string(),
                        },
                        None => ClientError::Connection {
                            addr: addr.to_string(),
                            reason,
                        },
                    }
                })?;
            Connection::start(addr, stream, &self.inner.settings).await
        };
        match attempt.await {
            Ok(conn) => {
                slot.conn = Some(Arc::clone(&conn));
                slot.failures = 0;
                slot.retry_at = None;
                Ok(conn)
            }
            Err(e) => {
                let backoff = Backoff::new(config.reconnect_backoff, config.reconnect_backoff_max);
                slot.retry_at = Some(Instant::now() + backoff.wait(slot.failures, jitter_unit()));
                slot.failures = slot.failures.saturating_add(1);
                slot.conn = None;
                Err(e)
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain data behind; keep going.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

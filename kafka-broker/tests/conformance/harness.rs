//! Running a scenario against one broker and recording what it answered.
//!
//! A scenario is a plain function over a [`Session`]: it sends requests built with
//! `kafka-protocol`, and every answer it records ([`Session::send`]) becomes a step of the
//! transcript, normalized for comparison. Setup helpers ([`Session::create_topic`],
//! [`Session::produce`], ...) talk to the same broker without recording, and wait where real
//! Kafka is asynchronous (a new topic's leader, a group coordinator), so that the recorded steps
//! see a settled cluster on both targets.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::inspect::{Inspect, Value};
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::records::{Compression, RecordBatchBuilder};
use kafka_protocol::{ApiKey, ErrorCode, Message, Request};
use kafka_testkit::wire::{Connection, WireError};

use crate::normalize::{Interner, Norm, Normalizer};

/// Read and write timeout of every connection.
pub const IO_TIMEOUT: Duration = Duration::from_secs(15);
/// How long setup waits for real Kafka to settle (a topic's leader, a coordinator).
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

/// A broker under test.
#[derive(Debug, Clone)]
pub struct Target {
    /// `kafka` or `bundled`.
    pub name: &'static str,
    /// `host:port` of its (single) broker.
    pub address: String,
    /// Its broker ids, ascending.
    pub broker_ids: Vec<i32>,
    /// The API versions it advertises.
    pub versions: BTreeMap<i16, (i16, i16)>,
    /// Its cluster id.
    pub cluster_id: String,
    /// On a SASL listener, the PLAIN user every connection logs in as (setup's principal).
    pub login: Option<(String, String)>,
}

/// Connects to `address`, logging in with SASL PLAIN when `login` names a user.
fn open(address: &str, login: Option<(&str, &str)>) -> Connection {
    let mut conn = Connection::connect(address, IO_TIMEOUT).expect("connect to target");
    if let Some((user, password)) = login {
        let handshake = conn
            .send(&SaslHandshakeRequest::default().with_mechanism("PLAIN"), 1)
            .expect("SaslHandshake");
        assert_eq!(handshake.error_code, ErrorCode::None, "{handshake:?}");
        let token = format!("\0{user}\0{password}");
        let auth = conn
            .send(
                &SaslAuthenticateRequest::default().with_auth_bytes(Bytes::from(token)),
                1,
            )
            .expect("SaslAuthenticate");
        assert_eq!(auth.error_code, ErrorCode::None, "{user}: {auth:?}");
    }
    conn
}

impl Target {
    /// Connects and reads the advertised versions and broker ids.
    pub fn probe(name: &'static str, address: String) -> Target {
        Target::probe_as(name, address, None)
    }

    /// [`Target::probe`] on a SASL listener, as the PLAIN user `login`.
    pub fn probe_as(name: &'static str, address: String, login: Option<(&str, &str)>) -> Target {
        let mut conn = open(&address, login);
        let versions = conn
            .send(&ApiVersionsRequest::default(), 0)
            .expect("ApiVersions")
            .api_keys
            .iter()
            .map(|k| (k.api_key, (k.min_version, k.max_version)))
            .collect();
        let metadata = conn
            .send(&MetadataRequest::default().with_topics(Some(Vec::new())), 9)
            .expect("Metadata");
        let mut broker_ids: Vec<i32> = metadata.brokers.iter().map(|b| b.node_id.0).collect();
        broker_ids.sort_unstable();
        Target {
            name,
            address,
            broker_ids,
            versions,
            cluster_id: metadata.cluster_id.unwrap_or_default().to_string(),
            login: login.map(|(u, p)| (u.to_string(), p.to_string())),
        }
    }

    fn login(&self) -> Option<(&str, &str)> {
        self.login.as_ref().map(|(u, p)| (u.as_str(), p.as_str()))
    }
}

/// What one recorded step got.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A response, normalized.
    Response(Norm),
    /// The broker closed the connection instead of answering.
    Closed,
    /// No answer within the timeout (or, where none was expected, none came).
    NoResponse,
    /// The exchange failed in a way that says nothing about the broker (a decode error, say).
    Failed(String),
}

/// One recorded step.
#[derive(Debug, Clone)]
pub struct Step {
    /// The scenario's label for the step.
    pub label: String,
    /// The API of the request, if the step sent a typed request.
    pub api: Option<ApiKey>,
    /// What the broker did.
    pub outcome: Outcome,
}

/// A request sent whose answer is read later (a JoinGroup that blocks until a rebalance ends).
#[derive(Debug)]
pub struct Pending<R: Request> {
    conn: usize,
    correlation_id: i32,
    version: i16,
    _request: std::marker::PhantomData<R>,
}

/// One scenario's run against one target.
#[derive(Debug)]
pub struct Session<'a> {
    /// The broker under test.
    pub target: &'a Target,
    /// The version of each API both targets support at most.
    common: &'a BTreeMap<ApiKey, i16>,
    /// A prefix unique to the scenario, for topic and group names.
    prefix: String,
    conns: Vec<Connection>,
    interner: Interner,
    /// The recorded steps.
    pub steps: Vec<Step>,
}

impl<'a> Session<'a> {
    /// A session for scenario `name` against `target`.
    pub fn new(target: &'a Target, common: &'a BTreeMap<ApiKey, i16>, name: &str) -> Self {
        let conn = open(&target.address, target.login());
        Session {
            target,
            common,
            prefix: format!("cf-{}", name.replace("::", "-").replace('_', "-")),
            conns: vec![conn],
            interner: Interner::default(),
            steps: Vec::new(),
        }
    }

    /// A topic or group name unique to this scenario: `cf-<scenario>.<suffix>`. The dot cannot
    /// occur in a scenario's part, so no scenario's names start with another's.
    pub fn name(&self, suffix: &str) -> String {
        format!("{}.{suffix}", self.prefix)
    }

    /// The highest version of `api` both targets support.
    pub fn v(&self, api: ApiKey) -> i16 {
        *self
            .common
            .get(&api)
            .unwrap_or_else(|| panic!("{api:?} is not served by both targets"))
    }

    /// The target's first broker id.
    pub fn broker(&self) -> i32 {
        self.target.broker_ids[0]
    }

    /// Opens another connection to the broker; returns its index.
    pub fn connect(&mut self) -> usize {
        let conn = open(&self.target.address, self.target.login());
        self.conns.push(conn);
        self.conns.len() - 1
    }

    /// Opens another connection logged in (SASL PLAIN) as `user`; returns its index.
    pub fn login(&mut self, user: &str, password: &str) -> usize {
        let conn = open(&self.target.address, Some((user, password)));
        self.conns.push(conn);
        self.conns.len() - 1
    }

    fn record(&mut self, label: &str, api: Option<ApiKey>, outcome: Outcome) {
        self.steps.push(Step {
            label: label.to_string(),
            api,
            outcome,
        });
    }

    fn normalize_value(&mut self, value: &Value) -> Norm {
        let own = self.keep_own(value);
        let broker_ids = self.target.broker_ids.clone();
        let mut normalizer = Normalizer {
            broker_ids: &broker_ids,
            interner: &mut self.interner,
        };
        normalizer.normalize(None, &own)
    }

    /// Drops list entries that belong to other scenarios or to Kafka's internal topics
    /// (`__consumer_offsets`), which a listing of all topics or groups includes. This happens
    /// before normalization, so that their ids take no numbers from the scenario's own.
    fn keep_own(&self, value: &Value) -> Value {
        match value {
            Value::Struct(fields) => {
                Value::Struct(fields.iter().map(|(n, v)| (*n, self.keep_own(v))).collect())
            }
            Value::List(items) => Value::List(
                items
                    .iter()
                    .filter(|item| self.is_own(item))
                    .map(|item| self.keep_own(item))
                    .collect(),
            ),
            leaf => leaf.clone(),
        }
    }

    fn is_own(&self, item: &Value) -> bool {
        let Value::Struct(fields) = item else {
            return true;
        };
        fields.iter().all(|(n, v)| match (*n, v) {
            ("name" | "topic" | "topic_name" | "group_id", Value::Str(s)) => {
                let own = s.len() > self.prefix.len()
                    && s.starts_with(&self.prefix)
                    && s.as_bytes().get(self.prefix.len()) == Some(&b'.');
                !(s.starts_with("__") || (s.starts_with("cf-") && !own))
            }
            _ => true,
        })
    }

    /// Sends `request` on the first connection and records its answer as step `label`.
    pub fn send<R: Request>(
        &mut self,
        label: &str,
        request: &R,
        version: i16,
    ) -> Option<R::Response>
    where
        R::Response: Inspect,
    {
        self.send_on(0, label, request, version)
    }

    /// Sends `request` on connection `conn` and records its answer as step `label`.
    pub fn send_on<R: Request>(
        &mut self,
        conn: usize,
        label: &str,
        request: &R,
        version: i16,
    ) -> Option<R::Response>
    where
        R::Response: Inspect,
    {
        let result = self.conns[conn].send(request, version);
        self.finish_result(label, Some(R::API_KEY), result, version)
    }

    fn finish_result<T: Inspect>(
        &mut self,
        label: &str,
        api: Option<ApiKey>,
        result: Result<T, WireError>,
        version: i16,
    ) -> Option<T> {
        match result {
            Ok(response) => {
                let norm = self.normalize_value(&response.inspect(version));
                self.record(label, api, Outcome::Response(norm));
                Some(response)
            }
            Err(WireError::Closed) => {
                self.record(label, api, Outcome::Closed);
                None
            }
            Err(WireError::Timeout) => {
                self.record(label, api, Outcome::NoResponse);
                None
            }
            Err(e) => {
                self.record(label, api, Outcome::Failed(e.to_string()));
                None
            }
        }
    }

    /// Sends without reading the answer yet; see [`Session::finish`].
    pub fn start<R: Request>(&mut self, conn: usize, request: &R, version: i16) -> Pending<R> {
        let correlation_id = self.conns[conn]
            .send_only(request, version)
            .expect("send request");
        Pending {
            conn,
            correlation_id,
            version,
            _request: std::marker::PhantomData,
        }
    }

    /// Reads the answer of a request sent with [`Session::start`], recorded as step `label`.
    pub fn finish<R: Request>(&mut self, label: &str, pending: Pending<R>) -> Option<R::Response>
    where
        R::Response: Inspect,
    {
        let result = self.conns[pending.conn].recv_frame().and_then(|frame| {
            let (id, response) =
                kafka_protocol::frame::decode_response::<R>(frame, pending.version)
                    .map_err(WireError::Decode)?;
            if id == pending.correlation_id {
                Ok(response)
            } else {
                Err(WireError::CorrelationMismatch {
                    expected: pending.correlation_id,
                    got: id,
                })
            }
        });
        self.finish_result(label, Some(R::API_KEY), result, pending.version)
    }

    /// Sends `request` expecting no answer (Produce with acks=0), then records whether the
    /// connection still answers: a Metadata request on it must get its own response next.
    pub fn send_expecting_silence<R: Request>(&mut self, label: &str, request: &R, version: i16) {
        let sent = self.conns[0].send_only(request, version);
        let probe = MetadataRequest::default().with_topics(Some(Vec::new()));
        let outcome = match sent.and_then(|_| self.conns[0].send(&probe, 9)) {
            Ok(_) => Outcome::NoResponse,
            Err(WireError::CorrelationMismatch { .. }) => {
                Outcome::Failed("a response arrived for a request that expects none".into())
            }
            Err(WireError::Closed) => Outcome::Closed,
            Err(e) => Outcome::Failed(e.to_string()),
        };
        self.record(label, Some(R::API_KEY), outcome);
    }

    /// Writes raw bytes on connection 0 and records the raw answer's length, or the close.
    pub fn send_raw(&mut self, label: &str, frame: &[u8]) {
        let outcome = match self.conns[0]
            .write_all(frame)
            .and_then(|()| self.conns[0].recv_frame())
        {
            Ok(bytes) => Outcome::Response(Norm::Leaf(format!("{} bytes", bytes.len()))),
            Err(WireError::Closed) => Outcome::Closed,
            Err(WireError::Timeout) => Outcome::NoResponse,
            Err(e) => Outcome::Failed(e.to_string()),
        };
        let api = kafka_protocol::frame::peek_request_prefix(frame.get(4..).unwrap_or_default())
            .ok()
            .and_then(|p| ApiKey::from_i16(p.api_key));
        self.record(label, api, outcome);
    }

    /// Writes a hand-made request frame (size prefix included) on connection 0 and records its
    /// answer decoded as `M` at `version`, with the response header of `api`.
    pub fn send_frame<M: kafka_protocol::Message + Inspect>(
        &mut self,
        label: &str,
        frame: &[u8],
        api: ApiKey,
        version: i16,
        correlation_id: i32,
    ) {
        let result = self.conns[0].write_all(frame).and_then(|()| {
            let mut bytes = self.conns[0].recv_frame()?;
            let header = ResponseHeader::decode(&mut bytes, api.response_header_version(version))
                .map_err(WireError::Decode)?;
            if header.correlation_id != correlation_id {
                return Err(WireError::CorrelationMismatch {
                    expected: correlation_id,
                    got: header.correlation_id,
                });
            }
            M::decode(&mut bytes, version).map_err(WireError::Decode)
        });
        self.finish_result(label, Some(api), result, version);
    }

    /// The topic id of `topic` (setup: Metadata v12).
    pub fn topic_id(&mut self, topic: &str) -> kafka_protocol::Uuid {
        let request = MetadataRequest::default()
            .with_topics(Some(vec![metadata_request::MetadataRequestTopic::default(
            )
            .with_name(Some(topic.into()))]))
            .with_allow_auto_topic_creation(false);
        let response = self.call(&request, 12);
        let id = response
            .topics
            .first()
            .map(|t| t.topic_id)
            .unwrap_or_default();
        assert!(
            !id.is_zero(),
            "{}: {topic} has no topic id: {response:?}",
            self.target.name
        );
        id
    }

    /// Waits until Metadata reports `topic` unknown (after a deletion).
    pub fn wait_until_unknown(&mut self, topic: &str) {
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        let request = MetadataRequest::default()
            .with_topics(Some(vec![metadata_request::MetadataRequestTopic::default(
            )
            .with_name(Some(topic.into()))]))
            .with_allow_auto_topic_creation(false);
        loop {
            let response = self.call(&request, 9);
            if response
                .topics
                .first()
                .is_some_and(|t| t.error_code == ErrorCode::UnknownTopicOrPartition)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{}: {topic} still exists after {SETTLE_TIMEOUT:?}",
                self.target.name
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends without recording, panicking if there is no answer (setup steps).
    pub fn call<R: Request>(&mut self, request: &R, version: i16) -> R::Response {
        self.call_on(0, request, version)
    }

    /// [`Session::call`] on connection `conn`.
    pub fn call_on<R: Request>(&mut self, conn: usize, request: &R, version: i16) -> R::Response {
        self.conns[conn].send(request, version).unwrap_or_else(|e| {
            panic!(
                "{}: setup request {:?} v{version} failed: {e}",
                self.target.name,
                R::API_KEY
            )
        })
    }

    /// Creates a topic (setup, not recorded) and waits until every partition has a leader.
    pub fn create_topic(&mut self, name: &str, partitions: i32, configs: &[(&str, &str)]) {
        let request = CreateTopicsRequest::default()
            .with_timeout_ms(10_000)
            .with_topics(vec![CreatableTopic::default()
                .with_name(name.to_string())
                .with_num_partitions(partitions)
                .with_replication_factor(1)
                .with_configs(
                    configs
                        .iter()
                        .map(|(k, v)| {
                            CreatableTopicConfig::default()
                                .with_name((*k).to_string())
                                .with_value(Some((*v).to_string().into()))
                        })
                        .collect(),
                )]);
        let v = self.v(ApiKey::CreateTopics);
        let response = self.call(&request, v);
        let code = response
            .topics
            .first()
            .map_or(ErrorCode::UnknownServerError, |t| t.error_code);
        assert_eq!(
            code,
            ErrorCode::None,
            "{}: creating {name} failed: {response:?}",
            self.target.name
        );
        self.wait_for_leaders(name, partitions);
    }

    /// Waits until Metadata shows `partitions` partitions of `topic`, each with a leader.
    pub fn wait_for_leaders(&mut self, topic: &str, partitions: i32) {
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        let request = MetadataRequest::default()
            .with_topics(Some(vec![metadata_request::MetadataRequestTopic::default(
            )
            .with_name(Some(topic.into()))]))
            .with_allow_auto_topic_creation(false);
        loop {
            let response = self.call(&request, 9);
            let ready = response.topics.first().is_some_and(|t| {
                t.error_code == ErrorCode::None
                    && t.partitions.len() == usize::try_from(partitions).unwrap_or(0)
                    && t.partitions
                        .iter()
                        .all(|p| p.leader_id >= 0 && p.error_code == ErrorCode::None)
            });
            // Kafka publishes a new partition's leader in its metadata a moment before the
            // leader's log accepts requests; ListOffsets succeeds only once it does.
            if ready && (0..partitions).all(|p| self.partition_online(topic, p)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{}: {topic} has no leaders after {SETTLE_TIMEOUT:?}: {response:?}",
                self.target.name
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn partition_online(&mut self, topic: &str, partition: i32) -> bool {
        use kafka_protocol::messages::list_offsets_request::{
            ListOffsetsPartition, ListOffsetsTopic,
        };
        let request = ListOffsetsRequest::default()
            .with_replica_id(-1)
            .with_topics(vec![ListOffsetsTopic::default()
                .with_name(topic.to_string())
                .with_partitions(vec![ListOffsetsPartition::default()
                    .with_partition_index(partition)
                    .with_timestamp(-1)])]);
        let response = self.call(&request, 1);
        response
            .topics
            .first()
            .and_then(|t| t.partitions.first())
            .is_some_and(|p| p.error_code == ErrorCode::None)
    }

    /// Changes the read timeout of connection 0 (for a scenario that expects no answer).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.conns[0].set_timeout(timeout).expect("set timeout");
    }

    /// A new idempotent producer id and epoch (setup). Real Kafka's transaction coordinator
    /// loads its state on first use, answering COORDINATOR_LOAD_IN_PROGRESS until then.
    pub fn init_producer_id(&mut self) -> (i64, i16) {
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        let v = self.v(ApiKey::InitProducerId);
        let request = InitProducerIdRequest::default()
            .with_transactional_id(None)
            .with_transaction_timeout_ms(60_000);
        loop {
            let response = self.call(&request, v);
            if response.error_code == ErrorCode::None {
                return (response.producer_id.0, response.producer_epoch);
            }
            assert!(
                Instant::now() < deadline,
                "{}: InitProducerId keeps failing: {response:?}",
                self.target.name
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Produces `batch` to `topic`/`partition` with acks=-1 (setup); returns the base offset.
    pub fn produce(&mut self, topic: &str, partition: i32, batch: Bytes) -> i64 {
        let v = self.v(ApiKey::Produce).min(12);
        let response = self.call(&produce_request(topic, partition, batch, -1), v);
        let p = &response.responses[0].partition_responses[0];
        assert_eq!(
            p.error_code,
            ErrorCode::None,
            "{}: setup produce to {topic}-{partition} failed: {response:?}",
            self.target.name
        );
        p.base_offset
    }

    /// Waits until FindCoordinator for `group` succeeds (real Kafka creates its offsets topic on
    /// first use).
    pub fn wait_for_coordinator(&mut self, group: &str) {
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        loop {
            let response = self.call(&FindCoordinatorRequest::default().with_key(group), 3);
            if response.error_code == ErrorCode::None {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{}: no coordinator for {group}: {response:?}",
                self.target.name
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A ProduceRequest for one partition, by topic name (Produce v3-v12).
pub fn produce_request(topic: &str, partition: i32, batch: Bytes, acks: i16) -> ProduceRequest {
    ProduceRequest::default()
        .with_acks(acks)
        .with_timeout_ms(10_000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(topic.to_string())
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(partition)
                .with_records(Some(batch))])])
}

/// An uncompressed batch of `values`, keys `k0`, `k1`, ..., timestamps `1000 + i`.
pub fn batch(values: &[&str]) -> Bytes {
    batch_with(Compression::None, values, |b| b)
}

/// A batch of `values` with `compression`, after `configure` set producer fields and the like.
pub fn batch_with(
    compression: Compression,
    values: &[&str],
    configure: impl FnOnce(RecordBatchBuilder) -> RecordBatchBuilder,
) -> Bytes {
    let mut builder = configure(RecordBatchBuilder::new(compression));
    for (i, value) in values.iter().enumerate() {
        let key = format!("k{i}");
        builder
            .append(
                1000 + i as i64,
                Some(key.as_bytes()),
                Some(value.as_bytes()),
                &[],
            )
            .expect("append record");
    }
    builder.build().expect("build batch")
}

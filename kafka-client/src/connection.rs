//! One broker connection: a task that owns the socket and pipelines requests by correlation id.
//!
//! Callers encode their request (with a correlation id taken from the connection) and hand the
//! frame to the task over a bounded channel together with a oneshot for the answer. The task
//! writes frames in the order they arrive, remembers which oneshot waits for which correlation
//! id, and routes each response frame to its waiter.
//!
//! Failure handling follows rskafka: a framing or I/O error, or a response with a correlation id
//! nobody waits for, *poisons* the connection. The task fails every pending request with a
//! retriable [`ClientError::Connection`] and exits; the handle then reports itself dead and the
//! owner reconnects after a backoff. A stream that lost sync cannot be trusted for another byte.
//!
//! Cancellation: a caller that drops its future does not disturb the stream. The task writes a
//! frame whole once it has taken it from the channel, and a response whose waiter is gone is
//! read and dropped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kafka_protocol::frame::{self, FrameSplitter};
use kafka_protocol::{ApiKey, Request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, Semaphore};
use tracing::{debug, warn, Instrument};

use crate::error::{ClientError, Result};
use crate::metrics::ClientMetrics;
use crate::transport::BrokerStream;
use crate::versions::ApiVersionTable;

/// The largest response frame accepted (Kafka's default `socket.request.max.bytes` is 100 MiB;
/// a fetch response is bounded by `fetch.max.bytes`, 50 MiB by default).
pub const MAX_RESPONSE_FRAME: usize = 128 * 1024 * 1024;

/// How many frames may wait in the channel for the task to write them.
const CHANNEL_DEPTH: usize = 64;

struct Outgoing {
    frame: Bytes,
    correlation_id: i32,
    /// `None` for requests the broker does not answer (Produce with acks=0).
    reply: Option<oneshot::Sender<Result<Bytes>>>,
}

/// A live connection to one broker, with the API versions negotiated on it.
#[derive(Debug)]
pub struct Connection {
    addr: String,
    client_id: String,
    tx: mpsc::Sender<Outgoing>,
    next_correlation_id: AtomicI32,
    in_flight: Semaphore,
    request_timeout: Duration,
    versions: ApiVersionTable,
    metrics: Arc<ClientMetrics>,
    /// Held shared by every request from send to answer, and exclusively by a
    /// re-authentication (KIP-368), which must have the connection to itself: the broker
    /// serves nothing but the SASL requests until it completes.
    reauth_gate: tokio::sync::RwLock<()>,
}

/// Settings a connection needs from the client configuration.
#[derive(Debug, Clone)]
pub struct ConnectionSettings {
    /// `client.id`.
    pub client_id: String,
    /// `request.timeout.ms`.
    pub request_timeout: Duration,
    /// `max.in.flight.requests.per.connection`.
    pub max_in_flight: usize,
    /// `connections.max.idle.ms`.
    pub max_idle: Duration,
    /// Where request counters go.
    pub metrics: Arc<ClientMetrics>,
    /// What each new connection authenticates with (SASL), if anything.
    pub sasl: Option<crate::security::SaslCredentials>,
}

impl Connection {
    /// Starts the connection task over `stream` and negotiates API versions on it.
    pub async fn start(
        addr: &str,
        stream: Box<dyn BrokerStream>,
        settings: &ConnectionSettings,
    ) -> Result<Arc<Connection>> {
        let (tx, rx) = mpsc::channel(CHANNEL_DEPTH);
        // Everything the task logs carries the broker address.
        let span = tracing::debug_span!("kafka_connection", addr = %addr);
        tokio::spawn(run(addr.to_string(), stream, rx, settings.max_idle).instrument(span));
        let mut conn = Connection {
            addr: addr.to_string(),
            client_id: settings.client_id.clone(),
            tx,
            next_correlation_id: AtomicI32::new(0),
            in_flight: Semaphore::new(settings.max_in_flight.max(1)),
            request_timeout: settings.request_timeout,
            versions: ApiVersionTable::default(),
            metrics: Arc::clone(&settings.metrics),
            reauth_gate: tokio::sync::RwLock::new(()),
        };
        conn.versions = crate::versions::negotiate(&conn).await?;
        let lifetime = match &settings.sasl {
            Some(creds) => crate::security::authenticate(&conn, creds).await?,
            None => None,
        };
        let conn = Arc::new(conn);
        if let (Some(creds), Some(lifetime)) = (&settings.sasl, lifetime) {
            spawn_reauthentication(&conn, creds.clone(), lifetime);
        }
        Ok(conn)
    }

    /// The broker address.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Whether the connection task has stopped (poisoned, closed by the broker, or idle).
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// The versions negotiated with this broker.
    pub fn versions(&self) -> &ApiVersionTable {
        &self.versions
    }

    /// The version to use for `api`, or an error if the broker supports none we speak.
    pub fn version_for(&self, api: ApiKey) -> Result<i16> {
        self.versions
            .version_for(api)
            .ok_or_else(|| ClientError::UnsupportedVersion {
                api,
                addr: self.addr.clone(),
                ours: ApiVersionTable::ours(api),
                broker: self.versions.advertised(api),
            })
    }

    /// Sends `request` at the negotiated version and waits for its response.
    pub async fn send<R: Request>(&self, request: &R) -> Result<R::Response> {
        let version = self.version_for(R::API_KEY)?;
        self.send_at(request, version).await
    }

    /// Sends `request` at `version` and waits for its response.
    pub async fn send_at<R: Request>(&self, request: &R, version: i16) -> Result<R::Response> {
        let frame = self
            .raw(R::API_KEY, |buf, cid, client_id| {
                frame::encode_request(buf, cid, client_id, request, version)
            })?
            .await?;
        let (_correlation_id, body, rest) = frame::decode_response_prefix::<R>(frame, version)?;
        if !rest.is_empty() {
            // Tolerated as Java and librdkafka do; a broker that adds fields we do not know
            // of at this version would be a bug on its side, not a reason to drop the answer.
            debug!(addr = %self.addr, api = ?R::API_KEY, version, trailing = rest.len(), "response has trailing bytes");
        }
        Ok(body)
    }

    /// Encodes with `encode`, sends, and returns the raw response frame (after the size prefix).
    /// Used by [`Connection::send_at`] and by callers that decode responses themselves.
    pub fn raw<'a>(
        &'a self,
        api: ApiKey,
        encode: impl FnOnce(&mut BytesMut, i32, Option<&str>) -> Result<(), kafka_protocol::EncodeError>,
    ) -> Result<impl std::future::Future<Output = Result<Bytes>> + 'a> {
        let correlation_id = self.next_correlation_id.fetch_add(1, Ordering::Relaxed) & i32::MAX;
        let mut buf = BytesMut::new();
        let client_id = (!self.client_id.is_empty()).then_some(self.client_id.as_str());
        encode(&mut buf, correlation_id, client_id)?;
        let frame = buf.freeze();
        let sent = frame.len();
        Ok(async move {
            let started = tokio::time::Instant::now();
            let result = self.exchange(api, frame, correlation_id).await;
            let outcome = result.as_ref().map(Bytes::len).map_err(|_| ());
            self.metrics
                .record(&self.addr, api, sent, outcome, started.elapsed());
            result
        })
    }

    /// Hands `frame` to the connection task and waits for its answer.
    async fn exchange(&self, api: ApiKey, frame: Bytes, correlation_id: i32) -> Result<Bytes> {
        // The SASL requests are sent only while authenticating: at start, before anyone else
        // has the connection, or by a re-authentication that holds the gate exclusively.
        let _gate = match api {
            ApiKey::SaslHandshake | ApiKey::SaslAuthenticate => None,
            _ => Some(self.reauth_gate.read().await),
        };
        let _permit = self
            .in_flight
            .acquire()
            .await
            .map_err(|_| ClientError::Closed)?;
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Outgoing {
                frame,
                correlation_id,
                reply: Some(reply),
            })
            .await
            .map_err(|_| self.closed())?;
        match tokio::time::timeout(self.request_timeout, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(self.closed()),
            Err(_) => Err(ClientError::Timeout {
                api,
                addr: self.addr.clone(),
                timeout_ms: u64::try_from(self.request_timeout.as_millis()).unwrap_or(u64::MAX),
            }),
        }
    }

    /// Sends a request the broker will not answer (Produce with acks=0): done once written.
    pub async fn send_no_response<R: Request>(&self, request: &R) -> Result<()> {
        let version = self.version_for(R::API_KEY)?;
        let correlation_id = self.next_correlation_id.fetch_add(1, Ordering::Relaxed) & i32::MAX;
        let mut buf = BytesMut::new();
        let client_id = (!self.client_id.is_empty()).then_some(self.client_id.as_str());
        frame::encode_request(&mut buf, correlation_id, client_id, request, version)?;
        let _gate = self.reauth_gate.read().await;
        self.tx
            .send(Outgoing {
                frame: buf.freeze(),
                correlation_id,
                reply: None,
            })
            .await
            .map_err(|_| self.closed())
    }

    fn closed(&self) -> ClientError {
        ClientError::Connection {
            addr: self.addr.clone(),
            reason: "connection closed".into(),
        }
    }
}

/// When to re-authenticate a session of `lifetime`: at 85% to 95% of it (`unit` in 0..1 picks
/// where), as Java's client does, so that connections opened together do not all
/// re-authenticate at once and each finishes before the broker would close it.
pub(crate) fn reauthentication_delay(lifetime: Duration, unit: f64) -> Duration {
    lifetime.mul_f64(0.85 + 0.10 * unit.clamp(0.0, 1.0))
}

/// Re-authenticates `conn` before each session expires (KIP-368), for as long as it lives.
///
/// The task holds only a weak reference while it waits, so it never keeps a connection open.
/// A re-authentication that fails is logged and ends the task: the broker closes the
/// connection when the session expires, its owner reconnects, and the new connection's
/// authentication reports the error.
fn spawn_reauthentication(
    conn: &Arc<Connection>,
    creds: crate::security::SaslCredentials,
    lifetime: Duration,
) {
    let weak = Arc::downgrade(conn);
    let addr = conn.addr.clone();
    tokio::spawn(async move {
        let mut lifetime = lifetime;
        loop {
            let wait = reauthentication_delay(lifetime, crate::backoff::jitter_unit());
            tokio::time::sleep(wait).await;
            let Some(conn) = weak.upgrade() else { return };
            if conn.is_closed() {
                return;
            }
            let _exclusive = conn.reauth_gate.write().await;
            match crate::security::authenticate(&conn, &creds).await {
                Ok(Some(next)) => {
                    debug!(addr = %addr, lifetime_ms = next.as_millis() as u64, "re-authenticated");
                    lifetime = next;
                }
                Ok(None) => return,
                Err(e) => {
                    warn!(addr = %addr, error = %e, "re-authentication failed; the broker will close the connection when the session expires");
                    return;
                }
            }
        }
    });
}

/// The connection task: writes frames from `rx`, routes response frames to their waiters.
async fn run(
    addr: String,
    stream: Box<dyn BrokerStream>,
    mut rx: mpsc::Receiver<Outgoing>,
    max_idle: Duration,
) {
    let (mut reader, mut writer) = tokio::io::split(stream);
    let mut pending: HashMap<i32, oneshot::Sender<Result<Bytes>>> = HashMap::new();
    let mut read_buf = BytesMut::with_capacity(64 * 1024);
    let splitter = FrameSplitter::new(MAX_RESPONSE_FRAME);
    let reason = loop {
        let idle = tokio::time::sleep(max_idle);
        tokio::select! {
            outgoing = rx.recv() => {
                let Some(o) = outgoing else { break "client dropped the connection".to_string() };
                if let Err(e) = writer.write_all(&o.frame).await {
                    if let Some(reply) = o.reply {
                        let _ = reply.send(Err(poisoned(&addr, &e.to_string())));
                    }
                    break format!("write failed: {e}");
                }
                if let Some(reply) = o.reply {
                    pending.insert(o.correlation_id, reply);
                }
            }
            read = reader.read_buf(&mut read_buf) => {
                match read {
                    Ok(0) => break "closed by the broker".to_string(),
                    Err(e) => break format!("read failed: {e}"),
                    Ok(_) => {}
                }
                if let Err(reason) = route(&splitter, &mut read_buf, &mut pending) {
                    break reason;
                }
                reserve_for_frame(&splitter, &mut read_buf);
            }
            () = idle, if pending.is_empty() => break "idle".to_string(),
        }
    };
    debug!(%addr, %reason, pending = pending.len(), "connection closed");
    if !pending.is_empty() {
        warn!(%addr, %reason, pending = pending.len(), "failing in-flight requests");
    }
    rx.close();
    for (_, reply) in pending.drain() {
        let _ = reply.send(Err(poisoned(&addr, &reason)));
    }
    // Requests that reached the channel but were never written fail the same way.
    while let Ok(o) = rx.try_recv() {
        if let Some(reply) = o.reply {
            let _ = reply.send(Err(poisoned(&addr, &reason)));
        }
    }
}

/// Once the next frame's size is known, makes room for exactly that frame.
///
/// Left to grow by itself the buffer doubles while a large response arrives: a 20 MiB fetch
/// response would end up in a 32 MiB allocation (copied at every step on the way), and the
/// frame, a slice of it, would keep all of it alive until the consumer has read every record.
/// The consumer's memory budget counts frames, so the buffer must be the frame's size. The
/// size is capped by the splitter, and capacity that no byte has arrived for yet is address
/// space, not resident memory, so a hostile size costs little.
fn reserve_for_frame(splitter: &FrameSplitter, buf: &mut BytesMut) {
    if let Ok(Some(size)) = splitter.frame_size(buf) {
        let whole = frame::SIZE_PREFIX.saturating_add(size);
        if buf.capacity() < whole {
            buf.reserve(whole - buf.len());
        }
    }
}

/// Routes every whole frame in `buf`; an error string poisons the connection.
fn route(
    splitter: &FrameSplitter,
    buf: &mut BytesMut,
    pending: &mut HashMap<i32, oneshot::Sender<Result<Bytes>>>,
) -> Result<(), String> {
    loop {
        let frame = match splitter.next_frame(buf) {
            Ok(Some(frame)) => frame,
            Ok(None) => return Ok(()),
            Err(e) => return Err(format!("bad frame: {e}")),
        };
        let cid = frame::peek_correlation_id(&frame).map_err(|e| format!("bad frame: {e}"))?;
        match pending.remove(&cid) {
            // A waiter that gave up is gone; its answer is dropped.
            Some(reply) => {
                let _ = reply.send(Ok(frame));
            }
            None => return Err(format!("response for unknown correlation id {cid}")),
        }
    }
}

fn poisoned(addr: &str, reason: &str) -> ClientError {
    ClientError::Connection {
        addr: addr.to_string(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reauthentication_comes_at_85_to_95_percent_of_the_lifetime() {
        let lifetime = Duration::from_secs(100);
        assert_eq!(
            reauthentication_delay(lifetime, 0.0),
            Duration::from_secs(85)
        );
        assert_eq!(
            reauthentication_delay(lifetime, 1.0),
            Duration::from_secs(95)
        );
        assert_eq!(
            reauthentication_delay(lifetime, 7.0),
            Duration::from_secs(95)
        );
        let mid = reauthentication_delay(lifetime, 0.5);
        assert!(mid > Duration::from_secs(89) && mid < Duration::from_secs(91));
    }
}

//! One client connection: framing, header decoding, dispatch, fault injection, responses.
//!
//! Kafka frames every request and response with a 4-byte big-endian size. A connection's requests
//! are answered in the order they arrived (the protocol guarantees it; clients match responses
//! to requests by correlation id but rely on the order too), so requests are processed one at a
//! time, as Kafka does by muting a channel while a request of it is in flight.
//!
//! A reader task reads ahead into a small bounded queue ([`IN_FLIGHT_REQUESTS`]); when the queue
//! is full (because writing responses is blocked by a client that does not read them) the reader
//! stops reading, so TCP flow control pushes back on the client and memory stays bounded.

use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiVersionsResponse, RequestHeader, ResponseHeader};
use kafka_protocol::{ApiKey, ErrorCode, Message, RequestBody, ResponseBody};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch};

use crate::fault::{FaultAction, RequestLogEntry};
use crate::handlers::{self, api_versions, Reply};
use crate::state::ClusterState;

/// Requests read ahead of the one being processed.
pub const IN_FLIGHT_REQUESTS: usize = 4;

/// Largest request frame accepted: Kafka's `socket.request.max.bytes` (100 MiB).
pub const MAX_REQUEST_BYTES: usize = 100 * 1024 * 1024;

/// What a request handler needs: the cluster, which broker it runs on, and the shutdown signal.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub state: Arc<ClusterState>,
    pub broker_id: i32,
    pub shutdown: watch::Receiver<bool>,
    /// The peer's address, reported as the client host of group members.
    pub client_host: String,
}

/// Resolves once `shutdown` turns true or its sender is gone.
pub(crate) async fn wait_shutdown(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// What to do after processing one frame.
enum Outcome {
    /// Send this encoded frame (size prefix included), after an optional delay.
    Respond(Bytes, Option<Duration>),
    /// Send nothing (Produce with acks=0).
    Silent,
    /// Close the connection (malformed request, unsupported API, or an injected drop).
    Close,
}

/// Serves one connection until the client closes it, it misbehaves, or the broker shuts down.
///
/// Generic over the byte stream so the same handler serves TCP connections and in-memory
/// streams (see [`crate::Cluster::serve_connection`], used for fuzzing).
pub(crate) async fn serve<S>(stream: S, ctx: Ctx)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (read_half, mut write_half) = tokio::io::split(stream);
    let (tx, mut rx) = mpsc::channel::<Bytes>(IN_FLIGHT_REQUESTS);
    let max_frame = MAX_REQUEST_BYTES
        .saturating_add(usize::try_from(ctx.state.settings().message_max_bytes).unwrap_or(0));
    let reader = tokio::spawn(read_frames(read_half, tx, max_frame));
    let mut shutdown = ctx.shutdown.clone();
    loop {
        let frame = tokio::select! {
            _ = wait_shutdown(&mut shutdown) => break,
            frame = rx.recv() => match frame {
                Some(frame) => frame,
                None => break,
            },
        };
        let outcome = tokio::select! {
            _ = wait_shutdown(&mut shutdown) => break,
            outcome = process(&ctx, frame) => outcome,
        };
        match outcome {
            Outcome::Respond(bytes, delay) => {
                if let Some(delay) = delay {
                    tokio::select! {
                        _ = wait_shutdown(&mut shutdown) => break,
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
                let written = tokio::select! {
                    _ = wait_shutdown(&mut shutdown) => break,
                    written = write_half.write_all(&bytes) => written,
                };
                if let Err(e) = written {
                    tracing::debug!(broker = ctx.broker_id, error = %e, "write failed; closing");
                    break;
                }
            }
            Outcome::Silent => {}
            Outcome::Close => break,
        }
    }
    reader.abort();
    let _ = write_half.shutdown().await;
}

/// Reads size-prefixed frames and queues them; ends on EOF, error, or a bad size.
async fn read_frames<R: AsyncRead>(read_half: R, tx: mpsc::Sender<Bytes>, max_frame: usize) {
    let mut read_half = std::pin::pin!(read_half);
    loop {
        let mut size = [0u8; 4];
        if read_half.read_exact(&mut size).await.is_err() {
            return;
        }
        let size = i32::from_be_bytes(size);
        let Ok(size) = usize::try_from(size) else {
            tracing::debug!(size, "negative frame size; closing");
            return;
        };
        if size > max_frame {
            tracing::debug!(size, max_frame, "oversized frame; closing");
            return;
        }
        // Grow with the bytes that actually arrive rather than trusting the prefix up front.
        let mut frame = Vec::with_capacity(size.min(64 * 1024));
        match (&mut read_half)
            .take(size as u64)
            .read_to_end(&mut frame)
            .await
        {
            Ok(n) if n == size => {}
            _ => return,
        }
        if tx.send(Bytes::from(frame)).await.is_err() {
            return;
        }
    }
}

/// Decodes, applies and answers one request frame.
async fn process(ctx: &Ctx, mut frame: Bytes) -> Outcome {
    let Some(prefix) = frame.get(0..4).and_then(|s| <[u8; 4]>::try_from(s).ok()) else {
        return Outcome::Close;
    };
    let [k0, k1, v0, v1] = prefix;
    let raw_key = i16::from_be_bytes([k0, k1]);
    let version = i16::from_be_bytes([v0, v1]);
    let Some(api_key) = ApiKey::from_i16(raw_key) else {
        tracing::debug!(raw_key, "unknown api key; closing");
        return Outcome::Close;
    };
    let Some(range) = api_versions::supported(api_key) else {
        tracing::debug!(?api_key, "api not implemented; closing");
        return Outcome::Close;
    };
    let header_version = api_key.request_header_version(version);
    let header = match RequestHeader::decode(&mut frame, header_version) {
        Ok(h) => h,
        Err(e) => {
            tracing::debug!(?api_key, version, error = %e, "bad request header; closing");
            return Outcome::Close;
        }
    };
    ctx.state.faults.record(RequestLogEntry {
        broker_id: ctx.broker_id,
        api_key: raw_key,
        api_version: version,
        client_id: header.client_id.clone(),
        correlation_id: header.correlation_id,
    });
    if !range.contains(version) {
        if api_key == ApiKey::ApiVersions && version > range.max {
            // KIP-511: a client newer than the broker learns our ranges from a v0 body carrying
            // UNSUPPORTED_VERSION, then retries with a version we support.
            let body = ApiVersionsResponse {
                error_code: ErrorCode::UnsupportedVersion.code(),
                api_keys: api_versions::api_versions_entry(),
                ..Default::default()
            };
            return encode_response(api_key, 0, header.correlation_id, &body.into())
                .map_or(Outcome::Close, |b| Outcome::Respond(b, None));
        }
        tracing::debug!(?api_key, version, "unsupported version; closing");
        return Outcome::Close;
    }
    let body = match RequestBody::decode(api_key, &mut frame, version) {
        Ok(b) => b,
        Err(e) => {
            tracing::debug!(?api_key, version, error = %e, "malformed request; closing");
            return Outcome::Close;
        }
    };
    let action = ctx.state.faults.take(api_key, ctx.broker_id);
    let mut delay = None;
    let mut close_after = false;
    let reply = match action {
        Some(FaultAction::Fail(code)) => {
            match handlers::errors::error_response(&body, version, code) {
                Some(body) => Reply::Send(body),
                None => Reply::Silent,
            }
        }
        Some(FaultAction::DropBeforeApply) => return Outcome::Close,
        Some(FaultAction::Delay(d)) => {
            delay = Some(d);
            handlers::dispatch(ctx, &header, body, version).await
        }
        Some(FaultAction::DropAfterApply) => {
            close_after = true;
            handlers::dispatch(ctx, &header, body, version).await
        }
        None => handlers::dispatch(ctx, &header, body, version).await,
    };
    if close_after {
        return Outcome::Close;
    }
    match reply {
        Reply::Send(body) => encode_response(api_key, version, header.correlation_id, &body)
            .map_or(Outcome::Close, |b| Outcome::Respond(b, delay)),
        Reply::Silent => Outcome::Silent,
        Reply::Unsupported => Outcome::Close,
    }
}

/// Encodes a response frame: size, header (v0/v1 by API and version), body.
fn encode_response(
    api_key: ApiKey,
    version: i16,
    correlation_id: i32,
    body: &ResponseBody,
) -> Option<Bytes> {
    let header = ResponseHeader {
        correlation_id,
        ..Default::default()
    };
    let header_version = api_key.response_header_version(version);
    let mut buf =
        BytesMut::with_capacity(4 + header.encoded_len(header_version) + body.encoded_len(version));
    buf.put_i32(0);
    let encoded = header
        .encode(&mut buf, header_version)
        .and_then(|()| body.encode(&mut buf, version));
    if let Err(e) = encoded {
        tracing::error!(?api_key, version, error = %e, "cannot encode response; closing");
        return None;
    }
    let size = i32::try_from(buf.len() - 4).ok()?;
    if let Some(prefix) = buf.get_mut(0..4) {
        prefix.copy_from_slice(&size.to_be_bytes());
    }
    Some(buf.freeze())
}

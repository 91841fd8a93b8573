//! One client connection: reading frames, decoding headers, fault injection, dispatch, writing
//! responses. Framing itself (size prefixes, header versions) is `kafka_protocol::frame`'s.
//!
//! A connection's requests are answered in the order they arrived (the protocol guarantees it;
//! clients match responses to requests by correlation id but rely on the order too), so requests
//! are processed one at a time, as Kafka does by muting a channel while a request of it is in
//! flight.
//!
//! A reader task reads ahead into a small bounded queue ([`IN_FLIGHT_REQUESTS`]); when the queue
//! is full (because writing responses is blocked by a client that does not read them) the reader
//! stops reading, so TCP flow control pushes back on the client and memory stays bounded.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kafka_protocol::frame::{self, FrameSplitter};
use kafka_protocol::messages::ApiVersionsResponse;
use kafka_protocol::{ApiKey, EncodeMode, ErrorCode, RequestBody, ResponseBody};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::context::{wait_shutdown, RequestContext};
use crate::fault::{FaultAction, RequestLogEntry};
use crate::handlers::{self, Reply};
use crate::sasl::SaslSession;

/// Requests read ahead of the one being processed.
pub const IN_FLIGHT_REQUESTS: usize = 4;

/// Largest request frame accepted: Kafka's `socket.request.max.bytes` (100 MiB).
pub const MAX_REQUEST_BYTES: usize = 100 * 1024 * 1024;

/// What to do after processing one frame.
enum Action {
    /// Send this encoded frame (size prefix included), after an optional delay.
    Respond(Bytes, Option<Duration>),
    /// Send this frame, then close (a failed authentication).
    RespondAndClose(Bytes),
    /// Send nothing (Produce with acks=0).
    Silent,
    /// Close the connection (malformed request, unsupported API, or an injected drop).
    Close,
}

/// Serves one connection until the client closes it, it misbehaves, or the broker shuts down.
///
/// Generic over the byte stream so the same handler serves TCP connections and in-memory
/// streams (see [`crate::Cluster::serve_connection`], used for fuzzing).
pub(crate) async fn serve<S>(stream: S, mut ctx: RequestContext)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (read_half, mut write_half) = tokio::io::split(stream);
    let (tx, mut rx) = mpsc::channel::<Bytes>(IN_FLIGHT_REQUESTS);
    let max_frame = MAX_REQUEST_BYTES
        .saturating_add(usize::try_from(ctx.state.settings().message_max_bytes).unwrap_or(0));
    let reader = tokio::spawn(read_frames(read_half, tx, FrameSplitter::new(max_frame)));
    let mut shutdown = ctx.shutdown.clone();
    // A connection that has not authenticated in time is closed: a flood of connections that
    // never authenticate cannot hold the broker's tasks and buffers.
    let mut session = SaslSession::new(ctx.state.sasl.as_ref(), authentication_timeout(&ctx));
    loop {
        let frame = tokio::select! {
            _ = wait_shutdown(&mut shutdown) => break,
            _ = tokio::time::sleep_until(session.auth_deadline), if !session.auth.is_authenticated() => {
                tracing::info!(broker = ctx.broker_id, peer = %ctx.client_host, "not authenticated in time; closing");
                break;
            }
            frame = rx.recv() => match frame {
                Some(frame) => frame,
                None => break,
            },
        };
        let action = tokio::select! {
            _ = wait_shutdown(&mut shutdown) => break,
            action = process(&ctx, &mut session, frame) => action,
        };
        // Requests after a successful SASL exchange are authorized as its principal.
        if let Some(name) = session.auth.principal() {
            if ctx.principal.strip_prefix("User:") != Some(name) {
                ctx.principal = format!("User:{name}");
            }
        }
        match action {
            Action::RespondAndClose(bytes) => {
                // Answer, then keep the connection (reading and dropping what the client still
                // sends) for a moment before closing, as Kafka delays closing a failed
                // authentication (`connection.failed.authentication.delay.ms`, 100 ms). Closing
                // at once loses the answer: a socket closed with unread input sends a reset,
                // and a FIN right behind the answer makes some clients (kafka-python) see only
                // the disconnect.
                let _ = write_half.write_all(&bytes).await;
                let _ = write_half.flush().await;
                let linger = tokio::time::sleep(Duration::from_millis(100));
                tokio::pin!(linger);
                loop {
                    tokio::select! {
                        _ = &mut linger => break,
                        more = rx.recv() => if more.is_none() { break },
                    }
                }
                break;
            }
            Action::Respond(bytes, delay) => {
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
            Action::Silent => {}
            Action::Close => break,
        }
    }
    reader.abort();
    let _ = write_half.shutdown().await;
}

/// How long a connection may take to authenticate (the SASL config's timeout; an hour, only a
/// bound, where nothing needs authenticating).
fn authentication_timeout(ctx: &RequestContext) -> Duration {
    ctx.state
        .config
        .sasl
        .as_ref()
        .map_or(Duration::from_secs(3600), |s| s.authentication_timeout)
}

/// Reads size-prefixed frames and queues them; ends on EOF, error, or a bad size.
async fn read_frames<R: AsyncRead>(read_half: R, tx: mpsc::Sender<Bytes>, splitter: FrameSplitter) {
    let mut read_half = std::pin::pin!(read_half);
    loop {
        let mut prefix = [0u8; frame::SIZE_PREFIX];
        if read_half.read_exact(&mut prefix).await.is_err() {
            return;
        }
        let size = match splitter.frame_size(&prefix) {
            Ok(Some(size)) => size,
            Ok(None) => return,
            Err(e) => {
                tracing::debug!(error = %e, "bad frame size; closing");
                return;
            }
        };
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
async fn process(ctx: &RequestContext, session: &mut SaslSession, mut frame: Bytes) -> Action {
    let Ok(prefix) = frame::peek_request_prefix(&frame) else {
        return Action::Close;
    };
    let version = prefix.api_version;
    let Some(api_key) = ApiKey::from_i16(prefix.api_key) else {
        tracing::debug!(raw_key = prefix.api_key, "unknown api key; closing");
        return Action::Close;
    };
    let Some(range) = handlers::served_versions(api_key) else {
        tracing::debug!(?api_key, "api not implemented; closing");
        return Action::Close;
    };
    let header = match frame::decode_request_header(&mut frame) {
        Ok((_, header)) => header,
        Err(e) => {
            tracing::debug!(?api_key, version, error = %e, "bad request header; closing");
            return Action::Close;
        }
    };
    ctx.state.faults.record(RequestLogEntry {
        broker_id: ctx.broker_id,
        api_key: prefix.api_key,
        api_version: version,
        client_id: header.client_id.clone().map(Into::into),
        correlation_id: header.correlation_id,
    });
    if !range.contains(version) {
        if api_key == ApiKey::ApiVersions && version > range.max {
            // KIP-511: a client newer than the broker learns our ranges from a v0 body carrying
            // UNSUPPORTED_VERSION, then retries with a version we support.
            let body = ApiVersionsResponse {
                error_code: ErrorCode::UnsupportedVersion,
                api_keys: handlers::api_versions::api_versions_entry(),
                ..Default::default()
            };
            return respond(api_key, 0, header.correlation_id, &body.into(), None);
        }
        tracing::debug!(?api_key, version, "unsupported version; closing");
        return Action::Close;
    }
    let body = match RequestBody::decode(api_key, &mut frame, version) {
        Ok(b) => b,
        Err(e) => {
            tracing::debug!(?api_key, version, error = %e, "malformed request; closing");
            return Action::Close;
        }
    };
    if let Some(users) = ctx.state.sasl.as_ref() {
        let cid = header.correlation_id;
        let (response, close): (ResponseBody, bool) = match &body {
            RequestBody::SaslHandshake(r) => {
                let o = session.handshake(users, r, authentication_timeout(ctx));
                (o.response.into(), o.close)
            }
            RequestBody::SaslAuthenticate(r) => {
                let o = session.authenticate(users, r, ctx.state.clock.now_ms());
                if let Some(principal) = session.auth.principal() {
                    tracing::debug!(principal, peer = %ctx.client_host, lifetime_ms = o.response.session_lifetime_ms, "authenticated");
                }
                (o.response.into(), o.close)
            }
            _ if !session.auth.is_authenticated() && api_key != ApiKey::ApiVersions => {
                tracing::info!(?api_key, peer = %ctx.client_host, "request before SASL authentication; closing");
                return Action::Close;
            }
            // KIP-368: a session that expired without re-authentication ends at its next
            // request.
            _ if session.expired() => {
                tracing::info!(?api_key, peer = %ctx.client_host, "SASL session expired without re-authentication; closing");
                return Action::Close;
            }
            _ => return dispatch_with_faults(ctx, &header, api_key, version, body).await,
        };
        return match respond(api_key, version, cid, &response, None) {
            Action::Respond(bytes, _) if close => Action::RespondAndClose(bytes),
            other => other,
        };
    }
    dispatch_with_faults(ctx, &header, api_key, version, body).await
}

/// Applies an injected fault, if one matches, else dispatches to the API's handler.
async fn dispatch_with_faults(
    ctx: &RequestContext,
    header: &kafka_protocol::messages::RequestHeader,
    api_key: ApiKey,
    version: i16,
    body: RequestBody,
) -> Action {
    let header = header.clone();
    let (reply, delay, close_after) = match ctx.state.faults.take(api_key, ctx.broker_id) {
        Some(FaultAction::Fail(code)) => (failed(&body, code), None, false),
        Some(FaultAction::DropBeforeApply) => return Action::Close,
        Some(FaultAction::Delay(d)) => (
            handlers::dispatch(ctx, &header, body, version).await,
            Some(d),
            false,
        ),
        Some(FaultAction::DropAfterApply) => (
            handlers::dispatch(ctx, &header, body, version).await,
            None,
            true,
        ),
        None => (
            handlers::dispatch(ctx, &header, body, version).await,
            None,
            false,
        ),
    };
    if close_after {
        return Action::Close;
    }
    match reply {
        Reply::Send(body) => respond(api_key, version, header.correlation_id, &body, delay),
        Reply::Silent => Action::Silent,
        Reply::Unsupported => Action::Close,
    }
}

/// An injected failure: the request's error response (schema-generated), or nothing for a
/// Produce with acks=0, which is never answered.
fn failed(body: &RequestBody, code: ErrorCode) -> Reply {
    match body {
        RequestBody::Produce(r) if r.acks == 0 => Reply::Silent,
        other => Reply::Send(other.error_response(code)),
    }
}

/// Encodes a response frame. Fields the version lacks are dropped (`EncodeMode::DropAbsent`), so
/// handlers fill one response for every version they serve.
fn respond(
    api_key: ApiKey,
    version: i16,
    correlation_id: i32,
    body: &ResponseBody,
    delay: Option<Duration>,
) -> Action {
    let mut buf = BytesMut::with_capacity(64 + body.encoded_len(version));
    match frame::encode_response(
        &mut buf,
        api_key,
        version,
        correlation_id,
        body,
        EncodeMode::DropAbsent,
    ) {
        Ok(()) => Action::Respond(buf.freeze(), delay),
        Err(e) => {
            tracing::error!(?api_key, version, error = %e, "cannot encode response; closing");
            Action::Close
        }
    }
}

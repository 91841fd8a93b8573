//! One broker's listener: accepts connections and runs one task per connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::connection;
use crate::context::{wait_shutdown, RequestContext};
use crate::error::{BrokerError, Result};
use crate::state::ClusterState;

/// A running broker: its shutdown switch and its accept task.
#[derive(Debug)]
pub(crate) struct RunningBroker {
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Binds `addr` and starts accepting; returns the bound address and the running broker.
pub(crate) async fn start(
    state: Arc<ClusterState>,
    broker_id: i32,
    addr: SocketAddr,
    shutdown_timeout: Duration,
) -> Result<(SocketAddr, RunningBroker)> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| BrokerError::io(format!("bind {addr} for broker {broker_id}"), e))?;
    let local = listener
        .local_addr()
        .map_err(|e| BrokerError::io("local_addr", e))?;
    let (tx, rx) = watch::channel(false);
    let task = tokio::spawn(accept_loop(
        state,
        broker_id,
        listener,
        rx,
        shutdown_timeout,
    ));
    tracing::info!(broker = broker_id, %local, "broker listening");
    Ok((local, RunningBroker { shutdown: tx, task }))
}

impl RunningBroker {
    /// A receiver of this broker's shutdown signal.
    pub(crate) fn subscribe(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Stops accepting, closes every connection, and waits for all tasks to end.
    pub(crate) async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

async fn accept_loop(
    state: Arc<ClusterState>,
    broker_id: i32,
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
    shutdown_timeout: Duration,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = wait_shutdown(&mut shutdown) => break,
            // Reap finished connection tasks so the set does not grow with closed connections.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    if connections.len() >= state.config.max_connections {
                        tracing::warn!(broker = broker_id, %peer, limit = state.config.max_connections, "too many connections; closing the new one");
                        drop(stream);
                        continue;
                    }
                    tracing::debug!(broker = broker_id, %peer, "accepted connection");
                    // Responses are written whole; Nagle would only add latency.
                    let _ = stream.set_nodelay(true);
                    let ctx = RequestContext {
                        state: Arc::clone(&state),
                        broker_id,
                        shutdown: shutdown.clone(),
                        client_host: format!("/{}", peer.ip()),
                        principal: crate::authorizer::ANONYMOUS.into(),
                    };
                    match state.tls.clone() {
                        Some(acceptor) => {
                            connections.spawn(async move {
                                // The handshake gets the same bound as authentication.
                                let limit = Duration::from_secs(10);
                                match tokio::time::timeout(limit, acceptor.accept(stream)).await {
                                    Ok(Ok(tls)) => {
                                        // A client certificate names the principal, as
                                        // Kafka's default SSL principal builder does (SASL,
                                        // if the listener also has it, then overrides it).
                                        let mut ctx = ctx;
                                        if let Some(dn) = tls
                                            .get_ref()
                                            .1
                                            .peer_certificates()
                                            .and_then(|chain| chain.first())
                                            .and_then(|cert| crate::x509_name::subject_dn(cert))
                                        {
                                            ctx.principal = format!("User:{dn}");
                                        }
                                        connection::serve(tls, ctx).await
                                    }
                                    Ok(Err(e)) => tracing::info!(%peer, error = %e, "TLS handshake failed"),
                                    Err(_) => tracing::info!(%peer, "TLS handshake timed out"),
                                }
                            });
                        }
                        None => {
                            connections.spawn(connection::serve(stream, ctx));
                        }
                    }
                }
                Err(e) => {
                    // E.g. EMFILE: back off briefly instead of spinning on the error.
                    tracing::warn!(broker = broker_id, error = %e, "accept failed");
                    tokio::select! {
                        _ = wait_shutdown(&mut shutdown) => break,
                        _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                    }
                }
            },
        }
    }
    drop(listener);
    // Connections watch the same signal and end promptly; abort any that do not.
    let drained = tokio::time::timeout(shutdown_timeout, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.shutdown().await;
    }
    tracing::info!(broker = broker_id, "broker stopped");
}

//! What a request handler is given: the cluster, the broker it runs on, the shutdown signal and
//! the peer. It sits below both the connection (which builds it) and the handlers (which use
//! it), so neither depends on the other for it.

use std::sync::Arc;

use tokio::sync::watch;

use crate::state::ClusterState;

/// The context of one connection's requests.
#[derive(Debug, Clone)]
pub(crate) struct RequestContext {
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

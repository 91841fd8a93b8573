//! What a request handler is given: the cluster, the broker it runs on, the shutdown signal and
//! the peer. It sits below both the connection (which builds it) and the handlers (which use
//! it), so neither depends on the other for it.

use std::sync::Arc;

use kafka_protocol::acl::{AclOperation, ResourceType, CLUSTER_NAME};
use tokio::sync::watch;

use crate::authorizer::Requester;
use crate::state::ClusterState;

/// The context of one connection's requests.
#[derive(Debug, Clone)]
pub(crate) struct RequestContext {
    pub state: Arc<ClusterState>,
    pub broker_id: i32,
    pub shutdown: watch::Receiver<bool>,
    /// The peer's address, reported as the client host of group members.
    pub client_host: String,
    /// Who the connection authenticated as (`User:NAME`), `User:ANONYMOUS` until then.
    pub principal: String,
}

impl RequestContext {
    /// The principal and host ACLs are matched against.
    pub fn requester(&self) -> Requester<'_> {
        Requester {
            principal: &self.principal,
            host: self.client_host.trim_start_matches('/'),
        }
    }

    /// Whether the principal may perform `operation` on the resource; always with ACLs off.
    pub fn allowed(
        &self,
        operation: AclOperation,
        resource_type: ResourceType,
        name: &str,
    ) -> bool {
        self.state
            .authorizer
            .as_ref()
            .is_none_or(|a| a.authorize(self.requester(), operation, resource_type, name))
    }

    /// [`Self::allowed`] on a topic.
    pub fn allowed_topic(&self, operation: AclOperation, topic: &str) -> bool {
        self.allowed(operation, ResourceType::Topic, topic)
    }

    /// [`Self::allowed`] on a group.
    pub fn allowed_group(&self, operation: AclOperation, group: &str) -> bool {
        self.allowed(operation, ResourceType::Group, group)
    }

    /// [`Self::allowed`] on the cluster.
    pub fn allowed_cluster(&self, operation: AclOperation) -> bool {
        self.allowed(operation, ResourceType::Cluster, CLUSTER_NAME)
    }

    /// The KIP-430 bit set of `supported` operations allowed on the resource; every one of
    /// them with ACLs off.
    pub fn authorized_operations(
        &self,
        resource_type: ResourceType,
        name: &str,
        supported: &[AclOperation],
    ) -> i32 {
        match &self.state.authorizer {
            Some(a) => a.authorized_operations(self.requester(), resource_type, name, supported),
            None => crate::authorized_operations::all(supported),
        }
    }

    /// KIP-430's cluster operations: those allowed, or none at all without DESCRIBE on the
    /// cluster (Metadata and DescribeCluster both answer so).
    pub fn cluster_authorized_operations(&self) -> i32 {
        if self.allowed_cluster(AclOperation::Describe) {
            self.authorized_operations(
                ResourceType::Cluster,
                CLUSTER_NAME,
                crate::authorized_operations::CLUSTER,
            )
        } else {
            0
        }
    }
}

/// Resolves once `shutdown` turns true or its sender is gone.
pub(crate) async fn wait_shutdown(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

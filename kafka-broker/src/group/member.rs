//! One member of a classic group, and how member ids are minted.

use bytes::Bytes;

/// Identifies a parked JoinGroup or SyncGroup request; the coordinator maps it to the channel
/// that answers the request.
pub type WaiterId = u64;

/// How long a member that joined for the first time may stay parked in JoinGroup before it is
/// dropped (Kafka's `NewMemberJoinTimeoutMs`, KIP-394): a new member whose client went away
/// must not hold the rebalance up until the rebalance timeout.
pub const NEW_MEMBER_JOIN_TIMEOUT_MS: u64 = 5 * 60 * 1000;

/// A member of a classic group.
#[derive(Debug, Clone)]
pub struct Member {
    /// Coordinator-assigned id: client id, `-`, a random UUID.
    pub member_id: String,
    /// `group.instance.id` of a static member (KIP-345).
    pub group_instance_id: Option<String>,
    /// Client id from the request header of its JoinGroup.
    pub client_id: String,
    /// Address the member connected from, as DescribeGroups reports it.
    pub client_host: String,
    /// Session timeout: the member is removed when it sends no heartbeat for this long.
    pub session_timeout_ms: u64,
    /// How long the coordinator waits for it to rejoin during a rebalance.
    pub rebalance_timeout_ms: u64,
    /// Supported protocols (assignor name, metadata), in the member's order of preference.
    pub protocols: Vec<(String, Bytes)>,
    /// Assignment the leader sent for it in the current generation.
    pub assignment: Bytes,
    /// Its parked JoinGroup, if any.
    pub join_waiter: Option<WaiterId>,
    /// Its parked SyncGroup, if any.
    pub sync_waiter: Option<WaiterId>,
    /// Last time (coordinator ms) it proved liveness.
    pub last_heartbeat_ms: u64,
    /// Joined but has not yet completed a rebalance.
    pub is_new: bool,
    /// When it first joined (coordinator ms), for [`NEW_MEMBER_JOIN_TIMEOUT_MS`].
    pub joined_at_ms: u64,
}

impl Member {
    /// Whether it is parked in JoinGroup.
    pub fn is_awaiting_join(&self) -> bool {
        self.join_waiter.is_some()
    }

    /// Its metadata for `protocol`, if it supports it.
    pub fn metadata(&self, protocol: &str) -> Option<&Bytes> {
        self.protocols
            .iter()
            .find(|(n, _)| n == protocol)
            .map(|(_, m)| m)
    }

    /// Whether it supports `protocol`.
    pub fn supports(&self, protocol: &str) -> bool {
        self.protocols.iter().any(|(n, _)| n == protocol)
    }

    /// Whether a rejoin carries exactly the protocols it has (then no rebalance is needed).
    pub fn matches(&self, protocols: &[(String, Bytes)]) -> bool {
        self.protocols == protocols
    }

    /// When it expires, or `None` while it cannot.
    ///
    /// As in Kafka, a member parked in JoinGroup or SyncGroup is kept alive: it cannot send
    /// heartbeats while waiting, and the rebalance timeout bounds the wait instead. Only a new
    /// member parked in JoinGroup expires, after [`NEW_MEMBER_JOIN_TIMEOUT_MS`].
    pub fn expiry_ms(&self) -> Option<u64> {
        if self.is_awaiting_join() {
            self.is_new
                .then(|| self.joined_at_ms.saturating_add(NEW_MEMBER_JOIN_TIMEOUT_MS))
        } else if self.sync_waiter.is_some() {
            None
        } else {
            Some(
                self.last_heartbeat_ms
                    .saturating_add(self.session_timeout_ms),
            )
        }
    }
}

/// Mints a member id the way Kafka does: `client_id + "-" + random UUID`.
pub fn new_member_id(client_id: &str) -> String {
    format!("{client_id}-{}", crate::ids::random_uuid_text())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn member_ids_are_prefixed_and_unique() {
        let ids: HashSet<String> = (0..1000).map(|_| new_member_id("consumer-1")).collect();
        assert_eq!(ids.len(), 1000);
        for id in &ids {
            let uuid = id.strip_prefix("consumer-1-").unwrap();
            assert_eq!(uuid.len(), 36);
            assert_eq!(uuid.matches('-').count(), 4);
            assert_eq!(uuid.as_bytes()[14], b'4');
        }
    }
}

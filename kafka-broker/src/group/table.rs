//! [`GroupTable`]: the groups a coordinator holds and the requests parked on them, as one plain
//! value behind the coordinator's lock. The request handlers of the group APIs ([`super::admin`],
//! [`super::membership`], [`super::offsets_api`]) work on it; the coordinator owns it, locks it
//! and runs its timers. Nothing here knows about the coordinator.

use std::collections::HashMap;

use tokio::sync::oneshot;

use super::classic::ClassicGroup;
use super::member::WaiterId;
use super::types::{GroupState, ParkedAnswer};
use super::GroupConfig;

/// Everything behind a coordinator's lock.
pub(super) struct GroupTable {
    /// False after [`GroupCoordinator::shutdown`]: requests get COORDINATOR_NOT_AVAILABLE.
    pub(super) active: bool,
    pub(super) sweeper_running: bool,
    pub(super) groups: HashMap<String, ClassicGroup>,
    pub(super) waiters: HashMap<WaiterId, oneshot::Sender<ParkedAnswer>>,
    pub(super) next_waiter: WaiterId,
    pub(super) next_cleanup_ms: u64,
}

impl GroupTable {
    /// Registers a parked request.
    pub(super) fn park(&mut self) -> (WaiterId, oneshot::Receiver<ParkedAnswer>) {
        let id = self.next_waiter;
        self.next_waiter = self.next_waiter.wrapping_add(1);
        let (tx, rx) = oneshot::channel();
        self.waiters.insert(id, tx);
        (id, rx)
    }

    /// Sends the answers `group_id` produced to their parked requests, and forgets the group if
    /// it died.
    pub(super) fn flush(&mut self, group_id: &str) {
        let Some(group) = self.groups.get_mut(group_id) else {
            return;
        };
        for (waiter, reply) in group.take_replies() {
            if let Some(tx) = self.waiters.remove(&waiter) {
                // The request may have been abandoned (client gone); nothing to do then.
                let _ = tx.send(reply);
            }
        }
        if group.state() == GroupState::Dead {
            self.groups.remove(group_id);
        }
    }

    pub(super) fn next_deadline(&self) -> u64 {
        self.groups
            .values()
            .filter_map(ClassicGroup::next_deadline)
            .fold(self.next_cleanup_ms, u64::min)
    }

    pub(super) fn tick(&mut self, now_ms: u64, config: &GroupConfig) {
        let due: Vec<String> = self
            .groups
            .iter()
            .filter(|(_, g)| g.next_deadline().is_some_and(|d| d <= now_ms))
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            if let Some(g) = self.groups.get_mut(&id) {
                g.tick(now_ms);
            }
            self.flush(&id);
        }
        if now_ms >= self.next_cleanup_ms {
            self.cleanup(now_ms, config);
            self.next_cleanup_ms =
                now_ms.saturating_add(config.offsets_retention_check_interval_ms.max(1));
        }
    }

    /// Offset retention (KIP-211) and removal of groups with neither members nor offsets.
    fn cleanup(&mut self, now_ms: u64, config: &GroupConfig) {
        self.groups.retain(|_, g| {
            if g.state() == GroupState::Empty {
                let since = g.state_since_ms();
                g.offsets
                    .expire(now_ms, config.offsets_retention_ms, since, &|_| false);
            } else if let Some(subscribed) = g.subscribed_topics() {
                // A live consumer group keeps the offsets of topics it consumes; those of
                // topics it dropped expire from their commit time.
                g.offsets
                    .expire(now_ms, config.offsets_retention_ms, 0, &|t| {
                        subscribed.contains(t)
                    });
            }
            !(g.state() == GroupState::Empty && g.offsets.is_empty() && !g.has_members())
        });
    }
}

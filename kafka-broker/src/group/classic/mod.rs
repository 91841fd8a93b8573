//! The classic group state machine (Kafka's `GroupMetadata` + the join/sync logic of its
//! `GroupCoordinator`), as plain data: no sockets, no clock, no tasks.
//!
//! Time is passed in as coordinator milliseconds. Requests that Kafka parks (JoinGroup until the
//! rebalance completes, SyncGroup until the leader sends the assignment) carry a [`WaiterId`];
//! every answer, immediate or late, is pushed to an outbox that the caller drains with
//! [`ClassicGroup::take_replies`] and routes to the parked requests. [`ClassicGroup::tick`] runs
//! the timers (session expiry, rebalance timeout, initial rebalance delay, pending-sync timeout)
//! that are due at a given time, and [`ClassicGroup::next_deadline`] says when to call it next.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bytes::Bytes;
use kafka_protocol::ErrorCode;

use super::member::{Member, WaiterId};
use super::offsets::OffsetStore;
use super::types::{GroupLimits, GroupState, JoinResult, ParkedAnswer, SyncParams, SyncResult};
use kafka_protocol::consumer_protocol::{
    subscribed_topics, PROTOCOL_TYPE as CONSUMER_PROTOCOL_TYPE,
};

mod join;

/// The initial-rebalance delay of a group that was empty (`group.initial.rebalance.delay.ms`):
/// each new member extends the wait by the delay, up to the rebalance timeout, so a group of
/// consumers starting together forms in one rebalance.
#[derive(Debug, Clone, Copy)]
struct InitialDelay {
    remaining_ms: u64,
    new_member_added: bool,
}

/// One classic group.
#[derive(Debug)]
pub struct ClassicGroup {
    group_id: String,
    state: GroupState,
    state_since_ms: u64,
    generation_id: i32,
    protocol_type: Option<String>,
    protocol_name: Option<String>,
    leader_id: Option<String>,
    /// In join order, so the leader falls to the longest-standing member.
    members: Vec<Member>,
    /// KIP-394 members that were given an id but have not joined with it: id → expiry.
    pending_members: BTreeMap<String, u64>,
    /// Static instance id → member id (KIP-345).
    static_members: HashMap<String, String>,
    /// Members that got their JoinGroup answer but have not sent SyncGroup yet.
    pending_sync: BTreeSet<String>,
    join_deadline_ms: Option<u64>,
    initial_delay: Option<InitialDelay>,
    sync_deadline_ms: Option<u64>,
    limits: GroupLimits,
    /// Committed offsets.
    pub offsets: OffsetStore,
    outbox: Vec<(WaiterId, ParkedAnswer)>,
}

impl ClassicGroup {
    /// A new, empty group.
    pub fn new(group_id: &str, now_ms: u64, limits: GroupLimits) -> ClassicGroup {
        ClassicGroup {
            group_id: group_id.to_owned(),
            state: GroupState::Empty,
            state_since_ms: now_ms,
            generation_id: 0,
            protocol_type: None,
            protocol_name: None,
            leader_id: None,
            members: Vec::new(),
            pending_members: BTreeMap::new(),
            static_members: HashMap::new(),
            pending_sync: BTreeSet::new(),
            join_deadline_ms: None,
            initial_delay: None,
            sync_deadline_ms: None,
            limits,
            offsets: OffsetStore::default(),
            outbox: Vec::new(),
        }
    }

    /// Group id.
    pub fn group_id(&self) -> &str {
        &self.group_id
    }
    /// Current state.
    pub fn state(&self) -> GroupState {
        self.state
    }
    /// When the current state was entered.
    pub fn state_since_ms(&self) -> u64 {
        self.state_since_ms
    }
    /// Current generation.
    #[cfg(test)]
    pub fn generation_id(&self) -> i32 {
        self.generation_id
    }
    /// Protocol type, set by the first member.
    pub fn protocol_type(&self) -> Option<&str> {
        self.protocol_type.as_deref()
    }
    /// Protocol selected for the current generation.
    pub fn protocol_name(&self) -> Option<&str> {
        self.protocol_name.as_deref()
    }
    /// Leader's member id.
    #[cfg(test)]
    pub fn leader_id(&self) -> Option<&str> {
        self.leader_id.as_deref()
    }
    /// Members in join order.
    pub fn members(&self) -> &[Member] {
        &self.members
    }
    /// A member by id.
    pub fn member(&self, member_id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.member_id == member_id)
    }
    /// Whether members joined, or were promised an id, and may come back.
    pub fn has_members(&self) -> bool {
        !self.members.is_empty() || !self.pending_members.is_empty()
    }
    /// Answers for parked requests produced since the last call.
    pub fn take_replies(&mut self) -> Vec<(WaiterId, ParkedAnswer)> {
        std::mem::take(&mut self.outbox)
    }

    fn member_mut(&mut self, member_id: &str) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| m.member_id == member_id)
    }
    fn has(&self, member_id: &str) -> bool {
        self.member(member_id).is_some()
    }
    fn is_leader(&self, member_id: &str) -> bool {
        self.leader_id.as_deref() == Some(member_id)
    }
    fn transition(&mut self, state: GroupState, now_ms: u64) {
        self.state = state;
        self.state_since_ms = now_ms;
    }
    fn reply(&mut self, waiter: WaiterId, reply: ParkedAnswer) {
        self.outbox.push((waiter, reply));
    }

    /// Checks that `member_id` (and `instance_id`, for static members) names a current member:
    /// FENCED_INSTANCE_ID when the instance id now belongs to another member id (KIP-345),
    /// UNKNOWN_MEMBER_ID otherwise.
    pub fn validate_member(
        &self,
        member_id: &str,
        instance_id: Option<&str>,
    ) -> Result<(), ErrorCode> {
        if let Some(instance) = instance_id {
            match self.static_members.get(instance) {
                Some(current) if current != member_id => return Err(ErrorCode::FencedInstanceId),
                Some(_) => {}
                None => return Err(ErrorCode::UnknownMemberId),
            }
        }
        if self.has(member_id) {
            Ok(())
        } else {
            Err(ErrorCode::UnknownMemberId)
        }
    }

    /// Whether a member may join with these protocols: the first member fixes the protocol
    /// type; later ones must share it and support a protocol every other member supports.
    fn supports_protocols(
        &self,
        joining: &str,
        protocol_type: &str,
        protocols: &[(String, Bytes)],
    ) -> bool {
        if protocol_type.is_empty() || protocols.is_empty() {
            return false;
        }
        let others: Vec<&Member> = self
            .members
            .iter()
            .filter(|m| m.member_id != joining)
            .collect();
        if others.is_empty() {
            return true;
        }
        self.protocol_type.as_deref() == Some(protocol_type)
            && protocols
                .iter()
                .any(|(name, _)| others.iter().all(|m| m.supports(name)))
    }

    /// Kafka's protocol selection: among protocols every member supports, each member votes for
    /// the first in its preference order; most votes wins (ties go to the earlier candidate in
    /// the longest-standing member's order).
    fn select_protocol(&self) -> Option<String> {
        let first = self.members.first()?;
        let candidates: Vec<&str> = first
            .protocols
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| self.members.iter().all(|m| m.supports(n)))
            .collect();
        let mut best: Option<(&str, usize)> = None;
        for c in &candidates {
            let votes = self
                .members
                .iter()
                .filter(|m| {
                    m.protocols
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .find(|n| candidates.contains(n))
                        == Some(*c)
                })
                .count();
            if !matches!(best, Some((_, v)) if votes <= v) {
                best = Some((c, votes));
            }
        }
        best.map(|(c, _)| c.to_owned())
    }

    /// The topics the members are subscribed to, or `None` when they cannot be known (not a
    /// consumer group, no protocol selected yet, or metadata that does not parse): callers then
    /// assume every topic is subscribed, as Kafka does.
    pub fn subscribed_topics(&self) -> Option<BTreeSet<String>> {
        if self.protocol_type.as_deref() != Some(CONSUMER_PROTOCOL_TYPE) {
            return None;
        }
        if self.members.is_empty() {
            return Some(BTreeSet::new());
        }
        let protocol = self.protocol_name.as_deref()?;
        let mut all = BTreeSet::new();
        for m in &self.members {
            let meta = m.metadata(protocol)?;
            all.extend(subscribed_topics(meta).ok()?.into_iter().map(String::from));
        }
        Some(all)
    }

    /// Removes a member without starting a rebalance; its parked requests are told it is gone.
    fn remove_member(&mut self, member_id: &str) {
        let Some(pos) = self.members.iter().position(|m| m.member_id == member_id) else {
            return;
        };
        let m = self.members.remove(pos);
        if let Some(instance) = &m.group_instance_id {
            if self
                .static_members
                .get(instance)
                .is_some_and(|id| id == member_id)
            {
                self.static_members.remove(instance);
            }
        }
        self.pending_sync.remove(member_id);
        if let Some(w) = m.join_waiter {
            self.reply(
                w,
                ParkedAnswer::Join(JoinResult::error(ErrorCode::UnknownMemberId, member_id)),
            );
        }
        if let Some(w) = m.sync_waiter {
            self.reply(
                w,
                ParkedAnswer::Sync(SyncResult::error(ErrorCode::UnknownMemberId)),
            );
        }
        if self.is_leader(member_id) {
            // Prefer a member that is rejoining, so a rebalance in progress has a leader that
            // will receive the member list.
            let next = self
                .members
                .iter()
                .find(|m| m.is_awaiting_join())
                .or(self.members.first())
                .map(|m| m.member_id.clone());
            self.leader_id = next;
        }
    }

    /// Removes a member and lets the group react: a stable or completing group rebalances, a
    /// rebalancing group may now have everyone it waits for.
    fn remove_member_and_update(&mut self, now_ms: u64, member_id: &str) {
        self.remove_member(member_id);
        match self.state {
            GroupState::Stable | GroupState::CompletingRebalance => self.prepare_rebalance(now_ms),
            GroupState::PreparingRebalance => self.maybe_complete_join(now_ms),
            GroupState::Empty | GroupState::Dead => {}
        }
    }

    /// Handles a SyncGroup; the answer arrives in the outbox for `waiter`.
    pub fn sync(&mut self, now_ms: u64, p: SyncParams, waiter: WaiterId) {
        let checked = if self.state == GroupState::Dead {
            Err(ErrorCode::CoordinatorNotAvailable)
        } else {
            self.validate_member(&p.member_id, p.group_instance_id.as_deref())
                .and_then(|()| {
                    if p.generation_id != self.generation_id {
                        Err(ErrorCode::IllegalGeneration)
                    } else if p
                        .protocol_type
                        .as_ref()
                        .is_some_and(|t| Some(t) != self.protocol_type.as_ref())
                        || p.protocol_name
                            .as_ref()
                            .is_some_and(|n| Some(n) != self.protocol_name.as_ref())
                    {
                        Err(ErrorCode::InconsistentGroupProtocol)
                    } else {
                        Ok(())
                    }
                })
        };
        if let Err(e) = checked {
            return self.reply(waiter, ParkedAnswer::Sync(SyncResult::error(e)));
        }
        match self.state {
            GroupState::Empty | GroupState::Dead => {
                self.reply(
                    waiter,
                    ParkedAnswer::Sync(SyncResult::error(ErrorCode::UnknownMemberId)),
                );
            }
            GroupState::PreparingRebalance => {
                self.reply(
                    waiter,
                    ParkedAnswer::Sync(SyncResult::error(ErrorCode::RebalanceInProgress)),
                );
            }
            GroupState::CompletingRebalance => {
                self.pending_sync.remove(&p.member_id);
                let Some(m) = self.member_mut(&p.member_id) else {
                    return;
                };
                m.last_heartbeat_ms = now_ms;
                let previous = m.sync_waiter.replace(waiter);
                if let Some(old) = previous {
                    self.reply(
                        old,
                        ParkedAnswer::Sync(SyncResult::error(ErrorCode::RebalanceInProgress)),
                    );
                }
                if self.is_leader(&p.member_id) {
                    self.apply_assignment(now_ms, p.assignments);
                }
            }
            GroupState::Stable => {
                self.pending_sync.remove(&p.member_id);
                let Some(m) = self.member_mut(&p.member_id) else {
                    return;
                };
                m.last_heartbeat_ms = now_ms;
                let assignment = m.assignment.clone();
                let r = self.sync_ok(assignment);
                self.reply(waiter, ParkedAnswer::Sync(r));
            }
        }
        if self.pending_sync.is_empty() {
            self.sync_deadline_ms = None;
        }
    }

    fn sync_ok(&self, assignment: Bytes) -> SyncResult {
        SyncResult {
            error: ErrorCode::None,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol_name.clone(),
            assignment,
        }
    }

    /// The leader's SyncGroup: store each member's assignment (none given means empty, entries
    /// for non-members are ignored), become Stable and answer every parked SyncGroup.
    fn apply_assignment(&mut self, now_ms: u64, assignments: Vec<(String, Bytes)>) {
        let mut by_member: HashMap<String, Bytes> = assignments.into_iter().collect();
        let mut parked = Vec::new();
        for m in &mut self.members {
            m.assignment = by_member.remove(&m.member_id).unwrap_or_default();
            if let Some(w) = m.sync_waiter.take() {
                parked.push((w, m.assignment.clone()));
            }
        }
        self.transition(GroupState::Stable, now_ms);
        for (w, assignment) in parked {
            let r = self.sync_ok(assignment);
            self.reply(w, ParkedAnswer::Sync(r));
        }
    }

    /// Handles a Heartbeat.
    pub fn heartbeat(
        &mut self,
        now_ms: u64,
        member_id: &str,
        instance_id: Option<&str>,
        generation_id: i32,
    ) -> ErrorCode {
        if self.state == GroupState::Dead {
            return ErrorCode::CoordinatorNotAvailable;
        }
        if let Err(e) = self.validate_member(member_id, instance_id) {
            return e;
        }
        if generation_id != self.generation_id {
            return ErrorCode::IllegalGeneration;
        }
        let state = self.state;
        let Some(m) = self.member_mut(member_id) else {
            return ErrorCode::UnknownMemberId;
        };
        match state {
            GroupState::Empty | GroupState::Dead => ErrorCode::UnknownMemberId,
            GroupState::CompletingRebalance | GroupState::Stable => {
                m.last_heartbeat_ms = now_ms;
                ErrorCode::None
            }
            GroupState::PreparingRebalance => {
                // Keep it alive, and tell it to rejoin.
                m.last_heartbeat_ms = now_ms;
                ErrorCode::RebalanceInProgress
            }
        }
    }

    /// Handles one member of a LeaveGroup. A static member may be named by instance id alone
    /// (an empty member id), as admin clients do (KIP-345).
    pub fn leave(&mut self, now_ms: u64, member_id: &str, instance_id: Option<&str>) -> ErrorCode {
        if self.state == GroupState::Dead {
            return ErrorCode::CoordinatorNotAvailable;
        }
        let target = if let Some(instance) = instance_id {
            match self.static_members.get(instance) {
                None => return ErrorCode::UnknownMemberId,
                Some(id) if !member_id.is_empty() && id != member_id => {
                    return ErrorCode::FencedInstanceId
                }
                Some(id) => id.clone(),
            }
        } else if self.pending_members.remove(member_id).is_some() {
            self.maybe_complete_join(now_ms);
            self.tick(now_ms);
            return ErrorCode::None;
        } else if self.has(member_id) {
            member_id.to_owned()
        } else {
            return ErrorCode::UnknownMemberId;
        };
        self.remove_member_and_update(now_ms, &target);
        self.tick(now_ms);
        ErrorCode::None
    }

    /// When [`ClassicGroup::tick`] next has something to do.
    pub fn next_deadline(&self) -> Option<u64> {
        let members = self.members.iter().filter_map(Member::expiry_ms);
        let pending = self.pending_members.values().copied();
        let join = self
            .join_deadline_ms
            .filter(|_| self.state == GroupState::PreparingRebalance);
        let sync = self
            .sync_deadline_ms
            .filter(|_| !self.pending_sync.is_empty());
        members.chain(pending).chain(join).chain(sync).min()
    }

    /// Runs every timer due at `now_ms`.
    pub fn tick(&mut self, now_ms: u64) {
        // Each round may schedule a timer that is due at once (e.g. an initial delay of 0), so
        // go round again; the bound only guards against a logic error spinning forever.
        for _ in 0..16 {
            if !matches!(self.next_deadline(), Some(d) if d <= now_ms) {
                return;
            }
            self.tick_once(now_ms);
        }
    }

    fn tick_once(&mut self, now_ms: u64) {
        let expired: Vec<String> = self
            .members
            .iter()
            .filter(|m| m.expiry_ms().is_some_and(|d| d <= now_ms))
            .map(|m| m.member_id.clone())
            .collect();
        for id in expired {
            tracing::debug!(group = %self.group_id, member = %id, "member session expired");
            self.remove_member_and_update(now_ms, &id);
        }
        let before = self.pending_members.len();
        self.pending_members
            .retain(|_, deadline| *deadline > now_ms);
        if self.pending_members.len() != before {
            self.maybe_complete_join(now_ms);
        }
        if self.state == GroupState::PreparingRebalance
            && self.join_deadline_ms.is_some_and(|d| d <= now_ms)
        {
            match self.initial_delay {
                Some(mut delay) if delay.new_member_added && delay.remaining_ms > 0 => {
                    let step = self
                        .limits
                        .initial_rebalance_delay_ms
                        .min(delay.remaining_ms);
                    delay.remaining_ms -= step;
                    delay.new_member_added = false;
                    self.initial_delay = Some(delay);
                    self.join_deadline_ms = Some(now_ms.saturating_add(step));
                }
                _ => self.complete_join(now_ms),
            }
        }
        if self.sync_deadline_ms.is_some_and(|d| d <= now_ms) {
            self.sync_deadline_ms = None;
            let laggards: Vec<String> = self.pending_sync.iter().cloned().collect();
            if !laggards.is_empty()
                && matches!(
                    self.state,
                    GroupState::CompletingRebalance | GroupState::Stable
                )
            {
                for id in &laggards {
                    self.remove_member(id);
                }
                self.prepare_rebalance(now_ms);
            }
        }
    }

    /// Checks an OffsetCommit against the group (Kafka's `validateOffsetCommit`).
    ///
    /// Generation `-1` with no member is a "simple" commit from a client that does not use
    /// group management; it is only accepted while the group has no members.
    pub fn validate_offset_commit(
        &self,
        member_id: &str,
        instance_id: Option<&str>,
        generation_id: i32,
    ) -> Result<(), ErrorCode> {
        if self.state == GroupState::Dead {
            return Err(ErrorCode::CoordinatorNotAvailable);
        }
        if generation_id < 0 && self.state == GroupState::Empty {
            return Ok(());
        }
        if generation_id >= 0 || !member_id.is_empty() || instance_id.is_some() {
            self.validate_member(member_id, instance_id)?;
            if generation_id != self.generation_id {
                return Err(ErrorCode::IllegalGeneration);
            }
        } else if self.state != GroupState::Empty {
            return Err(ErrorCode::UnknownMemberId);
        }
        if self.state == GroupState::CompletingRebalance {
            // The member has the new generation but not yet its assignment.
            return Err(ErrorCode::RebalanceInProgress);
        }
        Ok(())
    }

    /// Makes every member alive as of `now_ms`, as Kafka does when a coordinator loads a group
    /// (the members could not heartbeat while it was away).
    #[cfg(test)]
    pub fn refresh_sessions(&mut self, now_ms: u64) {
        for m in &mut self.members {
            m.last_heartbeat_ms = now_ms;
        }
    }

    /// Drops every parked request without answering (coordinator shutdown): members stay, and
    /// their parked state is cleared so sessions count again.
    pub fn forget_waiters(&mut self) {
        for m in &mut self.members {
            m.join_waiter = None;
            m.sync_waiter = None;
        }
        self.outbox.clear();
    }
}

#[cfg(test)]
mod tests;

//! The join phase of a rebalance: admitting members (KIP-394 pending ids, KIP-345 static
//! replacement), starting a rebalance, and completing it with a new generation.

use bytes::Bytes;
use kafka_protocol::ErrorCode;

use super::{ClassicGroup, InitialDelay};
use crate::group::member::{new_member_id, Member, WaiterId};
use crate::group::types::{
    GroupState, JoinParams, JoinResult, JoinedMember, ParkedAnswer, SyncResult,
};

impl ClassicGroup {
    /// Handles a JoinGroup; the answer arrives in the outbox for `waiter`, now or later.
    pub fn join(&mut self, now_ms: u64, p: JoinParams, waiter: WaiterId) {
        if self.state == GroupState::Dead {
            self.reply(
                waiter,
                ParkedAnswer::Join(JoinResult::error(
                    ErrorCode::CoordinatorNotAvailable,
                    &p.member_id,
                )),
            );
        } else if p.member_id.is_empty() {
            self.join_new_member(now_ms, p, waiter);
        } else {
            self.join_known_member(now_ms, p, waiter);
        }
        self.tick(now_ms);
    }

    fn join_new_member(&mut self, now_ms: u64, p: JoinParams, waiter: WaiterId) {
        // A returning static member replaces itself, so only the others constrain its protocols.
        let old_static = p
            .group_instance_id
            .as_ref()
            .and_then(|instance| self.static_members.get(instance).cloned());
        let replacing = old_static.as_deref().unwrap_or_default();
        if !self.supports_protocols(replacing, &p.protocol_type, &p.protocols) {
            let r = JoinResult::error(ErrorCode::InconsistentGroupProtocol, "");
            return self.reply(waiter, ParkedAnswer::Join(r));
        }
        if let Some(old_id) = old_static {
            return self.replace_static_member(now_ms, &old_id, p, waiter);
        }
        if self.members.len() + self.pending_members.len() >= self.limits.max_size {
            let r = JoinResult::error(ErrorCode::GroupMaxSizeReached, "");
            return self.reply(waiter, ParkedAnswer::Join(r));
        }
        let member_id = new_member_id(&p.client_id);
        if p.group_instance_id.is_none() && p.require_known_member_id {
            // KIP-394: hand out the id first, so a client that times out and retries does not
            // leave a ghost member behind; it is forgotten if it does not join within the
            // session timeout.
            self.pending_members.insert(
                member_id.clone(),
                now_ms.saturating_add(p.session_timeout_ms),
            );
            let r = JoinResult::error(ErrorCode::MemberIdRequired, &member_id);
            return self.reply(waiter, ParkedAnswer::Join(r));
        }
        self.add_member_and_rebalance(now_ms, member_id, p, waiter);
    }

    fn join_known_member(&mut self, now_ms: u64, p: JoinParams, waiter: WaiterId) {
        if self.pending_members.remove(&p.member_id).is_some() {
            if !self.supports_protocols("", &p.protocol_type, &p.protocols) {
                let r = JoinResult::error(ErrorCode::InconsistentGroupProtocol, &p.member_id);
                return self.reply(waiter, ParkedAnswer::Join(r));
            }
            let id = p.member_id.clone();
            return self.add_member_and_rebalance(now_ms, id, p, waiter);
        }
        if let Err(e) = self.validate_member(&p.member_id, p.group_instance_id.as_deref()) {
            return self.reply(
                waiter,
                ParkedAnswer::Join(JoinResult::error(e, &p.member_id)),
            );
        }
        if !self.supports_protocols(&p.member_id, &p.protocol_type, &p.protocols) {
            let r = JoinResult::error(ErrorCode::InconsistentGroupProtocol, &p.member_id);
            return self.reply(waiter, ParkedAnswer::Join(r));
        }
        let unchanged = self
            .member(&p.member_id)
            .is_some_and(|m| m.matches(&p.protocols));
        match self.state {
            GroupState::PreparingRebalance => self.update_member_and_rebalance(now_ms, p, waiter),
            GroupState::CompletingRebalance if unchanged => {
                // A retried JoinGroup whose answer was lost: repeat it.
                let r = self.current_join_result(&p.member_id);
                self.reply(waiter, ParkedAnswer::Join(r));
            }
            GroupState::Stable if unchanged && !self.is_leader(&p.member_id) => {
                let mut r = self.current_join_result(&p.member_id);
                r.members.clear();
                self.reply(waiter, ParkedAnswer::Join(r));
            }
            // A leader rejoining a stable group asks for a rebalance (e.g. its subscription's
            // pattern matched new topics); so does any change of protocols.
            GroupState::CompletingRebalance | GroupState::Stable => {
                self.update_member_and_rebalance(now_ms, p, waiter)
            }
            GroupState::Empty | GroupState::Dead => {
                self.reply(
                    waiter,
                    ParkedAnswer::Join(JoinResult::error(ErrorCode::UnknownMemberId, &p.member_id)),
                );
            }
        }
    }

    /// The JoinGroup answer of the current generation for `member_id` (members list for the
    /// leader only).
    fn current_join_result(&self, member_id: &str) -> JoinResult {
        let leader = self.leader_id.clone().unwrap_or_default();
        let members = if leader == member_id {
            self.joined_members()
        } else {
            Vec::new()
        };
        JoinResult {
            error: ErrorCode::None,
            generation_id: self.generation_id,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol_name.clone(),
            leader,
            member_id: member_id.to_owned(),
            skip_assignment: false,
            members,
        }
    }

    fn joined_members(&self) -> Vec<JoinedMember> {
        let protocol = self.protocol_name.as_deref().unwrap_or_default();
        self.members
            .iter()
            .map(|m| JoinedMember {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                metadata: m.metadata(protocol).cloned().unwrap_or_default(),
            })
            .collect()
    }

    fn add_member_and_rebalance(
        &mut self,
        now_ms: u64,
        member_id: String,
        p: JoinParams,
        waiter: WaiterId,
    ) {
        if self.members.is_empty() {
            self.protocol_type = Some(p.protocol_type.clone());
        }
        if self.leader_id.is_none() {
            self.leader_id = Some(member_id.clone());
        }
        if let Some(instance) = &p.group_instance_id {
            self.static_members
                .insert(instance.clone(), member_id.clone());
        }
        self.members.push(Member {
            member_id,
            group_instance_id: p.group_instance_id,
            client_id: p.client_id,
            client_host: p.client_host,
            session_timeout_ms: p.session_timeout_ms,
            rebalance_timeout_ms: p.rebalance_timeout_ms,
            protocols: p.protocols,
            assignment: Bytes::new(),
            join_waiter: Some(waiter),
            sync_waiter: None,
            last_heartbeat_ms: now_ms,
            is_new: true,
            joined_at_ms: now_ms,
        });
        if self.state == GroupState::PreparingRebalance {
            if let Some(delay) = self.initial_delay.as_mut() {
                delay.new_member_added = true;
            }
        }
        self.maybe_prepare_rebalance(now_ms);
        self.maybe_complete_join(now_ms);
    }

    fn update_member_and_rebalance(&mut self, now_ms: u64, p: JoinParams, waiter: WaiterId) {
        let Some(m) = self.member_mut(&p.member_id) else {
            return self.reply(
                waiter,
                ParkedAnswer::Join(JoinResult::error(ErrorCode::UnknownMemberId, &p.member_id)),
            );
        };
        let previous = m.join_waiter.replace(waiter);
        m.protocols = p.protocols;
        m.session_timeout_ms = p.session_timeout_ms;
        m.rebalance_timeout_ms = p.rebalance_timeout_ms;
        m.last_heartbeat_ms = now_ms;
        if let Some(old) = previous {
            // The client gave up on its earlier JoinGroup and sent a new one; only the newest
            // can still be read.
            let r = JoinResult::error(ErrorCode::RebalanceInProgress, &p.member_id);
            self.reply(old, ParkedAnswer::Join(r));
        }
        self.maybe_prepare_rebalance(now_ms);
        self.maybe_complete_join(now_ms);
    }

    /// KIP-345: a static member rejoining without its member id (a restarted client) takes over
    /// the old member's place under a fresh id; whoever still uses the old id is fenced.
    fn replace_static_member(
        &mut self,
        now_ms: u64,
        old_id: &str,
        p: JoinParams,
        waiter: WaiterId,
    ) {
        let old_leader = self.leader_id.clone().unwrap_or_default();
        let new_id = new_member_id(&p.client_id);
        let Some(m) = self.member_mut(old_id) else {
            return self.reply(
                waiter,
                ParkedAnswer::Join(JoinResult::error(ErrorCode::UnknownMemberId, "")),
            );
        };
        let old_join = m.join_waiter.replace(waiter);
        let old_sync = m.sync_waiter.take();
        m.member_id = new_id.clone();
        m.protocols = p.protocols;
        m.session_timeout_ms = p.session_timeout_ms;
        m.rebalance_timeout_ms = p.rebalance_timeout_ms;
        m.last_heartbeat_ms = now_ms;
        if let Some(w) = old_join {
            self.reply(
                w,
                ParkedAnswer::Join(JoinResult::error(ErrorCode::FencedInstanceId, old_id)),
            );
        }
        if let Some(w) = old_sync {
            self.reply(
                w,
                ParkedAnswer::Sync(SyncResult::error(ErrorCode::FencedInstanceId)),
            );
        }
        if self.leader_id.as_deref() == Some(old_id) {
            self.leader_id = Some(new_id.clone());
        }
        if let Some(instance) = &p.group_instance_id {
            self.static_members.insert(instance.clone(), new_id.clone());
        }
        if self.pending_sync.remove(old_id) {
            self.pending_sync.insert(new_id.clone());
        }
        match self.state {
            GroupState::Stable => {
                if self.select_protocol() == self.protocol_name {
                    // Nothing the assignment depends on changed: no rebalance (the point of
                    // static membership). The member keeps its assignment and syncs for it.
                    let is_leader = self.is_leader(&new_id);
                    let mut r = self.current_join_result(&new_id);
                    if is_leader && p.supports_skip_assignment {
                        // KIP-814: tell the leader it leads, but that the group is stable.
                        r.skip_assignment = true;
                    } else {
                        // Before v9, answering with the old leader id keeps the restarted leader
                        // from computing an assignment a stable group would not distribute.
                        r.leader = old_leader;
                        r.members.clear();
                    }
                    if let Some(m) = self.member_mut(&new_id) {
                        m.join_waiter = None;
                    }
                    self.reply(waiter, ParkedAnswer::Join(r));
                } else {
                    self.prepare_rebalance(now_ms);
                }
            }
            // The leader may already be assigning with the old id: start over.
            GroupState::CompletingRebalance | GroupState::Empty => self.prepare_rebalance(now_ms),
            GroupState::PreparingRebalance => self.maybe_complete_join(now_ms),
            GroupState::Dead => {}
        }
    }

    fn maybe_prepare_rebalance(&mut self, now_ms: u64) {
        if matches!(
            self.state,
            GroupState::Empty | GroupState::Stable | GroupState::CompletingRebalance
        ) {
            self.prepare_rebalance(now_ms);
        }
    }

    /// Starts a rebalance: parked SyncGroups learn of it, and the join phase gets its deadline
    /// (the members' largest rebalance timeout, or the initial delay for a group that was empty).
    pub(super) fn prepare_rebalance(&mut self, now_ms: u64) {
        if self.state == GroupState::CompletingRebalance {
            let mut parked = Vec::new();
            for m in &mut self.members {
                m.assignment = Bytes::new();
                if let Some(w) = m.sync_waiter.take() {
                    parked.push(w);
                }
            }
            for w in parked {
                self.reply(
                    w,
                    ParkedAnswer::Sync(SyncResult::error(ErrorCode::RebalanceInProgress)),
                );
            }
        }
        self.pending_sync.clear();
        self.sync_deadline_ms = None;
        let rebalance_timeout = self
            .members
            .iter()
            .map(|m| m.rebalance_timeout_ms)
            .max()
            .unwrap_or(0);
        if self.state == GroupState::Empty {
            let delay = self.limits.initial_rebalance_delay_ms;
            self.initial_delay = Some(InitialDelay {
                remaining_ms: rebalance_timeout.saturating_sub(delay),
                new_member_added: false,
            });
            self.join_deadline_ms = Some(now_ms.saturating_add(delay));
        } else {
            self.initial_delay = None;
            self.join_deadline_ms = Some(now_ms.saturating_add(rebalance_timeout));
        }
        self.transition(GroupState::PreparingRebalance, now_ms);
        self.maybe_complete_join(now_ms);
    }

    /// Completes the join phase early once every member has rejoined (not during the initial
    /// delay, which always runs its course).
    pub(super) fn maybe_complete_join(&mut self, now_ms: u64) {
        if self.state == GroupState::PreparingRebalance
            && self.initial_delay.is_none()
            && self.pending_members.is_empty()
            && self.members.iter().all(Member::is_awaiting_join)
        {
            self.complete_join(now_ms);
        }
    }

    /// Ends the join phase: members that did not rejoin are removed, the generation advances,
    /// a protocol is selected and every parked JoinGroup is answered (the leader with the
    /// member list).
    pub(super) fn complete_join(&mut self, now_ms: u64) {
        if self.state != GroupState::PreparingRebalance {
            return;
        }
        self.join_deadline_ms = None;
        self.initial_delay = None;
        let gone: Vec<String> = self
            .members
            .iter()
            .filter(|m| !m.is_awaiting_join())
            .map(|m| m.member_id.clone())
            .collect();
        for id in gone {
            self.remove_member(&id);
        }
        self.generation_id = self.generation_id.wrapping_add(1);
        if self.members.is_empty() {
            self.protocol_name = None;
            self.transition(GroupState::Empty, now_ms);
            return;
        }
        self.protocol_name = self.select_protocol();
        self.transition(GroupState::CompletingRebalance, now_ms);
        let mut answers = Vec::new();
        for i in 0..self.members.len() {
            let Some(m) = self.members.get_mut(i) else {
                continue;
            };
            m.is_new = false;
            m.last_heartbeat_ms = now_ms;
            if let Some(w) = m.join_waiter.take() {
                let id = m.member_id.clone();
                answers.push((w, id));
            }
        }
        for (w, id) in answers {
            let r = self.current_join_result(&id);
            self.reply(w, ParkedAnswer::Join(r));
        }
        // Members must now sync within the rebalance timeout, or they are dropped and the
        // group rebalances without them (Kafka's pending-sync timeout, KAFKA-13350).
        self.pending_sync = self.members.iter().map(|m| m.member_id.clone()).collect();
        let timeout = self
            .members
            .iter()
            .map(|m| m.rebalance_timeout_ms)
            .max()
            .unwrap_or(0);
        self.sync_deadline_ms = Some(now_ms.saturating_add(timeout));
    }
}

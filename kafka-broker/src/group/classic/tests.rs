//! Transition tests of the classic group state machine, with time as plain numbers.

use bytes::Bytes;
use kafka_protocol::ErrorCode;

use crate::group::tests::subscription;

use super::ClassicGroup;
use crate::group::member::WaiterId;
use crate::group::types::{
    GroupLimits, GroupState, JoinParams, JoinResult, ParkedAnswer, SyncParams, SyncResult,
};

const SESSION: u64 = 10_000;
const REBALANCE: u64 = 30_000;

fn limits(delay: u64) -> GroupLimits {
    GroupLimits {
        initial_rebalance_delay_ms: delay,
        max_size: 100,
    }
}

fn params(member_id: &str) -> JoinParams {
    JoinParams {
        member_id: member_id.to_owned(),
        client_id: "client".to_owned(),
        client_host: "/127.0.0.1".to_owned(),
        session_timeout_ms: SESSION,
        rebalance_timeout_ms: REBALANCE,
        protocol_type: "consumer".to_owned(),
        protocols: vec![("range".to_owned(), subscription(&["t"]))],
        ..Default::default()
    }
}

fn static_params(member_id: &str, instance: &str) -> JoinParams {
    JoinParams {
        group_instance_id: Some(instance.to_owned()),
        ..params(member_id)
    }
}

/// Test driver: a group plus a waiter counter and reply collection.
struct Driver {
    g: ClassicGroup,
    next: WaiterId,
}

impl Driver {
    fn new(delay: u64) -> Driver {
        Driver {
            g: ClassicGroup::new("g", 0, limits(delay)),
            next: 0,
        }
    }

    fn join(&mut self, now: u64, p: JoinParams) -> WaiterId {
        self.next += 1;
        self.g.join(now, p, self.next);
        self.next
    }

    fn sync(
        &mut self,
        now: u64,
        member: &str,
        generation: i32,
        assignments: &[(&str, &str)],
    ) -> WaiterId {
        self.next += 1;
        let p = SyncParams {
            member_id: member.to_owned(),
            generation_id: generation,
            assignments: assignments
                .iter()
                .map(|(m, a)| ((*m).to_owned(), Bytes::copy_from_slice(a.as_bytes())))
                .collect(),
            ..Default::default()
        };
        self.g.sync(now, p, self.next);
        self.next
    }

    fn replies(&mut self) -> Vec<(WaiterId, ParkedAnswer)> {
        self.g.take_replies()
    }

    /// Takes waiter `w`'s answer if `pick` recognises it, leaving every other answer queued.
    fn take_reply<T>(
        &mut self,
        w: WaiterId,
        pick: impl Fn(&ParkedAnswer) -> Option<T>,
    ) -> Option<T> {
        let mut found = None;
        let rest: Vec<_> = self
            .replies()
            .into_iter()
            .filter(|(id, r)| {
                if found.is_none() && *id == w {
                    if let Some(t) = pick(r) {
                        found = Some(t);
                        return false;
                    }
                }
                true
            })
            .collect();
        self.g.outbox_restore(rest);
        found
    }

    fn join_reply(&mut self, w: WaiterId) -> Option<JoinResult> {
        self.take_reply(w, |r| match r {
            ParkedAnswer::Join(j) => Some(j.clone()),
            _ => None,
        })
    }

    fn sync_reply(&mut self, w: WaiterId) -> Option<SyncResult> {
        self.take_reply(w, |r| match r {
            ParkedAnswer::Sync(s) => Some(s.clone()),
            _ => None,
        })
    }

    /// A member that joins alone-or-with-others and completes the join at `now`; returns its id.
    fn join_ok(&mut self, now: u64, p: JoinParams) -> JoinResult {
        let w = self.join(now, p);
        let r = self.join_reply(w).expect("join answered");
        assert_eq!(r.error, ErrorCode::None);
        r
    }
}

impl ClassicGroup {
    /// Puts back replies a test did not consume.
    fn outbox_restore(&mut self, rest: Vec<(WaiterId, ParkedAnswer)>) {
        let mut rest = rest;
        rest.append(&mut self.outbox);
        self.outbox = rest;
    }
}

/// Forms a stable group of two dynamic members `a` (leader) and `b`; returns their ids and the
/// generation.
fn stable_pair(d: &mut Driver) -> (String, String, i32) {
    let a = d.join_ok(0, params("")).member_id;
    let wa = d.sync(0, &a, 1, &[(&a, "A1")]);
    assert_eq!(
        d.sync_reply(wa).unwrap().assignment,
        Bytes::from_static(b"A1")
    );
    let wb = d.join(10, params(""));
    assert!(d.join_reply(wb).is_none(), "b waits for a to rejoin");
    let wa = d.join(20, params(&a));
    let ra = d.join_reply(wa).unwrap();
    let rb = d.join_reply(wb).unwrap();
    assert_eq!(ra.generation_id, 2);
    let b = rb.member_id.clone();
    let wb = d.sync(30, &b, 2, &[]);
    let wa = d.sync(30, &a, 2, &[(&a, "A2"), (&b, "B2")]);
    assert_eq!(
        d.sync_reply(wa).unwrap().assignment,
        Bytes::from_static(b"A2")
    );
    assert_eq!(
        d.sync_reply(wb).unwrap().assignment,
        Bytes::from_static(b"B2")
    );
    assert_eq!(d.g.state(), GroupState::Stable);
    (a, b, 2)
}

#[test]
fn single_member_join_and_sync() {
    let mut d = Driver::new(0);
    let r = d.join_ok(0, params(""));
    assert_eq!(r.generation_id, 1);
    assert!(r.member_id.starts_with("client-"));
    assert_eq!(r.leader, r.member_id);
    assert_eq!(r.protocol_name.as_deref(), Some("range"));
    assert_eq!(r.protocol_type.as_deref(), Some("consumer"));
    assert_eq!(r.members.len(), 1);
    assert_eq!(r.members[0].metadata, subscription(&["t"]));
    assert_eq!(d.g.state(), GroupState::CompletingRebalance);
    let w = d.sync(5, &r.member_id, 1, &[(&r.member_id, "assignment")]);
    let s = d.sync_reply(w).unwrap();
    assert_eq!(s.error, ErrorCode::None);
    assert_eq!(s.assignment, Bytes::from_static(b"assignment"));
    assert_eq!(d.g.state(), GroupState::Stable);
}

#[test]
fn second_member_triggers_rebalance_leader_gets_members_follower_gets_assignment() {
    let mut d = Driver::new(0);
    let a = d.join_ok(0, params("")).member_id;
    let w = d.sync(0, &a, 1, &[(&a, "x")]);
    d.sync_reply(w).unwrap();
    let wb = d.join(100, params(""));
    assert!(d.join_reply(wb).is_none());
    assert_eq!(d.g.state(), GroupState::PreparingRebalance);
    // The first member learns of the rebalance from its heartbeat and rejoins.
    assert_eq!(
        d.g.heartbeat(200, &a, None, 1),
        ErrorCode::RebalanceInProgress
    );
    let wa = d.join(300, params(&a));
    let ra = d.join_reply(wa).unwrap();
    let rb = d.join_reply(wb).unwrap();
    assert_eq!((ra.generation_id, rb.generation_id), (2, 2));
    assert_eq!(ra.leader, a);
    assert_eq!(rb.leader, a);
    let ids: Vec<&str> = ra.members.iter().map(|m| m.member_id.as_str()).collect();
    assert_eq!(ids, vec![a.as_str(), rb.member_id.as_str()]);
    assert!(rb.members.is_empty(), "followers get no member list");
    // Follower syncs first and waits for the leader.
    let b = rb.member_id;
    let wb = d.sync(400, &b, 2, &[]);
    assert!(d.sync_reply(wb).is_none());
    assert_eq!(d.g.heartbeat(400, &a, None, 2), ErrorCode::None);
    let wa = d.sync(500, &a, 2, &[(&a, "pa"), (&b, "pb")]);
    assert_eq!(
        d.sync_reply(wa).unwrap().assignment,
        Bytes::from_static(b"pa")
    );
    assert_eq!(
        d.sync_reply(wb).unwrap().assignment,
        Bytes::from_static(b"pb")
    );
    assert_eq!(d.g.heartbeat(600, &b, None, 2), ErrorCode::None);
}

#[test]
fn member_id_required_then_join_with_it() {
    let mut d = Driver::new(0);
    let mut p = params("");
    p.require_known_member_id = true;
    let w = d.join(0, p.clone());
    let r = d.join_reply(w).unwrap();
    assert_eq!(r.error, ErrorCode::MemberIdRequired);
    assert!(r.member_id.starts_with("client-"));
    assert!(d.g.members().is_empty());
    assert!(d.g.has_members());
    p.member_id = r.member_id.clone();
    let ok = d.join_ok(10, p);
    assert_eq!(ok.member_id, r.member_id);
    assert_eq!(ok.generation_id, 1);
}

#[test]
fn pending_member_forgotten_after_session_timeout() {
    let mut d = Driver::new(0);
    let mut p = params("");
    p.require_known_member_id = true;
    let w = d.join(0, p.clone());
    let id = d.join_reply(w).unwrap().member_id;
    assert_eq!(d.g.next_deadline(), Some(SESSION));
    d.g.tick(SESSION);
    assert!(!d.g.has_members());
    p.member_id = id;
    let w = d.join(SESSION + 1, p);
    assert_eq!(d.join_reply(w).unwrap().error, ErrorCode::UnknownMemberId);
}

#[test]
fn members_that_do_not_rejoin_are_removed_at_rebalance_timeout() {
    let mut d = Driver::new(0);
    let (a, b, generation) = stable_pair(&mut d);
    // c joins, a rejoins, b keeps heartbeating but never rejoins.
    let wc = d.join(1_000, params(""));
    let wa = d.join(1_100, params(&a));
    assert!(d.join_reply(wa).is_none());
    // b's heartbeats keep its session alive but it never rejoins.
    for t in (2_000..1_000 + REBALANCE).step_by(3_000) {
        assert_eq!(
            d.g.heartbeat(t, &b, None, generation),
            ErrorCode::RebalanceInProgress
        );
        d.g.tick(t);
    }
    d.g.tick(1_000 + REBALANCE);
    let ra = d.join_reply(wa).unwrap();
    let rc = d.join_reply(wc).unwrap();
    assert_eq!(ra.generation_id, generation + 1);
    assert_eq!(rc.generation_id, generation + 1);
    assert!(d.g.member(&b).is_none());
    assert_eq!(ra.members.len(), 2);
    assert_eq!(
        d.g.heartbeat(1_000 + REBALANCE, &b, None, generation),
        ErrorCode::UnknownMemberId
    );
}

#[test]
fn session_expiry_removes_member_and_rebalances() {
    let mut d = Driver::new(0);
    let (a, b, generation) = stable_pair(&mut d);
    // Only a heartbeats.
    let mut t = 30;
    while t < 30 + SESSION {
        t += 3_000;
        assert_eq!(d.g.heartbeat(t, &a, None, generation), ErrorCode::None);
        d.g.tick(t);
    }
    assert!(d.g.member(&b).is_none(), "b expired");
    assert_eq!(d.g.state(), GroupState::PreparingRebalance);
    assert_eq!(
        d.g.heartbeat(t, &a, None, generation),
        ErrorCode::RebalanceInProgress
    );
    let r = d.join_ok(t, params(&a));
    assert_eq!(r.generation_id, generation + 1);
    assert_eq!(r.members.len(), 1);
}

#[test]
fn leave_triggers_rebalance_and_last_leave_empties_group() {
    let mut d = Driver::new(0);
    let (a, b, generation) = stable_pair(&mut d);
    assert_eq!(d.g.leave(100, &b, None), ErrorCode::None);
    assert_eq!(d.g.state(), GroupState::PreparingRebalance);
    assert_eq!(d.g.leave(100, &b, None), ErrorCode::UnknownMemberId);
    let r = d.join_ok(200, params(&a));
    assert_eq!(r.generation_id, generation + 1);
    assert_eq!(r.leader, a);
    assert_eq!(d.g.leave(300, &a, None), ErrorCode::None);
    assert_eq!(d.g.state(), GroupState::Empty);
    assert_eq!(d.g.generation_id(), generation + 2);
    assert_eq!(d.g.protocol_name(), None);
}

#[test]
fn leader_leaving_hands_leadership_to_remaining_member() {
    let mut d = Driver::new(0);
    let (a, b, _) = stable_pair(&mut d);
    assert_eq!(d.g.leave(100, &a, None), ErrorCode::None);
    let r = d.join_ok(200, params(&b));
    assert_eq!(r.leader, b);
    assert_eq!(r.members.len(), 1);
}

#[test]
fn static_member_rejoin_keeps_generation_and_fences_old_id() {
    let mut d = Driver::new(0);
    let a = d.join_ok(0, static_params("", "i-a")).member_id;
    let w = d.sync(0, &a, 1, &[(&a, "A")]);
    d.sync_reply(w).unwrap();
    let wb = d.join(10, params(""));
    let wa = d.join(20, static_params(&a, "i-a"));
    let b = d.join_reply(wb).unwrap().member_id;
    d.join_reply(wa).unwrap();
    let wb = d.sync(30, &b, 2, &[]);
    let wa = d.sync(30, &a, 2, &[(&a, "A2"), (&b, "B2")]);
    d.sync_reply(wa).unwrap();
    d.sync_reply(wb).unwrap();

    // The static leader a restarts: it rejoins without its member id.
    let w = d.join(1_000, static_params("", "i-a"));
    let r = d.join_reply(w).unwrap();
    assert_eq!(r.error, ErrorCode::None);
    assert_ne!(r.member_id, a);
    assert_eq!(r.generation_id, 2, "no rebalance");
    assert_eq!(d.g.state(), GroupState::Stable);
    // Pre-KIP-814 answer: the old leader id, so the restarted leader does not assign.
    assert_eq!(r.leader, a);
    assert!(r.members.is_empty());
    assert_eq!(
        d.g.heartbeat(1_100, &a, Some("i-a"), 2),
        ErrorCode::FencedInstanceId
    );
    assert_eq!(
        d.g.heartbeat(1_100, &a, None, 2),
        ErrorCode::UnknownMemberId
    );
    assert_eq!(
        d.g.heartbeat(1_100, &r.member_id, Some("i-a"), 2),
        ErrorCode::None
    );
    let w = d.sync(1_200, &r.member_id, 2, &[]);
    assert_eq!(
        d.sync_reply(w).unwrap().assignment,
        Bytes::from_static(b"A2")
    );
    assert_eq!(d.g.leader_id(), Some(r.member_id.as_str()));
}

#[test]
fn static_leader_rejoin_with_skip_assignment() {
    let mut d = Driver::new(0);
    let a = d.join_ok(0, static_params("", "i-a")).member_id;
    let w = d.sync(0, &a, 1, &[(&a, "A")]);
    d.sync_reply(w).unwrap();
    let mut p = static_params("", "i-a");
    p.supports_skip_assignment = true;
    let w = d.join(500, p);
    let r = d.join_reply(w).unwrap();
    assert!(r.skip_assignment);
    assert_eq!(r.leader, r.member_id);
    assert_eq!(r.members.len(), 1);
    assert_eq!(r.generation_id, 1);
}

#[test]
fn static_member_rejoin_with_new_protocol_rebalances() {
    let mut d = Driver::new(0);
    let a = d.join_ok(0, static_params("", "i-a")).member_id;
    let w = d.sync(0, &a, 1, &[(&a, "A")]);
    d.sync_reply(w).unwrap();
    let mut p = static_params("", "i-a");
    p.protocols = vec![("roundrobin".to_owned(), subscription(&["t"]))];
    let r = d.join_ok(500, p);
    assert_eq!(r.generation_id, 2);
    assert_eq!(r.protocol_name.as_deref(), Some("roundrobin"));
}

#[test]
fn static_member_replaced_while_parked_gets_fenced() {
    let mut d = Driver::new(0);
    let first = d.join_ok(0, static_params("", "i-1")).member_id;
    let w = d.sync(0, &first, 1, &[(&first, "x")]);
    d.sync_reply(w).unwrap();
    let wb = d.join(5, params(""));
    let b = d.join(6, static_params(&first, "i-1"));
    let _ = d.join_reply(b).unwrap();
    let b = d.join_reply(wb).unwrap().member_id;
    let w1 = d.sync(7, &first, 2, &[]);
    let w2 = d.sync(7, &b, 2, &[]);
    d.sync_reply(w1).unwrap();
    d.sync_reply(w2).unwrap();
    // A third member starts a rebalance; `first` rejoins and waits for b.
    let other = d.join(10, params(""));
    let parked = d.join(20, static_params(&first, "i-1"));
    assert!(d.join_reply(parked).is_none());
    // A restarted instance replaces the parked member; the parked request is fenced.
    let replacement = d.join(30, static_params("", "i-1"));
    let fenced = d.join_reply(parked).unwrap();
    assert_eq!(fenced.error, ErrorCode::FencedInstanceId);
    assert!(d.join_reply(replacement).is_none());
    let wb = d.join(40, params(&b));
    let r = d.join_reply(replacement).unwrap();
    assert_eq!(r.error, ErrorCode::None);
    assert_eq!(r.generation_id, 3);
    assert_eq!(r.members.len(), 3, "the static member kept the leadership");
    assert_eq!(d.join_reply(other).unwrap().generation_id, 3);
    assert_eq!(d.join_reply(wb).unwrap().generation_id, 3);
}

#[test]
fn leave_by_instance_id() {
    let mut d = Driver::new(0);
    let a = d.join_ok(0, static_params("", "i-a")).member_id;
    assert_eq!(
        d.g.leave(10, "someone-else", Some("i-a")),
        ErrorCode::FencedInstanceId
    );
    assert_eq!(
        d.g.leave(10, "", Some("i-unknown")),
        ErrorCode::UnknownMemberId
    );
    assert_eq!(d.g.leave(10, "", Some("i-a")), ErrorCode::None);
    assert!(d.g.member(&a).is_none());
    assert_eq!(d.g.state(), GroupState::Empty);
}

#[test]
fn stale_generation_and_unknown_member_are_rejected() {
    let mut d = Driver::new(0);
    let (a, _b, generation) = stable_pair(&mut d);
    assert_eq!(
        d.g.heartbeat(100, &a, None, generation - 1),
        ErrorCode::IllegalGeneration
    );
    assert_eq!(
        d.g.heartbeat(100, "nobody", None, generation),
        ErrorCode::UnknownMemberId
    );
    let w = d.sync(100, &a, generation + 5, &[]);
    assert_eq!(d.sync_reply(w).unwrap().error, ErrorCode::IllegalGeneration);
    let w = d.sync(100, "nobody", generation, &[]);
    assert_eq!(d.sync_reply(w).unwrap().error, ErrorCode::UnknownMemberId);
    let w = d.join(100, params("nobody"));
    assert_eq!(d.join_reply(w).unwrap().error, ErrorCode::UnknownMemberId);
}

#[test]
fn inconsistent_protocols_are_rejected() {
    let mut d = Driver::new(0);
    d.join_ok(0, params(""));
    let mut other_type = params("");
    other_type.protocol_type = "connect".to_owned();
    let w = d.join(10, other_type);
    assert_eq!(
        d.join_reply(w).unwrap().error,
        ErrorCode::InconsistentGroupProtocol
    );
    let mut no_common = params("");
    no_common.protocols = vec![("sticky".to_owned(), Bytes::new())];
    let w = d.join(10, no_common);
    assert_eq!(
        d.join_reply(w).unwrap().error,
        ErrorCode::InconsistentGroupProtocol
    );
    let mut empty = params("");
    empty.protocols.clear();
    let w = d.join(10, empty);
    assert_eq!(
        d.join_reply(w).unwrap().error,
        ErrorCode::InconsistentGroupProtocol
    );
}

#[test]
fn protocol_is_chosen_by_member_votes() {
    let mut d = Driver::new(1_000);
    let proto = |names: &[&str]| -> Vec<(String, Bytes)> {
        names
            .iter()
            .map(|n| ((*n).to_owned(), Bytes::new()))
            .collect()
    };
    let mut p1 = params("");
    p1.protocols = proto(&["range", "roundrobin"]);
    let mut p2 = params("");
    p2.protocols = proto(&["roundrobin", "range"]);
    let mut p3 = params("");
    p3.protocols = proto(&["roundrobin", "range", "sticky"]);
    let w1 = d.join(0, p1);
    d.join(10, p2);
    d.join(20, p3);
    d.g.tick(1_000);
    d.g.tick(2_000);
    let r = d.join_reply(w1).unwrap();
    assert_eq!(r.protocol_name.as_deref(), Some("roundrobin"));
}

#[test]
fn initial_rebalance_delay_extends_while_members_arrive() {
    let mut d = Driver::new(3_000);
    let wa = d.join(0, params(""));
    let wb = d.join(1_000, params(""));
    d.g.tick(2_999);
    assert!(d.join_reply(wa).is_none());
    d.g.tick(3_000);
    assert!(
        d.join_reply(wa).is_none(),
        "a member arrived: wait one more delay"
    );
    assert_eq!(d.g.next_deadline(), Some(6_000));
    d.g.tick(6_000);
    let ra = d.join_reply(wa).unwrap();
    let rb = d.join_reply(wb).unwrap();
    assert_eq!((ra.generation_id, rb.generation_id), (1, 1));
    assert_eq!(ra.members.len(), 2);
}

#[test]
fn member_that_never_syncs_is_removed() {
    let mut d = Driver::new(0);
    let a = d.join_ok(0, params("")).member_id;
    let w = d.sync(0, &a, 1, &[(&a, "x")]);
    d.sync_reply(w).unwrap();
    let wb = d.join(10, params(""));
    let wa = d.join(20, params(&a));
    let b = d.join_reply(wb).unwrap().member_id;
    d.join_reply(wa).unwrap();
    let wa = d.sync(30, &a, 2, &[(&a, "A"), (&b, "B")]);
    d.sync_reply(wa).unwrap();
    // b never sends SyncGroup (but heartbeats, so its session does not expire first).
    for t in (1_000..20 + REBALANCE).step_by(3_000) {
        d.g.heartbeat(t, &b, None, 2);
        d.g.heartbeat(t, &a, None, 2);
        d.g.tick(t);
    }
    d.g.tick(20 + REBALANCE);
    assert!(d.g.member(&b).is_none());
    assert_eq!(d.g.state(), GroupState::PreparingRebalance);
}

#[test]
fn parked_followers_learn_of_rebalance_when_leader_never_syncs() {
    let mut d = Driver::new(0);
    let (a, b, generation) = stable_pair(&mut d);
    let wa = d.join(100, params(&a));
    let wb = d.join(100, params(&b));
    d.join_reply(wa).unwrap();
    d.join_reply(wb).unwrap();
    let wb = d.sync(200, &b, generation + 1, &[]);
    assert!(d.sync_reply(wb).is_none());
    d.g.tick(100 + REBALANCE);
    assert_eq!(
        d.sync_reply(wb).unwrap().error,
        ErrorCode::RebalanceInProgress
    );
    assert!(
        d.g.member(&a).is_none(),
        "the leader that never synced is removed"
    );
}

#[test]
fn offset_commit_validation() {
    let mut d = Driver::new(0);
    assert_eq!(
        d.g.validate_offset_commit("", None, -1),
        Ok(()),
        "simple commit, empty group"
    );
    let a = d.join_ok(0, params("")).member_id;
    assert_eq!(
        d.g.validate_offset_commit(&a, None, 1),
        Err(ErrorCode::RebalanceInProgress)
    );
    let w = d.sync(0, &a, 1, &[(&a, "x")]);
    d.sync_reply(w).unwrap();
    assert_eq!(d.g.validate_offset_commit(&a, None, 1), Ok(()));
    assert_eq!(
        d.g.validate_offset_commit(&a, None, 0),
        Err(ErrorCode::IllegalGeneration)
    );
    assert_eq!(
        d.g.validate_offset_commit("x", None, 1),
        Err(ErrorCode::UnknownMemberId)
    );
    assert_eq!(
        d.g.validate_offset_commit("", None, -1),
        Err(ErrorCode::UnknownMemberId)
    );
}

#[test]
fn retried_join_replaces_parked_request() {
    let mut d = Driver::new(0);
    let (a, _b, _) = stable_pair(&mut d);
    let first = d.join(100, params(&a));
    let second = d.join(200, params(&a));
    assert_eq!(
        d.join_reply(first).unwrap().error,
        ErrorCode::RebalanceInProgress
    );
    assert!(d.join_reply(second).is_none());
}

#[test]
fn follower_rejoin_with_same_protocols_in_stable_group_does_not_rebalance() {
    let mut d = Driver::new(0);
    let (a, b, generation) = stable_pair(&mut d);
    let r = d.join_ok(100, params(&b));
    assert_eq!(r.generation_id, generation);
    assert_eq!(r.leader, a);
    assert_eq!(d.g.state(), GroupState::Stable);
    // The leader rejoining does start a rebalance.
    let w = d.join(200, params(&a));
    assert!(d.join_reply(w).is_none());
    assert_eq!(d.g.state(), GroupState::PreparingRebalance);
}

#[test]
fn group_max_size() {
    let mut d = Driver {
        g: ClassicGroup::new(
            "g",
            0,
            GroupLimits {
                initial_rebalance_delay_ms: 0,
                max_size: 1,
            },
        ),
        next: 0,
    };
    d.join_ok(0, params(""));
    let w = d.join(10, params(""));
    assert_eq!(
        d.join_reply(w).unwrap().error,
        ErrorCode::GroupMaxSizeReached
    );
}

#[test]
fn subscribed_topics_from_member_metadata() {
    let mut d = Driver::new(0);
    let mut p = params("");
    p.protocols = vec![("range".to_owned(), subscription(&["a", "b"]))];
    d.join_ok(0, p);
    let topics = d.g.subscribed_topics().unwrap();
    assert!(topics.contains("a") && topics.contains("b") && topics.len() == 2);

    let mut junk = Driver::new(0);
    let mut p = params("");
    p.protocols = vec![("range".to_owned(), Bytes::from_static(&[0, 0, 0x7f]))];
    junk.join_ok(0, p);
    assert_eq!(
        junk.g.subscribed_topics(),
        None,
        "unparsable: unknown, not a panic"
    );
}

#[test]
fn removed_member_parked_join_is_answered() {
    let mut d = Driver::new(0);
    let a = d.join_ok(0, static_params("", "i-a")).member_id;
    let w = d.sync(0, &a, 1, &[(&a, "x")]);
    d.sync_reply(w).unwrap();
    let wb = d.join(10, params(""));
    assert!(d.join_reply(wb).is_none());
    // An admin removes a by instance id; b's join can now complete on its own.
    assert_eq!(d.g.leave(20, "", Some("i-a")), ErrorCode::None);
    let rb = d.join_reply(wb).unwrap();
    assert_eq!(rb.leader, rb.member_id);
    assert_eq!(rb.members.len(), 1);
}

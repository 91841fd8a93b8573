//! Partition assignors: how a group's leader splits partitions among members. The results
//! follow the Java client's `RangeAssignor` and `RoundRobinAssignor`, so mixed groups agree;
//! `sticky` and `cooperative-sticky` are in [`crate::sticky`].

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use kafka_protocol::TopicName;

/// One member as the leader sees it: its id (or static instance id) and its subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSubscription {
    /// The member id the coordinator gave it.
    pub member_id: String,
    /// `group.instance.id`, for static members: Java orders members by it when present.
    pub instance_id: Option<String>,
    /// The topics it subscribes to.
    pub topics: BTreeSet<TopicName>,
    /// The partitions it owned in the generation it last joined (subscription v1+).
    pub owned: Vec<(TopicName, i32)>,
    /// That generation (subscription v2+), or -1.
    pub generation: i32,
    /// The assignor's own bytes from the member's subscription, if any (see
    /// [`PartitionAssignor::subscription_user_data`]).
    pub user_data: Option<Bytes>,
}

impl MemberSubscription {
    /// A member that owns nothing yet.
    pub fn new(member_id: impl Into<String>, topics: impl IntoIterator<Item = TopicName>) -> Self {
        MemberSubscription {
            member_id: member_id.into(),
            instance_id: None,
            topics: topics.into_iter().collect(),
            owned: Vec::new(),
            generation: -1,
            user_data: None,
        }
    }

    /// This member, owning `owned` since `generation`.
    pub fn with_owned(mut self, owned: Vec<(TopicName, i32)>, generation: i32) -> Self {
        self.owned = owned;
        self.generation = generation;
        self
    }

    /// This member, with the assignor's `user_data` from its subscription.
    pub fn with_user_data(mut self, user_data: Option<Bytes>) -> Self {
        self.user_data = user_data;
        self
    }
}

/// How members hand partitions over in a rebalance (KIP-429).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RebalanceProtocol {
    /// Every member gives up all its partitions before rejoining.
    Eager,
    /// Members keep their partitions through the rebalance and give up only those the new
    /// assignment moves, in a second rebalance.
    Cooperative,
}

/// Each member's partitions, by topic.
pub type Assignment = BTreeMap<String, BTreeMap<TopicName, Vec<i32>>>;

/// A way to assign partitions, named as in `partition.assignment.strategy`.
pub trait PartitionAssignor: Send + Sync + std::fmt::Debug + 'static {
    /// The protocol name members advertise (e.g. `range`).
    fn name(&self) -> &'static str;
    /// Whether the assignor's plans are safe for the cooperative protocol: it never gives a
    /// partition to a new owner in the same rebalance that takes it from the old one.
    fn supports_cooperative(&self) -> bool {
        false
    }
    /// Bytes this member sends to the leader's assignor of the same name in its subscription,
    /// given what it was assigned in `generation` (Java's `subscriptionUserData`). The eager
    /// protocol sends no owned partitions (a member has revoked them all before it joins), so
    /// an assignor that wants to be sticky under it carries the previous assignment here.
    fn subscription_user_data(
        &self,
        previous: &[(TopicName, i32)],
        generation: i32,
    ) -> Option<Bytes> {
        let _ = (previous, generation);
        None
    }
    /// Assigns `partitions` (count per topic) to `members`. Every member appears in the result.
    fn assign(
        &self,
        members: &[MemberSubscription],
        partitions: &BTreeMap<TopicName, i32>,
    ) -> Assignment;
}

/// Java's ordering of members: by instance id when they have one, else by member id.
pub(crate) fn sorted(members: &[MemberSubscription]) -> Vec<&MemberSubscription> {
    let mut m: Vec<&MemberSubscription> = members.iter().collect();
    m.sort_by(|a, b| {
        let key = |x: &MemberSubscription| {
            (
                x.instance_id.clone().unwrap_or_else(|| x.member_id.clone()),
                x.member_id.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    m
}

pub(crate) fn empty(members: &[MemberSubscription]) -> Assignment {
    members
        .iter()
        .map(|m| (m.member_id.clone(), BTreeMap::new()))
        .collect()
}

/// `range`: per topic, consecutive ranges of partitions to the members subscribed to it, the
/// first `partitions % members` of them getting one more.
#[derive(Debug, Default, Clone, Copy)]
pub struct RangeAssignor;

impl PartitionAssignor for RangeAssignor {
    fn name(&self) -> &'static str {
        "range"
    }

    fn assign(
        &self,
        members: &[MemberSubscription],
        partitions: &BTreeMap<TopicName, i32>,
    ) -> Assignment {
        let mut out = empty(members);
        for (topic, count) in partitions {
            let subscribed: Vec<&MemberSubscription> = sorted(members)
                .into_iter()
                .filter(|m| m.topics.contains(topic))
                .collect();
            if subscribed.is_empty() {
                continue;
            }
            let n = subscribed.len() as i32;
            let (each, extra) = (count / n, count % n);
            let mut next = 0;
            for (i, m) in subscribed.iter().enumerate() {
                let len = each + i32::from((i as i32) < extra);
                if len > 0 {
                    let slot = out.entry(m.member_id.clone()).or_default();
                    slot.insert(topic.clone(), (next..next + len).collect());
                }
                next += len;
            }
        }
        out
    }
}

/// `roundrobin`: every partition of every topic, in topic then partition order, dealt in turn
/// to the members (in order) that subscribe to its topic.
#[derive(Debug, Default, Clone, Copy)]
pub struct RoundRobinAssignor;

impl PartitionAssignor for RoundRobinAssignor {
    fn name(&self) -> &'static str {
        "roundrobin"
    }

    fn assign(
        &self,
        members: &[MemberSubscription],
        partitions: &BTreeMap<TopicName, i32>,
    ) -> Assignment {
        let mut out = empty(members);
        let order = sorted(members);
        if order.is_empty() {
            return out;
        }
        let mut turn = 0usize;
        for (topic, count) in partitions {
            for p in 0..*count {
                // Java's circular iterator skips members not subscribed to this topic.
                for _ in 0..order.len() {
                    let m = order[turn % order.len()];
                    turn += 1;
                    if m.topics.contains(topic) {
                        out.entry(m.member_id.clone())
                            .or_default()
                            .entry(topic.clone())
                            .or_default()
                            .push(p);
                        break;
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, topics: &[&str]) -> MemberSubscription {
        MemberSubscription::new(id, topics.iter().map(|t| TopicName::from(*t)))
    }

    fn parts(a: &Assignment, m: &str, t: &str) -> Vec<i32> {
        a.get(m).and_then(|x| x.get(t)).cloned().unwrap_or_default()
    }

    #[test]
    fn range_matches_javas_example() {
        // Java's RangeAssignor doc: two consumers, two topics of three partitions each.
        let members = [member("C0", &["t0", "t1"]), member("C1", &["t0", "t1"])];
        let counts = BTreeMap::from([("t0".into(), 3), ("t1".into(), 3)]);
        let a = RangeAssignor.assign(&members, &counts);
        assert_eq!(parts(&a, "C0", "t0"), [0, 1]);
        assert_eq!(parts(&a, "C0", "t1"), [0, 1]);
        assert_eq!(parts(&a, "C1", "t0"), [2]);
        assert_eq!(parts(&a, "C1", "t1"), [2]);
    }

    #[test]
    fn roundrobin_matches_javas_example() {
        // Java's RoundRobinAssignor doc: C0 subscribes t0; C1 t0, t1; C2 t0, t1, t2 (1, 2, 3 partitions).
        let members = [
            member("C0", &["t0"]),
            member("C1", &["t0", "t1"]),
            member("C2", &["t0", "t1", "t2"]),
        ];
        let counts = BTreeMap::from([("t0".into(), 1), ("t1".into(), 2), ("t2".into(), 3)]);
        let a = RoundRobinAssignor.assign(&members, &counts);
        assert_eq!(parts(&a, "C0", "t0"), [0]);
        assert_eq!(parts(&a, "C1", "t1"), [0]);
        assert_eq!(parts(&a, "C2", "t1"), [1]);
        assert_eq!(parts(&a, "C2", "t2"), [0, 1, 2]);
    }

    #[test]
    fn every_member_appears_and_every_partition_is_assigned_once() {
        let members = [
            member("a", &["t"]),
            member("b", &["t"]),
            member("c", &["u"]),
        ];
        let counts = BTreeMap::from([("t".into(), 5), ("u".into(), 0)]);
        for assignor in [
            &RangeAssignor as &dyn PartitionAssignor,
            &RoundRobinAssignor,
        ] {
            let a = assignor.assign(&members, &counts);
            assert_eq!(a.len(), 3);
            let mut all: Vec<i32> = a
                .values()
                .flat_map(|t| t.get("t").cloned().unwrap_or_default())
                .collect();
            all.sort_unstable();
            assert_eq!(all, [0, 1, 2, 3, 4], "{}", assignor.name());
        }
    }
}

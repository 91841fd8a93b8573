//! The `sticky` and `cooperative-sticky` assignors (KIP-54, KIP-429): balanced plans that
//! move as few partitions as they can from one rebalance to the next.
//!
//! The plan is built in three steps:
//!
//! 1. Every member keeps the partitions it says it owned (subscription v1+), as long as it
//!    still subscribes to their topic and they still exist. When two members claim one
//!    partition (a member that missed a rebalance still lists what it had), the claim from
//!    the newer generation wins (subscription v2+), and between equal generations the first
//!    member in Java's order.
//! 2. Partitions nobody keeps go, in topic and partition order, to the eligible member with
//!    the fewest partitions.
//! 3. While some member has at least two partitions more than another member that could take
//!    one of them, its last such partition moves. This ends: each move lowers the sum of
//!    squared counts, and the loop is also bounded by the number of partitions times members.
//!
//! For the cooperative protocol one more step follows: a partition that changes owner is left
//! out of its new owner's plan for now. Its old owner, not seeing it in its assignment, gives
//! it up and rejoins, and the rebalance that follows assigns it, unowned, to where step 3 puts
//! it. So no partition is ever consumed by two members at once.
//!
//! When every member subscribes to the same topics the plans are Java's, partition for
//! partition (`tests/assignors_golden.rs` holds them to answers the Java peer computed). When
//! subscriptions differ Java takes a general path whose choices follow hash-map order; there
//! ours reach the same balance and keep as many partitions in place, but may pick a different
//! partition of the same member to move.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use kafka_protocol::consumer_protocol;
use kafka_protocol::messages::sticky_assignor_user_data::TopicPartition as PreviousTopic;
use kafka_protocol::messages::StickyAssignorUserData;
use kafka_protocol::TopicName;

use crate::assignor::{empty, sorted, Assignment, MemberSubscription, PartitionAssignor};

type Tp = (TopicName, i32);

/// `sticky`: Java's `StickyAssignor`, for the eager protocol.
#[derive(Debug, Default, Clone, Copy)]
pub struct StickyAssignor;

impl PartitionAssignor for StickyAssignor {
    fn name(&self) -> &'static str {
        "sticky"
    }

    /// The previous assignment and its generation, in the layout Java's `StickyAssignor`
    /// reads, so that stickiness survives the eager protocol's revoke-everything join and
    /// works with Java leaders and members alike.
    fn subscription_user_data(&self, previous: &[Tp], generation: i32) -> Option<Bytes> {
        // Before its first assignment a member has nothing to carry (Java sends none either).
        if previous.is_empty() && generation < 0 {
            return None;
        }
        let mut by_topic: BTreeMap<TopicName, Vec<i32>> = BTreeMap::new();
        for (t, p) in previous {
            by_topic.entry(t.clone()).or_default().push(*p);
        }
        let data = StickyAssignorUserData::default()
            .with_previous_assignment(
                by_topic
                    .into_iter()
                    .map(|(t, ps)| PreviousTopic::default().with_topic(t).with_partitions(ps))
                    .collect(),
            )
            .with_generation(generation);
        match consumer_protocol::encode_sticky_user_data(&data) {
            Ok(bytes) => Some(bytes),
            Err(e) => {
                tracing::debug!(error = %e, "sticky user data did not encode");
                None
            }
        }
    }

    fn assign(
        &self,
        members: &[MemberSubscription],
        partitions: &BTreeMap<TopicName, i32>,
    ) -> Assignment {
        // As Java's StickyAssignor, what a member held comes from its user data; a member
        // without any (another client's) is taken at its subscription's owned partitions.
        let members: Vec<MemberSubscription> = members
            .iter()
            .map(|m| {
                let decoded = m
                    .user_data
                    .as_ref()
                    .and_then(|b| consumer_protocol::decode_sticky_user_data(b).ok());
                match decoded {
                    Some(d) => {
                        let previous = d
                            .previous_assignment
                            .into_iter()
                            .flat_map(|t| {
                                let topic = t.topic;
                                t.partitions.into_iter().map(move |p| (topic.clone(), p))
                            })
                            .collect();
                        m.clone().with_owned(previous, d.generation)
                    }
                    None => m.clone(),
                }
            })
            .collect();
        let (plan, _) = sticky_plan(&members, partitions);
        plan
    }
}

/// `cooperative-sticky`: Java's `CooperativeStickyAssignor`, for the cooperative protocol.
#[derive(Debug, Default, Clone, Copy)]
pub struct CooperativeStickyAssignor;

impl PartitionAssignor for CooperativeStickyAssignor {
    fn name(&self) -> &'static str {
        "cooperative-sticky"
    }

    fn supports_cooperative(&self) -> bool {
        true
    }

    fn assign(
        &self,
        members: &[MemberSubscription],
        partitions: &BTreeMap<TopicName, i32>,
    ) -> Assignment {
        let (mut plan, previous_owner) = sticky_plan(members, partitions);
        for (member, topics) in plan.iter_mut() {
            for (topic, ps) in topics.iter_mut() {
                ps.retain(|p| {
                    previous_owner
                        .get(&(topic.clone(), *p))
                        .is_none_or(|owner| owner == member)
                });
            }
            topics.retain(|_, ps| !ps.is_empty());
        }
        plan
    }
}

/// The balanced, sticky plan, and who validly owned each partition before it.
fn sticky_plan(
    members: &[MemberSubscription],
    partitions: &BTreeMap<TopicName, i32>,
) -> (Assignment, BTreeMap<Tp, String>) {
    let order = sorted(members);
    let exists = |(t, p): &Tp| partitions.get(t).is_some_and(|n| *p >= 0 && *p < *n);

    // Step 1: valid claims, the newest generation first.
    let mut owner: BTreeMap<Tp, (i32, usize)> = BTreeMap::new();
    for (i, m) in order.iter().enumerate() {
        for tp in &m.owned {
            if !m.topics.contains(&tp.0) || !exists(tp) {
                continue;
            }
            let claim = (m.generation, i);
            owner
                .entry(tp.clone())
                .and_modify(|c| {
                    if claim.0 > c.0 {
                        *c = claim;
                    }
                })
                .or_insert(claim);
        }
    }
    let mut held: Vec<BTreeSet<Tp>> = vec![BTreeSet::new(); order.len()];
    for (tp, (_, i)) in &owner {
        held[*i].insert(tp.clone());
    }
    let previous_owner: BTreeMap<Tp, String> = owner
        .iter()
        .map(|(tp, (_, i))| (tp.clone(), order[*i].member_id.clone()))
        .collect();

    // Step 2: the rest to the least loaded eligible member.
    let eligible = |tp: &Tp| -> Vec<usize> {
        (0..order.len())
            .filter(|i| order[*i].topics.contains(&tp.0))
            .collect()
    };
    for (topic, count) in partitions {
        for p in 0..*count {
            let tp = (topic.clone(), p);
            if owner.contains_key(&tp) {
                continue;
            }
            if let Some(i) = eligible(&tp)
                .into_iter()
                .min_by_key(|i| (held[*i].len(), *i))
            {
                held[i].insert(tp);
            }
        }
    }

    // Step 3: move from the most loaded while that narrows a gap of two or more.
    let bound = partitions.values().map(|n| *n as usize).sum::<usize>() * order.len().max(1);
    for _ in 0..bound {
        let mut by_load: Vec<usize> = (0..order.len()).collect();
        by_load.sort_by_key(|i| (std::cmp::Reverse(held[*i].len()), *i));
        let mut moved = false;
        'from: for &from in &by_load {
            let candidates: Vec<Tp> = held[from].iter().rev().cloned().collect();
            for tp in candidates {
                let to = eligible(&tp)
                    .into_iter()
                    .filter(|i| *i != from && held[*i].len() + 1 < held[from].len())
                    .min_by_key(|i| (held[*i].len(), *i));
                if let Some(to) = to {
                    held[from].remove(&tp);
                    held[to].insert(tp);
                    moved = true;
                    break 'from;
                }
            }
        }
        if !moved {
            break;
        }
    }

    let mut plan = empty(members);
    for (i, m) in order.iter().enumerate() {
        let slot = plan.entry(m.member_id.clone()).or_default();
        for (t, p) in &held[i] {
            slot.entry(t.clone()).or_default().push(*p);
        }
    }
    (plan, previous_owner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, owned: &[(&str, i32)], generation: i32) -> MemberSubscription {
        MemberSubscription::new(id, [TopicName::from("t")]).with_owned(
            owned
                .iter()
                .map(|(t, p)| (TopicName::from(*t), *p))
                .collect(),
            generation,
        )
    }

    fn count(a: &Assignment, m: &str) -> usize {
        a.get(m).map_or(0, |t| t.values().map(Vec::len).sum())
    }

    fn owned(a: &Assignment, m: &str) -> Vec<i32> {
        a.get(m)
            .and_then(|t| t.get("t"))
            .cloned()
            .unwrap_or_default()
    }

    /// Under the eager protocol a member lists no owned partitions; its previous assignment
    /// travels in the sticky assignor's user data instead, and stickiness holds.
    #[test]
    fn eager_members_stay_sticky_through_their_user_data() {
        let all: Vec<(TopicName, i32)> = (0..6).map(|p| (TopicName::from("t"), p)).collect();
        let eager = |id: &str, previous: &[(TopicName, i32)]| {
            MemberSubscription::new(id, [TopicName::from("t")])
                .with_user_data(StickyAssignor.subscription_user_data(previous, 4))
        };
        // b held the first half, a the second: the opposite of a fresh plan.
        let members = [
            eager("a", &all[3..]),
            eager("b", &all[..3]),
            eager("c", &[]),
        ];
        let counts = BTreeMap::from([("t".into(), 6)]);
        let plan = StickyAssignor.assign(&members, &counts);
        assert!(owned(&plan, "a").iter().all(|p| *p >= 3), "{plan:?}");
        assert!(owned(&plan, "b").iter().all(|p| *p < 3), "{plan:?}");
        assert_eq!(
            (count(&plan, "a"), count(&plan, "b"), count(&plan, "c")),
            (2, 2, 2)
        );
        // Without the user data the same members get the fresh plan.
        let bare: Vec<MemberSubscription> = members
            .iter()
            .map(|m| m.clone().with_user_data(None))
            .collect();
        let fresh = StickyAssignor.assign(&bare, &counts);
        assert_ne!(owned(&fresh, "a"), owned(&plan, "a"));
    }

    #[test]
    fn fresh_group_is_balanced() {
        let members = [
            member("a", &[], -1),
            member("b", &[], -1),
            member("c", &[], -1),
        ];
        let counts = BTreeMap::from([("t".into(), 12)]);
        let a = StickyAssignor.assign(&members, &counts);
        for m in ["a", "b", "c"] {
            assert_eq!(count(&a, m), 4, "{a:?}");
        }
    }

    #[test]
    fn a_joining_member_takes_only_what_balance_needs() {
        let all: Vec<(&str, i32)> = (0..6).map(|p| ("t", p)).collect();
        let members = [
            member("a", &all[..3], 1),
            member("b", &all[3..], 1),
            member("c", &[], -1),
        ];
        let counts = BTreeMap::from([("t".into(), 6)]);
        let a = StickyAssignor.assign(&members, &counts);
        assert_eq!((count(&a, "a"), count(&a, "b"), count(&a, "c")), (2, 2, 2));
        // a and b kept two of their own each: only two partitions moved.
        assert!(owned(&a, "a").iter().all(|p| *p < 3));
        assert!(owned(&a, "b").iter().all(|p| *p >= 3));

        // Cooperative: the moved partitions go to nobody this round.
        let c = CooperativeStickyAssignor.assign(&members, &counts);
        assert_eq!(owned(&c, "a"), owned(&a, "a"));
        assert_eq!(owned(&c, "b"), owned(&a, "b"));
        assert_eq!(count(&c, "c"), 0);
        // The follow-up rebalance, with the revoked partitions given up, hands them over.
        let members = [
            member(
                "a",
                &[("t", owned(&c, "a")[0]), ("t", owned(&c, "a")[1])],
                2,
            ),
            member(
                "b",
                &[("t", owned(&c, "b")[0]), ("t", owned(&c, "b")[1])],
                2,
            ),
            member("c", &[], 2),
        ];
        let d = CooperativeStickyAssignor.assign(&members, &counts);
        assert_eq!((count(&d, "a"), count(&d, "b"), count(&d, "c")), (2, 2, 2));
        assert_eq!(owned(&d, "a"), owned(&c, "a"));
    }

    #[test]
    fn the_newer_generation_wins_a_double_claim() {
        let members = [
            member("a", &[("t", 0), ("t", 1)], 3),
            member("b", &[("t", 0)], 4),
        ];
        let counts = BTreeMap::from([("t".into(), 2)]);
        let a = StickyAssignor.assign(&members, &counts);
        assert_eq!(owned(&a, "b"), [0]);
        assert_eq!(owned(&a, "a"), [1]);
    }

    #[test]
    fn uneven_subscriptions_stay_within_eligibility() {
        let members = [
            MemberSubscription::new("a", [TopicName::from("t"), TopicName::from("u")]),
            MemberSubscription::new("b", [TopicName::from("t")]),
        ];
        let counts = BTreeMap::from([("t".into(), 4), ("u".into(), 2)]);
        let a = StickyAssignor.assign(&members, &counts);
        assert_eq!(a["b"].get("u"), None);
        assert_eq!(count(&a, "a") + count(&a, "b"), 6);
        assert_eq!((count(&a, "a"), count(&a, "b")), (3, 3));
    }
}

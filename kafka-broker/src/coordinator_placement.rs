//! Where a group or a transactional id is coordinated: on the leader of its partition of
//! `__consumer_offsets` or `__transaction_state`, as in Kafka.
//!
//! Kafka keeps each coordinator's state in a compacted internal topic of 50 partitions
//! (`offsets.topic.num.partitions`, `transaction.state.log.num.partitions`), places a key on
//! partition `Utils.abs(key.hashCode()) % 50`, and has the leader of that partition coordinate
//! it. When the leader stops, the partition's next replica takes over, and with it only the
//! keys of that partition: the groups and transactions of the other brokers stay where they
//! are, so their clients see no NOT_COORDINATOR.
//!
//! The bundled broker keeps the coordinators' state in memory, shared by all its brokers, so
//! the internal topics hold no records and are not listed in Metadata. Their placement is kept
//! all the same, computed rather than stored: partition `p` of either topic has the replicas
//! `brokers[(p + i) % n]` for `i` below the replication factor (3, Kafka's default for both
//! topics, or the number of brokers when there are fewer), the assignment Kafka makes with a
//! start index of 0, and its leader is the first running replica. Unlike Kafka, leadership
//! returns to the first replica as soon as it runs again (Kafka waits for its periodic
//! preferred-leader election, `auto.leader.rebalance.enable`).

use crate::state::java_string_hash;

/// Partitions of `__consumer_offsets` and of `__transaction_state` (Kafka's defaults of
/// `offsets.topic.num.partitions` and `transaction.state.log.num.partitions`).
pub(crate) const COORDINATOR_PARTITIONS: i32 = 50;

/// Replicas of each internal partition (Kafka's default of `offsets.topic.replication.factor`
/// and `transaction.state.log.replication.factor`), capped by the number of brokers.
pub(crate) const COORDINATOR_REPLICATION_FACTOR: usize = 3;

/// The internal partition that holds `key` (a group id or a transactional id):
/// `Utils.abs(key.hashCode()) % partitions`, where Kafka's `Utils.abs` maps `i32::MIN` to 0.
pub(crate) fn partition_for(key: &str, partitions: i32) -> i32 {
    let hash = java_string_hash(key);
    let abs = if hash == i32::MIN { 0 } else { hash.abs() };
    abs % partitions.max(1)
}

/// The replicas of internal partition `partition` over `brokers` (every broker id of the
/// cluster, running or not, in id order), the preferred leader first.
pub(crate) fn replicas_of(partition: i32, brokers: &[i32]) -> Vec<i32> {
    let n = brokers.len();
    let factor = COORDINATOR_REPLICATION_FACTOR.min(n);
    let start = usize::try_from(partition).unwrap_or(0);
    (0..factor).map(|i| brokers[(start + i) % n]).collect()
}

/// The broker that coordinates `key`: the first running replica of its internal partition, or
/// `None` when every replica is stopped (clients then get COORDINATOR_NOT_AVAILABLE and retry).
pub(crate) fn coordinator_of(
    key: &str,
    brokers: &[i32],
    running: impl Fn(i32) -> bool,
) -> Option<i32> {
    if brokers.is_empty() {
        return None;
    }
    let partition = partition_for(key, COORDINATOR_PARTITIONS);
    replicas_of(partition, brokers)
        .into_iter()
        .find(|b| running(*b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_placed_by_the_absolute_java_hash_modulo_the_partition_count() {
        // "hello".hashCode() is 99162322: partition 22 of 50.
        assert_eq!(partition_for("hello", 50), 99_162_322 % 50);
        // A negative hash is made positive with Math.abs, not by masking the sign bit:
        // "consumer-group-0000000000".hashCode() is -2070410491.
        assert_eq!(
            partition_for("consumer-group-0000000000", 50),
            2_070_410_491 % 50
        );
        assert_eq!(partition_for("", 50), 0);
        for key in ["a", "txn-1", "group", "ü-unicode"] {
            assert!((0..50).contains(&partition_for(key, 50)));
        }
    }

    #[test]
    fn partitions_spread_their_replicas_over_the_brokers() {
        let brokers = [0, 1, 2, 3];
        assert_eq!(replicas_of(0, &brokers), vec![0, 1, 2]);
        assert_eq!(replicas_of(3, &brokers), vec![3, 0, 1]);
        assert_eq!(replicas_of(49, &brokers), vec![1, 2, 3]);
        // Fewer brokers than the replication factor: every broker is a replica.
        assert_eq!(replicas_of(5, &[7]), vec![7]);
        assert_eq!(replicas_of(1, &[4, 9]), vec![9, 4]);
        // Each broker leads its share of the 50 partitions.
        let mut led = [0; 4];
        for p in 0..COORDINATOR_PARTITIONS {
            led[usize::try_from(replicas_of(p, &brokers)[0]).unwrap()] += 1;
        }
        assert_eq!(led.iter().sum::<i32>(), 50);
        assert!(led.iter().all(|n| *n >= 12), "{led:?}");
    }

    #[test]
    fn a_stopped_broker_hands_over_only_the_keys_it_coordinated() {
        let brokers = [0, 1, 2];
        let keys: Vec<String> = (0..200).map(|i| format!("key-{i}")).collect();
        let before: Vec<Option<i32>> = keys
            .iter()
            .map(|k| coordinator_of(k, &brokers, |_| true))
            .collect();
        let after: Vec<Option<i32>> = keys
            .iter()
            .map(|k| coordinator_of(k, &brokers, |b| b != 1))
            .collect();
        let mut moved = 0;
        for (b, a) in before.iter().zip(&after) {
            if *b == Some(1) {
                moved += 1;
                assert!(a.is_some() && *a != Some(1), "the next replica takes over");
            } else {
                assert_eq!(b, a, "keys of running brokers stay where they are");
            }
        }
        assert!(moved > 0, "broker 1 coordinated some of 200 keys");
        // With every replica of a partition stopped, its keys have no coordinator.
        assert_eq!(coordinator_of("key-0", &brokers, |_| false), None);
        assert_eq!(coordinator_of("key-0", &[], |_| true), None);
    }
}

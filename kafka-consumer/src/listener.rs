//! [`RebalanceListener`]: the application's say in a rebalance.

use crate::consumer::Consumer;
use crate::record::TopicPartition;

/// Called from within [`Consumer::poll`] as the group's assignment changes, in the order
/// Java's `ConsumerRebalanceListener` is: revoked (or lost) before the partitions go, assigned
/// after new ones arrive.
///
/// Under the eager protocol every partition is revoked before each rebalance; under the
/// cooperative one only the partitions that move are, after the rebalance that moved them,
/// and the others are consumed throughout.
///
/// The callbacks get the consumer itself: committing inside `on_partitions_revoked` works (the
/// member still holds its generation then), as do `seek` and `position` in
/// `on_partitions_assigned`.
///
/// ```
/// use std::sync::Mutex;
/// use kafka_consumer::{Consumer, RebalanceListener, TopicPartition};
///
/// #[derive(Debug, Default)]
/// struct CommitOnRevoke(Mutex<Vec<TopicPartition>>);
///
/// #[async_trait::async_trait]
/// impl RebalanceListener for CommitOnRevoke {
///     async fn on_partitions_revoked(&self, consumer: &mut Consumer, partitions: &[TopicPartition]) {
///         if let Err(e) = consumer.commit_sync().await {
///             eprintln!("commit on revoke failed: {e}");
///         }
///         self.0.lock().unwrap().extend_from_slice(partitions);
///     }
/// }
/// ```
#[async_trait::async_trait]
pub trait RebalanceListener: Send + Sync + std::fmt::Debug {
    /// `partitions` are about to stop being this consumer's. Their positions still stand, so
    /// a commit here records what was processed.
    async fn on_partitions_revoked(&self, consumer: &mut Consumer, partitions: &[TopicPartition]) {
        let _ = (consumer, partitions);
    }

    /// `partitions` are now this consumer's; their positions come from the group's commits
    /// (or `auto.offset.reset`).
    async fn on_partitions_assigned(&self, consumer: &mut Consumer, partitions: &[TopicPartition]) {
        let _ = (consumer, partitions);
    }

    /// `partitions` were taken away without a chance to commit (the member was fenced, its
    /// session or poll interval expired). By default, as in Java, the same as revoked; a
    /// commit made here is refused.
    async fn on_partitions_lost(&self, consumer: &mut Consumer, partitions: &[TopicPartition]) {
        self.on_partitions_revoked(consumer, partitions).await;
    }
}

//! The consumer's group membership as a transactional producer needs it.

/// What a consumer's group membership is when it hands its offsets to a transactional
/// producer (Java's `ConsumerGroupMetadata`): the producer sends them with TxnOffsetCommit so
/// that the group coordinator refuses the commit of a member that was fenced by a rebalance
/// (KIP-447), exactly as it would refuse that member's own OffsetCommit.
///
/// ```
/// use kafka_client::ConsumerGroupMetadata;
///
/// let outside_a_group = ConsumerGroupMetadata::new("pipeline");
/// assert_eq!(outside_a_group.generation_id, -1);
/// assert!(outside_a_group.member_id.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConsumerGroupMetadata {
    /// The group id.
    pub group_id: String,
    /// The generation of the member's assignment, -1 outside group management.
    pub generation_id: i32,
    /// The member id the coordinator gave, empty outside group management.
    pub member_id: String,
    /// `group.instance.id` of a static member (KIP-345).
    pub group_instance_id: Option<String>,
}

impl ConsumerGroupMetadata {
    /// A group's metadata with no membership (generation -1): the coordinator accepts the
    /// commit from anyone while the group has no members.
    pub fn new(group_id: impl Into<String>) -> Self {
        ConsumerGroupMetadata {
            group_id: group_id.into(),
            generation_id: -1,
            member_id: String::new(),
            group_instance_id: None,
        }
    }

    /// A member's metadata.
    pub fn member(
        group_id: impl Into<String>,
        generation_id: i32,
        member_id: impl Into<String>,
        group_instance_id: Option<String>,
    ) -> Self {
        ConsumerGroupMetadata {
            group_id: group_id.into(),
            generation_id,
            member_id: member_id.into(),
            group_instance_id,
        }
    }
}

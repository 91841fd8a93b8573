//! The coordinator's tests, through its async API: timeouts under paused time, offsets and
//! group administration, and every group API at every version.

mod coordinator;
mod offsets;
mod versions;

use bytes::Bytes;
use kafka_protocol::consumer_protocol;
use kafka_protocol::messages::ConsumerProtocolSubscription;

/// The member metadata a consumer joins with: a ConsumerProtocolSubscription v1 to `topics`.
pub(crate) fn subscription(topics: &[&str]) -> Bytes {
    let subscription = ConsumerProtocolSubscription::default()
        .with_topics(topics.iter().map(|t| (*t).into()).collect());
    consumer_protocol::encode_subscription(&subscription, 1).expect("a v1 subscription encodes")
}

//! Pattern subscriptions: `subscribe(Pattern)` in Java's terms.
//!
//! Under the classic group protocol the broker knows nothing of patterns: the consumer fetches
//! metadata for every topic, matches the names itself, and subscribes to the matching set as it
//! would to a list. It looks again every `metadata.max.age.ms`, so a topic created later (or
//! deleted) changes the subscription, and the group rebalances to hand its partitions out.
//! As in Java, a name matches only when the whole name does (`orders` does not match
//! `orders-eu`), and internal topics (`__consumer_offsets`, `__transaction_state`) are left out
//! (`exclude.internal.topics`, on by default).

use std::collections::BTreeSet;
use std::sync::Arc;

use kafka_protocol::messages::MetadataResponse;
use kafka_protocol::TopicName;
use tokio::time::Instant;
use tracing::debug;

use crate::consumer::Consumer;
use crate::error::{ConsumerError, Result};
use crate::listener::RebalanceListener;

/// A compiled subscription pattern.
#[derive(Debug, Clone)]
pub(crate) struct TopicPattern {
    source: String,
    regex: regex::Regex,
}

impl TopicPattern {
    /// Compiles `pattern`, anchored at both ends (Java's `Matcher::matches`).
    pub(crate) fn new(pattern: &str) -> Result<TopicPattern> {
        let regex = regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
            ConsumerError::InvalidPattern {
                pattern: pattern.to_string(),
                reason: e.to_string(),
            }
        })?;
        Ok(TopicPattern {
            source: pattern.to_string(),
            regex,
        })
    }

    /// Whether `topic` matches as a whole.
    pub(crate) fn matches(&self, topic: &str) -> bool {
        self.regex.is_match(topic)
    }

    /// The topics of a full Metadata answer that the subscription covers: existing, matching,
    /// and not internal.
    pub(crate) fn matching(&self, response: &MetadataResponse) -> BTreeSet<TopicName> {
        response
            .topics
            .iter()
            .filter(|t| t.error_code.is_ok() && !t.is_internal)
            .filter_map(|t| t.name.clone())
            .filter(|name| self.matches(name))
            .collect()
    }
}

impl Consumer {
    /// Subscribes to every topic whose whole name matches the regular expression `pattern`,
    /// now and as topics are created or deleted (checked every `metadata.max.age.ms`), as a
    /// member of `group.id`. Replaces any earlier subscription.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), kafka_consumer::ConsumerError> {
    /// use kafka_consumer::{Consumer, ConsumerConfig};
    /// let mut consumer =
    ///     Consumer::new(ConsumerConfig::new("localhost:9092").with_group_id("audit")).await?;
    /// consumer.subscribe_pattern("orders-.*")?; // orders-eu, orders-us, and those to come
    /// # Ok(())
    /// # }
    /// ```
    pub fn subscribe_pattern(&mut self, pattern: &str) -> Result<()> {
        let compiled = TopicPattern::new(pattern)?;
        if self.group.is_none() {
            return Err(crate::consumer::needs_group("subscribe"));
        }
        // The next poll matches against fresh metadata straight away.
        self.pattern = Some(compiled);
        self.pattern_checked = None;
        Ok(())
    }

    /// [`subscribe_pattern`](Self::subscribe_pattern), with a listener told of every change of
    /// assignment.
    pub fn subscribe_pattern_with_listener(
        &mut self,
        pattern: &str,
        listener: Arc<dyn RebalanceListener>,
    ) -> Result<()> {
        self.subscribe_pattern(pattern)?;
        self.listener = Some(listener);
        Ok(())
    }

    /// The pattern subscribed to, if any.
    pub fn subscription_pattern(&self) -> Option<&str> {
        self.pattern.as_ref().map(|p| p.source.as_str())
    }

    /// With a pattern subscription, once per `metadata.max.age.ms`: lists the cluster's topics
    /// and, when the matching set changed, subscribes to the new set (which rejoins the group).
    /// A failed listing is retried at the next poll.
    pub(crate) async fn refresh_pattern(&mut self) -> Result<()> {
        let Some(pattern) = self.pattern.clone() else {
            return Ok(());
        };
        let due = self
            .pattern_checked
            .is_none_or(|at| at.elapsed() >= self.config.client.metadata_max_age);
        if !due {
            return Ok(());
        }
        let response = match self.client.refresh_all_metadata().await {
            Ok(r) => r,
            Err(e) => {
                debug!(error = %e, "metadata for the pattern subscription failed");
                return Ok(());
            }
        };
        self.pattern_checked = Some(Instant::now());
        let matched = pattern.matching(&response);
        if matched != self.subscription {
            debug!(pattern = %pattern.source, topics = matched.len(), "pattern subscription changed");
            self.set_subscription(matched)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::metadata_response::MetadataResponseTopic;
    use kafka_protocol::ErrorCode;

    fn topic(name: &str, internal: bool, error: ErrorCode) -> MetadataResponseTopic {
        MetadataResponseTopic::default()
            .with_name(Some(name.into()))
            .with_is_internal(internal)
            .with_error_code(error)
    }

    #[test]
    fn whole_names_match_and_internal_or_failed_topics_do_not() {
        let p = TopicPattern::new("orders-.*|__.*").unwrap();
        let response = MetadataResponse::default().with_topics(vec![
            topic("orders-eu", false, ErrorCode::None),
            topic("orders-us", false, ErrorCode::None),
            topic("orders", false, ErrorCode::None),
            topic("my-orders-eu", false, ErrorCode::None),
            topic("__consumer_offsets", true, ErrorCode::None),
            topic("orders-gone", false, ErrorCode::UnknownTopicOrPartition),
        ]);
        let got: Vec<String> = p
            .matching(&response)
            .iter()
            .map(|t| t.to_string())
            .collect();
        assert_eq!(got, ["orders-eu", "orders-us"]);
        // Alternation stays inside the anchors: `a|b` must not match `xb`.
        let p = TopicPattern::new("a|b").unwrap();
        assert!(p.matches("a") && p.matches("b") && !p.matches("xb") && !p.matches("ax"));
    }

    #[test]
    fn an_invalid_pattern_is_a_typed_error() {
        match TopicPattern::new("orders-(") {
            Err(ConsumerError::InvalidPattern { pattern, .. }) => assert_eq!(pattern, "orders-("),
            other => panic!("{other:?}"),
        }
    }
}

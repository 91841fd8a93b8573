//! Position validation after a leader change (KIP-320): detecting that the log a consumer was
//! reading lost records it had already read.
//!
//! A position is an offset plus the leader epoch of the last record read before it (the
//! *offset epoch*, also committed with offsets). When the partition's leader epoch moves past
//! the one the position was last fetched under, the new leader may hold a different history:
//! under an unclean election (or a truncation on a follower that took over) the records the
//! consumer read may never have reached it. So, before fetching again, the consumer asks the
//! leader with OffsetForLeaderEpoch where the offset epoch ends in its log:
//!
//! * at or after the position: the log still holds everything read, fetching goes on;
//! * before the position: the log diverged at that end offset. With an `auto.offset.reset`
//!   policy the consumer goes back to it (what it read past it is gone; what was written there
//!   since is new) and says so in a warning; with `none` it fails with
//!   [`ConsumerError::LogTruncation`], as Java's `LogTruncationException` does;
//! * undefined (the epoch is older than anything the leader knows): the position is out of
//!   range and `auto.offset.reset` decides, as for OFFSET_OUT_OF_RANGE.
//!
//! A position without an offset epoch (set by `seek`, or before any record carried one) cannot
//! be checked and is not. Brokers older than OffsetForLeaderEpoch v3 (no consumer replica id)
//! are not asked, as Java does not ask them.
//!
//! The race this closes: without it a consumer that read offsets 0..100 from the old leader
//! fetches at 100 from a new leader whose log ends at 90. That is OFFSET_OUT_OF_RANGE, and
//! `latest` would jump to the log end: records the new leader appends at 90..100 meanwhile
//! would be skipped. Validation lands on 90 instead.

use std::collections::BTreeMap;

use kafka_client::Client;
use kafka_protocol::messages::offset_for_leader_epoch_request::{
    OffsetForLeaderPartition, OffsetForLeaderTopic,
};
use kafka_protocol::messages::OffsetForLeaderEpochRequest;
use kafka_protocol::{ApiKey, BrokerId, ErrorCode};
use tracing::{debug, warn};

use crate::config::OffsetReset;
use crate::consumer::Consumer;
use crate::error::{ConsumerError, Result};
use crate::record::TopicPartition;

/// The first OffsetForLeaderEpoch version a consumer may send (it carries the replica id -1).
const MIN_CONSUMER_VERSION: i16 = 3;

/// What an OffsetForLeaderEpoch answer means for a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The leader's log holds everything before the position.
    Valid,
    /// The log diverged at `offset`, before the position; `epoch` is the epoch that ends there.
    Truncated { offset: i64, epoch: i32 },
    /// The leader knows no end for the epoch: the position is out of range.
    Undefined,
}

/// Judges a position against the end offset the leader gave for its offset epoch.
pub(crate) fn judge(position: i64, answer_epoch: i32, end_offset: i64) -> Verdict {
    if answer_epoch < 0 || end_offset < 0 {
        Verdict::Undefined
    } else if end_offset < position {
        Verdict::Truncated {
            offset: end_offset,
            epoch: answer_epoch,
        }
    } else {
        Verdict::Valid
    }
}

/// One position to check: where it is, the epoch it was read in, and the epoch the leader is
/// at now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PendingValidation {
    pub(crate) tp: TopicPartition,
    pub(crate) leader: BrokerId,
    pub(crate) position: i64,
    pub(crate) offset_epoch: i32,
    pub(crate) current_leader_epoch: i32,
}

impl Consumer {
    /// Checks, before fetching, every position whose partition changed leader epoch since it
    /// was last fetched (see the module documentation).
    pub(crate) async fn validate_positions(&mut self) -> Result<()> {
        let pending = {
            let md = self.client.metadata();
            self.state.positions_to_validate(&md)
        };
        if pending.is_empty() {
            return Ok(());
        }
        let mut by_leader: BTreeMap<BrokerId, Vec<PendingValidation>> = BTreeMap::new();
        for p in pending {
            by_leader.entry(p.leader).or_default().push(p);
        }
        for (leader, asks) in by_leader {
            let answers = match ask_leader(&self.client, leader, &asks).await {
                Ok(a) => a,
                Err(e) => {
                    // The next poll asks again; the partitions do not fetch meanwhile.
                    debug!(broker = %leader, error = %e, "position validation deferred");
                    continue;
                }
            };
            for ask in asks {
                self.apply_answer(&ask, answers.get(&ask.tp).copied())?;
            }
        }
        Ok(())
    }

    fn apply_answer(&mut self, ask: &PendingValidation, answer: Option<Answer>) -> Result<()> {
        let (topic, partition) = &ask.tp;
        let Some(state) = self.state.partitions.get_mut(&ask.tp) else {
            return Ok(());
        };
        // A seek or reset since the question left: that position is not the one checked.
        if state.position != Some(ask.position) {
            return Ok(());
        }
        let verdict = match answer {
            // Not asked (the broker is too old): nothing to check against.
            Some(Answer::Unsupported) => Verdict::Valid,
            Some(Answer::Found { epoch, end_offset }) => judge(ask.position, epoch, end_offset),
            Some(Answer::Error(code)) => {
                debug!(%topic, partition, ?code, "position validation failed; retrying");
                if matches!(
                    code,
                    ErrorCode::NotLeaderOrFollower
                        | ErrorCode::FencedLeaderEpoch
                        | ErrorCode::UnknownLeaderEpoch
                ) || code.is_retriable()
                {
                    self.client.metadata().invalidate_leader(topic, *partition);
                    return Ok(());
                }
                return Err(ConsumerError::Broker {
                    topic: topic.to_string(),
                    partition: *partition,
                    code,
                });
            }
            None => return Ok(()),
        };
        let reset = self.config.auto_offset_reset;
        match verdict {
            Verdict::Valid => {
                state.validated_epoch = Some(ask.current_leader_epoch);
            }
            Verdict::Truncated { offset, epoch } => {
                if reset == OffsetReset::None {
                    return Err(ConsumerError::LogTruncation {
                        topic: topic.to_string(),
                        partition: *partition,
                        position: ask.position,
                        divergent_offset: offset,
                    });
                }
                warn!(
                    %topic, partition, position = ask.position, divergent_offset = offset,
                    "log truncation detected: the records read from the divergent offset on are gone; resuming there"
                );
                state.position = Some(offset);
                state.last_epoch = Some(epoch);
                state.buffered = None;
                state.validated_epoch = Some(ask.current_leader_epoch);
            }
            Verdict::Undefined => {
                if reset == OffsetReset::None {
                    return Err(ConsumerError::NoOffset {
                        topic: topic.to_string(),
                        partition: *partition,
                    });
                }
                debug!(%topic, partition, "offset epoch unknown to the leader: resetting");
                state.position = None;
                state.last_epoch = None;
                state.buffered = None;
            }
        }
        Ok(())
    }
}

/// A leader's answer for one partition.
#[derive(Debug, Clone, Copy)]
enum Answer {
    Found { epoch: i32, end_offset: i64 },
    Error(ErrorCode),
    Unsupported,
}

/// Sends one OffsetForLeaderEpoch to `leader` for `asks`.
async fn ask_leader(
    client: &Client,
    leader: BrokerId,
    asks: &[PendingValidation],
) -> kafka_client::Result<BTreeMap<TopicPartition, Answer>> {
    let conn = client.broker(leader).await?;
    if !conn
        .version_for(ApiKey::OffsetForLeaderEpoch)
        .is_ok_and(|v| v >= MIN_CONSUMER_VERSION)
    {
        return Ok(asks
            .iter()
            .map(|a| (a.tp.clone(), Answer::Unsupported))
            .collect());
    }
    let mut topics: Vec<OffsetForLeaderTopic> = Vec::new();
    for a in asks {
        let part = OffsetForLeaderPartition::default()
            .with_partition(a.tp.1)
            .with_current_leader_epoch(a.current_leader_epoch)
            .with_leader_epoch(a.offset_epoch);
        match topics.iter_mut().find(|t| t.topic == a.tp.0) {
            Some(t) => t.partitions.push(part),
            None => topics.push(
                OffsetForLeaderTopic::default()
                    .with_topic(a.tp.0.clone())
                    .with_partitions(vec![part]),
            ),
        }
    }
    let request = OffsetForLeaderEpochRequest::default()
        .with_replica_id(BrokerId::NONE)
        .with_topics(topics);
    let response = conn.send(&request).await?;
    let mut out = BTreeMap::new();
    for t in response.topics {
        for p in t.partitions {
            let answer = match p.error_code {
                ErrorCode::None => Answer::Found {
                    epoch: p.leader_epoch,
                    end_offset: p.end_offset,
                },
                code => Answer::Error(code),
            };
            out.insert((t.topic.clone(), p.partition), answer);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_epoch_ending_at_or_after_the_position_is_valid() {
        assert_eq!(judge(100, 3, 100), Verdict::Valid);
        assert_eq!(judge(100, 3, 250), Verdict::Valid);
    }

    #[test]
    fn an_epoch_ending_before_the_position_is_a_truncation() {
        assert_eq!(
            judge(100, 2, 90),
            Verdict::Truncated {
                offset: 90,
                epoch: 2
            }
        );
    }

    #[test]
    fn an_unknown_epoch_or_end_is_out_of_range() {
        assert_eq!(judge(100, -1, 90), Verdict::Undefined);
        assert_eq!(judge(100, 2, -1), Verdict::Undefined);
    }
}

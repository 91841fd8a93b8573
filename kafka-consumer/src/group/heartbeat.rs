//! The heartbeat task: keeps the member in its generation between polls (KIP-62), and leaves
//! the group when the application stops polling for longer than `max.poll.interval.ms`.
//!
//! It runs only while the member is stable: a join stops it, and the join task starts the next
//! one the moment SyncGroup answers, without waiting for the application's next poll (a member
//! busy with its last batch when a rebalance ends must not let its new session lapse). Its verdicts go into the member's state flag, which the consumer reads at its
//! next poll:
//! * REBALANCE_IN_PROGRESS: the generation still stands, the member must rejoin (under the
//!   eager protocol it gives its partitions up first, and may commit them). The task goes on
//!   heartbeating until the join starts, which keeps the session alive.
//! * UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, FENCED_INSTANCE_ID: the generation is gone; the
//!   partitions are lost (no commit is possible for them).
//! * A failed request (coordinator gone, connection lost): rejoin, which finds the
//!   coordinator again.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kafka_client::Connection;
use kafka_protocol::messages::{HeartbeatRequest, LeaveGroupRequest};
use kafka_protocol::ErrorCode;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, warn, Instrument};

use super::{LOST, REJOIN};

/// When the application last polled, as milliseconds since `epoch`, shared with the task.
#[derive(Debug, Clone)]
pub(crate) struct PollClock {
    epoch: Instant,
    last: Arc<AtomicU64>,
}

impl PollClock {
    pub(crate) fn new() -> Self {
        PollClock {
            epoch: Instant::now(),
            last: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Records a poll now.
    pub(crate) fn polled(&self) {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(now, Ordering::Release);
    }

    /// How long ago the last poll was.
    pub(crate) fn since_last(&self) -> Duration {
        let last = Duration::from_millis(self.last.load(Ordering::Acquire));
        self.epoch.elapsed().saturating_sub(last)
    }
}

/// What the heartbeat task needs.
#[derive(Debug)]
pub(crate) struct Heartbeat {
    pub(crate) conn: Arc<Connection>,
    pub(crate) request: HeartbeatRequest,
    /// Sent when the poll interval is exceeded; `None` for static members, which Kafka keeps
    /// until their session times out instead (KIP-345).
    pub(crate) leave: Option<LeaveGroupRequest>,
    pub(crate) interval: Duration,
    pub(crate) max_poll_interval: Duration,
    pub(crate) clock: PollClock,
    pub(crate) state: Arc<AtomicU8>,
}

/// The running heartbeat task; dropping it stops the task (so a finished join whose result
/// nobody collects does not leave heartbeats running).
#[derive(Debug)]
pub(crate) struct HeartbeatTask(JoinHandle<()>);

impl Drop for HeartbeatTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Heartbeat {
    pub(crate) fn spawn(self) -> HeartbeatTask {
        HeartbeatTask(tokio::spawn(self.run().in_current_span()))
    }

    async fn run(self) {
        loop {
            tokio::time::sleep(self.interval).await;
            if self.clock.since_last() > self.max_poll_interval {
                warn!(
                    "poll not called within max.poll.interval.ms ({:?}): leaving the group",
                    self.max_poll_interval
                );
                if let Some(leave) = &self.leave {
                    if let Err(e) = self.conn.send(leave).await {
                        debug!(error = %e, "LeaveGroup after poll timeout failed");
                    }
                }
                self.state.store(LOST, Ordering::Release);
                return;
            }
            match self.conn.send(&self.request).await {
                Ok(r) if r.error_code == ErrorCode::None => {}
                // The generation stands until this member rejoins, which happens at its next
                // poll. Heartbeats go on meanwhile, as Java's do: the coordinator keeps a
                // member whose session is alive until the rebalance timeout
                // (max.poll.interval.ms), so an application busy with its last batch is not
                // dropped after only session.timeout.ms.
                Ok(r) if r.error_code == ErrorCode::RebalanceInProgress => {
                    debug!("heartbeat: rebalance in progress, rejoin at the next poll");
                    let _ = self.state.compare_exchange(
                        super::STABLE,
                        REJOIN,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    );
                }
                Ok(r) => {
                    debug!(code = ?r.error_code, "heartbeat: rejoin needed");
                    let verdict = match r.error_code {
                        ErrorCode::UnknownMemberId
                        | ErrorCode::IllegalGeneration
                        | ErrorCode::FencedInstanceId => LOST,
                        _ => REJOIN,
                    };
                    self.state.store(verdict, Ordering::Release);
                    return;
                }
                Err(e) => {
                    debug!(error = %e, "heartbeat failed: rejoin needed");
                    self.state.store(REJOIN, Ordering::Release);
                    return;
                }
            }
        }
    }
}

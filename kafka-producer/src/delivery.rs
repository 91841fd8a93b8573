//! Delivery results, shared per batch.
//!
//! A record's [`DeliveryFuture`] holds the batch's completion (one allocation per batch) and the
//! record's index in it, so sending a record allocates nothing for its result. When the batch
//! completes, every waiting future is woken once. Dropping a future cancels nothing: the batch
//! is sent and completed regardless, as with the Java client's `Future`.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};

use crate::error::ProducerError;
use crate::record::RecordMetadata;

/// How a batch ended.
#[derive(Debug, Clone)]
pub(crate) struct BatchOutcome {
    pub(crate) partition: i32,
    /// -1 when unknown (acks=0, or a duplicate the broker had already written).
    pub(crate) base_offset: i64,
    /// The broker's append time, or -1 for create time.
    pub(crate) log_append_time: i64,
}

/// The completion every record of one batch waits on.
#[derive(Debug, Default)]
pub(crate) struct BatchCompletion {
    result: OnceLock<Result<BatchOutcome, ProducerError>>,
    wakers: Mutex<Vec<Waker>>,
    /// Each record's create time, by index (one vector per batch).
    timestamps: Mutex<Vec<i64>>,
}

impl BatchCompletion {
    pub(crate) fn push_timestamp(&self, ts: i64) -> usize {
        let mut t = lock(&self.timestamps);
        t.push(ts);
        t.len() - 1
    }

    /// Completes the batch once; later calls are ignored.
    pub(crate) fn complete(&self, result: Result<BatchOutcome, ProducerError>) {
        if self.result.set(result).is_err() {
            return;
        }
        let wakers = std::mem::take(&mut *lock(&self.wakers));
        for w in wakers {
            w.wake();
        }
    }

    fn result_for(&self, index: usize) -> Option<Result<RecordMetadata, ProducerError>> {
        let r = self.result.get()?;
        Some(match r {
            Ok(o) => {
                let ts = lock(&self.timestamps).get(index).copied().unwrap_or(-1);
                Ok(RecordMetadata {
                    partition: o.partition,
                    offset: if o.base_offset < 0 {
                        -1
                    } else {
                        o.base_offset.saturating_add(index as i64)
                    },
                    timestamp: if o.log_append_time >= 0 {
                        o.log_append_time
                    } else {
                        ts
                    },
                })
            }
            Err(e) => Err(e.clone()),
        })
    }
}

/// Resolves to where the record was written, or why it was not.
#[derive(Debug)]
#[must_use = "the record is sent whether or not this is awaited; await it to learn the outcome"]
pub struct DeliveryFuture {
    completion: Arc<BatchCompletion>,
    index: usize,
}

impl DeliveryFuture {
    pub(crate) fn new(completion: Arc<BatchCompletion>, index: usize) -> Self {
        DeliveryFuture { completion, index }
    }
}

impl Future for DeliveryFuture {
    type Output = Result<RecordMetadata, ProducerError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(r) = self.completion.result_for(self.index) {
            return Poll::Ready(r);
        }
        let mut wakers = lock(&self.completion.wakers);
        // Re-check under the lock: `complete` sets the result before taking the wakers.
        if let Some(r) = self.completion.result_for(self.index) {
            return Poll::Ready(r);
        }
        if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
            wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

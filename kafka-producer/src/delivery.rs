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
    /// Set instead of `result` when the batch was split (the broker refused it as too large):
    /// each part's first record index in this batch, and the part's completion.
    parts: OnceLock<Vec<(usize, Arc<BatchCompletion>)>>,
}

impl BatchCompletion {
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

    /// Hands the batch's records to `parts` (first index, completion), in order, and wakes the
    /// waiting futures so they wait on their part instead.
    pub(crate) fn split_into(&self, parts: Vec<(usize, Arc<BatchCompletion>)>) {
        if self.parts.set(parts).is_err() {
            return;
        }
        let wakers = std::mem::take(&mut *lock(&self.wakers));
        for w in wakers {
            w.wake();
        }
    }

    /// The completion that settles record `index`, and its index there, following splits.
    fn owner(self: &Arc<Self>, index: usize) -> (Arc<BatchCompletion>, usize) {
        let mut at = (Arc::clone(self), index);
        while let Some((start, part)) =
            at.0.parts
                .get()
                .and_then(|parts| parts.iter().rev().find(|(start, _)| *start <= at.1))
                .map(|(start, part)| (*start, Arc::clone(part)))
        {
            at = (part, at.1 - start);
        }
        at
    }

    fn result_for(&self, index: usize, ts: i64) -> Option<Result<RecordMetadata, ProducerError>> {
        let r = self.result.get()?;
        Some(match r {
            Ok(o) => Ok(RecordMetadata {
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
            }),
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
    /// The record's create time: kept here rather than in the batch, so that a record costs
    /// its batch no allocation.
    timestamp: i64,
}

impl DeliveryFuture {
    pub(crate) fn new(completion: Arc<BatchCompletion>, index: usize, timestamp: i64) -> Self {
        DeliveryFuture {
            completion,
            index,
            timestamp,
        }
    }
}

impl Future for DeliveryFuture {
    type Output = Result<RecordMetadata, ProducerError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (completion, index) = self.completion.owner(self.index);
        if let Some(r) = completion.result_for(index, self.timestamp) {
            return Poll::Ready(r);
        }
        let mut wakers = lock(&completion.wakers);
        // Re-check under the lock: `complete` and `split_into` set their state before taking
        // the wakers.
        if let Some(r) = completion.result_for(index, self.timestamp) {
            return Poll::Ready(r);
        }
        if completion.parts.get().is_some() {
            drop(wakers);
            cx.waker().wake_by_ref();
            return Poll::Pending;
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

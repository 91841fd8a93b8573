//! [`CompletedFetch`]: one partition's fetched records, buffered and decoded lazily.
//!
//! A Fetch response is kept as it arrived; records are decoded only as `poll` hands them out,
//! `max.poll.records` at a time, so a prefetched megabyte costs no work until it is read and
//! keys and values stay slices of the response buffer. Reading skips what the consumer must
//! never see: records before the position (a fetch starts at the batch holding it), control
//! batches (transaction markers), and under read_committed the batches of aborted
//! transactions.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::records::{
    ControlRecordType, DecodeOptions, RecordBatch, RecordBatches, Records,
};
use kafka_protocol::{DecodeError, TopicName};

use crate::record::ConsumerRecord;

/// The aborted transactions a read_committed Fetch reported, consumed in offset order
/// (the algorithm of KIP-98's consumer side).
///
/// The broker lists, for the fetched range, each aborted transaction's producer id and first
/// offset. Walking the batches in order: once a batch at or past a transaction's first offset
/// is reached, that producer's transactional batches are aborted data, until its ABORT marker
/// (a control batch) closes the transaction. A producer id can appear again later with a new
/// transaction, which is why the set is fed from the list as the walk advances rather than
/// all at once.
#[derive(Debug, Default)]
pub(crate) struct AbortedTransactions {
    /// `(first offset, producer id)`, ascending.
    pending: VecDeque<(i64, i64)>,
    open: BTreeSet<i64>,
}

impl AbortedTransactions {
    pub(crate) fn new(mut list: Vec<(i64, i64)>) -> Self {
        list.sort_unstable();
        AbortedTransactions {
            pending: list.into(),
            open: BTreeSet::new(),
        }
    }

    /// Whether `batch` is data of an aborted transaction; an ABORT marker closes one.
    fn skips(&mut self, batch: &RecordBatch) -> bool {
        let header = batch.header();
        while let Some(&(first, producer)) = self.pending.front() {
            if first > header.last_offset() {
                break;
            }
            self.open.insert(producer);
            self.pending.pop_front();
        }
        if header.is_control() {
            let abort = batch
                .records()
                .next()
                .and_then(Result::ok)
                .is_some_and(|r| {
                    ControlRecordType::of_record(&r).is_ok_and(|t| t == ControlRecordType::Abort)
                });
            if abort {
                self.open.remove(&header.producer_id);
            }
            return false;
        }
        header.is_transactional() && self.open.contains(&header.producer_id)
    }
}

/// One fetch response's record bytes, shared by the partitions it brought data for.
///
/// The partitions' records are slices of one buffer (the response frame), which is freed only
/// once every slice is gone: a partition that is read while the others still wait frees
/// nothing. So the memory budget counts whole frames, each as long as any of its partitions is
/// buffered ([`SubscriptionState::buffered_bytes`](crate::subscription_state::SubscriptionState::buffered_bytes)).
#[derive(Debug)]
pub(crate) struct FetchedFrame {
    /// The response's record bytes, all partitions together.
    pub(crate) size: usize,
}

/// One partition's fetched data, not yet fully handed out.
#[derive(Debug)]
pub(crate) struct CompletedFetch {
    pub(crate) topic: TopicName,
    pub(crate) partition: i32,
    /// The offset after the records handed out so far: the partition's position once this
    /// fetch is done with.
    pub(crate) next_offset: i64,
    /// The leader epoch of the last batch read (KIP-320), if any was.
    pub(crate) last_epoch: Option<i32>,
    /// The response these records came in, for the memory budget.
    pub(crate) frame: Arc<FetchedFrame>,
    batches: RecordBatches,
    current: Option<(Records, i64, i32)>,
    aborted: Option<AbortedTransactions>,
    done: bool,
}

impl CompletedFetch {
    /// Buffers `records` fetched from `fetch_offset`; `aborted` is the read_committed list.
    pub(crate) fn new(
        topic: TopicName,
        partition: i32,
        fetch_offset: i64,
        records: Bytes,
        frame: Arc<FetchedFrame>,
        options: DecodeOptions,
        aborted: Option<AbortedTransactions>,
    ) -> Self {
        CompletedFetch {
            topic,
            partition,
            next_offset: fetch_offset,
            last_epoch: None,
            frame,
            batches: RecordBatches::with_options(records, options),
            current: None,
            aborted,
            done: false,
        }
    }

    /// Whether every record has been handed out.
    pub(crate) fn is_drained(&self) -> bool {
        self.done
    }

    /// Hands out up to `max` records into `out`. A corrupt batch ends the fetch with an error
    /// and leaves `next_offset` at that batch, so the next fetch meets it again (as Java's
    /// consumer does: the application decides whether to seek past it).
    pub(crate) fn take(
        &mut self,
        max: usize,
        out: &mut Vec<ConsumerRecord>,
    ) -> Result<(), DecodeError> {
        let mut taken = 0;
        while taken < max && !self.done {
            if let Some((records, after, epoch)) = self.current.as_mut() {
                match records.next() {
                    Some(Ok(r)) => {
                        if r.offset < self.next_offset {
                            continue;
                        }
                        self.next_offset = r.offset.saturating_add(1);
                        out.push(ConsumerRecord {
                            topic: self.topic.clone(),
                            partition: self.partition,
                            offset: r.offset,
                            timestamp: r.timestamp,
                            leader_epoch: (*epoch >= 0).then_some(*epoch),
                            key: r.key,
                            value: r.value,
                            headers: r.headers,
                        });
                        taken += 1;
                    }
                    Some(Err(e)) => {
                        self.done = true;
                        return Err(e);
                    }
                    None => {
                        self.next_offset = self.next_offset.max(*after);
                        self.current = None;
                    }
                }
                continue;
            }
            match self.batches.next() {
                None => self.done = true,
                Some(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Some(Ok(batch)) => {
                    let header = *batch.header();
                    let after = header.last_offset().saturating_add(1);
                    if after <= self.next_offset {
                        continue;
                    }
                    let aborted = self.aborted.as_mut().is_some_and(|a| a.skips(&batch));
                    if header.partition_leader_epoch >= 0 {
                        self.last_epoch = Some(header.partition_leader_epoch);
                    }
                    if header.is_control() || aborted {
                        self.next_offset = self.next_offset.max(after);
                        continue;
                    }
                    self.current = Some((batch.records(), after, header.partition_leader_epoch));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::records::{Compression, EndTransactionMarker, RecordBatchBuilder};

    fn batch(base: i64, n: usize, producer: Option<i64>) -> Bytes {
        let mut b = RecordBatchBuilder::new(Compression::None)
            .with_base_offset(base)
            .with_partition_leader_epoch(3);
        if let Some(pid) = producer {
            b = b.with_producer(pid, 0, 0).with_transactional(true);
        }
        for i in 0..n {
            b.append(
                0,
                None,
                Some(format!("v{}", base + i as i64).as_bytes()),
                &[],
            )
            .unwrap();
        }
        b.build().unwrap()
    }

    fn marker(offset: i64, producer: i64, commit: bool) -> Bytes {
        let marker = EndTransactionMarker {
            committed: commit,
            coordinator_epoch: 0,
        };
        let mut bytes = marker.encode_batch(producer, 0, 0).unwrap().to_vec();
        kafka_protocol::records::set_base_offset(&mut bytes, offset).unwrap();
        bytes.into()
    }

    fn concat(parts: &[Bytes]) -> Bytes {
        parts
            .iter()
            .flat_map(|b| b.iter().copied())
            .collect::<Vec<u8>>()
            .into()
    }

    fn offsets(f: &mut CompletedFetch, max: usize) -> Vec<i64> {
        let mut out = Vec::new();
        f.take(max, &mut out).unwrap();
        out.iter().map(|r| r.offset).collect()
    }

    fn fetch(data: Bytes, from: i64, aborted: Option<AbortedTransactions>) -> CompletedFetch {
        let frame = Arc::new(FetchedFrame { size: data.len() });
        CompletedFetch::new(
            "t".into(),
            0,
            from,
            data,
            frame,
            DecodeOptions::default(),
            aborted,
        )
    }

    #[test]
    fn hands_out_from_the_position_in_slices_of_max() {
        let mut f = fetch(concat(&[batch(0, 5, None), batch(5, 5, None)]), 3, None);
        assert_eq!(offsets(&mut f, 4), vec![3, 4, 5, 6]);
        assert_eq!(f.next_offset, 7);
        assert!(!f.is_drained());
        assert_eq!(offsets(&mut f, 100), vec![7, 8, 9]);
        assert_eq!(offsets(&mut f, 100), Vec::<i64>::new());
        assert!(f.is_drained());
        assert_eq!((f.next_offset, f.last_epoch), (10, Some(3)));
    }

    #[test]
    fn read_committed_drops_aborted_batches_and_markers() {
        // Producer 7 commits offsets 0-1 (marker 2); producer 8 aborts 3-4 (marker 5); then
        // producer 8 commits 6 (marker 7): the same producer id, a later transaction.
        let data = concat(&[
            batch(0, 2, Some(7)),
            marker(2, 7, true),
            batch(3, 2, Some(8)),
            marker(5, 8, false),
            batch(6, 1, Some(8)),
            marker(7, 8, true),
        ]);
        let aborted = AbortedTransactions::new(vec![(3, 8)]);
        let mut f = fetch(data.clone(), 0, Some(aborted));
        assert_eq!(offsets(&mut f, 100), vec![0, 1, 6]);
        assert_eq!(f.next_offset, 8);
        // read_uncommitted sees every data record and still no marker.
        let mut f = fetch(data, 0, None);
        assert_eq!(offsets(&mut f, 100), vec![0, 1, 3, 4, 6]);
    }

    #[test]
    fn a_corrupt_batch_stops_at_its_offset() {
        // Damage a value byte ("v3" becomes "v2"): the framing still parses, only the CRC
        // can tell.
        let damaged = || {
            let mut second = batch(2, 2, None).to_vec();
            let at = second.windows(2).position(|w| w == b"v3").unwrap() + 1;
            second[at] ^= 0x01;
            Bytes::from(second)
        };
        let second = damaged();
        let mut f = fetch(concat(&[batch(0, 2, None), second]), 0, None);
        let mut out = Vec::new();
        assert!(f.take(100, &mut out).is_err());
        assert_eq!(out.len(), 2);
        assert_eq!(f.next_offset, 2);
        assert!(f.is_drained());
        // Without the CRC check the damaged byte goes unnoticed (check.crcs=false).
        let data = concat(&[batch(0, 2, None), damaged()]);
        let frame = Arc::new(FetchedFrame { size: data.len() });
        let mut f = CompletedFetch::new(
            "t".into(),
            0,
            0,
            data,
            frame,
            DecodeOptions::default().with_verify_crc(false),
            None,
        );
        let mut out = Vec::new();
        assert!(f.take(100, &mut out).is_ok());
        assert_eq!(out.len(), 4);
        assert_eq!(out[3].value.as_deref(), Some(&b"v2"[..]));
    }
}

use bytes::BytesMut;
use kafka_protocol::records::{
    Compression, EndTransactionMarker, RecordBatchBuilder, RecordBatchHeader,
};
use kafka_protocol::ErrorCode;

use super::coordinator::{EndOutcome, InitOutcome, TransactionCoordinator, TxnMember};
use super::metadata::TxnState;
use crate::log::PartitionLog;
use crate::producer_state::{InitProducerIdParams, ProducerIdAndEpoch};

fn init(c: &mut TransactionCoordinator, id: &str, now: i64) -> Result<InitOutcome, ErrorCode> {
    c.init_producer_id(
        &InitProducerIdParams {
            transactional_id: Some(id),
            transaction_timeout_ms: 1_000,
            producer_id: -1,
            producer_epoch: -1,
            api_version: 4,
        },
        now,
    )
}

fn ready(c: &mut TransactionCoordinator, id: &str) -> ProducerIdAndEpoch {
    match init(c, id, 0) {
        Ok(InitOutcome::Ready(p)) => p,
        other => panic!("init of {id}: {other:?}"),
    }
}

fn tp(topic: &str, partition: i32) -> (String, i32) {
    (topic.to_string(), partition)
}

#[test]
fn a_transaction_runs_from_empty_through_ongoing_to_complete() {
    let mut c = TransactionCoordinator::default();
    let p = ready(&mut c, "t");
    assert_eq!(
        c.describe("t").map(|d| d.metadata.state),
        Some(TxnState::Empty)
    );
    c.add_partitions("t", p.producer_id, p.producer_epoch, &[tp("a", 0)], 10)
        .unwrap();
    c.add_group("t", p.producer_id, p.producer_epoch, "g", 11)
        .unwrap();
    let described = c.describe("t").unwrap();
    assert_eq!(described.metadata.state, TxnState::Ongoing);
    assert_eq!(
        described.metadata.start_ms, 10,
        "starts with its first partition"
    );
    let end = c
        .end_transaction("t", p.producer_id, p.producer_epoch, true, 20)
        .unwrap();
    let EndOutcome::Finish(completion) = end else {
        panic!("expected markers to write: {end:?}");
    };
    assert_eq!(completion.partitions, vec![tp("a", 0)]);
    assert_eq!(completion.groups, vec!["g".to_string()]);
    assert!(completion.committed);
    assert_eq!(
        c.describe("t").unwrap().metadata.state,
        TxnState::PrepareCommit
    );
    c.complete(&completion, 21);
    assert_eq!(
        c.describe("t").unwrap().metadata.state,
        TxnState::CompleteCommit
    );
    // A retried EndTxn of the same outcome succeeds; the other outcome is invalid.
    assert_eq!(
        c.end_transaction("t", p.producer_id, p.producer_epoch, true, 22),
        Ok(EndOutcome::AlreadyDone)
    );
    assert_eq!(
        c.end_transaction("t", p.producer_id, p.producer_epoch, false, 22),
        Err(ErrorCode::InvalidTxnState)
    );
    // Nothing open: EndTxn is invalid, and a new transaction begins with the next partition.
    let q = ready(&mut c, "empty");
    assert_eq!(
        c.end_transaction("empty", q.producer_id, q.producer_epoch, true, 0),
        Err(ErrorCode::InvalidTxnState)
    );
}

#[test]
fn transactions_v2_bump_the_epoch_at_each_end_and_recognise_a_retry() {
    let mut c = TransactionCoordinator::default();
    let p = ready(&mut c, "t");
    let (id, e) = (p.producer_id, p.producer_epoch);
    c.add_partitions("t", id, e, &[tp("a", 0)], 10).unwrap();
    let EndOutcome::Finish(completion) = c.end_transaction_v2("t", id, e, true, 20).unwrap() else {
        panic!("expected markers to write");
    };
    assert_eq!(
        completion.producer_epoch,
        e + 1,
        "the markers carry the new epoch"
    );
    c.complete(&completion, 21);
    assert_eq!(c.producer_of("t").map(|p| p.producer_epoch), Some(e + 1));
    // The retry of that EndTxn, with the epoch it was bumped from, succeeds again; an abort
    // with it is the wrong end; anything else at that epoch is fenced.
    assert_eq!(
        c.end_transaction_v2("t", id, e, true, 22),
        Ok(EndOutcome::AlreadyDone)
    );
    assert_eq!(
        c.end_transaction_v2("t", id, e, false, 22),
        Err(ErrorCode::InvalidTxnState)
    );
    assert_eq!(
        c.add_partitions("t", id, e, &[tp("a", 0)], 23),
        Err(ErrorCode::ProducerFenced)
    );
    // The next transaction runs at the new epoch and ends at the one after.
    c.add_partitions("t", id, e + 1, &[tp("a", 0)], 24).unwrap();
    assert_eq!(
        c.end_transaction_v2("t", id, e, false, 25),
        Err(ErrorCode::ProducerFenced),
        "the old epoch cannot end the new transaction"
    );
    let EndOutcome::Finish(second) = c.end_transaction_v2("t", id, e + 1, false, 26).unwrap()
    else {
        panic!("expected markers to write");
    };
    assert_eq!(second.producer_epoch, e + 2);
    c.complete(&second, 27);
    // A fence (a new instance's init) forgets the retry: the old epoch is simply fenced.
    ready(&mut c, "t");
    assert_eq!(
        c.end_transaction_v2("t", id, e + 1, false, 28),
        Err(ErrorCode::ProducerFenced)
    );
}

#[test]
fn requests_of_other_producers_or_epochs_are_refused() {
    let mut c = TransactionCoordinator::default();
    let p = ready(&mut c, "t");
    let parts = [tp("a", 0)];
    assert_eq!(
        c.add_partitions("unknown", p.producer_id, 0, &parts, 0),
        Err(ErrorCode::InvalidProducerIdMapping)
    );
    assert_eq!(
        c.add_partitions("t", p.producer_id + 1, p.producer_epoch, &parts, 0),
        Err(ErrorCode::InvalidProducerIdMapping)
    );
    assert_eq!(
        c.add_partitions("t", p.producer_id, p.producer_epoch + 1, &parts, 0),
        Err(ErrorCode::ProducerFenced)
    );
    // A second instance fences the first.
    let second = ready(&mut c, "t");
    assert_eq!(second.producer_epoch, p.producer_epoch + 1);
    assert_eq!(
        c.end_transaction("t", p.producer_id, p.producer_epoch, true, 0),
        Err(ErrorCode::ProducerFenced)
    );
}

#[test]
fn a_new_instance_aborts_the_open_transaction_of_the_old_one_first() {
    let mut c = TransactionCoordinator::default();
    let old = ready(&mut c, "t");
    c.add_partitions("t", old.producer_id, old.producer_epoch, &[tp("a", 1)], 0)
        .unwrap();
    let Ok(InitOutcome::AbortFirst(abort)) = init(&mut c, "t", 5) else {
        panic!("an open transaction must be aborted first");
    };
    assert!(!abort.committed);
    assert_eq!(abort.partitions, vec![tp("a", 1)]);
    assert_eq!(
        abort.producer_epoch,
        old.producer_epoch + 1,
        "the markers carry the fenced epoch"
    );
    // Until the markers are written the transaction is still being decided.
    assert_eq!(init(&mut c, "t", 6), Err(ErrorCode::ConcurrentTransactions));
    c.complete(&abort, 7);
    let new = ready(&mut c, "t");
    assert_eq!(new.producer_epoch, old.producer_epoch + 2);
    assert_eq!(c.describe("t").unwrap().metadata.state, TxnState::Empty);
}

#[test]
fn transactions_past_their_timeout_are_fenced_and_aborted() {
    let mut c = TransactionCoordinator::default();
    let p = ready(&mut c, "slow");
    let q = ready(&mut c, "quick");
    c.add_partitions("slow", p.producer_id, p.producer_epoch, &[tp("a", 0)], 100)
        .unwrap();
    c.add_partitions("quick", q.producer_id, q.producer_epoch, &[tp("a", 1)], 900)
        .unwrap();
    assert!(
        c.expire(1_100).is_empty(),
        "exactly the timeout is not past it"
    );
    let expired = c.expire(1_101);
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].transactional_id, "slow");
    assert_eq!(expired[0].producer_epoch, p.producer_epoch + 1);
    c.complete(&expired[0], 1_101);
    assert_eq!(
        c.describe("slow").unwrap().metadata.state,
        TxnState::CompleteAbort
    );
    // The producer that timed out is fenced.
    assert_eq!(
        c.end_transaction("slow", p.producer_id, p.producer_epoch, true, 1_200),
        Err(ErrorCode::ProducerFenced)
    );
}

#[test]
fn verification_names_what_the_transaction_added() {
    let mut c = TransactionCoordinator::default();
    let p = ready(&mut c, "t");
    let verify = |c: &mut TransactionCoordinator, member| {
        c.verify("t", p.producer_id, p.producer_epoch, member)
    };
    assert_eq!(
        verify(&mut c, TxnMember::Partition("a", 0)),
        Err(ErrorCode::TransactionAbortable),
        "nothing added yet"
    );
    c.add_partitions("t", p.producer_id, p.producer_epoch, &[tp("a", 0)], 0)
        .unwrap();
    assert_eq!(verify(&mut c, TxnMember::Partition("a", 0)), Ok(()));
    assert_eq!(
        verify(&mut c, TxnMember::Partition("a", 1)),
        Err(ErrorCode::TransactionAbortable)
    );
    assert_eq!(
        verify(&mut c, TxnMember::Group("g")),
        Err(ErrorCode::TransactionAbortable)
    );
    c.add_group("t", p.producer_id, p.producer_epoch, "g", 0)
        .unwrap();
    assert_eq!(verify(&mut c, TxnMember::Group("g")), Ok(()));
    assert_eq!(
        c.verify(
            "t",
            p.producer_id,
            p.producer_epoch + 1,
            TxnMember::Group("g")
        ),
        Err(ErrorCode::ProducerFenced)
    );
}

#[test]
fn listing_filters_by_state_producer_and_duration() {
    let mut c = TransactionCoordinator::default();
    let a = ready(&mut c, "a");
    let b = ready(&mut c, "b");
    c.add_partitions("a", a.producer_id, a.producer_epoch, &[tp("x", 0)], 1_000)
        .unwrap();
    let ids = |l: Vec<super::ListedTransaction>| {
        l.into_iter()
            .map(|t| t.transactional_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(c.list(&[], &[], -1, 2_000)), ["a", "b"]);
    assert_eq!(ids(c.list(&[TxnState::Ongoing], &[], -1, 2_000)), ["a"]);
    assert_eq!(ids(c.list(&[], &[b.producer_id], -1, 2_000)), ["b"]);
    assert_eq!(ids(c.list(&[], &[], 500, 2_000)), ["a"]);
    assert!(ids(c.list(&[], &[], 5_000, 2_000)).is_empty());
}

fn transactional_batch(producer_id: i64, epoch: i16, sequence: i32, records: usize) -> BytesMut {
    let mut builder = RecordBatchBuilder::new(Compression::None)
        .with_producer(producer_id, epoch, sequence)
        .with_transactional(true);
    for i in 0..records {
        builder
            .append(0, None, Some(format!("v{i}").as_bytes()), &[])
            .unwrap();
    }
    BytesMut::from(&builder.build().unwrap()[..])
}

fn append(log: &PartitionLog, batch: BytesMut) -> i64 {
    let header = RecordBatchHeader::parse(&batch).unwrap();
    log.append(batch, &header, None, -1).unwrap().base_offset
}

fn marker(committed: bool) -> EndTransactionMarker {
    EndTransactionMarker {
        committed,
        coordinator_epoch: 0,
    }
}

#[test]
fn the_last_stable_offset_waits_for_the_oldest_open_transaction() {
    let log = PartitionLog::new(vec![0]);
    let first = append(&log, transactional_batch(1, 0, 0, 2)); // offsets 0-1, producer 1
    append(&log, transactional_batch(2, 0, 0, 1)); // offset 2, producer 2
    assert_eq!(first, 0);
    let offsets = log.offsets();
    assert_eq!((offsets.high_watermark, offsets.last_stable_offset), (3, 0));
    // read_committed sees nothing yet; read_uncommitted everything.
    assert!(log.read(0, 1 << 20, true, true).unwrap().records.is_empty());
    assert!(!log
        .read(0, 1 << 20, true, false)
        .unwrap()
        .records
        .is_empty());
    // Producer 2 aborts (marker at 3): producer 1 still holds the LSO at 0.
    assert_eq!(log.append_marker(2, 0, marker(false), 0), Ok(3));
    assert_eq!(log.offsets().last_stable_offset, 0);
    // Producer 1 commits (marker at 4): everything is decided.
    assert_eq!(log.append_marker(1, 0, marker(true), 0), Ok(4));
    let offsets = log.offsets();
    assert_eq!((offsets.high_watermark, offsets.last_stable_offset), (5, 5));
    let read = log.read(0, 1 << 20, true, true).unwrap();
    assert_eq!(
        read.aborted,
        vec![(2, 2)],
        "producer 2's transaction from offset 2"
    );
    // A read past the aborted range does not list it.
    assert!(log.read(4, 1 << 20, true, true).unwrap().aborted.is_empty());
    // ListOffsets: latest for read_committed is the LSO.
    assert_eq!(log.offset_for_timestamp(-1, true), Some((-1, 5)));
}

#[test]
fn a_marker_of_a_fenced_epoch_moves_the_partition_to_it() {
    let log = PartitionLog::new(vec![0]);
    append(&log, transactional_batch(7, 0, 0, 1));
    // The coordinator fenced epoch 0 and aborted with epoch 1.
    log.append_marker(7, 1, marker(false), 0).unwrap();
    let zombie = transactional_batch(7, 0, 1, 1);
    let header = RecordBatchHeader::parse(&zombie).unwrap();
    assert_eq!(
        log.append(zombie, &header, None, -1).map(|i| i.base_offset),
        Err(ErrorCode::InvalidProducerEpoch)
    );
    assert_eq!(
        log.append_marker(7, 0, marker(true), 0),
        Err(ErrorCode::InvalidProducerEpoch),
        "a marker of an older epoch is a zombie's"
    );
    // The next instance's epoch starts at sequence 0.
    assert_eq!(append(&log, transactional_batch(7, 2, 0, 1)), 2);
}

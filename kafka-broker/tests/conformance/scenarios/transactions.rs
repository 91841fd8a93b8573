//! Transactions (KIP-98, KIP-890 part 1): InitProducerId with a transactional id,
//! AddPartitionsToTxn, transactional Produce, read_committed Fetch and ListOffsets (the last
//! stable offset and the aborted-transactions list), EndTxn, AddOffsetsToTxn and
//! TxnOffsetCommit, DescribeTransactions, ListTransactions, WriteTxnMarkers, and their errors.
//!
//! Produce goes at v11 and EndTxn at v4 in the transactions-v1 scenarios: from Produce v12
//! and EndTxn v5 a broker with `transaction.version=2` serves transactions v2, which
//! [`transactions_v2`] covers.
//! Kafka writes markers after it answers EndTxn, so the scenarios wait (unrecorded) until the
//! partition is stable before they read it.

use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::txn_offset_commit_request::{
    TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
};
use kafka_protocol::messages::write_txn_markers_request::{
    WritableTxnMarker, WritableTxnMarkerTopic,
};
use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddPartitionsToTxnRequest, DescribeTransactionsRequest, EndTxnRequest,
    FetchRequest, FindCoordinatorRequest, InitProducerIdRequest, ListOffsetsRequest,
    ListTransactionsRequest, TxnOffsetCommitRequest, WriteTxnMarkersRequest,
};
use kafka_protocol::{ApiKey, ErrorCode, ProducerId};

use crate::harness::{batch_with, produce_request, Session};

/// Transactional Produce's version (see the module comment).
const PRODUCE_V1_TXN: i16 = 11;

/// Initialises `tid` (setup): waits for the transaction coordinator (real Kafka creates
/// `__transaction_state` on first use), then InitProducerId until it answers.
fn init(s: &mut Session<'_>, tid: &str) -> (i64, i16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let found = s.call(
            &FindCoordinatorRequest::default()
                .with_key(tid)
                .with_key_type(1),
            3,
        );
        if found.error_code == ErrorCode::None {
            let v = s.v(ApiKey::InitProducerId);
            let r = s.call(&init_request(tid), v);
            if r.error_code == ErrorCode::None {
                return (r.producer_id.0, r.producer_epoch);
            }
        }
        assert!(
            Instant::now() < deadline,
            "no transaction coordinator for {tid}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn init_request(tid: &str) -> InitProducerIdRequest {
    InitProducerIdRequest::default()
        .with_transactional_id(Some(tid.into()))
        .with_transaction_timeout_ms(60_000)
}

fn add_partitions(
    tid: &str,
    (pid, epoch): (i64, i16),
    topic: &str,
    partition: i32,
) -> AddPartitionsToTxnRequest {
    AddPartitionsToTxnRequest::default()
        .with_v3_and_below_transactional_id(tid)
        .with_v3_and_below_producer_id(ProducerId(pid))
        .with_v3_and_below_producer_epoch(epoch)
        .with_v3_and_below_topics(vec![AddPartitionsToTxnTopic::default()
            .with_name(topic)
            .with_partitions(vec![partition])])
}

fn txn_batch(values: &[&str], (pid, epoch): (i64, i16), seq: i32) -> Bytes {
    batch_with(kafka_protocol::records::Compression::None, values, |b| {
        b.with_producer(pid, epoch, seq).with_transactional(true)
    })
}

fn txn_produce(
    s: &mut Session<'_>,
    label: &str,
    tid: &str,
    topic: &str,
    batch: Bytes,
    version: i16,
) {
    let request = produce_request(topic, 0, batch, -1).with_transactional_id(Some(tid.into()));
    s.send(label, &request, version);
}

fn end_txn(tid: &str, (pid, epoch): (i64, i16), commit: bool) -> EndTxnRequest {
    EndTxnRequest::default()
        .with_transactional_id(tid)
        .with_producer_id(ProducerId(pid))
        .with_producer_epoch(epoch)
        .with_committed(commit)
}

fn fetch_committed(s: &mut Session<'_>, label: &str, topic: &str, offset: i64) {
    let id = s.topic_id(topic);
    let request = FetchRequest::default()
        .with_max_wait_ms(0)
        .with_min_bytes(0)
        .with_max_bytes(1 << 20)
        .with_isolation_level(1)
        .with_topics(vec![FetchTopic::default()
            .with_topic_id(id)
            .with_partitions(vec![FetchPartition::default()
                .with_partition(0)
                .with_fetch_offset(offset)
                .with_partition_max_bytes(1 << 20)])]);
    let v = s.v(ApiKey::Fetch);
    s.send(label, &request, v);
}

fn latest(topic: &str, isolation: i8) -> ListOffsetsRequest {
    ListOffsetsRequest::default()
        .with_replica_id(-1)
        .with_isolation_level(isolation)
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(topic)
            .with_partitions(vec![ListOffsetsPartition::default()
                .with_partition_index(0)
                .with_timestamp(-1)])])
}

/// Waits (unrecorded) until `topic`-0's last stable offset reaches its high watermark: the
/// markers are written.
fn wait_stable(s: &mut Session<'_>, topic: &str) {
    let v = s.v(ApiKey::ListOffsets);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let hw = s.call(&latest(topic, 0), v).topics[0].partitions[0].offset;
        let lso = s.call(&latest(topic, 1), v).topics[0].partitions[0].offset;
        if hw == lso {
            return;
        }
        assert!(Instant::now() < deadline, "{topic} never became stable");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (unrecorded) until DescribeTransactions reports `tid` in `state`: Kafka moves from
/// PrepareCommit to CompleteCommit only after every marker is acknowledged, a moment after the
/// partitions became stable, and answers CONCURRENT_TRANSACTIONS meanwhile.
fn wait_state(s: &mut Session<'_>, tid: &str, state: &str) {
    let v = s.v(ApiKey::DescribeTransactions);
    let deadline = Instant::now() + Duration::from_secs(30);
    let request = DescribeTransactionsRequest::default().with_transactional_ids(vec![tid.into()]);
    loop {
        let r = s.call(&request, v);
        if r.transaction_states
            .first()
            .is_some_and(|t| t.transaction_state.as_str() == state)
        {
            return;
        }
        assert!(Instant::now() < deadline, "{tid} never reached {state}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn commit_and_abort(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let tid = s.name("txn");
    let producer = init(s, &tid);
    let av = s.v(ApiKey::AddPartitionsToTxn).min(3);
    let ev = s.v(ApiKey::EndTxn).min(4);
    let lv = s.v(ApiKey::ListOffsets);
    let dv = s.v(ApiKey::DescribeTransactions);
    s.send(
        "describe_empty",
        &DescribeTransactionsRequest::default().with_transactional_ids(vec![tid.as_str().into()]),
        dv,
    );
    s.send("add_partition", &add_partitions(&tid, producer, &t, 0), av);
    s.send("add_again", &add_partitions(&tid, producer, &t, 0), av);
    txn_produce(
        s,
        "produce_in_txn",
        &tid,
        &t,
        txn_batch(&["a", "b"], producer, 0),
        PRODUCE_V1_TXN,
    );
    fetch_committed(s, "read_committed_before_commit", &t, 0);
    s.send("lso_before_commit", &latest(&t, 1), lv);
    s.send("hw_before_commit", &latest(&t, 0), lv);
    s.send("commit", &end_txn(&tid, producer, true), ev);
    wait_stable(s, &t);
    wait_state(s, &tid, "CompleteCommit");
    s.send("commit_again", &end_txn(&tid, producer, true), ev);
    s.send("abort_after_commit", &end_txn(&tid, producer, false), ev);
    fetch_committed(s, "read_committed_after_commit", &t, 0);
    // The second transaction aborts.
    s.send(
        "add_partition_2",
        &add_partitions(&tid, producer, &t, 0),
        av,
    );
    txn_produce(
        s,
        "produce_in_txn_2",
        &tid,
        &t,
        txn_batch(&["c"], producer, 2),
        PRODUCE_V1_TXN,
    );
    s.send("abort", &end_txn(&tid, producer, false), ev);
    wait_stable(s, &t);
    fetch_committed(s, "read_committed_after_abort", &t, 0);
    crate::scenarios::fetch::fetch_from(s, "read_uncommitted_after_abort", &t, 0, 0);
    s.send("lso_after_abort", &latest(&t, 1), lv);
}

pub fn refusals(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 2, &[]);
    let tid = s.name("txn");
    let producer = init(s, &tid);
    let (pid, epoch) = producer;
    let ev = s.v(ApiKey::EndTxn).min(4);
    s.send(
        "end_without_transaction",
        &end_txn(&tid, producer, true),
        ev,
    );
    s.send(
        "add_with_a_future_epoch",
        &add_partitions(&tid, (pid, epoch + 1), &t, 0),
        3,
    );
    s.send(
        "add_with_a_future_epoch_v1",
        &add_partitions(&tid, (pid, epoch + 1), &t, 0),
        1,
    );
    s.send(
        "add_with_another_producer_id",
        &add_partitions(&tid, (pid + 1, epoch), &t, 0),
        3,
    );
    let unknown = s.name("never-initialised");
    s.send(
        "add_for_an_unknown_id",
        &add_partitions(&unknown, producer, &t, 0),
        3,
    );
    s.send(
        "add_an_unknown_partition",
        &add_partitions(&tid, producer, &t, 7),
        3,
    );
    // KIP-890: a batch for a partition the transaction never added is refused.
    txn_produce(
        s,
        "produce_not_added_v11",
        &tid,
        &t,
        txn_batch(&["x"], producer, 0),
        PRODUCE_V1_TXN,
    );
    // A second instance fences the first.
    let iv = s.v(ApiKey::InitProducerId);
    s.send("init_second_instance", &init_request(&tid), iv);
    s.send(
        "end_by_the_fenced_instance",
        &end_txn(&tid, producer, true),
        ev,
    );
    let dv = s.v(ApiKey::DescribeTransactions);
    s.send(
        "describe_unknown",
        &DescribeTransactionsRequest::default()
            .with_transactional_ids(vec![unknown.as_str().into()]),
        dv,
    );
    let lv = s.v(ApiKey::ListTransactions);
    s.send(
        "list_unknown_state",
        &ListTransactionsRequest::default().with_state_filters(vec!["Sleeping".into()]),
        lv,
    );
    let wv = s.v(ApiKey::WriteTxnMarkers);
    let missing = s.name("missing");
    s.send(
        "markers_for_an_unknown_topic",
        &WriteTxnMarkersRequest::default().with_markers(vec![WritableTxnMarker::default()
            .with_producer_id(ProducerId(pid))
            .with_producer_epoch(epoch)
            .with_transaction_result(false)
            .with_coordinator_epoch(0)
            .with_topics(vec![WritableTxnMarkerTopic::default()
                .with_name(missing.as_str())
                .with_partition_indexes(vec![0])])]),
        wv,
    );
}

pub fn offsets_in_a_transaction(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let tid = s.name("txn");
    let group = s.name("g");
    s.wait_for_coordinator(&group);
    let producer = init(s, &tid);
    let (pid, epoch) = producer;
    let commit = |generation: i32| {
        TxnOffsetCommitRequest::default()
            .with_transactional_id(tid.as_str())
            .with_group_id(group.as_str())
            .with_producer_id(ProducerId(pid))
            .with_producer_epoch(epoch)
            .with_generation_id(generation)
            .with_topics(vec![TxnOffsetCommitRequestTopic::default()
                .with_name(t.as_str())
                .with_partitions(vec![TxnOffsetCommitRequestPartition::default()
                    .with_partition_index(0)
                    .with_committed_offset(42)
                    .with_committed_metadata(Some("".into()))])])
    };
    let cv = s.v(ApiKey::TxnOffsetCommit);
    s.send(
        "txn_offset_commit_without_add_offsets",
        &commit(-1),
        cv.min(4),
    );
    let ov = s.v(ApiKey::AddOffsetsToTxn);
    s.send(
        "add_offsets",
        &AddOffsetsToTxnRequest::default()
            .with_transactional_id(tid.as_str())
            .with_producer_id(ProducerId(pid))
            .with_producer_epoch(epoch)
            .with_group_id(group.as_str()),
        ov,
    );
    s.send("txn_offset_commit", &commit(-1), cv.min(4));
    s.send(
        "txn_offset_commit_unknown_generation",
        &commit(5),
        cv.min(4),
    );
    let ev = s.v(ApiKey::EndTxn).min(4);
    s.send("commit", &end_txn(&tid, producer, true), ev);
}

/// Transactions v2 (KIP-890 part 2), as a Kafka 4 client speaks it with `transaction.version`
/// 2 finalized: no AddPartitionsToTxn (Produce v12+ adds the partition), EndTxn v5+ answers
/// with a bumped epoch, the retry of an EndTxn is recognised by the epoch it was bumped from,
/// and the old epoch is fenced everywhere else.
pub fn transactions_v2(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let tid = s.name("txn");
    let (pid, epoch) = init(s, &tid);
    // Produce v12: the first of transactions v2, and the last that names topics (v13 names
    // them by id).
    let pv = s.v(ApiKey::Produce).min(12);
    let ev = s.v(ApiKey::EndTxn);
    let dv = s.v(ApiKey::DescribeTransactions);
    assert!(pv >= 12 && ev >= 5, "both sides serve transactions v2");
    let describe =
        DescribeTransactionsRequest::default().with_transactional_ids(vec![tid.as_str().into()]);
    txn_produce(
        s,
        "produce_adds_the_partition",
        &tid,
        &t,
        txn_batch(&["a", "b"], (pid, epoch), 0),
        pv,
    );
    s.send("describe_ongoing", &describe, dv);
    s.send("commit_bumps", &end_txn(&tid, (pid, epoch), true), ev);
    wait_stable(s, &t);
    wait_state(s, &tid, "CompleteCommit");
    s.send("commit_retried", &end_txn(&tid, (pid, epoch), true), ev);
    s.send(
        "abort_at_old_epoch",
        &end_txn(&tid, (pid, epoch), false),
        ev,
    );
    txn_produce(
        s,
        "produce_at_old_epoch",
        &tid,
        &t,
        txn_batch(&["zombie"], (pid, epoch), 2),
        pv,
    );
    let next = (pid, epoch + 1);
    txn_produce(
        s,
        "produce_at_new_epoch",
        &tid,
        &t,
        txn_batch(&["c"], next, 0),
        pv,
    );
    s.send("abort_bumps", &end_txn(&tid, next, false), ev);
    wait_stable(s, &t);
    wait_state(s, &tid, "CompleteAbort");
    s.send("describe_after_abort", &describe, dv);
    fetch_committed(s, "read_committed_from_commit_marker", &t, 2);
    fetch_committed(s, "read_committed_aborted", &t, 3);
}

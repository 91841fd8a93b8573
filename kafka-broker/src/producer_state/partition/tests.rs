use super::*;

const PID: i64 = 4242;

fn batch(producer_epoch: i16, base_sequence: i32, record_count: i32) -> ProducerBatch {
    ProducerBatch {
        producer_id: PID,
        producer_epoch,
        base_sequence,
        record_count,
        transactional: false,
    }
}

/// Checks and records `b` as the log would, returning the offset it was appended at.
fn append(state: &mut PartitionProducerState, b: &ProducerBatch, base_offset: i64) -> i64 {
    assert_eq!(state.check(b), Ok(AppendDecision::Append), "batch {b:?}");
    state.record(b, base_offset, 1_000 + base_offset);
    base_offset
}

fn duplicate_offset(state: &PartitionProducerState, b: &ProducerBatch) -> Option<i64> {
    match state.check(b) {
        Ok(AppendDecision::Duplicate(dup)) => Some(dup.base_offset),
        _ => None,
    }
}

#[test]
fn batches_without_producer_id_are_never_checked() {
    let mut state = PartitionProducerState::new();
    for producer_id in [-1, -7] {
        let b = ProducerBatch {
            producer_id,
            producer_epoch: -1,
            base_sequence: -1,
            record_count: 5,
            transactional: false,
        };
        assert_eq!(state.check(&b), Ok(AppendDecision::Append));
        state.record(&b, 0, 0);
        assert_eq!(state.check(&b), Ok(AppendDecision::Append));
    }
    assert!(state.is_empty());
}

#[test]
fn new_producer_starts_at_sequence_zero() {
    let mut state = PartitionProducerState::new();
    append(&mut state, &batch(0, 0, 3), 10);
    let snapshot = state.producer(PID).expect("producer recorded");
    assert_eq!(snapshot.producer_epoch, 0);
    assert_eq!(snapshot.last_sequence, 2);
    assert_eq!(snapshot.last_offset, 12);
    assert_eq!(snapshot.retained_batches, 1);
}

#[test]
fn unknown_producer_may_start_at_any_sequence() {
    // As Apache Kafka 4.x does (checked by the conformance suite): with no state to compare, any
    // first sequence is appended.
    let state = PartitionProducerState::new();
    assert_eq!(state.check(&batch(0, 5, 1)), Ok(AppendDecision::Append));
    assert_eq!(state.check(&batch(3, 1, 1)), Ok(AppendDecision::Append));
}

#[test]
fn consecutive_batches_are_appended() {
    let mut state = PartitionProducerState::new();
    append(&mut state, &batch(0, 0, 3), 0);
    append(&mut state, &batch(0, 3, 2), 3);
    append(&mut state, &batch(0, 5, 1), 5);
    assert_eq!(state.producer(PID).map(|p| p.last_sequence), Some(5));
}

#[test]
fn check_does_not_change_state() {
    let mut state = PartitionProducerState::new();
    append(&mut state, &batch(0, 0, 1), 0);
    let next = batch(0, 1, 1);
    assert_eq!(state.check(&next), Ok(AppendDecision::Append));
    // Not recorded: the same batch is still "next", not a duplicate.
    assert_eq!(state.check(&next), Ok(AppendDecision::Append));
    assert_eq!(state.producer(PID).map(|p| p.last_sequence), Some(0));
}

#[test]
fn sequence_gap_is_out_of_order() {
    let mut state = PartitionProducerState::new();
    append(&mut state, &batch(0, 0, 3), 0);
    assert_eq!(
        state.check(&batch(0, 4, 1)),
        Err(ErrorCode::OutOfOrderSequenceNumber)
    );
}

#[test]
fn retry_of_a_recent_batch_is_a_duplicate_with_its_original_offsets() {
    let mut state = PartitionProducerState::new();
    append(&mut state, &batch(0, 0, 3), 100);
    append(&mut state, &batch(0, 3, 4), 103);
    assert_eq!(
        state.check(&batch(0, 0, 3)),
        Ok(AppendDecision::Duplicate(DuplicateBatch {
            base_offset: 100,
            last_offset: 102,
            append_time_ms: 1_100,
        }))
    );
    assert_eq!(duplicate_offset(&state, &batch(0, 3, 4)), Some(103));
}

#[test]
fn retry_of_fifth_most_recent_batch_is_duplicate_sixth_is_out_of_order() {
    let mut state = PartitionProducerState::new();
    let batches: Vec<ProducerBatch> = (0..6).map(|i| batch(0, i * 2, 2)).collect();
    for (i, b) in batches.iter().enumerate() {
        append(&mut state, b, 1_000 + 2 * i as i64);
    }
    assert_eq!(state.producer(PID).map(|p| p.retained_batches), Some(5));
    // batches[5] is the most recent, batches[1] the fifth most recent.
    for (i, b) in batches.iter().enumerate().skip(1) {
        assert_eq!(duplicate_offset(&state, b), Some(1_000 + 2 * i as i64));
    }
    assert_eq!(
        state.check(&batches[0]),
        Err(ErrorCode::OutOfOrderSequenceNumber)
    );
}

#[test]
fn partial_overlap_with_a_recent_batch_is_out_of_order() {
    let mut state = PartitionProducerState::new();
    append(&mut state, &batch(0, 0, 4), 0);
    for overlapping in [batch(0, 0, 2), batch(0, 1, 3), batch(0, 0, 5)] {
        assert_eq!(
            state.check(&overlapping),
            Err(ErrorCode::OutOfOrderSequenceNumber),
            "{overlapping:?}"
        );
    }
}

#[test]
fn older_epoch_is_invalid_producer_epoch() {
    let mut state = PartitionProducerState::new();
    append(&mut state, &batch(3, 0, 1), 0);
    assert_eq!(
        state.check(&batch(2, 1, 1)),
        Err(ErrorCode::InvalidProducerEpoch)
    );
    // Even a batch that would have been a duplicate under the old epoch is fenced.
    append(&mut state, &batch(4, 0, 1), 1);
    assert_eq!(
        state.check(&batch(3, 0, 1)),
        Err(ErrorCode::InvalidProducerEpoch)
    );
}

#[test]
fn newer_epoch_must_start_at_sequence_zero() {
    let mut state = PartitionProducerState::new();
    append(&mut state, &batch(0, 0, 10), 0);
    // Continuing the old sequence under a new epoch is not allowed.
    assert_eq!(
        state.check(&batch(1, 10, 1)),
        Err(ErrorCode::OutOfOrderSequenceNumber)
    );
    append(&mut state, &batch(1, 0, 2), 10);
    let snapshot = state.producer(PID).expect("producer recorded");
    assert_eq!(snapshot.producer_epoch, 1);
    assert_eq!(snapshot.retained_batches, 1, "old epoch's batches dropped");
    append(&mut state, &batch(1, 2, 1), 12);
}

#[test]
fn sequence_wraps_from_i32_max_to_zero() {
    let near_max = batch(0, i32::MAX - 1, 3);
    assert_eq!(near_max.last_sequence(), 0);
    assert_eq!(batch(0, i32::MAX, 1).last_sequence(), i32::MAX);
    assert_eq!(batch(0, i32::MAX, 2).last_sequence(), 0);
    assert_eq!(batch(0, 5, 3).last_sequence(), 7);

    // Reach the wrap point with batches spanning most of the sequence space.
    let mut state = PartitionProducerState::new();
    append(&mut state, &batch(0, 0, i32::MAX), 0); // last sequence i32::MAX - 1
    append(&mut state, &batch(0, i32::MAX, 2), i64::from(i32::MAX)); // MAX, 0
    assert_eq!(state.producer(PID).map(|p| p.last_sequence), Some(0));
    append(&mut state, &batch(0, 1, 1), 1 << 40);
    assert_eq!(
        duplicate_offset(&state, &batch(0, i32::MAX, 2)),
        Some(i64::from(i32::MAX))
    );

    let mut at_max = PartitionProducerState::new();
    append(&mut at_max, &batch(0, 0, i32::MAX), 0);
    append(&mut at_max, &batch(0, i32::MAX, 1), 5); // ends exactly at i32::MAX
    assert_eq!(
        at_max
            .check(&batch(0, i32::MAX, 1))
            .map(|d| d != AppendDecision::Append),
        Ok(true),
        "retry at i32::MAX is a duplicate"
    );
    assert_eq!(at_max.check(&batch(0, 0, 1)), Ok(AppendDecision::Append));
    assert_eq!(
        at_max.check(&batch(0, 1, 1)),
        Err(ErrorCode::OutOfOrderSequenceNumber)
    );
}

#[test]
fn malformed_producer_fields_are_invalid_record() {
    let mut state = PartitionProducerState::new();
    for bad in [
        batch(-1, 0, 1),
        batch(0, -1, 1),
        batch(0, 0, 0),
        batch(0, 0, -3),
    ] {
        assert_eq!(state.check(&bad), Err(ErrorCode::InvalidRecord), "{bad:?}");
    }
    append(&mut state, &batch(0, 0, 1), 0);
    assert_eq!(state.check(&batch(0, 1, 0)), Err(ErrorCode::InvalidRecord));
}

#[test]
fn producers_are_independent() {
    let mut state = PartitionProducerState::new();
    let other = |seq| ProducerBatch {
        producer_id: PID + 1,
        producer_epoch: 0,
        base_sequence: seq,
        record_count: 1,
        transactional: false,
    };
    append(&mut state, &batch(0, 0, 5), 0);
    append(&mut state, &other(0), 5);
    append(&mut state, &batch(0, 5, 1), 6);
    append(&mut state, &other(1), 7);
    assert_eq!(state.len(), 2);
    assert_eq!(duplicate_offset(&state, &other(0)), Some(5));
    assert_eq!(
        state.producers().map(|p| p.producer_id).sum::<i64>(),
        2 * PID + 1
    );
}

#[test]
fn head_truncation_forgets_producers_entirely_before_the_log_start() {
    let mut state = PartitionProducerState::new();
    let old = ProducerBatch {
        producer_id: 1,
        producer_epoch: 0,
        base_sequence: 0,
        record_count: 10,
        transactional: false,
    };
    append(&mut state, &old, 0); // offsets 0..=9
    append(&mut state, &batch(0, 0, 10), 10); // offsets 10..=19
    append(&mut state, &batch(0, 10, 10), 20); // offsets 20..=29

    // DeleteRecords up to offset 15: producer 1 is gone, PID keeps all its batches.
    state.truncate_head(15);
    assert!(state.producer(1).is_none());
    let next_of_old = ProducerBatch {
        base_sequence: 10,
        ..old
    };
    assert_eq!(state.check(&next_of_old), Ok(AppendDecision::Append));
    assert_eq!(
        state.check(&old),
        Ok(AppendDecision::Append),
        "restart at 0"
    );
    assert_eq!(duplicate_offset(&state, &batch(0, 0, 10)), Some(10));

    state.truncate_head(30);
    assert!(state.is_empty());
}

#[test]
fn tail_truncation_forgets_truncated_batches() {
    let mut state = PartitionProducerState::new();
    append(&mut state, &batch(0, 0, 2), 0); // 0..=1
    append(&mut state, &batch(0, 2, 2), 2); // 2..=3
    append(&mut state, &batch(0, 4, 2), 4); // 4..=5
    state.truncate_tail(4);
    assert_eq!(state.producer(PID).map(|p| p.last_sequence), Some(3));
    // The truncated batch is no longer a duplicate: the client's retry is appended again.
    assert_eq!(state.check(&batch(0, 4, 2)), Ok(AppendDecision::Append));
    state.truncate_tail(0);
    assert!(state.producer(PID).is_none());
    assert_eq!(state.check(&batch(0, 4, 2)), Ok(AppendDecision::Append));
}

#[test]
fn idle_producers_expire() {
    let mut state = PartitionProducerState::new();
    state.record(&batch(0, 0, 1), 0, 1_000);
    let other = ProducerBatch {
        producer_id: 9,
        ..batch(0, 0, 1)
    };
    state.record(&other, 1, 5_000);
    state.remove_expired(6_000, 5_000);
    assert!(state.producer(PID).is_none());
    assert!(state.producer(9).is_some());
}

#[test]
fn producer_count_is_capped_by_evicting_the_least_recently_used() {
    let mut state = PartitionProducerState::with_max_producers(3);
    for id in 0..3 {
        let b = ProducerBatch {
            producer_id: id,
            ..batch(0, 0, 1)
        };
        state.record(&b, id, 100 + id);
    }
    // Producer 0 appends again, so producer 1 is now the least recently used.
    state.record(
        &ProducerBatch {
            producer_id: 0,
            ..batch(0, 1, 1)
        },
        3,
        200,
    );
    state.record(
        &ProducerBatch {
            producer_id: 3,
            ..batch(0, 0, 1)
        },
        4,
        201,
    );
    assert_eq!(state.len(), 3);
    assert!(state.producer(1).is_none());
    for id in [0, 2, 3] {
        assert!(state.producer(id).is_some(), "producer {id}");
    }
}

#[test]
fn batch_fields_come_from_the_header() {
    let header = RecordBatchHeader {
        base_offset: 0,
        batch_length: 0,
        partition_leader_epoch: -1,
        magic: 2,
        crc: 0,
        attributes: 0,
        last_offset_delta: 4,
        base_timestamp: 0,
        max_timestamp: 0,
        producer_id: 77,
        producer_epoch: 3,
        base_sequence: 20,
        records_count: 5,
    };
    let b = ProducerBatch::from_header(&header);
    assert_eq!(
        b,
        ProducerBatch {
            producer_id: 77,
            producer_epoch: 3,
            base_sequence: 20,
            record_count: 5,
            transactional: false,
        }
    );
    assert_eq!(b.last_sequence(), 24);
}

//! Record batch v2 encode/decode, compression and record set tests.

use bytes::Bytes;
use kafka_protocol::records::{
    crc32c, set_base_offset, set_partition_leader_epoch, Compression, ControlRecordType,
    DecodeOptions, EndTransactionMarker, Record, RecordBatch, RecordBatchBuilder, RecordHeader,
    RecordSet, TimestampType, RECORD_BATCH_OVERHEAD,
};
use kafka_protocol::DecodeError;
use proptest::prelude::*;

const CODECS: [Compression; 5] = [
    Compression::None,
    Compression::Gzip,
    Compression::Snappy,
    Compression::Lz4,
    Compression::Zstd,
];

/// A record as given to the builder.
#[derive(Debug, Clone)]
struct Input {
    timestamp: i64,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<RecordHeader>,
}

fn sample_inputs() -> Vec<Input> {
    vec![
        Input {
            timestamp: 1_700_000_000_000,
            key: Some(b"key-0".to_vec()),
            value: Some(b"value-0".repeat(20)),
            headers: vec![
                RecordHeader::new("trace", Some(Bytes::from_static(b"abc"))),
                RecordHeader::new("empty", Some(Bytes::new())),
                RecordHeader::new("null", None),
            ],
        },
        // Null key and null value (a tombstone), earlier timestamp: negative delta.
        Input {
            timestamp: 1_699_999_999_000,
            key: None,
            value: None,
            headers: vec![],
        },
        Input {
            timestamp: 1_700_000_000_500,
            key: Some(Vec::new()),
            value: Some(vec![0xAB; 3000]),
            headers: vec![RecordHeader::new(
                "ünïcode",
                Some(Bytes::from_static(b"\0")),
            )],
        },
    ]
}

fn build(
    codec: Compression,
    inputs: &[Input],
    configure: impl FnOnce(RecordBatchBuilder) -> RecordBatchBuilder,
) -> Bytes {
    let mut builder = configure(RecordBatchBuilder::new(codec));
    for input in inputs {
        builder
            .append(
                input.timestamp,
                input.key.as_deref(),
                input.value.as_deref(),
                &input.headers,
            )
            .unwrap();
    }
    builder.build().unwrap()
}

fn decode_all(wire: &Bytes) -> (RecordBatch, Vec<Record>) {
    let mut buf = wire.clone();
    let batch = RecordBatch::decode(&mut buf).unwrap();
    assert!(buf.is_empty(), "decode consumes exactly one batch");
    let records = batch.records().collect::<Result<Vec<_>, _>>().unwrap();
    (batch, records)
}

fn assert_matches_inputs(records: &[Record], inputs: &[Input], base_offset: i64) {
    assert_eq!(records.len(), inputs.len());
    for (index, (record, input)) in records.iter().zip(inputs).enumerate() {
        assert_eq!(record.offset, base_offset + index as i64);
        assert_eq!(record.timestamp, input.timestamp);
        assert_eq!(record.key.as_deref(), input.key.as_deref());
        assert_eq!(record.value.as_deref(), input.value.as_deref());
        assert_eq!(record.headers, input.headers);
    }
}

#[test]
fn every_codec_round_trips_with_producer_fields() {
    let inputs = sample_inputs();
    for codec in CODECS {
        let wire = build(codec, &inputs, |b| {
            b.with_producer(4242, 7, 100)
                .with_transactional(true)
                .with_base_offset(1000)
                .with_partition_leader_epoch(3)
        });
        let (batch, records) = decode_all(&wire);
        let header = batch.header();
        assert_eq!(batch.compression(), codec);
        assert_eq!(header.compression(), Ok(codec));
        assert_eq!(header.base_offset, 1000);
        assert_eq!(header.partition_leader_epoch, 3);
        assert_eq!(header.magic, 2);
        assert_eq!(header.producer_id, 4242);
        assert_eq!(header.producer_epoch, 7);
        assert_eq!(header.base_sequence, 100);
        assert_eq!(header.records_count, 3);
        assert_eq!(header.last_offset_delta, 2);
        assert_eq!(header.last_offset(), 1002);
        assert_eq!(header.base_timestamp, inputs[0].timestamp);
        assert_eq!(header.max_timestamp, inputs[2].timestamp);
        assert_eq!(header.timestamp_type(), TimestampType::CreateTime);
        assert!(header.is_transactional());
        assert!(!header.is_control());
        assert_eq!(header.total_size(), wire.len());
        assert_eq!(batch.as_bytes(), &wire);
        assert_matches_inputs(&records, &inputs, 1000);
    }
}

#[test]
fn default_builder_writes_producer_defaults() {
    let inputs = sample_inputs();
    let (batch, _) = decode_all(&build(Compression::None, &inputs, |b| b));
    let header = batch.header();
    assert_eq!(
        (
            header.producer_id,
            header.producer_epoch,
            header.base_sequence
        ),
        (-1, -1, -1)
    );
    assert_eq!((header.base_offset, header.partition_leader_epoch), (0, -1));
    assert!(!header.is_transactional());
    assert_eq!(header.attributes, 0);
}

#[test]
fn uncompressed_records_are_zero_copy_slices_of_the_input() {
    let wire = build(Compression::None, &sample_inputs(), |b| b);
    let (_, records) = decode_all(&wire);
    let input = wire.as_ptr() as usize..wire.as_ptr() as usize + wire.len();
    for record in &records {
        if let Some(value) = record.value.as_ref().filter(|v| !v.is_empty()) {
            assert!(input.contains(&(value.as_ptr() as usize)));
        }
    }
}

#[test]
fn hand_assembled_batch_matches_builder_byte_for_byte() {
    // One record: key "k", value "v", one header "h" -> null, timestamp 5000, laid out by hand
    // from the protocol guide rather than through the crate's encoder.
    let record_body: Vec<u8> = vec![
        0x00, // attributes
        0x00, // timestampDelta 0
        0x00, // offsetDelta 0
        0x02, b'k', // key length 1, key
        0x02, b'v', // value length 1, value
        0x02, // one header
        0x02, b'h', // header key length 1, key
        0x01, // header value length -1 (null)
    ];
    let mut records = vec![(record_body.len() as u8) << 1];
    records.extend_from_slice(&record_body);

    let mut crc_covered = Vec::new();
    crc_covered.extend_from_slice(&0i16.to_be_bytes()); // attributes
    crc_covered.extend_from_slice(&0i32.to_be_bytes()); // lastOffsetDelta
    crc_covered.extend_from_slice(&5000i64.to_be_bytes()); // baseTimestamp
    crc_covered.extend_from_slice(&5000i64.to_be_bytes()); // maxTimestamp
    crc_covered.extend_from_slice(&(-1i64).to_be_bytes()); // producerId
    crc_covered.extend_from_slice(&(-1i16).to_be_bytes()); // producerEpoch
    crc_covered.extend_from_slice(&(-1i32).to_be_bytes()); // baseSequence
    crc_covered.extend_from_slice(&1i32.to_be_bytes()); // records count
    crc_covered.extend_from_slice(&records);

    let mut expected = Vec::new();
    expected.extend_from_slice(&0i64.to_be_bytes()); // baseOffset
    expected.extend_from_slice(&((4 + 1 + 4 + crc_covered.len()) as i32).to_be_bytes());
    expected.extend_from_slice(&(-1i32).to_be_bytes()); // partitionLeaderEpoch
    expected.push(2); // magic
    expected.extend_from_slice(&crc32c(&crc_covered).to_be_bytes());
    expected.extend_from_slice(&crc_covered);

    let mut builder = RecordBatchBuilder::new(Compression::None);
    builder
        .append(
            5000,
            Some(b"k"),
            Some(b"v"),
            &[RecordHeader::new("h", None)],
        )
        .unwrap();
    assert_eq!(builder.build().unwrap().as_ref(), &expected[..]);

    let (_, records) = decode_all(&Bytes::from(expected));
    assert_eq!(records[0].headers[0].key(), "h");
    assert_eq!(records[0].headers[0].value, None);
}

#[test]
fn snappy_batches_use_xerial_framing() {
    let wire = build(Compression::Snappy, &sample_inputs(), |b| b);
    assert_eq!(
        wire.get(RECORD_BATCH_OVERHEAD..RECORD_BATCH_OVERHEAD + 8),
        Some(&b"\x82SNAPPY\0"[..])
    );
}

/// Replaces the record data of an uncompressed batch with `payload` under `codec`, fixing up
/// batchLength and the CRC, as another producer might have written it.
fn rewrap(plain: &Bytes, codec: Compression, payload: &[u8]) -> Bytes {
    let mut out = plain[..RECORD_BATCH_OVERHEAD].to_vec();
    out.extend_from_slice(payload);
    let batch_length = (out.len() - 12) as i32;
    out[8..12].copy_from_slice(&batch_length.to_be_bytes());
    let attributes = i16::from_be_bytes([out[21], out[22]]) | codec.id();
    out[21..23].copy_from_slice(&attributes.to_be_bytes());
    let crc = crc32c(&out[21..]);
    out[17..21].copy_from_slice(&crc.to_be_bytes());
    Bytes::from(out)
}

#[test]
fn raw_snappy_block_batches_decode() {
    let inputs = sample_inputs();
    let plain = build(Compression::None, &inputs, |b| b);
    let raw = snap::raw::Encoder::new()
        .compress_vec(&plain[RECORD_BATCH_OVERHEAD..])
        .unwrap();
    let wire = rewrap(&plain, Compression::Snappy, &raw);
    let (batch, records) = decode_all(&wire);
    assert_eq!(batch.compression(), Compression::Snappy);
    assert_matches_inputs(&records, &inputs, 0);
}

#[test]
fn lz4_frames_with_linked_blocks_and_checksums_decode() {
    use lz4_flex::frame::{BlockMode, BlockSize, FrameEncoder, FrameInfo};
    use std::io::Write;
    let inputs = sample_inputs();
    let plain = build(Compression::None, &inputs, |b| b);
    let info = FrameInfo::new()
        .block_size(BlockSize::Max256KB)
        .block_mode(BlockMode::Linked)
        .block_checksums(true)
        .content_checksum(true)
        .content_size(Some((plain.len() - RECORD_BATCH_OVERHEAD) as u64));
    let mut encoder = FrameEncoder::with_frame_info(info, Vec::new());
    encoder.write_all(&plain[RECORD_BATCH_OVERHEAD..]).unwrap();
    let frame = encoder.finish().unwrap();
    let (_, records) = decode_all(&rewrap(&plain, Compression::Lz4, &frame));
    assert_matches_inputs(&records, &inputs, 0);
}

#[test]
fn log_append_time_is_applied_to_every_record() {
    let inputs = sample_inputs();
    let (batch, records) = decode_all(&build(Compression::Lz4, &inputs, |b| {
        b.with_log_append_time(1_800_000_000_000)
    }));
    assert_eq!(
        batch.header().timestamp_type(),
        TimestampType::LogAppendTime
    );
    assert_eq!(batch.header().max_timestamp, 1_800_000_000_000);
    assert!(records.iter().all(|r| r.timestamp == 1_800_000_000_000));
}

#[test]
fn explicit_offset_deltas_may_skip_but_not_go_back() {
    let mut builder = RecordBatchBuilder::new(Compression::None);
    builder
        .append_with_offset_delta(0, 1, None, Some(b"a"), &[])
        .unwrap();
    builder
        .append_with_offset_delta(5, 1, None, Some(b"b"), &[])
        .unwrap();
    assert!(builder
        .append_with_offset_delta(5, 1, None, Some(b"c"), &[])
        .is_err());
    builder.append(1, None, Some(b"d"), &[]).unwrap();
    let (batch, records) = decode_all(&builder.build().unwrap());
    assert_eq!(batch.header().last_offset_delta, 6);
    let offsets: Vec<i64> = records.iter().map(|r| r.offset).collect();
    assert_eq!(offsets, [0, 5, 6]);
}

#[test]
fn empty_builder_is_an_error() {
    assert!(RecordBatchBuilder::new(Compression::Gzip).build().is_err());
}

#[test]
fn transaction_markers_round_trip() {
    for committed in [true, false] {
        let marker = EndTransactionMarker {
            committed,
            coordinator_epoch: 17,
        };
        let wire = marker.encode_batch(99, 4, 123_456).unwrap();
        let (batch, records) = decode_all(&wire);
        let header = batch.header();
        assert!(header.is_control() && header.is_transactional());
        assert_eq!((header.producer_id, header.producer_epoch), (99, 4));
        assert_eq!(header.base_sequence, -1);
        assert_eq!(records.len(), 1);
        let expected_type = if committed {
            ControlRecordType::Commit
        } else {
            ControlRecordType::Abort
        };
        assert_eq!(ControlRecordType::of_record(&records[0]), Ok(expected_type));
        assert_eq!(EndTransactionMarker::from_record(&records[0]), Ok(marker));
    }
}

#[test]
fn compressed_control_batches_round_trip() {
    let mut builder = RecordBatchBuilder::new(Compression::Zstd)
        .with_control(true)
        .with_transactional(true);
    let key = ControlRecordType::LeaderChange.encode_key();
    builder.append(1, Some(&key), Some(b"opaque"), &[]).unwrap();
    let (batch, records) = decode_all(&builder.build().unwrap());
    assert!(batch.header().is_control());
    assert_eq!(
        ControlRecordType::of_record(&records[0]),
        Ok(ControlRecordType::LeaderChange)
    );
    assert!(EndTransactionMarker::from_record(&records[0]).is_err());
}

#[test]
fn corrupted_crc_range_is_detected_for_every_byte() {
    let wire = build(Compression::Gzip, &sample_inputs(), |b| b);
    for index in 17..wire.len() {
        let mut corrupted = wire.to_vec();
        corrupted[index] ^= 0x01;
        let result = RecordBatch::decode(&mut Bytes::from(corrupted));
        assert!(
            matches!(result, Err(DecodeError::CrcMismatch { .. })),
            "flipped byte {index}: {result:?}"
        );
    }
}

#[test]
fn base_offset_and_leader_epoch_can_be_patched_without_breaking_the_crc() {
    let wire = build(Compression::Snappy, &sample_inputs(), |b| b);
    let mut patched = wire.to_vec();
    set_base_offset(&mut patched, 5_000).unwrap();
    set_partition_leader_epoch(&mut patched, 9).unwrap();
    let (batch, records) = decode_all(&Bytes::from(patched));
    assert_eq!(batch.header().base_offset, 5_000);
    assert_eq!(batch.header().partition_leader_epoch, 9);
    assert_eq!(records[2].offset, 5_002);
    assert!(set_base_offset(&mut [0u8; 7], 1).is_err());
}

#[test]
fn truncation_at_every_position_is_an_error_and_a_partial_batch() {
    for codec in CODECS {
        let wire = build(codec, &sample_inputs(), |b| b);
        for len in 0..wire.len() {
            let cut = wire.slice(..len);
            assert!(
                RecordBatch::decode(&mut cut.clone()).is_err(),
                "{codec} cut at {len}"
            );
            let set = RecordSet::decode(cut).unwrap();
            assert!(set.batches.is_empty());
            assert_eq!(set.partial.is_some(), len > 0, "{codec} cut at {len}");
            if let Some(partial) = set.partial {
                assert_eq!(partial.available, len);
                if len >= 12 {
                    assert_eq!(partial.batch_size, Some(wire.len()));
                }
            }
        }
    }
}

#[test]
fn corrupted_bytes_without_crc_check_never_panic() {
    // With the CRC check off, every field reaches the parsers; flip each byte to a few values.
    let options = DecodeOptions::default()
        .with_verify_crc(false)
        .with_max_decompressed_size(1 << 20);
    for codec in CODECS {
        let wire = build(codec, &sample_inputs(), |b| b);
        for index in 0..wire.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut corrupted = wire.to_vec();
                corrupted[index] ^= mask;
                if let Ok(batch) = RecordBatch::decode_with(&mut Bytes::from(corrupted), &options) {
                    for record in batch.records() {
                        let _ = record;
                    }
                }
            }
        }
    }
}

#[test]
fn record_set_with_several_batches_and_a_partial_tail() {
    let inputs = sample_inputs();
    let first = build(Compression::None, &inputs, |b| b.with_base_offset(0));
    let second = build(Compression::Zstd, &inputs, |b| b.with_base_offset(3));
    let third = build(Compression::Gzip, &inputs, |b| b.with_base_offset(6));
    let mut data = Vec::new();
    data.extend_from_slice(&first);
    data.extend_from_slice(&second);
    data.extend_from_slice(&third[..third.len() - 10]);
    let set = RecordSet::decode(Bytes::from(data)).unwrap();
    assert_eq!(set.batches.len(), 2);
    assert_eq!(set.batches[1].header().base_offset, 3);
    let partial = set.partial.unwrap();
    assert_eq!(partial.base_offset, Some(6));
    assert_eq!(partial.batch_size, Some(third.len()));
    assert_eq!(partial.available, third.len() - 10);

    assert_eq!(
        RecordSet::decode(Bytes::new()).unwrap(),
        RecordSet::default()
    );
}

#[test]
fn record_set_rejects_old_magic_and_bad_lengths() {
    let wire = build(Compression::None, &sample_inputs(), |b| b);
    let mut old = wire.to_vec();
    old[16] = 1;
    assert!(RecordSet::decode(Bytes::from(old.clone())).is_err());
    assert!(RecordBatch::decode(&mut Bytes::from(old)).is_err());
    let mut short = wire.to_vec();
    short[8..12].copy_from_slice(&10i32.to_be_bytes());
    assert!(matches!(
        RecordSet::decode(Bytes::from(short)),
        Err(DecodeError::InvalidLength { .. })
    ));
    let mut negative = wire.to_vec();
    negative[8..12].copy_from_slice(&(-5i32).to_be_bytes());
    assert!(RecordBatch::decode(&mut Bytes::from(negative)).is_err());
}

#[test]
fn unknown_codec_id_is_rejected() {
    let plain = build(Compression::None, &sample_inputs(), |b| b);
    let mut payload_codec7 = plain.to_vec();
    payload_codec7[22] |= 0x07;
    let crc = crc32c(&payload_codec7[21..]);
    payload_codec7[17..21].copy_from_slice(&crc.to_be_bytes());
    assert!(matches!(
        RecordBatch::decode(&mut Bytes::from(payload_codec7)),
        Err(DecodeError::Invalid { .. })
    ));
}

#[test]
fn lying_record_count_is_rejected_before_iteration() {
    let plain = build(Compression::None, &sample_inputs(), |b| b);
    let mut lie = plain.to_vec();
    lie[57..61].copy_from_slice(&i32::MAX.to_be_bytes());
    let crc = crc32c(&lie[21..]);
    lie[17..21].copy_from_slice(&crc.to_be_bytes());
    assert!(matches!(
        RecordBatch::decode(&mut Bytes::from(lie)),
        Err(DecodeError::InvalidLength {
            field: "RecordBatch.recordsCount",
            ..
        })
    ));
}

#[test]
fn zip_bomb_hits_the_decompression_cap() {
    let bomb = vec![0u8; 4 << 20];
    for codec in [
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ] {
        let mut builder = RecordBatchBuilder::new(codec);
        builder.append(0, None, Some(&bomb), &[]).unwrap();
        let wire = builder.build().unwrap();
        assert!(
            wire.len() < bomb.len() / 10,
            "{codec} should compress zeros"
        );
        let capped = DecodeOptions::default().with_max_decompressed_size(1 << 20);
        assert!(
            matches!(
                RecordBatch::decode_with(&mut wire.clone(), &capped),
                Err(DecodeError::TooLarge { limit, .. }) if limit == 1 << 20
            ),
            "{codec}"
        );
        // Within the default cap the same batch is fine.
        let (_, records) = decode_all(&wire);
        assert_eq!(records[0].value.as_ref().map(Bytes::len), Some(bomb.len()));
    }
}

fn header_strategy() -> impl Strategy<Value = RecordHeader> {
    (
        "[a-zA-Z0-9é_-]{0,12}",
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..16)),
    )
        .prop_map(|(key, value)| RecordHeader::new(key, value.map(Bytes::from)))
}

fn input_strategy() -> impl Strategy<Value = Input> {
    (
        -1_000_000i64..1_000_000,
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..512)),
        proptest::collection::vec(header_strategy(), 0..4),
    )
        .prop_map(|(delta, key, value, headers)| Input {
            timestamp: 1_700_000_000_000 + delta,
            key,
            value,
            headers,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_batches_round_trip(
        inputs in proptest::collection::vec(input_strategy(), 1..40),
        codec in proptest::sample::select(CODECS.to_vec()),
        producer_id in -1i64..i64::MAX,
        producer_epoch in -1i16..i16::MAX,
        base_sequence in -1i32..i32::MAX,
        transactional in any::<bool>(),
        base_offset in 0i64..(1 << 40),
    ) {
        let wire = build(codec, &inputs, |b| {
            b.with_producer(producer_id, producer_epoch, base_sequence)
                .with_transactional(transactional)
                .with_base_offset(base_offset)
        });
        let (batch, records) = decode_all(&wire);
        let header = batch.header();
        prop_assert_eq!(batch.compression(), codec);
        prop_assert_eq!(header.is_transactional(), transactional);
        prop_assert_eq!(header.producer_id, producer_id);
        prop_assert_eq!(header.producer_epoch, producer_epoch);
        prop_assert_eq!(header.base_sequence, base_sequence);
        prop_assert_eq!(
            header.max_timestamp,
            inputs.iter().map(|i| i.timestamp).max().unwrap()
        );
        assert_matches_inputs(&records, &inputs, base_offset);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..256)) {
        let options = DecodeOptions::default().with_verify_crc(false);
        if let Ok(set) = RecordSet::decode_with(Bytes::from(data), options) {
            for batch in set.batches {
                for record in batch.records() {
                    let _ = record;
                }
            }
        }
    }
}

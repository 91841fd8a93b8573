use bytes::{Bytes, BytesMut};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ours::records::{Compression, RecordBatch, RecordBatchBuilder, RecordHeader};
use peer::protocol::StrBytes;
use peer::records as p;

const RECORDS: usize = 100;
fn lcg(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *state >> 33
}

/// JSON-like event payloads of exactly `len` bytes: repeated field names with random values,
/// which compress about as well as typical application records.
fn payload(len: usize, seed: u64) -> Vec<u8> {
    const EVENTS: [&str; 4] = ["click", "view", "purchase", "logout"];
    let mut state = seed;
    let mut out = Vec::with_capacity(len + 128);
    while out.len() < len {
        let event = EVENTS[(lcg(&mut state) % 4) as usize];
        let line = format!(
            "{{\"user\":\"user-{:05}\",\"event\":\"{event}\",\"ts\":{},\"amount\":{}.{:02}}}",
            lcg(&mut state) % 100_000,
            1_700_000_000_000 + lcg(&mut state) % 1_000_000,
            lcg(&mut state) % 1000,
            lcg(&mut state) % 100,
        );
        out.extend_from_slice(line.as_bytes());
    }
    out.truncate(len);
    out
}

fn codecs() -> [(Compression, p::Compression); 5] {
    [
        (Compression::None, p::Compression::None),
        (Compression::Gzip, p::Compression::Gzip),
        (Compression::Snappy, p::Compression::Snappy),
        (Compression::Lz4, p::Compression::Lz4),
        (Compression::Zstd, p::Compression::Zstd),
    ]
}

fn bench(c: &mut Criterion) {
    for (label, len) in [("100B", 100usize), ("1KiB", 1024)] {
        let keys: Vec<Vec<u8>> = (0..RECORDS)
            .map(|i| format!("key-{i:06}").into_bytes())
            .collect();
        let values: Vec<Vec<u8>> = (0..RECORDS).map(|i| payload(len, i as u64)).collect();
        let headers = vec![RecordHeader::new(
            "content-type",
            Some(Bytes::from_static(b"application/json")),
        )];
        let peer_records: Vec<p::Record> = (0..RECORDS)
            .map(|i| {
                let mut h = indexmap::IndexMap::new();
                h.insert(
                    StrBytes::from_static_str("content-type"),
                    Some(Bytes::from_static(b"application/json")),
                );
                p::Record {
                    transactional: false,
                    control: false,
                    delete_horizon: false,
                    partition_leader_epoch: -1,
                    producer_id: 1,
                    producer_epoch: 0,
                    timestamp_type: p::TimestampType::Creation,
                    offset: i as i64,
                    sequence: i as i32,
                    timestamp: 1_700_000_000_000 + i as i64,
                    key: Some(Bytes::from(keys[i].clone())),
                    value: Some(Bytes::from(values[i].clone())),
                    headers: h,
                }
            })
            .collect();
        let bytes: u64 = values.iter().map(|v| v.len() as u64).sum();
        let ours_encode = |codec: Compression| {
            let mut b = RecordBatchBuilder::new(codec).with_producer(1, 0, 0);
            for i in 0..RECORDS {
                b.append(
                    1_700_000_000_000 + i as i64,
                    Some(&keys[i]),
                    Some(&values[i]),
                    &headers,
                )
                .unwrap();
            }
            b.build().unwrap()
        };
        let peer_encode = |codec: p::Compression| {
            let mut buf = BytesMut::new();
            p::RecordBatchEncoder::encode(
                &mut buf,
                &peer_records,
                &p::RecordEncodeOptions {
                    version: 2,
                    compression: codec,
                },
            )
            .unwrap();
            buf.freeze()
        };
        let mut g = c.benchmark_group(format!("encode/{label}x{RECORDS}"));
        g.throughput(Throughput::Bytes(bytes));
        for (ours, peer) in codecs() {
            g.bench_function(BenchmarkId::new("ours", ours), |b| {
                b.iter(|| ours_encode(black_box(ours)))
            });
            g.bench_function(BenchmarkId::new("peer", ours), |b| {
                b.iter(|| peer_encode(black_box(peer)))
            });
        }
        g.finish();
        let mut g = c.benchmark_group(format!("decode/{label}x{RECORDS}"));
        g.throughput(Throughput::Bytes(bytes));
        for (ours, peer) in codecs() {
            // Each decoder reads the other's output too: a cross-implementation interop check.
            let wire_ours = ours_encode(ours);
            let wire_peer = peer_encode(peer);
            let cross = RecordBatch::decode(&mut wire_peer.clone()).unwrap();
            assert_eq!(cross.records().count(), RECORDS);
            for r in cross.records() {
                let r = r.unwrap();
                assert_eq!(r.headers.len(), 1);
            }
            let back = p::RecordBatchDecoder::decode(&mut wire_ours.clone()).unwrap();
            assert_eq!(back.records.len(), RECORDS);
            assert_eq!(back.records[7].value.as_deref(), Some(&values[7][..]));
            g.bench_function(BenchmarkId::new("ours", ours), |b| {
                b.iter(|| {
                    let batch = RecordBatch::decode(&mut black_box(&wire_ours).clone()).unwrap();
                    batch
                        .records()
                        .map(|r| r.unwrap().value.map_or(0, |v| v.len()))
                        .sum::<usize>()
                })
            });
            g.bench_function(BenchmarkId::new("peer", ours), |b| {
                b.iter(|| {
                    let set =
                        p::RecordBatchDecoder::decode(&mut black_box(&wire_peer).clone()).unwrap();
                    set.records
                        .iter()
                        .map(|r| r.value.as_ref().map_or(0, |v| v.len()))
                        .sum::<usize>()
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Record batch encode/decode for each codec, and CRC32C throughput.
//!
//! Run briefly with
//! `cargo bench -p kafka-protocol --bench records -- --warm-up-time 1 --measurement-time 3`.

use bytes::Bytes;
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kafka_protocol::records::{crc32c, Compression, RecordBatch, RecordBatchBuilder, RecordHeader};

/// Records per batch.
const RECORDS: usize = 100;

const CODECS: [Compression; 5] = [
    Compression::None,
    Compression::Gzip,
    Compression::Snappy,
    Compression::Lz4,
    Compression::Zstd,
];

/// A pseudo-random number stream (an LCG), so runs are repeatable without a rand dependency.
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

struct Workload {
    keys: Vec<Vec<u8>>,
    values: Vec<Vec<u8>>,
    headers: Vec<RecordHeader>,
}

impl Workload {
    fn new(value_len: usize) -> Self {
        Workload {
            keys: (0..RECORDS)
                .map(|i| format!("key-{i:06}").into_bytes())
                .collect(),
            values: (0..RECORDS).map(|i| payload(value_len, i as u64)).collect(),
            headers: vec![RecordHeader::new(
                "content-type",
                Some(Bytes::from_static(b"application/json")),
            )],
        }
    }

    fn value_bytes(&self) -> u64 {
        self.values.iter().map(|v| v.len() as u64).sum()
    }

    fn encode(&self, codec: Compression) -> Bytes {
        self.encode_into(RecordBatchBuilder::new(codec))
    }

    fn encode_into(&self, builder: RecordBatchBuilder) -> Bytes {
        let mut builder = builder.with_producer(1, 0, 0);
        for (index, (key, value)) in self.keys.iter().zip(&self.values).enumerate() {
            builder
                .append(
                    1_700_000_000_000 + index as i64,
                    Some(key),
                    Some(value),
                    &self.headers,
                )
                .expect("append");
        }
        builder.build().expect("build")
    }
}

fn decode_and_walk(wire: &Bytes) -> usize {
    let batch = RecordBatch::decode(&mut wire.clone()).expect("decode");
    batch
        .records()
        .map(|record| record.expect("record").value.map_or(0, |v| v.len()))
        .sum()
}

fn batches(c: &mut Criterion) {
    for (label, value_len) in [("100B", 100), ("1KiB", 1024)] {
        let workload = Workload::new(value_len);
        let mut encode = c.benchmark_group(format!("encode/{label}x{RECORDS}"));
        encode.throughput(Throughput::Bytes(workload.value_bytes()));
        for codec in CODECS {
            encode.bench_function(BenchmarkId::from_parameter(codec), |b| {
                b.iter(|| workload.encode(black_box(codec)))
            });
        }
        // A producer knows its batch.size; reserving it up front skips the buffer's regrowth.
        let presized = workload.encode(Compression::None).len();
        encode.bench_function(BenchmarkId::from_parameter("none-presized"), |b| {
            b.iter(|| {
                workload.encode_into(RecordBatchBuilder::with_capacity(
                    Compression::None,
                    black_box(presized),
                ))
            })
        });
        encode.finish();

        let mut decode = c.benchmark_group(format!("decode/{label}x{RECORDS}"));
        decode.throughput(Throughput::Bytes(workload.value_bytes()));
        for codec in CODECS {
            let wire = workload.encode(codec);
            eprintln!(
                "{label}x{RECORDS} {codec}: {} bytes on the wire for {} value bytes",
                wire.len(),
                workload.value_bytes()
            );
            decode.bench_function(BenchmarkId::from_parameter(codec), |b| {
                b.iter(|| decode_and_walk(black_box(&wire)))
            });
        }
        decode.finish();
    }
}

fn checksums(c: &mut Criterion) {
    let mut group = c.benchmark_group("crc32c");
    for len in [1024usize, 64 * 1024, 1024 * 1024] {
        let data = payload(len, 7);
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_function(BenchmarkId::from_parameter(len), |b| {
            b.iter(|| crc32c(black_box(&data)))
        });
    }
    group.finish();
}

criterion_group!(benches, batches, checksums);
criterion_main!(benches);

//! Produces N records to a topic and prints how many were acknowledged.
//!
//! ```text
//! cargo run --release --example produce -- --bootstrap HOST:PORT --topic T --count N \
//!     [--keyed] [--acks 0|1|all] [--compression none|gzip|snappy|lz4|zstd] [--value-size BYTES]
//! ```
//!
//! With `--keyed`, record i has key `key-i` (so it lands where a Java producer would put it).
//! With acks 0 or 1, idempotence is turned off (it needs acks=all, as in Java).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use kafka_sdk::producer::{Acks, Producer, ProducerConfig, ProducerRecord};
use kafka_sdk::protocol::records::Compression;
use kafka_sdk::protocol::TopicName;

struct Args {
    bootstrap: String,
    topic: String,
    count: u64,
    keyed: bool,
    acks: Acks,
    compression: Compression,
    value_size: usize,
}

fn parse() -> Result<Args, String> {
    let mut bootstrap = None;
    let mut topic = None;
    let mut count = None;
    let mut keyed = false;
    let mut acks = Acks::All;
    let mut compression = Compression::None;
    let mut value_size = 100usize;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--bootstrap" => bootstrap = Some(value()?),
            "--topic" => topic = Some(value()?),
            "--count" => {
                count = Some(
                    value()?
                        .parse()
                        .map_err(|_| "--count takes a number".to_string())?,
                )
            }
            "--keyed" => keyed = true,
            "--acks" => {
                acks = match value()?.as_str() {
                    "0" => Acks::None,
                    "1" => Acks::Leader,
                    "all" | "-1" => Acks::All,
                    other => return Err(format!("--acks {other}: expected 0, 1 or all")),
                }
            }
            "--compression" => {
                let name = value()?;
                compression = Compression::from_name(&name).ok_or(format!(
                    "--compression {name}: expected none, gzip, snappy, lz4 or zstd"
                ))?;
            }
            "--value-size" => {
                value_size = value()?
                    .parse()
                    .map_err(|_| "--value-size takes a number of bytes".to_string())?
            }
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(Args {
        bootstrap: bootstrap.ok_or("--bootstrap is required")?,
        topic: topic.ok_or("--topic is required")?,
        count: count.ok_or("--count is required")?,
        keyed,
        acks,
        compression,
        value_size,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("produce: {e}");
            }
            eprintln!("usage: produce --bootstrap HOST:PORT --topic T --count N [--keyed] [--acks 0|1|all] [--compression none|gzip|snappy|lz4|zstd] [--value-size BYTES]");
            return ExitCode::from(2);
        }
    };
    let config = ProducerConfig::new(&args.bootstrap)
        .with_acks(args.acks)
        .with_idempotence(args.acks == Acks::All)
        .with_compression(args.compression);
    let producer = match Producer::new(config).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("produce: {e}");
            return ExitCode::FAILURE;
        }
    };
    let value = bytes::Bytes::from(vec![b'x'; args.value_size]);
    // One topic name for every record: cloning it is a reference count, not an allocation.
    let topic = TopicName::from(args.topic.as_str());
    let started = Instant::now();
    // Await deliveries in windows so memory stays bounded for any --count.
    let mut pending = std::collections::VecDeque::new();
    let (mut acked, mut failed) = (0u64, 0u64);
    for i in 0..args.count {
        let mut record = ProducerRecord::new(topic.clone()).with_value(value.clone());
        if args.keyed {
            record = record.with_key(format!("key-{i}"));
        }
        match producer.send(record).await {
            Ok(f) => pending.push_back(f),
            Err(e) => {
                eprintln!("produce: record {i}: {e}");
                failed += 1;
            }
        }
        while pending.len() > 100_000 {
            if let Some(f) = pending.pop_front() {
                match f.await {
                    Ok(_) => acked += 1,
                    Err(_) => failed += 1,
                }
            }
        }
    }
    for f in pending {
        match f.await {
            Ok(_) => acked += 1,
            Err(e) => {
                if failed == 0 {
                    eprintln!("produce: {e}");
                }
                failed += 1;
            }
        }
    }
    producer.close(Duration::from_secs(30)).await;
    let secs = started.elapsed().as_secs_f64();
    println!("{acked} records acknowledged");
    eprintln!(
        "{failed} failed; {:.0} records/s over {secs:.2} s",
        acked as f64 / secs.max(1e-9)
    );
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

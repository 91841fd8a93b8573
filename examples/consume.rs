//! Consumes N records from a topic and prints one line per record: `partition offset key value`.
//!
//! ```text
//! cargo run --release --example consume -- --bootstrap HOST:PORT --topic T [--group G] --count N \
//!     [--from-beginning]
//! ```
//!
//! With `--group`, the consumer joins that group (subscribe mode) and commits what it printed;
//! without, it reads every partition of the topic (assign mode).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use kafka_sdk::consumer::{Consumer, ConsumerConfig, OffsetReset};
use kafka_sdk::protocol::TopicName;

struct Args {
    bootstrap: String,
    topic: String,
    group: Option<String>,
    count: u64,
    from_beginning: bool,
}

fn parse() -> Result<Args, String> {
    let (mut bootstrap, mut topic, mut group, mut count, mut from_beginning) =
        (None, None, None, None, false);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--bootstrap" => bootstrap = Some(value()?),
            "--topic" => topic = Some(value()?),
            "--group" => group = Some(value()?),
            "--count" => {
                count = Some(
                    value()?
                        .parse()
                        .map_err(|_| "--count takes a number".to_string())?,
                )
            }
            "--from-beginning" => from_beginning = true,
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(Args {
        bootstrap: bootstrap.ok_or("--bootstrap is required")?,
        topic: topic.ok_or("--topic is required")?,
        group,
        count: count.ok_or("--count is required")?,
        from_beginning,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("consume: {e}");
            }
            eprintln!("usage: consume --bootstrap HOST:PORT --topic T [--group G] --count N [--from-beginning]");
            return ExitCode::from(2);
        }
    };
    let reset = if args.from_beginning {
        OffsetReset::Earliest
    } else {
        OffsetReset::Latest
    };
    let mut config = ConsumerConfig::new(&args.bootstrap).with_auto_offset_reset(reset);
    if let Some(g) = &args.group {
        config = config.with_group_id(g.as_str());
    }
    let mut consumer = match Consumer::new(config).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("consume: {e}");
            return ExitCode::FAILURE;
        }
    };
    let topic = TopicName::from(args.topic.as_str());
    if args.group.is_some() {
        if let Err(e) = consumer.subscribe([topic.clone()]) {
            eprintln!("consume: {e}");
            return ExitCode::FAILURE;
        }
    } else {
        if let Err(e) = consumer
            .client()
            .refresh_metadata(std::slice::from_ref(&topic), false)
            .await
        {
            eprintln!("consume: {e}");
            return ExitCode::FAILURE;
        }
        let partitions = consumer
            .client()
            .metadata()
            .topic(&topic)
            .map_or(0, |t| t.partitions.len() as i32);
        consumer.assign((0..partitions).map(|p| (topic.clone(), p)));
    }
    let mut printed = 0u64;
    let mut idle_since = Instant::now();
    while printed < args.count {
        let records = match consumer.poll(Duration::from_millis(500)).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("consume: {e}");
                return ExitCode::FAILURE;
            }
        };
        if records.is_empty() && idle_since.elapsed() > Duration::from_secs(30) {
            eprintln!(
                "consume: no records for 30 s; {printed} of {} printed",
                args.count
            );
            break;
        }
        for r in records.iter().take((args.count - printed) as usize) {
            let text = |b: &Option<bytes::Bytes>| {
                String::from_utf8_lossy(b.as_deref().unwrap_or_default()).into_owned()
            };
            println!(
                "{} {} {} {}",
                r.partition,
                r.offset,
                text(&r.key),
                text(&r.value)
            );
            printed += 1;
            idle_since = Instant::now();
        }
        if args.group.is_some() && !records.is_empty() {
            if let Err(e) = consumer.commit_sync().await {
                eprintln!("consume: commit: {e}");
            }
        }
    }
    consumer.close(Duration::from_secs(5)).await;
    if printed == args.count {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

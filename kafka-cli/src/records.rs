//! `kfk produce` and `kfk consume`.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal};
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use kafka_consumer::{Consumer, ConsumerRecord};
use kafka_producer::{Producer, ProducerRecord};
use kafka_protocol::TopicName;
use serde_json::json;

use crate::output::{say, Output};
use crate::settings::{pairs, Settings};
use crate::{Failure, Outcome};

#[derive(Debug, Args)]
pub struct ProduceArgs {
    /// The topic.
    topic: String,
    /// Split each line into key and value at the first SEP.
    #[arg(short = 'k', long = "key-separator", value_name = "SEP")]
    key_separator: Option<String>,
    /// A header on every record (repeatable).
    #[arg(short = 'H', long = "header", value_name = "KEY=VALUE")]
    headers: Vec<String>,
    /// Write every record to this partition.
    #[arg(long)]
    partition: Option<i32>,
    /// acks: 0, 1 or all.
    #[arg(long, default_value = "all")]
    acks: String,
    /// Compression: none, gzip, snappy, lz4 or zstd.
    #[arg(long, default_value = "none")]
    compression: String,
}

#[derive(Debug, Args)]
pub struct ConsumeArgs {
    /// The topic.
    topic: String,
    /// Consume as a member of this group, committing as it goes.
    #[arg(long)]
    group: Option<String>,
    /// Start at the beginning where there is no committed offset (else at the end).
    #[arg(long)]
    from_beginning: bool,
    /// Stop after this many records.
    #[arg(long)]
    pub count: Option<u64>,
    /// Stop at the end of the partitions (as they were when consuming began).
    #[arg(short = 'e', long = "exit")]
    pub exit_at_end: bool,
    /// How to print each record: %t topic, %p partition, %o offset, %k key, %v value,
    /// %h headers, %T timestamp, \n, \t, %%.
    #[arg(long, default_value = "%v")]
    format: String,
}

/// A progress bar on stderr when it is a terminal; none otherwise.
fn progress(what: &str) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) =
        ProgressStyle::with_template(&format!("{{spinner}} {what} {{pos}} records ({{per_sec}})"))
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}

pub async fn produce(args: ProduceArgs, s: &Settings) -> Outcome {
    let mut extra = vec![
        ("acks", args.acks.clone()),
        ("compression.type", args.compression.clone()),
    ];
    // As in Java, idempotence is on by default only where nothing conflicts with it: acks 0
    // or 1 turns it off unless the user asked for it.
    let asked = s.properties.iter().any(|(k, _)| k == "enable.idempotence");
    if !matches!(args.acks.as_str(), "all" | "-1") && !asked {
        extra.push(("enable.idempotence", "false".to_string()));
    }
    let producer = Producer::new(s.producer_config(&extra)?).await?;
    let headers = pairs(&args.headers, "-H")?;
    let bar = progress("produced");
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<String>>(1024);
    // stdin is read on a blocking thread so that deliveries keep completing meanwhile.
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    let mut pending = std::collections::VecDeque::new();
    let mut sent = 0u64;
    let mut by_partition: BTreeMap<i32, u64> = BTreeMap::new();
    while let Some(line) = rx.recv().await {
        let line = line.map_err(|e| Failure(format!("reading stdin: {e}")))?;
        let (key, value) = match &args.key_separator {
            Some(sep) => match line.split_once(sep.as_str()) {
                Some((k, v)) => (Some(k.to_string()), v.to_string()),
                None => (None, line.clone()),
            },
            None => (None, line.clone()),
        };
        let mut record = ProducerRecord::new(args.topic.as_str()).with_value(value);
        if let Some(k) = key {
            record = record.with_key(k);
        }
        if let Some(p) = args.partition {
            record = record.with_partition(p);
        }
        for (k, v) in &headers {
            record = record.with_header(k.clone(), v.clone());
        }
        pending.push_back(producer.send(record).await?);
        sent += 1;
        // Bound what is awaited at once; deliveries complete in order per partition anyway.
        while pending.len() > 10_000 {
            if let Some(d) = pending.pop_front() {
                *by_partition.entry(d.await?.partition).or_default() += 1;
            }
        }
        if let Some(b) = &bar {
            b.set_position(sent);
        }
    }
    for d in pending {
        *by_partition.entry(d.await?.partition).or_default() += 1;
    }
    producer.close(Duration::from_secs(10)).await;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    say(
        s.output,
        &json!({"topic": args.topic, "records": sent, "partitions": by_partition}),
        &format!("produced {sent} records to {}", args.topic),
    );
    Ok(())
}

/// What `--format` can show of a record.
struct View<'a> {
    topic: &'a str,
    partition: i32,
    offset: i64,
    timestamp: i64,
    key: Option<&'a [u8]>,
    value: Option<&'a [u8]>,
    headers: Vec<(&'a str, Option<&'a [u8]>)>,
}

impl<'a> View<'a> {
    fn of(r: &'a ConsumerRecord) -> View<'a> {
        View {
            topic: &r.topic,
            partition: r.partition,
            offset: r.offset,
            timestamp: r.timestamp,
            key: r.key.as_deref(),
            value: r.value.as_deref(),
            headers: r
                .headers
                .iter()
                .map(|h| (h.key(), h.value.as_deref()))
                .collect(),
        }
    }
}

/// Renders one record with `format`.
fn render(format: &str, r: &View<'_>) -> String {
    let text = |b: Option<&[u8]>| {
        b.map(String::from_utf8_lossy)
            .map(|c| c.into_owned())
            .unwrap_or_default()
    };
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' => match chars.next() {
                Some('t') => out.push_str(r.topic),
                Some('p') => out.push_str(&r.partition.to_string()),
                Some('o') => out.push_str(&r.offset.to_string()),
                Some('k') => out.push_str(&text(r.key)),
                Some('v') => out.push_str(&text(r.value)),
                Some('T') => out.push_str(&r.timestamp.to_string()),
                Some('h') => out.push_str(
                    &r.headers
                        .iter()
                        .map(|(k, v)| format!("{k}={}", text(*v)))
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                Some('%') => out.push('%'),
                Some(other) => {
                    out.push('%');
                    out.push(other);
                }
                None => out.push('%'),
            },
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

pub async fn consume(args: ConsumeArgs, s: &Settings) -> Outcome {
    let reset = if args.from_beginning {
        "earliest"
    } else {
        "latest"
    };
    let mut extra = vec![
        ("auto.offset.reset", reset.to_string()),
        ("enable.auto.commit", "false".to_string()),
    ];
    if let Some(g) = &args.group {
        extra.push(("group.id", g.clone()));
    }
    let mut consumer = Consumer::new(s.consumer_config(&extra)?).await?;
    let topic = TopicName::from(args.topic.as_str());
    let admin = s.admin().await?;
    let described = admin
        .describe_topics(std::slice::from_ref(&args.topic))
        .await?;
    let partitions = match described.get(&args.topic) {
        Some(Ok(d)) => d
            .partitions
            .iter()
            .map(|p| (topic.clone(), p.partition))
            .collect::<Vec<_>>(),
        Some(Err(e)) if e.code() == Some(kafka_protocol::ErrorCode::UnknownTopicOrPartition) => {
            return Err(Failure(format!("unknown topic {}", args.topic)))
        }
        Some(Err(e)) => return Err(Failure(format!("topic {}: {e}", args.topic))),
        None => return Err(Failure(format!("topic {}: no answer", args.topic))),
    };
    if args.group.is_some() {
        consumer.subscribe([topic.clone()])?;
    } else {
        consumer.assign(partitions.clone());
        if args.from_beginning {
            consumer.seek_to_beginning(&partitions).await?;
        } else {
            consumer.seek_to_end(&partitions).await?;
        }
    }
    // With -e, where each partition ends now.
    let ends: BTreeMap<(TopicName, i32), i64> = if args.exit_at_end {
        consumer
            .end_offsets(&partitions)
            .await?
            .into_iter()
            .collect()
    } else {
        BTreeMap::new()
    };
    let bar = progress("consumed");
    let json = s.output == Output::Json;
    let mut count = 0u64;
    let mut stdout = std::io::stdout().lock();
    'outer: loop {
        if let Some(max) = args.count {
            if count >= max {
                break;
            }
        }
        if args.exit_at_end {
            let assigned = consumer.assignment();
            let done = !assigned.is_empty()
                && partitions.iter().all(|tp| {
                    let end = ends.get(tp).copied().unwrap_or(0);
                    // A partition another member holds is its business; one with nothing to
                    // read is done.
                    !assigned.contains(tp)
                        || end == 0
                        || consumer.position(&tp.0, tp.1).is_some_and(|p| p >= end)
                });
            if done {
                break;
            }
        }
        let batch = consumer.poll(Duration::from_millis(200)).await?;
        for r in &batch {
            if args.exit_at_end
                && ends
                    .get(&(r.topic.clone(), r.partition))
                    .is_some_and(|end| r.offset >= *end)
            {
                continue;
            }
            let line = if json {
                let text = |b: &Option<bytes::Bytes>| {
                    b.as_deref()
                        .map(|v| String::from_utf8_lossy(v).into_owned())
                };
                json!({
                    "topic": r.topic.as_str(), "partition": r.partition, "offset": r.offset,
                    "timestamp": r.timestamp, "key": text(&r.key), "value": text(&r.value),
                    "headers": r.headers.iter().map(|h| (h.key().to_string(), text(&h.value))).collect::<BTreeMap<_, _>>(),
                })
                .to_string()
            } else {
                render(&args.format, &View::of(r))
            };
            use std::io::Write;
            if writeln!(stdout, "{line}").is_err() {
                break 'outer; // a closed pipe (| head) ends the run
            }
            count += 1;
            if let Some(b) = &bar {
                b.set_position(count);
            }
            if args.count.is_some_and(|max| count >= max) {
                break;
            }
        }
        if args.group.is_some() && !batch.is_empty() {
            consumer.commit_sync().await?;
        }
    }
    drop(stdout);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if args.group.is_some() {
        consumer.commit_sync().await?;
    }
    consumer.close(Duration::from_secs(5)).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_take_every_field_and_escape() {
        let r = View {
            topic: "t",
            partition: 2,
            offset: 7,
            timestamp: 99,
            key: Some(b"k"),
            value: None,
            headers: vec![("h", Some(b"1")), ("n", None)],
        };
        assert_eq!(
            render("%t/%p@%o %k=%v %T %h %%\\t|%x", &r),
            "t/2@7 k= 99 h=1,n= %\t|%x"
        );
    }
}

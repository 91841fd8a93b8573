//! `real-kafka`: start Apache Kafka (KRaft) from Maven Central's jars for manual testing.
//!
//! Prints `bootstrap: 127.0.0.1:PORT[,...]` once every node answers Metadata, then reads commands
//! on stdin (`kill N`, `restart N`, `stop`) and stops every node cleanly at `stop`, at end of
//! input, or when interrupted (the nodes watch this process and stop with it).

use std::io::{BufRead, Write};
use std::process::ExitCode;

use kafka_testkit::real_kafka::{self, RealKafka, RealKafkaConfig};

const HELP: &str = "\
real-kafka: run Apache Kafka (KRaft) from Maven Central for tests

USAGE:
    tools/real-kafka/real-kafka [--version VERSION|newest|pinned] [--nodes N] [--set KEY=VALUE]...

OPTIONS:
    --version <V>   A Kafka release such as 4.4.0 or 3.9.2; `newest` is the newest 4.x on Maven
                    Central that resolves; `pinned` is tools/real-kafka/VERSION [default: newest]
    --nodes <N>     Nodes, each a broker and a controller, ids 1..N [default: 1]
    --set <K=V>     A broker property for every node (repeatable)
    --resolve-only  Resolve and cache the jars, print their directory, and exit
    --tools         With --resolve-only: kafka-tools' jars (TopicCommand, ConfigCommand,
                    AclCommand, ...) instead of the broker's
    -h, --help      Print this help

Prints `bootstrap: 127.0.0.1:PORT,...` and then accepts `kill N`, `restart N` and `stop` on
stdin. Jars are cached under $KAFKA_SDK_CACHE (default ~/.cache/kafka-sdk).
";

fn main() -> ExitCode {
    let mut version = "newest".to_string();
    let mut nodes = 1usize;
    let mut props = Vec::new();
    let mut resolve_only = false;
    let mut tools = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{HELP}");
                return ExitCode::SUCCESS;
            }
            "--version" => match args.next() {
                Some(v) => version = v,
                None => return usage("--version needs a value"),
            },
            "--nodes" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) if n >= 1 => nodes = n,
                _ => return usage("--nodes needs a number of at least 1"),
            },
            "--set" => match args.next().as_deref().and_then(|kv| kv.split_once('=')) {
                Some((k, v)) => props.push((k.to_string(), v.to_string())),
                None => return usage("--set needs KEY=VALUE"),
            },
            "--resolve-only" => resolve_only = true,
            "--tools" => tools = true,
            other => return usage(&format!("unknown argument {other}")),
        }
    }
    let version = match version.as_str() {
        "pinned" => real_kafka::pinned_version(),
        "newest" => match real_kafka::newest_release(4) {
            Ok(v) => v,
            Err(e) => return fail(&e),
        },
        v => v.to_string(),
    };
    if resolve_only {
        let lib = if tools {
            real_kafka::kafka_tools_lib(&version)
        } else {
            real_kafka::kafka_lib(&version)
        };
        return match lib {
            Ok(lib) => {
                println!("{version} {}", lib.display());
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        };
    }
    let mut config = RealKafkaConfig::new(nodes).with_version(version);
    for (k, v) in &props {
        config = config.with_property(k, v);
    }
    let kafka = match RealKafka::launch(config) {
        Ok(k) => k,
        Err(e) => return fail(&e),
    };
    println!("bootstrap: {}", kafka.bootstrap());
    let _ = std::io::stdout().flush();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["stop"] => break,
            ["kill", n] => match n.parse() {
                Ok(id) if kafka.address(id).is_some() => {
                    kafka.kill(id);
                    println!("killed {id}");
                }
                _ => println!("error: no node {n}"),
            },
            ["restart", n] => match n.parse() {
                Ok(id) if kafka.address(id).is_some() => {
                    kafka.restart(id);
                    println!("restarted {id}");
                }
                _ => println!("error: no node {n}"),
            },
            [] => {}
            _ => println!("error: commands are `kill N`, `restart N` and `stop`"),
        }
        let _ = std::io::stdout().flush();
    }
    kafka.stop();
    println!("stopped");
    ExitCode::SUCCESS
}

fn usage(message: &str) -> ExitCode {
    eprintln!("real-kafka: {message} (see --help)");
    ExitCode::from(2)
}

fn fail(message: &str) -> ExitCode {
    eprintln!("real-kafka: {message}");
    ExitCode::FAILURE
}

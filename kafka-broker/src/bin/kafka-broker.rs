//! `kafka-broker`: run an in-memory Kafka cluster until SIGINT or SIGTERM.
//!
//! Prints exactly one line, `bootstrap: host:port,...`, on stdout once every broker accepts
//! connections, so scripts can wait for it and read the address.

use std::io::Write;
use std::process::ExitCode;

use kafka_broker::{Cluster, ClusterConfig};

const HELP: &str = "\
kafka-broker: an in-memory Kafka cluster for tests

USAGE:
    kafka-broker [OPTIONS]

OPTIONS:
    --brokers <N>             Number of brokers, ids 0..N [default: 1]
    --port <PORT>             Port of broker 0; broker i listens on PORT+i; 0 picks free ports
                              [default: 9092]
    --host <HOST>             Address to bind and advertise [default: 127.0.0.1]
    --partitions <N>          Partitions of auto-created topics (num.partitions) [default: 1]
    --auto-create <BOOL>      Create unknown topics on Metadata requests
                              (auto.create.topics.enable) [default: true]
    --no-auto-create          Same as --auto-create false
    --message-max-bytes <N>   Largest record batch accepted (message.max.bytes) [default: 1048588]
    --cluster-id <ID>         Cluster id reported to clients [default: kafka-broker-cluster]
    --group-initial-rebalance-delay-ms <MS>
                              How long the first rebalance of an empty group waits for more
                              members (group.initial.rebalance.delay.ms) [default: 0, so that
                              tests form groups at once; Kafka's default is 3000]
    -h, --help                Print this help and exit
    -V, --version             Print the version and exit

On start-up it prints `bootstrap: <host:port,...>` on stdout and runs until SIGINT or SIGTERM,
then shuts down cleanly. Data is kept in memory only.
";

fn parse(args: &[String]) -> Result<Option<ClusterConfig>, String> {
    let mut config = ClusterConfig::default().with_port(9092);
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| iter.next().cloned())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag {
            "-h" | "--help" => {
                print!("{HELP}");
                return Ok(None);
            }
            "-V" | "--version" => {
                println!("kafka-broker {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            "--brokers" => config.brokers = number(&value(flag)?, flag)?,
            "--port" => config.port = number(&value(flag)?, flag)?,
            "--host" => config.host = value(flag)?,
            "--partitions" => config.default_partitions = number(&value(flag)?, flag)?,
            "--auto-create" => config.auto_create_topics = boolean(&value(flag)?, flag)?,
            "--no-auto-create" => config.auto_create_topics = false,
            "--message-max-bytes" => config.message_max_bytes = number(&value(flag)?, flag)?,
            "--cluster-id" => config.cluster_id = value(flag)?,
            "--group-initial-rebalance-delay-ms" => {
                config.group.initial_rebalance_delay_ms = number(&value(flag)?, flag)?
            }
            other => return Err(format!("unknown argument {other} (see --help)")),
        }
    }
    Ok(Some(config))
}

fn number<T: std::str::FromStr>(value: &str, flag: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag}: invalid number {value}"))
}

fn boolean(value: &str, flag: &str) -> Result<bool, String> {
    match value {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(format!("{flag}: expected true or false, got {value}")),
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse(&args) {
        Ok(Some(config)) => config,
        Ok(None) => return ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("kafka-broker: {message}");
            return ExitCode::from(2);
        }
    };
    let cluster = match Cluster::start(config).await {
        Ok(cluster) => cluster,
        Err(e) => {
            eprintln!("kafka-broker: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    let printed = writeln!(stdout, "bootstrap: {}", cluster.bootstrap_servers())
        .and_then(|()| stdout.flush());
    drop(stdout);
    if let Err(e) = printed {
        eprintln!("kafka-broker: cannot write to stdout: {e}");
    }
    terminated().await;
    cluster.shutdown().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::parse;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_flags_with_and_without_equals() {
        let config = parse(&args(&[
            "--brokers",
            "3",
            "--port=19092",
            "--no-auto-create",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!((config.brokers, config.port), (3, 19092));
        assert!(!config.auto_create_topics);
        assert_eq!(config.group.initial_rebalance_delay_ms, 0);
        let config = parse(&args(&["--group-initial-rebalance-delay-ms", "3000"]))
            .unwrap()
            .unwrap();
        assert_eq!(config.group.initial_rebalance_delay_ms, 3000);
        let config = parse(&args(&[])).unwrap().unwrap();
        assert_eq!(
            (config.brokers, config.port, config.host.as_str()),
            (1, 9092, "127.0.0.1")
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert!(parse(&args(&["--brokers", "many"])).is_err());
        assert!(parse(&args(&["--port"])).is_err());
        assert!(parse(&args(&["--frobnicate"])).is_err());
        assert!(parse(&args(&["--auto-create", "maybe"])).is_err());
    }
}

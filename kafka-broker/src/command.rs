//! The `kafka-broker` command line: parse the flags, run an in-memory cluster until SIGINT or
//! SIGTERM. The `kafka-broker` binary is this, and so is `kfk broker` (kafka-cli), so that the
//! two take the same flags.
//!
//! Prints exactly one line, `bootstrap: host:port,...`, on stdout once every broker accepts
//! connections, so scripts can wait for it and read the address.

use std::io::Write;
use std::process::ExitCode;

use kafka_protocol::sasl::Mechanism;

use crate::{Cluster, ClusterConfig, SaslConfig};

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
    --topic <NAME[:PARTITIONS[:KEY=VALUE,...]]>
                              Create this topic at start (repeatable); PARTITIONS defaults to
                              --partitions, configs are topic configs (cleanup.policy=compact,...)
    --sasl <MECHANISM>        Require SASL on every listener (SASL_PLAINTEXT) with this mechanism:
                              plain, scram-sha-256, scram-sha-512 or oauthbearer (unsecured JWTs,
                              as Kafka's default validator) (repeatable)
    --user <NAME:PASSWORD>    A SASL user (repeatable; needs --sasl)
    --max-reauth-ms <MS>      Sessions last this long, then clients must re-authenticate on the
                              connection (connections.max.reauth.ms, KIP-368; needs --sasl)
                              [default: never expire]
    --tls-cert <PEM FILE>     Serve every listener over TLS with this certificate chain
    --tls-key <PEM FILE>      ... and this (unencrypted) private key
    --tls-client-ca <PEM FILE>
                              Require client certificates signed by this CA (mutual TLS)
    --acl                     Authorize every request with ACLs (an authorizer, as Kafka's
                              StandardAuthorizer): nothing is allowed without an ACL but to
                              super users; manage ACLs with CreateAcls (kafka-acls, kfk acls)
    --super-user <NAME>       A principal allowed everything, User:NAME (repeatable; needs --acl)
    --allow-everyone-if-no-acl-found
                              With --acl, leave resources that no ACL covers open to everyone
                              (allow.everyone.if.no.acl.found)
    --group-initial-rebalance-delay-ms <MS>
                              How long the first rebalance of an empty group waits for more
                              members (group.initial.rebalance.delay.ms) [default: 0, so that
                              tests form groups at once; Kafka's default is 3000]
    -h, --help                Print this help and exit
    -V, --version             Print the version and exit

Every option but --topic, --sasl, --user and --super-user may be given once.

On start-up it prints `bootstrap: <host:port,...>` on stdout and runs until SIGINT or SIGTERM,
then shuts down cleanly. Data is kept in memory only.
";

/// What the command line asks for: the cluster, and the topics to create once it runs.
#[derive(Debug)]
struct Options {
    config: ClusterConfig,
    topics: Vec<TopicSpec>,
}

/// A `--topic NAME[:PARTITIONS[:KEY=VALUE,...]]`.
#[derive(Debug, PartialEq, Eq)]
struct TopicSpec {
    name: String,
    /// `None`: the cluster's default partition count.
    partitions: Option<i32>,
    configs: Vec<(String, String)>,
}

fn parse(args: &[String]) -> Result<Option<Options>, String> {
    let mut config = ClusterConfig::default().with_port(9092);
    let mut topics = Vec::new();
    let mut sasl: Option<SaslConfig> = None;
    let mut users: Vec<(String, String)> = Vec::new();
    let mut acl: Option<crate::AclConfig> = None;
    let mut super_users: Vec<String> = Vec::new();
    let mut open_if_no_acl = false;
    let mut max_reauth: Option<u64> = None;
    let mut tls_files: (Option<String>, Option<String>, Option<String>) = (None, None, None);
    let mut seen = std::collections::BTreeSet::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        // A flag given twice is almost always a mistake in a script; say so rather than let
        // the last one win silently.
        let repeatable = matches!(flag, "--topic" | "--sasl" | "--user" | "--super-user");
        if !repeatable && flag.starts_with('-') && !seen.insert(flag.to_string()) {
            return Err(format!("{flag} is given more than once"));
        }
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
            "--brokers" => config.brokers = ranged(&value(flag)?, flag, 1, 1000)? as usize,
            "--port" => config.port = ranged(&value(flag)?, flag, 0, 65_535)? as u16,
            "--host" => config.host = value(flag)?,
            "--partitions" => {
                config.default_partitions = ranged(&value(flag)?, flag, 1, 1_000_000)? as i32
            }
            "--auto-create" => config.auto_create_topics = boolean(&value(flag)?, flag)?,
            "--no-auto-create" => config.auto_create_topics = false,
            "--message-max-bytes" => {
                config.message_max_bytes =
                    ranged(&value(flag)?, flag, 61, i64::from(i32::MAX))? as i32
            }
            "--cluster-id" => config.cluster_id = value(flag)?,
            "--topic" => topics.push(topic_spec(&value(flag)?)?),
            "--sasl" => {
                let name = value(flag)?;
                let m = Mechanism::from_name(&name).ok_or_else(|| {
                    format!("--sasl {name}: not plain, scram-sha-256, scram-sha-512 or oauthbearer")
                })?;
                let sasl = sasl.get_or_insert_with(|| SaslConfig::new(&[]));
                if !sasl.mechanisms.contains(&m) {
                    sasl.mechanisms.push(m);
                }
            }
            "--tls-cert" => tls_files.0 = Some(value(flag)?),
            "--tls-key" => tls_files.1 = Some(value(flag)?),
            "--tls-client-ca" => tls_files.2 = Some(value(flag)?),
            "--user" => {
                let spec = value(flag)?;
                let (name, password) = spec
                    .split_once(':')
                    .filter(|(n, p)| !n.is_empty() && !p.is_empty())
                    .ok_or("--user needs NAME:PASSWORD")?;
                users.push((name.to_string(), password.to_string()));
            }
            "--max-reauth-ms" => {
                max_reauth = Some(ranged(&value(flag)?, flag, 1, i64::from(i32::MAX))? as u64)
            }
            "--acl" => acl = Some(crate::AclConfig::new()),
            "--super-user" => super_users.push(value(flag)?),
            "--allow-everyone-if-no-acl-found" => open_if_no_acl = true,
            "--group-initial-rebalance-delay-ms" => {
                config.group.initial_rebalance_delay_ms =
                    ranged(&value(flag)?, flag, 0, 3_600_000)? as u64
            }
            other => return Err(format!("unknown argument {other} (see --help)")),
        }
    }
    if seen.contains("--auto-create") && seen.contains("--no-auto-create") {
        return Err("--auto-create and --no-auto-create contradict each other".into());
    }
    match (sasl, users.is_empty()) {
        (Some(mut sasl), _) => {
            sasl.users.extend(users);
            sasl.max_reauth = max_reauth.map(std::time::Duration::from_millis);
            let needs_users = sasl.mechanisms.iter().any(|m| *m != Mechanism::OAuthBearer);
            if needs_users && sasl.users.is_empty() {
                return Err("--sasl needs at least one --user NAME:PASSWORD".into());
            }
            config.sasl = Some(sasl);
        }
        (None, false) => return Err("--user needs --sasl MECHANISM".into()),
        (None, true) if max_reauth.is_some() => {
            return Err("--max-reauth-ms needs --sasl MECHANISM".into())
        }
        (None, true) => {}
    }
    match acl {
        Some(mut acl) => {
            for user in &super_users {
                acl = acl.with_super_user(user);
            }
            config.acl = Some(acl.with_allow_everyone_if_no_acl_found(open_if_no_acl));
        }
        None if !super_users.is_empty() || open_if_no_acl => {
            return Err("--super-user and --allow-everyone-if-no-acl-found need --acl".into())
        }
        None => {}
    }
    let read = |path: &str| std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"));
    match tls_files {
        (Some(cert), Some(key), ca) => {
            let mut tls = crate::TlsConfig::new(read(&cert)?, read(&key)?);
            if let Some(ca) = ca {
                tls = tls.with_client_ca(read(&ca)?);
            }
            config.tls = Some(tls);
        }
        (None, None, None) => {}
        _ => {
            return Err(
                "--tls-cert and --tls-key go together (and --tls-client-ca needs them)".into(),
            )
        }
    }
    config.validate().map_err(|e| e.to_string())?;
    Ok(Some(Options { config, topics }))
}

/// An integer within `min..=max`, or an error that names the flag and the range.
fn ranged(value: &str, flag: &str, min: i64, max: i64) -> Result<i64, String> {
    let n: i64 = value
        .parse()
        .map_err(|_| format!("{flag}: {value:?} is not a number"))?;
    if (min..=max).contains(&n) {
        Ok(n)
    } else {
        Err(format!("{flag}: {n} is outside {min}..={max}"))
    }
}

fn boolean(value: &str, flag: &str) -> Result<bool, String> {
    match value {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(format!("{flag}: expected true or false, got {value}")),
    }
}

/// Parses `NAME[:PARTITIONS[:KEY=VALUE,...]]`. Topic names cannot hold `:` (Kafka allows only
/// ASCII letters, digits, `.`, `_` and `-`), so the colon is a safe separator.
fn topic_spec(spec: &str) -> Result<TopicSpec, String> {
    let mut parts = spec.splitn(3, ':');
    let name = parts.next().unwrap_or_default().to_string();
    if name.is_empty() {
        return Err(format!("--topic {spec:?}: the topic name is empty"));
    }
    let partitions = match parts.next() {
        None | Some("") => None,
        Some(p) => Some(ranged(p, "--topic partitions", 1, 1_000_000)? as i32),
    };
    let mut configs = Vec::new();
    if let Some(list) = parts.next() {
        for pair in list.split(',').filter(|p| !p.is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("--topic {spec:?}: {pair:?} is not KEY=VALUE"))?;
            configs.push((key.to_string(), value.to_string()));
        }
    }
    Ok(TopicSpec {
        name,
        partitions,
        configs,
    })
}

/// Creates the `--topic` topics, with the same validation CreateTopics applies.
fn create_topics(cluster: &Cluster, options: &Options) -> Result<(), String> {
    for topic in &options.topics {
        let partitions = topic
            .partitions
            .unwrap_or(options.config.default_partitions);
        let configs: Vec<(&str, &str)> = topic
            .configs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        cluster
            .create_topic(&topic.name, partitions, &configs)
            .map_err(|e| format!("--topic {}: {e}", topic.name))?;
    }
    Ok(())
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

/// Runs the command line `args` (without the program name) until SIGINT or SIGTERM; errors
/// are one line on stderr prefixed with `program`. Exit status 2 for a usage error.
pub async fn run(program: &str, args: &[String]) -> ExitCode {
    let options = match parse(args) {
        Ok(Some(options)) => options,
        Ok(None) => return ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{program}: {message}");
            return ExitCode::from(2);
        }
    };
    let cluster = match Cluster::start(options.config.clone()).await {
        Ok(cluster) => cluster,
        Err(e) => {
            eprintln!("{program}: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(message) = create_topics(&cluster, &options) {
        eprintln!("{program}: {message}");
        cluster.shutdown().await;
        return ExitCode::from(2);
    }
    let mut stdout = std::io::stdout().lock();
    let printed = writeln!(stdout, "bootstrap: {}", cluster.bootstrap_servers())
        .and_then(|()| stdout.flush());
    drop(stdout);
    if let Err(e) = printed {
        eprintln!("{program}: cannot write to stdout: {e}");
    }
    terminated().await;
    cluster.shutdown().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::{parse, topic_spec, TopicSpec};

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn error(list: &[&str]) -> String {
        parse(&args(list)).expect_err("refused")
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
        .unwrap()
        .config;
        assert_eq!((config.brokers, config.port), (3, 19092));
        assert!(!config.auto_create_topics);
        assert_eq!(config.group.initial_rebalance_delay_ms, 0);
        let config = parse(&args(&["--group-initial-rebalance-delay-ms", "3000"]))
            .unwrap()
            .unwrap()
            .config;
        assert_eq!(config.group.initial_rebalance_delay_ms, 3000);
        let config = parse(&args(&[])).unwrap().unwrap().config;
        assert_eq!(
            (config.brokers, config.port, config.host.as_str()),
            (1, 9092, "127.0.0.1")
        );
    }

    #[test]
    fn acl_flags() {
        let config = parse(&args(&[
            "--acl",
            "--super-user",
            "admin",
            "--super-user=User:ops",
        ]))
        .unwrap()
        .unwrap()
        .config;
        let acl = config.acl.expect("ACLs on");
        assert_eq!(acl.super_users, ["User:admin", "User:ops"]);
        assert!(!acl.allow_everyone_if_no_acl_found);
        assert!(error(&["--super-user", "admin"]).contains("need --acl"));
        assert!(parse(&args(&[])).unwrap().unwrap().config.acl.is_none());
    }

    #[test]
    fn rejects_bad_input() {
        assert!(error(&["--brokers", "many"]).contains("not a number"));
        assert!(error(&["--port"]).contains("needs a value"));
        assert!(error(&["--frobnicate"]).contains("unknown argument"));
        assert!(error(&["--auto-create", "maybe"]).contains("true or false"));
    }

    #[test]
    fn rejects_nonsense_values_and_says_the_range() {
        assert!(error(&["--port", "70000"]).contains("outside 0..=65535"));
        assert!(error(&["--message-max-bytes", "0"]).contains("outside 61.."));
        assert!(error(&["--brokers", "0"]).contains("outside 1.."));
        assert!(error(&["--cluster-id", ""]).contains("cluster id"));
        assert!(error(&["--port", "65535", "--brokers", "2"]).contains("exceed 65535"));
        assert!(error(&["--auto-create", "true", "--no-auto-create"]).contains("contradict"));
    }

    #[test]
    fn repeated_flags_are_refused_but_topics_repeat() {
        assert!(error(&["--port", "1", "--port=2"]).contains("more than once"));
        let options = parse(&args(&["--topic", "a", "--topic=b:3"]))
            .unwrap()
            .unwrap();
        assert_eq!(options.topics.len(), 2);
    }

    #[test]
    fn topic_specs() {
        assert_eq!(
            topic_spec("orders").unwrap(),
            TopicSpec {
                name: "orders".into(),
                partitions: None,
                configs: vec![]
            }
        );
        assert_eq!(
            topic_spec("orders:6:cleanup.policy=compact,retention.ms=1000").unwrap(),
            TopicSpec {
                name: "orders".into(),
                partitions: Some(6),
                configs: vec![
                    ("cleanup.policy".into(), "compact".into()),
                    ("retention.ms".into(), "1000".into())
                ]
            }
        );
        assert!(topic_spec("").is_err());
        assert!(topic_spec("t:0").is_err());
        assert!(topic_spec("t:x").is_err());
        assert!(topic_spec("t:2:novalue").is_err());
    }
}

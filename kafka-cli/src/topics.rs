//! `kfk topics`: list, describe, create, delete, alter-config, and apply a declarative file.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Subcommand;
use kafka_admin::{
    AdminClient, AlterConfigOp, ConfigResource, ConfigSource, NewPartitions, NewTopic,
};
use kafka_protocol::ErrorCode;
use serde::Deserialize;
use serde_json::json;

use crate::output::{emit, say};
use crate::settings::{pairs, Settings};
use crate::{Failure, Outcome};

#[derive(Debug, Subcommand)]
pub enum TopicsCommand {
    /// Lists topics.
    #[command(after_help = "Example:\n  kfk topics list --internal -o json")]
    List {
        /// Include internal topics (__consumer_offsets, ...).
        #[arg(long)]
        internal: bool,
    },
    /// Describes topics: partitions, leaders, replicas, ISR.
    #[command(after_help = "Example:\n  kfk topics describe orders payments")]
    Describe {
        /// The topics.
        #[arg(required = true)]
        topics: Vec<String>,
    },
    /// Creates a topic.
    #[command(
        after_help = "Example:\n  kfk topics create orders --partitions 6 --replication-factor 3 --config cleanup.policy=compact"
    )]
    Create {
        /// The topic.
        topic: String,
        /// Partitions (-1: the broker's default).
        #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
        partitions: i32,
        /// Replicas per partition (-1: the broker's default).
        #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
        replication_factor: i16,
        /// A topic config (repeatable).
        #[arg(long = "config", value_name = "KEY=VALUE")]
        configs: Vec<String>,
        /// Succeed if the topic exists already.
        #[arg(long)]
        if_not_exists: bool,
    },
    /// Deletes topics.
    #[command(after_help = "Example:\n  kfk topics delete old-orders --if-exists")]
    Delete {
        /// The topics.
        #[arg(required = true)]
        topics: Vec<String>,
        /// Succeed for topics that do not exist.
        #[arg(long)]
        if_exists: bool,
    },
    /// Sets or removes a topic's config overrides.
    #[command(
        after_help = "Example:\n  kfk topics alter-config orders --set retention.ms=3600000 --delete cleanup.policy"
    )]
    AlterConfig {
        /// The topic.
        topic: String,
        /// A config to set (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// A config override to remove (repeatable).
        #[arg(long = "delete", value_name = "KEY")]
        delete: Vec<String>,
    },
    /// Makes the cluster's topics match a file (TOML, or YAML for .yaml/.yml).
    #[command(
        after_help = "The file lists topics:\n  [[topics]]\n  name = \"orders\"\n  partitions = 6\n  replication_factor = 3\n  configs = { \"retention.ms\" = \"86400000\" }\n\nTopics missing from the cluster are created, partitions added, the listed configs set; configs\nthe file does not name are left alone, and topics it does not name are deleted only with\n--delete-missing.\n\nExample:\n  kfk topics apply topics.toml --dry-run"
    )]
    Apply {
        /// The file.
        file: PathBuf,
        /// Print the plan without changing anything.
        #[arg(long)]
        dry_run: bool,
        /// Delete (non-internal) topics the file does not list.
        #[arg(long)]
        delete_missing: bool,
    },
}

pub async fn run(command: TopicsCommand, s: &Settings) -> Outcome {
    let admin = s.admin().await?;
    match command {
        TopicsCommand::List { internal } => {
            let topics = admin.list_topics(internal).await?;
            let json = json!(topics.iter().map(|t| json!({"name": t.name, "topic_id": t.topic_id.to_string(), "internal": t.is_internal})).collect::<Vec<_>>());
            let rows: Vec<Vec<String>> = topics
                .iter()
                .map(|t| vec![t.name.clone(), t.topic_id.to_string()])
                .collect();
            emit(s.output, &json, &["TOPIC", "TOPIC ID"], &rows);
            Ok(())
        }
        TopicsCommand::Describe { topics } => describe(&admin, &topics, s).await,
        TopicsCommand::Create {
            topic,
            partitions,
            replication_factor,
            configs,
            if_not_exists,
        } => {
            let mut t = NewTopic::new(&topic, partitions, replication_factor);
            t.configs = pairs(&configs, "--config")?;
            let created = admin.create_topics(vec![t]).await?;
            match created.get(&topic) {
                Some(Ok(c)) => {
                    let json = json!({"topic": topic, "created": true, "topic_id": c.topic_id.to_string(), "partitions": c.partitions, "replication_factor": c.replication_factor});
                    say(
                        s.output,
                        &json,
                        &format!(
                            "created topic {topic} ({} partitions, replication factor {})",
                            c.partitions, c.replication_factor
                        ),
                    );
                    Ok(())
                }
                Some(Err(e))
                    if if_not_exists && e.code() == Some(ErrorCode::TopicAlreadyExists) =>
                {
                    say(
                        s.output,
                        &json!({"topic": topic, "created": false}),
                        &format!("topic {topic} exists already"),
                    );
                    Ok(())
                }
                Some(Err(e)) => Err(Failure(format!("topic {topic}: {e}"))),
                None => Err(Failure(format!("topic {topic}: no answer"))),
            }
        }
        TopicsCommand::Delete { topics, if_exists } => {
            let deleted = admin.delete_topics(&topics).await?;
            let mut json = Vec::new();
            let mut failure = None;
            for (topic, r) in &deleted {
                match r {
                    Ok(()) => {
                        json.push(json!({"topic": topic, "deleted": true}));
                        if s.output == crate::output::Output::Table {
                            println!("deleted topic {topic}");
                        }
                    }
                    Err(e) if if_exists && e.code() == Some(ErrorCode::UnknownTopicOrPartition) => {
                        json.push(json!({"topic": topic, "deleted": false}));
                        if s.output == crate::output::Output::Table {
                            println!("topic {topic} does not exist");
                        }
                    }
                    Err(e) => failure = failure.or(Some(Failure(format!("topic {topic}: {e}")))),
                }
            }
            if s.output == crate::output::Output::Json {
                println!("{}", json!(json));
            }
            failure.map_or(Ok(()), Err)
        }
        TopicsCommand::AlterConfig { topic, set, delete } => {
            let mut ops: Vec<AlterConfigOp> = pairs(&set, "--set")?
                .into_iter()
                .map(|(k, v)| AlterConfigOp::Set(k, v))
                .collect();
            ops.extend(delete.into_iter().map(AlterConfigOp::Delete));
            if ops.is_empty() {
                return Err(Failure(
                    "nothing to change: give --set KEY=VALUE or --delete KEY".into(),
                ));
            }
            let resource = ConfigResource::topic(&topic);
            let r = admin
                .incremental_alter_configs(BTreeMap::from([(resource.clone(), ops)]))
                .await?;
            match r.get(&resource) {
                Some(Ok(())) => {
                    say(
                        s.output,
                        &json!({"topic": topic, "altered": true}),
                        &format!("altered configs of topic {topic}"),
                    );
                    Ok(())
                }
                Some(Err(e)) => Err(Failure(format!("topic {topic}: {e}"))),
                None => Err(Failure(format!("topic {topic}: no answer"))),
            }
        }
        TopicsCommand::Apply {
            file,
            dry_run,
            delete_missing,
        } => apply(&admin, &file, dry_run, delete_missing, s).await,
    }
}

async fn describe(admin: &AdminClient, topics: &[String], s: &Settings) -> Outcome {
    let described = admin.describe_topics(topics).await?;
    let mut json = Vec::new();
    let mut rows = Vec::new();
    for name in topics {
        let d = match described.get(name) {
            Some(Ok(d)) => d,
            Some(Err(e)) if e.code() == Some(ErrorCode::UnknownTopicOrPartition) => {
                return Err(Failure(format!("unknown topic {name}")))
            }
            Some(Err(e)) => return Err(Failure(format!("topic {name}: {e}"))),
            None => return Err(Failure(format!("topic {name}: no answer"))),
        };
        let ids = |v: &[i32]| v.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
        for p in &d.partitions {
            rows.push(vec![
                d.name.clone(),
                p.partition.to_string(),
                p.leader.map_or("none".into(), |l| l.to_string()),
                ids(&p.replicas),
                ids(&p.isr),
            ]);
        }
        json.push(json!({
            "name": d.name,
            "topic_id": d.topic_id.to_string(),
            "internal": d.is_internal,
            "partitions": d.partitions.iter().map(|p| json!({
                "partition": p.partition, "leader": p.leader, "replicas": p.replicas,
                "isr": p.isr, "offline_replicas": p.offline_replicas,
            })).collect::<Vec<_>>(),
        }));
    }
    emit(
        s.output,
        &json!(json),
        &["TOPIC", "PARTITION", "LEADER", "REPLICAS", "ISR"],
        &rows,
    );
    Ok(())
}

/// The file `kfk topics apply` reads.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DesiredTopics {
    topics: Vec<DesiredTopic>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DesiredTopic {
    name: String,
    partitions: i32,
    #[serde(default = "default_rf")]
    replication_factor: i16,
    #[serde(default)]
    configs: BTreeMap<String, ConfigValue>,
}

/// Config values may be written as strings, numbers or booleans.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ConfigValue {
    Text(String),
    Integer(i64),
    Float(f64),
    Bool(bool),
}

impl ConfigValue {
    fn text(&self) -> String {
        match self {
            ConfigValue::Text(s) => s.clone(),
            ConfigValue::Integer(n) => n.to_string(),
            ConfigValue::Float(f) => f.to_string(),
            ConfigValue::Bool(b) => b.to_string(),
        }
    }
}

fn default_rf() -> i16 {
    -1
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Create {
        topic: String,
        partitions: i32,
        replication_factor: i16,
        configs: BTreeMap<String, String>,
    },
    AddPartitions {
        topic: String,
        from: usize,
        to: i32,
    },
    SetConfig {
        topic: String,
        key: String,
        from: Option<String>,
        to: String,
    },
    Delete {
        topic: String,
    },
}

impl Step {
    fn describe(&self) -> String {
        match self {
            Step::Create { topic, partitions, replication_factor, configs } => format!(
                "create topic {topic}: {partitions} partitions, replication factor {replication_factor}{}",
                if configs.is_empty() { String::new() } else { format!(", configs {}", configs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")) }
            ),
            Step::AddPartitions { topic, from, to } => format!("add partitions to {topic}: {from} -> {to}"),
            Step::SetConfig { topic, key, from, to } => format!("set {topic} {key}: {} -> {to}", from.as_deref().unwrap_or("(default)")),
            Step::Delete { topic } => format!("delete topic {topic}"),
        }
    }

    fn json(&self) -> serde_json::Value {
        match self {
            Step::Create {
                topic,
                partitions,
                replication_factor,
                configs,
            } => {
                json!({"action": "create", "topic": topic, "partitions": partitions, "replication_factor": replication_factor, "configs": configs})
            }
            Step::AddPartitions { topic, from, to } => {
                json!({"action": "add_partitions", "topic": topic, "from": from, "to": to})
            }
            Step::SetConfig {
                topic,
                key,
                from,
                to,
            } => {
                json!({"action": "set_config", "topic": topic, "key": key, "from": from, "to": to})
            }
            Step::Delete { topic } => json!({"action": "delete", "topic": topic}),
        }
    }
}

fn read_desired(file: &std::path::Path) -> Result<DesiredTopics, Failure> {
    let text =
        std::fs::read_to_string(file).map_err(|e| Failure(format!("{}: {e}", file.display())))?;
    let yaml = file.extension().is_some_and(|e| e == "yaml" || e == "yml");
    let desired: DesiredTopics = if yaml {
        serde_yaml::from_str(&text).map_err(|e| Failure(format!("{}: {e}", file.display())))?
    } else {
        toml::from_str(&text)
            .map_err(|e| Failure(format!("{}: {}", file.display(), e.message())))?
    };
    let mut seen = std::collections::BTreeSet::new();
    for t in &desired.topics {
        if !seen.insert(&t.name) {
            return Err(Failure(format!(
                "{}: topic {} is listed twice",
                file.display(),
                t.name
            )));
        }
    }
    Ok(desired)
}

async fn plan(
    admin: &AdminClient,
    desired: &DesiredTopics,
    delete_missing: bool,
) -> Result<Vec<Step>, Failure> {
    let existing: Vec<String> = admin
        .list_topics(false)
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect();
    let present: Vec<String> = desired
        .topics
        .iter()
        .map(|t| t.name.clone())
        .filter(|n| existing.contains(n))
        .collect();
    let described = if present.is_empty() {
        BTreeMap::new()
    } else {
        admin.describe_topics(&present).await?
    };
    let resources: Vec<ConfigResource> = present.iter().map(ConfigResource::topic).collect();
    let configs = if resources.is_empty() {
        BTreeMap::new()
    } else {
        admin.describe_configs(&resources).await?
    };
    let mut steps = Vec::new();
    for t in &desired.topics {
        let wanted: BTreeMap<String, String> = t
            .configs
            .iter()
            .map(|(k, v)| (k.clone(), v.text()))
            .collect();
        if !existing.contains(&t.name) {
            steps.push(Step::Create {
                topic: t.name.clone(),
                partitions: t.partitions,
                replication_factor: t.replication_factor,
                configs: wanted,
            });
            continue;
        }
        let d = match described.get(&t.name) {
            Some(Ok(d)) => d,
            Some(Err(e)) => return Err(Failure(format!("topic {}: {e}", t.name))),
            None => return Err(Failure(format!("topic {}: no answer", t.name))),
        };
        let have = d.partitions.len();
        match usize::try_from(t.partitions) {
            Ok(n) if n > have => steps.push(Step::AddPartitions { topic: t.name.clone(), from: have, to: t.partitions }),
            Ok(n) if n < have => {
                return Err(Failure(format!("topic {} has {have} partitions and the file asks for {n}: Kafka cannot remove partitions", t.name)))
            }
            _ => {}
        }
        let current = match configs.get(&ConfigResource::topic(&t.name)) {
            Some(Ok(c)) => c,
            Some(Err(e)) => return Err(Failure(format!("topic {}: {e}", t.name))),
            None => return Err(Failure(format!("topic {}: no configs", t.name))),
        };
        for (key, value) in &wanted {
            let entry = current.iter().find(|e| e.name == *key);
            let now = entry.and_then(|e| e.value.clone());
            let overridden = entry.is_some_and(|e| e.source == ConfigSource::DynamicTopicConfig);
            if now.as_deref() != Some(value.as_str()) {
                steps.push(Step::SetConfig {
                    topic: t.name.clone(),
                    key: key.clone(),
                    from: now.filter(|_| overridden),
                    to: value.clone(),
                });
            }
        }
    }
    if delete_missing {
        for name in existing {
            if !desired.topics.iter().any(|t| t.name == name) {
                steps.push(Step::Delete { topic: name });
            }
        }
    }
    Ok(steps)
}

async fn apply(
    admin: &AdminClient,
    file: &std::path::Path,
    dry_run: bool,
    delete_missing: bool,
    s: &Settings,
) -> Outcome {
    let desired = read_desired(file)?;
    let steps = plan(admin, &desired, delete_missing).await?;
    let json_plan: Vec<serde_json::Value> = steps.iter().map(Step::json).collect();
    let table = s.output == crate::output::Output::Table;
    if steps.is_empty() {
        say(
            s.output,
            &json!({"plan": json_plan, "applied": false, "up_to_date": true}),
            "nothing to change: the cluster matches the file",
        );
        return Ok(());
    }
    if table {
        println!(
            "plan ({} step{}):",
            steps.len(),
            if steps.len() == 1 { "" } else { "s" }
        );
        for step in &steps {
            println!("  {}", step.describe());
        }
    }
    if dry_run {
        if table {
            println!("dry run: nothing changed");
        } else {
            println!(
                "{}",
                json!({"plan": json_plan, "applied": false, "up_to_date": false})
            );
        }
        return Ok(());
    }
    for step in &steps {
        let outcome: Result<(), String> = match step {
            Step::Create {
                topic,
                partitions,
                replication_factor,
                configs,
            } => {
                let mut t = NewTopic::new(topic, *partitions, *replication_factor);
                t.configs = configs.clone();
                first_error(admin.create_topics(vec![t]).await?)
            }
            Step::AddPartitions { topic, to, .. } => first_error(
                admin
                    .create_partitions(BTreeMap::from([(
                        topic.clone(),
                        NewPartitions::increase_to(*to),
                    )]))
                    .await?,
            ),
            Step::SetConfig { topic, key, to, .. } => first_error(
                admin
                    .incremental_alter_configs(BTreeMap::from([(
                        ConfigResource::topic(topic),
                        vec![AlterConfigOp::Set(key.clone(), to.clone())],
                    )]))
                    .await?,
            ),
            Step::Delete { topic } => {
                first_error(admin.delete_topics(std::slice::from_ref(topic)).await?)
            }
        };
        outcome.map_err(|e| Failure(format!("{}: {e}", step.describe())))?;
        if table {
            println!("done: {}", step.describe());
        }
    }
    if !table {
        println!(
            "{}",
            json!({"plan": json_plan, "applied": true, "up_to_date": false})
        );
    }
    Ok(())
}

fn first_error<K, T>(results: BTreeMap<K, kafka_admin::Result<T>>) -> Result<(), String> {
    match results.into_values().find_map(Result::err) {
        Some(e) => Err(e.to_string()),
        None => Ok(()),
    }
}

//! `kfk groups`, `kfk cluster` and `kfk offsets`.

use std::collections::BTreeMap;

use clap::{ArgGroup, Subcommand};
use kafka_admin::{AdminClient, AdminError, OffsetSpec, OffsetSpecForReset, TopicPartition};
use kafka_protocol::{ErrorCode, TopicName};
use serde_json::json;

use crate::output::{emit, say};
use crate::settings::Settings;
use crate::{Failure, Outcome};

#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// Lists consumer groups with their state.
    #[command(after_help = "Example:\n  kfk groups list -o json")]
    List,
    /// Describes groups: state, assignor, members and their partitions.
    #[command(after_help = "Example:\n  kfk groups describe billing")]
    Describe {
        /// The groups.
        #[arg(required = true)]
        groups: Vec<String>,
    },
    /// Deletes groups (they must have no members).
    #[command(after_help = "Example:\n  kfk groups delete old-billing")]
    Delete {
        /// The groups.
        #[arg(required = true)]
        groups: Vec<String>,
    },
    /// Moves an empty group's committed offsets.
    #[command(
        group(ArgGroup::new("to").required(true).args(["to_earliest", "to_latest", "to_datetime", "to_offset"])),
        after_help = "Example:\n  kfk groups reset-offsets billing --topic orders --to-datetime 2026-12-01T00:00:00Z --dry-run"
    )]
    ResetOffsets {
        /// The group.
        group: String,
        /// Only this topic's partitions (default: every partition the group has committed).
        #[arg(long)]
        topic: Option<String>,
        /// To each partition's first offset.
        #[arg(long)]
        to_earliest: bool,
        /// To each partition's end.
        #[arg(long)]
        to_latest: bool,
        /// To the first record at or after this time (RFC 3339, such as 2026-12-01T08:00:00Z).
        #[arg(long, value_name = "DATETIME")]
        to_datetime: Option<String>,
        /// To this offset.
        #[arg(long, value_name = "OFFSET")]
        to_offset: Option<i64>,
        /// Print the new offsets without committing them.
        #[arg(long)]
        dry_run: bool,
    },
    /// Lag per partition (end offset minus committed offset) and in total.
    #[command(after_help = "Example:\n  kfk groups lag billing")]
    Lag {
        /// The group; every group when left out.
        group: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// The cluster id, the controller and the brokers.
    #[command(after_help = "Example:\n  kfk cluster describe -o json")]
    Describe,
}

pub async fn run(command: GroupsCommand, s: &Settings) -> Outcome {
    let admin = s.admin().await?;
    match command {
        GroupsCommand::List => {
            let groups = admin.list_groups(&[], &[]).await?;
            let rows = groups
                .iter()
                .map(|g| {
                    vec![
                        g.group_id.clone(),
                        g.state.clone().unwrap_or_default(),
                        g.group_type.clone().unwrap_or_default(),
                        g.protocol_type.clone(),
                    ]
                })
                .collect::<Vec<_>>();
            let json = json!(groups.iter().map(|g| json!({"group": g.group_id, "state": g.state, "type": g.group_type, "protocol_type": g.protocol_type})).collect::<Vec<_>>());
            emit(
                s.output,
                &json,
                &["GROUP", "STATE", "TYPE", "PROTOCOL TYPE"],
                &rows,
            );
            Ok(())
        }
        GroupsCommand::Describe { groups } => {
            let described = admin.describe_groups(&groups).await?;
            let mut rows = Vec::new();
            let mut json = Vec::new();
            for group in &groups {
                let g = match described.get(group) {
                    Some(Ok(g)) => g,
                    Some(Err(e)) => return Err(Failure(format!("group {group}: {e}"))),
                    None => return Err(Failure(format!("group {group}: no answer"))),
                };
                if g.members.is_empty() {
                    rows.push(vec![
                        g.group_id.clone(),
                        g.state.clone(),
                        g.protocol.clone(),
                        "-".into(),
                        "-".into(),
                        "-".into(),
                    ]);
                }
                for m in &g.members {
                    let parts = m
                        .assignment
                        .iter()
                        .map(|(t, p)| format!("{t}-{p}"))
                        .collect::<Vec<_>>()
                        .join(",");
                    rows.push(vec![
                        g.group_id.clone(),
                        g.state.clone(),
                        g.protocol.clone(),
                        m.member_id.clone(),
                        m.host.clone(),
                        parts,
                    ]);
                }
                json.push(json!({
                    "group": g.group_id, "state": g.state, "protocol_type": g.protocol_type,
                    "protocol": g.protocol, "coordinator": g.coordinator,
                    "members": g.members.iter().map(|m| json!({
                        "member_id": m.member_id, "group_instance_id": m.group_instance_id,
                        "client_id": m.client_id, "host": m.host,
                        "assignment": m.assignment.iter().map(|(t, p)| json!({"topic": t.as_str(), "partition": p})).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                }));
            }
            emit(
                s.output,
                &json!(json),
                &["GROUP", "STATE", "ASSIGNOR", "MEMBER", "HOST", "PARTITIONS"],
                &rows,
            );
            Ok(())
        }
        GroupsCommand::Delete { groups } => {
            let deleted = admin.delete_groups(&groups).await?;
            for (group, r) in &deleted {
                if let Err(e) = r {
                    let why = if e.code() == Some(ErrorCode::NonEmptyGroup) {
                        "it has members".to_string()
                    } else {
                        e.to_string()
                    };
                    return Err(Failure(format!("group {group} not deleted: {why}")));
                }
            }
            say(
                s.output,
                &json!({"deleted": groups}),
                &format!("deleted {}", groups.join(", ")),
            );
            Ok(())
        }
        GroupsCommand::ResetOffsets {
            group,
            topic,
            to_earliest,
            to_latest,
            to_datetime,
            to_offset,
            dry_run,
        } => {
            let partitions = match &topic {
                Some(t) => Some(topic_partitions(&admin, t).await?),
                None => None,
            };
            let to = if to_earliest {
                OffsetSpecForReset::Earliest
            } else if to_latest {
                OffsetSpecForReset::Latest
            } else if let Some(dt) = to_datetime {
                OffsetSpecForReset::Timestamp(parse_datetime(&dt).map_err(Failure)?)
            } else if let Some(offset) = to_offset {
                let targets = match &partitions {
                    Some(p) => p.clone(),
                    None => admin
                        .list_group_offsets(&group, None)
                        .await?
                        .into_keys()
                        .collect(),
                };
                OffsetSpecForReset::Offsets(targets.into_iter().map(|tp| (tp, offset)).collect())
            } else {
                return Err(Failure(
                    "give --to-earliest, --to-latest, --to-datetime or --to-offset".into(),
                ));
            };
            let handle = if dry_run {
                admin.validate_only()
            } else {
                admin.clone()
            };
            let reset = match handle.reset_group_offsets(&group, to, partitions).await {
                Ok(r) => r,
                Err(AdminError::GroupNotEmpty { members, state, .. }) => {
                    return Err(Failure(format!("group {group} is {state} with {members} member(s): stop its consumers before resetting offsets")))
                }
                Err(e) => return Err(e.into()),
            };
            let rows = reset
                .iter()
                .map(|((t, p), o)| vec![t.to_string(), p.to_string(), o.to_string()])
                .collect::<Vec<_>>();
            let json = json!({
                "group": group, "dry_run": dry_run,
                "offsets": reset.iter().map(|((t, p), o)| json!({"topic": t.as_str(), "partition": p, "offset": o})).collect::<Vec<_>>(),
            });
            emit(
                s.output,
                &json,
                &[
                    "TOPIC",
                    "PARTITION",
                    if dry_run {
                        "NEW OFFSET (DRY RUN)"
                    } else {
                        "NEW OFFSET"
                    },
                ],
                &rows,
            );
            Ok(())
        }
        GroupsCommand::Lag { group } => lag(&admin, group, s).await,
    }
}

/// Every partition of `topic`, or "unknown topic".
async fn topic_partitions(
    admin: &AdminClient,
    topic: &str,
) -> Result<Vec<TopicPartition>, Failure> {
    let described = admin.describe_topics(&[topic.to_string()]).await?;
    match described.get(topic) {
        Some(Ok(d)) => Ok(d
            .partitions
            .iter()
            .map(|p| (TopicName::from(topic), p.partition))
            .collect()),
        Some(Err(e)) if e.code() == Some(ErrorCode::UnknownTopicOrPartition) => {
            Err(Failure(format!("unknown topic {topic}")))
        }
        Some(Err(e)) => Err(Failure(format!("topic {topic}: {e}"))),
        None => Err(Failure(format!("topic {topic}: no answer"))),
    }
}

async fn lag(admin: &AdminClient, group: Option<String>, s: &Settings) -> Outcome {
    let groups = match group {
        Some(g) => vec![g],
        None => admin
            .list_groups(&[], &[])
            .await?
            .into_iter()
            .map(|g| g.group_id)
            .collect(),
    };
    let mut rows = Vec::new();
    let mut json = Vec::new();
    for g in groups {
        let committed = admin.list_group_offsets(&g, None).await?;
        let ends = admin
            .list_offsets(
                committed
                    .keys()
                    .map(|tp| (tp.clone(), OffsetSpec::Latest))
                    .collect(),
            )
            .await?;
        let mut total = 0i64;
        let mut partitions = Vec::new();
        for (tp, c) in &committed {
            let end = match ends.get(tp) {
                Some(Ok(o)) => Some(o.offset),
                _ => None,
            };
            let lag = end.map(|e| (e - c.offset).max(0));
            total += lag.unwrap_or(0);
            rows.push(vec![
                g.clone(),
                tp.0.to_string(),
                tp.1.to_string(),
                c.offset.to_string(),
                end.map_or("?".into(), |e| e.to_string()),
                lag.map_or("?".into(), |l| l.to_string()),
            ]);
            partitions.push(json!({"topic": tp.0.as_str(), "partition": tp.1, "committed": c.offset, "end": end, "lag": lag}));
        }
        rows.push(vec![
            g.clone(),
            "TOTAL".into(),
            String::new(),
            String::new(),
            String::new(),
            total.to_string(),
        ]);
        json.push(json!({"group": g, "partitions": partitions, "total_lag": total}));
    }
    emit(
        s.output,
        &json!(json),
        &["GROUP", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG"],
        &rows,
    );
    Ok(())
}

pub async fn cluster(command: ClusterCommand, s: &Settings) -> Outcome {
    let ClusterCommand::Describe = command;
    let admin = s.admin().await?;
    let d = admin.describe_cluster().await?;
    let rows = d
        .brokers
        .iter()
        .map(|b| {
            vec![
                b.id.to_string(),
                format!("{}:{}", b.host, b.port),
                b.rack.clone().unwrap_or_default(),
                if d.controller == Some(b.id) {
                    "yes".into()
                } else {
                    String::new()
                },
            ]
        })
        .collect::<Vec<_>>();
    let json = json!({
        "cluster_id": d.cluster_id, "controller": d.controller,
        "brokers": d.brokers.iter().map(|b| json!({"id": b.id, "host": b.host, "port": b.port, "rack": b.rack})).collect::<Vec<_>>(),
    });
    if s.output == crate::output::Output::Table {
        println!(
            "cluster id: {}",
            d.cluster_id.as_deref().unwrap_or("unknown")
        );
    }
    emit(
        s.output,
        &json,
        &["BROKER", "ADDRESS", "RACK", "CONTROLLER"],
        &rows,
    );
    Ok(())
}

pub async fn offsets(topic: &str, s: &Settings) -> Outcome {
    let admin = s.admin().await?;
    let partitions = topic_partitions(&admin, topic).await?;
    let spec = |spec: OffsetSpec| {
        partitions
            .iter()
            .map(|tp| (tp.clone(), spec))
            .collect::<BTreeMap<_, _>>()
    };
    let earliest = admin.list_offsets(spec(OffsetSpec::Earliest)).await?;
    let latest = admin.list_offsets(spec(OffsetSpec::Latest)).await?;
    let mut rows = Vec::new();
    let mut json = Vec::new();
    for tp in &partitions {
        let get = |m: &kafka_admin::ItemResults<TopicPartition, kafka_admin::ListedOffset>| -> Result<i64, Failure> {
            match m.get(tp) {
                Some(Ok(o)) => Ok(o.offset),
                Some(Err(e)) => Err(Failure(format!("{}-{}: {e}", tp.0, tp.1))),
                None => Err(Failure(format!("{}-{}: no answer", tp.0, tp.1))),
            }
        };
        let (e, l) = (get(&earliest)?, get(&latest)?);
        rows.push(vec![tp.1.to_string(), e.to_string(), l.to_string()]);
        json.push(json!({"partition": tp.1, "earliest": e, "latest": l}));
    }
    emit(
        s.output,
        &json!({"topic": topic, "partitions": json}),
        &["PARTITION", "EARLIEST", "LATEST"],
        &rows,
    );
    Ok(())
}

/// Milliseconds since the epoch of an RFC 3339 time: `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`,
/// or a date alone (midnight UTC).
pub fn parse_datetime(s: &str) -> Result<i64, String> {
    let bad = || format!("{s:?} is not a time such as 2026-12-01T08:00:00Z");
    let num = |t: &str| t.parse::<i64>().map_err(|_| bad());
    let (date, time) = match s.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut d = date.splitn(3, '-');
    let (y, m, day) = (
        num(d.next().ok_or_else(bad)?)?,
        num(d.next().ok_or_else(bad)?)?,
        num(d.next().ok_or_else(bad)?)?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return Err(bad());
    }
    let (mut secs, mut offset, mut millis) = (0i64, 0i64, 0i64);
    if let Some(t) = time {
        let (clock, zone) = if let Some(c) = t.strip_suffix('Z').or_else(|| t.strip_suffix('z')) {
            (c, 0)
        } else if let Some(i) = t.rfind(['+', '-']) {
            let (c, z) = t.split_at(i);
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let (zh, zm) = z[1..].split_once(':').ok_or_else(bad)?;
            (c, sign * (num(zh)? * 3600 + num(zm)? * 60))
        } else {
            return Err(format!("{s:?} needs a time zone (Z or ±HH:MM)"));
        };
        offset = zone;
        let (hms, frac) = match clock.split_once('.') {
            Some((h, f)) => (h, Some(f)),
            None => (clock, None),
        };
        let mut parts = hms.split(':');
        let h = num(parts.next().ok_or_else(bad)?)?;
        let mi = num(parts.next().ok_or_else(bad)?)?;
        let sec = parts.next().map_or(Ok(0), num)?;
        if h > 23 || mi > 59 || sec > 60 {
            return Err(bad());
        }
        secs = h * 3600 + mi * 60 + sec;
        if let Some(f) = frac {
            let digits: String = f.chars().take(3).collect();
            millis = num(&format!("{digits:0<3}"))?;
        }
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok((days * 86_400 + secs - offset) * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::parse_datetime;

    #[test]
    fn datetimes_are_rfc_3339() {
        assert_eq!(parse_datetime("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(
            parse_datetime("2026-12-01T08:00:00Z"),
            Ok(1_796_112_000_000)
        );
        assert_eq!(
            parse_datetime("2026-12-01T09:00:00.250+01:00"),
            Ok(1_796_112_000_250)
        );
        assert_eq!(parse_datetime("2000-02-29"), Ok(951_782_400_000));
        assert!(parse_datetime("2026-13-01T00:00:00Z").is_err());
        assert!(
            parse_datetime("2026-12-01T08:00:00").is_err(),
            "a zone is required"
        );
        assert!(parse_datetime("yesterday").is_err());
    }
}

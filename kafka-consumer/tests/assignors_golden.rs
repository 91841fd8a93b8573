//! Our assignors against Java's on the same members and subscriptions.
//!
//! `golden/assignors.cases` lists the cases; `golden/assignors.expected.jsonl` holds what Java's
//! `RangeAssignor`, `RoundRobinAssignor`, `StickyAssignor` and `CooperativeStickyAssignor`
//! answered, as the Java peer (`tools/java-peer`, command `assign`) printed it. Our plans must
//! equal those, and our sticky user data must be Java's bytes. A second test reruns the Java
//! peer and checks the file is still exactly Java's answer (with Java missing it prints
//! SKIPPED); `KAFKA_SDK_UPDATE_GOLDEN=1` rewrites the file from the peer's output.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use kafka_consumer::assignor::{
    MemberSubscription, PartitionAssignor, RangeAssignor, RoundRobinAssignor,
};
use kafka_consumer::sticky::{CooperativeStickyAssignor, StickyAssignor};
use kafka_protocol::TopicName;
use kafka_testkit::serde_json::{self, Value};
use kafka_testkit::JavaPeer;

/// One member line of a case.
#[derive(Debug)]
struct Member {
    id: String,
    instance: Option<String>,
    generation: i32,
    topics: Vec<TopicName>,
    owned: Vec<(TopicName, i32)>,
}

#[derive(Debug)]
struct Case {
    name: String,
    assignor: String,
    topics: BTreeMap<TopicName, i32>,
    members: Vec<Member>,
}

fn golden(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(file)
}

fn cases_text() -> String {
    std::fs::read_to_string(golden("assignors.cases")).unwrap()
}

fn parse_cases(text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut current: Option<Case> = None;
    for (n, raw) in text.lines().enumerate() {
        let f: Vec<&str> = raw.split_whitespace().collect();
        if f.is_empty() || f[0].starts_with('#') {
            continue;
        }
        let bad = || -> Case { panic!("assignors.cases line {}: {raw:?}", n + 1) };
        match f[0] {
            "case" if f.len() == 3 => {
                current = Some(Case {
                    name: f[1].into(),
                    assignor: f[2].into(),
                    topics: BTreeMap::new(),
                    members: Vec::new(),
                })
            }
            "topic" if f.len() == 3 => {
                let Some(c) = current.as_mut() else {
                    bad();
                    unreachable!()
                };
                c.topics.insert(f[1].into(), f[2].parse().unwrap());
            }
            "member" if f.len() == 6 => {
                let Some(c) = current.as_mut() else {
                    bad();
                    unreachable!()
                };
                let owned = if f[5] == "-" {
                    Vec::new()
                } else {
                    f[5].split(',')
                        .map(|tp| {
                            let Some((t, p)) = tp.rsplit_once(':') else {
                                bad();
                                unreachable!()
                            };
                            (TopicName::from(t), p.parse().unwrap())
                        })
                        .collect()
                };
                c.members.push(Member {
                    id: f[1].into(),
                    instance: (f[2] != "-").then(|| f[2].to_string()),
                    generation: f[3].parse().unwrap(),
                    topics: f[4].split(',').map(TopicName::from).collect(),
                    owned,
                });
            }
            "end" if f.len() == 1 => cases.push(current.take().unwrap_or_else(bad)),
            _ => {
                bad();
            }
        }
    }
    assert!(current.is_none(), "a case without `end`");
    cases
}

fn assignor(name: &str) -> Box<dyn PartitionAssignor> {
    match name {
        "range" => Box::new(RangeAssignor),
        "roundrobin" => Box::new(RoundRobinAssignor),
        "sticky" => Box::new(StickyAssignor),
        "cooperative-sticky" => Box::new(CooperativeStickyAssignor),
        other => panic!("unknown assignor {other}"),
    }
}

/// The member as our consumer would send it: for `sticky` (eager) what it owned travels in
/// the assignor's user data, for the others in its owned partitions.
fn subscription(case: &Case, m: &Member) -> MemberSubscription {
    let mut sub = MemberSubscription::new(m.id.clone(), m.topics.iter().cloned());
    sub.instance_id = m.instance.clone();
    if case.assignor == "sticky" {
        sub.generation = m.generation;
        sub.with_user_data(StickyAssignor.subscription_user_data(&m.owned, m.generation))
    } else {
        sub.with_owned(m.owned.clone(), m.generation)
    }
}

/// What the expected file says: each case's plan per member, and sticky user data per member.
#[derive(Debug, Default, PartialEq)]
struct Answers {
    plans: BTreeMap<String, BTreeMap<String, Vec<(String, i64)>>>,
    user_data: BTreeMap<String, BTreeMap<String, Option<String>>>,
}

fn parse_answers(jsonl: &str) -> Answers {
    let mut answers = Answers::default();
    for line in jsonl.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap();
        let case = v["case"].as_str().unwrap().to_string();
        let member = v["member"].as_str().unwrap().to_string();
        match v["event"].as_str() {
            Some("assignment") => {
                let ps = v["partitions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| {
                        (
                            p["topic"].as_str().unwrap().to_string(),
                            p["partition"].as_i64().unwrap(),
                        )
                    })
                    .collect();
                answers.plans.entry(case).or_default().insert(member, ps);
            }
            Some("user-data") => {
                answers
                    .user_data
                    .entry(case)
                    .or_default()
                    .insert(member, v["hex"].as_str().map(str::to_string));
            }
            other => panic!("unexpected line {other:?}: {line}"),
        }
    }
    answers
}

/// A sticky case whose members do not all subscribe to the same topics.
fn general_sticky_case(case: &Case) -> bool {
    case.assignor.contains("sticky")
        && case.members.iter().any(|m| {
            let mut a = m.topics.clone();
            let mut b = case.members[0].topics.clone();
            a.sort();
            b.sort();
            a != b
        })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn our_plans_and_sticky_user_data_are_javas() {
    let cases = parse_cases(&cases_text());
    let expected =
        parse_answers(&std::fs::read_to_string(golden("assignors.expected.jsonl")).unwrap());
    assert_eq!(
        expected.plans.len(),
        cases.len(),
        "every case has Java's answer"
    );
    let mut failures = Vec::new();
    for case in &cases {
        let members: Vec<MemberSubscription> =
            case.members.iter().map(|m| subscription(case, m)).collect();
        let plan = assignor(&case.assignor).assign(&members, &case.topics);
        let ours: BTreeMap<String, Vec<(String, i64)>> = case
            .members
            .iter()
            .map(|m| {
                let mut ps: Vec<(String, i64)> = plan
                    .get(&m.id)
                    .into_iter()
                    .flat_map(|by_topic| {
                        by_topic
                            .iter()
                            .flat_map(|(t, ps)| ps.iter().map(|p| (t.to_string(), i64::from(*p))))
                    })
                    .collect();
                ps.sort();
                (m.id.clone(), ps)
            })
            .collect();
        let javas = &expected.plans[&case.name];
        if general_sticky_case(case) {
            // Java's sticky assignors take another path when members subscribe to different
            // topics, one whose choices follow hash-map order; there we hold ours to Java's
            // outcome rather than its exact picks: the same number of partitions per member,
            // and as many left with the member that owned them.
            let counts = |plan: &BTreeMap<String, Vec<(String, i64)>>| -> Vec<(String, usize)> {
                plan.iter().map(|(m, ps)| (m.clone(), ps.len())).collect()
            };
            let kept = |plan: &BTreeMap<String, Vec<(String, i64)>>| -> usize {
                case.members
                    .iter()
                    .map(|m| {
                        plan[&m.id]
                            .iter()
                            .filter(|(t, p)| {
                                m.owned.contains(&(TopicName::from(t.as_str()), *p as i32))
                            })
                            .count()
                    })
                    .sum()
            };
            if counts(&ours) != counts(javas) || kept(&ours) != kept(javas) {
                failures.push(format!(
                    "{} ({}, general case): counts or stickiness differ\n  ours {ours:?}\n  Java {javas:?}",
                    case.name, case.assignor
                ));
            }
        } else if &ours != javas {
            failures.push(format!(
                "{} ({}):\n  ours {ours:?}\n  Java {javas:?}",
                case.name, case.assignor
            ));
        }
        if case.assignor == "sticky" {
            for (m, sub) in case.members.iter().zip(&members) {
                let ours = sub.user_data.as_deref().map(hex);
                let javas = &expected.user_data[&case.name][&m.id];
                if &ours != javas {
                    failures.push(format!(
                        "{} {}: user data ours {ours:?}, Java {javas:?}",
                        case.name, m.id
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_golden_file_is_what_java_answers() {
    let Some(java) = JavaPeer::build() else {
        return;
    };
    let out = java.run(
        &["assign"],
        Some(cases_text().into_bytes()),
        Duration::from_secs(60),
    );
    assert!(out.success(), "{}", out.describe());
    let path = golden("assignors.expected.jsonl");
    if std::env::var_os("KAFKA_SDK_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &out.stdout).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        parse_answers(&out.stdout),
        parse_answers(&committed),
        "Java {} answers differently from {}; rerun with KAFKA_SDK_UPDATE_GOLDEN=1",
        java.version(),
        path.display()
    );
}

//! DescribeConfigs (32), AlterConfigs (33) and IncrementalAlterConfigs (44) for topics and
//! brokers, with good and bad values, unknown names, unknown topics and validate-only.

use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::{
    alter_configs_request, incremental_alter_configs_request, AlterConfigsRequest,
    DescribeConfigsRequest, DescribeConfigsResponse, IncrementalAlterConfigsRequest,
};
use kafka_protocol::{ApiKey, StrBytes};

use crate::harness::Session;

const TOPIC: i8 = 2;
const BROKER: i8 = 4;

/// Config operations of IncrementalAlterConfigs (KIP-339).
const SET: i8 = 0;
const DELETE: i8 = 1;
const APPEND: i8 = 2;
const SUBTRACT: i8 = 3;

fn describe(resource_type: i8, name: &str, keys: Option<&[&str]>) -> DescribeConfigsRequest {
    DescribeConfigsRequest::default().with_resources(vec![DescribeConfigsResource::default()
        .with_resource_type(resource_type)
        .with_resource_name(name)
        .with_configuration_keys(keys.map(|k| k.iter().map(|s| StrBytes::from(*s)).collect()))])
}

fn describe_topic(s: &mut Session<'_>, label: &str, topic: &str, keys: &[&str]) {
    let v = s.v(ApiKey::DescribeConfigs);
    s.send(
        label,
        &describe(TOPIC, topic, Some(keys)).with_include_synonyms(true),
        v,
    );
}

/// The (name, value) pairs a DescribeConfigs answer gives for its first resource.
fn values(r: &DescribeConfigsResponse) -> Vec<(String, Option<String>)> {
    r.results
        .first()
        .map(|res| {
            res.configs
                .iter()
                .map(|c| (c.name.to_string(), c.value.as_ref().map(|v| v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The topic's configs as they are now, unrecorded: what a later describe is compared with.
fn snapshot(s: &mut Session<'_>, topic: &str, keys: &[&str]) -> Vec<(String, Option<String>)> {
    let v = s.v(ApiKey::DescribeConfigs);
    values(&s.call(&describe(TOPIC, topic, Some(keys)), v))
}

/// Records a describe after an alter that changed `before`. Kafka applies config changes
/// through its metadata log, so a broker may answer DescribeConfigs with the old values for a
/// moment after the alter returned; wait (bounded) until the answer has changed, then record it.
fn describe_changed(
    s: &mut Session<'_>,
    label: &str,
    topic: &str,
    keys: &[&str],
    before: &[(String, Option<String>)],
) {
    for _ in 0..100 {
        if snapshot(s, topic, keys) != before {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    describe_topic(s, label, topic, keys);
}

fn alter(topic: &str, configs: &[(&str, &str)]) -> AlterConfigsRequest {
    AlterConfigsRequest::default().with_resources(vec![
        alter_configs_request::AlterConfigsResource::default()
            .with_resource_type(TOPIC)
            .with_resource_name(topic)
            .with_configs(
                configs
                    .iter()
                    .map(|(k, v)| {
                        alter_configs_request::AlterableConfig::default()
                            .with_name((*k).to_string())
                            .with_value(Some((*v).to_string().into()))
                    })
                    .collect(),
            ),
    ])
}

fn incremental(
    resource_type: i8,
    name: &str,
    ops: &[(&str, i8, Option<&str>)],
) -> IncrementalAlterConfigsRequest {
    IncrementalAlterConfigsRequest::default().with_resources(vec![
        incremental_alter_configs_request::AlterConfigsResource::default()
            .with_resource_type(resource_type)
            .with_resource_name(name)
            .with_configs(
                ops.iter()
                    .map(|(k, op, v)| {
                        incremental_alter_configs_request::AlterableConfig::default()
                            .with_name((*k).to_string())
                            .with_config_operation(*op)
                            .with_value(v.map(str::to_string).map(Into::into))
                    })
                    .collect(),
            ),
    ])
}

const KEYS: &[&str] = &[
    "retention.ms",
    "cleanup.policy",
    "max.message.bytes",
    "message.timestamp.type",
    "min.insync.replicas",
    "segment.bytes",
];

pub fn describe_topic_selected_keys(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[("retention.ms", "3600000")]);
    describe_topic(s, "describe", &t, KEYS);
}

pub fn describe_topic_with_documentation(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let v = s.v(ApiKey::DescribeConfigs);
    let request = describe(TOPIC, &t, Some(&["retention.ms"])).with_include_documentation(true);
    s.send("describe_docs", &request, v);
}

pub fn describe_topic_v0(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[("cleanup.policy", "compact")]);
    s.send(
        "describe_v1",
        &describe(TOPIC, &t, Some(&["cleanup.policy"])),
        1,
    );
}

pub fn describe_unknown_topic(s: &mut Session<'_>) {
    let t = s.name("missing");
    let v = s.v(ApiKey::DescribeConfigs);
    s.send(
        "describe_unknown",
        &describe(TOPIC, &t, Some(&["retention.ms"])),
        v,
    );
}

pub fn describe_unknown_key(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    describe_topic(s, "describe_unknown_key", &t, &["no.such.config"]);
}

pub fn describe_broker_selected_keys(s: &mut Session<'_>) {
    let broker = s.broker().to_string();
    let v = s.v(ApiKey::DescribeConfigs);
    let request = describe(
        BROKER,
        &broker,
        Some(&[
            "num.partitions",
            "auto.create.topics.enable",
            "message.max.bytes",
            "group.initial.rebalance.delay.ms",
            "group.min.session.timeout.ms",
            "min.insync.replicas",
            "offsets.topic.replication.factor",
            "log.retention.hours",
            "log.cleanup.policy",
        ]),
    );
    s.send("describe_broker", &request, v);
}

pub fn describe_unknown_broker(s: &mut Session<'_>) {
    let v = s.v(ApiKey::DescribeConfigs);
    s.send(
        "describe_broker_4242",
        &describe(BROKER, "4242", Some(&["num.partitions"])),
        v,
    );
}

pub fn describe_invalid_resource_type(s: &mut Session<'_>) {
    let v = s.v(ApiKey::DescribeConfigs);
    s.send("describe_type_9", &describe(9, "x", Some(&["a"])), v);
}

pub fn alter_topic(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[("cleanup.policy", "compact")]);
    let v = s.v(ApiKey::AlterConfigs);
    let before = snapshot(s, &t, KEYS);
    s.send("alter", &alter(&t, &[("retention.ms", "1000")]), v);
    // AlterConfigs replaces the whole set: cleanup.policy falls back to its default.
    describe_changed(s, "after_alter", &t, KEYS, &before);
}

pub fn alter_bad_value(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let v = s.v(ApiKey::AlterConfigs);
    s.send(
        "alter_bad_value",
        &alter(&t, &[("retention.ms", "later")]),
        v,
    );
}

pub fn alter_unknown_config(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let v = s.v(ApiKey::AlterConfigs);
    s.send(
        "alter_unknown_name",
        &alter(&t, &[("no.such.config", "1")]),
        v,
    );
}

pub fn alter_unknown_topic(s: &mut Session<'_>) {
    let t = s.name("missing");
    let v = s.v(ApiKey::AlterConfigs);
    s.send(
        "alter_unknown_topic",
        &alter(&t, &[("retention.ms", "1000")]),
        v,
    );
}

pub fn alter_validate_only(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let v = s.v(ApiKey::AlterConfigs);
    let request = alter(&t, &[("retention.ms", "1000")]).with_validate_only(true);
    s.send("alter_validate_only", &request, v);
    describe_topic(s, "unchanged", &t, &["retention.ms"]);
}

pub fn incremental_set_and_delete(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[("retention.ms", "5000")]);
    let v = s.v(ApiKey::IncrementalAlterConfigs);
    let ops = [
        ("max.message.bytes", SET, Some("300000")),
        ("retention.ms", DELETE, None),
    ];
    let before = snapshot(s, &t, KEYS);
    s.send("incremental", &incremental(TOPIC, &t, &ops), v);
    describe_changed(s, "after_incremental", &t, KEYS, &before);
}

pub fn incremental_append_and_subtract(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let v = s.v(ApiKey::IncrementalAlterConfigs);
    let keys = &["cleanup.policy"];
    let before = snapshot(s, &t, keys);
    s.send(
        "append_compact",
        &incremental(TOPIC, &t, &[("cleanup.policy", APPEND, Some("compact"))]),
        v,
    );
    describe_changed(s, "after_append", &t, keys, &before);
    let before = snapshot(s, &t, keys);
    s.send(
        "subtract_delete",
        &incremental(TOPIC, &t, &[("cleanup.policy", SUBTRACT, Some("delete"))]),
        v,
    );
    describe_changed(s, "after_subtract", &t, keys, &before);
}

pub fn incremental_append_to_non_list(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let v = s.v(ApiKey::IncrementalAlterConfigs);
    s.send(
        "append_to_long",
        &incremental(TOPIC, &t, &[("retention.ms", APPEND, Some("5"))]),
        v,
    );
}

pub fn incremental_bad_value(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let v = s.v(ApiKey::IncrementalAlterConfigs);
    s.send(
        "incremental_bad_value",
        &incremental(TOPIC, &t, &[("segment.bytes", SET, Some("huge"))]),
        v,
    );
}

pub fn incremental_unknown_operation(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let v = s.v(ApiKey::IncrementalAlterConfigs);
    s.send(
        "incremental_op_9",
        &incremental(TOPIC, &t, &[("retention.ms", 9, Some("1"))]),
        v,
    );
}

pub fn incremental_validate_only(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let v = s.v(ApiKey::IncrementalAlterConfigs);
    let request =
        incremental(TOPIC, &t, &[("retention.ms", SET, Some("1234"))]).with_validate_only(true);
    s.send("incremental_validate_only", &request, v);
    describe_topic(s, "unchanged", &t, &["retention.ms"]);
}

pub fn incremental_unknown_topic(s: &mut Session<'_>) {
    let t = s.name("missing");
    let v = s.v(ApiKey::IncrementalAlterConfigs);
    s.send(
        "incremental_unknown_topic",
        &incremental(TOPIC, &t, &[("retention.ms", SET, Some("1"))]),
        v,
    );
}

/// Resource type GROUP (KIP-848).
const GROUP: i8 = 32;

pub fn group_configs(s: &mut Session<'_>) {
    let g = s.name("g");
    let describe_v = s.v(ApiKey::DescribeConfigs);
    let alter_v = s.v(ApiKey::IncrementalAlterConfigs);
    s.send(
        "describe_defaults",
        &describe(GROUP, &g, None).with_include_synonyms(true),
        describe_v,
    );
    let set = [("consumer.session.timeout.ms", SET, Some("50000"))];
    s.send(
        "set_session_timeout",
        &incremental(GROUP, &g, &set),
        alter_v,
    );
    let keys = ["consumer.session.timeout.ms", "share.auto.offset.reset"];
    // A KRaft broker applies the change when it reads the metadata log, just after answering.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        let r = s.call(&describe(GROUP, &g, Some(&keys)), describe_v);
        if values(&r)
            .iter()
            .any(|(_, v)| v.as_deref() == Some("50000"))
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    s.send(
        "describe_after_set",
        &describe(GROUP, &g, Some(&keys)).with_include_synonyms(true),
        describe_v,
    );
    let out_of_range = [("consumer.session.timeout.ms", SET, Some("1000"))];
    s.send(
        "out_of_range",
        &incremental(GROUP, &g, &out_of_range),
        alter_v,
    );
    let unknown = [("no.such.group.config", SET, Some("1"))];
    s.send("unknown_key", &incremental(GROUP, &g, &unknown), alter_v);
}

/// `message.format.version` (librdkafka's 0092 sets it): what the advertised Kafka answers.
pub fn alter_message_format_version(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let v = s.v(ApiKey::AlterConfigs);
    s.send(
        "alter_message_format_version",
        &alter(&t, &[("message.format.version", "0.10.0.0")]),
        v,
    );
    let iv = s.v(ApiKey::IncrementalAlterConfigs);
    s.send(
        "incremental_message_format_version",
        &incremental(2, &t, &[("message.format.version", 0, Some("0.10.0.0"))]),
        iv,
    );
}

//! CreateTopics (19), DeleteTopics (20) and CreatePartitions (37): the normal path and every
//! validation a client can trip over.

use kafka_protocol::messages::create_partitions_request::{
    CreatePartitionsAssignment, CreatePartitionsTopic,
};
use kafka_protocol::messages::create_topics_request::{
    CreatableReplicaAssignment, CreatableTopic, CreatableTopicConfig,
};
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{
    CreatePartitionsRequest, CreateTopicsRequest, DeleteTopicsRequest, MetadataRequest,
};
use kafka_protocol::ApiKey;
use kafka_protocol::{BrokerId, Uuid};

use crate::harness::Session;

fn topic(name: &str, partitions: i32, replication: i16) -> CreatableTopic {
    CreatableTopic::default()
        .with_name(name.to_string())
        .with_num_partitions(partitions)
        .with_replication_factor(replication)
}

fn config(name: &str, value: &str) -> CreatableTopicConfig {
    CreatableTopicConfig::default()
        .with_name(name)
        .with_value(Some(value.into()))
}

fn create(topics: Vec<CreatableTopic>) -> CreateTopicsRequest {
    CreateTopicsRequest::default()
        .with_timeout_ms(10_000)
        .with_topics(topics)
}

fn metadata(s: &mut Session<'_>, label: &str, name: &str) {
    let v = s.v(ApiKey::Metadata);
    let request = MetadataRequest::default()
        .with_topics(Some(vec![
            MetadataRequestTopic::default().with_name(Some(name.into()))
        ]))
        .with_allow_auto_topic_creation(false);
    s.send(label, &request, v);
}

pub fn create_basic(s: &mut Session<'_>) {
    let t = s.name("t");
    let v = s.v(ApiKey::CreateTopics);
    s.send("create", &create(vec![topic(&t, 3, 1)]), v);
    s.wait_for_leaders(&t, 3);
    metadata(s, "metadata", &t);
}

pub fn create_with_configs(s: &mut Session<'_>) {
    let t = s.name("t");
    let v = s.v(ApiKey::CreateTopics);
    let request = create(vec![topic(&t, 1, 1).with_configs(vec![
        config("retention.ms", "3600000"),
        config("cleanup.policy", "compact"),
        config("max.message.bytes", "200000"),
    ])]);
    s.send("create_with_configs", &request, v);
}

pub fn create_v4(s: &mut Session<'_>) {
    let t = s.name("t");
    s.send("create_v4", &create(vec![topic(&t, 2, 1)]), 4);
}

pub fn create_default_partitions(s: &mut Session<'_>) {
    let t = s.name("t");
    let v = s.v(ApiKey::CreateTopics);
    s.send("create_defaults", &create(vec![topic(&t, -1, -1)]), v);
}

pub fn create_invalid_name(s: &mut Session<'_>) {
    let v = s.v(ApiKey::CreateTopics);
    s.send(
        "create_invalid_name",
        &create(vec![topic("bad name!", 1, 1)]),
        v,
    );
}

pub fn create_name_too_long(s: &mut Session<'_>) {
    let v = s.v(ApiKey::CreateTopics);
    let long = s.name(&"x".repeat(250));
    s.send("create_long_name", &create(vec![topic(&long, 1, 1)]), v);
}

pub fn create_dot_names(s: &mut Session<'_>) {
    let v = s.v(ApiKey::CreateTopics);
    s.send(
        "create_dot",
        &create(vec![topic(".", 1, 1), topic("..", 1, 1)]),
        v,
    );
}

pub fn create_existing(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let v = s.v(ApiKey::CreateTopics);
    s.send("create_existing", &create(vec![topic(&t, 1, 1)]), v);
}

pub fn create_duplicate_in_request(s: &mut Session<'_>) {
    let t = s.name("t");
    let v = s.v(ApiKey::CreateTopics);
    s.send(
        "create_twice_in_one_request",
        &create(vec![topic(&t, 1, 1), topic(&t, 2, 1)]),
        v,
    );
}

pub fn create_bad_config_value(s: &mut Session<'_>) {
    let t = s.name("t");
    let v = s.v(ApiKey::CreateTopics);
    let request = create(vec![
        topic(&t, 1, 1).with_configs(vec![config("retention.ms", "soon")])
    ]);
    s.send("create_bad_config_value", &request, v);
    metadata(s, "not_created", &t);
}

pub fn create_unknown_config(s: &mut Session<'_>) {
    let t = s.name("t");
    let v = s.v(ApiKey::CreateTopics);
    let request = create(vec![
        topic(&t, 1, 1).with_configs(vec![config("no.such.config", "1")])
    ]);
    s.send("create_unknown_config", &request, v);
}

pub fn create_bad_enum_config(s: &mut Session<'_>) {
    let t = s.name("t");
    let v = s.v(ApiKey::CreateTopics);
    let request =
        create(vec![topic(&t, 1, 1).with_configs(vec![config(
            "message.timestamp.type",
            "WallClock",
        )])]);
    s.send("create_bad_enum", &request, v);
}

pub fn create_too_many_replicas(s: &mut Session<'_>) {
    let t = s.name("t");
    let v = s.v(ApiKey::CreateTopics);
    s.send(
        "create_rf3_on_one_broker",
        &create(vec![topic(&t, 1, 3)]),
        v,
    );
}

pub fn create_zero_partitions(s: &mut Session<'_>) {
    let t = s.name("t");
    let v = s.v(ApiKey::CreateTopics);
    s.send("create_zero_partitions", &create(vec![topic(&t, 0, 1)]), v);
}

pub fn create_zero_replicas(s: &mut Session<'_>) {
    let t = s.name("t");
    let v = s.v(ApiKey::CreateTopics);
    s.send("create_zero_replicas", &create(vec![topic(&t, 1, 0)]), v);
}

pub fn create_validate_only(s: &mut Session<'_>) {
    let t = s.name("t");
    let v = s.v(ApiKey::CreateTopics);
    let request = create(vec![topic(&t, 2, 1)]).with_validate_only(true);
    s.send("create_validate_only", &request, v);
    metadata(s, "still_unknown", &t);
}

pub fn create_explicit_assignment(s: &mut Session<'_>) {
    let t = s.name("t");
    let broker = s.broker();
    let v = s.v(ApiKey::CreateTopics);
    let request = create(vec![topic(&t, -1, -1).with_assignments(
        (0..2)
            .map(|p| {
                CreatableReplicaAssignment::default()
                    .with_partition_index(p)
                    .with_broker_ids(vec![BrokerId(broker)])
            })
            .collect(),
    )]);
    s.send("create_assigned", &request, v);
    s.wait_for_leaders(&t, 2);
    metadata(s, "metadata", &t);
}

pub fn create_assignment_to_unknown_broker(s: &mut Session<'_>) {
    let t = s.name("t");
    let v = s.v(ApiKey::CreateTopics);
    let request = create(vec![topic(&t, -1, -1).with_assignments(vec![
        CreatableReplicaAssignment::default()
            .with_partition_index(0)
            .with_broker_ids(vec![BrokerId(4242)]),
    ])]);
    s.send("create_assigned_unknown_broker", &request, v);
}

pub fn create_assignment_with_count(s: &mut Session<'_>) {
    let t = s.name("t");
    let broker = s.broker();
    let v = s.v(ApiKey::CreateTopics);
    let request = create(vec![topic(&t, 2, 1).with_assignments(vec![
        CreatableReplicaAssignment::default()
            .with_partition_index(0)
            .with_broker_ids(vec![BrokerId(broker)]),
    ])]);
    s.send("create_assignment_and_count", &request, v);
}

pub fn create_several_mixed(s: &mut Session<'_>) {
    let good = s.name("good");
    let v = s.v(ApiKey::CreateTopics);
    let request = create(vec![topic(&good, 1, 1), topic("bad name!", 1, 1)]);
    s.send("create_good_and_bad", &request, v);
}

pub fn delete_by_name(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let v = s.v(ApiKey::DeleteTopics);
    let request = DeleteTopicsRequest::default()
        .with_timeout_ms(10_000)
        .with_topics(vec![
            DeleteTopicState::default().with_name(Some(t.clone().into()))
        ]);
    s.send("delete", &request, v);
    s.wait_until_unknown(&t);
    metadata(s, "gone", &t);
}

pub fn delete_by_name_v5(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let request = DeleteTopicsRequest::default()
        .with_timeout_ms(10_000)
        .with_topic_names(vec![t.clone().into()]);
    s.send("delete_v5", &request, 5);
}

pub fn delete_unknown(s: &mut Session<'_>) {
    let t = s.name("missing");
    let v = s.v(ApiKey::DeleteTopics);
    let request = DeleteTopicsRequest::default()
        .with_timeout_ms(10_000)
        .with_topics(vec![DeleteTopicState::default().with_name(Some(t.into()))]);
    s.send("delete_unknown", &request, v);
}

pub fn delete_by_id(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let id = s.topic_id(&t);
    let v = s.v(ApiKey::DeleteTopics);
    let request = DeleteTopicsRequest::default()
        .with_timeout_ms(10_000)
        .with_topics(vec![DeleteTopicState::default()
            .with_name(None)
            .with_topic_id(id)]);
    s.send("delete_by_id", &request, v);
}

pub fn delete_unknown_id(s: &mut Session<'_>) {
    let v = s.v(ApiKey::DeleteTopics);
    let request = DeleteTopicsRequest::default()
        .with_timeout_ms(10_000)
        .with_topics(vec![DeleteTopicState::default()
            .with_name(None)
            .with_topic_id(Uuid([9; 16]))]);
    s.send("delete_unknown_id", &request, v);
}

fn partitions(name: &str, count: i32) -> CreatePartitionsTopic {
    CreatePartitionsTopic::default()
        .with_name(name.to_string())
        .with_count(count)
        .with_assignments(None)
}

fn create_partitions(topics: Vec<CreatePartitionsTopic>) -> CreatePartitionsRequest {
    CreatePartitionsRequest::default()
        .with_timeout_ms(10_000)
        .with_topics(topics)
}

pub fn partitions_increase(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let v = s.v(ApiKey::CreatePartitions);
    s.send(
        "add_partitions",
        &create_partitions(vec![partitions(&t, 3)]),
        v,
    );
    s.wait_for_leaders(&t, 3);
    metadata(s, "metadata", &t);
}

pub fn partitions_with_assignment(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let broker = s.broker();
    let v = s.v(ApiKey::CreatePartitions);
    let request = create_partitions(vec![partitions(&t, 2).with_assignments(Some(vec![
        CreatePartitionsAssignment::default().with_broker_ids(vec![BrokerId(broker)]),
    ]))]);
    s.send("add_assigned_partition", &request, v);
}

pub fn partitions_decrease(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 3, &[]);
    let v = s.v(ApiKey::CreatePartitions);
    s.send(
        "fewer_partitions",
        &create_partitions(vec![partitions(&t, 2)]),
        v,
    );
}

pub fn partitions_same_count(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 2, &[]);
    let v = s.v(ApiKey::CreatePartitions);
    s.send(
        "same_partitions",
        &create_partitions(vec![partitions(&t, 2)]),
        v,
    );
}

pub fn partitions_unknown_topic(s: &mut Session<'_>) {
    let t = s.name("missing");
    let v = s.v(ApiKey::CreatePartitions);
    s.send(
        "partitions_unknown_topic",
        &create_partitions(vec![partitions(&t, 2)]),
        v,
    );
}

pub fn partitions_validate_only(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let v = s.v(ApiKey::CreatePartitions);
    let request = create_partitions(vec![partitions(&t, 4)]).with_validate_only(true);
    s.send("partitions_validate_only", &request, v);
    metadata(s, "unchanged", &t);
}

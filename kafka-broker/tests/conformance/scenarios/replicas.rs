//! ElectLeaders (43), AlterPartitionReassignments (45), ListPartitionReassignments (46),
//! DescribeClientQuotas (48), AlterClientQuotas (49) and UpdateFeatures (57).
//!
//! One node, so every election is unnecessary and every reassignment stays on it; what is
//! compared is how each request is validated and answered. UpdateFeatures only ever validates:
//! a scenario must not change the real node's metadata.version under the others.

use std::time::{Duration, Instant};

use kafka_protocol::messages::alter_client_quotas_request::{EntityData, EntryData, OpData};
use kafka_protocol::messages::alter_partition_reassignments_request::{
    ReassignablePartition, ReassignableTopic,
};
use kafka_protocol::messages::describe_client_quotas_request::ComponentData;
use kafka_protocol::messages::elect_leaders_request::TopicPartitions;
use kafka_protocol::messages::list_partition_reassignments_request::ListPartitionReassignmentsTopics;
use kafka_protocol::messages::update_features_request::FeatureUpdateKey;
use kafka_protocol::messages::{
    AlterClientQuotasRequest, AlterPartitionReassignmentsRequest, DescribeClientQuotasRequest,
    ElectLeadersRequest, ListPartitionReassignmentsRequest, UpdateFeaturesRequest,
};
use kafka_protocol::{ApiKey, BrokerId};

use crate::harness::Session;

fn elect(kind: i8, topic: Option<(&str, &[i32])>) -> ElectLeadersRequest {
    ElectLeadersRequest::default()
        .with_election_type(kind)
        .with_timeout_ms(10_000)
        .with_topic_partitions(topic.map(|(t, ps)| {
            vec![TopicPartitions::default()
                .with_topic(t)
                .with_partitions(ps.to_vec())]
        }))
}

pub fn elect_leaders(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 2, &[]);
    let missing = s.name("missing");
    let v = s.v(ApiKey::ElectLeaders);
    s.send("preferred_not_needed", &elect(0, Some((&t, &[0, 1]))), v);
    s.send(
        "preferred_unknown_partition",
        &elect(0, Some((&t, &[7]))),
        v,
    );
    s.send(
        "preferred_unknown_topic",
        &elect(0, Some((&missing, &[0]))),
        v,
    );
    s.send("unclean_not_needed", &elect(1, Some((&t, &[0]))), v);
    s.send("preferred_v0", &elect(0, Some((&t, &[0]))), 0);
}

fn reassign(
    topic: &str,
    partition: i32,
    replicas: Option<Vec<i32>>,
) -> AlterPartitionReassignmentsRequest {
    AlterPartitionReassignmentsRequest::default()
        .with_timeout_ms(10_000)
        .with_topics(vec![ReassignableTopic::default()
            .with_name(topic)
            .with_partitions(vec![ReassignablePartition::default()
                .with_partition_index(partition)
                .with_replicas(
                    replicas.map(|r| r.into_iter().map(BrokerId).collect()),
                )])])
}

pub fn partition_reassignments(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let broker = s.broker();
    let missing = s.name("missing");
    let alter = s.v(ApiKey::AlterPartitionReassignments);
    let list = s.v(ApiKey::ListPartitionReassignments);
    let list_t = ListPartitionReassignmentsRequest::default()
        .with_timeout_ms(10_000)
        .with_topics(Some(vec![ListPartitionReassignmentsTopics::default()
            .with_name(t.clone())
            .with_partition_indexes(vec![0])]));
    s.send("list_none_ongoing", &list_t, list);
    s.send("cancel_none_ongoing", &reassign(&t, 0, None), alter);
    s.send(
        "to_same_replicas",
        &reassign(&t, 0, Some(vec![broker])),
        alter,
    );
    s.send(
        "to_unknown_broker",
        &reassign(&t, 0, Some(vec![broker, 9_999])),
        alter,
    );
    s.send("to_no_replicas", &reassign(&t, 0, Some(vec![])), alter);
    s.send(
        "to_duplicate_replicas",
        &reassign(&t, 0, Some(vec![broker, broker])),
        alter,
    );
    s.send(
        "unknown_partition",
        &reassign(&t, 5, Some(vec![broker])),
        alter,
    );
    s.send(
        "unknown_topic",
        &reassign(&missing, 0, Some(vec![broker])),
        alter,
    );
    s.send("list_after", &list_t, list);
}

fn user_filter(user: &str) -> DescribeClientQuotasRequest {
    DescribeClientQuotasRequest::default()
        .with_components(vec![ComponentData::default()
            .with_entity_type("user")
            .with_match_type(0)
            .with_match(Some(user.into()))])
        .with_strict(false)
}

fn set_quota(
    user: &str,
    key: &str,
    value: f64,
    remove: bool,
    validate_only: bool,
) -> AlterClientQuotasRequest {
    AlterClientQuotasRequest::default()
        .with_validate_only(validate_only)
        .with_entries(vec![EntryData::default()
            .with_entity(vec![EntityData::default()
                .with_entity_type("user")
                .with_entity_name(Some(user.into()))])
            .with_ops(vec![OpData::default()
                .with_key(key)
                .with_value(value)
                .with_remove(remove)])])
}

/// Waits (unrecorded) until a user's quotas have `count` entries: a KRaft broker applies an
/// alteration when it reads the controller's metadata log, a moment after answering.
fn wait_for_quotas(s: &mut Session<'_>, user: &str, count: usize) {
    let v = s.v(ApiKey::DescribeClientQuotas);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let r = s.call(&user_filter(user), v);
        if r.entries.map_or(0, |e| e.len()) == count {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn client_quotas(s: &mut Session<'_>) {
    let user = s.name("user");
    let describe = s.v(ApiKey::DescribeClientQuotas);
    let alter = s.v(ApiKey::AlterClientQuotas);
    s.send("describe_nothing_set", &user_filter(&user), describe);
    s.send(
        "validate_only",
        &set_quota(&user, "producer_byte_rate", 1024.0, false, true),
        alter,
    );
    s.send(
        "set",
        &set_quota(&user, "producer_byte_rate", 1024.0, false, false),
        alter,
    );
    wait_for_quotas(s, &user, 1);
    s.send("describe_set", &user_filter(&user), describe);
    s.send(
        "unknown_key",
        &set_quota(&user, "no_such_quota", 1.0, false, false),
        alter,
    );
    s.send(
        "ip_key_on_user",
        &set_quota(&user, "connection_creation_rate", 1.0, false, false),
        alter,
    );
    s.send(
        "remove",
        &set_quota(&user, "producer_byte_rate", 0.0, true, false),
        alter,
    );
    wait_for_quotas(s, &user, 0);
    s.send("describe_removed", &user_filter(&user), describe);
    let bad_type = DescribeClientQuotasRequest::default()
        .with_components(vec![ComponentData::default()
            .with_entity_type("user")
            .with_match_type(7)
            .with_match(None)])
        .with_strict(false);
    s.send("describe_unknown_match_type", &bad_type, describe);
}

fn feature(name: &str, level: i16, upgrade_type: i8) -> UpdateFeaturesRequest {
    UpdateFeaturesRequest::default()
        .with_timeout_ms(10_000)
        .with_validate_only(true)
        .with_feature_updates(vec![FeatureUpdateKey::default()
            .with_feature(name)
            .with_max_version_level(level)
            .with_upgrade_type(upgrade_type)])
}

pub fn update_features(s: &mut Session<'_>) {
    let v = s.v(ApiKey::UpdateFeatures);
    s.send("unknown_feature", &feature("no.such.feature", 1, 1), v);
    s.send(
        "metadata_version_too_high",
        &feature("metadata.version", 10_000, 1),
        v,
    );
    s.send(
        "metadata_version_downgrade_as_upgrade",
        &feature("metadata.version", 7, 1),
        v,
    );
    s.send(
        "unknown_upgrade_type",
        &feature("metadata.version", 7, 9),
        v,
    );
}

fn describe_users(users: &[&str]) -> kafka_protocol::messages::DescribeUserScramCredentialsRequest {
    use kafka_protocol::messages::describe_user_scram_credentials_request::UserName;
    kafka_protocol::messages::DescribeUserScramCredentialsRequest::default().with_users(Some(
        users
            .iter()
            .map(|u| UserName::default().with_name(*u))
            .collect(),
    ))
}

fn upsert(
    user: &str,
    mechanism: i8,
    iterations: i32,
) -> kafka_protocol::messages::AlterUserScramCredentialsRequest {
    use kafka_protocol::messages::alter_user_scram_credentials_request::ScramCredentialUpsertion;
    kafka_protocol::messages::AlterUserScramCredentialsRequest::default().with_upsertions(vec![
        ScramCredentialUpsertion::default()
            .with_name(user)
            .with_mechanism(mechanism)
            .with_iterations(iterations)
            .with_salt(bytes::Bytes::from_static(b"0123456789abcdef"))
            .with_salted_password(bytes::Bytes::from(vec![7u8; 32])),
    ])
}

fn delete_user(
    user: &str,
    mechanism: i8,
) -> kafka_protocol::messages::AlterUserScramCredentialsRequest {
    use kafka_protocol::messages::alter_user_scram_credentials_request::ScramCredentialDeletion;
    kafka_protocol::messages::AlterUserScramCredentialsRequest::default().with_deletions(vec![
        ScramCredentialDeletion::default()
            .with_name(user)
            .with_mechanism(mechanism),
    ])
}

pub fn scram_credentials(s: &mut Session<'_>) {
    let user = s.name("user");
    let describe = s.v(ApiKey::DescribeUserScramCredentials);
    let alter = s.v(ApiKey::AlterUserScramCredentials);
    s.send("describe_unknown_user", &describe_users(&[&user]), describe);
    s.send("upsert", &upsert(&user, 1, 4096), alter);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let r = s.call(&describe_users(&[&user]), describe);
        if r.results
            .first()
            .is_some_and(|r| !r.credential_infos.is_empty())
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    s.send("describe_after_upsert", &describe_users(&[&user]), describe);
    s.send("describe_twice", &describe_users(&[&user, &user]), describe);
    s.send("too_few_iterations", &upsert(&user, 1, 100), alter);
    s.send("unknown_mechanism", &upsert(&user, 9, 4096), alter);
    s.send("delete_missing_mechanism", &delete_user(&user, 2), alter);
    s.send("delete", &delete_user(&user, 1), alter);
}

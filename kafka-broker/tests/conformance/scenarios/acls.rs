//! ACLs: CreateAcls, DescribeAcls and DeleteAcls, and the decisions made with them.
//!
//! [`without_an_authorizer`] runs in the main corpus (no authorizer on either side). The others
//! run on the secured pair (see `run_secured` in `main.rs`): SASL PLAIN users, Kafka's
//! `StandardAuthorizer` against the bundled broker's ACLs, `admin` a super user. Setup runs as
//! `admin` on connection 0; the recorded decisions are those of `alice`, `bob` and `carol`,
//! each on its own connection. Every scenario deletes its ACLs at the end, and the next starts
//! only once the broker's authorizer has none (Kafka applies ACLs from its metadata log, just
//! after answering).
//!
//! The decision corpus: literal, prefixed and wildcard (`*`) patterns; allow and deny; a
//! principal, `User:*`, a host; READ/WRITE/DELETE/ALTER implying DESCRIBE and ALTER_CONFIGS
//! implying DESCRIBE_CONFIGS for ALLOW only; topics, groups, the cluster and transactional
//! ids. KIP-430's authorized-operations bit sets (Metadata, DescribeGroups, DescribeCluster)
//! record every operation's decision for a resource at once.

use std::time::{Duration, Instant};

use kafka_protocol::acl::{AclOperation as Op, AclPermissionType as Perm, PatternType as Pat};
use kafka_protocol::acl::{ResourceType as Res, CLUSTER_NAME};
use kafka_protocol::messages::create_acls_request::AclCreation;
use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::delete_acls_request::DeleteAclsFilter;
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::*;
use kafka_protocol::ApiKey;

use super::fetch::fetch_request;
use crate::harness::{batch, produce_request, Session};

const ALICE: (&str, &str) = ("alice", "alice-secret");
const BOB: (&str, &str) = ("bob", "bob-secret");
const CAROL: (&str, &str) = ("carol", "carol-secret");

/// One ACL to create.
fn acl(
    resource: Res,
    name: &str,
    pattern: Pat,
    principal: &str,
    host: &str,
    operation: Op,
    permission: Perm,
) -> AclCreation {
    AclCreation::default()
        .with_resource_type(resource.code())
        .with_resource_name(name.to_string())
        .with_resource_pattern_type(pattern.code())
        .with_principal(principal.to_string())
        .with_host(host.to_string())
        .with_operation(operation.code())
        .with_permission_type(permission.code())
}

/// An ALLOW from any host.
fn allow(resource: Res, name: &str, pattern: Pat, principal: &str, op: Op) -> AclCreation {
    acl(resource, name, pattern, principal, "*", op, Perm::Allow)
}

/// A DENY from any host.
fn deny(resource: Res, name: &str, pattern: Pat, principal: &str, op: Op) -> AclCreation {
    acl(resource, name, pattern, principal, "*", op, Perm::Deny)
}

fn describe_filter(resource: Res, name: Option<&str>, pattern: Pat) -> DescribeAclsRequest {
    DescribeAclsRequest::default()
        .with_resource_type_filter(resource.code())
        .with_resource_name_filter(name.map(|n| n.to_string().into()))
        .with_pattern_type_filter(pattern.code())
        .with_principal_filter(None)
        .with_host_filter(None)
        .with_operation(Op::Any.code())
        .with_permission_type(Perm::Any.code())
}

fn every_acl() -> DescribeAclsRequest {
    describe_filter(Res::Any, None, Pat::Any)
}

fn delete_filter(resource: Res, name: Option<&str>, pattern: Pat) -> DeleteAclsFilter {
    DeleteAclsFilter::default()
        .with_resource_type_filter(resource.code())
        .with_resource_name_filter(name.map(|n| n.to_string().into()))
        .with_pattern_type_filter(pattern.code())
        .with_principal_filter(None)
        .with_host_filter(None)
        .with_operation(Op::Any.code())
        .with_permission_type(Perm::Any.code())
}

/// Waits (as admin, not recorded) until the broker's authorizer holds `expected` ACLs.
fn settle(s: &mut Session<'_>, expected: usize) {
    let v = s.v(ApiKey::DescribeAcls);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = s.call(&every_acl(), v);
        let n: usize = r.resources.iter().map(|r| r.acls.len()).sum();
        if n == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{}: {n} ACLs, expected {expected}",
            s.target.name
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Creates `acls` as admin (not recorded) and waits until the broker applies them.
fn grant(s: &mut Session<'_>, acls: Vec<AclCreation>) {
    let n = acls.len();
    let v = s.v(ApiKey::CreateAcls);
    let r = s.call(&CreateAclsRequest::default().with_creations(acls), v);
    assert!(
        r.results.iter().all(|r| !r.error_code.is_error()),
        "{}: {r:?}",
        s.target.name
    );
    settle(s, n);
}

/// Deletes every ACL (as admin, not recorded) and waits until the broker has none.
fn revoke_all(s: &mut Session<'_>) {
    let v = s.v(ApiKey::DeleteAcls);
    let request =
        DeleteAclsRequest::default().with_filters(vec![delete_filter(Res::Any, None, Pat::Any)]);
    s.call(&request, v);
    settle(s, 0);
}

fn metadata(topics: &[&str]) -> MetadataRequest {
    MetadataRequest::default()
        .with_topics(Some(
            topics
                .iter()
                .map(|t| MetadataRequestTopic::default().with_name(Some(t.to_string().into())))
                .collect(),
        ))
        .with_allow_auto_topic_creation(false)
        .with_include_topic_authorized_operations(true)
}

fn list_latest(topic: &str) -> ListOffsetsRequest {
    ListOffsetsRequest::default()
        .with_replica_id(-1)
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(topic.to_string())
            .with_partitions(vec![ListOffsetsPartition::default()
                .with_partition_index(0)
                .with_timestamp(-1)])])
}

/// The three principals whose decisions are recorded, each on a connection of its own.
fn logins(s: &mut Session<'_>) -> [(&'static str, usize); 3] {
    [ALICE, BOB, CAROL].map(|(user, password)| (user, s.login(user, password)))
}

/// The main corpus (no authorizer): the ACL APIs answer SECURITY_DISABLED.
pub fn without_an_authorizer(s: &mut Session<'_>) {
    let t = s.name("t");
    let v = s.v(ApiKey::DescribeAcls);
    s.send("describe", &every_acl(), v);
    let v = s.v(ApiKey::CreateAcls);
    let create = CreateAclsRequest::default().with_creations(vec![
        allow(Res::Topic, &t, Pat::Literal, "User:alice", Op::Read),
        allow(Res::Group, &t, Pat::Prefixed, "User:alice", Op::Read),
    ]);
    s.send("create", &create, v);
    let v = s.v(ApiKey::DeleteAcls);
    let delete = DeleteAclsRequest::default().with_filters(vec![delete_filter(
        Res::Topic,
        Some(&t),
        Pat::Literal,
    )]);
    s.send("delete", &delete, v);
}

/// Creating (valid and invalid bindings), describing with each kind of filter, deleting; and a
/// principal without ALTER or DESCRIBE on the cluster refused all three.
pub fn bindings(s: &mut Session<'_>) {
    let t = s.name("t");
    let p = s.name("p");
    let g = s.name("g");
    let create_v = s.v(ApiKey::CreateAcls);
    let describe_v = s.v(ApiKey::DescribeAcls);
    let delete_v = s.v(ApiKey::DeleteAcls);
    let valid = CreateAclsRequest::default().with_creations(vec![
        allow(Res::Topic, &t, Pat::Literal, "User:alice", Op::Read),
        allow(Res::Topic, &p, Pat::Prefixed, "User:alice", Op::Write),
        acl(
            Res::Topic,
            &t,
            Pat::Literal,
            "User:bob",
            "127.0.0.1",
            Op::All,
            Perm::Deny,
        ),
        allow(Res::Group, &g, Pat::Literal, "User:*", Op::Describe),
        allow(
            Res::Cluster,
            CLUSTER_NAME,
            Pat::Literal,
            "User:bob",
            Op::Describe,
        ),
    ]);
    s.send("create", &valid, create_v);
    let invalid = [
        allow(Res::Topic, &t, Pat::Match, "User:alice", Op::Read),
        allow(Res::Topic, &t, Pat::Any, "User:alice", Op::Read),
        allow(Res::Topic, &t, Pat::Literal, "User:alice", Op::Any),
        acl(
            Res::Topic,
            &t,
            Pat::Literal,
            "User:alice",
            "*",
            Op::Read,
            Perm::Any,
        ),
        allow(Res::Any, &t, Pat::Literal, "User:alice", Op::Read),
        allow(Res::Cluster, "other", Pat::Literal, "User:alice", Op::Alter),
        allow(Res::Topic, "", Pat::Literal, "User:alice", Op::Read),
    ];
    for (i, creation) in invalid.into_iter().enumerate() {
        let request = CreateAclsRequest::default().with_creations(vec![creation]);
        s.send(&format!("create_invalid_{i}"), &request, create_v);
    }
    settle(s, 5);
    s.send(
        "describe_topic_literal",
        &describe_filter(Res::Topic, Some(&t), Pat::Literal),
        describe_v,
    );
    let under_p = format!("{p}.x");
    s.send(
        "describe_match",
        &describe_filter(Res::Topic, Some(&under_p), Pat::Match),
        describe_v,
    );
    s.send(
        "describe_prefixed",
        &describe_filter(Res::Any, None, Pat::Prefixed),
        describe_v,
    );
    s.send(
        "describe_bob",
        &every_acl().with_principal_filter(Some("User:bob".into())),
        describe_v,
    );
    s.send(
        "describe_denials",
        &every_acl().with_permission_type(Perm::Deny.code()),
        describe_v,
    );
    s.send(
        "describe_group",
        &describe_filter(Res::Group, None, Pat::Any),
        describe_v,
    );
    s.send(
        "describe_nothing",
        &describe_filter(Res::Topic, Some("nothing"), Pat::Literal),
        describe_v,
    );
    let delete = DeleteAclsRequest::default().with_filters(vec![
        delete_filter(Res::Topic, Some(&t), Pat::Literal)
            .with_principal_filter(Some("User:alice".into())),
        delete_filter(Res::Any, None, Pat::Any).with_principal_filter(Some("User:nobody".into())),
    ]);
    s.send("delete", &delete, delete_v);
    settle(s, 4);
    s.send("describe_after_delete", &every_acl(), describe_v);

    let [(_, alice), (_, bob), _] = logins(s);
    s.send_on(alice, "alice_describe", &every_acl(), describe_v);
    s.send_on(bob, "bob_describe", &every_acl(), describe_v);
    s.send_on(alice, "alice_create", &valid, create_v);
    s.send_on(alice, "alice_delete", &delete, delete_v);
    revoke_all(s);
}

/// Topic decisions: Metadata with authorized operations, Produce, Fetch and ListOffsets as
/// three principals over literal, prefixed, wildcard, deny and host ACLs.
pub fn topic_decisions(s: &mut Session<'_>) {
    let [orders, payments, payroll, cfg, public, hidden, other] = [
        "t.orders",
        "t.payments",
        "t.payroll",
        "t.cfg",
        "t.public",
        "t.hidden",
        "t.other",
    ]
    .map(|t| s.name(t));
    let all = [&orders, &payments, &payroll, &cfg, &public, &hidden, &other];
    for t in all {
        s.create_topic(t, 1, &[]);
    }
    s.produce(&orders, 0, batch(&["first"]));
    let pay = s.name("t.pay");
    let everything = s.name("t.");
    grant(
        s,
        vec![
            allow(Res::Topic, &orders, Pat::Literal, "User:alice", Op::Read),
            allow(Res::Topic, &pay, Pat::Prefixed, "User:alice", Op::Write),
            deny(Res::Topic, &payroll, Pat::Literal, "User:alice", Op::Write),
            allow(
                Res::Topic,
                &cfg,
                Pat::Literal,
                "User:alice",
                Op::AlterConfigs,
            ),
            allow(Res::Topic, &public, Pat::Literal, "User:*", Op::Describe),
            allow(Res::Topic, &everything, Pat::Prefixed, "User:bob", Op::All),
            deny(Res::Topic, &hidden, Pat::Literal, "User:bob", Op::Describe),
            acl(
                Res::Topic,
                &other,
                Pat::Literal,
                "User:bob",
                "127.0.0.1",
                Op::Read,
                Perm::Deny,
            ),
            deny(Res::Topic, &orders, Pat::Literal, "User:carol", Op::Read),
            allow(Res::Topic, &orders, Pat::Literal, "User:*", Op::Read),
        ],
    );
    let missing = s.name("t.missing");
    let mut names: Vec<&str> = all.iter().map(|t| t.as_str()).collect();
    names.push(&missing);
    let metadata_v = s.v(ApiKey::Metadata);
    // Topic ids are numbered in the order they first appear: one topic at a time fixes it.
    for (i, t) in all.iter().enumerate() {
        s.send(&format!("admin_metadata_{i}"), &metadata(&[t]), metadata_v);
    }
    let produce_v = s.v(ApiKey::Produce);
    let fetch_v = s.v(ApiKey::Fetch);
    let list_v = s.v(ApiKey::ListOffsets);
    let orders_id = s.topic_id(&orders);
    let payments_id = s.topic_id(&payments);
    for (user, conn) in logins(s) {
        s.send_on(
            conn,
            &format!("{user}_metadata"),
            &metadata(&names),
            metadata_v,
        );
        s.send_on(
            conn,
            &format!("{user}_metadata_all"),
            &MetadataRequest::default().with_topics(None),
            metadata_v,
        );
        for (label, topic) in [
            ("orders", &orders),
            ("payments", &payments),
            ("payroll", &payroll),
        ] {
            // Produce v13 names the topic by id (KIP-516), older versions by name.
            let mut request = produce_request(topic, 0, batch(&[user]), 1);
            request.topic_data[0].topic_id = s.topic_id(topic);
            s.send_on(
                conn,
                &format!("{user}_produce_{label}"),
                &request,
                produce_v,
            );
        }
        s.send_on(
            conn,
            &format!("{user}_fetch_orders"),
            &fetch_request(orders_id, 0, 0),
            fetch_v,
        );
        s.send_on(
            conn,
            &format!("{user}_fetch_payments"),
            &fetch_request(payments_id, 0, 0),
            fetch_v,
        );
        s.send_on(
            conn,
            &format!("{user}_list_offsets_cfg"),
            &list_latest(&cfg),
            list_v,
        );
    }
    revoke_all(s);
}

/// Groups, the cluster and transactional ids: FindCoordinator, DescribeGroups and ListGroups,
/// DescribeCluster's operations, JoinGroup, OffsetFetch and OffsetCommit, InitProducerId; and
/// the topic admin APIs (CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs).
pub fn group_and_cluster_decisions(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let [g1, blocked, other] = ["g1", "g-blocked", "other"].map(|g| s.name(g));
    let g = s.name("g");
    let tx = s.name("tx");
    grant(
        s,
        vec![
            allow(Res::Group, &g, Pat::Prefixed, "User:alice", Op::Read),
            deny(Res::Group, &blocked, Pat::Literal, "User:alice", Op::Read),
            allow(
                Res::Cluster,
                CLUSTER_NAME,
                Pat::Literal,
                "User:alice",
                Op::Describe,
            ),
            allow(Res::Group, &g1, Pat::Literal, "User:bob", Op::Describe),
            allow(
                Res::TransactionalId,
                &tx,
                Pat::Literal,
                "User:alice",
                Op::Write,
            ),
            allow(
                Res::Cluster,
                CLUSTER_NAME,
                Pat::Literal,
                "User:bob",
                Op::AlterConfigs,
            ),
            allow(Res::Topic, &t, Pat::Literal, "User:bob", Op::Describe),
        ],
    );
    let find_v = s.v(ApiKey::FindCoordinator);
    let describe_v = s.v(ApiKey::DescribeGroups);
    let list_v = s.v(ApiKey::ListGroups);
    let cluster_v = s.v(ApiKey::DescribeCluster);
    let join_v = s.v(ApiKey::JoinGroup);
    let fetch_v = s.v(ApiKey::OffsetFetch);
    let commit_v = s.v(ApiKey::OffsetCommit);
    let init_v = s.v(ApiKey::InitProducerId);
    let create_v = s.v(ApiKey::CreateTopics);
    let delete_v = s.v(ApiKey::DeleteTopics);
    let partitions_v = s.v(ApiKey::CreatePartitions);
    let configs_v = s.v(ApiKey::DescribeConfigs);
    let broker = s.broker().to_string();
    let t_id = s.topic_id(&t);
    for (user, conn) in logins(s) {
        let label = |what: &str| format!("{user}_{what}");
        let groups = FindCoordinatorRequest::default()
            .with_key_type(0)
            .with_coordinator_keys(vec![
                g1.clone().into(),
                blocked.clone().into(),
                other.clone().into(),
            ]);
        s.send_on(conn, &label("find_group_coordinators"), &groups, find_v);
        if user != "alice" {
            // Alice may describe the transactional id, which would make Kafka create its
            // transaction log: only the refusals are recorded.
            let txn = FindCoordinatorRequest::default()
                .with_key_type(1)
                .with_coordinator_keys(vec![tx.clone().into()]);
            s.send_on(conn, &label("find_txn_coordinator"), &txn, find_v);
            let init = InitProducerIdRequest::default()
                .with_transactional_id(Some(tx.clone().into()))
                .with_transaction_timeout_ms(60_000)
                .with_producer_id(kafka_protocol::ProducerId(-1))
                .with_producer_epoch(-1);
            s.send_on(conn, &label("init_transactional"), &init, init_v);
        }
        if user != "bob" {
            let idempotent = InitProducerIdRequest::default()
                .with_transactional_id(None)
                .with_transaction_timeout_ms(60_000)
                .with_producer_id(kafka_protocol::ProducerId(-1))
                .with_producer_epoch(-1);
            s.send_on(conn, &label("init_idempotent"), &idempotent, init_v);
        }
        let describe = DescribeGroupsRequest::default()
            .with_groups(vec![
                g1.clone().into(),
                blocked.clone().into(),
                other.clone().into(),
            ])
            .with_include_authorized_operations(true);
        s.send_on(conn, &label("describe_groups"), &describe, describe_v);
        s.send_on(
            conn,
            &label("list_groups"),
            &ListGroupsRequest::default(),
            list_v,
        );
        let cluster =
            DescribeClusterRequest::default().with_include_cluster_authorized_operations(true);
        s.send_on(conn, &label("describe_cluster"), &cluster, cluster_v);
        let join = JoinGroupRequest::default()
            .with_group_id(blocked.as_str())
            .with_session_timeout_ms(10_000)
            .with_rebalance_timeout_ms(10_000)
            .with_member_id(String::new())
            .with_protocol_type("consumer");
        s.send_on(conn, &label("join_blocked"), &join, join_v);
        let offsets = OffsetFetchRequest::default()
            .with_group_id(g1.as_str())
            .with_topics(None)
            .with_groups(vec![
                offset_fetch_request::OffsetFetchRequestGroup::default()
                    .with_group_id(g1.as_str())
                    .with_topics(None),
            ]);
        s.send_on(conn, &label("fetch_offsets"), &offsets, fetch_v);
        let commit = OffsetCommitRequest::default()
            .with_group_id(g1.as_str())
            .with_generation_id_or_member_epoch(-1)
            .with_member_id(String::new())
            .with_topics(vec![OffsetCommitRequestTopic::default()
                .with_name(t.as_str())
                .with_topic_id(t_id)
                .with_partitions(vec![OffsetCommitRequestPartition::default()
                    .with_partition_index(0)
                    .with_committed_offset(0)])]);
        s.send_on(conn, &label("commit_offsets"), &commit, commit_v);
        let create = CreateTopicsRequest::default()
            .with_timeout_ms(10_000)
            .with_topics(vec![CreatableTopic::default()
                .with_name(s.name(&format!("new-{user}")))
                .with_num_partitions(1)
                .with_replication_factor(1)])
            .with_validate_only(true);
        s.send_on(conn, &label("create_topic"), &create, create_v);
        let delete = DeleteTopicsRequest::default()
            .with_timeout_ms(10_000)
            .with_topic_names(vec![t.clone().into()])
            .with_topics(vec![
                DeleteTopicState::default().with_name(Some(t.clone().into()))
            ]);
        s.send_on(conn, &label("delete_topic"), &delete, delete_v);
        let grow = CreatePartitionsRequest::default()
            .with_timeout_ms(10_000)
            .with_topics(vec![CreatePartitionsTopic::default()
                .with_name(t.as_str())
                .with_count(2)])
            .with_validate_only(true);
        s.send_on(conn, &label("create_partitions"), &grow, partitions_v);
        let configs = DescribeConfigsRequest::default().with_resources(vec![
            DescribeConfigsResource::default()
                .with_resource_type(2)
                .with_resource_name(t.as_str())
                .with_configuration_keys(Some(vec!["cleanup.policy".to_string().into()])),
            DescribeConfigsResource::default()
                .with_resource_type(4)
                .with_resource_name(broker.as_str())
                .with_configuration_keys(Some(vec!["num.partitions".to_string().into()])),
        ]);
        s.send_on(conn, &label("describe_configs"), &configs, configs_v);
    }
    revoke_all(s);
}

//! ACLs on the bundled broker (SASL PLAIN users, ACLs on, `admin` a super user): the admin
//! client creates, describes and deletes bindings; a principal with no ACL is refused
//! TOPIC_AUTHORIZATION_FAILED and nothing is written, one with WRITE produces; deny wins;
//! without ALTER on the cluster a user cannot grant itself anything; a cluster without ACLs
//! answers SECURITY_DISABLED.

use std::collections::BTreeMap;
use std::time::Duration;

use kafka_admin::acl::{
    AccessControlEntry, AclBinding, AclBindingFilter, AclOperation, PatternType, ResourcePattern,
    ResourceType,
};
use kafka_admin::{AdminClient, AdminConfig, AdminError, NewTopic, OffsetSpec};
use kafka_broker::{AclConfig, Cluster, ClusterConfig, ErrorCode, SaslConfig};
use kafka_producer::{Producer, ProducerConfig, ProducerError, ProducerRecord};
use kafka_protocol::sasl::Mechanism;

const USERS: &[(&str, &str)] = &[
    ("admin", "admin-secret"),
    ("alice", "alice-secret"),
    ("bob", "bob-secret"),
];

async fn secured_cluster() -> Cluster {
    let mut sasl = SaslConfig::new(&[Mechanism::Plain]);
    for (u, p) in USERS {
        sasl = sasl.with_user(*u, *p);
    }
    Cluster::start(
        ClusterConfig::default()
            .with_brokers(2)
            .with_sasl(sasl)
            .with_acl(AclConfig::new().with_super_user("admin")),
    )
    .await
    .expect("cluster starts")
}

fn login<'a>(bootstrap: &'a str, user: &'a str) -> Vec<(&'a str, &'a str)> {
    let password = USERS.iter().find(|(u, _)| *u == user).map(|(_, p)| *p);
    vec![
        ("bootstrap.servers", bootstrap),
        ("security.protocol", "SASL_PLAINTEXT"),
        ("sasl.mechanism", "PLAIN"),
        ("sasl.username", user),
        ("sasl.password", password.unwrap_or_default()),
    ]
}

async fn admin_as(bootstrap: &str, user: &str) -> AdminClient {
    let mut props = login(bootstrap, user);
    props.push(("default.api.timeout.ms", "10000"));
    AdminClient::connect(AdminConfig::from_properties(props).unwrap())
        .await
        .expect("admin connects")
}

async fn producer_as(bootstrap: &str, user: &str) -> Producer {
    let mut props = login(bootstrap, user);
    props.extend([("max.block.ms", "5000"), ("delivery.timeout.ms", "5000")]);
    props.extend([("linger.ms", "0"), ("request.timeout.ms", "3000")]);
    Producer::new(ProducerConfig::from_properties(props).unwrap())
        .await
        .expect("producer connects")
}

async fn end_offset(admin: &AdminClient, topic: &str) -> i64 {
    let tp = (topic.into(), 0);
    let listed = admin
        .list_offsets(BTreeMap::from([(tp.clone(), OffsetSpec::Latest)]))
        .await
        .unwrap();
    listed[&tp].as_ref().expect("offset").offset
}

fn topic_acl(name: &str, pattern: PatternType, entry: AccessControlEntry) -> AclBinding {
    AclBinding::new(
        ResourcePattern {
            resource_type: ResourceType::Topic,
            name: name.into(),
            pattern_type: pattern,
        },
        entry,
    )
}

/// Waits until the broker's authorizer holds `n` ACLs: Kafka applies new ACLs from its
/// metadata log just after answering CreateAcls.
async fn settle(admin: &AdminClient, n: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let held = admin.describe_acls(&AclBindingFilter::any()).await.unwrap();
        if held.len() == n {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{held:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acls_decide_who_produces() {
    let cluster = secured_cluster().await;
    who_produces(&cluster.bootstrap_servers()).await;
    cluster.shutdown().await;
}

/// The same against Apache Kafka with SASL PLAIN and its `StandardAuthorizer`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acls_decide_who_produces_on_kafka() {
    let config = kafka_testkit::RealKafkaConfig::new(1)
        .with_sasl_listener(USERS)
        .with_property(
            "authorizer.class.name",
            "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        )
        .with_property("super.users", "User:admin;User:ANONYMOUS");
    let Some(kafka) =
        tokio::task::spawn_blocking(move || kafka_testkit::RealKafka::start_or_skip(config))
            .await
            .unwrap()
    else {
        return;
    };
    who_produces(&kafka.sasl_bootstrap()).await;
    drop(kafka);
}

/// ACLs for alice (WRITE on `acl.*` but a DENY on `acl.payroll`), none for bob; `admin` is a
/// super user. Ends with no ACLs.
async fn who_produces(bootstrap: &str) {
    let bootstrap = bootstrap.to_string();
    let admin = admin_as(&bootstrap, "admin").await;
    let created = admin
        .create_topics(vec![
            NewTopic::new("acl.orders", 1, 1),
            NewTopic::new("acl.payroll", 1, 1),
        ])
        .await
        .unwrap();
    assert!(created.values().all(Result::is_ok), "{created:?}");

    // Alice may write every acl.* topic but acl.payroll; bob has nothing.
    let acls = vec![
        topic_acl(
            "acl.",
            PatternType::Prefixed,
            AccessControlEntry::allow("User:alice", AclOperation::Write),
        ),
        topic_acl(
            "acl.payroll",
            PatternType::Literal,
            AccessControlEntry::deny("User:alice", AclOperation::Write),
        ),
    ];
    let results = admin.create_acls(acls.clone()).await.unwrap();
    assert_eq!(results.len(), 2);
    assert!(results.values().all(Result::is_ok), "{results:?}");
    settle(&admin, 2).await;
    let mut listed = admin
        .describe_acls(&AclBindingFilter::for_principal("User:alice"))
        .await
        .unwrap();
    listed.sort();
    let mut expected = acls.clone();
    expected.sort();
    assert_eq!(listed, expected);
    // MATCH selects the patterns that apply to one name: both, for acl.payroll.
    let matching = admin
        .describe_acls(&AclBindingFilter {
            resource_type: ResourceType::Topic,
            name: Some("acl.payroll".into()),
            pattern_type: PatternType::Match,
            ..AclBindingFilter::any()
        })
        .await
        .unwrap();
    assert_eq!(matching.len(), 2, "{matching:?}");

    // Bob: refused before anything is written, with the error that says why.
    let bob = producer_as(&bootstrap, "bob").await;
    let refused = bob
        .send(ProducerRecord::new("acl.orders").with_value("from bob"))
        .await;
    match refused {
        Err(ProducerError::Topic { code, .. }) => {
            assert_eq!(code, ErrorCode::TopicAuthorizationFailed)
        }
        Err(other) => panic!("expected TOPIC_AUTHORIZATION_FAILED, got {other}"),
        Ok(_) => panic!("bob's send was accepted"),
    }
    bob.close(Duration::from_secs(2)).await;
    assert_eq!(end_offset(&admin, "acl.orders").await, 0, "nothing written");

    // Alice writes acl.orders, but the DENY wins on acl.payroll (which she may still
    // describe: her ALLOW WRITE on acl.* implies DESCRIBE, the DENY WRITE does not deny it).
    let alice = producer_as(&bootstrap, "alice").await;
    let written = alice
        .send(ProducerRecord::new("acl.orders").with_value("from alice"))
        .await
        .unwrap()
        .await
        .expect("alice may write acl.orders");
    assert_eq!(written.offset, 0);
    let denied = alice
        .send(ProducerRecord::new("acl.payroll").with_value("payroll"))
        .await
        .unwrap()
        .await;
    match denied {
        Err(ProducerError::Broker(code)) => assert_eq!(code, ErrorCode::TopicAuthorizationFailed),
        other => panic!("expected TOPIC_AUTHORIZATION_FAILED, got {other:?}"),
    }
    alice.close(Duration::from_secs(2)).await;
    assert_eq!(end_offset(&admin, "acl.orders").await, 1);
    assert_eq!(
        end_offset(&admin, "acl.payroll").await,
        0,
        "nothing written"
    );

    // Alice cannot grant herself more: CreateAcls needs ALTER on the cluster.
    let alice_admin = admin_as(&bootstrap, "alice").await;
    let grant = alice_admin
        .create_acls(vec![AclBinding::new(
            ResourcePattern::cluster(),
            AccessControlEntry::allow("User:alice", AclOperation::All),
        )])
        .await;
    match grant {
        Err(AdminError::Broker { code, .. }) => {
            assert_eq!(code, ErrorCode::ClusterAuthorizationFailed)
        }
        other => panic!("expected CLUSTER_AUTHORIZATION_FAILED, got {other:?}"),
    }
    // Nor see the topics she has no ACL for... she may describe acl.* only.
    let topics = alice_admin.list_topics(false).await.unwrap();
    let names: Vec<&str> = topics.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["acl.orders", "acl.payroll"]);

    // A binding Kafka would refuse is refused per binding.
    let invalid = admin
        .create_acls(vec![topic_acl(
            "",
            PatternType::Literal,
            AccessControlEntry::allow("User:alice", AclOperation::Read),
        )])
        .await
        .unwrap();
    let err = invalid.values().next().unwrap().as_ref().unwrap_err();
    assert!(
        err.to_string().contains("Invalid empty resource name"),
        "{err}"
    );

    // Deleting by filter returns what was deleted; then bob's situation is alice's.
    let deleted = admin
        .delete_acls(vec![AclBindingFilter::for_principal("User:alice")])
        .await
        .unwrap();
    let gone = deleted.values().next().unwrap().as_ref().unwrap();
    assert_eq!(gone.len(), 2);
    settle(&admin, 0).await;
}

#[tokio::test]
async fn without_acls_the_acl_apis_say_security_is_disabled() {
    let cluster = Cluster::start(ClusterConfig::default()).await.unwrap();
    let admin = AdminClient::connect(AdminConfig::new(&cluster.bootstrap_servers()))
        .await
        .unwrap();
    match admin.describe_acls(&AclBindingFilter::any()).await {
        Err(AdminError::Broker { code, .. }) => assert_eq!(code, ErrorCode::SecurityDisabled),
        other => panic!("expected SECURITY_DISABLED, got {other:?}"),
    }
    cluster.shutdown().await;
}

/// Mutual TLS: a client certificate is the principal (`User:` and its subject, as Kafka's
/// default SSL principal builder names it), so ACLs apply to certificate users.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_are_principals() {
    let server_ca = kafka_testkit::tls::TestCa::new("broker CA");
    let client_ca = kafka_testkit::tls::TestCa::new("client CA");
    let (cert, key) = server_ca.issue(&["127.0.0.1"]);
    let tls = kafka_broker::TlsConfig::new(cert, key).with_client_ca(client_ca.pem());
    let cluster = Cluster::start(
        ClusterConfig::default()
            .with_tls(tls)
            .with_acl(AclConfig::new().with_super_user("User:CN=admin,O=Example")),
    )
    .await
    .unwrap();
    // Setup as the super user's certificate.
    let (cert, key) = client_ca.issue_client("admin", "Example");
    let bootstrap = cluster.bootstrap_servers();
    let ca = server_ca.pem();
    let admin = AdminClient::connect(
        AdminConfig::from_properties([
            ("bootstrap.servers", bootstrap.as_str()),
            ("security.protocol", "SSL"),
            ("ssl.ca.pem", ca.as_str()),
            ("ssl.certificate.pem", cert.as_str()),
            ("ssl.key.pem", key.as_str()),
        ])
        .unwrap(),
    )
    .await
    .unwrap();
    certificates_decide_who_produces(&admin, &bootstrap, &server_ca, &client_ca).await;
    cluster.shutdown().await;
}

/// The same principals on Apache Kafka (an SSL listener requiring client certificates, its
/// StandardAuthorizer): the ACL for `User:CN=alice,O=Example` lets alice's certificate write
/// and not mallory's, so our principal names are Kafka's; a certificate from an unknown CA is
/// refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_are_principals_on_kafka() {
    let server_ca = kafka_testkit::tls::TestCa::new("broker CA");
    let client_ca = kafka_testkit::tls::TestCa::new("client CA");
    let (cert, key) = server_ca.issue(&["127.0.0.1", "localhost"]);
    let dir = std::env::temp_dir().join(format!("kafka-sdk-mtls-acl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (keystore, truststore) = (dir.join("keystore.pem"), dir.join("clients.pem"));
    std::fs::write(&keystore, format!("{key}{cert}")).unwrap();
    std::fs::write(&truststore, client_ca.pem()).unwrap();
    let config = kafka_testkit::RealKafkaConfig::new(1)
        .with_ssl_listener(&keystore, &truststore)
        .with_property(
            "authorizer.class.name",
            "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        )
        .with_property("super.users", "User:ANONYMOUS");
    let Some(kafka) =
        tokio::task::spawn_blocking(move || kafka_testkit::RealKafka::start_or_skip(config))
            .await
            .unwrap()
    else {
        return;
    };
    // Setup over PLAINTEXT, whose ANONYMOUS principal is a super user.
    let admin = AdminClient::connect(AdminConfig::new(&kafka.bootstrap()))
        .await
        .unwrap();
    let ssl = kafka.sasl_bootstrap();
    certificates_decide_who_produces(&admin, &ssl, &server_ca, &client_ca).await;
    let stranger = kafka_testkit::tls::TestCa::new("unknown CA");
    assert!(
        Producer::new(certificate_producer(
            &ssl,
            &server_ca.pem(),
            &stranger,
            "alice"
        ))
        .await
        .is_err(),
        "a certificate from an unknown CA is refused"
    );
    drop(kafka);
    std::fs::remove_dir_all(&dir).ok();
}

/// A producer over SSL whose client certificate, from `ca_of_cert`, has subject
/// `CN=common_name,O=Example`.
fn certificate_producer(
    bootstrap: &str,
    server_ca_pem: &str,
    ca_of_cert: &kafka_testkit::tls::TestCa,
    common_name: &str,
) -> ProducerConfig {
    let (cert, key) = ca_of_cert.issue_client(common_name, "Example");
    ProducerConfig::from_properties([
        ("bootstrap.servers", bootstrap),
        ("security.protocol", "SSL"),
        ("ssl.ca.pem", server_ca_pem),
        ("ssl.certificate.pem", cert.as_str()),
        ("ssl.key.pem", key.as_str()),
        ("max.block.ms", "5000"),
        ("linger.ms", "0"),
        ("request.timeout.ms", "5000"),
    ])
    .unwrap()
}

/// With `admin` (a super user): the ACL for `User:CN=alice,O=Example` lets alice's certificate
/// write `mtls.orders` and not mallory's, and only alice's record is written.
async fn certificates_decide_who_produces(
    admin: &AdminClient,
    ssl_bootstrap: &str,
    server_ca: &kafka_testkit::tls::TestCa,
    client_ca: &kafka_testkit::tls::TestCa,
) {
    let created = admin
        .create_topics(vec![NewTopic::new("mtls.orders", 1, 1)])
        .await
        .unwrap();
    assert!(created.values().all(Result::is_ok), "{created:?}");
    let granted = admin
        .create_acls(vec![topic_acl(
            "mtls.orders",
            PatternType::Literal,
            AccessControlEntry::allow("User:CN=alice,O=Example", AclOperation::Write),
        )])
        .await
        .unwrap();
    assert!(granted.values().all(Result::is_ok), "{granted:?}");
    settle(admin, 1).await;
    let ca = server_ca.pem();
    let alice = Producer::new(certificate_producer(ssl_bootstrap, &ca, client_ca, "alice"))
        .await
        .unwrap();
    alice
        .send(ProducerRecord::new("mtls.orders").with_value("signed"))
        .await
        .unwrap()
        .await
        .expect("alice's certificate may write");
    let mallory = Producer::new(certificate_producer(
        ssl_bootstrap,
        &ca,
        client_ca,
        "mallory",
    ))
    .await
    .unwrap();
    match mallory
        .send(ProducerRecord::new("mtls.orders").with_value("forged"))
        .await
    {
        Err(ProducerError::Topic { code, .. }) => {
            assert_eq!(code, ErrorCode::TopicAuthorizationFailed)
        }
        Err(other) => panic!("expected TOPIC_AUTHORIZATION_FAILED, got {other}"),
        Ok(_) => panic!("mallory's send was accepted"),
    }
    assert_eq!(end_offset(admin, "mtls.orders").await, 1);
    alice.close(Duration::from_secs(2)).await;
    mallory.close(Duration::from_secs(2)).await;
}

//! SCRAM users managed with the admin client on a bundled cluster that requires SASL: a user
//! the admin creates can log in, its credential is described without secrets, and once deleted
//! it can no longer log in.

use kafka_admin::{AdminClient, AdminConfig, ScramAlteration};
use kafka_broker::{Cluster, ClusterConfig, SaslConfig};
use kafka_client::{Client, ClientConfig, ClientError};
use kafka_protocol::sasl::Mechanism;
use kafka_protocol::ErrorCode;

fn sasl_client(bootstrap: &str, mechanism: Mechanism, user: &str, password: &str) -> ClientConfig {
    let mut c = ClientConfig::new(bootstrap);
    for (k, v) in [
        ("security.protocol", "SASL_PLAINTEXT"),
        ("sasl.mechanism", mechanism.name()),
        ("sasl.username", user),
        ("sasl.password", password),
    ] {
        c.set(k, v).unwrap();
    }
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_the_admin_creates_logs_in_until_it_is_deleted() {
    let sasl = SaslConfig::new(&[Mechanism::Plain, Mechanism::ScramSha512])
        .with_user("admin", "admin-secret");
    let cluster = Cluster::start(ClusterConfig::default().with_brokers(2).with_sasl(sasl))
        .await
        .unwrap();
    let bootstrap = cluster.bootstrap_servers();
    let mut config = AdminConfig::new(&bootstrap);
    config.client = sasl_client(&bootstrap, Mechanism::Plain, "admin", "admin-secret");
    let admin = AdminClient::connect(config).await.unwrap();

    let before = admin
        .describe_user_scram_credentials(Some(&["carol".to_string()]))
        .await
        .unwrap();
    assert_eq!(
        before["carol"].as_ref().unwrap_err().code(),
        Some(ErrorCode::ResourceNotFound)
    );
    let set = admin
        .alter_user_scram_credentials(vec![
            ScramAlteration::upsert("carol", Mechanism::ScramSha512, "carol-pw"),
            ScramAlteration::Upsert {
                user: "dave".into(),
                mechanism: Mechanism::ScramSha256,
                password: kafka_client::Password::new("x"),
                iterations: 10,
            },
        ])
        .await
        .unwrap();
    assert!(set["carol"].is_ok(), "{set:?}");
    assert_eq!(
        set["dave"].as_ref().unwrap_err().code(),
        Some(ErrorCode::UnacceptableCredential),
        "too few iterations"
    );
    assert!(!format!(
        "{:?}",
        ScramAlteration::upsert("carol", Mechanism::ScramSha512, "carol-pw")
    )
    .contains("carol-pw"));

    let described = admin.describe_user_scram_credentials(None).await.unwrap();
    let carol = described["carol"].as_ref().unwrap();
    assert_eq!(
        (carol[0].mechanism, carol[0].iterations),
        (Mechanism::ScramSha512, 4096)
    );
    assert!(
        described.contains_key("admin"),
        "configured users have SCRAM credentials too"
    );

    Client::connect(sasl_client(
        &bootstrap,
        Mechanism::ScramSha512,
        "carol",
        "carol-pw",
    ))
    .await
    .expect("carol logs in");
    let wrong = Client::connect(sasl_client(
        &bootstrap,
        Mechanism::ScramSha512,
        "carol",
        "nope",
    ))
    .await;
    assert!(matches!(wrong, Err(ClientError::Authentication { .. })));

    let deleted = admin
        .alter_user_scram_credentials(vec![ScramAlteration::Delete {
            user: "carol".into(),
            mechanism: Mechanism::ScramSha512,
        }])
        .await
        .unwrap();
    assert!(deleted["carol"].is_ok());
    let locked_out = Client::connect(sasl_client(
        &bootstrap,
        Mechanism::ScramSha512,
        "carol",
        "carol-pw",
    ))
    .await;
    assert!(
        matches!(locked_out, Err(ClientError::Authentication { .. })),
        "{locked_out:?}"
    );
    cluster.shutdown().await;
}

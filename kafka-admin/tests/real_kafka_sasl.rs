//! SASL against Apache Kafka (one KRaft node with a SASL_PLAINTEXT listener beside PLAINTEXT):
//! our admin client creates SCRAM users, and our client core logs in with PLAIN and both SCRAM
//! mechanisms, and is refused, clearly and at once, with a wrong password.
//!
//! Without Java and Maven the test prints `SKIPPED: ...` (CI installs them and requires them).

use std::time::{Duration, Instant};

use kafka_admin::{AdminClient, AdminConfig, ScramAlteration};
use kafka_client::{Client, ClientConfig, ClientError};
use kafka_protocol::sasl::Mechanism;
use kafka_testkit::{RealKafka, RealKafkaConfig};

fn sasl(bootstrap: &str, mechanism: Mechanism, user: &str, password: &str) -> ClientConfig {
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
async fn plain_and_scram_against_kafka() {
    // Sessions last 1.5 s (KIP-368), so that a connection held longer must re-authenticate.
    let config = RealKafkaConfig::new(1)
        .with_sasl_listener(&[("plainuser", "plain-secret")])
        .with_property("connections.max.reauth.ms", "1500");
    let Some(kafka) = tokio::task::spawn_blocking(move || RealKafka::start_or_skip(config))
        .await
        .unwrap()
    else {
        return;
    };
    let sasl_bootstrap = kafka.sasl_bootstrap();
    let admin = AdminClient::connect(AdminConfig::new(&kafka.bootstrap()))
        .await
        .unwrap();
    let created = admin
        .alter_user_scram_credentials(vec![
            ScramAlteration::upsert("scrammer", Mechanism::ScramSha256, "scram-secret"),
            ScramAlteration::upsert("scrammer512", Mechanism::ScramSha512, "scram-secret-512"),
        ])
        .await
        .unwrap();
    assert!(created.values().all(Result::is_ok), "{created:?}");
    let described = admin
        .describe_user_scram_credentials(Some(&["scrammer".to_string()]))
        .await
        .unwrap();
    assert_eq!(
        described["scrammer"].as_ref().unwrap()[0].mechanism,
        Mechanism::ScramSha256
    );

    let plain = Client::connect(sasl(
        &sasl_bootstrap,
        Mechanism::Plain,
        "plainuser",
        "plain-secret",
    ))
    .await
    .expect("PLAIN");
    // Kafka closes a connection whose session expired at its next request; ours renews the
    // session before, so one connection serves for three lifetimes.
    let conn = plain.any_connection().await.unwrap();
    let until = Instant::now() + Duration::from_millis(4500);
    while Instant::now() < until {
        let metadata =
            kafka_protocol::messages::MetadataRequest::default().with_topics(Some(vec![]));
        conn.send(&metadata)
            .await
            .expect("the session was renewed (KIP-368)");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(!conn.is_closed());
    // The broker applies new credentials when it reads the metadata log, just after answering.
    for (m, user, password) in [
        (Mechanism::ScramSha256, "scrammer", "scram-secret"),
        (Mechanism::ScramSha512, "scrammer512", "scram-secret-512"),
    ] {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match Client::connect(sasl(&sasl_bootstrap, m, user, password)).await {
                Ok(client) => {
                    assert_eq!(client.metadata().brokers().count(), 1);
                    break;
                }
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("{m:?}: {e}"),
            }
        }
    }
    // OAUTHBEARER with an unsecured JWT, validated by Kafka's default validator; one that
    // expired is refused.
    let mut oauth = ClientConfig::new(&sasl_bootstrap);
    for (k, v) in [
        ("security.protocol", "SASL_PLAINTEXT"),
        ("sasl.mechanism", "OAUTHBEARER"),
        (
            "sasl.jaas.config",
            r#"org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="svc-orders";"#,
        ),
    ] {
        oauth.set(k, v).unwrap();
    }
    let client = Client::connect(oauth.clone())
        .await
        .expect("OAUTHBEARER with an unsecured token");
    assert_eq!(client.metadata().brokers().count(), 1);
    oauth.security = oauth
        .security
        .clone()
        .with_token_provider(std::sync::Arc::new(kafka_client::UnsecuredJwtProvider {
            principal: "late".into(),
            lifetime: Duration::ZERO,
        }));
    let expired = Client::connect(oauth).await;
    assert!(
        matches!(expired, Err(ClientError::Authentication { .. })),
        "an expired token: {:?}",
        expired.err()
    );
    for (m, user) in [
        (Mechanism::Plain, "plainuser"),
        (Mechanism::ScramSha256, "scrammer"),
        (Mechanism::ScramSha512, "scrammer512"),
    ] {
        let started = Instant::now();
        let err = Client::connect(sasl(&sasl_bootstrap, m, user, "wrong"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, ClientError::Authentication { .. }),
            "{m:?}: {err}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{m:?}: refused at once, not retried"
        );
        assert!(!err.to_string().contains("wrong"), "{err}");
    }
    drop(kafka);
}

/// A CA and a certificate for 127.0.0.1 it signed: (CA PEM, key PEM, certificate PEM).
fn certificates() -> (String, String, String) {
    let ca = kafka_testkit::tls::TestCa::new("test CA");
    let (cert, key) = ca.issue(&["127.0.0.1", "localhost"]);
    (ca.pem(), key, cert)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_over_tls_against_kafka() {
    let (ca, key, cert) = certificates();
    let dir = std::env::temp_dir().join(format!("kafka-sdk-sasl-ssl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let keystore = dir.join("keystore.pem");
    std::fs::write(&keystore, format!("{key}{cert}")).unwrap();
    let config = RealKafkaConfig::new(1)
        .with_sasl_listener(&[("plainuser", "plain-secret")])
        .with_sasl_listener_tls(&keystore);
    let Some(kafka) = tokio::task::spawn_blocking(move || RealKafka::start_or_skip(config))
        .await
        .unwrap()
    else {
        return;
    };
    let admin = AdminClient::connect(AdminConfig::new(&kafka.bootstrap()))
        .await
        .unwrap();
    let created = admin
        .alter_user_scram_credentials(vec![ScramAlteration::upsert(
            "tlsuser",
            Mechanism::ScramSha512,
            "tls-secret",
        )])
        .await
        .unwrap();
    assert!(created["tlsuser"].is_ok(), "{created:?}");
    let tls = |mechanism: Mechanism, user: &str, password: &str| {
        let mut c = sasl(&kafka.sasl_bootstrap(), mechanism, user, password);
        c.set("security.protocol", "SASL_SSL").unwrap();
        c.set("ssl.ca.pem", &ca).unwrap();
        c
    };
    Client::connect(tls(Mechanism::Plain, "plainuser", "plain-secret"))
        .await
        .expect("PLAIN over TLS");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match Client::connect(tls(Mechanism::ScramSha512, "tlsuser", "tls-secret")).await {
            Ok(_) => break,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("SCRAM-SHA-512 over TLS: {e}"),
        }
    }
    // OAUTHBEARER over SASL_SSL too (Kafka's unsecured-JWT validator).
    let mut oauth = tls(Mechanism::Plain, "plainuser", "plain-secret");
    oauth.set("sasl.mechanism", "OAUTHBEARER").unwrap();
    oauth
        .set(
            "sasl.jaas.config",
            r#"org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="svc";"#,
        )
        .unwrap();
    Client::connect(oauth).await.expect("OAUTHBEARER over TLS");
    let err = Client::connect(tls(Mechanism::ScramSha512, "tlsuser", "wrong"))
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Authentication { .. }), "{err}");
    // A CA Kafka's certificate does not chain to is refused before any SASL.
    let (other_ca, _, _) = certificates();
    let mut untrusted = tls(Mechanism::Plain, "plainuser", "plain-secret");
    untrusted.set("ssl.ca.pem", &other_ca).unwrap();
    assert!(matches!(
        Client::connect(untrusted).await,
        Err(ClientError::Tls { .. })
    ));
    drop(kafka);
    std::fs::remove_dir_all(&dir).ok();
}

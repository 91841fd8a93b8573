//! SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) between the client core and the bundled broker:
//! the right credentials connect, wrong ones fail at once with a clear, non-retriable error,
//! and the broker serves nothing before authentication.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use kafka_broker::{Cluster, ClusterConfig, SaslConfig};
use kafka_client::{Client, ClientConfig, ClientError};
use kafka_protocol::sasl::Mechanism;
use kafka_protocol::ApiKey;

const ALL: [Mechanism; 3] = [
    Mechanism::Plain,
    Mechanism::ScramSha256,
    Mechanism::ScramSha512,
];

async fn secured(mechanisms: &[Mechanism]) -> Cluster {
    let sasl = SaslConfig::new(mechanisms)
        .with_user("alice", "alice-secret")
        .with_user("bob", "b=o,b");
    Cluster::start(ClusterConfig::default().with_brokers(2).with_sasl(sasl))
        .await
        .unwrap()
}

fn config(cluster: &Cluster, props: &[(&str, &str)]) -> ClientConfig {
    let mut c = ClientConfig::new(&cluster.bootstrap_servers());
    for (k, v) in props {
        assert!(c.set(k, v).unwrap(), "{k}");
    }
    c
}

#[tokio::test]
async fn every_mechanism_authenticates_with_the_right_password() {
    let cluster = secured(&ALL).await;
    for m in ALL {
        for (user, password) in [("alice", "alice-secret"), ("bob", "b=o,b")] {
            let jaas = format!(
                r#"org.apache.kafka.common.security.{} required username="{user}" password="{password}";"#,
                if m == Mechanism::Plain {
                    "plain.PlainLoginModule"
                } else {
                    "scram.ScramLoginModule"
                }
            );
            let c = config(
                &cluster,
                &[
                    ("security.protocol", "SASL_PLAINTEXT"),
                    ("sasl.mechanism", m.name()),
                    ("sasl.jaas.config", &jaas),
                ],
            );
            let client = Client::connect(c)
                .await
                .unwrap_or_else(|e| panic!("{m:?} {user}: {e}"));
            // Every broker, not only the bootstrap one, lets it in.
            for (id, _) in cluster.brokers() {
                client.broker(kafka_protocol::BrokerId(id)).await.unwrap();
            }
            assert_eq!(client.metadata().brokers().count(), 2);
        }
    }
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_wrong_password_fails_at_once_and_is_not_retried() {
    let cluster = secured(&ALL).await;
    for m in ALL {
        cluster.clear_request_log();
        let c = config(
            &cluster,
            &[
                ("security.protocol", "SASL_PLAINTEXT"),
                ("sasl.mechanism", m.name()),
                ("sasl.username", "alice"),
                ("sasl.password", "not-it"),
            ],
        );
        let started = Instant::now();
        let err = Client::connect(c).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(
            matches!(err, ClientError::Authentication { .. }),
            "{m:?}: {err}"
        );
        assert!(!err.is_retriable());
        assert!(
            err.to_string().contains("Invalid username or password"),
            "{err}"
        );
        assert!(
            !err.to_string().contains("not-it"),
            "the password stays out of errors"
        );
        let attempts = cluster
            .request_log()
            .iter()
            .filter(|r| r.api_key == ApiKey::SaslHandshake.key())
            .count();
        assert_eq!(attempts, 1, "{m:?}: one attempt, no retry loop");
    }
    // An unknown user looks the same as a wrong password.
    let c = config(
        &cluster,
        &[
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", "SCRAM-SHA-256"),
            ("sasl.username", "mallory"),
            ("sasl.password", "x"),
        ],
    );
    assert!(matches!(
        Client::connect(c).await,
        Err(ClientError::Authentication { .. })
    ));
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_mechanism_the_broker_does_not_enable_is_named() {
    let cluster = secured(&[Mechanism::ScramSha512]).await;
    let c = config(
        &cluster,
        &[
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", "PLAIN"),
            ("sasl.username", "alice"),
            ("sasl.password", "alice-secret"),
        ],
    );
    let err = Client::connect(c).await.unwrap_err();
    assert!(
        err.to_string().contains("enables only SCRAM-SHA-512"),
        "{err}"
    );
    cluster.shutdown().await;
    // SASL against a listener without it.
    let plain = Cluster::start(ClusterConfig::default()).await.unwrap();
    let c = config(
        &plain,
        &[
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", "PLAIN"),
            ("sasl.username", "a"),
            ("sasl.password", "b"),
        ],
    );
    let err = Client::connect(c).await.unwrap_err();
    assert!(err.to_string().contains("does not use SASL"), "{err}");
    plain.shutdown().await;
}

/// A raw Kafka request frame (header v1) for tests that speak the protocol by hand.
fn frame(api: ApiKey, version: i16, body: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&api.key().to_be_bytes());
    f.extend_from_slice(&version.to_be_bytes());
    f.extend_from_slice(&7i32.to_be_bytes());
    f.extend_from_slice(&(-1i16).to_be_bytes());
    f.extend_from_slice(body);
    let mut out = (f.len() as u32).to_be_bytes().to_vec();
    out.extend(f);
    out
}

#[test]
fn nothing_but_api_versions_and_sasl_is_served_before_authentication() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut sasl = SaslConfig::new(&[Mechanism::Plain]).with_user("alice", "pw");
    sasl.authentication_timeout = Duration::from_millis(500);
    let cluster = rt
        .block_on(Cluster::start(ClusterConfig::default().with_sasl(sasl)))
        .unwrap();
    let addr = cluster.brokers()[0].1;
    // ApiVersions v0 is answered.
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(&frame(ApiKey::ApiVersions, 0, &[])).unwrap();
    let mut size = [0u8; 4];
    s.read_exact(&mut size).unwrap();
    let mut body = vec![0u8; u32::from_be_bytes(size) as usize];
    s.read_exact(&mut body).unwrap();
    // Metadata v0 (all topics: an empty array) closes the connection unanswered.
    s.write_all(&frame(ApiKey::Metadata, 0, &0i32.to_be_bytes()))
        .unwrap();
    let mut rest = Vec::new();
    let n = s.read_to_end(&mut rest).unwrap_or(0);
    assert_eq!(n, 0, "closed without an answer");
    // A connection that never authenticates is closed after the authentication timeout.
    let mut idle = std::net::TcpStream::connect(addr).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 1];
    assert_eq!(idle.read(&mut buf).unwrap_or(0), 0);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(400) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
    rt.block_on(cluster.shutdown());
}

#[tokio::test]
async fn oauthbearer_with_unsecured_tokens_and_a_custom_provider() {
    use std::sync::Arc;
    let cluster = Cluster::start(
        ClusterConfig::default().with_sasl(SaslConfig::new(&[Mechanism::OAuthBearer])),
    )
    .await
    .unwrap();
    let jaas = r#"org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="svc-orders";"#;
    let c = config(
        &cluster,
        &[
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", "OAUTHBEARER"),
            ("sasl.jaas.config", jaas),
        ],
    );
    Client::connect(c)
        .await
        .expect("an unsecured token from sasl.jaas.config");

    /// A provider whose token is not a JWT at all.
    struct Garbage;
    impl kafka_client::OAuthBearerTokenProvider for Garbage {
        fn token(
            &self,
        ) -> std::pin::Pin<
            Box<
                dyn std::future::Future<Output = Result<kafka_client::Password, String>>
                    + Send
                    + '_,
            >,
        > {
            Box::pin(async { Ok(kafka_client::Password::new("not-a-jwt")) })
        }
    }
    let mut c = config(
        &cluster,
        &[
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", "OAUTHBEARER"),
        ],
    );
    c.security = c.security.clone().with_token_provider(Arc::new(Garbage));
    let err = Client::connect(c).await.unwrap_err();
    assert!(matches!(err, ClientError::Authentication { .. }), "{err}");
    assert!(err.to_string().contains("invalid_token"), "{err}");
    // An expired unsecured token is refused too.
    let expired = kafka_client::UnsecuredJwtProvider {
        principal: "late".into(),
        lifetime: Duration::ZERO,
    };
    let mut c = config(
        &cluster,
        &[
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", "OAUTHBEARER"),
        ],
    );
    c.security = c.security.clone().with_token_provider(Arc::new(expired));
    assert!(matches!(
        Client::connect(c).await,
        Err(ClientError::Authentication { .. })
    ));
    cluster.shutdown().await;
}

/// KIP-368: with `connections.max.reauth.ms` the broker limits each session; the client
/// re-authenticates on the same connection before it expires, so requests keep working long
/// after the first session would have ended, with every mechanism.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_renewed_before_they_expire() {
    let sasl = SaslConfig::new(&ALL)
        .with_user("alice", "alice-secret")
        .with_max_reauth(Duration::from_millis(400));
    let cluster = Cluster::start(ClusterConfig::default().with_sasl(sasl))
        .await
        .unwrap();
    for m in ALL {
        cluster.clear_request_log();
        let client = Client::connect(config(
            &cluster,
            &[
                ("security.protocol", "SASL_PLAINTEXT"),
                ("sasl.mechanism", m.name()),
                ("sasl.username", "alice"),
                ("sasl.password", "alice-secret"),
            ],
        ))
        .await
        .unwrap();
        let conn = client.any_connection().await.unwrap();
        // Three session lifetimes, with a request every 100 ms on the same connection.
        let until = Instant::now() + Duration::from_millis(1200);
        while Instant::now() < until {
            conn.send(
                &kafka_protocol::messages::MetadataRequest::default().with_topics(Some(vec![])),
            )
            .await
            .unwrap_or_else(|e| panic!("{m:?}: the session was not renewed: {e}"));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(!conn.is_closed(), "{m:?}");
        let handshakes = cluster
            .request_log()
            .iter()
            .filter(|e| e.api_key == ApiKey::SaslHandshake as i16)
            .count();
        assert!(
            handshakes >= 3,
            "{m:?}: {handshakes} handshakes in 1.2 s of 400 ms sessions"
        );
    }
    cluster.shutdown().await;
}

/// A connection that does not re-authenticate is closed at its first request after the
/// session expired; and a re-authentication may not change the principal.
#[test]
fn an_expired_session_ends_and_the_principal_cannot_change() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sasl = SaslConfig::new(&[Mechanism::Plain])
        .with_user("alice", "alice-secret")
        .with_user("bob", "bob-secret")
        .with_max_reauth(Duration::from_millis(300));
    let cluster = runtime
        .block_on(Cluster::start(ClusterConfig::default().with_sasl(sasl)))
        .unwrap();
    let addr = cluster.bootstrap_servers();
    let login = |conn: &mut kafka_testkit::wire::Connection, user: &str, password: &str| {
        let hs = conn
            .send(
                &kafka_protocol::messages::SaslHandshakeRequest::default().with_mechanism("PLAIN"),
                1,
            )
            .unwrap();
        assert_eq!(hs.error_code, kafka_protocol::ErrorCode::None);
        conn.send(
            &kafka_protocol::messages::SaslAuthenticateRequest::default()
                .with_auth_bytes(bytes::Bytes::from(format!("\0{user}\0{password}"))),
            1,
        )
        .unwrap()
    };
    let metadata = kafka_protocol::messages::MetadataRequest::default().with_topics(Some(vec![]));

    let mut conn = kafka_testkit::wire::Connection::connect(&addr, Duration::from_secs(5)).unwrap();
    let auth = login(&mut conn, "alice", "alice-secret");
    assert_eq!(auth.session_lifetime_ms, 300);
    conn.send(&metadata, 9).expect("served within the session");
    std::thread::sleep(Duration::from_millis(400));
    assert!(
        conn.send(&metadata, 9).is_err(),
        "served after the session expired"
    );

    let mut conn = kafka_testkit::wire::Connection::connect(&addr, Duration::from_secs(5)).unwrap();
    login(&mut conn, "alice", "alice-secret");
    let again = login(&mut conn, "alice", "alice-secret");
    assert_eq!(
        again.error_code,
        kafka_protocol::ErrorCode::None,
        "re-authenticated"
    );
    conn.send(&metadata, 9)
        .expect("served after re-authentication");
    let changed = login(&mut conn, "bob", "bob-secret");
    assert_eq!(
        changed.error_code,
        kafka_protocol::ErrorCode::SaslAuthenticationFailed
    );
    runtime.block_on(cluster.shutdown());
}

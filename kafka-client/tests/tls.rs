//! TLS between the client core and the bundled broker (rustls on both sides), with test
//! certificates made by rcgen: a trusted CA connects, an unknown one is refused at once and not
//! retried, hostnames are checked unless turned off, client certificates are required when the
//! broker asks (mutual TLS), and SASL runs over TLS (SASL_SSL).

use std::time::{Duration, Instant};

use kafka_broker::{Cluster, ClusterConfig, SaslConfig, TlsConfig};
use kafka_client::{Client, ClientConfig, ClientError};
use kafka_protocol::sasl::Mechanism;
use kafka_testkit::tls::TestCa as Ca;

fn config(cluster: &Cluster, props: &[(&str, &str)]) -> ClientConfig {
    let mut c = ClientConfig::new(&cluster.bootstrap_servers());
    for (k, v) in props {
        assert!(c.set(k, v).unwrap(), "{k}");
    }
    c
}

#[tokio::test]
async fn a_trusted_ca_connects_and_an_unknown_one_is_refused_at_once() {
    let ca = Ca::new("broker CA");
    let (cert, key) = ca.issue(&["127.0.0.1", "localhost"]);
    let cluster = Cluster::start(
        ClusterConfig::default()
            .with_brokers(2)
            .with_tls(TlsConfig::new(cert, key)),
    )
    .await
    .unwrap();
    let ca_pem = ca.pem();
    let client = Client::connect(config(
        &cluster,
        &[("security.protocol", "SSL"), ("ssl.ca.pem", &ca_pem)],
    ))
    .await
    .unwrap();
    assert_eq!(client.metadata().brokers().count(), 2);

    let other = Ca::new("someone else");
    let started = Instant::now();
    let err = Client::connect(config(
        &cluster,
        &[("security.protocol", "SSL"), ("ssl.ca.pem", &other.pem())],
    ))
    .await
    .unwrap_err();
    assert!(matches!(err, ClientError::Tls { .. }), "{err}");
    assert!(!err.is_retriable());
    assert!(started.elapsed() < Duration::from_secs(5));
    // Plain TCP against a TLS listener fails too (it never completes ApiVersions).
    let plain = ClientConfig::new(&cluster.bootstrap_servers())
        .with_request_timeout(Duration::from_secs(2));
    assert!(Client::connect(plain).await.is_err());
    cluster.shutdown().await;
}

#[tokio::test]
async fn hostnames_are_checked_unless_turned_off() {
    let ca = Ca::new("broker CA");
    let (cert, key) = ca.issue(&["kafka.example.com"]);
    let cluster = Cluster::start(ClusterConfig::default().with_tls(TlsConfig::new(cert, key)))
        .await
        .unwrap();
    let ca_pem = ca.pem();
    let err = Client::connect(config(
        &cluster,
        &[("security.protocol", "SSL"), ("ssl.ca.pem", &ca_pem)],
    ))
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .to_lowercase()
            .contains("not valid for name")
            || err.to_string().contains("NotValidForName"),
        "{err}"
    );
    Client::connect(config(
        &cluster,
        &[
            ("security.protocol", "SSL"),
            ("ssl.ca.pem", &ca_pem),
            ("ssl.endpoint.identification.algorithm", ""),
        ],
    ))
    .await
    .expect("the chain alone is checked");
    cluster.shutdown().await;
}

#[tokio::test]
async fn mutual_tls_requires_a_certificate_from_the_client_ca() {
    let server_ca = Ca::new("broker CA");
    let client_ca = Ca::new("client CA");
    let (cert, key) = server_ca.issue(&["127.0.0.1"]);
    let tls = TlsConfig::new(cert, key).with_client_ca(client_ca.pem());
    let cluster = Cluster::start(ClusterConfig::default().with_tls(tls))
        .await
        .unwrap();
    let ca_pem = server_ca.pem();
    let dir = std::env::temp_dir().join(format!("kafka-sdk-mtls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (client_cert, client_key) = client_ca.issue(&["client"]);
    let (cert_path, key_path) = (dir.join("client.pem"), dir.join("client.key"));
    std::fs::write(&cert_path, &client_cert).unwrap();
    std::fs::write(&key_path, &client_key).unwrap();
    Client::connect(config(
        &cluster,
        &[
            ("security.protocol", "SSL"),
            ("ssl.ca.pem", &ca_pem),
            ("ssl.certificate.location", cert_path.to_str().unwrap()),
            ("ssl.key.location", key_path.to_str().unwrap()),
        ],
    ))
    .await
    .expect("a certificate from the client CA");
    let without = Client::connect(
        config(
            &cluster,
            &[("security.protocol", "SSL"), ("ssl.ca.pem", &ca_pem)],
        )
        .with_request_timeout(Duration::from_secs(3)),
    )
    .await;
    assert!(without.is_err(), "no client certificate");
    let stranger = Ca::new("unknown");
    let (bad_cert, bad_key) = stranger.issue(&["client"]);
    let refused = Client::connect(
        config(
            &cluster,
            &[
                ("security.protocol", "SSL"),
                ("ssl.ca.pem", &ca_pem),
                ("ssl.certificate.pem", &bad_cert),
                ("ssl.key.pem", &bad_key),
            ],
        )
        .with_request_timeout(Duration::from_secs(3)),
    )
    .await;
    assert!(
        refused.is_err(),
        "a certificate from an unknown CA is refused"
    );

    // The same key encrypted (PKCS#8, PBES2: PBKDF2-SHA256 and AES-256-CBC) with
    // ssl.key.password; without the password, or with a wrong one, a configuration error.
    let encrypted = encrypt_key(&client_key, "key-secret");
    let with = |password: Option<&str>| {
        let mut props = vec![
            ("security.protocol", "SSL"),
            ("ssl.ca.pem", ca_pem.as_str()),
            ("ssl.certificate.pem", client_cert.as_str()),
            ("ssl.key.pem", encrypted.as_str()),
        ];
        props.extend(password.map(|p| ("ssl.key.password", p)));
        config(&cluster, &props)
    };
    Client::connect(with(Some("key-secret")))
        .await
        .expect("an encrypted key with its password");
    for password in [None, Some("wrong")] {
        let err = Client::connect(with(password)).await.unwrap_err();
        assert!(
            matches!(err, kafka_client::ClientError::Config { .. }),
            "{password:?}: {err}"
        );
        assert!(err.to_string().contains("ssl.key.password"), "{err}");
        assert!(!err.to_string().contains("key-secret"), "{err}");
    }
    std::fs::remove_dir_all(&dir).ok();
    cluster.shutdown().await;
}

/// `key_pem` (PKCS#8) encrypted with `password` as an `ENCRYPTED PRIVATE KEY` PEM block.
fn encrypt_key(key_pem: &str, password: &str) -> String {
    use base64::Engine;
    use pkcs8::der::Decode;
    let b64: String = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let info = pkcs8::PrivateKeyInfo::from_der(&der).unwrap();
    let params = pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(
        2048,
        b"fixed test salt!",
        &[7; 16],
    )
    .unwrap();
    let encrypted = info.encrypt_with_params(params, password).unwrap();
    let body = base64::engine::general_purpose::STANDARD.encode(encrypted.as_bytes());
    let mut pem = String::from("-----BEGIN ENCRYPTED PRIVATE KEY-----\n");
    for chunk in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(chunk).unwrap());
        pem.push('\n');
    }
    pem.push_str("-----END ENCRYPTED PRIVATE KEY-----\n");
    pem
}

#[tokio::test]
async fn sasl_runs_over_tls() {
    let ca = Ca::new("broker CA");
    let (cert, key) = ca.issue(&["127.0.0.1"]);
    let sasl = SaslConfig::new(&[
        Mechanism::Plain,
        Mechanism::ScramSha256,
        Mechanism::ScramSha512,
        Mechanism::OAuthBearer,
    ])
    .with_user("alice", "secret");
    let cluster = Cluster::start(
        ClusterConfig::default()
            .with_tls(TlsConfig::new(cert, key))
            .with_sasl(sasl),
    )
    .await
    .unwrap();
    let ca_pem = ca.pem();
    // Every mechanism over TLS; each password mechanism refuses a wrong password.
    for mechanism in ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] {
        let props = |pw: &'static str| {
            vec![
                ("security.protocol", "SASL_SSL"),
                ("ssl.ca.pem", ca_pem.as_str()),
                ("sasl.mechanism", mechanism),
                ("sasl.username", "alice"),
                ("sasl.password", pw),
            ]
        };
        Client::connect(config(&cluster, &props("secret")))
            .await
            .unwrap_or_else(|e| panic!("{mechanism} over SASL_SSL: {e}"));
        let err = Client::connect(config(&cluster, &props("wrong")))
            .await
            .unwrap_err();
        assert!(
            matches!(err, ClientError::Authentication { .. }),
            "{mechanism}: {err}"
        );
    }
    Client::connect(config(
        &cluster,
        &[
            ("security.protocol", "SASL_SSL"),
            ("ssl.ca.pem", ca_pem.as_str()),
            ("sasl.mechanism", "OAUTHBEARER"),
            (
                "sasl.jaas.config",
                r#"org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="svc";"#,
            ),
        ],
    ))
    .await
    .expect("OAUTHBEARER over SASL_SSL");
    cluster.shutdown().await;
}

#[test]
fn tls_settings_stay_out_of_debug_output_and_bad_files_are_config_errors() {
    let mut c = ClientConfig::new("127.0.0.1:9093");
    c.set("security.protocol", "SSL").unwrap();
    c.set(
        "ssl.key.pem",
        "-----BEGIN PRIVATE KEY-----\nsecret-key-bytes\n-----END PRIVATE KEY-----",
    )
    .unwrap();
    assert!(!format!("{c:?}").contains("secret-key-bytes"));
    c.set("ssl.ca.location", "/no/such/file.pem").unwrap();
    let err = Client::new(c).unwrap_err();
    assert!(matches!(err, ClientError::Config { .. }), "{err}");
}

//! `security.protocol` and SASL (KIP-43, KIP-152): the settings, with Java's and librdkafka's
//! key names, and the exchange a new connection runs before it is used.
//!
//! Secrets stay out of `Debug` output, errors and logs: a [`Password`] prints as `[redacted]`,
//! and errors about `sasl.jaas.config` name the option, never its value.

use std::collections::BTreeMap;

use base64::Engine;
use bytes::Bytes;
use kafka_protocol::messages::{SaslAuthenticateRequest, SaslHandshakeRequest};
use kafka_protocol::sasl::{oauthbearer_message, plain_message, Mechanism, ScramClient};
use kafka_protocol::ErrorCode;
use tracing::debug;

use crate::config::invalid;
use crate::connection::Connection;
use crate::error::{ClientError, Result};

/// `security.protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SecurityProtocol {
    /// No TLS, no SASL.
    #[default]
    Plaintext,
    /// SASL over plain TCP.
    SaslPlaintext,
    /// TLS.
    Ssl,
    /// SASL over TLS.
    SaslSsl,
}

/// A secret: compared and cloned, never printed.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Password(String);

impl Password {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Password {
        Password(secret.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Where OAUTHBEARER tokens come from (KIP-255): an identity provider, a file, a vault. Called
/// for every new connection, so a provider should cache a token until shortly before it
/// expires.
pub trait OAuthBearerTokenProvider: Send + Sync + 'static {
    /// A token (the compact JWS, or whatever the broker's validator accepts).
    fn token(
        &self,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = std::result::Result<Password, String>> + Send + '_>,
    >;
}

/// Kafka's unsecured JWT (`alg` none, for development and tests), as its
/// `OAuthBearerUnsecuredLoginCallbackHandler` makes them: `sub` the principal.
#[derive(Debug, Clone)]
pub struct UnsecuredJwtProvider {
    /// The principal (`sub`).
    pub principal: String,
    /// How long each token lives.
    pub lifetime: std::time::Duration,
}

impl OAuthBearerTokenProvider for UnsecuredJwtProvider {
    fn token(
        &self,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = std::result::Result<Password, String>> + Send + '_>,
    > {
        Box::pin(async move {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_err(|e| e.to_string())?;
            let now_ms = i64::try_from(now.as_millis()).unwrap_or(i64::MAX);
            let lifetime_ms = i64::try_from(self.lifetime.as_millis()).unwrap_or(i64::MAX);
            Ok(Password::new(kafka_protocol::sasl::unsecured_jwt(
                &self.principal,
                now_ms,
                lifetime_ms,
            )))
        })
    }
}

/// A shared token provider; compared by identity.
#[derive(Clone)]
pub struct TokenProvider(pub std::sync::Arc<dyn OAuthBearerTokenProvider>);

impl std::fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenProvider")
    }
}

impl PartialEq for TokenProvider {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for TokenProvider {}

/// The security settings of a client.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SecurityConfig {
    /// `security.protocol` (PLAINTEXT).
    pub protocol: SecurityProtocol,
    /// `sasl.mechanism` (GSSAPI, Java's default, which this client does not speak: set
    /// PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512).
    pub sasl_mechanism: String,
    /// `sasl.username` (librdkafka's key), or the login module's `username` in
    /// `sasl.jaas.config`.
    pub sasl_username: Option<String>,
    /// `sasl.password`, or the login module's `password`.
    pub sasl_password: Option<Password>,
    /// The `ssl.*` settings, used with SSL and SASL_SSL.
    pub tls: crate::tls::TlsSettings,
    /// Where OAUTHBEARER tokens come from: set with [`SecurityConfig::with_token_provider`],
    /// or Kafka's unsecured provider from `sasl.jaas.config`
    /// (`OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="..."`).
    pub token_provider: Option<TokenProvider>,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            protocol: SecurityProtocol::Plaintext,
            sasl_mechanism: "GSSAPI".into(),
            sasl_username: None,
            sasl_password: None,
            tls: crate::tls::TlsSettings::default(),
            token_provider: None,
        }
    }
}

/// What a connection authenticates with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslCredentials {
    /// The mechanism.
    pub mechanism: Mechanism,
    /// The user.
    pub username: String,
    /// The password.
    pub password: Password,
    /// For OAUTHBEARER: where tokens come from.
    pub token_provider: Option<TokenProvider>,
}

impl SecurityConfig {
    /// Applies one security property; `Ok(false)` for other keys.
    pub fn set(&mut self, key: &str, value: &str) -> Result<bool> {
        match key {
            "security.protocol" => {
                self.protocol = match value.trim().to_ascii_uppercase().as_str() {
                    "PLAINTEXT" => SecurityProtocol::Plaintext,
                    "SASL_PLAINTEXT" => SecurityProtocol::SaslPlaintext,
                    "SSL" => SecurityProtocol::Ssl,
                    "SASL_SSL" => SecurityProtocol::SaslSsl,
                    _ => {
                        return Err(invalid(
                            key,
                            "must be PLAINTEXT, SASL_PLAINTEXT, SSL or SASL_SSL",
                        ))
                    }
                }
            }
            "sasl.mechanism" | "sasl.mechanisms" => self.sasl_mechanism = value.trim().to_string(),
            "sasl.username" => self.sasl_username = Some(value.to_string()),
            "sasl.password" => self.sasl_password = Some(Password::new(value)),
            "sasl.jaas.config" if value.contains("OAuthBearerLoginModule") => {
                let (_, options) = parse_jaas(value)?;
                let principal = options.get("unsecuredLoginStringClaim_sub").cloned().ok_or_else(|| {
                    invalid(key, "OAuthBearerLoginModule here takes unsecuredLoginStringClaim_sub (Kafka's unsecured tokens); give other tokens through SecurityConfig::with_token_provider")
                })?;
                let seconds: u64 = options
                    .get("unsecuredLoginLifetimeSeconds")
                    .map_or(Ok(3600), |s| s.parse())
                    .map_err(|_| invalid(key, "unsecuredLoginLifetimeSeconds is not a number"))?;
                self.token_provider =
                    Some(TokenProvider(std::sync::Arc::new(UnsecuredJwtProvider {
                        principal,
                        lifetime: std::time::Duration::from_secs(seconds),
                    })));
            }
            "sasl.jaas.config" => {
                let (module, options) = parse_jaas(value)?;
                if !(module.ends_with(".PlainLoginModule") || module.ends_with(".ScramLoginModule"))
                {
                    return Err(invalid(
                        key,
                        &format!(
                            "login module {module} is not PlainLoginModule or ScramLoginModule"
                        ),
                    ));
                }
                self.sasl_username = options.get("username").cloned();
                self.sasl_password = options.get("password").map(Password::new);
            }
            _ => return self.tls.set(key, value),
        }
        Ok(true)
    }

    /// Sets the OAUTHBEARER token provider.
    pub fn with_token_provider(
        mut self,
        provider: std::sync::Arc<dyn OAuthBearerTokenProvider>,
    ) -> Self {
        self.token_provider = Some(TokenProvider(provider));
        self
    }

    /// Whether connections use TLS.
    pub fn uses_tls(&self) -> bool {
        matches!(
            self.protocol,
            SecurityProtocol::Ssl | SecurityProtocol::SaslSsl
        )
    }

    /// Checks the combination: SASL needs a mechanism this client
    /// speaks and both a username and a password.
    pub fn validate(&self) -> Result<()> {
        match self.protocol {
            SecurityProtocol::Plaintext | SecurityProtocol::Ssl => Ok(()),
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl => self.sasl().map(|_| ()),
        }
    }

    /// The credentials connections authenticate with, `Ok(None)` without SASL.
    pub fn credentials(&self) -> Result<Option<SaslCredentials>> {
        match self.protocol {
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl => self.sasl().map(Some),
            _ => Ok(None),
        }
    }

    fn sasl(&self) -> Result<SaslCredentials> {
        let mechanism = Mechanism::from_name(&self.sasl_mechanism).ok_or_else(|| {
            invalid(
                "sasl.mechanism",
                &format!(
                    "{} is not PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER",
                    self.sasl_mechanism
                ),
            )
        })?;
        if mechanism == Mechanism::OAuthBearer {
            let provider = self.token_provider.clone().ok_or_else(|| {
                invalid(
                    "sasl.jaas.config",
                    "OAUTHBEARER needs a token provider (OAuthBearerLoginModule in sasl.jaas.config, or SecurityConfig::with_token_provider)",
                )
            })?;
            return Ok(SaslCredentials {
                mechanism,
                username: String::new(),
                password: Password::default(),
                token_provider: Some(provider),
            });
        }
        let username = self.sasl_username.clone().ok_or_else(|| {
            invalid(
                "sasl.username",
                "SASL needs a username (sasl.username or sasl.jaas.config)",
            )
        })?;
        let password = self.sasl_password.clone().ok_or_else(|| {
            invalid(
                "sasl.password",
                "SASL needs a password (sasl.password or sasl.jaas.config)",
            )
        })?;
        Ok(SaslCredentials {
            mechanism,
            username,
            password,
            token_provider: None,
        })
    }
}

/// Parses a JAAS line: `module.Class required key="value" ...;` into the class and options.
/// Errors name what is wrong, never an option's value.
pub fn parse_jaas(text: &str) -> Result<(String, BTreeMap<String, String>)> {
    let bad = |why: &str| invalid("sasl.jaas.config", why);
    let text = text.trim().strip_suffix(';').unwrap_or(text.trim()).trim();
    let mut rest = text;
    let take_word = |s: &str| -> (String, usize) {
        let end = s.find(char::is_whitespace).unwrap_or(s.len());
        (s[..end].to_string(), end)
    };
    let (module, n) = take_word(rest);
    if module.is_empty() {
        return Err(bad("no login module"));
    }
    rest = rest[n..].trim_start();
    let (flag, n) = take_word(rest);
    if !matches!(
        flag.as_str(),
        "required" | "requisite" | "sufficient" | "optional"
    ) {
        return Err(bad(
            "the login module needs a control flag such as `required`",
        ));
    }
    rest = rest[n..].trim_start();
    let mut options = BTreeMap::new();
    while !rest.is_empty() {
        let eq = rest.find('=').ok_or_else(|| bad("an option without `=`"))?;
        let key = rest[..eq].trim().to_string();
        rest = rest[eq + 1..].trim_start();
        let value = if let Some(quoted) = rest.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, next)) = chars.next() {
                            value.push(next);
                        }
                    }
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    c => value.push(c),
                }
            }
            let end = end.ok_or_else(|| bad(&format!("option {key}: unterminated quote")))?;
            rest = quoted[end + 1..].trim_start();
            value
        } else {
            let (word, n) = take_word(rest);
            rest = rest[n..].trim_start();
            word
        };
        if key.is_empty() {
            return Err(bad("an option without a name"));
        }
        options.insert(key, value);
    }
    Ok((module, options))
}

/// Authenticates a connection: SaslHandshake v1+, then the mechanism's messages in
/// SaslAuthenticate. Returns the session's lifetime when the broker limits it (KIP-368's
/// `session_lifetime_ms`), after which the connection must re-authenticate. Failures are
/// [`ClientError::Authentication`], which is not retriable: a wrong password does not get
/// better by trying again.
pub(crate) async fn authenticate(
    conn: &Connection,
    creds: &SaslCredentials,
) -> Result<Option<std::time::Duration>> {
    let lifetime_ms = &std::sync::atomic::AtomicI64::new(0);
    let fail = |reason: String| ClientError::Authentication {
        mechanism: creds.mechanism.name(),
        reason,
    };
    let handshake = conn
        .send(&SaslHandshakeRequest::default().with_mechanism(creds.mechanism.name()))
        .await?;
    match handshake.error_code {
        ErrorCode::None => {}
        ErrorCode::UnsupportedSaslMechanism => {
            let enabled: Vec<&str> = handshake.mechanisms.iter().map(|m| m.as_str()).collect();
            return Err(fail(format!(
                "the broker enables only {}",
                enabled.join(", ")
            )));
        }
        ErrorCode::IllegalSaslState => {
            return Err(fail(
                "the broker's listener does not use SASL (check security.protocol)".into(),
            ))
        }
        code => return Err(fail(format!("SaslHandshake: {code}"))),
    }
    let step = |bytes: Vec<u8>| async move {
        let r = conn
            .send(&SaslAuthenticateRequest::default().with_auth_bytes(Bytes::from(bytes)))
            .await?;
        if r.error_code != ErrorCode::None {
            let message = r
                .error_message
                .as_deref()
                .unwrap_or(r.error_code.description())
                .to_string();
            return Err(ClientError::Authentication {
                mechanism: creds.mechanism.name(),
                reason: message,
            });
        }
        // The last (successful) response carries the lifetime.
        lifetime_ms.store(r.session_lifetime_ms, std::sync::atomic::Ordering::Relaxed);
        Ok(r.auth_bytes)
    };
    match creds.mechanism {
        Mechanism::Plain => {
            step(plain_message(&creds.username, creds.password.expose())).await?;
        }
        Mechanism::OAuthBearer => {
            let provider = creds
                .token_provider
                .as_ref()
                .ok_or_else(|| fail("no token provider".into()))?;
            let token = provider
                .0
                .token()
                .await
                .map_err(|e| fail(format!("no token: {e}")))?;
            let challenge = step(oauthbearer_message(token.expose(), &[])).await?;
            if !challenge.is_empty() {
                // RFC 7628 section 3.2.2: the server's error is a JSON challenge; a lone 0x01
                // ends the exchange, and the broker then answers with the failure.
                let status = String::from_utf8_lossy(&challenge).into_owned();
                step(vec![0x01])
                    .await
                    .map_err(|_| fail(format!("the broker refused the token: {status}")))?;
                return Err(fail(format!("the broker refused the token: {status}")));
            }
        }
        m => {
            let mut nonce = [0u8; 24];
            getrandom::fill(&mut nonce)
                .map_err(|e| fail(format!("no randomness for the SCRAM nonce: {e}")))?;
            let nonce = base64::engine::general_purpose::STANDARD_NO_PAD.encode(nonce);
            let (mut client, first) =
                ScramClient::start(m, &creds.username, creds.password.expose(), &nonce);
            let server_first = step(first).await?;
            let last = client
                .respond(&server_first)
                .map_err(|e| fail(e.to_string()))?;
            let server_final = step(last).await?;
            client
                .finish(&server_final)
                .map_err(|e| fail(e.to_string()))?;
        }
    }
    debug!(addr = conn.addr(), mechanism = creds.mechanism.name(), user = %creds.username, "authenticated");
    let lifetime = lifetime_ms.load(std::sync::atomic::Ordering::Relaxed);
    Ok((lifetime > 0).then(|| std::time::Duration::from_millis(lifetime.unsigned_abs())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaas_lines_of_the_plain_and_scram_modules_parse() {
        let (module, options) = parse_jaas(
            r#"org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="p\"w d";"#,
        )
        .unwrap();
        assert!(module.ends_with("ScramLoginModule"));
        assert_eq!(options["username"], "alice");
        assert_eq!(options["password"], "p\"w d");
        let err = parse_jaas(r#"x.PlainLoginModule required password="secret-value"#).unwrap_err();
        assert!(!err.to_string().contains("secret-value"), "{err}");
        assert!(
            parse_jaas("x.PlainLoginModule username=a").is_err(),
            "no control flag"
        );
    }

    #[test]
    fn settings_are_checked_and_secrets_stay_hidden() {
        let mut s = SecurityConfig::default();
        assert!(s.set("security.protocol", "sasl_plaintext").unwrap());
        assert!(s.validate().is_err(), "GSSAPI is not spoken");
        s.set("sasl.mechanism", "SCRAM-SHA-512").unwrap();
        s.set("sasl.jaas.config", r#"org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="hunter2";"#).unwrap();
        s.validate().unwrap();
        let creds = s.credentials().unwrap().unwrap();
        assert_eq!(
            (
                creds.mechanism,
                creds.username.as_str(),
                creds.password.expose()
            ),
            (Mechanism::ScramSha512, "u", "hunter2")
        );
        assert!(!format!("{s:?} {creds:?}").contains("hunter2"));
        s.set("security.protocol", "SASL_SSL").unwrap();
        assert!(s.uses_tls());
        s.validate().unwrap();
        assert!(!s.set("acks", "1").unwrap());
    }
}

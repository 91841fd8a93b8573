//! SASL on a broker connection (KIP-43, KIP-152): SaslHandshake picks a mechanism, then
//! SaslAuthenticate carries its messages. Until the exchange succeeds, the connection may send
//! only ApiVersions, SaslHandshake and SaslAuthenticate; anything else closes it, as Kafka
//! does, and so does a failed authentication (after its error answer) or one that takes longer
//! than the authentication timeout.

use std::collections::HashMap;

use base64::Engine;
use bytes::Bytes;
use kafka_protocol::messages::{
    SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest, SaslHandshakeResponse,
};
use kafka_protocol::sasl::{
    parse_oauthbearer, parse_plain, validate_unsecured_jwt, Mechanism, SaslError, ScramCredential,
    ScramServer,
};
use kafka_protocol::ErrorCode;

use crate::cluster_config::SaslConfig;

/// Iterations for the SCRAM credentials derived at start-up (Kafka's tools default to 4096).
const SCRAM_ITERATIONS: u32 = 4096;

/// SCRAM credentials by mechanism and user: those derived from the configured users at
/// start-up, and those AlterUserScramCredentials sets (Kafka keeps them whether or not a
/// listener uses SCRAM).
pub(crate) type ScramStore = HashMap<(Mechanism, String), ScramCredential>;

/// The credentials for `config`'s users, for each SCRAM mechanism.
pub(crate) fn initial_scram(config: Option<&SaslConfig>) -> ScramStore {
    let mut scram = HashMap::new();
    if let Some(config) = config {
        for m in [Mechanism::ScramSha256, Mechanism::ScramSha512] {
            for (user, password) in &config.users {
                let salt = random_bytes::<16>();
                scram.insert(
                    (m, user.clone()),
                    ScramCredential::new(m, password, &salt, SCRAM_ITERATIONS),
                );
            }
        }
    }
    scram
}

/// The users, as each mechanism needs them.
#[derive(Debug, Default)]
pub(crate) struct SaslUsers {
    pub mechanisms: Vec<Mechanism>,
    /// `connections.max.reauth.ms`, if sessions expire.
    pub max_reauth: Option<std::time::Duration>,
    passwords: HashMap<String, String>,
    scram: std::sync::Arc<std::sync::Mutex<ScramStore>>,
}

impl SaslUsers {
    pub fn new(
        config: &SaslConfig,
        scram: std::sync::Arc<std::sync::Mutex<ScramStore>>,
    ) -> SaslUsers {
        SaslUsers {
            mechanisms: config.mechanisms.clone(),
            max_reauth: config.max_reauth,
            passwords: config.users.clone().into_iter().collect(),
            scram,
        }
    }
}

/// Random bytes from the operating system; a fixed fallback is never used for secrets: if the
/// OS has no randomness the nonce is still unique per process through the counter in `ids`.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    if getrandom::fill(&mut bytes).is_err() {
        let fallback = crate::ids::random_uuid().0;
        for (b, f) in bytes.iter_mut().zip(fallback.iter().cycle()) {
            *b = *f;
        }
    }
    bytes
}

/// Where one connection's authentication stands.
#[derive(Debug)]
pub(crate) enum Authenticator {
    /// The listener needs no SASL.
    Open,
    /// Waiting for SaslHandshake.
    AwaitingHandshake,
    /// PLAIN chosen: waiting for its one message.
    Plain,
    /// SCRAM chosen: waiting for client-first.
    ScramFirst(Mechanism, ScramServer),
    /// SCRAM: server-first sent for this user; waiting for client-final.
    ScramFinal(ScramServer, String),
    /// OAUTHBEARER chosen: waiting for the token.
    OAuthBearer,
    /// OAUTHBEARER refused: the error challenge was sent (RFC 7628 section 3.2.2); the
    /// client's next message (a lone 0x01) gets the failure.
    OAuthBearerRefused,
    /// Authenticated as this principal.
    Authenticated(String),
}

/// What the connection does after a SASL request.
pub(crate) struct SaslOutcome<T> {
    pub response: T,
    /// Close the connection after answering (a failed authentication).
    pub close: bool,
}

/// One connection's SASL state: the exchange, and the session it established (KIP-368).
#[derive(Debug)]
pub(crate) struct SaslSession {
    pub auth: Authenticator,
    /// When an unauthenticated connection (a new one, or one re-authenticating) is closed.
    pub auth_deadline: tokio::time::Instant,
    /// When the authenticated session expires, if it does.
    pub expires: Option<tokio::time::Instant>,
    /// The mechanism the connection authenticated with: a re-authentication must use it.
    pub mechanism: Option<String>,
    /// While re-authenticating: the principal it must end with (KIP-368 forbids a change).
    pub reauth_of: Option<String>,
}

impl SaslSession {
    pub fn new(users: Option<&SaslUsers>, authentication_timeout: std::time::Duration) -> Self {
        SaslSession {
            auth: Authenticator::new(users),
            auth_deadline: tokio::time::Instant::now() + authentication_timeout,
            expires: None,
            mechanism: None,
            reauth_of: None,
        }
    }

    /// SaslHandshake, which on an authenticated connection starts a re-authentication.
    pub fn handshake(
        &mut self,
        users: &SaslUsers,
        request: &SaslHandshakeRequest,
        authentication_timeout: std::time::Duration,
    ) -> SaslOutcome<SaslHandshakeResponse> {
        if let Authenticator::Authenticated(principal) = &self.auth {
            if self.mechanism.as_deref() != Some(request.mechanism.as_str()) {
                tracing::info!(mechanism = %request.mechanism, "re-authentication with another mechanism; closing");
                let names = users.mechanisms.iter().map(|m| m.name().into()).collect();
                return SaslOutcome {
                    response: SaslHandshakeResponse::default()
                        .with_error_code(ErrorCode::IllegalSaslState)
                        .with_mechanisms(names),
                    close: true,
                };
            }
            self.reauth_of = Some(principal.clone());
            self.auth = Authenticator::AwaitingHandshake;
            self.auth_deadline = tokio::time::Instant::now() + authentication_timeout;
        }
        let outcome = self.auth.handshake(users, request);
        if outcome.response.error_code == ErrorCode::None {
            self.mechanism = Some(request.mechanism.to_string());
        }
        outcome
    }

    /// SaslAuthenticate; a completed exchange starts the session (and its expiry).
    pub fn authenticate(
        &mut self,
        users: &SaslUsers,
        request: &SaslAuthenticateRequest,
        now_ms: i64,
    ) -> SaslOutcome<SaslAuthenticateResponse> {
        let mut outcome = self.auth.authenticate(users, request, now_ms);
        let Some(principal) = self.auth.principal() else {
            return outcome;
        };
        if let Some(before) = self.reauth_of.take() {
            if before != principal {
                tracing::info!(
                    before,
                    after = principal,
                    "re-authentication changed the principal; closing"
                );
                outcome.response = SaslAuthenticateResponse::default()
                    .with_error_code(ErrorCode::SaslAuthenticationFailed)
                    .with_error_message(Some(
                        "Cannot change principals during re-authentication".into(),
                    ))
                    .with_auth_bytes(Bytes::new());
                outcome.close = true;
                return outcome;
            }
        }
        let lifetime = outcome.response.session_lifetime_ms;
        self.expires = (lifetime > 0).then(|| {
            tokio::time::Instant::now() + std::time::Duration::from_millis(lifetime.unsigned_abs())
        });
        outcome
    }

    /// Whether the authenticated session has expired.
    pub fn expired(&self) -> bool {
        self.expires
            .is_some_and(|at| tokio::time::Instant::now() >= at)
    }
}

impl Authenticator {
    pub fn new(sasl: Option<&SaslUsers>) -> Authenticator {
        match sasl {
            Some(_) => Authenticator::AwaitingHandshake,
            None => Authenticator::Open,
        }
    }

    /// The authenticated principal's name, once there is one.
    pub fn principal(&self) -> Option<&str> {
        match self {
            Authenticator::Authenticated(p) => Some(p),
            _ => None,
        }
    }

    /// Whether requests other than the SASL ones may be served.
    pub fn is_authenticated(&self) -> bool {
        matches!(self, Authenticator::Open | Authenticator::Authenticated(_))
    }

    pub fn handshake(
        &mut self,
        users: &SaslUsers,
        request: &SaslHandshakeRequest,
    ) -> SaslOutcome<SaslHandshakeResponse> {
        let names = users.mechanisms.iter().map(|m| m.name().into()).collect();
        let answer = |code: ErrorCode, names, close| SaslOutcome {
            response: SaslHandshakeResponse::default()
                .with_error_code(code)
                .with_mechanisms(names),
            close,
        };
        if !matches!(self, Authenticator::AwaitingHandshake) {
            return answer(ErrorCode::IllegalSaslState, names, true);
        }
        match Mechanism::from_name(&request.mechanism).filter(|m| users.mechanisms.contains(m)) {
            Some(Mechanism::Plain) => {
                *self = Authenticator::Plain;
                answer(ErrorCode::None, names, false)
            }
            Some(Mechanism::OAuthBearer) => {
                *self = Authenticator::OAuthBearer;
                answer(ErrorCode::None, names, false)
            }
            Some(m) => {
                *self = Authenticator::ScramFirst(m, ScramServer::new(m));
                answer(ErrorCode::None, names, false)
            }
            None => answer(ErrorCode::UnsupportedSaslMechanism, names, false),
        }
    }

    pub fn authenticate(
        &mut self,
        users: &SaslUsers,
        request: &SaslAuthenticateRequest,
        now_ms: i64,
    ) -> SaslOutcome<SaslAuthenticateResponse> {
        let ok = |bytes: Vec<u8>| SaslOutcome {
            response: SaslAuthenticateResponse::default()
                .with_error_code(ErrorCode::None)
                .with_error_message(None)
                .with_auth_bytes(Bytes::from(bytes))
                .with_session_lifetime_ms(0),
            close: false,
        };
        // KIP-368: with `connections.max.reauth.ms` the session lasts that long, or until the
        // OAUTHBEARER token expires if sooner; without it, forever (0).
        let max_reauth_ms = users
            .max_reauth
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let done = |bytes: Vec<u8>, token_expires_ms: Option<i64>| {
            let lifetime = match (max_reauth_ms, token_expires_ms) {
                (None, _) => 0,
                (Some(max), None) => max,
                (Some(max), Some(expires)) => max.min(expires.saturating_sub(now_ms)).max(1),
            };
            let mut o = ok(bytes);
            o.response.session_lifetime_ms = lifetime;
            o
        };
        let fail = |code: ErrorCode, message: &str| SaslOutcome {
            response: SaslAuthenticateResponse::default()
                .with_error_code(code)
                .with_error_message(Some(message.into()))
                .with_auth_bytes(Bytes::new()),
            close: true,
        };
        // Kafka names no detail: a wrong user and a wrong password look the same.
        let failed = |e: SaslError| {
            tracing::info!(error = %e, "SASL authentication failed");
            fail(
                ErrorCode::SaslAuthenticationFailed,
                "Authentication failed: Invalid username or password",
            )
        };
        match std::mem::replace(self, Authenticator::AwaitingHandshake) {
            Authenticator::Plain => match parse_plain(&request.auth_bytes) {
                Ok((user, password)) if users.passwords.get(&user) == Some(&password) => {
                    *self = Authenticator::Authenticated(user);
                    done(Vec::new(), None)
                }
                Ok(_) => failed(SaslError::Failed("wrong PLAIN credentials".into())),
                Err(e) => failed(e),
            },
            Authenticator::ScramFirst(m, mut scram) => {
                let nonce =
                    base64::engine::general_purpose::STANDARD_NO_PAD.encode(random_bytes::<18>());
                let lookup = |u: &str| {
                    crate::sync::lock(&users.scram)
                        .get(&(m, u.to_string()))
                        .cloned()
                };
                match scram.first(&request.auth_bytes, &nonce, lookup) {
                    Ok((user, server_first)) => {
                        *self = Authenticator::ScramFinal(scram, user);
                        ok(server_first)
                    }
                    Err(e) => failed(e),
                }
            }
            // Tokens are checked as Kafka's default (unsecured) validator does: a JWT with alg
            // none whose `sub` is the principal, not yet expired.
            Authenticator::OAuthBearer => {
                match parse_oauthbearer(&request.auth_bytes)
                    .and_then(|(token, _)| validate_unsecured_jwt(&token, now_ms))
                {
                    Ok((principal, expires)) => {
                        *self = Authenticator::Authenticated(principal);
                        done(Vec::new(), Some(expires))
                    }
                    Err(e) => {
                        tracing::info!(error = %e, "OAUTHBEARER token refused");
                        *self = Authenticator::OAuthBearerRefused;
                        ok(br#"{"status":"invalid_token"}"#.to_vec())
                    }
                }
            }
            Authenticator::OAuthBearerRefused => fail(
                ErrorCode::SaslAuthenticationFailed,
                "Authentication failed: invalid_token",
            ),
            Authenticator::ScramFinal(mut scram, user) => match scram.last(&request.auth_bytes) {
                Ok(server_final) => {
                    *self = Authenticator::Authenticated(user);
                    done(server_final, None)
                }
                Err(e) => failed(e),
            },
            other => {
                *self = other;
                fail(
                    ErrorCode::IllegalSaslState,
                    "Unexpected SaslAuthenticate: no mechanism was chosen",
                )
            }
        }
    }
}

/// SaslHandshake on a listener without SASL: ILLEGAL_SASL_STATE, as Kafka answers on a
/// PLAINTEXT listener.
pub(crate) fn handshake_without_sasl(
    _ctx: &crate::context::RequestContext,
    _request: &SaslHandshakeRequest,
    _version: i16,
) -> SaslHandshakeResponse {
    SaslHandshakeResponse::default().with_error_code(ErrorCode::IllegalSaslState)
}

/// SaslAuthenticate on a listener without SASL: ILLEGAL_SASL_STATE.
pub(crate) fn authenticate_without_sasl(
    _ctx: &crate::context::RequestContext,
    _request: &SaslAuthenticateRequest,
    _version: i16,
) -> SaslAuthenticateResponse {
    SaslAuthenticateResponse::default()
        .with_error_code(ErrorCode::IllegalSaslState)
        .with_error_message(Some(
            "Unexpected SASL request on a listener without SASL".into(),
        ))
}

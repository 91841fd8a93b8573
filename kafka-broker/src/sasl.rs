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
                    ok(Vec::new())
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
                    Ok((principal, _expires)) => {
                        *self = Authenticator::Authenticated(principal);
                        ok(Vec::new())
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
                    ok(server_final)
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

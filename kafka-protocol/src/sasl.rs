//! SASL mechanisms Kafka speaks inside SaslAuthenticate (KIP-152): PLAIN (RFC 4616) and
//! SCRAM-SHA-256 / SCRAM-SHA-512 (RFC 5802, RFC 7677, KIP-84), for both sides, sans-io.
//!
//! Neither side does I/O or draws randomness here: the caller passes the nonce (from a
//! cryptographic source) and carries each message in a SaslAuthenticate request or response.
//! Every message from the peer is parsed defensively: bad input is a [`SaslError`], never a
//! panic, and the iteration count a server asks for is bounded.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};

/// A SASL mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Mechanism {
    /// PLAIN: the password in the clear (use it over TLS).
    Plain,
    /// SCRAM-SHA-256.
    ScramSha256,
    /// SCRAM-SHA-512.
    ScramSha512,
    /// OAUTHBEARER (RFC 7628, KIP-255): a bearer token.
    OAuthBearer,
}

impl Mechanism {
    /// The SCRAM mechanism's code in Describe/AlterUserScramCredentials (1 SCRAM-SHA-256,
    /// 2 SCRAM-SHA-512); `None` for PLAIN.
    pub fn scram_code(self) -> Option<i8> {
        match self {
            Mechanism::ScramSha256 => Some(1),
            Mechanism::ScramSha512 => Some(2),
            Mechanism::Plain | Mechanism::OAuthBearer => None,
        }
    }

    /// The SCRAM mechanism with this code.
    pub fn from_scram_code(code: i8) -> Option<Mechanism> {
        match code {
            1 => Some(Mechanism::ScramSha256),
            2 => Some(Mechanism::ScramSha512),
            _ => None,
        }
    }

    /// The name in SaslHandshake and `sasl.mechanism`.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::ScramSha512 => "SCRAM-SHA-512",
            Mechanism::OAuthBearer => "OAUTHBEARER",
        }
    }

    /// The mechanism with this name (case-insensitive), if it is one of ours.
    pub fn from_name(name: &str) -> Option<Mechanism> {
        [
            Mechanism::Plain,
            Mechanism::ScramSha256,
            Mechanism::ScramSha512,
            Mechanism::OAuthBearer,
        ]
        .into_iter()
        .find(|m| m.name().eq_ignore_ascii_case(name.trim()))
    }
}

/// A malformed or failed exchange.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SaslError {
    /// The peer's message does not parse.
    #[error("malformed SASL message: {0}")]
    Malformed(&'static str),
    /// The credentials are wrong (or, on the client, the server could not prove it knows them).
    #[error("authentication failed: {0}")]
    Failed(String),
}

/// The PLAIN message: `[authzid] NUL authcid NUL passwd`.
pub fn plain_message(username: &str, password: &str) -> Vec<u8> {
    let mut m = Vec::with_capacity(username.len() + password.len() + 2);
    m.push(0);
    m.extend_from_slice(username.as_bytes());
    m.push(0);
    m.extend_from_slice(password.as_bytes());
    m
}

/// Parses a PLAIN message into (username, password). An authorization id, if present, must
/// equal the username (Kafka's rule).
pub fn parse_plain(message: &[u8]) -> Result<(String, String), SaslError> {
    let text =
        std::str::from_utf8(message).map_err(|_| SaslError::Malformed("PLAIN is not UTF-8"))?;
    let mut parts = text.split('\0');
    let (Some(authzid), Some(user), Some(pass), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SaslError::Malformed(
            "PLAIN needs authzid NUL user NUL password",
        ));
    };
    if user.is_empty() || pass.is_empty() {
        return Err(SaslError::Malformed(
            "PLAIN with an empty username or password",
        ));
    }
    if !authzid.is_empty() && authzid != user {
        return Err(SaslError::Failed(
            "authorization id differs from the username".into(),
        ));
    }
    Ok((user.to_string(), pass.to_string()))
}

/// The most PBKDF2 iterations a client accepts from a server (a hostile server must not make
/// the client spin); Kafka's own maximum is 16384.
pub const MAX_ITERATIONS: u32 = 16_384;
/// The fewest a server may ask for (RFC 7677 recommends at least 4096).
pub const MIN_ITERATIONS: u32 = 4_096;

fn hmac(mechanism: Mechanism, key: &[u8], data: &[u8]) -> Vec<u8> {
    match mechanism {
        Mechanism::ScramSha512 => {
            let mut m =
                <Hmac<Sha512> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable_hmac());
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        _ => {
            let mut m =
                <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable_hmac());
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
    }
}

/// HMAC takes keys of any length; `new_from_slice` cannot fail for it.
fn unreachable_hmac<T>() -> T {
    unreachable!("HMAC accepts keys of every length")
}

fn hash(mechanism: Mechanism, data: &[u8]) -> Vec<u8> {
    match mechanism {
        Mechanism::ScramSha512 => Sha512::digest(data).to_vec(),
        _ => Sha256::digest(data).to_vec(),
    }
}

/// PBKDF2 of `password` (RFC 5802's SaltedPassword), what a client sends in
/// AlterUserScramCredentials.
pub fn salted_password(
    mechanism: Mechanism,
    password: &str,
    salt: &[u8],
    iterations: u32,
) -> Vec<u8> {
    match mechanism {
        Mechanism::ScramSha512 => {
            let mut out = vec![0u8; 64];
            pbkdf2::pbkdf2_hmac::<Sha512>(password.as_bytes(), salt, iterations, &mut out);
            out
        }
        _ => {
            let mut out = vec![0u8; 32];
            pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt, iterations, &mut out);
            out
        }
    }
}

/// What a server stores for a SCRAM user (never the password).
#[derive(Clone, PartialEq, Eq)]
pub struct ScramCredential {
    /// The salt.
    pub salt: Vec<u8>,
    /// PBKDF2 iterations.
    pub iterations: u32,
    /// H(ClientKey).
    pub stored_key: Vec<u8>,
    /// HMAC(SaltedPassword, "Server Key").
    pub server_key: Vec<u8>,
}

impl std::fmt::Debug for ScramCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramCredential")
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

impl ScramCredential {
    /// The credential for `password` with `salt` and `iterations`.
    pub fn new(
        mechanism: Mechanism,
        password: &str,
        salt: &[u8],
        iterations: u32,
    ) -> ScramCredential {
        let salted = salted_password(mechanism, password, salt, iterations);
        ScramCredential::from_salted(mechanism, &salted, salt, iterations)
    }

    /// The credential from an already salted password (what AlterUserScramCredentials
    /// carries, so that the password itself never travels).
    pub fn from_salted(
        mechanism: Mechanism,
        salted: &[u8],
        salt: &[u8],
        iterations: u32,
    ) -> ScramCredential {
        let client_key = hmac(mechanism, salted, b"Client Key");
        ScramCredential {
            salt: salt.to_vec(),
            iterations,
            stored_key: hash(mechanism, &client_key),
            server_key: hmac(mechanism, salted, b"Server Key"),
        }
    }
}

/// `saslname` escaping of RFC 5802: `=` as `=3D`, `,` as `=2C`.
fn escape(name: &str) -> String {
    name.replace('=', "=3D").replace(',', "=2C")
}

fn unescape(name: &str) -> Result<String, SaslError> {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(i) = rest.find('=') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 3)
            .ok_or(SaslError::Malformed("bad escape in a SCRAM name"))?;
        out.push(match code {
            "3D" => '=',
            "2C" => ',',
            _ => return Err(SaslError::Malformed("bad escape in a SCRAM name")),
        });
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The `key=value` attributes of a SCRAM message.
fn attributes(message: &str) -> Vec<(char, &str)> {
    message
        .split(',')
        .filter_map(|a| {
            let mut chars = a.chars();
            let key = chars.next()?;
            a.get(1..)?.strip_prefix('=').map(|v| (key, v))
        })
        .collect()
}

fn attribute<'a>(attrs: &[(char, &'a str)], key: char) -> Option<&'a str> {
    attrs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

fn xor(a: &[u8], b: &[u8]) -> Vec<u8> {
    a.iter().zip(b).map(|(x, y)| x ^ y).collect()
}

/// The client side of a SCRAM exchange.
pub struct ScramClient {
    mechanism: Mechanism,
    password: String,
    client_first_bare: String,
    nonce: String,
    /// Set after the client-final message: the signature the server must send back.
    expected_server_signature: Option<Vec<u8>>,
}

impl std::fmt::Debug for ScramClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramClient")
            .field("mechanism", &self.mechanism)
            .finish_non_exhaustive()
    }
}

impl ScramClient {
    /// Starts an exchange for `username` with `nonce` (printable, without commas: base64 of
    /// random bytes does); returns the client and the client-first message.
    pub fn start(
        mechanism: Mechanism,
        username: &str,
        password: &str,
        nonce: &str,
    ) -> (ScramClient, Vec<u8>) {
        let bare = format!("n={},r={nonce}", escape(username));
        let first = format!("n,,{bare}");
        (
            ScramClient {
                mechanism,
                password: password.to_string(),
                client_first_bare: bare,
                nonce: nonce.to_string(),
                expected_server_signature: None,
            },
            first.into_bytes(),
        )
    }

    /// Answers the server-first message with the client-final message.
    pub fn respond(&mut self, server_first: &[u8]) -> Result<Vec<u8>, SaslError> {
        let text = std::str::from_utf8(server_first)
            .map_err(|_| SaslError::Malformed("server-first is not UTF-8"))?;
        let attrs = attributes(text);
        if let Some(e) = attribute(&attrs, 'e') {
            return Err(SaslError::Failed(e.to_string()));
        }
        let nonce =
            attribute(&attrs, 'r').ok_or(SaslError::Malformed("server-first without a nonce"))?;
        if !nonce.starts_with(&self.nonce) || nonce.len() <= self.nonce.len() {
            return Err(SaslError::Failed(
                "the server's nonce does not extend ours".into(),
            ));
        }
        let salt = B64
            .decode(
                attribute(&attrs, 's')
                    .ok_or(SaslError::Malformed("server-first without a salt"))?,
            )
            .map_err(|_| SaslError::Malformed("salt is not base64"))?;
        let iterations: u32 = attribute(&attrs, 'i')
            .ok_or(SaslError::Malformed(
                "server-first without an iteration count",
            ))?
            .parse()
            .map_err(|_| SaslError::Malformed("iteration count is not a number"))?;
        if !(1..=MAX_ITERATIONS).contains(&iterations) {
            return Err(SaslError::Failed(format!(
                "the server asks for {iterations} iterations (at most {MAX_ITERATIONS})"
            )));
        }
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{text},{without_proof}", self.client_first_bare);
        let salted = salted_password(self.mechanism, &self.password, &salt, iterations);
        let client_key = hmac(self.mechanism, &salted, b"Client Key");
        let stored_key = hash(self.mechanism, &client_key);
        let client_signature = hmac(self.mechanism, &stored_key, auth_message.as_bytes());
        let proof = xor(&client_key, &client_signature);
        let server_key = hmac(self.mechanism, &salted, b"Server Key");
        self.expected_server_signature =
            Some(hmac(self.mechanism, &server_key, auth_message.as_bytes()));
        Ok(format!("{without_proof},p={}", B64.encode(proof)).into_bytes())
    }

    /// Checks the server-final message: the server proves it knew the credential.
    pub fn finish(&self, server_final: &[u8]) -> Result<(), SaslError> {
        let text = std::str::from_utf8(server_final)
            .map_err(|_| SaslError::Malformed("server-final is not UTF-8"))?;
        let attrs = attributes(text);
        if let Some(e) = attribute(&attrs, 'e') {
            return Err(SaslError::Failed(e.to_string()));
        }
        let v = B64
            .decode(
                attribute(&attrs, 'v')
                    .ok_or(SaslError::Malformed("server-final without a signature"))?,
            )
            .map_err(|_| SaslError::Malformed("server signature is not base64"))?;
        match &self.expected_server_signature {
            Some(expected) if *expected == v => Ok(()),
            _ => Err(SaslError::Failed(
                "the server's signature does not match".into(),
            )),
        }
    }
}

/// The server side of a SCRAM exchange.
#[derive(Debug)]
pub struct ScramServer {
    mechanism: Mechanism,
    state: ServerState,
}

#[derive(Debug)]
enum ServerState {
    Initial,
    /// After server-first: what checking the proof needs.
    SentFirst {
        credential: ScramCredential,
        auth_prefix: String,
        nonce: String,
    },
    Done,
}

impl ScramServer {
    /// A new exchange.
    pub fn new(mechanism: Mechanism) -> ScramServer {
        ScramServer {
            mechanism,
            state: ServerState::Initial,
        }
    }

    /// Reads the client-first message; `lookup` gives the user's credential. Returns the
    /// username and the server-first message (`server_nonce` extends the client's).
    pub fn first(
        &mut self,
        client_first: &[u8],
        server_nonce: &str,
        lookup: impl FnOnce(&str) -> Option<ScramCredential>,
    ) -> Result<(String, Vec<u8>), SaslError> {
        let text = std::str::from_utf8(client_first)
            .map_err(|_| SaslError::Malformed("client-first is not UTF-8"))?;
        // gs2 header: "n,," (no channel binding, no authzid) or "n,a=authzid,".
        let bare = text
            .strip_prefix("n,")
            .and_then(|rest| rest.split_once(','))
            .map(|(_, bare)| bare)
            .ok_or(SaslError::Malformed(
                "client-first needs the gs2 header n,,",
            ))?;
        let attrs = attributes(bare);
        let username = unescape(
            attribute(&attrs, 'n').ok_or(SaslError::Malformed("client-first without a name"))?,
        )?;
        let client_nonce =
            attribute(&attrs, 'r').ok_or(SaslError::Malformed("client-first without a nonce"))?;
        let credential = lookup(&username)
            .ok_or_else(|| SaslError::Failed("Invalid username or password".into()))?;
        let nonce = format!("{client_nonce}{server_nonce}");
        let server_first = format!(
            "r={nonce},s={},i={}",
            B64.encode(&credential.salt),
            credential.iterations
        );
        let auth_prefix = format!("{bare},{server_first}");
        self.state = ServerState::SentFirst {
            credential,
            auth_prefix,
            nonce,
        };
        Ok((username, server_first.into_bytes()))
    }

    /// Checks the client-final message; returns the server-final message, or the failure.
    pub fn last(&mut self, client_final: &[u8]) -> Result<Vec<u8>, SaslError> {
        let ServerState::SentFirst {
            credential,
            auth_prefix,
            nonce,
        } = std::mem::replace(&mut self.state, ServerState::Done)
        else {
            return Err(SaslError::Malformed("client-final before client-first"));
        };
        let text = std::str::from_utf8(client_final)
            .map_err(|_| SaslError::Malformed("client-final is not UTF-8"))?;
        let (without_proof, proof) = text
            .rsplit_once(",p=")
            .ok_or(SaslError::Malformed("client-final without a proof"))?;
        let attrs = attributes(without_proof);
        // RFC 5802 wants the nonce exactly; Kafka (since 3.8.1, the CVE-2024-56128 fix) accepts
        // one that ends with it, because librdkafka before 2.6.1 prepends its own nonce once
        // more (confluentinc/librdkafka#4895). The server's random part still has to be there.
        if !attribute(&attrs, 'r').is_some_and(|r| r.ends_with(nonce.as_str())) {
            return Err(SaslError::Failed("nonce mismatch".into()));
        }
        let proof = B64
            .decode(proof)
            .map_err(|_| SaslError::Malformed("proof is not base64"))?;
        let auth_message = format!("{auth_prefix},{without_proof}");
        let client_signature = hmac(
            self.mechanism,
            &credential.stored_key,
            auth_message.as_bytes(),
        );
        if proof.len() != client_signature.len() {
            return Err(SaslError::Failed("Invalid username or password".into()));
        }
        let client_key = xor(&proof, &client_signature);
        if hash(self.mechanism, &client_key) != credential.stored_key {
            return Err(SaslError::Failed("Invalid username or password".into()));
        }
        let server_signature = hmac(
            self.mechanism,
            &credential.server_key,
            auth_message.as_bytes(),
        );
        Ok(format!("v={}", B64.encode(server_signature)).into_bytes())
    }
}

/// The OAUTHBEARER client message (RFC 7628 section 3.1): the GS2 header, then
/// `auth=Bearer <token>` and any SASL extensions (KIP-342), each ended by 0x01, and a final 0x01.
pub fn oauthbearer_message(token: &str, extensions: &[(&str, &str)]) -> Vec<u8> {
    let mut m = format!("n,,\x01auth=Bearer {token}\x01");
    for (k, v) in extensions {
        m.push_str(&format!("{k}={v}\x01"));
    }
    m.push('\x01');
    m.into_bytes()
}

/// Reads an OAUTHBEARER client message: the token and the extensions.
pub fn parse_oauthbearer(message: &[u8]) -> Result<(String, Vec<(String, String)>), SaslError> {
    let text = std::str::from_utf8(message)
        .map_err(|_| SaslError::Malformed("OAUTHBEARER is not UTF-8"))?;
    let (gs2, rest) = text.split_once('\x01').ok_or(SaslError::Malformed(
        "OAUTHBEARER needs a GS2 header and key-value pairs",
    ))?;
    if !gs2.starts_with("n,") {
        return Err(SaslError::Malformed(
            "OAUTHBEARER GS2 header must start with n,",
        ));
    }
    let body = rest
        .strip_suffix("\x01\x01")
        .ok_or(SaslError::Malformed("OAUTHBEARER must end with two 0x01"))?;
    let mut token = None;
    let mut extensions = Vec::new();
    for pair in body.split('\x01') {
        let (k, v) = pair
            .split_once('=')
            .ok_or(SaslError::Malformed("an OAUTHBEARER pair without ="))?;
        if k == "auth" {
            let t = v
                .strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
                .ok_or(SaslError::Malformed("auth is not a Bearer token"))?;
            token = Some(t.trim().to_string());
        } else {
            extensions.push((k.to_string(), v.to_string()));
        }
    }
    let token = token.ok_or(SaslError::Malformed("OAUTHBEARER without auth="))?;
    Ok((token, extensions))
}

/// An unsecured JWT (`alg` none, no signature), as Kafka's
/// `OAuthBearerUnsecuredLoginCallbackHandler` makes for development: `sub` is the principal,
/// `iat` and `exp` in seconds since the epoch.
pub fn unsecured_jwt(principal: &str, issued_at_ms: i64, lifetime_ms: i64) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#);
    let iat = issued_at_ms.div_euclid(1000);
    let exp = issued_at_ms.saturating_add(lifetime_ms).div_euclid(1000);
    let sub = json_string(principal);
    let payload = URL_SAFE_NO_PAD.encode(format!(r#"{{"iat":{iat},"exp":{exp},"sub":{sub}}}"#));
    format!("{header}.{payload}.")
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A value of a flat JSON object (what an unsecured JWT's header and claims are).
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Text(String),
    Number(f64),
    Other,
}

/// Parses a flat JSON object; nested values are kept as `Other`. Bounded by the input's length.
fn parse_flat_object(text: &str) -> Result<Vec<(String, Json)>, SaslError> {
    let bad = SaslError::Malformed("a JWT part is not a JSON object");
    let mut chars = text.trim().chars().peekable();
    if chars.next() != Some('{') {
        return Err(bad);
    }
    let mut out = Vec::new();
    let read_string = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| -> Option<String> {
        let mut s = String::new();
        loop {
            match chars.next()? {
                '"' => return Some(s),
                '\\' => match chars.next()? {
                    'n' => s.push('\n'),
                    't' => s.push('\t'),
                    'u' => {
                        let hex: String = (0..4).filter_map(|_| chars.next()).collect();
                        s.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                    }
                    c => s.push(c),
                },
                c => s.push(c),
            }
        }
    };
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        match chars.next() {
            Some('}') => return Ok(out),
            Some('"') => {}
            _ => return Err(bad),
        }
        let key = read_string(&mut chars).ok_or(SaslError::Malformed("a JWT key does not end"))?;
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some(':') {
            return Err(bad);
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let value = match chars.peek() {
            Some('"') => {
                chars.next();
                Json::Text(
                    read_string(&mut chars)
                        .ok_or(SaslError::Malformed("a JWT value does not end"))?,
                )
            }
            Some(c) if *c == '-' || c.is_ascii_digit() => {
                let mut n = String::new();
                while chars
                    .peek()
                    .is_some_and(|c| c.is_ascii_digit() || "+-.eE".contains(*c))
                {
                    n.extend(chars.next());
                }
                Json::Number(
                    n.parse()
                        .map_err(|_| SaslError::Malformed("a JWT number does not parse"))?,
                )
            }
            Some('{') | Some('[') => {
                let mut depth = 0usize;
                let mut in_string = false;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => in_string = !in_string,
                        '\\' if in_string => {
                            chars.next();
                        }
                        '{' | '[' if !in_string => depth += 1,
                        '}' | ']' if !in_string => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                Json::Other
            }
            _ => {
                while chars.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
                    chars.next();
                }
                Json::Other
            }
        };
        out.push((key, value));
    }
}

/// Validates an unsecured JWT as Kafka's `OAuthBearerUnsecuredValidatorCallbackHandler`
/// does: `alg` none, a string `sub` (the principal) and an `exp` not yet passed at `now_ms`.
/// Returns the principal and when the token expires (ms since the epoch).
pub fn validate_unsecured_jwt(token: &str, now_ms: i64) -> Result<(String, i64), SaslError> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SaslError::Failed(
            "not a JWT (header.payload.signature)".into(),
        ));
    };
    let decode = |p: &str| {
        URL_SAFE_NO_PAD
            .decode(p.trim_end_matches('='))
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or(SaslError::Failed("a JWT part is not base64url JSON".into()))
    };
    let header = parse_flat_object(&decode(header)?)?;
    if !header
        .iter()
        .any(|(k, v)| k == "alg" && *v == Json::Text("none".into()))
        || !signature.is_empty()
    {
        return Err(SaslError::Failed(
            "only unsecured tokens (alg none, no signature) are accepted".into(),
        ));
    }
    let claims = parse_flat_object(&decode(payload)?)?;
    let claim = |name: &str| {
        claims
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let Some(Json::Text(principal)) = claim("sub") else {
        return Err(SaslError::Failed("the token has no sub claim".into()));
    };
    if principal.trim().is_empty() {
        return Err(SaslError::Failed("the token's sub is empty".into()));
    }
    let Some(Json::Number(exp)) = claim("exp") else {
        return Err(SaslError::Failed("the token has no exp claim".into()));
    };
    let expires_ms = (exp * 1000.0) as i64;
    if expires_ms <= now_ms {
        return Err(SaslError::Failed("the token has expired".into()));
    }
    Ok((principal, expires_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_round_trips_and_rejects_what_kafka_rejects() {
        let m = plain_message("alice", "s3cret");
        assert_eq!(parse_plain(&m).unwrap(), ("alice".into(), "s3cret".into()));
        assert!(
            parse_plain(b"bob\0alice\0pw").is_err(),
            "authzid must be the user"
        );
        assert!(parse_plain(b"\0alice").is_err());
        assert!(parse_plain(b"\0\0pw").is_err());
        assert!(parse_plain(&[0xff, 0, 0]).is_err());
    }

    /// RFC 7677 section 3's SCRAM-SHA-256 example, byte for byte.
    #[test]
    fn scram_sha_256_matches_rfc_7677() {
        let (mut client, first) = ScramClient::start(
            Mechanism::ScramSha256,
            "user",
            "pencil",
            "rOprNGfwEbeRWgbNEkqO",
        );
        assert_eq!(first, b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let server_first = b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let last = client.respond(server_first).unwrap();
        assert_eq!(
            String::from_utf8(last).unwrap(),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        client
            .finish(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .unwrap();
        assert!(client.finish(b"v=AAAA").is_err());
    }

    #[test]
    fn scram_client_and_server_agree_and_wrong_passwords_fail() {
        for mechanism in [Mechanism::ScramSha256, Mechanism::ScramSha512] {
            let stored = ScramCredential::new(mechanism, "right", b"salty", 4096);
            for (password, ok) in [("right", true), ("wrong", false)] {
                let mut server = ScramServer::new(mechanism);
                let (mut client, first) =
                    ScramClient::start(mechanism, "a=b,c", password, "cnonce");
                let (user, server_first) = server
                    .first(&first, "snonce", |u| (u == "a=b,c").then(|| stored.clone()))
                    .unwrap();
                assert_eq!(user, "a=b,c", "names are escaped and unescaped");
                let client_final = client.respond(&server_first).unwrap();
                match server.last(&client_final) {
                    Ok(server_final) => {
                        assert!(ok);
                        client.finish(&server_final).unwrap();
                    }
                    Err(SaslError::Failed(_)) => assert!(!ok),
                    Err(e) => panic!("{e}"),
                }
            }
        }
    }

    #[test]
    fn hostile_server_messages_are_refused() {
        let (mut client, _) = ScramClient::start(Mechanism::ScramSha256, "u", "p", "abc");
        assert!(
            client.respond(b"r=zzz,s=AAAA,i=4096").is_err(),
            "a nonce that does not extend ours"
        );
        assert!(
            client.respond(b"r=abcd,s=AAAA,i=4000000000").is_err(),
            "too many iterations"
        );
        assert!(client.respond(b"r=abcd,s=!!,i=4096").is_err());
        assert!(client.respond(b"e=unknown-user").is_err());
        assert!(client.respond(&[0xff]).is_err());
        let mut server = ScramServer::new(Mechanism::ScramSha256);
        assert!(
            server.last(b"c=biws,r=x,p=AAAA").is_err(),
            "final before first"
        );
        assert!(server.first(b"garbage", "s", |_| None).is_err());
        assert!(matches!(
            server.first(b"n,,n=nobody,r=x", "s", |_| None),
            Err(SaslError::Failed(_))
        ));
    }

    #[test]
    fn oauthbearer_messages_and_unsecured_tokens() {
        let token = unsecured_jwt("al\"ice", 1_700_000_000_000, 3_600_000);
        let message = oauthbearer_message(&token, &[("traceId", "42")]);
        let (parsed, ext) = parse_oauthbearer(&message).unwrap();
        assert_eq!(parsed, token);
        assert_eq!(ext, vec![("traceId".to_string(), "42".to_string())]);
        let (principal, expires) = validate_unsecured_jwt(&token, 1_700_000_000_000).unwrap();
        assert_eq!(
            (principal.as_str(), expires),
            ("al\"ice", 1_700_003_600_000)
        );
        assert!(
            validate_unsecured_jwt(&token, 1_800_000_000_000).is_err(),
            "expired"
        );
        assert!(validate_unsecured_jwt("a.b", 0).is_err());
        assert!(
            validate_unsecured_jwt("e30.e30.", 0).is_err(),
            "no alg none, no sub"
        );
        assert!(parse_oauthbearer(b"n,,\x01auth=Basic x\x01\x01").is_err());
        assert!(parse_oauthbearer(b"garbage").is_err());
        // Hostile JSON does not panic.
        for junk in ["{", "{\"a\":", "{\"a\":{\"b\":[1,2", "{\"\\u12\"}"] {
            let _ = parse_flat_object(junk);
        }
    }

    #[test]
    fn mechanism_names() {
        assert_eq!(
            Mechanism::from_name("scram-sha-512"),
            Some(Mechanism::ScramSha512)
        );
        assert_eq!(Mechanism::from_name("GSSAPI"), None);
    }
}

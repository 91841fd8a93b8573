//! TLS (`security.protocol` SSL and SASL_SSL) with rustls: the server's certificate checked
//! against the system's roots or a given CA, its name against the broker's host
//! (`ssl.endpoint.identification.algorithm=https`, the default), and an optional client
//! certificate for mutual TLS. Keys and certificates come from files (`ssl.*.location`) or
//! in-memory PEM (`ssl.*.pem`).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig as RustlsConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::config::invalid;
use crate::error::Result;
use crate::transport::{BrokerStream, ConnectFuture, Transport};

/// Where a PEM value comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum Pem {
    /// A file (`ssl.*.location`).
    File(String),
    /// The PEM text itself (`ssl.*.pem`).
    Inline(String),
}

impl std::fmt::Debug for Pem {
    // Inline PEM may be a private key: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pem::File(path) => write!(f, "File({path:?})"),
            Pem::Inline(_) => f.write_str("Inline([redacted])"),
        }
    }
}

impl Pem {
    fn bytes(&self, key: &str) -> Result<Vec<u8>> {
        match self {
            Pem::File(path) => {
                std::fs::read(path).map_err(|e| invalid(key, &format!("{path}: {e}")))
            }
            Pem::Inline(text) => Ok(text.as_bytes().to_vec()),
        }
    }
}

/// The private key in `pem`: an unencrypted one as it is, an `ENCRYPTED PRIVATE KEY` (PKCS#8
/// with PBES2, as `openssl pkcs8 -topk8` and Java's tools write them) decrypted with
/// `password`. A wrong password is a configuration error naming `ssl.key.password`.
fn private_key(
    pem: &[u8],
    password: Option<&crate::security::Password>,
) -> Result<PrivateKeyDer<'static>> {
    use pkcs8::der::Decode;
    let Some(der) = encrypted_key_der(pem)? else {
        return PrivateKeyDer::from_pem_slice(pem)
            .map_err(|_| invalid("ssl.key.location", "no PEM private key in it"));
    };
    let password = password.ok_or_else(|| {
        invalid(
            "ssl.key.password",
            "the key is encrypted: ssl.key.password is needed",
        )
    })?;
    let info = pkcs8::EncryptedPrivateKeyInfo::from_der(&der).map_err(|e| {
        invalid(
            "ssl.key.location",
            &format!("not an encrypted PKCS#8 key: {e}"),
        )
    })?;
    let document = info.decrypt(password.expose()).map_err(|_| {
        invalid(
            "ssl.key.password",
            "cannot decrypt the key (a wrong password, or an unsupported cipher)",
        )
    })?;
    Ok(PrivateKeyDer::Pkcs8(document.as_bytes().to_vec().into()))
}

/// The DER of the first `ENCRYPTED PRIVATE KEY` block in `pem`, if it has one.
fn encrypted_key_der(pem: &[u8]) -> Result<Option<Vec<u8>>> {
    use base64::Engine;
    const BEGIN: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----";
    const END: &str = "-----END ENCRYPTED PRIVATE KEY-----";
    let text = String::from_utf8_lossy(pem);
    let Some(start) = text.find(BEGIN) else {
        return Ok(None);
    };
    let body = &text[start + BEGIN.len()..];
    let end = body
        .find(END)
        .ok_or_else(|| invalid("ssl.key.location", "an encrypted key block is not closed"))?;
    let base64: String = body[..end].split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(base64)
        .map(Some)
        .map_err(|e| invalid("ssl.key.location", &format!("bad base64 in the key: {e}")))
}

/// The TLS settings of a client.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsSettings {
    /// `ssl.ca.location` / `ssl.ca.pem`: the CAs to trust instead of the system's.
    pub ca: Option<Pem>,
    /// `ssl.certificate.location` / `ssl.certificate.pem`: the client's chain, for mutual TLS.
    pub certificate: Option<Pem>,
    /// `ssl.key.location` / `ssl.key.pem`: the client's private key (PKCS#8, PKCS#1 or SEC1;
    /// an `ENCRYPTED PRIVATE KEY`, PKCS#8 with PBES2, needs `key_password`).
    pub key: Option<Pem>,
    /// `ssl.key.password`: the password of an encrypted key.
    pub key_password: Option<crate::security::Password>,
    /// `ssl.endpoint.identification.algorithm`: `https` (the default) checks the broker's name
    /// against its certificate; empty does not.
    pub verify_hostname: bool,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            ca: None,
            certificate: None,
            key: None,
            key_password: None,
            verify_hostname: true,
        }
    }
}

impl TlsSettings {
    /// Applies one `ssl.*` property; `Ok(false)` for other keys.
    pub fn set(&mut self, key: &str, value: &str) -> Result<bool> {
        match key {
            "ssl.ca.location" => self.ca = Some(Pem::File(value.to_string())),
            "ssl.ca.pem" => self.ca = Some(Pem::Inline(value.to_string())),
            "ssl.certificate.location" => self.certificate = Some(Pem::File(value.to_string())),
            "ssl.certificate.pem" => self.certificate = Some(Pem::Inline(value.to_string())),
            "ssl.key.location" => self.key = Some(Pem::File(value.to_string())),
            "ssl.key.pem" => self.key = Some(Pem::Inline(value.to_string())),
            "ssl.endpoint.identification.algorithm" => {
                self.verify_hostname = match value.trim().to_ascii_lowercase().as_str() {
                    "https" => true,
                    "" | "none" => false,
                    _ => return Err(invalid(key, "must be https or empty")),
                }
            }
            "ssl.key.password" => {
                self.key_password = Some(crate::security::Password::new(value));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Builds the rustls configuration, reading the files.
    pub fn client_config(&self) -> Result<RustlsConfig> {
        let mut roots = RootCertStore::empty();
        match &self.ca {
            Some(ca) => {
                let pem = ca.bytes("ssl.ca.location")?;
                let mut added = 0;
                for cert in CertificateDer::pem_slice_iter(&pem) {
                    let cert = cert.map_err(|e| {
                        invalid("ssl.ca.location", &format!("not PEM certificates: {e}"))
                    })?;
                    roots.add(cert).map_err(|e| {
                        invalid("ssl.ca.location", &format!("unusable CA certificate: {e}"))
                    })?;
                    added += 1;
                }
                if added == 0 {
                    return Err(invalid("ssl.ca.location", "no certificate in it"));
                }
            }
            None => {
                let native = rustls_native_certs::load_native_certs();
                for cert in native.certs {
                    let _ = roots.add(cert);
                }
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = RustlsConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid("security.protocol", &e.to_string()))?;
        let roots = Arc::new(roots);
        let builder = if self.verify_hostname {
            builder.with_root_certificates(roots)
        } else {
            let inner =
                rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider)
                    .build()
                    .map_err(|e| invalid("ssl.ca.location", &e.to_string()))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(ChainOnly(inner)))
        };
        let config = match (&self.certificate, &self.key) {
            (Some(cert), Some(key)) => {
                let pem = cert.bytes("ssl.certificate.location")?;
                let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|e| {
                        invalid(
                            "ssl.certificate.location",
                            &format!("not PEM certificates: {e}"),
                        )
                    })?;
                let key = private_key(&key.bytes("ssl.key.location")?, self.key_password.as_ref())?;
                builder.with_client_auth_cert(chain, key).map_err(|e| {
                    invalid(
                        "ssl.key.location",
                        &format!("the key does not fit the certificate: {e}"),
                    )
                })?
            }
            (None, None) => builder.with_no_client_auth(),
            _ => {
                return Err(invalid(
                    "ssl.certificate.location",
                    "a client certificate needs its key and the key its certificate",
                ))
            }
        };
        Ok(config)
    }
}

/// Checks the chain, not the name (`ssl.endpoint.identification.algorithm=`).
#[derive(Debug)]
struct ChainOnly(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName))
            | Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// TCP, then a TLS handshake naming the broker's host.
#[derive(Clone)]
pub struct TlsTransport {
    connector: TlsConnector,
}

impl std::fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsTransport").finish_non_exhaustive()
    }
}

impl TlsTransport {
    /// A transport from `settings` (files are read now: a bad path is a configuration error).
    pub fn new(settings: &TlsSettings) -> Result<TlsTransport> {
        Ok(TlsTransport {
            connector: TlsConnector::from(Arc::new(settings.client_config()?)),
        })
    }
}

/// The marker in I/O errors that are TLS certificate or handshake failures (not retriable).
pub(crate) const TLS_ERROR_PREFIX: &str = "TLS handshake failed: ";

impl Transport for TlsTransport {
    fn connect(&self, addr: &str, timeout: Duration) -> ConnectFuture {
        let addr = addr.to_string();
        let connector = self.connector.clone();
        Box::pin(async move {
            let attempt = async {
                let tcp = TcpStream::connect(&addr).await?;
                tcp.set_nodelay(true)?;
                let host = addr.rsplit_once(':').map_or(addr.as_str(), |(h, _)| h);
                let host = host.trim_start_matches('[').trim_end_matches(']');
                let name = ServerName::try_from(host.to_string()).map_err(|e| {
                    io::Error::new(io::ErrorKind::InvalidInput, format!("{host}: {e}"))
                })?;
                let tls = connector.connect(name, tcp).await.map_err(|e| {
                    io::Error::new(io::ErrorKind::InvalidData, format!("{TLS_ERROR_PREFIX}{e}"))
                })?;
                Ok(Box::new(tls) as Box<dyn BrokerStream>)
            };
            tokio::time::timeout(timeout, attempt).await.map_err(|_| {
                io::Error::new(io::ErrorKind::TimedOut, "connection setup timed out")
            })?
        })
    }
}

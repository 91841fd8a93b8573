//! The TLS listener (rustls): the broker's certificate and key, and optionally the CA whose
//! client certificates it requires (mutual TLS).

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;

use crate::error::{BrokerError, Result};

/// A TLS listener's certificate, key and optional client CA, as PEM text.
#[derive(Clone, Default)]
pub struct TlsConfig {
    /// The broker's certificate chain (PEM), leaf first.
    pub cert_chain_pem: String,
    /// The broker's private key (unencrypted PEM).
    pub key_pem: String,
    /// When set, clients must present a certificate this CA (PEM) signed.
    pub client_ca_pem: Option<String>,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfig")
            .field("client_auth", &self.client_ca_pem.is_some())
            .finish_non_exhaustive()
    }
}

impl TlsConfig {
    /// A listener with this certificate chain and key.
    pub fn new(cert_chain_pem: impl Into<String>, key_pem: impl Into<String>) -> TlsConfig {
        TlsConfig {
            cert_chain_pem: cert_chain_pem.into(),
            key_pem: key_pem.into(),
            client_ca_pem: None,
        }
    }

    /// Requires client certificates signed by `ca_pem`.
    pub fn with_client_ca(mut self, ca_pem: impl Into<String>) -> TlsConfig {
        self.client_ca_pem = Some(ca_pem.into());
        self
    }

    /// The acceptor, or what is wrong with the PEM.
    pub(crate) fn acceptor(&self) -> Result<TlsAcceptor> {
        let bad = |m: String| BrokerError::InvalidConfig(format!("TLS: {m}"));
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(self.cert_chain_pem.as_bytes())
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| bad(format!("the certificate is not PEM: {e}")))?;
        if chain.is_empty() {
            return Err(bad("no certificate".into()));
        }
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes())
            .map_err(|_| bad("no unencrypted PEM private key".into()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| bad(e.to_string()))?;
        let builder = match &self.client_ca_pem {
            Some(ca) => {
                let mut roots = RootCertStore::empty();
                for cert in CertificateDer::pem_slice_iter(ca.as_bytes()) {
                    let cert = cert.map_err(|e| bad(format!("the client CA is not PEM: {e}")))?;
                    roots
                        .add(cert)
                        .map_err(|e| bad(format!("unusable client CA: {e}")))?;
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                        .build()
                        .map_err(|e| bad(format!("client CA: {e}")))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let config = builder
            .with_single_cert(chain, key)
            .map_err(|e| bad(format!("the key does not fit the certificate: {e}")))?;
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

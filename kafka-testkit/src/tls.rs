//! Test certificates (rcgen): a CA, and leaf certificates it signs, as PEM text.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

/// A throwaway certificate authority.
pub struct TestCa {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl TestCa {
    /// A new self-signed CA named `name`.
    pub fn new(name: &str) -> TestCa {
        let key = KeyPair::generate().expect("a key pair");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.self_signed(&key).expect("a self-signed CA");
        TestCa { cert, key }
    }

    /// The CA's certificate (PEM).
    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A leaf for `names` (DNS names or IP addresses): (certificate PEM, unencrypted PKCS#8
    /// key PEM).
    pub fn issue(&self, names: &[&str]) -> (String, String) {
        let key = KeyPair::generate().expect("a key pair");
        let params =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .expect("leaf parameters");
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .expect("a signed leaf");
        (cert.pem(), key.serialize_pem())
    }

    /// A client certificate whose subject is `CN=common_name,O=organization` (as Kafka's SSL
    /// principal names it), with no alternative names: (certificate PEM, PKCS#8 key PEM).
    pub fn issue_client(&self, common_name: &str, organization: &str) -> (String, String) {
        let key = KeyPair::generate().expect("a key pair");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("leaf parameters");
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(DnType::OrganizationName, organization);
        dn.push(DnType::CommonName, common_name);
        params.distinguished_name = dn;
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .expect("a signed leaf");
        (cert.pem(), key.serialize_pem())
    }
}

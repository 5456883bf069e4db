//! TLS as Helm's Go client does it, on rustls.
//!
//! - Trust: the system's CA certificates, found the way Go finds them on Linux
//!   (`SSL_CERT_FILE`, else the first distribution bundle; plus every file in `SSL_CERT_DIR`, else
//!   in the distribution certificate directories), so a corporate CA baked into the sidecar
//!   image works for strata as it does for helm. Only when the system has none do the public
//!   roots built into strata apply.
//! - A server whose certificate *is* one of the trusted certificates is accepted, as Go and
//!   curl accept it: a self-signed certificate with `CA:TRUE`, given as a repository's CA file,
//!   is otherwise refused by webpki as `CaUsedAsEndEntity`. It must still be valid now and name
//!   the host.
//! - Argo CD's `argocd-tls-certs-cm`, mounted where the repo-server has it, adds the CA
//!   certificates Argo CD holds for a host (one file per host name).
//!
//! ureq cannot take a rustls verifier of our own, so this module is also the TLS step of
//! ureq's connector chain, in place of ureq's own.

use std::collections::HashSet;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport,
    TransportAdapter,
};

/// Where Argo CD mounts `argocd-tls-certs-cm` in the repo-server (its `ARGOCD_TLS_DATA_PATH`
/// default); mount it at the same place in the strata sidecar.
pub const ARGOCD_TLS_DIR: &str = "/app/config/tls";

/// The CA bundles Go tries on Linux, in order; the first that exists is used.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The certificate directories Go reads on Linux when `SSL_CERT_DIR` is unset.
const SYSTEM_DIRS: &[&str] = &["/etc/ssl/certs", "/etc/pki/tls/certs"];

/// The system's trusted CA certificates, as Go reads them: `SSL_CERT_FILE` (else the first
/// bundle found), then every file of each directory in `SSL_CERT_DIR` (colon-separated; else
/// the distribution directories). Duplicates are dropped; files that hold no certificate are
/// skipped, as Go skips them.
pub fn system_roots() -> Vec<CertificateDer<'static>> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let mut certs = Vec::new();
    match var("SSL_CERT_FILE") {
        Some(file) => certs.extend(pem_file_certs(Path::new(&file))),
        None => {
            if let Some(found) = SYSTEM_BUNDLES
                .iter()
                .map(|p| pem_file_certs(Path::new(p)))
                .find(|c| !c.is_empty())
            {
                certs.extend(found);
            }
        }
    }
    let dirs: Vec<PathBuf> = match var("SSL_CERT_DIR") {
        Some(dirs) => std::env::split_paths(&dirs).collect(),
        None => SYSTEM_DIRS.iter().map(PathBuf::from).collect(),
    };
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for file in files {
            certs.extend(pem_file_certs(&file));
        }
    }
    let mut seen = HashSet::new();
    certs.retain(|c| seen.insert(c.as_ref().to_vec()));
    certs
}

/// The public roots built into strata, for a system without any CA certificates.
pub fn builtin_roots() -> RootCertStore {
    RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

/// The file of `argocd-tls-certs-cm` for `host` (a host name or IP address, no port), if the
/// mount has one: `ARGOCD_TLS_DATA_PATH` when set, else [`ARGOCD_TLS_DIR`].
pub fn argocd_host_ca(host: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("ARGOCD_TLS_DATA_PATH")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(ARGOCD_TLS_DIR), PathBuf::from);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    // A host name is one path component: nothing in it can leave the directory.
    if host.is_empty() || host.contains(['/', '\0']) || host.starts_with('.') {
        return None;
    }
    let file = dir.join(host);
    file.is_file().then_some(file)
}

/// The certificates of a PEM file; empty when it cannot be read or holds none.
fn pem_file_certs(path: &Path) -> Vec<CertificateDer<'static>> {
    std::fs::read(path)
        .map(|bytes| pem_certs(&bytes))
        .unwrap_or_default()
}

/// The certificates in PEM text; anything else in it is ignored.
pub fn pem_certs(bytes: &[u8]) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_slice_iter(bytes)
        .filter_map(Result::ok)
        .collect()
}

/// The first private key in PEM text.
pub fn pem_key(bytes: &[u8]) -> Option<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_slice(bytes).ok()
}

/// A rustls client configuration that trusts `roots` (the built-in public roots when empty)
/// and presents `client` when the server asks for a certificate.
pub fn client_config(
    roots: &[CertificateDer<'static>],
    client: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> Result<Arc<ClientConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut store = RootCertStore::empty();
    store.add_parsable_certificates(roots.iter().cloned());
    if store.is_empty() {
        store = builtin_roots();
    }
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
        .build()
        .map_err(|e| rustls::Error::General(e.to_string()))?;
    let verifier = Arc::new(TrustedLeafVerifier {
        inner: webpki,
        trusted: roots.iter().map(|c| c.as_ref().to_vec()).collect(),
    });
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match client {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key)?,
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// webpki's verification, plus Go's rule that a server certificate which is itself a trusted
/// certificate is trusted.
struct TrustedLeafVerifier {
    inner: Arc<WebPkiServerVerifier>,
    /// DER of every trusted certificate.
    trusted: HashSet<Vec<u8>>,
}

impl fmt::Debug for TrustedLeafVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustedLeafVerifier")
            .field("trusted", &self.trusted.len())
            .finish_non_exhaustive()
    }
}

impl ServerCertVerifier for TrustedLeafVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        let Err(rustls::Error::InvalidCertificate(CertificateError::Other(other))) = &result else {
            return result;
        };
        if !matches!(
            other.0.downcast_ref::<webpki::Error>(),
            Some(webpki::Error::CaUsedAsEndEntity)
        ) {
            return result;
        }
        if !self.trusted.contains(end_entity.as_ref()) {
            // A self-signed certificate nobody here trusts: say so as for any other.
            return Err(CertificateError::UnknownIssuer.into());
        }
        // webpki checks a certificate's validity period before its basic constraints, so
        // this error also says the certificate is valid now. The name is checked here.
        let parsed = ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_name(&parsed, server_name)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The TLS step of the connector chain: wraps the TCP (or proxy tunnel) transport in rustls
/// with strata's configuration.
pub struct TlsConnector {
    pub config: Arc<ClientConfig>,
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnector").finish_non_exhaustive()
    }
}

impl<In: Transport> Connector<In> for TlsConnector {
    type Out = Either<In, TlsTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details
            .uri
            .authority()
            .map(|a| a.host().trim_start_matches('[').trim_end_matches(']'))
            .unwrap_or_default();
        let name = ServerName::try_from(host.to_owned())
            .map_err(|_| ureq::Error::Tls("the host is not a valid TLS server name"))?;
        let mut conn =
            ClientConnection::new(Arc::clone(&self.config), name).map_err(ureq::Error::Rustls)?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        sock.set_timeout(details.timeout);
        conn.complete_io(&mut sock)?;
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(Either::B(TlsTransport {
            buffers,
            stream: StreamOwned { conn, sock },
        })))
    }
}

/// A TLS connection carrying HTTP for ureq.
pub struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsTransport").finish_non_exhaustive()
    }
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

//! The self-signed certificate HTTPS is served with, like the one IBKR's gateway generates:
//! created on first start (SAN `localhost` and `127.0.0.1`) and kept in the data dir, so clients
//! that pin it (`cacert=` in ibind, `SSL_CERT_FILE` for httpx) keep working across restarts.

use std::io;
use std::path::{Path, PathBuf};

use axum_server::tls_rustls::RustlsConfig;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, SanType};

/// Where the certificate and its key live.
#[derive(Debug, Clone)]
pub struct CertificateFiles {
    /// PEM certificate; also the CA file for clients that verify.
    pub cert: PathBuf,
    /// PEM private key, readable by the owner only.
    pub key: PathBuf,
}

impl CertificateFiles {
    /// The files in `data_dir/tls/`.
    pub fn in_dir(data_dir: &Path) -> Self {
        let dir = data_dir.join("tls");
        Self { cert: dir.join("cert.pem"), key: dir.join("key.pem") }
    }
}

/// Loads the certificate, generating it first if it does not exist.
///
/// # Errors
/// When the files cannot be written or read, or do not hold a usable certificate and key.
pub async fn load_or_create(files: &CertificateFiles) -> io::Result<RustlsConfig> {
    // Several crates may link rustls; pick ring explicitly. A second install is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    if !files.cert.exists() || !files.key.exists() {
        create(files)?;
    }
    RustlsConfig::from_pem_file(&files.cert, &files.key).await
}

fn create(files: &CertificateFiles) -> io::Result<()> {
    let invalid = |e: rcgen::Error| io::Error::new(io::ErrorKind::InvalidData, e);
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).map_err(invalid)?;
    params.subject_alt_names.push(SanType::IpAddress([127, 0, 0, 1].into()));
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "LocalBroker");
    name.push(DnType::OrganizationName, "LocalBroker");
    params.distinguished_name = name;
    let key = KeyPair::generate().map_err(invalid)?;
    let cert = params.self_signed(&key).map_err(invalid)?;
    if let Some(dir) = files.cert.parent() {
        std::fs::create_dir_all(dir)?;
    }
    write_private(&files.key, key.serialize_pem().as_bytes())?;
    std::fs::write(&files.cert, cert.pem())
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file =
        std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(contents)
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_certificate_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let files = CertificateFiles::in_dir(dir.path());
        load_or_create(&files).await.unwrap();
        let first = std::fs::read(&files.cert).unwrap();
        load_or_create(&files).await.unwrap();
        assert_eq!(std::fs::read(&files.cert).unwrap(), first);
        let pem = String::from_utf8(first).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    }
}

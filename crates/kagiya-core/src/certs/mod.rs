//! S/MIME certificates (seed 001): reading them from whatever a customer brings — PEM, DER, a
//! PKCS#7 bundle, a signed message or a whole signed e-mail — and explaining whether one fits an
//! address: name, dates, key usage, key strength and the chain to the trusted roots.

pub mod decode;
pub mod inspect;
pub mod proof;
pub mod validate;

pub use decode::{certificates, Decoded, Format};
pub use inspect::{inspect, CertInfo};
pub use proof::{mail_from, possession, signing_time, Possession};
pub use validate::{
    chain_status, check_for_address, possession_findings, ChainStatus, Finding, Severity,
};

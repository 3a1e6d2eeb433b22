//! Any bytes through the whole import path: decoding (PEM, DER, PKCS#7, signed mail), inspection
//! and validation of every certificate found. It must return errors, never panic or hang.
#![no_main]

use kagiya_core::certs::{certificates, check_for_address, inspect};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(decoded) = certificates(data) {
        for der in &decoded.certificates {
            if let Ok(info) = inspect(der) {
                let _ = check_for_address(&info, "hanako@example.co.jp", 0, 30, kagiya_core::Lang::Ja);
            }
        }
    }
});

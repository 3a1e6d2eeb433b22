//! A password or other secret as it passes through memory: wiped on drop and never printed, so it
//! cannot leak into logs, panics or events by accident.

use serde::Deserialize;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A secret string. `Debug` prints a placeholder; the bytes are zeroed when dropped.
#[derive(Clone, Default, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret's text, for hashing or checking against a policy.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// In the generated TypeScript a secret is the string the window sends.
#[cfg(feature = "specta")]
impl specta::Type for Secret {
    fn definition(types: &mut specta::Types) -> specta::datatype::DataType {
        <String as specta::Type>::definition(types)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let s = Secret::new("Tr0ub4dor&3-horse");
        let shown = format!("{s:?} {:?}", vec![s.clone()]);
        assert!(!shown.contains("Tr0ub4dor"), "{shown}");
        assert_eq!(s.expose(), "Tr0ub4dor&3-horse");
    }

    #[test]
    fn deserializes_from_a_plain_json_string() {
        let s: Secret = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(s.expose(), "abc");
    }
}

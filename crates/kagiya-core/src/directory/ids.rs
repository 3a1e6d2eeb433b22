//! Login IDs and contract numbers: what they may contain and how they are compared (login IDs are
//! unique across the system, case-insensitively).

use serde::{Deserialize, Serialize};

use crate::Error;

/// A user's login ID as written; compared by its folded (lower-case) form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LoginId(String);

impl LoginId {
    /// 3–32 half-width letters, digits, `-`, `_`, `.` or `@`.
    pub fn parse(raw: &str) -> Result<LoginId, Error> {
        let s = raw.trim();
        let ok = (3..=32).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
        if ok {
            Ok(LoginId(s.to_owned()))
        } else {
            Err(Error::InvalidLoginId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used for uniqueness and lookups.
    pub fn folded(&self) -> String {
        fold(&self.0)
    }
}

/// The case-insensitive key of a login ID or contract number.
pub fn fold(s: &str) -> String {
    s.trim().to_ascii_lowercase()
}

/// A customer's contract number (契約番号).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ContractNo(String);

impl ContractNo {
    /// 1–20 half-width letters, digits or `-`.
    pub fn parse(raw: &str) -> Result<ContractNo, Error> {
        let s = raw.trim();
        let ok =
            (1..=20).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if ok {
            Ok(ContractNo(s.to_owned()))
        } else {
            Err(Error::InvalidContractNo)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's or company's name: 1–100 characters, no control characters.
pub fn parse_display_name(raw: &str) -> Result<String, Error> {
    let s = raw.trim();
    if s.is_empty() || s.chars().count() > 100 || s.chars().any(char::is_control) {
        return Err(Error::InvalidName);
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_ids() {
        assert_eq!(LoginId::parse(" HanakoDT ").unwrap().as_str(), "HanakoDT");
        assert_eq!(LoginId::parse("HanakoDT").unwrap().folded(), "hanakodt");
        for bad in ["ab", "", "has space", "日本語id", &"x".repeat(33)] {
            assert_eq!(LoginId::parse(bad), Err(Error::InvalidLoginId), "{bad}");
        }
    }

    #[test]
    fn contract_numbers_and_names() {
        assert!(ContractNo::parse("C-000123").is_ok());
        assert_eq!(ContractNo::parse("12 3"), Err(Error::InvalidContractNo));
        assert_eq!(
            parse_display_name(" 株式会社テスト ").unwrap(),
            "株式会社テスト"
        );
        assert_eq!(parse_display_name("a\u{7}b"), Err(Error::InvalidName));
    }
}

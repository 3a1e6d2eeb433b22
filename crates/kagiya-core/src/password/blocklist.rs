//! The shipped list of common passwords. NIST SP 800-63B requires checking new passwords against
//! such a list; the comparison is on the whole password, ignoring case.

use std::collections::HashSet;
use std::sync::OnceLock;

const LIST: &str = include_str!("common-passwords.txt");

fn set() -> &'static HashSet<String> {
    static SET: OnceLock<HashSet<String>> = OnceLock::new();
    SET.get_or_init(|| {
        LIST.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_lowercase)
            .collect()
    })
}

/// True when the password, ignoring case, is on the list.
pub fn is_common(password: &str) -> bool {
    set().contains(&password.to_lowercase())
}

/// How many distinct entries the list has.
pub fn len() -> usize {
    set().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_whole_passwords_ignoring_case() {
        assert!(is_common("password123"));
        assert!(is_common("PASSWORD123"));
        assert!(is_common("P@ssw0rd123"));
        assert!(!is_common("password123x"));
        assert!(!is_common("Kagiya-2026-branch"));
    }

    #[test]
    fn comments_and_blank_lines_are_not_entries() {
        assert!(!is_common(""));
        assert!(!is_common(
            "# Common passwords refused everywhere (whole-password, case-insensitive match)."
        ));
        assert!(len() > 150);
    }
}

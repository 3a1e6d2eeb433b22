//! The breached and common passwords new passwords are looked up in. NIST SP 800-63B-4 asks for
//! "passwords obtained from previous breach corpuses" and "dictionary words"; the comparison is
//! on the whole password, ignoring case. Passwords *built* from such words, repetitions and
//! sequences are caught by the strength rule (zxcvbn's pattern matching), not here.
//!
//! Two lists:
//! - the corpus, `data/common-passwords.txt.gz` (~100,000 entries, 260 KB): Django's 20,000 most
//!   common passwords (BSD-3-Clause) and the top 100,000 of the xato-net ranking (SecLists, MIT),
//!   rebuilt by `scripts/update-common-passwords.py` from the package registries. Stored sorted
//!   and lower-cased; decompressed once into one string and binary-searched (about 1.3 MB);
//! - ours, `common-passwords.txt`: a short curated list of bank and branch words.

use std::collections::HashSet;
use std::io::Read;
use std::sync::OnceLock;

const CORPUS_GZ: &[u8] = include_bytes!("../../data/common-passwords.txt.gz");
const OURS: &str = include_str!("common-passwords.txt");

/// The decompressed corpus and the start of each entry in it, sorted bytewise.
struct Corpus {
    text: String,
    starts: Vec<u32>,
}

impl Corpus {
    fn load() -> Corpus {
        let mut text = String::new();
        // The file is part of the binary and checked by the tests: failing here is a build defect.
        flate2::read::GzDecoder::new(CORPUS_GZ)
            .read_to_string(&mut text)
            .expect("the shipped password corpus decompresses");
        let mut starts = Vec::with_capacity(110_000);
        let mut at = 0usize;
        for line in text.split_inclusive('\n') {
            if line.trim_end().is_empty() {
                at += line.len();
                continue;
            }
            starts.push(at as u32);
            at += line.len();
        }
        Corpus { text, starts }
    }

    fn entry(&self, i: usize) -> &str {
        let from = self.starts[i] as usize;
        let rest = &self.text[from..];
        rest.split('\n').next().unwrap_or("")
    }

    fn contains(&self, lower: &str) -> bool {
        let (mut lo, mut hi) = (0usize, self.starts.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.entry(mid).as_bytes().cmp(lower.as_bytes()) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return true,
            }
        }
        false
    }
}

fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(Corpus::load)
}

fn ours() -> &'static HashSet<String> {
    static SET: OnceLock<HashSet<String>> = OnceLock::new();
    SET.get_or_init(|| {
        OURS.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_lowercase)
            .collect()
    })
}

/// True when the password, ignoring case, is in the corpus or on our list.
pub fn is_common(password: &str) -> bool {
    let lower = password.trim().to_lowercase();
    !lower.is_empty() && (ours().contains(&lower) || corpus().contains(&lower))
}

/// How many entries the corpus has (ours not counted).
pub fn len() -> usize {
    corpus().starts.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_whole_passwords_ignoring_case() {
        assert!(is_common("password123"));
        assert!(is_common("PASSWORD123"));
        assert!(is_common("P@ssw0rd123"));
        assert!(!is_common("password123x9q"));
        assert!(!is_common("Kagiya-2026-branch"));
    }

    /// The corpus is of realistic size, sorted as the binary search needs, and its entries are
    /// found — including ones far from the head of the ranking.
    #[test]
    fn the_corpus_is_sorted_and_searchable() {
        let c = corpus();
        assert!(len() > 100_000, "{}", len());
        for i in 1..c.starts.len() {
            assert!(c.entry(i - 1).as_bytes() < c.entry(i).as_bytes(), "at {i}");
        }
        for i in [0, 1, len() / 3, len() / 2, len() - 1] {
            assert!(c.contains(c.entry(i)), "{}", c.entry(i));
            assert!(!c.contains(&format!("{}\u{1}", c.entry(i))));
        }
        for common in [
            "qwerty123",
            "iloveyou",
            "dragon",
            "sunshine1",
            "trustno1",
            "letmein!",
        ] {
            assert!(is_common(common), "{common}");
        }
    }

    #[test]
    fn comments_and_blank_lines_are_not_entries() {
        assert!(!is_common(""));
        assert!(!is_common("   "));
        assert!(!is_common(
            "# Common passwords refused everywhere (whole-password, case-insensitive match)."
        ));
    }
}

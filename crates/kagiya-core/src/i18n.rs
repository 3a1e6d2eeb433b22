//! The two languages of the console and how the OS locale maps onto them. Every message a user can
//! see is produced in one of these, so a `Lang` travels with every error and checklist.

use serde::{Deserialize, Serialize};

/// A language the console speaks.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Ja,
    En,
}

impl Lang {
    /// Maps a BCP 47 / POSIX locale ("ja-JP", "ja_JP.UTF-8", "en-US") to a console language:
    /// Japanese locales get Japanese, every other locale English.
    pub fn from_locale(locale: &str) -> Lang {
        let primary = locale
            .split(['-', '_', '.', '@'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if primary == "ja" {
            Lang::Ja
        } else {
            Lang::En
        }
    }

    /// The stored code ("ja" or "en").
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    /// Parses a stored code; anything else is `None`.
    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks the text for this language.
    pub fn pick<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_locales_map_to_japanese() {
        for l in ["ja", "ja-JP", "ja_JP.UTF-8", "JA-jp"] {
            assert_eq!(Lang::from_locale(l), Lang::Ja, "{l}");
        }
    }

    #[test]
    fn other_locales_map_to_english() {
        for l in ["en-US", "en_GB.UTF-8", "fr-FR", "", "C", "jav"] {
            assert_eq!(Lang::from_locale(l), Lang::En, "{l}");
        }
    }

    #[test]
    fn codes_round_trip() {
        for l in [Lang::Ja, Lang::En] {
            assert_eq!(Lang::parse(l.code()), Some(l));
        }
        assert_eq!(Lang::parse("de"), None);
    }
}

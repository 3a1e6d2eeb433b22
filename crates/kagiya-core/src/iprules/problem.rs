//! Why an IP rule, a rule set or a country table was refused, in the user's language. The IP rule
//! editor shows these while the administrator types, so they must read as well in Japanese as in
//! English (a free-text English reason inside a Japanese message would not).

use crate::i18n::Lang;

/// The reason behind `Error::InvalidIpRule`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpRuleProblem {
    /// A rule does not start with `allow` or `deny`.
    NoAction { line: String },
    /// Nothing follows the action.
    NoAddress { line: String },
    /// The text after the action is not an address or a CIDR.
    NotAnAddress { text: String },
    /// A CIDR with host bits set (`192.0.2.1/24`): `network` is what was probably meant.
    HostBits { given: String, network: String },
    /// More rules than a set may have.
    TooMany { max: usize },
    /// A rule's note is longer than `max` characters or holds control characters.
    Note { max: usize },
    /// A country code that is not two capital letters.
    CountryCode,
    /// A country table without a single range.
    EmptyCountryTable,
    /// A country table line that is not `CIDR,CC` (1-based).
    CountryLine { line: usize },
    /// A customer administrator's own rules would refuse the address they are saving them from
    /// (seed 003: a locked-out administrator needs the provider's forced release).
    LocksOutSelf { address: String },
}

impl IpRuleProblem {
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (Self::NoAction { line }, Lang::Ja) => {
                format!("「{line}」: allow（許可）か deny（拒否）で始めてください")
            }
            (Self::NoAction { line }, Lang::En) => format!("\"{line}\": start with allow or deny"),
            (Self::NoAddress { line }, Lang::Ja) => {
                format!("「{line}」の後にIPアドレスかCIDRを書いてください")
            }
            (Self::NoAddress { line }, Lang::En) => {
                format!("\"{line}\": an address or CIDR must follow")
            }
            (Self::NotAnAddress { text }, Lang::Ja) => {
                format!("「{text}」はIPアドレスでもCIDRでもありません")
            }
            (Self::NotAnAddress { text }, Lang::En) => {
                format!("\"{text}\" is neither an IP address nor a CIDR")
            }
            (Self::HostBits { given, network }, Lang::Ja) => {
                format!("「{given}」はネットワークの先頭ではありません（{network} のことですか）")
            }
            (Self::HostBits { given, network }, Lang::En) => {
                format!("\"{given}\" has host bits set (did you mean {network}?)")
            }
            (Self::TooMany { max }, Lang::Ja) => format!("規則は {max} 件までです"),
            (Self::TooMany { max }, Lang::En) => format!("at most {max} rules"),
            (Self::Note { max }, Lang::Ja) => {
                format!("規則のメモは改行などの制御文字を含まない {max} 文字までです")
            }
            (Self::Note { max }, Lang::En) => {
                format!("a rule's note is at most {max} characters, without control characters")
            }
            (Self::CountryCode, Lang::Ja) => {
                "国コードは英大文字2文字（JP など）で指定してください".to_owned()
            }
            (Self::CountryCode, Lang::En) => {
                "country codes are two capital letters (JP, for example)".to_owned()
            }
            (Self::EmptyCountryTable, Lang::Ja) => "国別テーブルが空です".to_owned(),
            (Self::EmptyCountryTable, Lang::En) => "the country table is empty".to_owned(),
            (Self::CountryLine { line }, Lang::Ja) => {
                format!("国別テーブルの {line} 行目が「CIDR,国コード」の形ではありません")
            }
            (Self::CountryLine { line }, Lang::En) => {
                format!("line {line} of the country table is not CIDR,country")
            }
            (Self::LocksOutSelf { address }, Lang::Ja) => format!(
                "この設定では、いま操作しているアクセス元（{address}）からログインできなくなります。\
                 このアドレスを許可する規則を加えてください"
            ),
            (Self::LocksOutSelf { address }, Lang::En) => format!(
                "these rules would refuse the address you are using now ({address}), and you could \
                 no longer sign in; add a rule that allows it"
            ),
        }
    }
}

impl std::fmt::Display for IpRuleProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_reads_in_both_languages_and_names_what_was_typed() {
        let all = [
            IpRuleProblem::NoAction {
                line: "permit 192.0.2.0/24".into(),
            },
            IpRuleProblem::NoAddress {
                line: "allow".into(),
            },
            IpRuleProblem::NotAnAddress {
                text: "192.0.2.0/33".into(),
            },
            IpRuleProblem::HostBits {
                given: "192.0.2.1/24".into(),
                network: "192.0.2.0/24".into(),
            },
            IpRuleProblem::TooMany { max: 20_000 },
            IpRuleProblem::Note { max: 200 },
            IpRuleProblem::CountryCode,
            IpRuleProblem::EmptyCountryTable,
            IpRuleProblem::CountryLine { line: 2 },
            IpRuleProblem::LocksOutSelf {
                address: "198.51.100.7".into(),
            },
        ];
        for p in &all {
            let (ja, en) = (p.message(Lang::Ja), p.message(Lang::En));
            assert!(!ja.is_ascii(), "{ja}");
            assert!(en.is_ascii(), "{en}");
            assert_ne!(ja, en);
        }
        let host = &all[3];
        assert!(host.message(Lang::Ja).contains("192.0.2.0/24"));
        assert!(all[0].message(Lang::En).contains("permit 192.0.2.0/24"));
    }
}

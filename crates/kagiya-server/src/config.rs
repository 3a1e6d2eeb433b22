//! The server's configuration: a TOML file, then environment variables over it (so that a
//! container or a service manager can change one setting without a file).

use std::net::SocketAddr;
use std::path::Path;

use serde::Deserialize;

/// Everything the server reads at start.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where to listen (`127.0.0.1:8443`).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The PostgreSQL connection string (`postgres://user@host:port/db` or `host=… user=…`).
    pub database_url: String,
    /// Connections in the pool (ours: twice the cores of a typical server, enough to keep the
    /// password hashing busy; PostgreSQL's default limit is 100 for all processes).
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
    /// Bring the schema up to date when the server starts (otherwise `kagiya-server migrate`).
    #[serde(default)]
    pub migrate_on_start: bool,
    /// Proxies whose `X-Forwarded-For` is believed (addresses or CIDRs). From anyone else the
    /// header is ignored and the peer address is the source the IP rules and throttles see.
    #[serde(default)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Password checks run at once (each holds an argon2id block of memory, 19 MiB; ours: twice
    /// the cores, so that one check's database round trips overlap another's hashing while a
    /// flood still queues instead of exhausting memory). 0 means twice the number of cores.
    #[serde(default)]
    pub workers: usize,
    /// Mail (docs/mail.md): the outbox is always kept; with this section the server also
    /// delivers it. Without it, a request whose mail carries a code (a sign-in with 2FA, a
    /// reset) is refused with `mail.unavailable`, since nothing could send the code.
    #[serde(default)]
    pub mail: Option<MailConfig>,
    /// Who may read `/metrics` (addresses or CIDRs; default: this host only). Others get 404.
    #[serde(default = "default_metrics_allow")]
    pub metrics_allow: Vec<ipnet::IpNet>,
    /// TLS in the process: the certificate chain (PEM, leaf first) and its private key (PEM).
    /// Both or neither; without them the server speaks plain HTTP for a reverse proxy to front.
    #[serde(default)]
    pub tls_cert: Option<std::path::PathBuf>,
    #[serde(default)]
    pub tls_key: Option<std::path::PathBuf>,
    #[serde(default)]
    pub session: SessionConfig,
    #[serde(default)]
    pub throttle: ThrottleConfig,
}

/// How the server delivers mail, signs it, and receives certificate registrations.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    /// The sender (`鍵屋 <noreply@bank.example>`); its domain is the Message-ID's.
    pub from: String,
    #[serde(default)]
    pub reply_to: Option<String>,
    /// Where the links in mails lead (the customers' pages): `https://kagiya.bank.example`.
    pub link_base: String,
    /// The service's name in subjects (「【鍵屋】…」) and signatures.
    #[serde(default = "default_service_name")]
    pub service_name: String,
    /// Whom to ask, as printed at the end of each mail (a phone number, a page).
    #[serde(default)]
    pub contact: Option<String>,
    /// The language of a mail no request chose (notices owed by events): `ja` or `en`.
    #[serde(default = "default_mail_language")]
    pub language: kagiya_core::Lang,
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `starttls` (required, never opportunistic), `tls` (implicit), or `none` (only to a relay
    /// on this host).
    pub smtp_security: kagiya_mail::Security,
    #[serde(default)]
    pub smtp_user: Option<String>,
    /// A file holding the SMTP password (never in this file, never logged).
    #[serde(default)]
    pub smtp_password_file: Option<std::path::PathBuf>,
    /// A CA file (PEM) to trust for the mail server besides the OS's roots.
    #[serde(default)]
    pub smtp_ca_file: Option<std::path::PathBuf>,
    /// The time limit of one hand-over, connect to the final 250 (ours: 60 s, docs/mail.md).
    #[serde(default = "default_smtp_timeout")]
    pub smtp_timeout_seconds: u64,
    /// The service's S/MIME signing certificate and key (PEM), or a PKCS#12 file and a file
    /// holding its password. Every mail is signed (seed 001).
    #[serde(default)]
    pub signing_cert: Option<std::path::PathBuf>,
    #[serde(default)]
    pub signing_key: Option<std::path::PathBuf>,
    #[serde(default)]
    pub signing_p12: Option<std::path::PathBuf>,
    #[serde(default)]
    pub signing_p12_password_file: Option<std::path::PathBuf>,
    /// Revocation lists (PEM or DER) of the CAs whose certificates mail is encrypted to.
    #[serde(default)]
    pub crl_files: Vec<std::path::PathBuf>,
    /// The key that seals the codes and links waiting in the outbox (64 hex digits, made by
    /// `kagiya-server mail new-key FILE`).
    pub outbox_key_file: std::path::PathBuf,
    /// How often the worker looks for mail to send, in milliseconds.
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
    /// Tries before a mail the server keeps deferring is given up (ours: 12, about six hours
    /// with the backoff, docs/mail.md).
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// The first wait after a temporary failure, in milliseconds; it doubles with each try up
    /// to an hour (ours: 30 s, docs/mail.md).
    #[serde(default = "default_retry_ms")]
    pub retry_ms: u64,
    /// How long a worker holds a mail it is sending before another may take it (default: twice
    /// the hand-over's time limit).
    #[serde(default)]
    pub lease_seconds: Option<u64>,
    /// Seed 001's registration address and the SMTP listener the organisation's mail server
    /// forwards it to.
    #[serde(default)]
    pub registration: Option<RegistrationConfig>,
}

/// Where signed mails for certificate registration arrive (seed 001: 「電子署名付メールを
/// digitalid@… へ送信します」).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationConfig {
    /// The registration address (`digitalid@bank.example`): the only recipient accepted.
    pub address: String,
    /// Where the listener accepts the forwarded mail (`127.0.0.1:2526`).
    pub listen: SocketAddr,
    /// Who may hand mail to it (the organisation's mail servers; default: this host only).
    #[serde(default = "default_metrics_allow")]
    pub allow: Vec<ipnet::IpNet>,
}

fn default_service_name() -> String {
    "鍵屋".into()
}

fn default_mail_language() -> kagiya_core::Lang {
    kagiya_core::Lang::Ja
}

fn default_smtp_timeout() -> u64 {
    60
}

fn default_poll_ms() -> u64 {
    1000
}

fn default_max_attempts() -> u32 {
    12
}

fn default_retry_ms() -> u64 {
    30_000
}

/// How long a sign-in lasts (ours: seed 004 names no session length; 15 idle minutes and 8 hours
/// follow OWASP's session guidance for a banking service, docs/server.md).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    #[serde(default = "default_idle_minutes")]
    pub idle_minutes: u32,
    #[serde(default = "default_max_hours")]
    pub max_hours: u32,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            idle_minutes: default_idle_minutes(),
            max_hours: default_max_hours(),
        }
    }
}

fn default_idle_minutes() -> u32 {
    15
}

fn default_max_hours() -> u32 {
    8
}

/// Attempts allowed before the lockouts count them (ours, docs/server.md: a person types a few
/// per minute; the limits make a stranger's guessing and locking slow without locking anyone).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleConfig {
    /// Password and code attempts per minute from one source address.
    #[serde(default = "default_per_source")]
    pub per_source_per_minute: u32,
    /// Password and code attempts per minute naming one login ID, from anywhere.
    #[serde(default = "default_per_id")]
    pub per_login_id_per_minute: u32,
    /// API-channel requests per minute from one source (ours: an integration sends the password
    /// with every request, from one server; seed 000's lock after 3 wrong ones bounds guessing).
    #[serde(default = "default_api")]
    pub api_per_source_per_minute: u32,
    /// API-channel requests per minute naming one login ID.
    #[serde(default = "default_api")]
    pub api_per_login_id_per_minute: u32,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            per_source_per_minute: default_per_source(),
            per_login_id_per_minute: default_per_id(),
            api_per_source_per_minute: default_api(),
            api_per_login_id_per_minute: default_api(),
        }
    }
}

fn default_per_source() -> u32 {
    30
}

fn default_per_id() -> u32 {
    6
}

fn default_api() -> u32 {
    600
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8443))
}

fn default_metrics_allow() -> Vec<ipnet::IpNet> {
    vec![
        "127.0.0.0/8".parse().expect("a CIDR"),
        "::1/128".parse().expect("a CIDR"),
    ]
}

fn default_pool_size() -> usize {
    16
}

/// Why the configuration could not be used.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "configuration: {}", self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads `path` (when given), then applies `KAGIYA_SERVER_LISTEN`, `KAGIYA_SERVER_DATABASE_URL`,
    /// `KAGIYA_SERVER_POOL_SIZE`, `KAGIYA_SERVER_MIGRATE_ON_START`, `KAGIYA_SERVER_WORKERS`,
    /// `KAGIYA_SERVER_TLS_CERT` and `KAGIYA_SERVER_TLS_KEY` from `env`.
    pub fn load(
        path: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut table: toml::Table = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| ConfigError(format!("{}: {e}", p.display())))?;
                text.parse()
                    .map_err(|e| ConfigError(format!("{}: {e}", p.display())))?
            }
            None => toml::Table::new(),
        };
        let overrides = [
            ("KAGIYA_SERVER_LISTEN", "listen", false),
            ("KAGIYA_SERVER_DATABASE_URL", "database_url", false),
            ("KAGIYA_SERVER_POOL_SIZE", "pool_size", true),
            ("KAGIYA_SERVER_MIGRATE_ON_START", "migrate_on_start", true),
            ("KAGIYA_SERVER_WORKERS", "workers", true),
            ("KAGIYA_SERVER_TLS_CERT", "tls_cert", false),
            ("KAGIYA_SERVER_TLS_KEY", "tls_key", false),
        ];
        for (var, key, typed) in overrides {
            if let Some(v) = env(var).filter(|v| !v.is_empty()) {
                let value = if typed {
                    // Numbers and booleans as TOML reads them.
                    format!("x = {v}")
                        .parse::<toml::Table>()
                        .ok()
                        .and_then(|mut t| t.remove("x"))
                        .ok_or_else(|| ConfigError(format!("{var}: not a valid value: {v}")))?
                } else {
                    toml::Value::String(v)
                };
                table.insert(key.into(), value);
            }
        }
        let c: Config = table
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError(e.message().to_owned()))?;
        if !(1..=1000).contains(&c.pool_size) {
            return Err(ConfigError("pool_size must be 1-1000".into()));
        }
        if c.tls_cert.is_some() != c.tls_key.is_some() {
            return Err(ConfigError("tls_cert and tls_key go together".into()));
        }
        if let Some(m) = &c.mail {
            if m.smtp_timeout_seconds == 0
                || m.poll_ms == 0
                || m.max_attempts == 0
                || m.retry_ms == 0
                || m.lease_seconds == Some(0)
            {
                return Err(ConfigError(
                    "mail: smtp_timeout_seconds, poll_ms and max_attempts must be at least 1"
                        .into(),
                ));
            }
            if m.lease_seconds.is_some_and(|l| l <= m.smtp_timeout_seconds) {
                return Err(ConfigError(
                    "mail: lease_seconds must be longer than smtp_timeout_seconds".into(),
                ));
            }
            if !m.link_base.starts_with("https://") && !m.link_base.starts_with("http://") {
                return Err(ConfigError("mail: link_base must be an http(s) URL".into()));
            }
        }
        if c.session.idle_minutes == 0 || c.session.max_hours == 0 {
            return Err(ConfigError("session lengths must be at least 1".into()));
        }
        let t = &c.throttle;
        if [
            t.per_source_per_minute,
            t.per_login_id_per_minute,
            t.api_per_source_per_minute,
            t.api_per_login_id_per_minute,
        ]
        .contains(&0)
        {
            return Err(ConfigError("throttle limits must be at least 1".into()));
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_file_then_the_environment() {
        let dir = std::env::temp_dir().join(format!("kagiya-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("server.toml");
        std::fs::write(
            &path,
            "listen = \"0.0.0.0:9000\"\ndatabase_url = \"postgres://a@h/db\"\npool_size = 4\n",
        )
        .unwrap();
        let c = Config::load(Some(&path), env(&[])).unwrap();
        assert_eq!(c.listen, "0.0.0.0:9000".parse().unwrap());
        assert_eq!((c.pool_size, c.migrate_on_start), (4, false));
        let c = Config::load(
            Some(&path),
            env(&[
                ("KAGIYA_SERVER_POOL_SIZE", "8"),
                ("KAGIYA_SERVER_MIGRATE_ON_START", "true"),
                ("KAGIYA_SERVER_DATABASE_URL", "postgres://b@h/db"),
            ]),
        )
        .unwrap();
        assert_eq!((c.pool_size, c.migrate_on_start), (8, true));
        assert_eq!(c.database_url, "postgres://b@h/db");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_settings_are_refused_with_their_name() {
        let e = Config::load(None, env(&[])).unwrap_err();
        assert!(e.0.contains("database_url"), "{e}");
        let e = Config::load(
            None,
            env(&[
                ("KAGIYA_SERVER_DATABASE_URL", "x"),
                ("KAGIYA_SERVER_POOL_SIZE", "many"),
            ]),
        )
        .unwrap_err();
        assert!(e.0.contains("KAGIYA_SERVER_POOL_SIZE"), "{e}");
        let e = Config::load(
            None,
            env(&[
                ("KAGIYA_SERVER_DATABASE_URL", "x"),
                ("KAGIYA_SERVER_POOL_SIZE", "0"),
            ]),
        )
        .unwrap_err();
        assert!(e.0.contains("pool_size"), "{e}");
    }
}

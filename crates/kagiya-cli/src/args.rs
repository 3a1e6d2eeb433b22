//! The command line: global options and one subcommand per engine operation.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// kagiya — credential administration for bank branches, without the window.
///
/// Secrets are read from standard input, one per line, never from arguments: first the acting
/// operator's confirmation password (for changes), then any passwords the command sets.
///
/// Exit codes: 0 done, 1 internal or storage error, 2 usage, 3 wrong password or confirmation,
/// 4 locked, 5 not permitted, 6 not found, 7 invalid input or policy violation, 8 already exists
/// or wrong state, 9 audit log broken, 10 database or key unavailable.
#[derive(Debug, Parser)]
#[command(name = "kagiya", version, about, long_about)]
pub struct Cli {
    /// The data folder (the app's, by default: the OS data directory / jp.kagiya.console).
    #[arg(long, env = "KAGIYA_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// Language of messages and labels (default: from LANG).
    #[arg(long, global = true, value_enum)]
    pub lang: Option<LangArg>,
    /// The acting branch operator (their confirmation password is the first line of stdin).
    #[arg(long, env = "KAGIYA_OPERATOR", global = true)]
    pub operator: Option<String>,
    /// Act as a customer's master or admin user instead of an operator.
    #[arg(long, global = true, conflicts_with = "operator")]
    pub as_user: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LangArg {
    Ja,
    En,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Register the first supervisor of an empty database (stdin: login password, confirmation password).
    Init {
        #[arg(long)]
        operator_id: String,
        #[arg(long)]
        name: String,
    },
    /// Branch operators.
    #[command(subcommand)]
    Operator(OperatorCmd),
    /// Customers (tenants) and their policies.
    #[command(subcommand)]
    Tenant(TenantCmd),
    /// Customers' users.
    #[command(subcommand)]
    User(UserCmd),
    /// The authentication path the central server uses.
    #[command(subcommand)]
    Auth(AuthCmd),
    /// Password policies.
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// Initialization requests (seed 004's paper form), approved by a second supervisor.
    #[command(subcommand, name = "init-request")]
    InitRequest(InitRequestCmd),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// The database file: checks, backup and restore.
    #[command(subcommand)]
    Db(DbCmd),
    /// Users' e-mail addresses (at most 10 per login ID).
    #[command(subcommand)]
    Address(AddressCmd),
    /// S/MIME certificates of addresses.
    #[command(subcommand)]
    Cert(CertCmd),
    /// IP access rules of customers' services.
    #[command(subcommand)]
    Ip(IpCmd),
    /// Mails the events have queued and that are not sent yet.
    #[command(subcommand)]
    Outbox(OutboxCmd),
}

#[derive(Debug, Subcommand)]
pub enum AddressCmd {
    /// Add an address; a password-setting request is queued to it (stdin: your confirmation password).
    Add {
        login_id: String,
        address: String,
        /// notifications, otp, reset or forwarding (repeatable).
        #[arg(long = "purpose")]
        purposes: Vec<String>,
    },
    /// The user's addresses with their certificates.
    List { login_id: String },
    /// Delete an address; a notice is queued to it (stdin: your confirmation password).
    Delete { login_id: String, address: String },
    /// Request a change, confirmed through the old address (stdin: your confirmation password).
    RequestChange {
        login_id: String,
        address: String,
        new_address: String,
    },
    /// Confirm a requested change (stdin: your confirmation password).
    ConfirmChange { login_id: String, address: String },
    /// Set signing and encryption for mail to the address (stdin: your confirmation password).
    Flags {
        login_id: String,
        address: String,
        #[arg(long, value_enum)]
        sign: OnOff,
        #[arg(long, value_enum)]
        encrypt: OnOff,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Subcommand)]
pub enum CertCmd {
    /// Explain how the certificate in FILE fits an address, changing nothing.
    Check {
        file: PathBuf,
        #[arg(long)]
        address: String,
    },
    /// Register the certificate in FILE (PEM, DER, .p7b/.p7c, .p7s/.p7m or a signed .eml) for an address (stdin: your confirmation password).
    Import {
        login_id: String,
        address: String,
        file: PathBuf,
    },
    /// Trust a root certificate for chain checks (a supervisor; stdin: your confirmation password).
    AddRoot { file: PathBuf },
    /// Days before its end from which a certificate counts as expiring (default 30; a supervisor; stdin: your confirmation password).
    SetExpiringDays { days: u32 },
}

#[derive(Debug, Subcommand)]
pub enum IpCmd {
    /// Replace a service's rules (a supervisor; stdin: your confirmation password); prints the warnings.
    Set {
        #[arg(long)]
        tenant: String,
        /// admin_console, user_web, api or mail_submission.
        #[arg(long)]
        service: String,
        /// A rule such as "allow 192.0.2.0/24 head office" (repeatable, in order).
        #[arg(long = "rule")]
        rules: Vec<String>,
        /// A file with one rule per line (after the --rule ones).
        #[arg(long)]
        file: Option<PathBuf>,
        #[arg(long = "default", value_enum, default_value = "allow")]
        default_action: ActionArg,
        /// Deny addresses outside these countries unless a rule decides (repeatable).
        #[arg(long = "allow-country")]
        countries: Vec<String>,
    },
    /// A service's rules.
    Show {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        service: String,
    },
    /// Allow or deny for an address, and what decided.
    Check {
        ip: String,
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        service: String,
    },
    /// Suspend a customer's restrictions for a while (a supervisor; stdin: your confirmation password).
    Release {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        minutes: u32,
        #[arg(long)]
        reason: String,
    },
    /// Replace the country table with CSV files of cidr,country or first,last,country lines, e.g.
    /// the IPv4 and IPv6 files of a maintained data set (a supervisor; stdin: your confirmation
    /// password).
    Countries {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ActionArg {
    Allow,
    Deny,
}

#[derive(Debug, Subcommand)]
pub enum OutboxCmd {
    /// Queued mails not sent yet.
    List,
}

#[derive(Debug, Subcommand)]
pub enum OperatorCmd {
    /// Register an operator (stdin: your confirmation password, their login password, their confirmation password).
    Add {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum, default_value = "operator")]
        role: RoleArg,
    },
    /// Branch staff with their role, state and lock (stdin: your login password).
    List,
    /// Disable an operator: refused everywhere until enabled (a supervisor; stdin: your login and confirmation passwords).
    Disable { id: String },
    /// Enable a disabled operator (a supervisor; stdin: your login and confirmation passwords).
    Enable { id: String },
    /// Change an operator's role (a supervisor; never your own, never the last supervisor).
    Role {
        id: String,
        #[arg(long, value_enum)]
        role: RoleArg,
    },
    /// Issue temporary passwords to an operator, changed at their next sign-in (a supervisor; prints them once).
    #[command(name = "reset-passwords")]
    ResetPasswords { id: String },
    /// Change your own passwords (stdin: current login password, new login password, and a new confirmation password or an empty line to keep it).
    Passwd,
    /// Days after which operators' login passwords expire, 0 for never (a supervisor).
    Expiry { days: u32 },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Operator,
    Supervisor,
}

#[derive(Debug, Subcommand)]
pub enum TenantCmd {
    /// Register a customer with a policy preset (stdin: your confirmation password).
    Add {
        #[arg(long)]
        contract_no: String,
        #[arg(long)]
        name: String,
        /// interfax, web_member, biz_mail, business_web or nist.
        #[arg(long)]
        preset: String,
        /// admin_console, user_web, api or mail_submission (repeatable).
        #[arg(long = "service")]
        services: Vec<String>,
    },
    /// All customers.
    List,
    /// One customer with its policies.
    Show { contract_no: String },
    /// Replace one credential's policy from a preset or a JSON file (stdin: your confirmation password).
    SetPolicy {
        contract_no: String,
        #[arg(long, value_enum, default_value = "login")]
        credential: CredentialArg,
        #[arg(long, conflicts_with = "file")]
        preset: Option<String>,
        /// A JSON file with {"password": {...}, "lockout": {...}} as `tenant show --json` prints it.
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum CredentialArg {
    Login,
    Confirmation,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ChannelArg {
    Web,
    Api,
    Mail,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum UserRoleArg {
    Master,
    Admin,
    General,
}

#[derive(Debug, Args)]
pub struct Targets {
    /// Login IDs.
    pub login_ids: Vec<String>,
    /// A CSV file with a `login_id` column (bulk).
    #[arg(long)]
    pub csv: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Register a user; temporary passwords are generated and printed once (stdin: your confirmation password).
    Add {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        login_id: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum, default_value = "general")]
        role: UserRoleArg,
        #[arg(long)]
        email: Option<String>,
    },
    /// Register users from a CSV file with columns contract_no, login_id, name, role, email (stdin: your confirmation password).
    Import {
        #[arg(long)]
        csv: PathBuf,
    },
    /// Users of a customer, or found by a prefix of login ID, name or e-mail address.
    List {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        search: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// One user with the state of both passwords.
    Show { login_id: String },
    /// Unlock users (stdin: your confirmation password); prints the result table.
    Unlock(Targets),
    /// Suspend users (stdin: your confirmation password).
    Suspend(Targets),
    /// Resume suspended users (stdin: your confirmation password).
    Resume(Targets),
    /// Turn a user's two-factor authentication off (「利用しない」), e.g. when the mailbox of the
    /// one-time passwords is lost (stdin: your confirmation password). Turning it on is the
    /// user's own step: a code sent to their address must come back.
    #[command(name = "mfa-off")]
    MfaOff { login_id: String },
    /// Set another user's passwords, forcing a change at the next login (stdin: your confirmation password, then given passwords).
    SetPassword {
        login_id: String,
        /// `generate` or `stdin`.
        #[arg(long)]
        login: Option<PasswordArg>,
        #[arg(long)]
        confirmation: Option<PasswordArg>,
        /// Do not force a change at the next login (given passwords only; branch staff: a
        /// supervisor, with --reason).
        #[arg(long)]
        no_force_change: bool,
        /// Why the given password is not changed at the next login (recorded).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Change one's own passwords (stdin: current and new login password, then current and new confirmation password, for those chosen).
    ChangePassword {
        login_id: String,
        #[arg(long)]
        login: bool,
        #[arg(long)]
        confirmation: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum PasswordArg {
    Generate,
    Stdin,
}

#[derive(Debug, Subcommand)]
pub enum AuthCmd {
    /// Verify a password (stdin) for a login ID on a channel, recording the outcome.
    Verify {
        login_id: String,
        #[arg(long, value_enum, default_value = "login")]
        credential: CredentialArg,
        #[arg(long, value_enum, default_value = "web")]
        channel: ChannelArg,
        /// The address the attempt came from (recorded).
        #[arg(long)]
        ip: Option<String>,
        /// The e-mail address typed with the login ID (seed 002's Web member site signs in with
        /// login ID, address and password).
        #[arg(long)]
        address: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCmd {
    /// Check a password (stdin) against a preset or a customer's policy; exit 7 when a rule fails.
    Check {
        #[arg(long, conflicts_with = "tenant", required_unless_present = "tenant")]
        preset: Option<String>,
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long, value_enum, default_value = "login")]
        credential: CredentialArg,
        #[arg(long, default_value = "")]
        login_id: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        mfa: bool,
    },
    /// The rules of a preset.
    Show { preset: String },
}

#[derive(Debug, Subcommand)]
pub enum InitRequestCmd {
    /// Record a paper request (stdin: your confirmation password).
    Record {
        #[arg(long = "no")]
        request_no: String,
        #[arg(long)]
        tenant: String,
        /// The date on the form, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        #[arg(long)]
        requester: String,
        /// An identity check done at the counter (repeatable).
        #[arg(long = "check", required = true)]
        checks: Vec<String>,
        /// A login ID to initialise (repeatable; default: every master and admin).
        #[arg(long = "target")]
        targets: Vec<String>,
    },
    /// Approve a request (a supervisor other than the recorder; stdin: your confirmation password).
    Approve { request_no: String },
    /// Reject a request (stdin: your confirmation password).
    Reject {
        request_no: String,
        #[arg(long)]
        reason: String,
    },
    /// Execute an approved request; prints the temporary passwords once (stdin: your confirmation password).
    Execute { request_no: String },
    /// All requests.
    List,
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Check the hash chain and that the tables equal the fold of the log.
    Verify,
    /// The newest entries.
    List {
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Write the directory's events (customers, users, password hashes, addresses, IP rules) to
    /// FILE as JSON Lines for `kagiya-server import` (a supervisor; stdin: your confirmation
    /// password). The file holds password hashes: keep it like a backup.
    ExportDirectory { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum DbCmd {
    /// SQLite integrity check, foreign keys, audit chain and fold; with --checkpoint, also that the
    /// log still holds each checkpoint's entry (a rewritten or cut log fails).
    Check {
        #[arg(long)]
        checkpoint: Vec<PathBuf>,
    },
    /// A signed checkpoint of the audit log's head (JSON, or a printable text with --text) to keep
    /// outside the database; --out writes it to a file.
    Checkpoint {
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        text: bool,
    },
    /// Write a consistent encrypted copy to FILE.
    Backup { file: PathBuf },
    /// Replace the database with a checked backup (a supervisor; stdin: your confirmation password).
    Restore {
        file: PathBuf,
        /// A second supervisor who agrees to a restore that drops history the backup does not
        /// hold (stdin after yours: their confirmation password).
        #[arg(long)]
        second_supervisor: Option<String>,
    },
}

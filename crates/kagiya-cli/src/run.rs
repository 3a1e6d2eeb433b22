//! One function per subcommand: read the secrets, call the engine, print the result.

use std::path::PathBuf;

use kagiya_console::engine::views::{PolicySource, UserView};
use kagiya_console::engine::{
    ActorRef, ChangeOwn, InitRequestForm, Issued, NewOperator, NewPassword, NewTenant, NewUser,
    SetPasswords, UnlockRow,
};
use kagiya_console::{Console, ConsoleOptions, Engine, EngineOptions, FirstSupervisor};
use kagiya_core::directory::{Channel, CredentialKind, CredentialPolicy, Service, UserRole};
use kagiya_core::operator::Role;
use kagiya_core::password::Preset;
use kagiya_core::{Error, Lang};
use kagiya_store::{events, KeySource};
use serde::Serialize;

use crate::args::*;
use crate::exit;
use crate::input::{targets, Stdin};
use crate::output::{json, lang_of, table};

const DB_FILE: &str = "kagiya.db";
const APP_ID: &str = "jp.kagiya.console";

fn db_path(cli: &Cli) -> Result<PathBuf, Error> {
    let dir = match &cli.data_dir {
        Some(d) => d.clone(),
        None => dirs::data_dir()
            .ok_or_else(|| Error::DatabaseUnavailable("no OS data directory".into()))?
            .join(APP_ID),
    };
    Ok(dir.join(DB_FILE))
}

fn kind(c: CredentialArg) -> CredentialKind {
    match c {
        CredentialArg::Login => CredentialKind::Login,
        CredentialArg::Confirmation => CredentialKind::Confirmation,
    }
}

fn preset(s: &str) -> Result<Preset, Error> {
    Preset::parse(s).ok_or(Error::InvalidValue("preset"))
}

pub(crate) fn actor(cli: &Cli) -> Result<ActorRef, Error> {
    match (&cli.operator, &cli.as_user) {
        (Some(op), None) => Ok(ActorRef::Operator(op.clone())),
        (None, Some(u)) => Ok(ActorRef::User(u.clone())),
        _ => Err(Error::InvalidValue("--operator or --as-user")),
    }
}

/// The issued passwords, shown once.
#[derive(Serialize)]
struct IssuedOut {
    login_id: String,
    name: String,
    login_password: Option<String>,
    confirmation_password: Option<String>,
}

fn issued_out(i: &Issued) -> IssuedOut {
    IssuedOut {
        login_id: i.login_id.clone(),
        name: i.name.clone(),
        login_password: i.login.as_ref().map(|s| s.expose().to_owned()),
        confirmation_password: i.confirmation.as_ref().map(|s| s.expose().to_owned()),
    }
}

fn print_issued(list: &[Issued], as_json: bool, lang: Lang) {
    let out: Vec<IssuedOut> = list.iter().map(issued_out).collect();
    if as_json {
        return json(&out);
    }
    let h = match lang {
        Lang::Ja => [
            "ログインID",
            "利用者名",
            "仮ログインパスワード",
            "仮確認用パスワード",
        ],
        Lang::En => [
            "Login ID",
            "Name",
            "Temporary login password",
            "Temporary confirmation password",
        ],
    };
    let rows: Vec<Vec<String>> = out
        .iter()
        .map(|o| {
            vec![
                o.login_id.clone(),
                o.name.clone(),
                o.login_password.clone().unwrap_or_else(|| "-".into()),
                o.confirmation_password
                    .clone()
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    table(&h, &rows);
    eprintln!(
        "{}",
        lang.pick(
            "※ 仮パスワードはこの一度だけ表示されます。次回ログイン時に変更が必要です。",
            "Note: temporary passwords are shown only this once and must be changed at the next login."
        )
    );
}

fn print_users(users: &[UserView], as_json: bool, lang: Lang) {
    if as_json {
        return json(&users);
    }
    let h = match lang {
        Lang::Ja => [
            "ログインID",
            "利用者名",
            "契約番号",
            "利用者区分",
            "サービス状態",
        ],
        Lang::En => ["Login ID", "Name", "Contract", "Role", "Service state"],
    };
    let rows: Vec<Vec<String>> = users
        .iter()
        .map(|u| {
            vec![
                u.login_id.clone(),
                u.name.clone(),
                u.contract_no.clone(),
                u.role.clone(),
                u.service_state.clone(),
            ]
        })
        .collect();
    table(&h, &rows);
}

fn print_unlock(batch: &str, rows: &[UnlockRow], as_json: bool, lang: Lang) {
    if as_json {
        return json(&serde_json::json!({ "batch": batch, "results": rows }));
    }
    let h = match lang {
        Lang::Ja => [
            "ログインID",
            "利用者名",
            "利用者区分",
            "解除前の状態",
            "結果",
        ],
        Lang::En => ["Login ID", "Name", "Role", "State before", "Result"],
    };
    let outcome = |o| {
        use kagiya_console::engine::UnlockOutcome::*;
        match o {
            Unlocked => lang.pick("解除しました", "unlocked"),
            NotLocked => lang.pick("停止されていません", "not locked"),
            NotFound => lang.pick("見つかりません", "not found"),
            NotPermitted => lang.pick("権限がありません", "not permitted"),
        }
    };
    let out: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.login_id.clone(),
                r.name.clone(),
                r.role.clone(),
                r.before.clone(),
                outcome(r.outcome).to_owned(),
            ]
        })
        .collect();
    table(&h, &out);
}

fn open_engine(cli: &Cli) -> Result<Engine, Error> {
    let mut o = EngineOptions::new(db_path(cli)?, KeySource::OsKeyring, "cli");
    o.lang = lang_of(cli);
    Engine::open(o)
}

pub(crate) fn done(as_json: bool, lang: Lang, value: serde_json::Value) {
    if as_json {
        json(&value);
    } else {
        println!("{}", lang.pick("完了しました。", "Done."));
    }
}

pub fn run(cli: Cli) -> Result<i32, Error> {
    let lang = lang_of(&cli);
    let j = cli.json;
    let mut stdin = Stdin::new();
    if let Command::Init { operator_id, name } = &cli.command {
        let login = stdin.secret("login password")?;
        let confirmation = stdin.secret("confirmation password")?;
        let mut o = ConsoleOptions::new(db_path(&cli)?);
        o.os_locale = Some(lang.code().into());
        let mut c = Console::open(o)?;
        c.create_first_supervisor(&FirstSupervisor::new(
            operator_id,
            name,
            login.expose(),
            confirmation.expose(),
        ))?;
        done(
            j,
            lang,
            serde_json::json!({ "operator_id": operator_id.trim() }),
        );
        return Ok(exit::OK);
    }
    let mut e = open_engine(&cli)?;
    match &cli.command {
        Command::Init { .. } => unreachable!("handled above"),
        Command::Operator(OperatorCmd::Add { id, name, role }) => {
            let who = actor(&cli)?;
            let conf = stdin.secret("your confirmation password")?;
            let login = stdin.secret("login password")?;
            let confirmation = stdin.secret("confirmation password")?;
            let role = match role {
                RoleArg::Operator => Role::Operator,
                RoleArg::Supervisor => Role::Supervisor,
            };
            e.create_operator(
                &who,
                &conf,
                NewOperator {
                    operator_id: id.clone(),
                    name: name.clone(),
                    role,
                    login,
                    confirmation,
                },
            )?;
            done(j, lang, serde_json::json!({ "operator_id": id }));
        }
        Command::Tenant(TenantCmd::Add {
            contract_no,
            name,
            preset: p,
            services,
        }) => {
            let services = services
                .iter()
                .map(|s| Service::parse(s).ok_or(Error::InvalidValue("service")))
                .collect::<Result<Vec<_>, _>>()?;
            let form = NewTenant {
                contract_no: contract_no.clone(),
                name: name.clone(),
                services,
                preset: preset(p)?,
            };
            let who = actor(&cli)?;
            let conf = stdin.secret("your confirmation password")?;
            let t = e.create_tenant(&who, &conf, form)?;
            done(j, lang, serde_json::json!({ "contract_no": t.contract_no }));
        }
        Command::Tenant(TenantCmd::List) => {
            let ts = e.tenant_views()?;
            if j {
                json(&ts);
            } else {
                let h = match lang {
                    Lang::Ja => [
                        "契約番号",
                        "お客さま名",
                        "ポリシー",
                        "利用者数",
                        "初期化依頼が必要",
                    ],
                    Lang::En => [
                        "Contract",
                        "Customer",
                        "Policy",
                        "Users",
                        "Needs initialization",
                    ],
                };
                let rows: Vec<Vec<String>> = ts
                    .iter()
                    .map(|t| {
                        vec![
                            t.contract_no.clone(),
                            t.name.clone(),
                            t.preset_title.to_owned(),
                            t.users.to_string(),
                            if t.needs_init_request {
                                lang.pick("はい", "yes")
                            } else {
                                ""
                            }
                            .to_owned(),
                        ]
                    })
                    .collect();
                table(&h, &rows);
            }
        }
        Command::Tenant(TenantCmd::Show { contract_no }) => {
            let t = e
                .tenant_views()?
                .into_iter()
                .find(|t| t.contract_no.eq_ignore_ascii_case(contract_no.trim()))
                .ok_or(Error::UnknownTenant)?;
            json(&t);
        }
        Command::Tenant(TenantCmd::SetPolicy {
            contract_no,
            credential,
            preset: p,
            file,
        }) => {
            let policy: CredentialPolicy = match (p, file) {
                (Some(p), None) => CredentialPolicy::from_preset(preset(p)?),
                (None, Some(f)) => {
                    let text =
                        std::fs::read_to_string(f).map_err(|e| Error::File(e.to_string()))?;
                    serde_json::from_str(&text).map_err(|_| Error::InvalidValue("policy file"))?
                }
                _ => return Err(Error::InvalidValue("--preset or --file")),
            };
            let who = actor(&cli)?;
            let conf = stdin.secret("your confirmation password")?;
            e.set_tenant_policy(&who, &conf, contract_no, kind(*credential), policy)?;
            done(j, lang, serde_json::json!({ "contract_no": contract_no }));
        }
        Command::User(UserCmd::Add {
            tenant,
            login_id,
            name,
            role,
            email,
            mfa,
        }) => {
            let who = actor(&cli)?;
            let conf = stdin.secret("your confirmation password")?;
            let role = match role {
                UserRoleArg::Master => UserRole::Master,
                UserRoleArg::Admin => UserRole::Admin,
                UserRoleArg::General => UserRole::General,
            };
            let issued = e.create_user(
                &who,
                &conf,
                NewUser {
                    contract_no: tenant.clone(),
                    login_id: login_id.clone(),
                    name: name.clone(),
                    role,
                    email: email.clone(),
                    mfa: *mfa,
                },
            )?;
            print_issued(&[issued], j, lang);
        }
        Command::User(UserCmd::Import { csv }) => {
            let forms = read_users_csv(csv)?;
            let who = actor(&cli)?;
            let conf = stdin.secret("your confirmation password")?;
            let issued = e.create_users(&who, &conf, forms)?;
            print_issued(&issued, j, lang);
        }
        Command::User(UserCmd::List {
            tenant,
            search,
            limit,
        }) => {
            let users = e.user_views(tenant.as_deref(), search.as_deref(), *limit)?;
            print_users(&users, j, lang);
        }
        Command::User(UserCmd::Show { login_id }) => {
            let u = e.user_view(login_id)?;
            if j {
                json(&u);
            } else {
                print_users(std::slice::from_ref(&u), false, lang);
                for c in [&u.login, &u.confirmation] {
                    println!(
                        "  {}: {} ({} {})",
                        c.kind.label(lang),
                        c.label,
                        lang.pick("失敗回数", "failures"),
                        c.failures
                    );
                }
                for s in &u.affected_services {
                    println!(
                        "  ({}) {} — {} / {} / {}",
                        s.row, s.usage, s.admin_web, s.sending, s.receiving
                    );
                }
            }
        }
        Command::User(UserCmd::Unlock(t)) => {
            let ids = targets(&t.login_ids, t.csv.as_deref())?;
            let who = actor(&cli)?;
            let conf = stdin.secret("your confirmation password")?;
            let (batch, rows) = e.unlock(&who, &conf, &ids)?;
            print_unlock(&batch, &rows, j, lang);
        }
        Command::User(UserCmd::Suspend(t)) | Command::User(UserCmd::Resume(t)) => {
            let suspend = matches!(&cli.command, Command::User(UserCmd::Suspend(_)));
            let ids = targets(&t.login_ids, t.csv.as_deref())?;
            let who = actor(&cli)?;
            let conf = stdin.secret("your confirmation password")?;
            let changed = e.set_suspended(&who, &conf, &ids, suspend)?;
            done(j, lang, serde_json::json!({ "changed": changed }));
        }
        Command::User(UserCmd::SetPassword {
            login_id,
            login,
            confirmation,
            no_force_change,
        }) => {
            let who = actor(&cli)?;
            let conf = stdin.secret("your confirmation password")?;
            let mut pick = |a: &Option<PasswordArg>, what| -> Result<Option<NewPassword>, Error> {
                Ok(match a {
                    None => None,
                    Some(PasswordArg::Generate) => Some(NewPassword::Generate),
                    Some(PasswordArg::Stdin) => Some(NewPassword::Given(stdin.secret(what)?)),
                })
            };
            let login = pick(login, "new login password")?;
            let confirmation = pick(confirmation, "new confirmation password")?;
            let issued = e.set_passwords(
                &who,
                &conf,
                login_id,
                SetPasswords {
                    login,
                    confirmation,
                    force_change: !no_force_change,
                },
            )?;
            print_issued(&[issued], j, lang);
        }
        Command::User(UserCmd::ChangePassword {
            login_id,
            login,
            confirmation,
        }) => {
            let mut req = ChangeOwn::default();
            if *login {
                req.login = Some((
                    stdin.secret("current login password")?,
                    stdin.secret("new login password")?,
                ));
            }
            if *confirmation {
                req.confirmation = Some((
                    stdin.secret("current confirmation password")?,
                    stdin.secret("new confirmation password")?,
                ));
            }
            e.change_own_passwords(login_id, req)?;
            done(j, lang, serde_json::json!({ "login_id": login_id }));
        }
        Command::Auth(AuthCmd::Verify {
            login_id,
            credential,
            channel,
            ip,
        }) => {
            let ip = ip
                .as_deref()
                .map(|s| {
                    s.parse::<std::net::IpAddr>()
                        .map_err(|_| Error::InvalidValue("ip"))
                })
                .transpose()?;
            let pw = stdin.secret("password")?;
            let channel = match channel {
                ChannelArg::Web => Channel::Web,
                ChannelArg::Api => Channel::Api,
                ChannelArg::Mail => Channel::Mail,
            };
            let v = e.verify_from(login_id, kind(*credential), channel, &pw, ip)?;
            if j {
                json(&v);
            } else if v.expired {
                println!(
                    "{}",
                    lang.pick(
                        "認証しました。パスワードの有効期限が切れています。",
                        "Verified. The password has expired."
                    )
                );
            } else if v.must_change {
                println!(
                    "{}",
                    lang.pick(
                        "認証しました。パスワードの変更が必要です。",
                        "Verified. The password must be changed."
                    )
                );
            } else {
                println!("{}", lang.pick("認証しました。", "Verified."));
            }
        }
        Command::Policy(PolicyCmd::Check {
            preset: p,
            tenant,
            credential,
            login_id,
            email,
            mfa,
        }) => {
            let pw = stdin.secret("password")?;
            let source = match (p, tenant) {
                (Some(p), _) => PolicySource::Preset(preset(p)?),
                (None, Some(t)) => PolicySource::Tenant(t),
                _ => return Err(Error::InvalidValue("--preset or --tenant")),
            };
            let rules = e.policy_check(
                source,
                kind(*credential),
                pw.expose(),
                login_id,
                email.as_deref(),
                *mfa,
            )?;
            let ok = rules.iter().all(|r| r.ok);
            if j {
                json(&serde_json::json!({ "ok": ok, "rules": rules }));
            } else {
                for r in &rules {
                    println!("{} {}  [{}]", if r.ok { "✓" } else { "✗" }, r.label, r.code);
                }
            }
            return Ok(if ok { exit::OK } else { exit::INVALID });
        }
        Command::Policy(PolicyCmd::Show { preset: p }) => {
            let p = preset(p)?;
            json(&serde_json::json!({
                "preset": p.code(),
                "title": p.title(lang),
                "password": p.password(),
                "lockout": p.lockout(),
            }));
        }
        Command::InitRequest(InitRequestCmd::Record {
            request_no,
            tenant,
            date,
            requester,
            checks,
            targets,
        }) => {
            let who = actor(&cli)?;
            let conf = stdin.secret("your confirmation password")?;
            let r = e.record_init_request(
                &who,
                &conf,
                InitRequestForm {
                    request_no: request_no.clone(),
                    contract_no: tenant.clone(),
                    received_on: date.clone(),
                    requester: requester.clone(),
                    identity_checks: checks.clone(),
                    targets: targets.clone(),
                },
            )?;
            if j {
                json(&r)
            } else {
                done(false, lang, serde_json::Value::Null)
            }
        }
        Command::InitRequest(InitRequestCmd::Approve { request_no })
        | Command::InitRequest(InitRequestCmd::Reject { request_no, .. }) => {
            let reject = match &cli.command {
                Command::InitRequest(InitRequestCmd::Reject { reason, .. }) => Some(reason.clone()),
                _ => None,
            };
            let who = actor(&cli)?;
            let conf = stdin.secret("your confirmation password")?;
            let r = e.decide_init_request(&who, &conf, request_no, reject)?;
            if j {
                json(&r)
            } else {
                done(false, lang, serde_json::Value::Null)
            }
        }
        Command::InitRequest(InitRequestCmd::Execute { request_no }) => {
            let who = actor(&cli)?;
            let conf = stdin.secret("your confirmation password")?;
            let issued = e.execute_init_request(&who, &conf, request_no)?;
            print_issued(&issued, j, lang);
        }
        Command::InitRequest(InitRequestCmd::List) => {
            let list = kagiya_store::directory::init_requests(e.store().conn())?;
            if j {
                json(&list);
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|r| {
                        vec![
                            r.request_no.clone(),
                            r.contract_no.clone(),
                            r.received_on.clone(),
                            r.state.code().to_owned(),
                            r.targets.join(" "),
                        ]
                    })
                    .collect();
                table(
                    &[
                        "request_no",
                        "contract_no",
                        "received_on",
                        "state",
                        "targets",
                    ],
                    &rows,
                );
            }
        }
        Command::Audit(AuditCmd::Verify) | Command::Db(DbCmd::Check) => {
            let report = e.check()?;
            if j {
                json(&report);
            } else {
                println!("integrity: {}", report.integrity);
                println!(
                    "audit entries: {} (chain intact: {})",
                    report.audit_entries, report.audit_chain_intact
                );
                println!("fold matches tables: {}", report.fold_matches_tables);
            }
            if !report.audit_chain_intact || !report.fold_matches_tables {
                return Ok(exit::AUDIT_BROKEN);
            }
            if !report.integrity {
                return Ok(exit::INTERNAL);
            }
        }
        Command::Audit(AuditCmd::List { limit }) => {
            let list = events::recent(e.store().conn(), *limit)?;
            if j {
                json(&list);
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|ev| {
                        let summary =
                            serde_json::from_str::<kagiya_core::event::EventBody>(&ev.body)
                                .map(|b| b.kind.summary(lang))
                                .unwrap_or_else(|_| ev.kind.clone());
                        vec![
                            ev.seq.to_string(),
                            ev.at.to_string(),
                            ev.actor.clone().unwrap_or_default(),
                            summary,
                        ]
                    })
                    .collect();
                table(&["seq", "at", "actor", "summary"], &rows);
            }
        }
        Command::Address(cmd) => crate::more::address(&mut e, &cli, cmd, &mut stdin)?,
        Command::Cert(cmd) => crate::more::cert(&mut e, &cli, cmd, &mut stdin)?,
        Command::Ip(cmd) => return crate::more::ip(&mut e, &cli, cmd, &mut stdin),
        Command::Outbox(OutboxCmd::List) => {
            let rows = kagiya_store::outbox::pending(e.store().conn())?;
            if j {
                json(&rows);
            } else {
                let out: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| {
                        vec![
                            r.id.to_string(),
                            r.kind.clone(),
                            r.recipient.clone(),
                            r.login_id.clone(),
                        ]
                    })
                    .collect();
                table(&["id", "kind", "recipient", "login_id"], &out);
            }
        }
        Command::Db(DbCmd::Backup { file }) => {
            let s = e.backup(file)?;
            if j {
                json(&s)
            } else {
                done(false, lang, serde_json::Value::Null)
            }
        }
        Command::Db(DbCmd::Restore { file }) => {
            let who = actor(&cli)?;
            let conf = stdin.secret("your confirmation password")?;
            let s = e.restore(&who, &conf, file)?;
            if j {
                json(&s)
            } else {
                done(false, lang, serde_json::Value::Null)
            }
        }
    }
    Ok(exit::OK)
}

/// Users to register from CSV: contract_no, login_id, name, role, email (optional), mfa (optional).
fn read_users_csv(path: &std::path::Path) -> Result<Vec<NewUser>, Error> {
    #[derive(serde::Deserialize)]
    struct Row {
        contract_no: String,
        login_id: String,
        name: String,
        role: String,
        #[serde(default)]
        email: Option<String>,
        #[serde(default)]
        mfa: Option<String>,
    }
    let mut r = csv::Reader::from_path(path).map_err(|e| Error::File(e.to_string()))?;
    let mut out = Vec::new();
    for row in r.deserialize::<Row>() {
        let row = row.map_err(|e| Error::File(e.to_string()))?;
        out.push(NewUser {
            contract_no: row.contract_no,
            login_id: row.login_id,
            name: row.name,
            role: UserRole::parse(&row.role).ok_or(Error::InvalidValue("role"))?,
            email: row.email.filter(|e| !e.trim().is_empty()),
            mfa: matches!(
                row.mfa.as_deref().map(str::trim),
                Some("1" | "true" | "yes")
            ),
        });
    }
    if out.is_empty() {
        return Err(Error::InvalidValue("csv: no users"));
    }
    Ok(out)
}

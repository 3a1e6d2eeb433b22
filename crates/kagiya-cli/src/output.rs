//! Printing results: aligned tables for people, JSON for scripts, errors as `{code, message}`.

use kagiya_core::{Error, Lang};
use kagiya_engine::views::UserView;
use kagiya_engine::{Issued, UnlockRow};
use serde::Serialize;

use crate::args::{Cli, LangArg};

/// The language: `--lang`, else from LANG / LC_ALL.
pub fn lang_of(cli: &Cli) -> Lang {
    match cli.lang {
        Some(LangArg::Ja) => Lang::Ja,
        Some(LangArg::En) => Lang::En,
        None => ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .find(|v| !v.is_empty())
            .map(|v| Lang::from_locale(&v))
            .unwrap_or(Lang::En),
    }
}

/// Prints an error: JSON on stdout with `--json` (one stream for scripts), else a line on stderr.
pub fn error(e: &Error, lang: Lang, json: bool) {
    let code = e.code();
    let message = e.message(lang);
    if json {
        println!(
            "{}",
            serde_json::json!({ "error": { "code": code, "message": message } })
        );
    } else {
        eprintln!("kagiya: {message} [{code}]");
    }
}

/// Prints `value` as JSON.
pub fn json<T: Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("results always serialize")
    );
}

/// Prints rows under headers, columns padded to the widest cell (counting wide characters as two).
pub fn table(headers: &[&str], rows: &[Vec<String>]) {
    let width = |s: &str| -> usize { s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum() };
    let mut w: Vec<usize> = headers.iter().map(|h| width(h)).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < w.len() {
                w[i] = w[i].max(width(c));
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, c) in cells.iter().enumerate() {
            out.push_str(c);
            if i + 1 < cells.len() {
                out.push_str(&" ".repeat(w[i] - width(c) + 2));
            }
        }
        println!("{}", out.trim_end());
    };
    line(headers.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
}

/// "Done", or `value` as JSON.
pub fn done(as_json: bool, lang: Lang, value: serde_json::Value) {
    if as_json {
        json(&value);
    } else {
        println!("{}", lang.pick("完了しました。", "Done."));
    }
}

/// The issued passwords, shown once.
#[derive(Serialize)]
struct IssuedOut {
    login_id: String,
    name: String,
    login_password: Option<String>,
    confirmation_password: Option<String>,
    must_change: bool,
    issued_at: i64,
}

fn issued_out(i: &Issued) -> IssuedOut {
    IssuedOut {
        login_id: i.login_id.clone(),
        name: i.name.clone(),
        login_password: i.login.as_ref().map(|s| s.expose().to_owned()),
        confirmation_password: i.confirmation.as_ref().map(|s| s.expose().to_owned()),
        must_change: i.must_change,
        issued_at: i.issued_at,
    }
}

/// The issued passwords as a table, with the note that they are shown only once.
pub fn print_issued(list: &[Issued], as_json: bool, lang: Lang) {
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
    if !out.iter().any(|o| o.must_change) {
        return;
    }
    eprintln!(
        "{}",
        lang.pick(
            "※ 仮パスワードはこの一度だけ表示されます。次回ログイン時に変更が必要です。",
            "Note: temporary passwords are shown only this once and must be changed at the next login."
        )
    );
}

/// Users with their service state in seed 004's words.
pub fn print_users(users: &[UserView], as_json: bool, lang: Lang) {
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

/// The result table of a bulk unlock (seed 004: 利用者停止・解除結果).
pub fn print_unlock(batch: &str, rows: &[UnlockRow], as_json: bool, lang: Lang) {
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
        use kagiya_engine::UnlockOutcome::*;
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

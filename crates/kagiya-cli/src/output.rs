//! Printing results: aligned tables for people, JSON for scripts, errors as `{code, message}`.

use kagiya_core::{Error, Lang};
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

//! `kagiya-server import FILE`: the directory events a branch exported (`kagiya audit
//! export-directory`) recorded on the server, each through the same write as any decision — the
//! core's fold applied to the rows, the entry appended to its customer's chain. Until the sync
//! exists this is how a branch's customers reach the server. The file names its branch log; the
//! last entry taken from it is kept in the same transaction as that entry, so an import that
//! stops half-way resumes where it stopped and a second run of the same file adds nothing.

use kagiya_core::event::EventBody;
use kagiya_core::{Error, Millis};
use kagiya_engine::port::{Change, Port};
use serde::Deserialize;

#[derive(Deserialize)]
struct Header {
    format: u32,
    source: String,
}

#[derive(Deserialize)]
struct Line {
    seq: i64,
    at: Millis,
    actor: Option<String>,
    body: String,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub recorded: u64,
    /// Entries an earlier run had already recorded.
    pub skipped: u64,
}

/// The setting that remembers how far a branch log was imported.
fn mark_key(source: &str) -> String {
    format!("import.{source}")
}

/// Records every entry of `text` not recorded before. Stops at the first entry the directory
/// refuses (its line named), with everything before it kept.
pub fn run(port: &dyn Port, text: &str) -> Result<Imported, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, first) = lines.next().ok_or("the file is empty")?;
    let header: Header =
        serde_json::from_str(first).map_err(|e| format!("line 1: not an export header: {e}"))?;
    if header.format != 1 {
        return Err(format!(
            "line 1: export format {} is not one this server reads (1)",
            header.format
        ));
    }
    let key = mark_key(&header.source);
    let mut done: i64 = 0;
    port.read(&mut |r| {
        done = r.setting(&key)?.and_then(|v| v.parse().ok()).unwrap_or(0);
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    let mut out = Imported {
        recorded: 0,
        skipped: 0,
    };
    for (i, text) in lines {
        let at_line = |e: &dyn std::fmt::Display| format!("line {}: {e}", i + 1);
        let line: Line = serde_json::from_str(text).map_err(|e| at_line(&e))?;
        if line.seq <= done {
            out.skipped += 1;
            continue;
        }
        let body: EventBody = serde_json::from_str(&line.body).map_err(|e| at_line(&e))?;
        let origin = format!("import {}", body.origin.as_deref().unwrap_or("branch"));
        let changes = vec![
            Change::Event {
                actor: line.actor.clone(),
                kind: body.kind,
            },
            Change::Setting {
                key: key.clone(),
                value: line.seq.to_string(),
            },
        ];
        port.write(line.at, &origin, &mut |_| Ok(changes.clone()))
            .map_err(|e: Error| at_line(&e))?;
        done = line.seq;
        out.recorded += 1;
    }
    Ok(out)
}

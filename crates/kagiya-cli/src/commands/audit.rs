//! `kagiya audit`: the full check of the log and the newest entries.

use kagiya_core::Error;

use crate::args::*;
use crate::context::Ctx;
use crate::exit;
use crate::output::{json, table};

pub fn run(ctx: &Ctx, cmd: &AuditCmd) -> Result<i32, Error> {
    match cmd {
        AuditCmd::Verify => check(ctx, &[]),
        AuditCmd::List { limit } => list(ctx, *limit),
        AuditCmd::ExportDirectory { file } => export_directory(ctx, file),
    }
}

/// The directory's events for the central server: a supervisor's act, recorded with the log's
/// head at that moment; the file is written owner-only beside and renamed.
fn export_directory(ctx: &Ctx, file: &std::path::Path) -> Result<i32, Error> {
    use kagiya_core::event::EventKind;
    use kagiya_store::events;
    let b = ctx.branch()?;
    let who = ctx.actor()?;
    let conf = ctx.secret("your confirmation password")?;
    let acting = b
        .engine()
        .confirm_supervisor(&who, &conf, "export_directory")?;
    let io = |e: std::io::Error| Error::ExportFailed(e.to_string());
    let part = file.with_extension("part");
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut out = std::io::BufWriter::new(o.open(&part).map_err(io)?);
    let rows = events::export_directory(&b.store().conn(), &mut out)?;
    drop(out);
    std::fs::rename(&part, file).map_err(io)?;
    let (head_seq, head_hash) = events::head(&b.store().conn())?.unwrap_or_default();
    let now = b.engine().now();
    b.store().write(|tx| {
        events::append_from(
            tx,
            now,
            Some(&acting.audit_name()),
            Some("cli"),
            EventKind::AuditExported {
                file: file.display().to_string(),
                rows: rows as i64,
                filter: "directory".into(),
                head_seq,
                head_hash,
            },
        )
        .map(|_| ())
    })?;
    if ctx.json {
        json(&serde_json::json!({ "file": file.display().to_string(), "rows": rows }));
    } else {
        println!("{rows} directory events written to {}", file.display());
    }
    Ok(exit::OK)
}

/// The full check of the database (`audit verify` and `db check`): SQLite's integrity, the audit
/// chain and the fold; the exit code says which failed.
pub fn check(ctx: &Ctx, checkpoints: &[std::path::PathBuf]) -> Result<i32, Error> {
    let (e, j) = (ctx.reader()?, ctx.json);
    // Each checkpoint kept outside the database must still fit the log.
    for path in checkpoints {
        let text = crate::context::read_text(path, crate::context::limits::SMALL)?;
        let c: kagiya_core::checkpoint::Checkpoint =
            serde_json::from_str(&text).map_err(|_| Error::InvalidValue("checkpoint"))?;
        e.check_checkpoint(&c)?;
    }
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
        if !report.mismatched.is_empty() {
            println!("differs from the log: {}", report.mismatched.join(", "));
        }
    }
    if !report.audit_chain_intact || !report.fold_matches_tables {
        return Ok(exit::AUDIT_BROKEN);
    }
    if !report.integrity {
        return Ok(exit::INTERNAL);
    }
    Ok(exit::OK)
}

/// The newest `limit` entries, newest first.
fn list(ctx: &Ctx, limit: u32) -> Result<i32, Error> {
    let (e, j, lang) = (ctx.reader()?, ctx.json, ctx.lang);
    let list = e.recent_events(limit)?;
    if j {
        // Never the stored bodies: password and code hashes are redacted.
        let shown: Vec<_> = list.iter().map(|ev| ev.shown()).collect();
        json(&shown);
    } else {
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|ev| {
                let summary = serde_json::from_str::<kagiya_core::event::EventBody>(&ev.body)
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
    Ok(exit::OK)
}

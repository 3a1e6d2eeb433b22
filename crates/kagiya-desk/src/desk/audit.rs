//! The audit screen: the event log searched and filtered page by page, the hash chain's
//! verification, and a CSV export (UTF-8 with a BOM so that Excel opens Japanese correctly) for
//! the branch's records.

use std::path::{Path, PathBuf};

use kagiya_core::event::EventKind;
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Lang, Millis};
use kagiya_store::events::{self, AuditQuery};
use serde::{Deserialize, Serialize};

use super::dates::{iso_date, local_day, DAY};
use crate::console::Console;
use crate::view::EventView;

/// The most rows one export writes.
pub const MAX_EXPORT_ROWS: u32 = 100_000;

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditFilter {
    pub text: String,
    pub kind: Option<String>,
    /// Milliseconds since the epoch, inclusive.
    pub from: Option<Millis>,
    /// Exclusive.
    pub to: Option<Millis>,
    pub before_seq: Option<i64>,
    pub limit: u32,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditPage {
    pub rows: Vec<EventView>,
    /// Every kind in the log, for the filter.
    pub kinds: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditVerification {
    /// The chain, the fold and the file all check out (what `kagiya db check` checks).
    pub intact: bool,
    pub entries: u32,
    /// The first entry that does not fit its chain, when broken.
    pub broken_at: Option<i64>,
    /// The tables equal the fold of the log.
    pub fold_matches: bool,
    /// SQLite's integrity check passed.
    pub integrity: bool,
    pub message: String,
    /// A signed checkpoint of the head, to print and keep outside the PC (when intact).
    pub checkpoint: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditExport {
    pub path: String,
    pub rows: u32,
}

fn query(f: &AuditFilter, limit: u32) -> AuditQuery {
    AuditQuery {
        text: f.text.chars().take(128).collect(),
        kind: f.kind.clone().filter(|k| !k.is_empty()),
        from: f.from,
        to: f.to,
        before_seq: f.before_seq,
        limit,
    }
}

/// `YYYY-MM-DD HH:MM:SS` in the zone `offset_minutes` east of UTC.
pub(crate) fn local_time(at: Millis, offset_minutes: i32) -> String {
    let local = at + Millis::from(offset_minutes) * 60_000;
    let secs = local.rem_euclid(DAY) / 1000;
    format!(
        "{} {:02}:{:02}:{:02}",
        iso_date(local_day(at, offset_minutes)),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

impl Console {
    /// One page of the log, newest first.
    pub fn audit_page(&mut self, f: &AuditFilter) -> Result<AuditPage, Error> {
        self.active_operator()?;
        let lang = self.lang();
        let guard = self.branch.store().conn();
        let conn = &*guard;
        let rows = events::search(conn, &query(f, f.limit.clamp(1, 500)))?;
        Ok(AuditPage {
            rows: rows.iter().map(|e| EventView::new(e, lang)).collect(),
            kinds: events::kinds(conn)?,
        })
    }

    /// The full check `kagiya db check` runs — the file's integrity, every link of the chain and
    /// the tables against the fold of the log — and, when all is well, a signed checkpoint of
    /// the head to print and keep outside the PC.
    pub fn verify_audit_chain(&mut self) -> Result<AuditVerification, Error> {
        self.active_operator()?;
        let lang = self.lang();
        let r = self.branch.check()?;
        let intact = r.integrity && r.audit_chain_intact && r.fold_matches_tables;
        let n = r.audit_entries;
        let message = if intact {
            match lang {
                Lang::Ja => format!(
                    "{n} 件すべての記録の連鎖、データとの一致、ファイルの整合性を確認しました。改ざんはありません。"
                ),
                Lang::En => format!(
                    "All {n} entries checked: the chain is intact, the data matches the log and the file is sound."
                ),
            }
        } else if !r.audit_chain_intact {
            Error::AuditChainBroken { seq: n + 1 }.message(lang)
        } else if !r.fold_matches_tables {
            let parts: Vec<&str> = r.mismatched.iter().map(|p| part_label(p, lang)).collect();
            let sep = lang.pick("、", ", ");
            format!(
                "{} ({})",
                Error::EventLogInconsistent(String::new()).message(lang),
                parts.join(sep)
            )
        } else {
            Error::DatabaseUnavailable(String::new()).message(lang)
        };
        let checkpoint = if intact {
            Some(self.branch.checkpoint()?.printable())
        } else {
            None
        };
        Ok(AuditVerification {
            intact,
            entries: u32::try_from(n).unwrap_or(u32::MAX),
            broken_at: (!r.audit_chain_intact).then_some(n + 1),
            fold_matches: r.fold_matches_tables,
            integrity: r.integrity,
            message,
            checkpoint,
        })
    }

    /// Writes the entries matching `f` (all pages) as CSV into `dir`, with a signed checkpoint of
    /// the head beside it; returns the file. The log leaves the PC this way, so it takes the
    /// operator's confirmation password and is itself recorded (who, filter, rows, head).
    pub fn export_audit_csv(
        &mut self,
        f: &AuditFilter,
        dir: &Path,
        utc_offset_minutes: i32,
        confirmation: &Secret,
    ) -> Result<AuditExport, Error> {
        let op = self.active_operator()?;
        let who = self.acting_operator()?;
        self.engine().confirm(&who, confirmation, "export_audit")?;
        let lang = self.lang();
        let now = self.engine().now();
        let rows = events::search(&self.branch.store().conn(), &query(f, MAX_EXPORT_ROWS))?;
        let io = |e: std::io::Error| Error::ExportFailed(e.to_string());
        std::fs::create_dir_all(dir).map_err(io)?;
        let stamp: String = local_time(now, utc_offset_minutes)
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let path = unique_path(dir, &format!("kagiya-audit-{stamp}"));
        let mut out = Vec::from("\u{feff}".as_bytes());
        {
            // CRLF: the line end spreadsheets on Windows expect.
            let mut w = csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(&mut out);
            let head = match lang {
                Lang::Ja => [
                    "番号",
                    "日時",
                    "操作者",
                    "種類",
                    "操作元",
                    "内容",
                    "ハッシュ",
                ],
                Lang::En => ["Seq", "Time", "By", "Kind", "Origin", "What", "Hash"],
            };
            w.write_record(head)
                .map_err(|e| Error::ExportFailed(e.to_string()))?;
            for e in &rows {
                let r = EventView::new(e, lang);
                w.write_record([
                    r.seq.to_string(),
                    local_time(r.at, utc_offset_minutes),
                    cell(r.actor.unwrap_or_default()),
                    cell(r.kind),
                    cell(r.origin.unwrap_or_default()),
                    cell(r.summary),
                    e.hash.clone(),
                ])
                .map_err(|e| Error::ExportFailed(e.to_string()))?;
            }
            w.flush().map_err(io)?;
        }
        // Written beside and renamed: a half-written export never carries the final name.
        let tmp = path.with_extension("csv.part");
        std::fs::write(&tmp, &out).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        self.branch.write_checkpoint_beside(&path)?;
        let (head_seq, head_hash) = events::head(&self.branch.store().conn())?.unwrap_or_default();
        let ev = EventKind::AuditExported {
            file: path.display().to_string(),
            rows: rows.len() as i64,
            filter: format!(
                "text={:?} kind={:?} from={:?} to={:?}",
                f.text.chars().take(128).collect::<String>(),
                f.kind,
                f.from,
                f.to
            ),
            head_seq,
            head_hash,
        };
        self.record(now, Some(&op.operator_id), ev)?;
        tracing::info!(operator = %op.operator_id, rows = rows.len(), path = %path.display(), "audit exported");
        Ok(AuditExport {
            path: path.display().to_string(),
            rows: u32::try_from(rows.len()).unwrap_or(u32::MAX),
        })
    }
}

/// A cell a spreadsheet would run as a formula — one beginning with `=`, `+`, `-`, `@`, a tab or
/// a carriage return (what an ID field or a name may hold) — is written with a leading
/// apostrophe, so that it is shown as text (OWASP: CSV injection).
fn cell(s: String) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s
    }
}

/// `dir/stem.csv`, or `dir/stem-2.csv`, `-3`, … when taken: two exports in one second never
/// overwrite each other.
fn unique_path(dir: &Path, stem: &str) -> PathBuf {
    let first = dir.join(format!("{stem}.csv"));
    if !first.exists() {
        return first;
    }
    (2u32..)
        .map(|n| dir.join(format!("{stem}-{n}.csv")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

/// What a part of the full check is called on screen.
fn part_label(part: &str, lang: Lang) -> &str {
    match part {
        "directory" => lang.pick("利用者情報", "the customers' users"),
        "operators" => lang.pick("操作者", "the operators"),
        "settings" => lang.pick("設定", "the settings"),
        "country_table" => lang.pick("国別アドレス表", "the country table"),
        "log" => lang.pick("記録の読み取り", "reading the log"),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_nothing_else() {
        for bad in ["=1+2", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(cell(bad.into()), format!("'{bad}"));
        }
        for fine in ["sv001", "山田 花子", "a=b", "", "user_unlocked"] {
            assert_eq!(cell(fine.into()), fine);
        }
    }

    #[test]
    fn local_time_is_written_in_the_given_zone() {
        // 2026-11-23 00:30:05 UTC.
        let at = 20_780 * DAY + 30 * 60_000 + 5_000;
        assert_eq!(local_time(at, 0), "2026-11-23 00:30:05");
        assert_eq!(local_time(at, 540), "2026-11-23 09:30:05");
        assert_eq!(local_time(at, -60), "2026-11-22 23:30:05");
    }
}

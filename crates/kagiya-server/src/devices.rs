//! The branch PCs that sync (issue 14): the server's operators issue a one-time enrolment code
//! for a branch (`kagiya-server device enroll --branch …`); the PC sends it with its ed25519
//! public key and a signature of the code by that key, and is bound to the branch. Codes come
//! from the CSPRNG, are kept only as SHA-256, expire after 15 minutes and work once; a wrong,
//! used and expired code get the same answer. A revoked device's requests are refused. What a
//! device may pull is its branch's customers' chains, nothing else.

use deadpool_postgres::Pool;
use kagiya_core::directory::ids::fold;
use kagiya_core::event::GENESIS_HASH;
use kagiya_core::{Millis, MINUTE};
use sha2::{Digest, Sha256};

use crate::db::message as db;

/// How long an enrolment code lasts (ours: long enough to walk from the server's console to the
/// branch PC's settings or to read it out on the phone, short enough that a leaked note is stale).
pub const CODE_LIFETIME: Millis = 15 * MINUTE;

/// The letters of a code: no 0/O, 1/I/L, so it can be read out and typed without doubt.
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// A new code: 15 letters of 31 (74 bits), in three groups of five.
fn new_code() -> String {
    let mut out = String::new();
    for i in 0..15 {
        if i > 0 && i % 5 == 0 {
            out.push('-');
        }
        let n = kagiya_core::random::below(ALPHABET.len() as u32) as usize;
        out.push(ALPHABET[n] as char);
    }
    out
}

/// The code as typed: upper-cased, without spaces or dashes.
fn normal(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn code_hash(code: &str) -> String {
    hex::encode(Sha256::digest(normal(code).as_bytes()))
}

/// Issues a code for `branch` (made when new), serving `customers` (added to what it serves).
pub async fn issue_code(
    pool: &Pool,
    branch: &str,
    customers: &[String],
    now: Millis,
) -> Result<String, String> {
    let branch = branch.trim();
    if branch.is_empty() || branch.len() > 64 || branch.contains('\0') {
        return Err("the branch name must be 1 to 64 characters".into());
    }
    let mut client = pool.get().await.map_err(|e| format!("database: {e}"))?;
    let tx = client.transaction().await.map_err(db)?;
    tx.execute(
        "INSERT INTO branches (branch) VALUES ($1) ON CONFLICT DO NOTHING",
        &[&branch],
    )
    .await
    .map_err(db)?;
    for c in customers {
        tx.execute(
            "INSERT INTO branch_customers (branch, contract_key) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
            &[&branch, &fold(c)],
        )
        .await
        .map_err(db)?;
    }
    let code = new_code();
    tx.execute(
        "INSERT INTO enrolment_codes (code_hash, branch, expires_ms) VALUES ($1, $2, $3)",
        &[&code_hash(&code), &branch, &(now + CODE_LIFETIME)],
    )
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(code)
}

pub use kagiya_sync::wire::{Enrolled, Pulled};

/// Why an enrolment was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrolRefused {
    /// Wrong, used or expired: one answer for all.
    Code,
    /// The key is not an ed25519 public key, or the signature of the code is not by it.
    Key,
    /// The key is enrolled already.
    KeyTaken,
}

/// Enrols the holder of `public` (base64) with `code`; `sig` is its signature of the code as
/// typed, normalised.
pub async fn enroll(
    pool: &Pool,
    code: &str,
    public: &str,
    sig: &str,
    now: Millis,
) -> Result<Result<Enrolled, EnrolRefused>, String> {
    let public = public.trim();
    if !kagiya_sync::op::verify_signature(public, normal(code).as_bytes(), sig) {
        return Ok(Err(EnrolRefused::Key));
    }
    let mut client = pool.get().await.map_err(|e| format!("database: {e}"))?;
    let tx = client.transaction().await.map_err(db)?;
    let Some(row) = tx
        .query_opt(
            "UPDATE enrolment_codes SET used_ms = $2 \
             WHERE code_hash = $1 AND used_ms IS NULL AND expires_ms > $2 RETURNING branch",
            &[&code_hash(code), &now],
        )
        .await
        .map_err(db)?
    else {
        return Ok(Err(EnrolRefused::Code));
    };
    let branch: String = row.get(0);
    let taken = tx
        .query_opt("SELECT 1 FROM devices WHERE public_key = $1", &[&public])
        .await
        .map_err(db)?
        .is_some();
    if taken {
        return Ok(Err(EnrolRefused::KeyTaken));
    }
    let mut id = [0u8; 12];
    kagiya_core::random::fill(&mut id);
    let device_id = format!("dev-{}", hex::encode(id));
    tx.execute(
        "INSERT INTO devices (device_id, branch, public_key, enrolled_ms, last_hash) \
         VALUES ($1, $2, $3, $4, $5)",
        &[&device_id, &branch, &public, &now, &GENESIS_HASH],
    )
    .await
    .map_err(db)?;
    let customers = tx
        .query(
            "SELECT contract_key FROM branch_customers WHERE branch = $1 ORDER BY contract_key",
            &[&branch],
        )
        .await
        .map_err(db)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    tx.commit().await.map_err(db)?;
    Ok(Ok(Enrolled {
        device_id,
        branch,
        customers,
    }))
}

/// Revokes a device: its pushes and pulls are refused from now on. False when there is none.
pub async fn revoke(pool: &Pool, device_id: &str, now: Millis) -> Result<bool, String> {
    let client = pool.get().await.map_err(|e| format!("database: {e}"))?;
    let n = client
        .execute(
            "UPDATE devices SET revoked_ms = $2 WHERE device_id = $1 AND revoked_ms IS NULL",
            &[&device_id, &now],
        )
        .await
        .map_err(db)?;
    Ok(n == 1)
}

/// The public key of a device that may sync, with its branch.
pub async fn active(pool: &Pool, device_id: &str) -> Result<Option<(String, String)>, String> {
    let client = pool.get().await.map_err(|e| format!("database: {e}"))?;
    let st = client
        .prepare_cached(
            "SELECT public_key, branch FROM devices WHERE device_id = $1 AND revoked_ms IS NULL",
        )
        .await
        .map_err(db)?;
    let row = client.query_opt(&st, &[&device_id]).await.map_err(db)?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

/// Entries after `cursor` (customer → last sequence pulled) of the chains of the customers
/// `branch` serves, in chain order, at most `limit` in all; and whether more are waiting. How far
/// `device_id` was sent of each chain is kept (see `device_pulled`).
pub async fn pull(
    pool: &Pool,
    device_id: &str,
    branch: &str,
    cursor: &std::collections::BTreeMap<String, i64>,
    limit: i64,
) -> Result<(Vec<Pulled>, bool), String> {
    let client = pool.get().await.map_err(|e| format!("database: {e}"))?;
    let customers: Vec<String> = client
        .query(
            "SELECT contract_key FROM branch_customers WHERE branch = $1 ORDER BY contract_key",
            &[&branch],
        )
        .await
        .map_err(db)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let st = client
        .prepare_cached(
            "SELECT seq, at_ms, actor, kind, body, prev_hash, hash FROM events \
             WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .await
        .map_err(db)?;
    let mut out = Vec::new();
    let mut more = false;
    for c in customers {
        let left = limit - out.len() as i64;
        if left <= 0 {
            more = true;
            break;
        }
        let from = cursor.get(&c).copied().unwrap_or(0).max(0);
        // One more than asked, to know whether more are waiting.
        let rows = client
            .query(&st, &[&c, &from, &(left + 1)])
            .await
            .map_err(db)?;
        if rows.len() as i64 > left {
            more = true;
        }
        if let Some(last) = rows.iter().take(left as usize).last() {
            let seq: i64 = last.get(0);
            client
                .execute(
                    "INSERT INTO device_pulled (device_id, contract_key, seq) VALUES ($1, $2, $3) \
                     ON CONFLICT (device_id, contract_key) \
                     DO UPDATE SET seq = GREATEST(device_pulled.seq, excluded.seq)",
                    &[&device_id, &c, &seq],
                )
                .await
                .map_err(db)?;
        }
        out.extend(rows.iter().take(left as usize).map(|r| Pulled {
            customer: c.clone(),
            seq: r.get(0),
            at: r.get(1),
            actor: r.get(2),
            kind: r.get(3),
            body: r.get(4),
            prev_hash: r.get(5),
            hash: r.get(6),
        }));
    }
    Ok((out, more))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_readable_and_typed_loosely() {
        let c = new_code();
        assert_eq!(c.len(), 17);
        assert!(c
            .chars()
            .all(|ch| ch == '-' || ALPHABET.contains(&(ch as u8))));
        assert_eq!(
            code_hash(&c),
            code_hash(&c.to_lowercase().replace('-', " "))
        );
        assert_ne!(new_code(), new_code());
    }
}

//! The server's full check (`kagiya-server check`): every customer's chain links and hashes from
//! its first entry to its head row, and the directory tables are exactly the fold of the chains —
//! the same promise the branch's `audit verify` keeps, and what the crash tests ask after each
//! `kill -9`. It reads the whole directory at once: an operator's tool, not a hot path.

use deadpool_postgres::Pool;
use kagiya_core::directory::Directory;
use kagiya_core::event::{EventBody, Scope};

use crate::db::message as db;
use crate::events;

/// What the check found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub chains: usize,
    pub entries: i64,
    /// Chains that do not verify, with the first entry that breaks.
    pub broken: Vec<(String, i64)>,
    /// Parts of the directory whose tables differ from the fold: `tenants`, `users`, …
    pub mismatched: Vec<String>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.broken.is_empty() && self.mismatched.is_empty()
    }
}

/// Runs the check over one snapshot of the database.
pub async fn run(pool: &Pool) -> Result<Report, String> {
    let mut client = pool.get().await.map_err(|e| format!("database: {e}"))?;
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(db)?;
    let mut report = Report::default();
    let chains: Vec<String> = tx
        .query("SELECT chain FROM chains ORDER BY chain", &[])
        .await
        .map_err(db)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    report.chains = chains.len();
    let mut folded = Directory::default();
    for chain in &chains {
        match events::verify(&*tx, chain).await? {
            Ok(n) => report.entries += n,
            Err(place) => {
                report.broken.push((chain.clone(), place));
                continue;
            }
        }
        // Customers are independent: each chain folds in its own order.
        let rows = tx
            .query(
                "SELECT at_ms, actor, body FROM events WHERE chain = $1 ORDER BY seq",
                &[chain],
            )
            .await
            .map_err(db)?;
        for r in rows {
            let body: EventBody = serde_json::from_str(r.get(2))
                .map_err(|e| format!("chain {chain:?}: an entry does not read: {e}"))?;
            if body.kind.scope() != Scope::Directory {
                continue;
            }
            folded
                .apply(r.get(0), r.get::<_, Option<&str>>(1), &body.kind)
                .map_err(|e| format!("chain {chain:?}: the fold stops: {e}"))?;
        }
    }
    let tables = load(&tx).await?;
    let parts: [(&str, bool); 7] = [
        ("tenants", folded.tenants == tables.tenants),
        ("users", folded.users == tables.users),
        ("addresses", folded.addresses == tables.addresses),
        (
            "init_requests",
            folded.init_requests == tables.init_requests,
        ),
        ("ip_rules", folded.ip_rules == tables.ip_rules),
        ("ip_releases", folded.ip_releases == tables.ip_releases),
        (
            "trusted_roots",
            folded.trusted_roots == tables.trusted_roots,
        ),
    ];
    report.mismatched = parts
        .iter()
        .filter(|(_, same)| !same)
        .map(|(name, _)| (*name).to_owned())
        .collect();
    let _ = tx.rollback().await;
    Ok(report)
}

/// The directory as the tables hold it.
async fn load(tx: &tokio_postgres::Transaction<'_>) -> Result<Directory, String> {
    use crate::store::doc;
    let parse = |e: kagiya_core::Error| e.to_string();
    let mut d = Directory::default();
    for r in tx
        .query("SELECT contract_key, doc::text FROM tenants", &[])
        .await
        .map_err(db)?
    {
        d.tenants.insert(r.get(0), doc(r.get(1)).map_err(parse)?);
    }
    for r in tx
        .query(
            "SELECT login_key, doc::text, addresses::text FROM users",
            &[],
        )
        .await
        .map_err(db)?
    {
        let key: String = r.get(0);
        d.users.insert(key.clone(), doc(r.get(1)).map_err(parse)?);
        let list: Vec<kagiya_core::directory::Address> = doc(r.get(2)).map_err(parse)?;
        if !list.is_empty() {
            d.addresses.insert(key, list);
        }
    }
    for r in tx
        .query("SELECT request_key, doc::text FROM init_requests", &[])
        .await
        .map_err(db)?
    {
        d.init_requests
            .insert(r.get(0), doc(r.get(1)).map_err(parse)?);
    }
    for r in tx
        .query("SELECT contract_key, service, doc::text FROM ip_rules", &[])
        .await
        .map_err(db)?
    {
        let service = kagiya_core::directory::Service::parse(r.get(1))
            .ok_or_else(|| format!("ip_rules: unknown service {:?}", r.get::<_, &str>(1)))?;
        let key = kagiya_core::directory::fold::rules_key(r.get(0), service);
        d.ip_rules.insert(key, doc(r.get(2)).map_err(parse)?);
    }
    for r in tx
        .query("SELECT contract_key, until_ms FROM ip_releases", &[])
        .await
        .map_err(db)?
    {
        d.ip_releases.insert(r.get(0), r.get(1));
    }
    for r in tx
        .query("SELECT sha256, subject, der_base64 FROM trusted_roots", &[])
        .await
        .map_err(db)?
    {
        d.trusted_roots.insert(r.get(0), (r.get(1), r.get(2)));
    }
    Ok(d)
}

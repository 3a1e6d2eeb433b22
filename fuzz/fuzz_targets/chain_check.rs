//! The audit chain check and the folds read entries that whoever holds the key may have written
//! by hand. Built from the fuzzer's input: a well-formed chain must verify; the same chain with
//! one field of one entry changed must be found broken at that entry or before; and any body
//! text at all is parsed and folded (directory and branch) without a panic.
#![no_main]

use arbitrary::Arbitrary;
use kagiya_core::branch_fold::BranchFacts;
use kagiya_core::directory::Directory;
use kagiya_core::event::{
    chain_hash, first_broken, EventBody, EventKind, StoredEvent, GENESIS_HASH,
};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Entry {
    at: i64,
    actor: Option<String>,
    body: String,
}

#[derive(Debug, Arbitrary)]
enum Change {
    Seq(i64),
    At(i64),
    Actor(Option<String>),
    Body(String),
    PrevHash(String),
    Hash(String),
    Drop,
    SwapWithNext,
}

#[derive(Debug, Arbitrary)]
struct Input {
    entries: Vec<Entry>,
    target: usize,
    change: Change,
}

/// The body as written when it is an entry's body; otherwise the text wrapped in one (so that
/// the chain is well formed and the fuzzer's text still reaches the hash and the folds).
fn body(text: &str) -> (String, String) {
    match serde_json::from_str::<EventBody>(text) {
        Ok(b) => (text.to_owned(), b.kind.type_name().to_owned()),
        Err(_) => {
            let kind = EventKind::SettingChanged {
                key: text.to_owned(),
                value: String::new(),
            };
            let b = EventBody::with_origin(kind, None);
            (b.to_json(), b.kind.type_name().to_owned())
        }
    }
}

fn chain(entries: &[Entry]) -> Vec<StoredEvent> {
    let mut prev = GENESIS_HASH.to_owned();
    let mut out = Vec::with_capacity(entries.len());
    for (seq, e) in (1..).zip(entries) {
        let (body, kind) = body(&e.body);
        let hash = chain_hash(&prev, seq, e.at, e.actor.as_deref(), &body);
        out.push(StoredEvent {
            seq,
            at: e.at,
            actor: e.actor.clone(),
            kind,
            body,
            prev_hash: prev,
            hash: hash.clone(),
        });
        prev = hash;
    }
    out
}

fuzz_target!(|input: Input| {
    let good = chain(&input.entries);
    assert_eq!(first_broken(&good), None, "a well-formed chain verifies");

    // Every body is parsed and folded as the full check would, whatever it holds.
    let (mut dir, mut facts) = (Directory::default(), BranchFacts::default());
    for e in &good {
        if let Ok(body) = serde_json::from_str::<EventBody>(&e.body) {
            let _ = dir.apply(e.at, e.actor.as_deref(), &body.kind);
            facts.apply(&body.kind);
        }
    }

    if good.is_empty() {
        return;
    }
    let i = input.target % good.len();
    let mut bad = good.clone();
    let dropped = matches!(input.change, Change::Drop);
    let e = &mut bad[i];
    let changed = match input.change {
        Change::Seq(s) => std::mem::replace(&mut e.seq, s) != s,
        Change::At(a) => std::mem::replace(&mut e.at, a) != a,
        // No actor and an empty actor hash alike (the chain's format since the first entry);
        // both read as "the system", so telling them apart is not the chain's job.
        Change::Actor(a) => {
            let old = std::mem::replace(&mut e.actor, a.clone());
            old.unwrap_or_default() != a.unwrap_or_default()
        }
        Change::Body(b) => std::mem::replace(&mut e.body, b.clone()) != b,
        Change::PrevHash(h) => std::mem::replace(&mut e.prev_hash, h.clone()) != h,
        Change::Hash(h) => std::mem::replace(&mut e.hash, h.clone()) != h,
        Change::Drop => {
            bad.remove(i);
            true
        }
        Change::SwapWithNext => {
            if i + 1 < bad.len() {
                bad.swap(i, i + 1);
                true
            } else {
                false
            }
        }
    };
    if changed {
        // Dropping the last entry leaves a shorter chain that is whole: only the checkpoints
        // kept outside the database can tell (Branch::check_checkpoint).
        let truncated = dropped && i == good.len() - 1;
        let found = first_broken(&bad);
        if truncated {
            assert_eq!(found, None);
        } else {
            let at = found.expect("a changed entry breaks the chain");
            assert!(
                at <= i as i64 + 1,
                "broken at {at}, changed entry {}",
                i + 1
            );
        }
    }
});

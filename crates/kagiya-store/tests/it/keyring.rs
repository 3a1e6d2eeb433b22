//! The database key in the real OS keyring (Secret Service via GNOME Keyring here; scripts/test.sh
//! runs the tests under scripts/with-keyring.sh, which sets KAGIYA_TEST_KEYRING=1 and makes a
//! missing keyring a failure rather than a skip).

use kagiya_core::Error;
use kagiya_store::key::{forget, KEYRING_SERVICE};
use kagiya_store::{KeySource, Store};

fn keyring_required() -> bool {
    std::env::var_os("KAGIYA_TEST_KEYRING").is_some()
}

#[test]
fn the_key_is_created_once_kept_in_the_os_keyring_and_required_afterwards() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kagiya.db");
    let key = match KeySource::OsKeyring.resolve(&path) {
        Ok(k) => k,
        Err(Error::KeyUnavailable(why)) if !keyring_required() => {
            eprintln!("NOTE: no OS keyring here ({why}); run under scripts/with-keyring.sh");
            return;
        }
        Err(e) => panic!("{e:?}"),
    };
    let s = Store::open(&path, &key).unwrap();
    s.write(|tx| {
        kagiya_store::settings::set(tx, "language", "ja")?;
        Ok(())
    })
    .unwrap();
    drop(s);

    // The entry is in the Secret Service under our service name, as 32 bytes.
    let account = kagiya_store::key::account_for(&path).unwrap();
    let stored = keyring::Entry::new(KEYRING_SERVICE, &account)
        .unwrap()
        .get_secret()
        .unwrap();
    assert_eq!(stored.len(), 32);

    // The second resolve finds the same key: the data is readable.
    let again = KeySource::OsKeyring.resolve(&path).unwrap();
    let s = Store::open(&path, &again).unwrap();
    assert_eq!(
        kagiya_store::settings::get(&s.conn(), "language")
            .unwrap()
            .as_deref(),
        Some("ja")
    );
    drop(s);

    // Without its key an existing database is not opened, no new key is made up, and the file
    // is left alone.
    let before = std::fs::read(&path).unwrap();
    forget(&path).unwrap();
    match KeySource::OsKeyring.resolve(&path) {
        Err(Error::KeyMissing) => {}
        other => panic!("expected key_missing, got {:?}", other.map(|_| ())),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert!(keyring::Entry::new(KEYRING_SERVICE, &account)
        .unwrap()
        .get_secret()
        .is_err());
}

/// Issue 12, finding 9: 「two first starts at once → a database encrypted under a key the keyring
/// no longer has」. Eight starts at once on a new database all get the one key the keyring keeps.
#[test]
fn eight_first_starts_at_once_agree_on_one_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kagiya.db");
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (path, barrier) = (path.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                KeySource::OsKeyring.resolve(&path)
            })
        })
        .collect();
    let keys: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    if let Some(Err(Error::KeyUnavailable(why))) = keys.first() {
        if !keyring_required() {
            eprintln!("NOTE: no OS keyring here ({why}); run under scripts/with-keyring.sh");
            return;
        }
    }
    let keys: Vec<_> = keys.into_iter().map(Result::unwrap).collect();
    // Each opens the same file: a database made with any of them opens with every other.
    let s = Store::open(&path, &keys[0]).unwrap();
    drop(s);
    for k in &keys[1..] {
        Store::open(&path, k).expect("the same key for every start");
    }
    forget(&path).unwrap();
}

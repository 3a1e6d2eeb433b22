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

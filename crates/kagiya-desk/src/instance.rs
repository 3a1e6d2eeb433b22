//! One window per data folder (issue 12, finding 9): two windows on one database would each keep
//! a session and an idle lock of their own over the same operators. The window claims an
//! exclusive lock on a file beside the database for as long as it runs; a second window finds it
//! taken and says so. The OS releases the lock with the process, so it never goes stale. The
//! command line does not claim it: it runs beside the window on purpose.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use kagiya_core::Error;

/// The claim; the lock is held until it is dropped.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
}

/// Claims the window's lock for the database at `db_path`.
pub fn claim(db_path: &Path) -> Result<InstanceLock, Error> {
    let path = kagiya_store::beside(db_path, ".window-lock");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::DatabaseUnavailable(e.to_string()))?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::DatabaseUnavailable(e.to_string()))?;
    match file.try_lock() {
        Ok(()) => Ok(InstanceLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(Error::AlreadyOpen),
        Err(TryLockError::Error(e)) => Err(Error::DatabaseUnavailable(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_window_on_one_folder_is_refused_until_the_first_ends() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("kagiya.db");
        let first = claim(&db).unwrap();
        assert_eq!(claim(&db).unwrap_err(), Error::AlreadyOpen);
        // Another folder is another branch database.
        let other = claim(&dir.path().join("other/kagiya.db")).unwrap();
        drop(first);
        let again = claim(&db).unwrap();
        drop((again, other));
    }
}

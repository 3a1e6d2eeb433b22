//! The desk on a real encrypted SQLite file, as one test binary (SQLCipher is linked once): the
//! session (first run, sign-in, lockout, idle lock, settings, demo) and the branch's screens as
//! use cases. Shared set-up lives in `support`.

mod console;
mod desk;
mod support;

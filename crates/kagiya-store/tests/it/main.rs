//! The engine on the branch's real encrypted SQLite file, as one test binary (SQLCipher is linked
//! once): the seed flows end to end, addresses, certificates and IP rules, the fold property, and
//! the database key in the real OS keyring. Shared set-up lives in `support`.

mod addresses_certs_ip;
mod engine;
mod fold_prop;
mod keyring;
mod operators;
mod second_factor;
mod support;

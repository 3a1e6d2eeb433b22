//! kagiya-server: the central store the customers' users sign in to. It runs the same engine as
//! the branch console (`kagiya-engine`) over PostgreSQL, and knows no SQLite, keyring, window or
//! desk (checked by `scripts/check-deps.sh`). This first part holds what every later part stands
//! on: the configuration, the connection pool, the versioned schema, the health endpoints and the
//! metrics.

pub mod api;
pub mod check;
pub mod config;
pub mod db;
pub mod demo;
pub mod devices;
pub mod events;
pub mod flows;
pub mod http;
pub mod import;
pub mod mail;
pub mod metrics;
pub mod migrate;
pub mod openapi;
pub mod pages;
pub mod sessions;
pub mod source;
pub mod store;
pub mod throttle;
pub mod tls;

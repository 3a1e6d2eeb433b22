//! One module per command group; each reads its secrets, calls the engine (or, for what only a
//! local database has, the branch) and prints the result.

mod address;
mod audit;
mod auth;
mod cert;
mod db;
mod init_request;
mod ip;
mod operator;
mod outbox;
mod policy;
mod tenant;
mod user;

use kagiya_core::Error;

use crate::args::Command;
use crate::context::Ctx;

/// Runs the command; the exit code for what it found (errors are the caller's to print).
pub fn run(ctx: &Ctx) -> Result<i32, Error> {
    match &ctx.cli.command {
        Command::Init { operator_id, name } => operator::init(ctx, operator_id, name),
        Command::Operator(cmd) => operator::run(ctx, cmd),
        Command::Tenant(cmd) => tenant::run(ctx, cmd),
        Command::User(cmd) => user::run(ctx, cmd),
        Command::Auth(cmd) => auth::run(ctx, cmd),
        Command::Policy(cmd) => policy::run(ctx, cmd),
        Command::InitRequest(cmd) => init_request::run(ctx, cmd),
        Command::Audit(cmd) => audit::run(ctx, cmd),
        Command::Db(cmd) => db::run(ctx, cmd),
        Command::Address(cmd) => address::run(ctx, cmd),
        Command::Cert(cmd) => cert::run(ctx, cmd),
        Command::Ip(cmd) => ip::run(ctx, cmd),
        Command::Outbox(cmd) => outbox::run(ctx, cmd),
    }
}

//! `kagiya`: the headless twin of the desktop app. It opens the same encrypted database (key from
//! the OS keyring) and calls the same engine operations, so a script, a help-desk runbook or a test
//! can do anything the window can.

mod args;
mod commands;
mod context;
mod exit;
mod input;
mod output;

use clap::Parser;

fn main() {
    let ctx = context::Ctx::new(args::Cli::parse());
    let code = match commands::run(&ctx) {
        Ok(code) => code,
        Err(e) => {
            output::error(&e, ctx.lang, ctx.json);
            exit::code_of(&e)
        }
    };
    std::process::exit(code);
}

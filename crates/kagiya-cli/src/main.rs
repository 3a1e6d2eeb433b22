//! `kagiya`: the headless twin of the desktop app. It opens the same encrypted database (key from
//! the OS keyring) and calls the same engine operations, so a script, a help-desk runbook or a test
//! can do anything the window can.

mod args;
mod exit;
mod input;
mod more;
mod output;
mod run;

use clap::Parser;

fn main() {
    let cli = args::Cli::parse();
    let lang = output::lang_of(&cli);
    let json = cli.json;
    let code = match run::run(cli) {
        Ok(code) => code,
        Err(e) => {
            output::error(&e, lang, json);
            exit::code_of(&e)
        }
    };
    std::process::exit(code);
}

//! `commerce`: the account service and the Commerce Admin in one binary.

mod admin_cmds;
mod amazon;
mod backup;
mod cli;
mod commands;
mod files;
mod text_input;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            // One clear line, not clap's usage block.
            let text = e.to_string();
            let mut line = text
                .lines()
                .next()
                .unwrap_or("invalid arguments")
                .trim_end_matches(':')
                .to_owned();
            // Name the arguments (clap lists them on the lines that follow).
            use clap::error::{ContextKind, ContextValue};
            match e.get(ContextKind::InvalidArg) {
                Some(ContextValue::Strings(args)) if !args.is_empty() => {
                    line = format!("{line}: {}", args.join(", "));
                }
                Some(ContextValue::String(arg)) if !line.contains(arg.as_str()) => {
                    line = format!("{line}: {arg}");
                }
                _ => {}
            }
            eprintln!("{line} (see commerce --help)");
            return ExitCode::from(2);
        }
    };
    commands::init_tracing(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}").replace('\n', " ")
}

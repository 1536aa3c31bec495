//! The `site-gen` command.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use site_gen::{BuildOptions, build, check};

#[derive(Parser)]
#[command(
    name = "site-gen",
    version,
    about = "Builds the estate handbook from Markdown and serves it with the request desk"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the site into the output folder (replaced only if the build succeeds)
    Build {
        #[command(flatten)]
        site: SiteArgs,
        /// Output folder [default: ROOT/public]
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// For publishing: fail while any value of estate.yaml is not confirmed
        #[arg(long)]
        strict: bool,
    },
    /// Run every check of a build without writing anything; list the values of estate.yaml not yet confirmed
    Check {
        #[command(flatten)]
        site: SiteArgs,
        /// Fail while any value of estate.yaml is not confirmed, as `build --strict` does
        #[arg(long)]
        strict: bool,
        /// `github`: each problem as a GitHub Actions annotation on its file and line
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Build, serve on 127.0.0.1 with the request forms, rebuild and reload on every change
    Serve {
        #[command(flatten)]
        site: SiteArgs,
        /// Port to listen on; 0 picks a free one
        #[arg(long, default_value_t = 8000)]
        port: u16,
        /// Where the desk keeps its tickets and outbox [default: ROOT/.data]
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
    },
}

/// How `check` reports problems.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// A numbered list on standard error.
    Human,
    /// `::error file=…,line=…::message` lines on standard output.
    Github,
}

#[derive(Args)]
struct SiteArgs {
    /// The site folder: config.yaml, content/, themes/
    #[arg(long, value_name = "DIR", default_value = ".")]
    root: PathBuf,
    /// Include pages marked `draft: true`
    #[arg(long)]
    drafts: bool,
    /// Build as if it were this day (YYYY-MM-DD), to preview which notices show
    #[arg(long, value_name = "DATE")]
    today: Option<NaiveDate>,
}

impl SiteArgs {
    fn options(&self) -> BuildOptions {
        let mut options = BuildOptions::new(&self.root);
        options.drafts = self.drafts;
        options.today = self.today;
        options
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // JSON lines on stderr: the desk's events under `serve`, and with
    // `RUST_LOG=site_gen::timing=debug` where a build's time goes.
    desk::logging::init_json();
    let result = match cli.command {
        Command::Build { site, out, strict } => {
            let mut options = site.options();
            options.out = out;
            options.strict = strict;
            build(&options).map(|summary| {
                println!("Built {summary} into {}", options.out_dir().display());
                if !summary.unconfirmed.is_empty() {
                    println!(
                        "note: {} values of estate.yaml are not confirmed yet; `site-gen check` lists them, `site-gen build --strict` refuses them",
                        summary.unconfirmed.len()
                    );
                }
            })
        }
        Command::Check {
            site,
            strict,
            format,
        } => {
            let mut options = site.options();
            options.strict = strict;
            let result = check(&options);
            if format == Format::Github
                && let Err(site_gen::Error::Invalid(problems)) = &result
            {
                for problem in site_gen::diagnostics::in_order(problems) {
                    println!("{}", problem.github_annotation());
                }
            }
            result.map(|summary| {
                println!("Checked {summary}: no problems");
                if !summary.unconfirmed.is_empty() {
                    println!(
                        "{} values of estate.yaml are not confirmed yet (confirm them before publishing with build --strict):",
                        summary.unconfirmed.len()
                    );
                    for (i, value) in summary.unconfirmed.iter().enumerate() {
                        println!("  {}. {}:{} {value}", i + 1, value.file.display(), value.line.map(|l| l.to_string()).unwrap_or_default());
                    }
                }
            })
        }
        Command::Serve { site, port, data } => {
            let options = site.options();
            let data = data.unwrap_or_else(|| options.root.join(".data"));
            site_gen::serve::run(options, port, data)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

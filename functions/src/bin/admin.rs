//! `desk-admin`: staff accounts, the monthly report and the CSV export,
//! from a terminal on the desk's machine (or anywhere with the same
//! `DESK_*` variables and AWS credentials as the functions).
//!
//! Passwords are only ever read from standard input (`--password-stdin`),
//! never from the command line, where other users and the shell history
//! would see them. Nothing it prints holds a password, a hash or an
//! owner's personal data, except an export asked for with
//! `--with-personal-data`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use desk::accounts::{MIN_PASSWORD, Role, Staff, hash_password, is_username};
use desk::export::export_csv;
use desk::report::{monthly, plain_table, to_table};
use desk::settings::{Settings, StoreChoice};
use desk::store::{StoreError, TicketStore};
use desk::time::Clock;
use forms::FormSet;

/// Staff accounts, reports and exports of the request desk.
#[derive(Parser)]
#[command(name = "desk-admin", version)]
struct Cli {
    /// The site folder (config.yaml, content/forms/)
    #[arg(long, global = true, default_value = ".", value_name = "DIR")]
    root: PathBuf,
    /// Where the SQLite store is (DIR/tickets.sqlite3), as for `site-gen serve` [default: ROOT/.data]
    #[arg(long, global = true, value_name = "DIR")]
    data: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Adds a staff account; the password is read from standard input
    AddStaff {
        /// Lowercase letters, digits, `.`, `-` and `_`, 2 to 32 characters
        #[arg(long)]
        username: String,
        /// As colleagues and ticket timelines show it, e.g. 王芳
        #[arg(long)]
        name: String,
        /// desk, manager or department:<id> (an id in content/forms/departments.yaml)
        #[arg(long)]
        role: String,
        /// Read the password from standard input (one line)
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Disables an account and signs out its sessions
    DisableStaff {
        #[arg(long)]
        username: String,
    },
    /// Enables a disabled account again
    EnableStaff {
        #[arg(long)]
        username: String,
    },
    /// Sets a new password (from standard input) and signs out the account's sessions
    ResetPassword {
        #[arg(long)]
        username: String,
        /// Read the password from standard input (one line)
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Lists the staff accounts
    ListStaff,
    /// The monthly summary of the tickets received in a month (estate time)
    Report {
        /// YYYY-MM, e.g. 2026-11
        #[arg(long)]
        month: String,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// The tickets received in a period as CSV (UTF-8 with a byte-order mark, for Excel)
    Export {
        /// The first day, YYYY-MM-DD
        #[arg(long, value_parser = parse_day)]
        from: NaiveDate,
        /// The last day (included), YYYY-MM-DD
        #[arg(long, value_parser = parse_day)]
        to: NaiveDate,
        /// Include owners' names, units, phones and emails
        #[arg(long)]
        with_personal_data: bool,
        /// Write to this file instead of standard output
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

fn parse_day(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| format!("`{text}` is not a day: write it as YYYY-MM-DD, e.g. 2026-11-01"))
}

/// What went wrong, and what to do about it.
struct Failure {
    what: String,
    help: Option<String>,
}

fn fail(what: impl Into<String>, help: impl Into<String>) -> Failure {
    Failure {
        what: what.into(),
        help: Some(help.into()),
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        let help = match &e {
            StoreError::Backend(_) => Some(
                "check --data (or DESK_STORE / DESK_TABLE and the AWS settings) and try again"
                    .to_owned(),
            ),
            _ => None,
        };
        Failure {
            what: e.to_string(),
            help,
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // --help and --version are not failures; a wrong command line
            // is, with the same exit status as every other failure.
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.what);
            if let Some(help) = failure.help {
                eprintln!("help: {help}");
            }
            ExitCode::FAILURE
        }
    }
}

/// The site and the store the command works on.
struct Context {
    root: PathBuf,
    store: Arc<dyn TicketStore>,
}

impl Context {
    async fn open(cli: &Cli) -> Result<Context, Failure> {
        let root = cli.root.clone();
        let data = cli.data.clone().unwrap_or_else(|| root.join(".data"));
        let settings = Settings::from_env(root.clone(), data).map_err(|e| {
            fail(
                format!("the desk settings are wrong: {e}"),
                format!("correct or unset {}", e.variable),
            )
        })?;
        // Only a new account may start a new store: anything else finding
        // no file has been pointed at the wrong folder.
        if let StoreChoice::Sqlite { path } = &settings.store
            && !path.exists()
            && !matches!(cli.command, Command::AddStaff { .. })
        {
            return Err(fail(
                format!("there is no ticket store at {}", path.display()),
                "give --data the folder `site-gen serve` keeps its data in (by default .data in the site folder)",
            ));
        }
        let backends = desk::assemble::backends(&settings).await.map_err(|e| {
            fail(
                format!("cannot open the ticket store: {e}"),
                "check --data (or DESK_STORE / DESK_TABLE and the AWS settings)",
            )
        })?;
        Ok(Context {
            root,
            store: backends.store,
        })
    }

    fn forms(&self) -> Result<FormSet, Failure> {
        let dir = self.root.join("content").join("forms");
        let forms = FormSet::load(&dir).map_err(|e| {
            fail(
                format!("cannot read the form definitions: {e}"),
                "correct the file, or give --root the site folder",
            )
        })?;
        if forms.departments.is_empty() {
            return Err(fail(
                format!("there are no form definitions in {}", dir.display()),
                "give --root the site folder (the one with config.yaml and content/forms/)",
            ));
        }
        Ok(forms)
    }

    fn clock(&self) -> Result<Clock, Failure> {
        let config = config::Config::from_root(&self.root).map_err(|e| {
            fail(
                format!("cannot read the site configuration: {e}"),
                "give --root the site folder (the one with config.yaml)",
            )
        })?;
        Ok(Clock::from_config(&config))
    }

    async fn staff(&self, username: &str) -> Result<Staff, Failure> {
        self.store.get_staff(username).await?.ok_or_else(|| {
            fail(
                format!("there is no account `{username}`"),
                "see the accounts with `desk-admin list-staff`",
            )
        })
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let context = Context::open(&cli).await?;
    match cli.command {
        Command::AddStaff {
            username,
            name,
            role,
            password_stdin: _,
        } => add_staff(&context, &username, &name, &role).await,
        Command::DisableStaff { username } => set_disabled(&context, &username, true).await,
        Command::EnableStaff { username } => set_disabled(&context, &username, false).await,
        Command::ResetPassword {
            username,
            password_stdin: _,
        } => reset_password(&context, &username).await,
        Command::ListStaff => list_staff(&context).await,
        Command::Report { month, json } => report(&context, &month, json).await,
        Command::Export {
            from,
            to,
            with_personal_data,
            output,
        } => export(&context, from, to, with_personal_data, output.as_deref()).await,
    }
}

fn check_username(username: &str) -> Result<(), Failure> {
    if is_username(username) {
        Ok(())
    } else {
        Err(fail(
            format!("`{username}` cannot be a username"),
            "use 2 to 32 lowercase letters, digits, `.`, `-` or `_`, e.g. wang.fang",
        ))
    }
}

/// One line from standard input, without its line ending.
fn read_password() -> Result<String, Failure> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!(
            "Password (at least {MIN_PASSWORD} characters; it is shown as you type, so pipe it in where others can see the screen): "
        );
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).map_err(|e| {
        fail(
            format!("cannot read the password from standard input: {e}"),
            "pipe the password in, e.g. `desk-admin ... --password-stdin < file`",
        )
    })?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        return Err(fail(
            "no password on standard input",
            "give the password as one line on standard input",
        ));
    }
    Ok(password.to_owned())
}

fn hash(password: &str) -> Result<String, Failure> {
    hash_password(password).map_err(|e| match e {
        desk::accounts::PasswordError::TooShort => fail(
            format!("the password is too short: it must be at least {MIN_PASSWORD} characters"),
            "choose a longer one (a few words make a good password)",
        ),
        other => fail(other.to_string(), "try again"),
    })
}

async fn add_staff(
    context: &Context,
    username: &str,
    name: &str,
    role: &str,
) -> Result<(), Failure> {
    check_username(username)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 32 || name.chars().any(char::is_control) {
        return Err(fail(
            "the name must be 1 to 32 characters on one line",
            "give the name colleagues know the person by, e.g. --name 王芳",
        ));
    }
    let role = Role::parse(role).ok_or_else(|| {
        fail(
            format!("`{role}` is not a role"),
            "use desk, manager or department:<id>, e.g. department:engineering",
        )
    })?;
    if let Some(department) = role.department() {
        let forms = context.forms()?;
        if forms.department(department).is_none() {
            let known: Vec<&str> = forms.departments.keys().map(String::as_str).collect();
            return Err(fail(
                format!("there is no department `{department}` in content/forms/departments.yaml"),
                format!("use one of: {}", known.join(", ")),
            ));
        }
    }
    if context.store.get_staff(username).await?.is_some() {
        return Err(taken(username));
    }
    let password_hash = hash(&read_password()?)?;
    let staff = Staff {
        username: username.to_owned(),
        name: name.to_owned(),
        role,
        password_hash,
        disabled: false,
        session_epoch: 0,
        created_at: chrono::Utc::now(),
    };
    match context.store.put_staff(&staff, false).await {
        Err(StoreError::AccountExists(_)) => Err(taken(username)),
        other => other.map_err(Failure::from),
    }?;
    println!("added `{username}` ({})", staff.role.as_string());
    Ok(())
}

fn taken(username: &str) -> Failure {
    fail(
        format!("there is already an account `{username}`"),
        "choose another username, or use `desk-admin reset-password` to change its password",
    )
}

async fn set_disabled(context: &Context, username: &str, disabled: bool) -> Result<(), Failure> {
    check_username(username)?;
    let mut staff = context.staff(username).await?;
    if staff.disabled == disabled {
        println!(
            "`{username}` is already {}",
            if disabled { "disabled" } else { "enabled" }
        );
        return Ok(());
    }
    staff.disabled = disabled;
    if disabled {
        staff.session_epoch = staff.session_epoch.saturating_add(1);
    }
    context.store.put_staff(&staff, true).await?;
    if disabled {
        println!("disabled `{username}`; its sessions are signed out");
    } else {
        println!("enabled `{username}`");
    }
    Ok(())
}

async fn reset_password(context: &Context, username: &str) -> Result<(), Failure> {
    check_username(username)?;
    let mut staff = context.staff(username).await?;
    staff.password_hash = hash(&read_password()?)?;
    staff.session_epoch = staff.session_epoch.saturating_add(1);
    context.store.put_staff(&staff, true).await?;
    println!("set a new password for `{username}`; its sessions are signed out");
    Ok(())
}

async fn list_staff(context: &Context) -> Result<(), Failure> {
    let accounts = context.store.list_staff().await?;
    if accounts.is_empty() {
        println!("no staff accounts yet: add one with `desk-admin add-staff`");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = accounts
        .iter()
        .map(|s| {
            vec![
                s.username.clone(),
                s.name.clone(),
                s.role.as_string(),
                if s.disabled { "停用" } else { "启用" }.to_owned(),
            ]
        })
        .collect();
    print!(
        "{}",
        plain_table(&["用户名", "姓名", "角色", "状态"], &rows, 4)
    );
    Ok(())
}

async fn report(context: &Context, month: &str, json: bool) -> Result<(), Failure> {
    let (forms, clock) = (context.forms()?, context.clock()?);
    let report = monthly(context.store.as_ref(), &forms, &clock, month)
        .await
        .map_err(|e| match e {
            desk::report::ReportError::Store(e) => Failure::from(e),
            other => fail(other.to_string(), "e.g. desk-admin report --month 2026-11"),
        })?;
    if json {
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| fail(format!("cannot write the report as JSON: {e}"), "try again"))?;
        println!("{text}");
    } else {
        print!("{}", to_table(&report));
    }
    Ok(())
}

async fn export(
    context: &Context,
    from: NaiveDate,
    to: NaiveDate,
    with_personal_data: bool,
    output: Option<&Path>,
) -> Result<(), Failure> {
    let (forms, clock) = (context.forms()?, context.clock()?);
    let store = context.store.as_ref();
    let failed = |e: desk::export::ExportError| match e {
        desk::export::ExportError::Store(e) => Failure::from(e),
        desk::export::ExportError::BadRange { .. } => {
            fail(e.to_string(), "e.g. --from 2026-11-01 --to 2026-11-30")
        }
        other => fail(
            other.to_string(),
            "check the disk space and the output path, then try again",
        ),
    };
    // Standard output, or a new private file that a failure removes: a
    // half-written export is worse than none.
    let (sink, shown): (Box<dyn Write>, String) = match output {
        None => (
            Box::new(std::io::stdout().lock()),
            "standard output".to_owned(),
        ),
        Some(path) => {
            let file = create_private(path).map_err(|e| {
                fail(
                    format!("cannot create {}: {e}", path.display()),
                    "check that the folder exists and you may write there",
                )
            })?;
            (Box::new(file), path.display().to_string())
        }
    };
    let mut out = std::io::BufWriter::new(sink);
    let written = export_csv(
        store,
        &forms,
        &clock,
        from,
        to,
        with_personal_data,
        &mut out,
    )
    .await
    .map_err(failed)
    .and_then(|rows| {
        out.flush().map(|()| rows).map_err(|e| {
            fail(
                format!("writing {shown} failed: {e}"),
                "check the disk space",
            )
        })
    });
    drop(out);
    let rows = match (written, output) {
        (Ok(rows), _) => rows,
        (Err(failure), Some(path)) => {
            let _ = std::fs::remove_file(path);
            return Err(failure);
        }
        (Err(failure), None) => return Err(failure),
    };
    let personal = if with_personal_data {
        "with owners' personal data: keep it safe and delete it when done"
    } else {
        "without personal data"
    };
    match output {
        Some(path) => eprintln!("wrote {rows} tickets to {} ({personal})", path.display()),
        None => eprintln!("wrote {rows} tickets ({personal})"),
    }
    Ok(())
}

/// A new file only its owner may read (on Unix), since an export can hold
/// owners' personal data.
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

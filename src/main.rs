//! The command line: serve, migrate, openapi, api-keys, import.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use crm_segments::api_keys::repo as api_keys;
use crm_segments::config::Settings;
use crm_segments::domain::ApiScope;
use crm_segments::error::ApiError;
use crm_segments::import::progress::ProgressDisplay;
use crm_segments::import::{self, ContactImport, StartMode};
use crm_segments::openapi;
use crm_segments::startup::Application;
use crm_segments::{db, telemetry};

#[derive(Parser)]
#[command(name = "crm-segments", version, about = "Contact segmentation and interaction logging service")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Run pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Manage API keys.
    ApiKeys {
        #[command(subcommand)]
        action: ApiKeyCommand,
    },
    /// Import records from a file.
    Import {
        #[command(subcommand)]
        what: ImportCommand,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Create or update contacts from a .csv or .jsonl file through bulk sync, in batches.
    Contacts {
        /// The file: .csv with a header row of bulk item fields, or .jsonl with one bulk item per line.
        file: PathBuf,
        /// Rows per batch (one transaction each); default BULK_MAX_ITEMS.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        batch: Option<u64>,
        /// Where rejected rows go; default FILE.rejects.csv.
        #[arg(long)]
        rejects: Option<PathBuf>,
        /// Continue an import that stopped, from its checkpoint (FILE.import-state).
        #[arg(long, conflicts_with = "restart")]
        resume: bool,
        /// Start over although a checkpoint exists.
        #[arg(long)]
        restart: bool,
    },
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Create a key and print it, alone, on stdout.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        scope: ApiScope,
    },
    /// List the keys (never the keys themselves).
    List,
    /// Revoke the key with this id, or every active key with this name.
    Revoke { id_or_name: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        println!("{}", openapi_json());
        return ExitCode::SUCCESS;
    }
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(reason) => return fail(&format!("invalid configuration: {reason}")),
    };
    telemetry::init(&settings.log_level, settings.log_format);
    let result: anyhow::Result<()> = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Migrate => with_connection(&settings, |conn| {
            let count = db::run_migrations(conn)?;
            eprintln!("applied {count} migration(s)");
            Ok(())
        }),
        Command::Openapi => Ok(()),
        Command::ApiKeys { action } => with_connection(&settings, |conn| {
            db::run_migrations(conn)?;
            api_key_command(conn, action)
        }),
        Command::Import { what: ImportCommand::Contacts { file, batch, rejects, resume, restart } } => {
            let start = match (resume, restart) {
                (true, _) => StartMode::Resume,
                (false, true) => StartMode::Restart,
                (false, false) => StartMode::Fresh,
            };
            let batch = batch.map_or(settings.bulk_max_items, |b| b as usize);
            let job = ContactImport { input: file, batch, start, rejects, checkpoint: None };
            with_connection(&settings, |conn| {
                db::run_migrations(conn)?;
                let summary = import::import_contacts(conn, &job, &mut ProgressDisplay::for_stderr())?;
                println!("{summary}");
                Ok(())
            })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `{:#}` prints the whole cause chain on one line: "cannot connect to postgresql: ...".
        Err(error) => fail(&format!("{error:#}")),
    }
}

fn fail(reason: &str) -> ExitCode {
    eprintln!("crm-segments: {reason}");
    ExitCode::FAILURE
}

/// The OpenAPI document as committed in `openapi/openapi.json`.
fn openapi_json() -> String {
    openapi::document().to_pretty_json().unwrap_or_default()
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings.clone())?;
        if let Some(key) = &app.initial_admin_key {
            println!("No API key existed, so an admin key was created. It is shown this once:\n{key}");
        }
        tracing::info!(bind = %settings.bind, port = app.port(), database = settings.database.name(), "listening");
        app.run_until_stopped().await.context("server failed")
    })
}

fn with_connection(
    settings: &Settings,
    f: impl FnOnce(&mut db::Conn) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut conn = db::connect(&settings.database)?;
    f(&mut conn)
}

/// An API error as the command line reports it: internal errors keep their cause chain (the
/// server logs it and hides it; here the operator is the one who must see it).
fn cli_error(error: ApiError) -> anyhow::Error {
    match error {
        ApiError::Internal(_) => anyhow::Error::from(error),
        other => anyhow::anyhow!(other.problem().detail),
    }
}

fn api_key_command(conn: &mut db::Conn, action: ApiKeyCommand) -> anyhow::Result<()> {
    match action {
        ApiKeyCommand::Create { name, scope } => {
            let key = api_keys::create_api_key(conn, &name, scope).map_err(cli_error)?;
            println!("{key}");
        }
        ApiKeyCommand::List => {
            for key in api_keys::list_api_keys(conn).map_err(cli_error)? {
                let state = if key.revoked_at.is_some() { "revoked" } else { "active" };
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    key.id, key.name, key.scope, key.key_prefix, key.created_at, state
                );
            }
        }
        ApiKeyCommand::Revoke { id_or_name } => {
            let revoked = api_keys::revoke_api_key(conn, &id_or_name).map_err(cli_error)?;
            if revoked == 0 {
                anyhow::bail!("no active API key with id or name {id_or_name:?}");
            }
            eprintln!("revoked {revoked} key(s)");
        }
    }
    Ok(())
}

//! The command line: serve, migrate, openapi, api-keys.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use crm_segments::api_keys::repo as api_keys;
use crm_segments::config::Settings;
use crm_segments::domain::ApiScope;
use crm_segments::error::ApiError;
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

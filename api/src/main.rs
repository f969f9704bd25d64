//! `minqing`: the server and its administration commands.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use minqing_api::config::Config;
use minqing_api::db::Db;
use minqing_api::startup::{create_admin, Application};
use minqing_api::{backup, demo, telemetry};

#[derive(Parser)]
#[command(
    name = "minqing",
    version,
    about = "Minqing (民情): township field work — check-ins, work orders, scores"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the HTTP server (the default command).
    Serve {
        /// Loads a demo county with logins to explore (only once per database).
        #[arg(long)]
        demo: bool,
    },
    /// Applies pending database migrations and exits.
    Migrate,
    /// Loads the demo county and exits.
    Demo,
    /// Copies the database (SQLite: an online snapshot; PostgreSQL: prints the pg_dump line)
    /// and the photo store into DIR, a new directory.
    Backup { dir: std::path::PathBuf },
    /// Puts a backup made by `minqing backup` back (stop the server first).
    Restore {
        dir: std::path::PathBuf,
        /// Replaces an existing SQLite database.
        #[arg(long)]
        force: bool,
    },
    /// The photo store.
    Photos {
        #[command(subcommand)]
        command: PhotosCommand,
    },
    /// Administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum PhotosCommand {
    /// Copies every photo of the data directory's store (MINQING_DATA_DIR/photos) into the
    /// S3 store MINQING_PHOTOS names; photos already there are skipped, so it can be run
    /// again to resume or to catch up.
    Migrate,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Creates an admin account.
    CreateUser {
        #[arg(long)]
        phone: String,
        #[arg(long)]
        name: String,
        /// At least 8 characters; read from MINQING_NEW_PASSWORD if not given.
        #[arg(long, env = "MINQING_NEW_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

/// A failure to start or serve (port taken, database unreachable, bad setting) is said in
/// one plain line on stderr, with its causes, and the exit status is 1: no backtrace, which
/// says nothing to whoever runs the server and clutters the journal.
fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("minqing: {}", one_line(&err));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes (`binding 0.0.0.0:80: Permission denied`) on a single line.
fn one_line(err: &anyhow::Error) -> String {
    format!("{err:#}")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::from_env()?;
    telemetry::init(config.log_format);
    match cli.command.unwrap_or(Command::Serve { demo: false }) {
        Command::Serve { demo } => serve(config, demo),
        Command::Migrate => {
            let db = Db::connect(&config.database_url, 1)?;
            let applied = db.migrate()?;
            println!("applied {applied} migration(s)");
            Ok(())
        }
        Command::Demo => {
            let db = Db::connect(&config.database_url, 1)?;
            db.migrate()?;
            print_demo_logins(&demo::load(&db, config.timezone)?);
            Ok(())
        }
        Command::Backup { dir } => {
            let done = backup::backup(&config.database_url, &config.data_dir, &dir)?;
            report(&done, "backed up");
            Ok(())
        }
        Command::Restore { dir, force } => {
            let done = backup::restore(&config.database_url, &config.data_dir, &dir, force)?;
            report(&done, "restored");
            Ok(())
        }
        Command::Photos {
            command: PhotosCommand::Migrate,
        } => migrate_photos(&config),
        Command::Admin {
            command:
                AdminCommand::CreateUser {
                    phone,
                    name,
                    password,
                },
        } => {
            let db = Db::connect(&config.database_url, 1)?;
            db.migrate()?;
            let id = create_admin(&db, &phone, &name, &password)?;
            println!("created admin {phone} ({id})");
            Ok(())
        }
    }
}

fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let bind = config.bind.clone();
        let timezone = config.timezone;
        let app = Application::build(config)?;
        if let Some(notice) = &app.first_admin_notice {
            println!("{notice}");
        }
        if demo {
            print_demo_logins(&demo::load(app.db(), timezone)?);
        }
        let host = bind
            .rsplit_once(':')
            .map_or(bind.as_str(), |(host, _)| host);
        tracing::info!(%host, port = app.port(), "minqing listening");
        println!(
            "Minqing is listening on http://{host}:{} (health: /api/v1/health)",
            app.port()
        );
        app.run_until_stopped().await?;
        Ok(())
    })
}

fn migrate_photos(config: &Config) -> anyhow::Result<()> {
    use anyhow::Context;
    use minqing_api::config::PhotoStorage;
    use minqing_api::media::s3::S3Store;
    use minqing_api::media::store::{self, LocalDisk, PhotoStore};

    let PhotoStorage::S3(settings) = &config.photos else {
        anyhow::bail!(
            "photos migrate copies the data directory's photos into S3: set MINQING_PHOTOS=s3://bucket/prefix"
        );
    };
    let source = config.data_dir.join("photos");
    anyhow::ensure!(
        source.is_dir(),
        "no photos to migrate: {} is not a directory (MINQING_DATA_DIR)",
        source.display()
    );
    let from = LocalDisk::new(&source)?;
    let to = S3Store::new(settings)?;
    to.check().context("the S3 photo store cannot be reached")?;
    println!(
        "copying the photos in {} to {}",
        source.display(),
        to.location()
    );
    let done = store::migrate(&from, &to, |done| {
        let seen = done.copied + done.present;
        if seen % 500 == 0 {
            println!("  {seen} photo file(s) so far, {} copied", done.copied);
        }
    })?;
    println!(
        "copied {} photo file(s); {} already there",
        done.copied, done.present
    );
    Ok(())
}

fn report(done: &backup::Copied, what: &str) {
    if let Some(path) = &done.database {
        println!("{what} the database: {}", path.display());
    }
    if let Some(command) = &done.command {
        println!("PostgreSQL: run `{command}` for the database");
    }
    println!("{what} {} photo file(s)", done.photos);
}

fn print_demo_logins(logins: &[String]) {
    println!(
        "Demo county loaded. Every demo login uses the password {}:",
        demo::DEMO_PASSWORD
    );
    for line in logins {
        println!("  {line}");
    }
}

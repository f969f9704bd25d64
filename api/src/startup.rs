//! Building and running the server: storage, secrets, first admin, routes and middleware.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, Service};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpMessage, HttpServer};
use anyhow::Context;
use chrono::Utc;
use minqing_protocol::Role;
use tracing_actix_web::{RequestId, TracingLogger};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

use crate::auth::password::hash_password;
use crate::auth::tokens::random_secret;
use crate::auth::{ActorCache, Limiters, TokenKeys};
use crate::config::Config;
use crate::db::models::{enum_text, UserRow};
use crate::db::{new_id, settings, users, Db};
use crate::domain::checkin::CheckinRules;
use crate::domain::people::Phone;
use crate::http::{self, middleware, ApiDoc, AppState};
use crate::media::store;
use crate::telemetry::RedactedSpans;
use crate::villages::BoundaryCache;

pub struct Application {
    port: u16,
    server: Server,
    db: Db,
    /// Said once on the console when the first admin was created with a generated password.
    pub first_admin_notice: Option<String>,
}

impl Application {
    /// Opens and migrates the database, prepares secrets and the first admin, binds the port.
    pub fn build(config: Config) -> anyhow::Result<Self> {
        let db = Db::connect_waiting(&config.database_url, config.db_pool_size, config.db_wait)?;
        db.migrate()?;
        crate::db::compliance::keep_daily_counts_in(&mut db.conn()?, config.timezone)?;
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("creating the data directory {}", config.data_dir.display())
        })?;
        let secret = jwt_secret(&db, &config)?;
        let first_admin_notice = ensure_admin(&db, &config)?;
        crate::scoring::seed_default_schemes(&mut db.conn()?, chrono::Utc::now())?;
        crate::villages::give_villages_codes(&mut db.conn()?)?;
        let listener =
            TcpListener::bind(&config.bind).with_context(|| format!("binding {}", config.bind))?;
        let port = listener.local_addr()?.port();
        let state = web::Data::new(AppState {
            db: db.clone(),
            keys: TokenKeys::from_secret(secret.as_bytes(), config.access_ttl_secs),
            limiters: Limiters::default(),
            actors: ActorCache::new(db.backend() == crate::db::Backend::Postgres),
            rules: CheckinRules {
                timezone: config.timezone,
                photo_required_kinds: config.photo_required_kinds.clone(),
                ..CheckinRules::default()
            },
            boundaries: BoundaryCache::default(),
            photos: store::open(&config).with_context(|| "opening the photo store")?,
            photo_slots: tokio::sync::Semaphore::new(2),
            metrics: crate::metrics::Metrics::new(),
            config: Arc::new(config),
        });
        tokio::spawn(crate::jobs::run(state.clone()));
        let server = HttpServer::new(move || {
            let (app, mut doc) = App::new()
                .into_utoipa_app()
                .openapi(ApiDoc::openapi())
                .service(utoipa_actix_web::scope("/api/v1").configure(http::routes))
                .split_for_parts();
            http::contract::complete(&mut doc);
            let known_routes = web::Data::new(middleware::KnownRoutes::new(&doc));
            app.app_data(state.clone())
                .app_data(web::Data::new(doc))
                .app_data(known_routes)
                .app_data(http::query_config())
                .configure(crate::pages::routes)
                .configure(|cfg| crate::metrics::routes(cfg, &state.config.metrics))
                .default_service(web::to(middleware::no_route))
                .wrap(from_fn(middleware::body_deadline))
                .wrap(from_fn(middleware::security_headers))
                .wrap_fn(|req, srv| {
                    let request_id = req.extensions().get::<RequestId>().copied();
                    let response = srv.call(req);
                    async move {
                        let mut response = response.await?;
                        if let Some(id) =
                            request_id.and_then(|id| HeaderValue::from_str(&id.to_string()).ok())
                        {
                            response
                                .headers_mut()
                                .insert(HeaderName::from_static("x-request-id"), id);
                        }
                        Ok(response)
                    }
                })
                .wrap(from_fn(middleware::access_log))
                .wrap(from_fn(crate::metrics::record))
                .wrap(TracingLogger::<RedactedSpans>::new())
        })
        .listen(listener)?
        // In-flight requests get this long to finish on SIGTERM/SIGINT.
        .shutdown_timeout(20)
        .run();
        Ok(Application {
            port,
            server,
            db,
            first_admin_notice,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The configured secret, or one generated on first start and kept in the database so
/// tokens stay valid across restarts.
fn jwt_secret(db: &Db, config: &Config) -> anyhow::Result<String> {
    if let Some(secret) = &config.jwt_secret {
        anyhow::ensure!(
            secret.len() >= 32,
            "MINQING_JWT_SECRET must be at least 32 characters"
        );
        return Ok(secret.clone());
    }
    let mut conn = db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
    settings::get_or_insert(&mut conn, "jwt_secret", &random_secret())
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Creates the first admin when there is none: from MINQING_ADMIN_PHONE/PASSWORD, or with a
/// generated password that is returned to be printed once.
fn ensure_admin(db: &Db, config: &Config) -> anyhow::Result<Option<String>> {
    let mut conn = db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
    if users::any_admin(&mut conn).map_err(|e| anyhow::anyhow!("{e}"))? {
        return Ok(None);
    }
    let phone = Phone::parse(config.admin_phone.as_deref().unwrap_or("13800000000"))
        .map_err(|e| anyhow::anyhow!("MINQING_ADMIN_PHONE {}", e.message))?;
    let (password, generated) = match &config.admin_password {
        Some(p) => (p.clone(), false),
        None => (random_secret()[..16].to_string(), true),
    };
    crate::domain::people::check_password(&password, Some(phone.as_str()))
        .map_err(|e| anyhow::anyhow!("MINQING_ADMIN_PASSWORD {}", e.message))?;
    create_admin(db, phone.as_str(), "管理员", &password)?;
    Ok(generated.then(|| {
        format!(
            "Created the first admin: phone {} password {password}\nThis password is shown only once; change it after signing in.",
            phone.as_str()
        )
    }))
}

/// Creates an admin directly (CLI and first start): admins belong to no org unit.
pub fn create_admin(db: &Db, phone: &str, name: &str, password: &str) -> anyhow::Result<String> {
    let phone = Phone::parse(phone).map_err(|e| anyhow::anyhow!("phone {}", e.message))?;
    crate::domain::people::check_password(password, Some(phone.as_str()))
        .map_err(|e| anyhow::anyhow!("password {}", e.message))?;
    let now = Utc::now().naive_utc();
    let row = UserRow {
        id: new_id(),
        phone: phone.into_string(),
        name: name.to_string(),
        password_hash: hash_password(password).map_err(|e| anyhow::anyhow!("{e}"))?,
        role: enum_text(&Role::Admin),
        org_unit_id: None,
        cadre_category: None,
        staff_type: None,
        rater_group: None,
        active: true,
        created_at: now,
        updated_at: now,
    };
    let mut conn = db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
    users::insert(&mut conn, &row).map_err(|e| anyhow::anyhow!("creating the user: {e}"))?;
    Ok(row.id)
}

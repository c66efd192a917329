//! Builds the application: pool, migrations, routes, middleware, and the bound server.

use std::net::TcpListener;

use anyhow::Context;
use std::sync::Arc;
use std::time::Instant;

use actix_web::dev::{Server, Service};
use actix_web::middleware::ErrorHandlers;
use actix_web::{web, App, HttpServer};
use futures_util::FutureExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::config::Settings;
use crate::db::{self, Pool};
use crate::delivery::mail::Mailer;
use crate::delivery::worker::Worker;
use crate::delivery::Wakeup;
use crate::error::{self, ApiError};
use crate::http::idempotency;
use crate::http::routing;
use crate::openapi;
use crate::state::AppState;
use crate::{
    api_keys, code_tables, contacts, health, interaction_log, logged_segments, merge, saved_criteria,
    segments, templates,
};

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    pool: Pool,
    /// The admin key created on a first start with no key at all, to show once.
    pub initial_admin_key: Option<String>,
}

impl Application {
    /// Connects, migrates, and binds `settings.bind` (port 0 picks a free port).
    pub fn build(settings: Settings) -> anyhow::Result<Application> {
        let pool = db::build_pool(&settings.database, settings.pool_size)?;
        let initial_admin_key = {
            let mut conn = pool.get().context("cannot get a database connection")?;
            db::run_migrations(&mut conn)?;
            api_keys::repo::ensure_initial_admin_key(&mut conn, settings.admin_key.is_some())
                .context("cannot create the initial admin key")?
        };
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let port = listener.local_addr().context("the listener has no address")?.port();

        // Each server process drains the delivery outbox on a thread of its own; replicas share
        // the work row by row (see `delivery::worker`).
        let deliveries = Arc::new(Wakeup::default());
        let mailer =
            settings.smtp.as_ref().map(Mailer::from_settings).transpose().map_err(anyhow::Error::msg)?;
        if settings.delivery.enabled {
            Worker::new(pool.clone(), mailer, settings.delivery, deliveries.clone())
                .spawn()
                .context("cannot start the delivery worker")?;
        }
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            admin_key_hash: settings.admin_key.as_deref().map(api_keys::key::hash_key),
            settings: Arc::new(settings.clone()),
            deliveries,
        });
        let openapi = openapi::document();
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(state.settings.body_limit)
                        .error_handler(error::json_error),
                )
                .app_data(web::PayloadConfig::new(state.settings.body_limit))
                .app_data(web::QueryConfig::default().error_handler(error::query_error))
                .app_data(web::PathConfig::default().error_handler(error::path_error))
                .configure(routes)
                .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", openapi.clone()))
                .default_service(web::to(|| async {
                    Err::<String, _>(ApiError::NotFound("no such route".into()))
                }))
                .wrap(ErrorHandlers::new().default_handler(error::render_framework_error))
                .wrap_fn(|req, srv| {
                    let started = Instant::now();
                    let method = req.method().clone();
                    let path = req.path().to_owned();
                    srv.call(req).map(move |res| {
                        if let Ok(res) = &res {
                            tracing::info!(
                                %method, %path, status = res.status().as_u16(),
                                elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
                                "request"
                            );
                        }
                        res
                    })
                })
        })
        .listen(listener)
        .context("cannot start the server")?;
        if let Some(workers) = settings.workers {
            server = server.workers(workers);
        }
        Ok(Application { port, server: server.run(), pool, initial_admin_key })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Every route of the service.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(routing::resource("/healthz").get(health::healthz))
        .service(routing::resource("/readyz").get(health::readyz))
        .service(routing::resource("/docs").get(|| async {
            actix_web::HttpResponse::Found()
                .insert_header((actix_web::http::header::LOCATION, "/docs/"))
                .finish()
        }))
        .service(
            web::scope("/v1")
                .wrap(actix_web::middleware::from_fn(idempotency::replay_or_record))
                .configure(api_keys::routes)
                .configure(contacts::routes)
                .configure(code_tables::routes)
                .configure(templates::routes)
                .configure(segments::routes)
                .configure(saved_criteria::routes)
                .configure(logged_segments::routes)
                .configure(interaction_log::routes)
                .configure(merge::routes),
        );
}

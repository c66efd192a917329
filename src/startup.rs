//! Builds the application: pool, migrations, routes, middleware, and the bound server.

use std::net::TcpListener;

use anyhow::Context;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Condition, ErrorHandlers};
use actix_web::{web, App, HttpServer};
use utoipa_swagger_ui::SwaggerUi;

use crate::api_keys::cache::KeyCache;
use crate::config::Settings;
use crate::db::{self, Pool};
use crate::delivery::mail::Mailer;
use crate::delivery::worker::Worker;
use crate::delivery::Wakeup;
use crate::error::{self, ApiError};
use crate::http::cors::cors;
use crate::http::rate_limit::{self, RateLimiter};
use crate::http::{idempotency, requests, routing, urls};
use crate::openapi;
use crate::state::AppState;
use crate::{
    api_keys, auth, code_tables, contacts, health, interaction_log, logged_segments, merge, metrics,
    saved_criteria, segments, templates,
};

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    pool: Pool,
    /// This process's delivery worker and its wakeup, to stop it after the server at shutdown.
    deliveries: Arc<Wakeup>,
    delivery_worker: Option<JoinHandle<()>>,
    shutdown_grace: Duration,
    /// The admin key created on a first start with no key at all, to show once.
    pub initial_admin_key: Option<String>,
}

impl Application {
    /// Connects, migrates, and binds `settings.bind` (port 0 picks a free port).
    pub fn build(settings: Settings) -> anyhow::Result<Application> {
        let pool = db::build_pool(
            &settings.database,
            settings.pool_size,
            settings.statement_timeout,
            settings.pool_timeout,
        )?;
        let initial_admin_key = {
            // Migrations on a connection of their own: the pool's have a statement timeout.
            let mut conn = db::connect(&settings.database)?;
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
        let delivery_worker = if settings.delivery.enabled {
            let worker = Worker::new(pool.clone(), mailer, settings.delivery, deliveries.clone());
            Some(worker.spawn().context("cannot start the delivery worker")?)
        } else {
            None
        };
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            admin_key_hash: settings.admin_key.as_deref().map(api_keys::key::hash_key),
            settings: Arc::new(settings.clone()),
            deliveries: deliveries.clone(),
            rate_limiter: settings.rate_limit.map(RateLimiter::new),
            api_keys: KeyCache::new(settings.api_key_cache_ttl),
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
                .wrap(from_fn(urls::refuse_nul))
                .wrap(ErrorHandlers::new().default_handler(error::render_framework_error))
                // Outside the error handlers, so that errors get CORS headers; inside the
                // request middleware, so that preflights are logged and counted too.
                .wrap(Condition::new(
                    !state.settings.cors_origins.is_empty(),
                    cors(&state.settings.cors_origins),
                ))
                .wrap(from_fn(requests::observe))
        })
        // SIGTERM (and SIGINT) stop accepting and let in-flight requests finish this long.
        .shutdown_timeout(settings.shutdown_grace.as_secs())
        // actix's default (512 shared by the workers) let hundreds of requests wait on the pool
        // inside threads: a third of the throughput and a p99 of half a second under load.
        .worker_max_blocking_threads(settings.blocking_threads)
        .listen(listener)
        .context("cannot start the server")?;
        if let Some(workers) = settings.workers {
            server = server.workers(workers);
        }
        Ok(Application {
            port,
            server: server.run(),
            pool,
            deliveries,
            delivery_worker,
            shutdown_grace: settings.shutdown_grace,
            initial_admin_key,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Serves until a signal stops the server, then lets the delivery worker finish its batch
    /// within the grace period (what it has not recorded by then is sent again after a restart).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.deliveries.stop();
        if let Some(worker) = self.delivery_worker {
            let deadline = Instant::now() + self.shutdown_grace;
            while !worker.is_finished() && Instant::now() < deadline {
                actix_web::rt::time::sleep(Duration::from_millis(20)).await;
            }
            if !worker.is_finished() {
                tracing::warn!("the delivery batch did not finish within SHUTDOWN_GRACE_SECS");
            }
        }
        served
    }
}

/// Every route of the service.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(routing::resource("/healthz").get(health::healthz))
        .service(routing::resource("/metrics").get(metrics::scrape_metrics))
        .service(routing::resource("/readyz").get(health::readyz))
        .service(routing::resource("/docs").get(|| async {
            actix_web::HttpResponse::Found()
                .insert_header((actix_web::http::header::LOCATION, "/docs/"))
                .finish()
        }))
        .service(
            web::scope("/v1")
                .wrap(from_fn(idempotency::replay_or_record))
                // Before the body is read or an answer remembered: an unknown key is 401 first.
                .wrap(from_fn(auth::authenticate))
                // Outermost: a refused request is not remembered as an answer, and a flood of
                // unknown keys is throttled before each is looked up.
                .wrap(from_fn(rate_limit::throttle))
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

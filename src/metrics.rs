//! Prometheus metrics: what the service counts and times while it runs (requests by route and
//! status, database pool waits, delivery failures, criteria actions and logs), plus what is read
//! when `/metrics` is scraped (the pool's connections, the outbox's depth).
//!
//! One registry per process: the counters describe the process, which is what Prometheus
//! scrapes, whatever number of `Application`s a test starts in it.

use std::sync::LazyLock;
use std::time::Duration;

use actix_web::{web, HttpResponse};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::auth::{Admin, Caller};
use crate::db;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

/// Latency buckets in seconds: from a cached read to a log of a million lines.
const LATENCY_BUCKETS: &[f64] =
    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0];

/// Every metric of the process.
pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub pool_wait: HistogramVec,
    pub deliveries: IntCounterVec,
    pub criteria_actions: HistogramVec,
    pub segment_logs: HistogramVec,
    pool_connections: IntGaugeVec,
    outbox_depth: IntGaugeVec,
}

/// The process's metrics.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    // Names, help texts and labels are constants: a bad one is a programming error that the
    // first use panics on (every test that makes a request), not a runtime condition.
    #[allow(clippy::expect_used)]
    fn new() -> Metrics {
        let registry = Registry::new();
        let opts = |name: &str, help: &str| Opts::new(name, help);
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let metric = IntCounterVec::new(opts(name, help), labels).expect("a valid counter");
            registry.register(Box::new(metric.clone())).expect("a metric registered once");
            metric
        };
        let gauge = |name: &str, help: &str, labels: &[&str]| {
            let metric = IntGaugeVec::new(opts(name, help), labels).expect("a valid gauge");
            registry.register(Box::new(metric.clone())).expect("a metric registered once");
            metric
        };
        let histogram = |name: &str, help: &str, labels: &[&str]| {
            let opts = HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec());
            let metric = HistogramVec::new(opts, labels).expect("a valid histogram");
            registry.register(Box::new(metric.clone())).expect("a metric registered once");
            metric
        };
        Metrics {
            http_requests: counter(
                "http_requests_total",
                "Requests answered, by method, route pattern and status.",
                &["method", "route", "status"],
            ),
            http_duration: histogram(
                "http_request_duration_seconds",
                "Time from a request's arrival to its response head, by method and route pattern.",
                &["method", "route"],
            ),
            pool_wait: histogram(
                "db_pool_wait_seconds",
                "Time spent waiting for a pooled database connection, by outcome (ok, timeout).",
                &["outcome"],
            ),
            deliveries: counter(
                "deliveries_total",
                "Delivery attempts, by channel (email, letter) and outcome (sent, retry, failed).",
                &["channel", "outcome"],
            ),
            criteria_actions: histogram(
                "criteria_action_duration_seconds",
                "Time to apply a criteria action to a segment, by action (add, remove, refine, refresh).",
                &["action"],
            ),
            segment_logs: histogram(
                "segment_log_duration_seconds",
                "Time to log a segment (or to refuse it), by whether it delivers (true, false).",
                &["deliver"],
            ),
            pool_connections: gauge(
                "db_pool_connections",
                "Pooled database connections, by state (in_use, idle), when scraped.",
                &["state"],
            ),
            outbox_depth: gauge(
                "delivery_outbox_depth",
                "Deliveries in the outbox, by state (due: pending; failed: waiting for a resend), when scraped.",
                &["state"],
            ),
            registry,
        }
    }

    /// Records how long a pooled connection took to get.
    pub fn observe_pool_wait(&self, waited: Duration, ok: bool) {
        self.pool_wait.with_label_values(&[if ok { "ok" } else { "timeout" }]).observe(waited.as_secs_f64());
    }
}

/// The metrics in Prometheus text format (admin key): counters and histograms of this process,
/// and the pool and outbox as they are now.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses(
        (status = 200, description = "Prometheus text exposition format 0.0.4", body = String, content_type = "text/plain; version=0.0.4"),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key is not an admin key", body = Problem, content_type = "application/problem+json")))]
pub async fn scrape_metrics(_caller: Caller<Admin>, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let pool = state.pool.state();
    let metrics = &*METRICS;
    metrics.pool_connections.with_label_values(&["idle"]).set(i64::from(pool.idle_connections));
    metrics
        .pool_connections
        .with_label_values(&["in_use"])
        .set(i64::from(pool.connections.saturating_sub(pool.idle_connections)));
    let depth = db::run(&state.pool, crate::delivery::outbox::depth).await?;
    metrics.outbox_depth.with_label_values(&["due"]).set(depth.due);
    metrics.outbox_depth.with_label_values(&["failed"]).set(depth.failed);
    let mut text = Vec::new();
    TextEncoder::new().encode(&metrics.registry.gather(), &mut text).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().content_type(prometheus::TEXT_FORMAT).body(text))
}

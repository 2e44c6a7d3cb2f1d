//! What an operator sees: logs (text or JSON, on standard error), one log line per partner
//! request with its request id, protocol, wire endpoint, partner and the protocol's own result
//! code, Prometheus metrics at `GET /metrics` and readiness at `GET /readyz`.
//!
//! The front ends mark each answer with a [`boxoffice_core::telemetry::Outcome`]; the
//! [`record`] middleware here logs and counts it. The metrics recorder is process-global
//! (several servers in one process, as in tests, share it).

use crate::App;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use boxoffice_core::telemetry::{names, Outcome};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

/// The request-id header (set when the client sent none, echoed in the answer).
pub const REQUEST_ID: &str = "x-request-id";

/// Upper bounds (seconds) of the request latency histogram's buckets.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Log line format (`--log-format text|json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines (coloured only when written to a terminal).
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The default log filter when `RUST_LOG` is not set.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn";

/// Installs the process's log subscriber writing to standard error: `RUST_LOG` (default
/// [`DEFAULT_FILTER`]) filters. Returns false when a subscriber was already installed.
pub fn init_logging(format: LogFormat) -> bool {
    use std::io::IsTerminal;
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| DEFAULT_FILTER.into());
    let ansi = std::io::stderr().is_terminal();
    init_logging_with(format, &filter, std::io::stderr, ansi)
}

/// Installs a log subscriber with a given filter and writer (tests capture the logs with it).
pub fn init_logging_with<W>(format: LogFormat, filter: &str, writer: W, ansi: bool) -> bool
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => builder.with_ansi(ansi).try_init().is_ok(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .try_init()
            .is_ok(),
    }
}

/// The process's metrics recorder, installed on first use.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        // Buckets are only refused when empty.
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(names::REQUEST_SECONDS.to_string()),
                &LATENCY_BUCKETS,
            )
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics stays empty");
        }
        describe();
        handle
    })
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        names::REQUESTS,
        "Partner requests by protocol, wire endpoint and the protocol's result code"
    );
    describe_histogram!(
        names::REQUEST_SECONDS,
        Unit::Seconds,
        "Partner request latency by protocol and wire endpoint"
    );
    describe_counter!(names::AUTH_FAILURES, "Failed authentications by protocol");
    describe_counter!(
        names::HOLDS,
        "Holds made (cinema holds, scenic orders booked)"
    );
    describe_counter!(names::SALES, "Sales (cinema bookings, scenic orders paid)");
    describe_counter!(names::REFUNDS, "Refunds (cinema bookings, scenic orders)");
    describe_gauge!(names::OUTBOX_DEPTH, "Callback outbox items pending");
    describe_gauge!(
        names::OUTBOX_OLDEST_DUE_SECONDS,
        Unit::Seconds,
        "Age of the oldest due callback outbox item"
    );
    describe_gauge!(names::DB_CONNECTIONS, "Database connections open");
    describe_gauge!(names::DB_CONNECTIONS_BUSY, "Database connections in use");
    describe_gauge!(
        names::DB_CONNECTIONS_MAX,
        "Database connections the pool may open"
    );
}

/// The request id of a request (set by the request-id layer before this runs).
fn request_id(req: &Request) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// Logs and counts every request: partner requests (marked with an [`Outcome`]) at debug
/// level, failed authentications at info; other requests (health, metrics, unknown paths) at
/// debug without an outcome. Only the path is logged, never the query string or the body
/// (they carry signatures, passwords and card numbers).
pub async fn record(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(&req);
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let response = next.run(req).await;
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    let Some(o) = response.extensions().get::<Outcome>() else {
        tracing::debug!(request_id = %id, %method, %path, status, "request");
        return response;
    };
    let (protocol, partner) = (o.protocol.as_str(), o.partner.as_deref().unwrap_or(""));
    if o.auth_failure {
        tracing::info!(request_id = %id, protocol, endpoint = %o.endpoint, partner, code = %o.code, status, "authentication failed");
        metrics::counter!(names::AUTH_FAILURES, "protocol" => protocol).increment(1);
    } else {
        tracing::debug!(request_id = %id, protocol, endpoint = %o.endpoint, partner, code = %o.code, status, ms = seconds * 1000.0, "request");
    }
    let endpoint = o.endpoint.clone();
    metrics::counter!(names::REQUESTS, "protocol" => protocol, "endpoint" => endpoint.clone(), "code" => o.code.clone())
        .increment(1);
    metrics::histogram!(names::REQUEST_SECONDS, "protocol" => protocol, "endpoint" => endpoint)
        .record(seconds);
    response
}

/// `GET /metrics`: Prometheus text. The gauges (outbox, connections) are read now.
pub async fn metrics_page(State(app): State<App>) -> Response {
    let pool = app.store.pool_use();
    metrics::gauge!(names::DB_CONNECTIONS).set(pool.open as f64);
    metrics::gauge!(names::DB_CONNECTIONS_BUSY).set(pool.busy as f64);
    metrics::gauge!(names::DB_CONNECTIONS_MAX).set(pool.max as f64);
    let now = app.service.now_ms();
    match app.store.outbox_backlog(now).await {
        Ok(b) => {
            metrics::gauge!(names::OUTBOX_DEPTH).set(b.pending as f64);
            let age = b
                .oldest_due_created_ms
                .map_or(0.0, |t| (now - t).max(0) as f64 / 1000.0);
            metrics::gauge!(names::OUTBOX_OLDEST_DUE_SECONDS).set(age);
        }
        Err(e) => tracing::warn!(error = %e, "outbox backlog unreadable for /metrics"),
    }
    let handle = prometheus();
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        handle.render(),
    )
        .into_response()
}

/// `GET /readyz`: 200 `ready` when the database answers, else 503 with a short reason.
pub async fn readyz(State(app): State<App>) -> Response {
    match app.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Body::from(format!("not ready: {e}")),
            )
                .into_response()
        }
    }
}

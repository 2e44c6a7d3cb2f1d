//! The Yueke cloud (凤凰佳影电影云) partner API front end: `/route?api=ykse.partner.*`.
//!
//! Every API is found by its wire name in [`route::APIS`] and the `dispatch` match of `route.rs`.
//! Decisions where the document is silent are in `docs/protocols/yueke.md`.

pub mod aes;
mod base;
mod cache;
pub mod codes;
mod goods;
mod lock;
mod order;
pub mod route;
mod schedule;
pub mod sign;
pub mod wire;

use axum::routing::any;
use axum::Router;
use boxoffice_core::catalog::Partner;
use boxoffice_core::Boxoffice;
use std::sync::Arc;
use tower_http::compression::CompressionLayer;

/// The protocol name under which channels' credentials (channelCode, secret) are stored.
pub const PROTOCOL: &str = "yueke";

/// Front-end options.
#[derive(Debug, Clone)]
pub struct YuekeOptions {
    /// Accepted distance between a request's `timestamp` and the server clock (default 10 minutes).
    pub timestamp_window_ms: i64,
    /// How long a seat lock lasts (default 15 minutes).
    pub lock_lifetime: chrono::Duration,
    /// Most seats in one lock (default 6).
    pub max_seats_per_lock: usize,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// A reversal is possible from this long after the first confirmation request (default 12 minutes).
    pub reverse_after: chrono::Duration,
}

impl Default for YuekeOptions {
    fn default() -> Self {
        YuekeOptions {
            timestamp_window_ms: 600_000,
            lock_lifetime: chrono::Duration::minutes(15),
            max_seats_per_lock: 6,
            max_body_bytes: 256 * 1024,
            reverse_after: chrono::Duration::minutes(12),
        }
    }
}

/// Shared state of the Yueke front end.
pub struct Yueke {
    svc: Arc<Boxoffice>,
    opts: YuekeOptions,
    answers: cache::ResponseCache,
}

/// An authenticated call.
pub(crate) struct Caller {
    /// The channel.
    pub partner: Arc<Partner>,
    /// The ticket type whose prices the channel sells at (credential option `ticket_type`).
    pub ticket_type: Option<String>,
    /// The `api` parameter.
    pub api: String,
    /// The `v` parameter.
    pub v: String,
}

impl Yueke {
    /// Builds the front end over a service.
    pub fn new(svc: Arc<Boxoffice>, opts: YuekeOptions) -> Arc<Yueke> {
        Arc::new(Yueke {
            svc,
            opts,
            answers: cache::ResponseCache::default(),
        })
    }
}

/// `/route` (GET with a query string, POST with a form body; gzip both ways: responses through
/// the compression layer, request bodies in the handler so every failure stays an envelope).
pub fn router(yk: Arc<Yueke>) -> Router {
    Router::new()
        .route("/route", any(route::route))
        .layer(CompressionLayer::new())
        .with_state(yk)
}

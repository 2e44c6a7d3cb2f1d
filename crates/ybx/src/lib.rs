//! The 游宝星 e-ticket trading interface front end: `GET /ybx/<Page>.aspx` and
//! `POST /ybx/POST/<Page>.aspx`, UTF-8 XML answers `<root><retcode/><retmsg/><sign/>…</root>`.
//!
//! Every page is found by its wire name in [`route::PAGES`] and the `dispatch` match of
//! `route.rs`. Decisions where the document is silent are in `docs/protocols/youbaoxing.md`.

mod agent;
mod booking;
pub mod codes;
pub mod crypto;
mod products;
mod query;
pub mod route;
mod xml;

pub use agent::Agent;

use axum::routing::any;
use axum::Router;
use boxoffice_core::Boxoffice;
use std::sync::Arc;

/// The protocol name under which agents' credentials (user, data key, options) are stored.
pub const PROTOCOL: &str = "ybx";

/// Front-end options.
#[derive(Debug, Clone)]
pub struct YbxOptions {
    /// `v4`: GetProductsInventory reports 0 for unlimited and -1 for sold out; `v3`: the reverse.
    pub inventory_v3: bool,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// How long agents' runtime settings may be served from memory (default 1 second).
    pub agent_cache_ms: i64,
    /// Most days between the first and last date of an inventory or time-segment query.
    pub max_query_days: i64,
}

impl Default for YbxOptions {
    fn default() -> Self {
        YbxOptions {
            inventory_v3: false,
            max_body_bytes: 64 * 1024,
            agent_cache_ms: 1000,
            max_query_days: 7,
        }
    }
}

/// Shared state of the 游宝星 front end.
pub struct Ybx {
    svc: Arc<Boxoffice>,
    opts: YbxOptions,
    agents: agent::AgentCache,
}

impl Ybx {
    /// A front end over the service.
    pub fn new(svc: Arc<Boxoffice>, opts: YbxOptions) -> Arc<Ybx> {
        Arc::new(Ybx {
            svc,
            opts,
            agents: agent::AgentCache::default(),
        })
    }
    /// The service.
    pub fn service(&self) -> &Arc<Boxoffice> {
        &self.svc
    }
}

/// The routes: `/ybx/<Page>.aspx` and `/ybx/POST/<Page>.aspx` (any case).
pub fn router(ybx: Arc<Ybx>) -> Router {
    Router::new()
        .route("/ybx/{*page}", any(route::page))
        .route("/YBX/{*page}", any(route::page))
        .route("/Ybx/{*page}", any(route::page))
        .with_state(ybx)
}

//! The operator HTTP API (`/ops/*`, bearer token): the supplier's own actions that partner
//! flows depend on. Documented in `docs/operator-api.md`.

use axum::Router;
use boxoffice_core::Boxoffice;
use boxoffice_ybx::Ybx;
use std::sync::Arc;

/// The operator routes, guarded by `token`.
pub fn router(_svc: Arc<Boxoffice>, _ybx: Arc<Ybx>, _token: String) -> Router {
    Router::new()
}

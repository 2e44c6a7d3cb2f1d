//! The common path of every Vista request: after the handler answered, reads the protocol's
//! result code (`Result` of RESTTicketing/RESTBooking, `ResultCode` of RefundBooking,
//! `ResponseCode` of RESTData; the HTTP status of OData, whose errors are HTTP statuses) and
//! marks the answer with its [`Outcome`] for the request log and the metrics.

use crate::Vista;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use boxoffice_core::telemetry::{code_text, peek_json, Outcome, Protocol};
use std::sync::Arc;

/// The middleware (see the module documentation).
pub(crate) async fn mark(State(vista): State<Arc<Vista>>, req: Request, next: Next) -> Response {
    let endpoint = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    // OData resources by entity set (`Cinemas('0200')` counts as `Cinemas`: keys would make
    // the label set unbounded).
    let odata_resource = endpoint.ends_with("/{resource}").then(|| {
        let path = req.uri().path();
        path.split_once('(')
            .map_or(path, |(set, _)| set)
            .to_string()
    });
    let partner = vista.caller(req.headers()).map(|c| c.partner.code.clone());
    let response = next.run(req).await;
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let code = ["Result", "ResponseCode", "ResultCode"]
        .iter()
        .find_map(|k| peek_json(&bytes, &[k]).and_then(|v| code_text(&v)))
        .unwrap_or_else(|| parts.status.as_u16().to_string());
    // OData resources by name once found (a bounded set); unknown ones under the template.
    let endpoint = match odata_resource {
        Some(path) if parts.status != StatusCode::NOT_FOUND => path,
        _ => endpoint,
    };
    let auth_failure = parts.status == StatusCode::UNAUTHORIZED;
    parts.extensions.insert(
        Outcome::new(Protocol::Vista, endpoint, code)
            .partner(partner)
            .auth_failed(auth_failure),
    );
    Response::from_parts(parts, Body::from(bytes))
}

//! Why an operator action did nothing, and how the HTTP API answers it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use boxoffice_core::store::StoreError;

/// A refused or failed operator action. Nothing was changed.
#[derive(Debug)]
pub enum OpError {
    /// The request is malformed (HTTP 400).
    BadRequest(String),
    /// The agent, order, ticket or route is unknown (HTTP 404).
    NotFound(String),
    /// The action does not fit the current state: wrong order or ticket state, insufficient
    /// balance (HTTP 409).
    Conflict(String),
    /// Missing or wrong bearer token (HTTP 401).
    Unauthorized,
    /// The route exists but not with this method (HTTP 405).
    MethodNotAllowed,
    /// The database failed (HTTP 500; the message names no SQL).
    Storage(StoreError),
}

impl OpError {
    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        match self {
            OpError::BadRequest(_) => StatusCode::BAD_REQUEST,
            OpError::NotFound(_) => StatusCode::NOT_FOUND,
            OpError::Conflict(_) => StatusCode::CONFLICT,
            OpError::Unauthorized => StatusCode::UNAUTHORIZED,
            OpError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            OpError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A 400 answer.
    pub fn bad(msg: impl Into<String>) -> OpError {
        OpError::BadRequest(msg.into())
    }

    /// A 404 answer.
    pub fn not_found(msg: impl Into<String>) -> OpError {
        OpError::NotFound(msg.into())
    }

    /// A 409 answer.
    pub fn conflict(msg: impl Into<String>) -> OpError {
        OpError::Conflict(msg.into())
    }
}

impl std::fmt::Display for OpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpError::BadRequest(m) | OpError::NotFound(m) | OpError::Conflict(m) => f.write_str(m),
            OpError::Unauthorized => f.write_str("missing or wrong bearer token"),
            OpError::MethodNotAllowed => f.write_str("method not allowed on this path"),
            OpError::Storage(_) => f.write_str("storage failure"),
        }
    }
}

impl std::error::Error for OpError {}

impl From<StoreError> for OpError {
    fn from(e: StoreError) -> Self {
        OpError::Storage(e)
    }
}

impl IntoResponse for OpError {
    fn into_response(self) -> Response {
        if let OpError::Storage(e) = &self {
            tracing::error!(error = %e, "operator action failed");
        }
        let status = self.status();
        let mut resp = (
            status,
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}

//! OData errors and their JSON rendering.

/// An error raised while resolving or evaluating an OData request.
///
/// The message text imitates WCF Data Services so that clients that log or
/// display it see familiar wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ODataError {
    /// The resource (entity set, function, key) does not exist → HTTP 404.
    #[error("{0}")]
    NotFound(String),
    /// The request is malformed (bad query option, unknown property, type error) → HTTP 400.
    #[error("{0}")]
    BadRequest(String),
}

impl ODataError {
    /// The HTTP status code to answer with (404 or 400).
    pub fn status(&self) -> u16 {
        match self {
            ODataError::NotFound(_) => 404,
            ODataError::BadRequest(_) => 400,
        }
    }

    /// The human-readable message (the `odata.error.message.value`).
    pub fn message(&self) -> &str {
        match self {
            ODataError::NotFound(m) | ODataError::BadRequest(m) => m,
        }
    }

    /// The complete JSON error body for this error (see [`error_json`]).
    pub fn to_json(&self) -> String {
        error_json(self.message())
    }
}

/// The WCF error for an unknown URL segment (entity set, function, wrong casing):
/// `Resource not found for the segment 'cinemas'.` (HTTP 404).
pub fn resource_not_found(segment: &str) -> ODataError {
    ODataError::NotFound(format!("Resource not found for the segment '{segment}'."))
}

/// Renders an OData v3 JSON error body:
/// `{"odata.error":{"code":"","message":{"lang":"en-US","value":"..."}}}`.
pub fn error_json(message: &str) -> String {
    let v = serde_json::json!({
        "odata.error": {
            "code": "",
            "message": { "lang": "en-US", "value": message }
        }
    });
    v.to_string()
}

pub(crate) fn bad(msg: impl Into<String>) -> ODataError {
    ODataError::BadRequest(msg.into())
}

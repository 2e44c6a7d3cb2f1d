//! OData v3 (WCF Data Services, "JSON light") query processing for the Vista Connect
//! `OData.svc` service.
//!
//! The web adapter builds full entities in memory; this crate parses the query string
//! ([`Query::parse`]), filters/sorts/pages them ([`apply`]), projects and renders the JSON
//! body ([`render_collection`]), and produces the service document ([`service_document`]),
//! `$metadata` ([`metadata_xml`]) and error bodies ([`error_json`]).
//!
//! Typical use:
//!
//! ```
//! # use boxoffice_odata::*;
//! # fn demo(model: &Model, entities: Vec<Entity>) -> Result<String, ODataError> {
//! let q = Query::parse("$filter=ID+eq+'1001-14164'&$select=ID,SeatsAvailable")?;
//! let rows = apply(model, "Session", entities, &q)?;
//! render_collection(model, "Session", "http://h/WSVistaWebClient/OData.svc", "Sessions", &rows, &q)
//! # }
//! ```

#![warn(missing_docs)]

mod error;
mod filter;
mod metadata;
mod model;
mod query;
mod render;

pub use error::{error_json, resource_not_found, ODataError};
pub use metadata::metadata_xml;
pub use model::{
    format_datetime, Entity, EntitySet, EntityType, FunctionImport, Model, Navigation, PropKind,
    Property, Value,
};
pub use query::{percent_decode, unquote, OrderKey, Query, SelectItem};
pub use render::{apply, render_collection, render_entity, service_document, validate};

/// A resource-path segment after `OData.svc/`, e.g. `Sessions`, `Sessions()`, `Cinemas('0200')`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The entity set or function name (case-sensitive, parentheses removed).
    pub name: String,
    /// The key inside the parentheses with quotes stripped (`Cinemas('0200')` → `0200`,
    /// also `Cinemas(ID='0200')`); `None` for no or empty parentheses.
    pub key: Option<String>,
}

/// Splits a (percent-decoded) path segment into name and optional key.
/// `Sessions()` ≡ `Sessions`. A malformed segment (`Cinemas(`) is a 404 for that segment.
pub fn parse_segment(segment: &str) -> Result<Segment, ODataError> {
    let Some(open) = segment.find('(') else {
        return Ok(Segment {
            name: segment.to_string(),
            key: None,
        });
    };
    let name = &segment[..open];
    let Some(inner) = segment[open + 1..].strip_suffix(')') else {
        return Err(resource_not_found(segment));
    };
    if name.is_empty() {
        return Err(resource_not_found(segment));
    }
    let inner = inner.trim();
    let key = if inner.is_empty() {
        None
    } else {
        // Named key form `ID='0200'` (but not an `=` inside a quoted literal).
        let value = match inner.split_once('=') {
            Some((k, v)) if !k.contains('\'') => v.trim(),
            _ => inner,
        };
        Some(unquote(value))
    };
    Ok(Segment {
        name: name.to_string(),
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments() {
        assert_eq!(
            parse_segment("Sessions()").ok(),
            Some(Segment {
                name: "Sessions".into(),
                key: None
            })
        );
        assert_eq!(
            parse_segment("Cinemas('0200')").ok().and_then(|s| s.key),
            Some("0200".into())
        );
        assert_eq!(
            parse_segment("Cinemas(ID='it''s')")
                .ok()
                .and_then(|s| s.key),
            Some("it's".into())
        );
        assert_eq!(parse_segment("Cinemas(").map_err(|e| e.status()), Err(404));
    }
}

//! The Vista Connect front end (WSVistaWebClient): the OData service, RESTData (ticket types,
//! seat plan), RESTTicketing (AddTickets, GetOrder, CancelOrder, StartExternalPayment,
//! CompleteOrder, QueryOrderBookingStatus) and RESTBooking (GetSingleBooking, RefundBooking,
//! MarkBookingAsCollected), wire-faithful to the Vista Connect China third-party documents.
//!
//! Every endpoint is found by its wire name: search for `AddTickets`, `seat-plan`, … in this
//! crate. Decisions where the documents are silent are in `docs/protocols/vista.md`.

mod booking;
pub mod codes;
mod data;
mod odata_entities;
mod odata_model;
mod odata_svc;
mod outcome;
mod ticketing;
pub mod wire;

use axum::body::Body as HttpBody;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use boxoffice_core::catalog::{Catalog, Credential, Partner};
use boxoffice_core::Boxoffice;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The protocol name under which partners' Vista credentials (connect API tokens) are stored.
pub const PROTOCOL: &str = "vista";

/// Front-end options.
#[derive(Debug, Clone)]
pub struct VistaOptions {
    /// Partner code that requests without a `connectapitoken` act as (`None`: refuse them).
    pub anonymous_partner: Option<String>,
    /// Largest request body accepted; larger bodies get the endpoint's invalid-request code.
    pub max_body_bytes: usize,
}

impl Default for VistaOptions {
    fn default() -> Self {
        VistaOptions {
            anonymous_partner: None,
            max_body_bytes: 64 * 1024,
        }
    }
}

/// Shared state of the Vista front end.
pub struct Vista {
    svc: Arc<Boxoffice>,
    opts: VistaOptions,
    seat_plans: Mutex<HashMap<i64, (u64, bytes::Bytes)>>,
}

/// A caller authenticated by its connect API token, with its security profile.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub partner: Arc<Partner>,
    pub allow_price_override: bool,
    pub allow_refunds: bool,
    pub allow_external_payments: bool,
}

impl Caller {
    fn new(partner: Arc<Partner>, cred: Option<&Credential>) -> Caller {
        let flag =
            |name: &str, default: bool| cred.map(|c| c.flag(name, default)).unwrap_or(default);
        Caller {
            allow_price_override: flag("allow_price_override", false),
            allow_refunds: flag("allow_refunds", true),
            allow_external_payments: flag("allow_external_payments", true),
            partner,
        }
    }
}

impl Vista {
    /// Builds the front end over a service.
    pub fn new(svc: Arc<Boxoffice>, opts: VistaOptions) -> Arc<Vista> {
        Arc::new(Vista {
            svc,
            opts,
            seat_plans: Mutex::new(HashMap::new()),
        })
    }

    /// The caller named by the `connectapitoken` header (header names are case-insensitive).
    pub(crate) fn caller(&self, headers: &HeaderMap) -> Option<Caller> {
        let catalog = self.svc.catalog();
        match headers
            .get("connectapitoken")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
        {
            Some(token) if !token.is_empty() => {
                let (partner, cred) = partner_by_token(&catalog, token)?;
                Some(Caller::new(partner, Some(&cred)))
            }
            _ => {
                let code = self.opts.anonymous_partner.as_deref()?;
                let partner = catalog.partners.iter().find(|p| p.code == code)?.clone();
                let cred = partner.credential(PROTOCOL).cloned();
                Some(Caller::new(partner, cred.as_ref()))
            }
        }
    }

    /// The `UserSessionId` of a request body that names only an order.
    pub(crate) async fn order_key(&self, body: HttpBody) -> Option<String> {
        self.read_body(body)
            .await?
            .required_str("UserSessionId")
            .ok()
    }

    pub(crate) async fn read_body(&self, body: HttpBody) -> Option<wire::Body> {
        let bytes = axum::body::to_bytes(body, self.opts.max_body_bytes)
            .await
            .ok()?;
        wire::Body::parse(&bytes)
    }
}

/// The partner whose Vista credential key (the connect API token) equals `token`.
///
/// The token is a secret, so it is not looked up by hash-map key (`Catalog::partner_by_credential`):
/// a map lookup ends with an ordinary, early-exit string comparison against the stored key,
/// and how long that takes depends on how many leading bytes of a guess are right. Instead
/// every Vista credential is compared with `subtle::ConstantTimeEq`, without stopping at a
/// match, so the time taken depends only on the number of partners and the lengths of the
/// tokens (`ct_eq` on slices of different lengths answers at once: a token's length is not
/// treated as secret).
fn partner_by_token(catalog: &Catalog, token: &str) -> Option<(Arc<Partner>, Credential)> {
    let mut found = None;
    for partner in &catalog.partners {
        for cred in partner
            .credentials
            .iter()
            .filter(|c| c.protocol == PROTOCOL)
        {
            let equal: bool = cred.key.as_bytes().ct_eq(token.as_bytes()).into();
            if equal && found.is_none() {
                found = Some((partner.clone(), cred.clone()));
            }
        }
    }
    found
}

/// REST refusal of a missing or unknown token: HTTP 401 with `{}`.
pub(crate) fn unauthorized() -> Response {
    wire::bytes_response(StatusCode::UNAUTHORIZED, bytes::Bytes::from_static(b"{}"))
}

/// The routes, under their canonical casing (see [`canonical_path`]).
pub fn router(vista: Arc<Vista>) -> Router {
    Router::new()
        .route(
            "/WSVistaWebClient/OData.svc",
            get(odata_svc::service_document),
        )
        .route(
            "/WSVistaWebClient/OData.svc/",
            get(odata_svc::service_document),
        )
        .route(
            "/WSVistaWebClient/OData.svc/{resource}",
            get(odata_svc::resource),
        )
        .route(
            "/WSVistaWebClient/RESTData.svc/cinemas/{cinema}/sessions/{session}/tickets",
            get(data::get_tickets_for_session),
        )
        .route(
            "/WSVistaWebClient/RESTData.svc/cinemas/{cinema}/sessions/{session}/seat-plan",
            get(data::get_session_seat_plan),
        )
        .route(
            "/WSVistaWebClient/RESTTicketing.svc/order/tickets",
            post(ticketing::add_tickets),
        )
        .route(
            "/WSVistaWebClient/RESTTicketing.svc/order",
            post(ticketing::get_order),
        )
        .route(
            "/WSVistaWebClient/RESTTicketing.svc/order/cancel",
            post(ticketing::cancel_order),
        )
        .route(
            "/WSVistaWebClient/RESTTicketing.svc/order/startexternalpayment",
            post(ticketing::start_external_payment),
        )
        .route(
            "/WSVistaWebClient/RESTTicketing.svc/order/payment",
            post(ticketing::complete_order),
        )
        .route(
            "/WSVistaWebClient/RESTTicketing.svc/order/query-booking-status",
            post(ticketing::query_order_booking_status),
        )
        .route(
            "/WSVistaWebClient/RESTBooking.svc/booking",
            post(booking::get_single_booking),
        )
        .route(
            "/WSVistaWebClient/RESTBooking.svc/booking/refund",
            post(booking::refund_booking),
        )
        .route(
            "/WSVistaWebClient/RESTBooking.svc/booking/collect",
            post(booking::mark_booking_as_collected),
        )
        .route(
            "/WSVistaWebClient/RESTBooking.svc/booking/markcollected",
            post(booking::mark_booking_as_collected),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            vista.clone(),
            outcome::mark,
        ))
        .with_state(vista)
}

const SERVICES: &[&str] = &[
    "OData.svc",
    "RESTData.svc",
    "RESTTicketing.svc",
    "RESTBooking.svc",
    "RESTLoyalty.svc",
    "LoyaltyService.asmx",
];

/// Rewrites a request path to the canonical casing the routes use, or `None` when the path is
/// not Vista's. `/WSVistaWebClient/<Service>.svc` and REST template segments match
/// case-insensitively (as IIS/WCF do); OData resource segments stay case-sensitive
/// (`/OData.svc/cinemas` is a 404), except that `Sessions()` means `Sessions`.
pub fn canonical_path(path: &str) -> Option<String> {
    let mut parts = path.trim_start_matches('/').split('/');
    if !parts.next()?.eq_ignore_ascii_case("WSVistaWebClient") {
        return None;
    }
    let mut out = String::from("/WSVistaWebClient");
    let Some(service) = parts.next() else {
        return Some(out);
    };
    let service = SERVICES
        .iter()
        .find(|s| s.eq_ignore_ascii_case(service))
        .copied()
        .unwrap_or(service);
    out.push('/');
    out.push_str(service);
    let rest: Vec<&str> = parts.collect();
    if service == "OData.svc" {
        for (i, seg) in rest.iter().enumerate() {
            out.push('/');
            if i == 0 {
                out.push_str(seg.strip_suffix("()").unwrap_or(seg));
            } else {
                out.push_str(seg);
            }
        }
        return Some(out);
    }
    let data = service == "RESTData.svc";
    for (i, seg) in rest.iter().enumerate() {
        out.push('/');
        // RESTData path parameters (cinema and session ids) keep their case.
        if data && (i == 1 || i == 3) {
            out.push_str(seg);
        } else {
            out.push_str(&seg.to_ascii_lowercase());
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::{canonical_path, partner_by_token, PROTOCOL};
    use boxoffice_core::catalog::{Catalog, Credential, Partner};

    fn partner(code: &str, protocol: &str, key: &str) -> Partner {
        Partner {
            id: 0,
            code: code.into(),
            name: code.into(),
            channel: "RSP".into(),
            venues: vec![],
            credentials: vec![Credential {
                protocol: protocol.into(),
                key: key.into(),
                secret: None,
                options: Default::default(),
            }],
            accounts: Default::default(),
        }
    }

    #[test]
    fn tokens_match_exactly_and_only_vista_credentials() {
        let catalog = Catalog::new(
            vec![],
            vec![],
            vec![
                partner("a", PROTOCOL, "TOKEN-A"),
                partner("b", PROTOCOL, "TOKEN-B"),
                partner("y", "yueke", "TOKEN-Y"),
            ],
        );
        let code = |t: &str| partner_by_token(&catalog, t).map(|(p, _)| p.code.clone());
        assert_eq!(code("TOKEN-A").as_deref(), Some("a"));
        assert_eq!(code("TOKEN-B").as_deref(), Some("b"));
        for miss in ["TOKEN-", "TOKEN-AB", "token-a", "TOKEN-Y", ""] {
            assert_eq!(code(miss), None, "{miss:?}");
        }
    }

    #[test]
    fn paths_are_canonicalised() {
        assert_eq!(
            canonical_path("/WSVistaWebClient/RestTicketing.svc/Order/Tickets").unwrap(),
            "/WSVistaWebClient/RESTTicketing.svc/order/tickets"
        );
        assert_eq!(
            canonical_path("/wsvistawebclient/Odata.svc/Sessions()").unwrap(),
            "/WSVistaWebClient/OData.svc/Sessions"
        );
        assert_eq!(
            canonical_path("/WSVistaWebClient/OData.svc/cinemas").unwrap(),
            "/WSVistaWebClient/OData.svc/cinemas"
        );
        assert_eq!(
            canonical_path("/WSVistaWebClient/restdata.svc/Cinemas/0200/Sessions/AbC/Seat-Plan")
                .unwrap(),
            "/WSVistaWebClient/RESTData.svc/cinemas/0200/sessions/AbC/seat-plan"
        );
        assert_eq!(canonical_path("/route"), None);
    }
}

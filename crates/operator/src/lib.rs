//! The operator HTTP API (`/ops/*`, bearer token): the supplier's own actions that partner
//! flows depend on. Documented in `docs/operator-api.md`.
//!
//! Every route answers JSON; every failure is `{"error": "…"}` with 400 (malformed request),
//! 401 (missing or wrong token), 404 (unknown agent, order, ticket or path), 405 (method), 409
//! (state or balance does not allow it) or 500 (storage). The actions themselves live in
//! [`actions`], shared with the `boxoffice` command line.

pub mod actions;
pub mod error;

pub use error::OpError;

use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, MethodRouter};
use axum::{Json, Router};
use boxoffice_core::Boxoffice;
use boxoffice_ybx::Ybx;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// Shared state of the operator routes.
#[derive(Clone)]
struct Ops {
    svc: Arc<Boxoffice>,
    ybx: Arc<Ybx>,
    token: Arc<str>,
}

type Answer<T> = Result<Json<T>, OpError>;

/// The operator routes, guarded by `token` (`Authorization: Bearer <token>`).
pub fn router(svc: Arc<Boxoffice>, ybx: Arc<Ybx>, token: String) -> Router {
    let state = Ops {
        svc,
        ybx,
        token: token.into(),
    };
    Router::new()
        .route(
            "/ops/ybx/agents/{user}",
            m(get(get_agent).patch(patch_agent)),
        )
        .route("/ops/ybx/agents/{user}/key", m(post(rotate_key)))
        .route("/ops/ybx/agents/{user}/accounts", m(get(get_accounts)))
        .route(
            "/ops/ybx/agents/{user}/accounts/{account}",
            m(post(recharge)),
        )
        .route("/ops/ybx/agents/{user}/ledger", m(get(get_ledger)))
        .route("/ops/ybx/orders/{number}", m(get(get_order)))
        .route(
            "/ops/ybx/orders/{number}/counter-sale",
            m(post(counter_sale)),
        )
        .route(
            "/ops/ybx/orders/{number}/{action}",
            m(post(order_payment_action)),
        )
        .route("/ops/ybx/outbox", m(get(get_outbox)))
        .route("/ops/messages", m(get(get_messages)))
        .route("/ops/tickets/{code}", m(get(get_ticket)))
        .route("/ops/tickets/{code}/{action}", m(post(ticket_action)))
        .route("/ops/ybx/tickets/{code}", m(get(get_ticket)))
        .route("/ops/ybx/tickets/{code}/{action}", m(post(ticket_action)))
        .route("/ops", any(unknown))
        .route("/ops/", any(unknown))
        .route("/ops/{*rest}", any(unknown))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), auth))
        .with_state(state)
}

/// A method router answering 405 as JSON for the methods it lacks.
fn m(r: MethodRouter<Ops>) -> MethodRouter<Ops> {
    r.fallback(|| async { OpError::MethodNotAllowed })
}

async fn unknown() -> OpError {
    OpError::not_found("no such operator endpoint")
}

/// Byte comparison whose time does not depend on where the inputs differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

async fn auth(State(s): State<Ops>, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_string())
        });
    match given {
        Some(t) if same(t.as_bytes(), s.token.as_bytes()) => next.run(req).await,
        _ => OpError::Unauthorized.into_response(),
    }
}

fn path<T>(p: Result<Path<T>, PathRejection>) -> Result<T, OpError> {
    p.map(|Path(v)| v)
        .map_err(|e| OpError::bad(format!("bad path: {e}")))
}

fn query(
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<HashMap<String, String>, OpError> {
    q.map(|Query(v)| v)
        .map_err(|e| OpError::bad(format!("bad query string: {e}")))
}

/// Parses a JSON body; an empty body is `{}`.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, OpError> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(text).map_err(|e| OpError::bad(format!("bad JSON body: {e}")))
}

async fn get_agent(
    State(s): State<Ops>,
    user: Result<Path<String>, PathRejection>,
) -> Answer<actions::AgentView> {
    let user = path(user)?;
    Ok(Json(actions::show_agent(&s.svc, &s.ybx, &user).await?))
}

async fn patch_agent(
    State(s): State<Ops>,
    user: Result<Path<String>, PathRejection>,
    bytes: Bytes,
) -> Answer<actions::AgentView> {
    let user = path(user)?;
    let patch: actions::AgentPatch = body(&bytes)?;
    Ok(Json(
        actions::update_agent(&s.svc, &s.ybx, &user, &patch).await?,
    ))
}

async fn rotate_key(
    State(s): State<Ops>,
    user: Result<Path<String>, PathRejection>,
) -> Answer<actions::RotatedKey> {
    let user = path(user)?;
    Ok(Json(actions::rotate_key(&s.svc, &s.ybx, &user).await?))
}

async fn get_accounts(
    State(s): State<Ops>,
    user: Result<Path<String>, PathRejection>,
) -> Answer<actions::AccountsView> {
    let user = path(user)?;
    Ok(Json(actions::accounts(&s.svc, &s.ybx, &user).await?))
}

/// `POST …/accounts/{account}` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Move {
    amount: i64,
    #[serde(default)]
    note: String,
}

async fn recharge(
    State(s): State<Ops>,
    p: Result<Path<(String, String)>, PathRejection>,
    bytes: Bytes,
) -> Answer<actions::Recharged> {
    let (user, account) = path(p)?;
    actions::account_name(&account)?;
    let mv: Move = body(&bytes)?;
    Ok(Json(
        actions::recharge(&s.svc, &s.ybx, &user, &account, mv.amount, &mv.note).await?,
    ))
}

async fn get_ledger(
    State(s): State<Ops>,
    user: Result<Path<String>, PathRejection>,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Answer<actions::LedgerView> {
    let user = path(user)?;
    let q = query(q)?;
    Ok(Json(
        actions::ledger(&s.svc, &s.ybx, &user, q.get("account").map(String::as_str)).await?,
    ))
}

async fn get_order(
    State(s): State<Ops>,
    number: Result<Path<String>, PathRejection>,
) -> Answer<actions::OrderView> {
    let number = path(number)?;
    Ok(Json(actions::order(&s.svc, &number).await?))
}

async fn counter_sale(
    State(s): State<Ops>,
    number: Result<Path<String>, PathRejection>,
) -> Answer<actions::OrderView> {
    let number = path(number)?;
    Ok(Json(actions::counter_sale(&s.svc, &number).await?))
}

/// The body of a manual receipt.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Receipt {
    #[serde(default)]
    channel: Option<String>,
}

async fn order_payment_action(
    State(s): State<Ops>,
    p: Result<Path<(String, String)>, PathRejection>,
    bytes: Bytes,
) -> Answer<actions::OrderView> {
    let (number, action) = path(p)?;
    let action = actions::PaymentAction::parse(&action)
        .ok_or_else(|| OpError::not_found("no such operator endpoint"))?;
    let receipt: Receipt = if bytes.is_empty() {
        Receipt::default()
    } else {
        body(&bytes)?
    };
    Ok(Json(
        actions::payment_action(&s.ybx, &number, action, receipt.channel.as_deref()).await?,
    ))
}

async fn get_ticket(
    State(s): State<Ops>,
    code: Result<Path<String>, PathRejection>,
) -> Answer<actions::TicketOutcome> {
    let code = path(code)?;
    Ok(Json(actions::ticket(&s.svc, &code).await?))
}

async fn ticket_action(
    State(s): State<Ops>,
    p: Result<Path<(String, String)>, PathRejection>,
    bytes: Bytes,
) -> Answer<actions::TicketOutcome> {
    let (code, action) = path(p)?;
    let out = match action.as_str() {
        "print" => actions::print_ticket(&s.svc, &code).await?,
        "check" => {
            let passage: actions::Passage = body(&bytes)?;
            actions::check_ticket(&s.svc, &code, &passage).await?
        }
        "refund" => actions::refund_ticket(&s.svc, &code).await?,
        _ => return Err(OpError::not_found("no such operator endpoint")),
    };
    Ok(Json(out))
}

async fn get_messages(
    State(s): State<Ops>,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Answer<Vec<boxoffice_core::scenic::StoredMessage>> {
    let q = query(q)?;
    Ok(Json(
        actions::messages(
            &s.svc,
            q.get("phone").map(String::as_str),
            q.get("order").map(String::as_str),
        )
        .await?,
    ))
}

async fn get_outbox(
    State(s): State<Ops>,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Answer<Vec<boxoffice_core::scenic::OutboxRow>> {
    let q = query(q)?;
    Ok(Json(
        actions::outbox(
            &s.svc,
            &s.ybx,
            q.get("order").map(String::as_str),
            q.get("user").map(String::as_str),
        )
        .await?,
    ))
}

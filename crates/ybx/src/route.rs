//! `/ybx/<Page>.aspx` and `/ybx/POST/<Page>.aspx`: parses the parameters (query string and form
//! body, names case-insensitive, first occurrence wins), authenticates the agent in the
//! documented order (catalogue §2.8) and dispatches on the page name.

use crate::agent::Agent;
use crate::booking::Account;
use crate::codes;
use crate::xml::Answer;
use crate::{booking, callbacks, epay, payment, products, query, tickets, Ybx};
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use boxoffice_core::catalog::{Venue, VenueKind};
use boxoffice_core::store::StoreError;
use boxoffice_core::telemetry::{Outcome, Protocol};
use std::sync::Arc;

/// Every page this front end serves, by wire name.
pub const PAGES: &[&str] = &[
    "GetProducts.aspx",
    "GetProductsInventory.aspx",
    "QueryPruductStatus.aspx",
    "GetProviderConfig.aspx",
    "GetAgentParameters.aspx",
    "GetServiceItem.aspx",
    "GetTimeSegment.aspx",
    "OrderProducts.aspx",
    "OrderAndPayWithYDJ.aspx",
    "OrderAndPayWithFK.aspx",
    "CancelOrder.aspx",
    "QueryOrder.aspx",
    "QueryOrdersList.aspx",
    "QueryOrderPageListCount.aspx",
    "GetProductsIdentity.aspx",
    "ReadyToPay.aspx",
    "UseAccountToPay.aspx",
    "UseAccountToPayByPwd.aspx",
    "ReadyToPayByFK.aspx",
    "UseAccountToPayByFK.aspx",
    "UseAccountToPayByFKWithPwd.aspx",
    "UseFKAccountToPayByPwd.aspx",
    "GetVerificationCode.aspx",
    "ChangePayPwd.aspx",
    "GetPayChannel.aspx",
    "BeginToPay.aspx",
    "ActivateTicket.aspx",
    "GetTicketList.aspx",
    "GetTicketContext.aspx",
    "ReMakeTicket.aspx",
    "SetAgentParameters.aspx",
];

/// Payment-platform notification endpoints (4.2.22): called by the payment gateway, not by
/// agents, so not authenticated with COMMON.
pub const NOTIFICATION_PAGES: &[&str] = &[
    "notify_url.aspx",
    "notify_Payback_url.aspx",
    "WeChatNotify.aspx",
];

/// The parameters of a request: names lower-cased, values URL-decoded, first occurrence kept.
#[derive(Debug, Default, Clone)]
pub struct Params {
    list: Vec<(String, String)>,
}

impl Params {
    /// Parses query string and body (the body's parameters first, so they win).
    pub fn parse(query: &str, body: &str) -> Params {
        let mut list: Vec<(String, String)> = Vec::new();
        for raw in [body, query] {
            for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
                let k = k.trim().to_ascii_lowercase();
                if k.is_empty() || list.iter().any(|(n, _)| *n == k) {
                    continue;
                }
                list.push((k, v.into_owned()));
            }
        }
        Params { list }
    }
    /// A parameter's value (`name` in lower case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.list
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// A parameter's trimmed value, empty when absent.
    pub fn text(&self, name: &str) -> &str {
        self.get(name).map(str::trim).unwrap_or("")
    }
    /// Whether a parameter is present and not blank.
    pub fn has(&self, name: &str) -> bool {
        !self.text(name).is_empty()
    }
    /// Whether any parameter's name or value holds a character XML 1.0 cannot carry.
    pub fn has_forbidden(&self) -> bool {
        self.list
            .iter()
            .any(|(k, v)| crate::xml::has_forbidden(k) || crate::xml::has_forbidden(v))
    }
    fn pairs(&self, repair_plus: bool) -> Vec<(String, String)> {
        self.list
            .iter()
            .map(|(k, v)| {
                let v = if repair_plus {
                    v.replace(' ', "+")
                } else {
                    v.clone()
                };
                (k.clone(), v)
            })
            .collect()
    }
}

/// Which codes a page answers the authentication failures with.
#[derive(Debug, Clone, Copy)]
pub struct AuthCodes {
    /// Missing `user`, `password` or `sign`.
    pub missing: (i64, &'static str),
    /// Unknown user.
    pub unknown: (i64, &'static str),
    /// Disabled account.
    pub disabled: (i64, &'static str),
}

/// Pages without the -19xx/-22xx codes.
pub const AUTH_PLAIN: AuthCodes = AuthCodes {
    missing: (-1, codes::BAD_CREDENTIALS),
    unknown: (-1, codes::NO_ACCOUNT),
    disabled: (-1, codes::NO_ACCOUNT),
};

/// Pages with `-1901 参数错误。`, `-2201 当前用户不存在。`, `-2202 当前账户已禁用。`.
pub const AUTH_A: AuthCodes = AuthCodes {
    missing: (-1901, codes::PARAM_ERROR_DOT),
    unknown: (-2201, codes::USER_UNKNOWN_DOT),
    disabled: (-2202, codes::ACCOUNT_DISABLED_DOT),
};

/// GetProviderConfig and GetTimeSegment, whose texts end differently.
pub const AUTH_A_BARE: AuthCodes = AuthCodes {
    missing: (-1901, codes::PARAM_ERROR),
    unknown: (-2201, codes::USER_UNKNOWN_COMMA),
    disabled: (-2202, codes::ACCOUNT_DISABLED),
};

/// SetAgentParameters: `当前用户已禁用。`.
pub const AUTH_SET: AuthCodes = AuthCodes {
    missing: (-1901, codes::PARAM_ERROR),
    unknown: (-2201, codes::USER_UNKNOWN_DOT),
    disabled: (-2202, codes::USER_DISABLED_DOT),
};

/// OrderProducts: `-1501 参数错误` for missing fields.
pub const AUTH_ORDER: AuthCodes = AuthCodes {
    missing: (-1501, codes::PARAM_ERROR),
    unknown: (-1, codes::NO_ACCOUNT),
    disabled: (-1, codes::NO_ACCOUNT),
};

/// How a page answers a parameter it cannot take (here: a character XML 1.0 cannot carry, in
/// any parameter, plain or after decryption). Each page answers with its own documented code:
/// `-1901` as its [A] table spells it, `-1501` on OrderProducts, and on the pages whose tables
/// list only `-1` texts, their documented parameter text where they have one (ours otherwise,
/// listed in `docs/protocols/youbaoxing.md`).
pub fn param_error(page: &str) -> Answer {
    let (code, msg) = match page.trim_end_matches(".aspx") {
        "GetProductsInventory" => (-1, codes::BAD_CHARACTER_ACCESS),
        "ActivateTicket" => (-1, codes::BAD_CHARACTER_ACTIVATE),
        // A page whose table has a parameter error answers missing credentials with it too.
        _ => match auth_codes(page).missing {
            (-1, _) => (-1, codes::BAD_CHARACTER),
            documented => documented,
        },
    };
    Answer::err(code, msg)
}

/// An authenticated request.
pub struct Ctx {
    /// The page (wire name, as in [`PAGES`]).
    pub page: &'static str,
    /// The front end.
    pub ybx: Arc<Ybx>,
    /// The caller.
    pub agent: Agent,
    /// Its supplier (a scenic area).
    pub venue: Arc<Venue>,
    /// Parameters.
    pub params: Params,
    /// Now (ms).
    pub now_ms: i64,
}

impl Ctx {
    /// Decrypts an encrypted field; `Ok(None)` when absent or empty, `Err` with the answer when
    /// it does not decrypt, or with the page's [`param_error`] when the plaintext holds a
    /// character XML 1.0 cannot carry.
    pub fn decrypt(&self, name: &str) -> Result<Option<String>, Answer> {
        let v = self.params.text(name);
        if v.is_empty() {
            return Ok(None);
        }
        let plain = crate::crypto::triple_des_decrypt(v, self.agent.field_key())
            .map_err(|_| Answer::err(-1, codes::UNDECRYPTABLE))?;
        if crate::xml::has_forbidden(&plain) {
            return Err(self.param_error());
        }
        Ok(Some(plain))
    }
    /// This page's answer to a parameter it cannot take ([`param_error`]).
    pub fn param_error(&self) -> Answer {
        param_error(self.page)
    }
    /// The venue-local date-time now.
    pub fn local_now(&self) -> chrono::NaiveDateTime {
        boxoffice_core::clock::local(
            boxoffice_core::clock::from_millis(self.now_ms),
            self.ybx.svc.settings().offset,
        )
    }
    /// Today at the venue (calendar date: scenic days run midnight to midnight).
    pub fn today(&self) -> chrono::NaiveDate {
        self.local_now().date()
    }
}

/// An internal failure as the documented `-1 调用失败，失败原因：…` (no database details).
pub fn failure(e: &StoreError) -> Answer {
    tracing::error!(error = %e, "ybx page failed");
    Answer::err(
        -1,
        format!("{}{}", codes::CALL_FAILED, codes::STORAGE_FAILED),
    )
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "").into_response()
}

/// The page handler behind both routes.
pub async fn page(
    State(ybx): State<Arc<Ybx>>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    body: Body,
) -> Response {
    let name = match path.split_once('/') {
        Some((post, rest)) if post.eq_ignore_ascii_case("post") => rest,
        Some(_) => return not_found(),
        None => path.as_str(),
    };
    if let Some(page) = NOTIFICATION_PAGES
        .iter()
        .find(|p| p.eq_ignore_ascii_case(name))
    {
        let body = match axum::body::to_bytes(body, ybx.opts.max_body_bytes).await {
            Ok(b) => b,
            Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "").into_response(),
        };
        let mut response =
            crate::epay::notification(&ybx, page, query.as_deref().unwrap_or(""), &body).await;
        let outcome = Outcome::new(Protocol::Ybx, *page, response.status().as_u16());
        response.extensions_mut().insert(outcome);
        return response;
    }
    let Some(page) = PAGES.iter().find(|p| p.eq_ignore_ascii_case(name)) else {
        return not_found();
    };
    let auth = auth_codes(page);
    let body = match axum::body::to_bytes(body, ybx.opts.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => return Answer::err(auth.missing.0, auth.missing.1).response(None),
    };
    let body = String::from_utf8_lossy(&body);
    let params = Params::parse(query.as_deref().unwrap_or(""), &body);
    let user = params.text("user").to_string();
    let (answer, key, caller) = handle(ybx, page, auth, params).await;
    let mut response = answer.response(key.as_deref());
    let (partner, auth_failure) = match caller {
        Caller::Partner(code) => (Some(code), false),
        Caller::Refused => (Some(user).filter(|u| !u.is_empty()), true),
        Caller::Unsettled => (Some(user).filter(|u| !u.is_empty()), false),
    };
    let outcome = Outcome::new(Protocol::Ybx, *page, answer.code)
        .partner(partner)
        .auth_failed(auth_failure);
    response.extensions_mut().insert(outcome);
    response
}

fn auth_codes(page: &str) -> AuthCodes {
    match page.trim_end_matches(".aspx") {
        "GetProviderConfig" | "GetAgentParameters" | "GetTimeSegment" => AUTH_A_BARE,
        "OrderProducts" => AUTH_ORDER,
        "CancelOrder"
        | "QueryOrder"
        | "QueryOrdersList"
        | "QueryOrderPageListCount"
        | "OrderAndPayWithYDJ"
        | "OrderAndPayWithFK"
        | "UseAccountToPay"
        | "UseAccountToPayByPwd"
        | "UseAccountToPayByFK"
        | "UseAccountToPayByFKWithPwd"
        | "UseFKAccountToPayByPwd"
        | "ChangePayPwd" => AUTH_A,
        "SetAgentParameters" => AUTH_SET,
        _ => AUTH_PLAIN,
    }
}

/// Who a request turned out to come from, for the request log.
enum Caller {
    /// An authenticated agent's partner (its code).
    Partner(String),
    /// Not authenticated: missing or wrong credentials, unknown or disabled account.
    Refused,
    /// Not decided: the agents could not be read, or the account is not set up for a venue.
    Unsettled,
}

/// Authenticates and runs a page; returns the answer, the key that signs it and who called.
async fn handle(
    ybx: Arc<Ybx>,
    page: &'static str,
    auth: AuthCodes,
    params: Params,
) -> (Answer, Option<String>, Caller) {
    let (user, password, sign) = (
        params.text("user"),
        params.text("password"),
        params.text("sign"),
    );
    if user.is_empty() || password.is_empty() || sign.is_empty() {
        return (
            Answer::err(auth.missing.0, auth.missing.1),
            None,
            Caller::Refused,
        );
    }
    let agent = match ybx
        .agents
        .find(&ybx.svc, user, ybx.opts.agent_cache_ms)
        .await
    {
        Ok(Some(a)) => a,
        Ok(None) => {
            return (
                Answer::err(auth.unknown.0, auth.unknown.1),
                None,
                Caller::Refused,
            )
        }
        Err(e) => return (failure(&e), None, Caller::Unsettled),
    };
    let key = Some(agent.data_key.clone());
    if !agent.enabled {
        return (
            Answer::err(auth.disabled.0, auth.disabled.1),
            key,
            Caller::Refused,
        );
    }
    let password_ok =
        crate::crypto::triple_des_decrypt(password, agent.field_key()).is_ok_and(|p| {
            !agent.login_md5.is_empty()
                && crate::crypto::secret_eq_ignore_ascii_case(p.trim(), &agent.login_md5)
        });
    if !password_ok {
        return (
            Answer::err(-1, codes::BAD_CREDENTIALS),
            key,
            Caller::Refused,
        );
    }
    if !signature_ok(&params, &agent) {
        return (Answer::err(-1, codes::BAD_SIGN), key, Caller::Refused);
    }
    let catalog = ybx.svc.catalog();
    // The one supplier the agent's grant resolves to for 游宝星 (the core's rule).
    let granted: Vec<_> = catalog
        .venues_for(&agent.partner, boxoffice_core::catalog::Protocol::Ybx)
        .collect();
    let venue = match granted.as_slice() {
        [v] => Some(Arc::clone(v)),
        _ => None,
    };
    let Some(venue) = venue else {
        let answer =
            if page.starts_with("GetProviderConfig") || page.starts_with("GetAgentParameters") {
                Answer::err(-2341, codes::PROVIDER_CONFIG_MISSING)
            } else {
                Answer::err(-1, codes::OTHER_ERROR)
            };
        return (answer, key, Caller::Unsettled);
    };
    if venue.kind == VenueKind::Theatre {
        return (Answer::err(-1, codes::THEATER_MODE), key, Caller::Unsettled);
    }
    // Page-specific validation starts (catalogue §2.8 step 8) with what no page can echo.
    if params.has_forbidden() {
        let partner = agent.partner.code.clone();
        return (param_error(page), key, Caller::Partner(partner));
    }
    let cx = Ctx {
        page,
        now_ms: ybx.svc.now_ms(),
        ybx,
        agent,
        venue,
        params,
    };
    let partner = cx.agent.partner.code.clone();
    let answer = dispatch(&cx, page).await;
    (answer, key, Caller::Partner(partner))
}

fn signature_ok(params: &Params, agent: &Agent) -> bool {
    let given = params.text("sign");
    if !params.text("sign_type").is_empty() && !params.text("sign_type").eq_ignore_ascii_case("MD5")
    {
        return false;
    }
    let charset = params.text("input_charset");
    if !charset.is_empty() && !charset.eq_ignore_ascii_case("UTF-8") {
        return false;
    }
    let index = params.text("sign_key_index");
    if !index.is_empty() && index != "1" {
        return false;
    }
    if !agent.sign_strict {
        return true;
    }
    [false, true].into_iter().any(|repair| {
        let pairs = params.pairs(repair);
        let all: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        crate::crypto::verify(&all, &agent.data_key, given)
    })
}

async fn dispatch(cx: &Ctx, page: &str) -> Answer {
    match page {
        "GetProducts.aspx" => products::get_products(cx).await,
        "GetProductsInventory.aspx" => products::get_products_inventory(cx).await,
        "QueryPruductStatus.aspx" => Answer::err(-1, codes::SUSPENDED),
        "GetProviderConfig.aspx" | "GetAgentParameters.aspx" => {
            products::get_provider_config(cx).await
        }
        "GetServiceItem.aspx" => products::get_service_item(cx).await,
        "GetTimeSegment.aspx" => products::get_time_segment(cx).await,
        "OrderProducts.aspx" => booking::order_products(cx).await,
        "OrderAndPayWithYDJ.aspx" => booking::order_and_pay(cx, booking::Account::Deposit).await,
        "OrderAndPayWithFK.aspx" => booking::order_and_pay(cx, booking::Account::Rebate).await,
        "CancelOrder.aspx" => booking::cancel_order(cx).await,
        "QueryOrder.aspx" => query::query_order(cx).await,
        "QueryOrdersList.aspx" => query::query_orders_list(cx, false).await,
        "QueryOrderPageListCount.aspx" => query::query_orders_list(cx, true).await,
        "GetProductsIdentity.aspx" => query::get_products_identity(cx).await,
        "ReadyToPay.aspx" => payment::ready_to_pay(cx, Account::Deposit).await,
        "ReadyToPayByFK.aspx" => payment::ready_to_pay(cx, Account::Rebate).await,
        "UseAccountToPay.aspx" => payment::use_account_by_code(cx, Account::Deposit).await,
        "UseAccountToPayByFK.aspx" => payment::use_account_by_code(cx, Account::Rebate).await,
        "UseAccountToPayByPwd.aspx" => payment::use_account_by_password(cx, Account::Deposit).await,
        "UseAccountToPayByFKWithPwd.aspx" | "UseFKAccountToPayByPwd.aspx" => {
            payment::use_account_by_password(cx, Account::Rebate).await
        }
        "GetVerificationCode.aspx" => payment::get_verification_code(cx).await,
        "ChangePayPwd.aspx" => payment::change_pay_pwd(cx).await,
        "GetPayChannel.aspx" => epay::get_pay_channel(cx).await,
        "BeginToPay.aspx" => epay::begin_to_pay(cx).await,
        "ActivateTicket.aspx" => tickets::activate_ticket(cx).await,
        "GetTicketList.aspx" => tickets::get_ticket_list(cx).await,
        "GetTicketContext.aspx" => tickets::get_ticket_context(cx).await,
        "ReMakeTicket.aspx" => tickets::remake_ticket(cx).await,
        "SetAgentParameters.aspx" => callbacks::set_agent_parameters(cx).await,
        _ => Answer::err(-1, codes::OTHER_ERROR),
    }
}

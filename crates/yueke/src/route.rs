//! `/route`: one endpoint for every API. Parses the common parameters from the query string
//! and/or a form body, authenticates the channel (signature, timestamp window, granted API) and
//! dispatches on `api`.

use crate::codes::{self, SysCode};
use crate::wire::{self, Data};
use crate::{base, goods, lock, order, Caller, Yueke};
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use boxoffice_core::catalog::Partner;
use boxoffice_core::telemetry::{Outcome, Protocol};
use std::sync::Arc;

/// Every API this front end serves, by wire name.
pub const APIS: &[&str] = &[
    "ykse.partner.cinema.getCinemas",
    "ykse.partner.schedule.getSchedules",
    "ykse.partner.seat.getSeats",
    "ykse.partner.seat.getScheduleAreaSeats",
    "ykse.partner.seat.getScheduleSoldSeats",
    "ykse.partner.seat.lockSeats",
    "ykse.partner.seat.releaseSeats",
    "ykse.partner.order.confirmOrder",
    "ykse.partner.order.confirmOrderForMultiPay",
    "ykse.partner.order.getOrderInfo",
    "ykse.partner.order.getTicketInfo",
    "ykse.partner.ticket.printTicket",
    "ykse.partner.ticket.getOrderPrintStatus",
    "ykse.partner.order.refundOrder",
    "ykse.partner.order.reverseOrder",
    "ykse.partner.order.confirmMixOrder",
    "ykse.partner.order.confirmMixOrderForMultiPay",
    "ykse.partner.order.refundMixOrder",
    "ykse.partner.order.reverseMixOrder",
    "ykse.partner.goods.getGoods",
    "ykse.partner.order.confirmGoodsOrder",
    "ykse.partner.order.confirmGoodsOrderForMultiPay",
    "ykse.partner.order.getGoodsOrderInfo",
    "ykse.partner.order.refundGoodsOrder",
];

/// Decodes `a=b&c=d` form text; `keep_plus` keeps a literal `+` instead of reading it as a
/// space (G-SIG-4).
fn decode(raw: &str, keep_plus: bool) -> Vec<(String, String)> {
    let raw = if keep_plus {
        raw.replace('+', "%2B")
    } else {
        raw.to_string()
    };
    form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

struct Params {
    /// Decoded parameters (`+` as space).
    list: Vec<(String, String)>,
    /// The same with `+` kept, for the signature fallback.
    plus_kept: Vec<(String, String)>,
}

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.list
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn verify(p: &[(String, String)], secret: &str, given: &str) -> bool {
    let all: Vec<(&str, &str)> = p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if crate::sign::verify(&all, secret, given) {
        return true;
    }
    // G-SIG-3: a caller may have left empty-valued parameters out of its signature.
    let non_empty: Vec<(&str, &str)> = all.iter().copied().filter(|(_, v)| !v.is_empty()).collect();
    non_empty.len() != all.len() && crate::sign::verify(&non_empty, secret, given)
}

/// Who a request named and who it turned out to be, for the request log.
#[derive(Default)]
struct Seen {
    /// The `channelCode` sent.
    channel: Option<String>,
    /// The partner it authenticated as.
    partner: Option<String>,
}

/// `GET|POST /route`: answers, and marks the answer with its [`Outcome`] for the request log
/// and the metrics.
pub async fn route(
    State(yk): State<Arc<Yueke>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Body,
) -> Response {
    let mut seen = Seen::default();
    let response = answer(&yk, &headers, query, body, &mut seen).await;
    with_outcome(response, seen).await
}

/// System codes that mean the caller could not be authenticated.
const AUTH_FAILURES: [SysCode; 4] = [
    codes::INVALID_CHANNEL_CODE,
    codes::INVALID_SIGN,
    codes::TIMESTAMP_EXPIRED,
    codes::INVALID_AUTHENTICATION,
];

/// Reads `api`, `retCode` and `bizCode` from the head of the answer (our envelope puts them
/// first, so a large `data` is not read) and attaches the outcome.
async fn with_outcome(response: Response, seen: Seen) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let peek = |path: &[&str]| {
        boxoffice_core::telemetry::peek_json(&bytes, path)
            .and_then(|v| boxoffice_core::telemetry::code_text(&v))
    };
    let api = peek(&["api"]).unwrap_or_default();
    let ret = peek(&["retCode"]).unwrap_or_default();
    let auth_failure = AUTH_FAILURES.iter().any(|c| c.code == ret);
    let code = match ret.as_str() {
        "0" => peek(&["data", "bizCode"]).unwrap_or(ret),
        _ => ret,
    };
    let partner = if auth_failure {
        seen.channel
    } else {
        seen.partner
    };
    let endpoint = if APIS.contains(&api.as_str()) {
        api
    } else {
        "(unknown api)".to_string()
    };
    parts.extensions.insert(
        Outcome::new(Protocol::Yueke, endpoint, code)
            .partner(partner)
            .auth_failed(auth_failure),
    );
    Response::from_parts(parts, Body::from(bytes))
}

async fn answer(
    yk: &Yueke,
    headers: &HeaderMap,
    query: Option<String>,
    body: Body,
    seen: &mut Seen,
) -> Response {
    let body = match axum::body::to_bytes(body, yk.opts.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => return wire::system_error("", "", codes::INVALID_VALUE),
    };
    // Gzip request bodies are accepted (§1.7); an encoding that cannot be read is a bad value.
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let body: Vec<u8> = match encoding.as_str() {
        "" | "identity" => body.to_vec(),
        "gzip" | "x-gzip" => {
            let limit = yk.opts.max_body_bytes as u64;
            let mut out = Vec::new();
            let mut reader =
                std::io::Read::take(flate2::read::GzDecoder::new(&body[..]), limit + 1);
            match std::io::Read::read_to_end(&mut reader, &mut out) {
                Ok(n) if (n as u64) <= limit => out,
                _ => return wire::system_error("", "", codes::INVALID_VALUE),
            }
        }
        _ => return wire::system_error("", "", codes::INVALID_VALUE),
    };
    let query = query.unwrap_or_default();
    let body_text = String::from_utf8_lossy(&body);
    let raw = match (query.is_empty(), body_text.trim().is_empty()) {
        (false, false) => format!("{query}&{}", body_text.trim()),
        (true, false) => body_text.trim().to_string(),
        _ => query,
    };
    let params = Params {
        list: decode(&raw, false),
        plus_kept: decode(&raw, true),
    };
    let api = params.get("api").unwrap_or("").to_string();
    let v = params.get("v").unwrap_or("").to_string();
    let fail = |code: SysCode| wire::system_error(&api, &v, code);
    let mut names: Vec<&str> = params.list.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return fail(codes::INVALID_VALUE);
    }
    for required in ["api", "v", "channelCode", "timestamp", "sign"] {
        if params.get(required).is_none_or(|x| x.trim().is_empty()) {
            return fail(codes::PARAMETER_EMPTY);
        }
    }
    if v != "1.0" || !APIS.contains(&api.as_str()) {
        return fail(codes::INVALID_API);
    }
    let catalog = yk.svc.catalog();
    let channel = params.get("channelCode").unwrap_or("");
    seen.channel = Some(channel.to_string());
    let Some(partner) = catalog
        .partner_by_credential(crate::PROTOCOL, channel)
        .cloned()
    else {
        return fail(codes::INVALID_CHANNEL_CODE);
    };
    let Some(cred) = partner.credential(crate::PROTOCOL).cloned() else {
        return fail(codes::INVALID_CHANNEL_CODE);
    };
    let secret = cred.secret.clone().unwrap_or_default();
    let sign = params.get("sign").unwrap_or("");
    let unsigned: Vec<(String, String)> = params
        .list
        .iter()
        .filter(|(k, _)| k != "sign")
        .cloned()
        .collect();
    let unsigned_plus: Vec<(String, String)> = params
        .plus_kept
        .iter()
        .filter(|(k, _)| k != "sign")
        .cloned()
        .collect();
    let (signed_ok, data_text) = if verify(&unsigned, &secret, sign) {
        (true, params.get("data").map(str::to_string))
    } else if raw.contains('+') && verify(&unsigned_plus, &secret, sign) {
        (
            true,
            params
                .plus_kept
                .iter()
                .find(|(k, _)| k == "data")
                .map(|(_, v)| v.clone()),
        )
    } else {
        (false, None)
    };
    if !signed_ok {
        return fail(codes::INVALID_SIGN);
    }
    let ts = params.get("timestamp").unwrap_or("");
    let Some(ts) = ts
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|_| ts.trim().len() == 13)
    else {
        return fail(codes::INVALID_VALUE);
    };
    if (yk.svc.now_ms() - ts).abs() > yk.opts.timestamp_window_ms {
        return fail(codes::TIMESTAMP_EXPIRED);
    }
    if !granted(&cred, &api) {
        return fail(codes::INVALID_AUTHENTICATION);
    }
    let data = match data_text.as_deref().map(str::trim) {
        None | Some("") => Data::default(),
        Some(t) => match serde_json::from_str::<serde_json::Value>(t) {
            Ok(serde_json::Value::Object(m)) => Data(m),
            _ => return fail(codes::INVALID_VALUE),
        },
    };
    let ticket_type = cred
        .options
        .get("ticket_type")
        .and_then(|t| t.as_str())
        .map(str::to_string);
    seen.partner = Some(partner.code.clone());
    let caller = Caller {
        partner,
        ticket_type,
        api: api.clone(),
        v: v.clone(),
    };
    dispatch(yk, &caller, &data).await
}

/// Whether the channel's credential grants an API (`apis` option: names, or `"*"`).
fn granted(cred: &boxoffice_core::catalog::Credential, api: &str) -> bool {
    match cred.options.get("apis").and_then(|a| a.as_array()) {
        None => false,
        Some(list) => list
            .iter()
            .filter_map(|x| x.as_str())
            .any(|x| x == "*" || x == api),
    }
}

async fn dispatch(yk: &Yueke, c: &Caller, data: &Data) -> Response {
    match c.api.as_str() {
        "ykse.partner.cinema.getCinemas" => base::get_cinemas(yk, c).await,
        "ykse.partner.schedule.getSchedules" => base::get_schedules(yk, c, data).await,
        "ykse.partner.seat.getSeats" => base::get_seats(yk, c, data).await,
        "ykse.partner.seat.getScheduleAreaSeats" => {
            base::get_schedule_area_seats(yk, c, data).await
        }
        "ykse.partner.seat.getScheduleSoldSeats" => {
            base::get_schedule_sold_seats(yk, c, data).await
        }
        "ykse.partner.seat.lockSeats" => lock::lock_seats(yk, c, data).await,
        "ykse.partner.seat.releaseSeats" => lock::release_seats(yk, c, data).await,
        "ykse.partner.order.confirmOrder" => order::confirm_order(yk, c, data).await,
        "ykse.partner.order.confirmOrderForMultiPay" => {
            order::confirm_order_for_multi_pay(yk, c, data).await
        }
        "ykse.partner.order.getOrderInfo" => order::get_order_info(yk, c, data).await,
        "ykse.partner.order.getTicketInfo" => order::get_ticket_info(yk, c, data).await,
        "ykse.partner.ticket.printTicket" => order::print_ticket(yk, c, data).await,
        "ykse.partner.ticket.getOrderPrintStatus" => {
            order::get_order_print_status(yk, c, data).await
        }
        "ykse.partner.order.refundOrder" => order::refund_order(yk, c, data).await,
        "ykse.partner.order.reverseOrder" => order::reverse_order(yk, c, data).await,
        "ykse.partner.order.confirmMixOrder" => order::confirm_mix_order(yk, c, data).await,
        "ykse.partner.order.confirmMixOrderForMultiPay" => {
            order::confirm_mix_order_for_multi_pay(yk, c, data).await
        }
        "ykse.partner.order.refundMixOrder" => order::refund_mix_order(yk, c, data).await,
        "ykse.partner.order.reverseMixOrder" => order::reverse_mix_order(yk, c, data).await,
        "ykse.partner.goods.getGoods" => goods::get_goods(yk, c, data).await,
        "ykse.partner.order.confirmGoodsOrder" => {
            goods::confirm_goods_order(yk, c, data, false).await
        }
        "ykse.partner.order.confirmGoodsOrderForMultiPay" => {
            goods::confirm_goods_order(yk, c, data, true).await
        }
        "ykse.partner.order.getGoodsOrderInfo" => goods::get_goods_order_info(yk, c, data).await,
        "ykse.partner.order.refundGoodsOrder" => goods::refund_goods_order(yk, c, data).await,
        _ => wire::system_error(&c.api, &c.v, codes::INVALID_API),
    }
}

/// Whether a partner may sell at a venue.
pub(crate) fn bound(partner: &Partner, venue_code: &str) -> bool {
    partner.may_sell(venue_code)
}

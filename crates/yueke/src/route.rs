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
use boxoffice_core::catalog::{Credential, Partner};
use boxoffice_core::telemetry::{Outcome, Protocol};
use secrecy::SecretString;
use std::io::Read;
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
    /// Whether the raw text had a literal `+` (the fallback is only tried then).
    has_plus: bool,
}

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.list
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn verify(p: &[(String, String)], secret: &SecretString, given: &str) -> bool {
    let all: Vec<(&str, &str)> = p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if crate::sign::verify(&all, secret, given) {
        return true;
    }
    // G-SIG-3: a caller may have left empty-valued parameters out of its signature.
    let non_empty: Vec<(&str, &str)> = all.iter().copied().filter(|(_, v)| !v.is_empty()).collect();
    non_empty.len() != all.len() && crate::sign::verify(&non_empty, secret, given)
}

/// The `api` and `v` a request carried in its query string (first occurrence; `""` when
/// absent). Read before anything else can fail, so every envelope can echo them.
fn echo_from_query(query: &str) -> (String, String) {
    let list = decode(query, false);
    let first = |name: &str| {
        list.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    (first("api"), first("v"))
}

/// A request body encoding this endpoint reads (`Content-Encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyEncoding {
    /// No header, or `identity`.
    Identity,
    /// `gzip` or `x-gzip` (§1.7).
    Gzip,
    /// `deflate` (zlib), which some HTTP libraries send instead.
    Deflate,
}

impl BodyEncoding {
    /// The encoding named by the headers; `None` for one this endpoint cannot read.
    fn of(headers: &HeaderMap) -> Option<BodyEncoding> {
        let Some(value) = headers.get(header::CONTENT_ENCODING) else {
            return Some(BodyEncoding::Identity);
        };
        match value.to_str().ok()?.trim().to_ascii_lowercase().as_str() {
            "" | "identity" => Some(BodyEncoding::Identity),
            "gzip" | "x-gzip" => Some(BodyEncoding::Gzip),
            "deflate" => Some(BodyEncoding::Deflate),
            _ => None,
        }
    }
}

/// Reads the request body, at most `limit` bytes before and after decoding. An empty body is
/// never decoded, whatever `Content-Encoding` says: some partner libraries send
/// `Content-Encoding: gzip` on every request, bodiless GETs included.
async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Vec<u8>, SysCode> {
    let raw = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| codes::INVALID_VALUE)?;
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    let limit = limit as u64;
    let mut out = Vec::new();
    let read = match BodyEncoding::of(headers).ok_or(codes::INVALID_VALUE)? {
        BodyEncoding::Identity => return Ok(raw.to_vec()),
        BodyEncoding::Gzip => flate2::read::GzDecoder::new(&raw[..])
            .take(limit + 1)
            .read_to_end(&mut out),
        BodyEncoding::Deflate => flate2::read::ZlibDecoder::new(&raw[..])
            .take(limit + 1)
            .read_to_end(&mut out),
    };
    match read {
        Ok(n) if n as u64 <= limit => Ok(out),
        _ => Err(codes::INVALID_VALUE),
    }
}

/// The request's parameters: the query string and the (decoded) form body, merged.
fn params_of(query: &str, body: &[u8]) -> Params {
    let body_text = String::from_utf8_lossy(body);
    let body_text = body_text.trim();
    let raw = match (query.is_empty(), body_text.is_empty()) {
        (false, false) => format!("{query}&{body_text}"),
        (true, false) => body_text.to_string(),
        _ => query.to_string(),
    };
    Params {
        list: decode(&raw, false),
        plus_kept: decode(&raw, true),
        has_plus: raw.contains('+'),
    }
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
    let query = query.unwrap_or_default();
    let (query_api, query_v) = echo_from_query(&query);
    let body = match read_body(headers, body, yk.opts.max_body_bytes).await {
        Ok(b) => b,
        Err(code) => return wire::system_error(&query_api, &query_v, code),
    };
    let params = params_of(&query, &body);
    let api = params.get("api").unwrap_or("").to_string();
    let v = params.get("v").unwrap_or("").to_string();
    seen.channel = params.get("channelCode").map(str::to_string);
    match authenticate(yk, &params, &api, &v) {
        Ok((caller, data)) => {
            seen.partner = Some(caller.partner.code.clone());
            dispatch(yk, &caller, &data).await
        }
        Err(code) => wire::system_error(&api, &v, code),
    }
}

/// The common checks, in the documented order (see `docs/protocols/yueke.md`): the caller
/// and its business parameters, or the system code to answer.
fn authenticate(
    yk: &Yueke,
    params: &Params,
    api: &str,
    v: &str,
) -> Result<(Caller, Data), SysCode> {
    let mut names: Vec<&str> = params.list.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(codes::INVALID_VALUE);
    }
    for required in ["api", "v", "channelCode", "timestamp", "sign"] {
        if params.get(required).is_none_or(|x| x.trim().is_empty()) {
            return Err(codes::PARAMETER_EMPTY);
        }
    }
    if v != "1.0" || !APIS.contains(&api) {
        return Err(codes::INVALID_API);
    }
    let catalog = yk.svc.catalog();
    let channel = params.get("channelCode").unwrap_or("");
    let partner = catalog
        .partner_by_credential(crate::PROTOCOL, channel)
        .cloned()
        .ok_or(codes::INVALID_CHANNEL_CODE)?;
    let cred = partner
        .credential(crate::PROTOCOL)
        .cloned()
        .ok_or(codes::INVALID_CHANNEL_CODE)?;
    // A channel without a signing secret is unusable: never verify against an empty key.
    let secret: SecretString = cred
        .secret
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or(codes::INVALID_CHANNEL_CODE)?
        .into();
    let data_text = signed_data(params, &secret).ok_or(codes::INVALID_SIGN)?;
    check_timestamp(yk, params.get("timestamp").unwrap_or(""))?;
    if !granted(&cred, api) {
        return Err(codes::INVALID_AUTHENTICATION);
    }
    let data = match data_text.as_deref().map(str::trim) {
        None | Some("") => Data::default(),
        Some(t) => match serde_json::from_str::<serde_json::Value>(t) {
            Ok(serde_json::Value::Object(m)) => Data(m),
            _ => return Err(codes::INVALID_VALUE),
        },
    };
    let ticket_type = cred
        .options
        .get("ticket_type")
        .and_then(|t| t.as_str())
        .map(str::to_string);
    let caller = Caller {
        partner,
        ticket_type,
        api: api.to_string(),
        v: v.to_string(),
    };
    Ok((caller, data))
}

/// Verifies `sign`; on success, the `data` text as signed (`Some(None)` when there is none).
/// With `+` read as a space first, then with a literal `+` kept (G-SIG-4).
fn signed_data(params: &Params, secret: &SecretString) -> Option<Option<String>> {
    let sign = params.get("sign").unwrap_or("");
    let unsigned = |list: &[(String, String)]| -> Vec<(String, String)> {
        list.iter().filter(|(k, _)| k != "sign").cloned().collect()
    };
    let data_of = |list: &[(String, String)]| {
        list.iter()
            .find(|(k, _)| k == "data")
            .map(|(_, v)| v.clone())
    };
    if verify(&unsigned(&params.list), secret, sign) {
        return Some(data_of(&params.list));
    }
    if params.has_plus && verify(&unsigned(&params.plus_kept), secret, sign) {
        return Some(data_of(&params.plus_kept));
    }
    None
}

/// `timestamp`: 13 digits (`30006`) within the window of the server clock (`30004`).
fn check_timestamp(yk: &Yueke, ts: &str) -> Result<(), SysCode> {
    let ts = ts.trim();
    let ms = ts
        .parse::<i64>()
        .ok()
        .filter(|_| ts.len() == 13)
        .ok_or(codes::INVALID_VALUE)?;
    if (yk.svc.now_ms() - ms).abs() > yk.opts.timestamp_window_ms {
        return Err(codes::TIMESTAMP_EXPIRED);
    }
    Ok(())
}

/// Whether the channel's credential grants an API (`apis` option: names, or `"*"`).
fn granted(cred: &Credential, api: &str) -> bool {
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

/// Whether a partner may sell at a venue through Yueke (the core's rule: its grant names the
/// venue and Yueke sells the venue's kind).
pub(crate) fn bound(partner: &Partner, venue: &boxoffice_core::catalog::Venue) -> bool {
    partner.may_sell_through(boxoffice_core::catalog::Protocol::Yueke, venue)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_and_v_are_read_from_the_query_string_alone() {
        let (api, v) = echo_from_query("v=1.0&api=ykse.partner.cinema.getCinemas&api=x");
        assert_eq!(
            (api.as_str(), v.as_str()),
            ("ykse.partner.cinema.getCinemas", "1.0")
        );
        assert_eq!(echo_from_query(""), (String::new(), String::new()));
    }

    #[test]
    fn body_encodings_by_header() {
        let of = |value: Option<&str>| {
            let mut h = HeaderMap::new();
            if let Some(v) = value {
                h.insert(header::CONTENT_ENCODING, v.parse().expect("header"));
            }
            BodyEncoding::of(&h)
        };
        assert_eq!(of(None), Some(BodyEncoding::Identity));
        assert_eq!(of(Some(" GZIP ")), Some(BodyEncoding::Gzip));
        assert_eq!(of(Some("x-gzip")), Some(BodyEncoding::Gzip));
        assert_eq!(of(Some("deflate")), Some(BodyEncoding::Deflate));
        assert_eq!(of(Some("identity")), Some(BodyEncoding::Identity));
        assert_eq!(of(Some("br")), None);
    }

    #[test]
    fn query_and_body_parameters_merge() {
        let p = params_of("api=a&v=1.0", b" sign=x+y ");
        assert_eq!(p.get("api"), Some("a"));
        assert_eq!(p.get("sign"), Some("x y"));
        assert!(p.has_plus);
        assert_eq!(params_of("", b"").list, Vec::<(String, String)>::new());
    }
}

//! What a Yueke partner's HTTP library and parser notice on the wire (document 002, §1.6–1.7,
//! §4–6; decisions in `docs/protocols/yueke.md`): compressed requests (a `Content-Encoding:
//! gzip` header on a bodiless GET, gzipped form bodies, undecodable bodies), `api`/`v` echoed
//! on every envelope, every field of the document's result tables present on real success
//! answers of every API served, both spellings where the table and the example differ, and
//! one snapshot of each answer.
//!
//! The expected field lists below are copied from the document's "返回结果" tables (section
//! numbers given), not derived from the server.

mod common;

use base64::Engine;
use boxoffice_yueke::sign::sign;
use chrono::Duration;
use common::*;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// Calling /route
// ---------------------------------------------------------------------------------------------

const CHANNEL: &str = "YKSE";
const SECRET: &str = "12345";
const GET_CINEMAS: &str = "ykse.partner.cinema.getCinemas";
const GET_SEATS: &str = "ykse.partner.seat.getSeats";

/// The common parameters of a call as the demo channel, signed with its secret.
fn signed(api: &str, data: &str, ts: i64) -> Vec<(String, String)> {
    let ts = ts.to_string();
    let p = [
        ("api", api),
        ("v", "1.0"),
        ("channelCode", CHANNEL),
        ("timestamp", ts.as_str()),
        ("data", data),
    ];
    let mut out: Vec<(String, String)> = p
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    out.push(("sign".into(), sign(&p, SECRET)));
    out
}

/// The timestamp of [`COMPRESSED_GET_CINEMAS`]: the harness's start, 2026-11-22 10:00 +08:00.
const COMPRESSED_TS: i64 = 1_795_312_800_000;

/// `gzip.compress(…, mtime=0)` (dynamic Huffman blocks) of the form body
/// `api=ykse.partner.cinema.getCinemas&v=1.0&channelCode=YKSE&timestamp=1795312800000&data=%7B%7D&sign=fa04edacf2a19151ebe38de375fd0459`.
const COMPRESSED_GET_CINEMAS: &str = "H4sIAAAAAAACAx3GsQ7CIBAA0K8pI+FKCWW4xerk2MnxhKMSBUkhTfx7o296VBN+no1lpb0X3qVPhTPJjfvyXxMHglTCP6gUfi3vwHi7rhfRU+bWKVcE64yGcVY/IlAnHOxpsGfR0lYwkpo4kI8jgQMDfGc9B9bWxKAm476+0tFtgwAAAA==";

/// `gzip.compress(b"a" * 300 * 1024, mtime=0)`: 334 bytes that inflate beyond the 256 KiB
/// body limit.
const GZIP_BOMB: &str = "H4sIAAAAAAACA+3BAQ0AAADCoKzvX8IcbkABAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAADAnwG2EmogALAEAA==";

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("base64 fixture")
}

/// A caller of one test server.
struct Yk {
    url: String,
    http: reqwest::Client,
    server: TestServer,
}

impl Yk {
    async fn start() -> Yk {
        let server = TestServer::start().await;
        Yk {
            url: format!("{}/route", server.url),
            http: reqwest::Client::new(),
            server,
        }
    }

    fn now(&self) -> i64 {
        self.server.app.service.now_ms()
    }

    /// Sends a request and reads the envelope: always HTTP 200 JSON (G-HTTP-1).
    async fn send(&self, rb: reqwest::RequestBuilder) -> Value {
        let resp = rb.send().await.expect("request");
        assert_eq!(resp.status().as_u16(), 200, "HTTP status");
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        assert_eq!(ct.as_deref(), Some("application/json;charset=UTF-8"));
        let body = resp.bytes().await.expect("body");
        serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&body)))
    }

    /// A POST with the given query parameters, headers and raw body.
    async fn post(
        &self,
        query: &[(String, String)],
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Value {
        let mut rb = self.http.post(format!("{}?{}", self.url, form(query)));
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        self.send(rb.body(body)).await
    }

    /// A signed GET of `api` with `data`; the envelope, after checking it echoes `api`/`v`.
    async fn call(&self, api: &str, data: &Value) -> Value {
        let q = signed(api, &data.to_string(), self.now());
        let env = self
            .send(self.http.get(format!("{}?{}", self.url, form(&q))))
            .await;
        assert_eq!(env["api"], api, "{env}");
        assert_eq!(env["v"], "1.0", "{env}");
        env
    }

    /// [`Yk::call`] that must succeed with `biz` (`SUCCESS` for most APIs); the envelope,
    /// after checking the envelope fields of §1.6.
    async fn ok_envelope(&self, api: &str, data: &Value, biz: &str) -> Value {
        let env = self.call(api, data).await;
        assert_eq!(env["retCode"], "0", "{env}");
        assert_eq!(env["retMsg"], "success", "{env}");
        assert_eq!(env["data"]["bizCode"], biz, "{env}");
        assert_eq!(
            keys(&env),
            ["api", "data", "retCode", "retMsg", "v"],
            "{env}"
        );
        env
    }

    /// [`Yk::ok_envelope`]'s business object `B`.
    async fn ok(&self, api: &str, data: &Value, biz: &str) -> Value {
        self.ok_envelope(api, data, biz).await["data"].clone()
    }
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
    k.sort();
    k
}

/// A system-error envelope: exactly `api`, `v`, `retCode`, `retMsg` (G-ENV-1).
fn assert_system_error(env: &Value, api: &str, v: &str, code: &str) {
    assert_eq!(
        *env,
        json!({"api": api, "v": v, "retCode": code, "retMsg": sys_msg(code)}),
        "{env}"
    );
}

/// §9.1 messages.
fn sys_msg(code: &str) -> &'static str {
    match code {
        "30003" => "invalid sign",
        "30006" => "invalid value",
        other => panic!("no message listed for {other}"),
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Compressed requests (§1.7)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_bodiless_request_with_content_encoding_gzip_succeeds() {
    let yk = Yk::start().await;
    let q = signed(GET_CINEMAS, "{}", yk.now());
    let url = format!("{}?{}", yk.url, form(&q));
    let requests = [
        (
            "GET, no body",
            yk.http.get(&url).header("content-encoding", "gzip"),
        ),
        (
            "GET, Content-Length: 0",
            yk.http
                .get(&url)
                .header("content-encoding", "gzip")
                .body(""),
        ),
        (
            "POST, empty body",
            yk.http
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("content-encoding", "gzip")
                .body(""),
        ),
        (
            "GET, x-gzip",
            yk.http.get(&url).header("content-encoding", "x-gzip"),
        ),
        // An empty body is never decoded, whatever the header names.
        (
            "GET, br",
            yk.http.get(&url).header("content-encoding", "br"),
        ),
    ];
    for (what, rb) in requests {
        let env = yk.send(rb).await;
        assert_eq!(env["retCode"], "0", "{what}: {env}");
        assert_eq!(env["retMsg"], "success", "{what}: {env}");
        assert_eq!(env["api"], GET_CINEMAS, "{what}");
        assert_eq!(env["v"], "1.0", "{what}");
        assert_eq!(env["data"]["bizCode"], "SUCCESS", "{what}: {env}");
        let list = env["data"]["dataList"].as_array().expect("dataList");
        assert_eq!(list.len(), 3, "{what}: the demo channel's three cinemas");
    }
    yk.server.stop().await;
}

#[tokio::test]
async fn gzipped_form_bodies_are_read() {
    let yk = Yk::start().await;
    let plain = yk.call(GET_CINEMAS, &json!({})).await;
    assert_eq!(plain["data"]["bizCode"], "SUCCESS", "{plain}");

    // A truly compressed body (dynamic Huffman), made by another gzip implementation.
    assert_eq!(
        yk.now(),
        COMPRESSED_TS,
        "the fixture's timestamp is the harness start"
    );
    let gz = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("content-encoding", "gzip"),
    ];
    let env = yk.post(&[], &gz, b64(COMPRESSED_GET_CINEMAS)).await;
    assert_eq!(env, plain);

    // A gzip body with `data`, stored blocks, and parameters split between query and body.
    let data = json!({"cinemaLinkId": "888", "hallId": "1"}).to_string();
    let p = signed(GET_SEATS, &data, yk.now());
    let (query, body) = p.split_at(2);
    let env = yk.post(query, &gz, gzip(form(body).as_bytes())).await;
    assert_eq!(env["retCode"], "0", "{env}");
    assert_eq!(env["api"], GET_SEATS);
    assert_eq!(env["data"]["bizCode"], "SUCCESS", "{env}");
    assert_eq!(env["data"]["data"]["hallId"], "1", "{env}");
    assert_eq!(
        env,
        yk.call(GET_SEATS, &json!({"cinemaLinkId": "888", "hallId": "1"}))
            .await
    );
    yk.server.stop().await;
}

#[tokio::test]
async fn transport_errors_echo_api_and_v() {
    let yk = Yk::start().await;
    let p = signed(GET_CINEMAS, "{}", yk.now());
    let api_v = &p[..2];
    let gz = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("content-encoding", "gzip"),
    ];
    // Positive control: `api` and `v` in the query string, the rest in a gzip body.
    let env = yk.post(api_v, &gz, gzip(form(&p[2..]).as_bytes())).await;
    assert_eq!(env["retCode"], "0", "{env}");
    assert_eq!(env["data"]["bizCode"], "SUCCESS", "{env}");
    // The same with an undecodable gzip body.
    let env = yk.post(api_v, &gz, form(&p[2..]).into_bytes()).await;
    assert_system_error(&env, GET_CINEMAS, "1.0", "30006");
    // A truncated gzip member.
    let mut cut = gzip(form(&p[2..]).as_bytes());
    cut.truncate(cut.len() - 6);
    assert_system_error(&yk.post(api_v, &gz, cut).await, GET_CINEMAS, "1.0", "30006");
    // A body that inflates beyond the limit.
    assert_system_error(
        &yk.post(api_v, &gz, b64(GZIP_BOMB)).await,
        GET_CINEMAS,
        "1.0",
        "30006",
    );
    // An encoding the server does not read, on a non-empty body.
    let br = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("content-encoding", "br"),
    ];
    let env = yk.post(api_v, &br, form(&p[2..]).into_bytes()).await;
    assert_system_error(&env, GET_CINEMAS, "1.0", "30006");
    // A body larger than the limit (256 KiB).
    let big = vec![b'a'; 300 * 1024];
    let env = yk.post(api_v, &br[..1], big).await;
    assert_system_error(&env, GET_CINEMAS, "1.0", "30006");
    // A duplicate parameter.
    let mut dup = p.clone();
    dup.push(("timestamp".into(), yk.now().to_string()));
    let env = yk.post(&dup, &[], Vec::new()).await;
    assert_system_error(&env, GET_CINEMAS, "1.0", "30006");
    // `api` and `v` only in a readable gzip body: echoed from there (here with a bad sign).
    let mut bad = p.clone();
    bad[5].1 = "0".repeat(32);
    let env = yk.post(&[], &gz, gzip(form(&bad).as_bytes())).await;
    assert_system_error(&env, GET_CINEMAS, "1.0", "30003");
    // Nothing to echo: empty strings.
    let env = yk.post(&[], &gz, b"not gzip".to_vec()).await;
    assert_system_error(&env, "", "", "30006");
    yk.server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 2. Every documented field (the document's result tables)
// ---------------------------------------------------------------------------------------------

/// A field's type as the table declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Str,
    Int,
    Bool,
    Arr,
    Obj,
}

impl Ty {
    fn matches(self, v: &Value) -> bool {
        match self {
            Ty::Str => v.is_string(),
            Ty::Int => v.is_i64() || v.is_u64(),
            Ty::Bool => v.is_boolean(),
            Ty::Arr => v.is_array(),
            Ty::Obj => v.is_object(),
        }
    }
}

/// Fields of `B` (the envelope's `data`): `a.b` is member `b` of object `a`, `a[].b` member
/// `b` of every element of array `a`.
type Spec = &'static [(&'static str, Ty)];

use Ty::*;

/// §4.1.4 getCinemas.
const CINEMAS: Spec = &[
    ("bizCode", Str),
    ("bizMsg", Str),
    ("dataList", Arr),
    ("dataList[].cinemaLinkId", Str),
    ("dataList[].name", Str),
    ("dataList[].cinemaId", Str),
    ("dataList[].cityCode", Str),
    ("dataList[].city", Str),
    ("dataList[].hallCount", Int),
    ("dataList[].refundBeforeTime", Str),
    ("dataList[].refundLimitCount", Str),
    ("dataList[].halls", Arr),
    ("dataList[].halls[].hallId", Str),
    ("dataList[].halls[].name", Str),
    ("dataList[].halls[].seatCount", Int),
    ("dataList[].halls[].type", Str),
];

/// §4.2.4 getSchedules (the table's `ticketfee`; the example's `ticketFee` is checked by
/// `both_fee_and_goods_price_spellings_are_sent_and_read`). `benefitCardPrices` elements
/// (`benefitPolicyCode`, `benefitPayPrice`, `eachShowDiscountTickets`) cannot be checked:
/// no co-branded card prices exist yet.
const SCHEDULES: Spec = &[
    ("bizCode", Str),
    ("bizMsg", Str),
    ("dataList", Arr),
    ("dataList[].scheduleId", Str),
    ("dataList[].scheduleKey", Str),
    ("dataList[].cinemaLinkId", Str),
    ("dataList[].showDateTime", Str),
    ("dataList[].hallId", Str),
    ("dataList[].standardPrice", Str),
    ("dataList[].lowestPrice", Str),
    ("dataList[].settlePrice", Str),
    ("dataList[].ticketfee", Str),
    ("dataList[].feeType", Str),
    ("dataList[].throughStatus", Str),
    ("dataList[].stopSellingTime", Str),
    ("dataList[].saleStatus", Str),
    ("dataList[].sessionCode", Str),
    ("dataList[].film", Obj),
    ("dataList[].film.name", Str),
    ("dataList[].film.shortName", Str),
    ("dataList[].film.filmCode", Str),
    ("dataList[].film.language", Str),
    ("dataList[].film.duration", Int),
    ("dataList[].film.dimensional", Str),
    ("dataList[].film.size", Str),
    ("dataList[].benefitCardPrices", Arr),
    ("dataList[].areaSettlePrices", Arr),
    ("dataList[].areaSettlePrices[].name", Str),
    ("dataList[].areaSettlePrices[].settlePrice", Str),
];

/// §4.3.4 getSeats.
const SEATS: Spec = &[
    ("bizCode", Str),
    ("bizMsg", Str),
    ("data", Obj),
    ("data.cinemaLinkId", Str),
    ("data.hallId", Str),
    ("data.seatPlanList", Arr),
    ("data.seatPlanList[].effectiveDate", Str),
    ("data.seatPlanList[].sections", Arr),
    ("data.seatPlanList[].sections[].sectionId", Str),
    ("data.seatPlanList[].sections[].name", Str),
    ("data.seatPlanList[].sections[].seats", Arr),
    ("data.seatPlanList[].sections[].seats[].seatId", Str),
    ("data.seatPlanList[].sections[].seats[].rowId", Str),
    ("data.seatPlanList[].sections[].seats[].columnId", Str),
    ("data.seatPlanList[].sections[].seats[].x", Int),
    ("data.seatPlanList[].sections[].seats[].y", Int),
    ("data.seatPlanList[].sections[].seats[].type", Str),
    ("data.seatPlanList[].sections[].seats[].damage", Str),
];

/// §4.4.4 getScheduleAreaSeats.
const AREA_SEATS: Spec = &[
    ("bizCode", Str),
    ("bizMsg", Str),
    ("data", Obj),
    ("data.cinemaLinkId", Str),
    ("data.scheduleId", Str),
    ("data.scheduleKey", Str),
    ("data.sectionAreas", Arr),
    ("data.sectionAreas[].sectionId", Str),
    ("data.sectionAreas[].areaDetails", Arr),
    ("data.sectionAreas[].areaDetails[].name", Str),
    ("data.sectionAreas[].areaDetails[].code", Str),
    ("data.sectionAreas[].areaDetails[].seats", Arr),
    ("data.sectionAreas[].areaDetails[].seats[].seatId", Str),
];

/// §4.5.4 getScheduleSoldSeats.
const SOLD_SEATS: Spec = &[
    ("bizCode", Str),
    ("bizMsg", Str),
    ("data", Obj),
    ("data.cinemaLinkId", Str),
    ("data.scheduleId", Str),
    ("data.scheduleKey", Str),
    ("data.sectionList", Arr),
    ("data.sectionList[].sectionId", Str),
    ("data.sectionList[].seats", Arr),
    ("data.sectionList[].seats[].seatId", Str),
];

/// §5.1.4 lockSeats.
const LOCK: Spec = &[
    ("bizCode", Str),
    ("bizMsg", Str),
    ("data", Obj),
    ("data.lockOrderId", Str),
    ("data.outLockId", Str),
    ("data.seats", Arr),
    ("data.seats[].seatId", Str),
];

/// §5.2.4 releaseSeats.
const RELEASE: Spec = &[
    ("bizCode", Str),
    ("bizMsg", Str),
    ("data", Obj),
    ("data.cinemaLinkId", Str),
    ("data.lockOrderId", Str),
];

/// §5.3.4 confirmOrder and §5.4.4 confirmOrderForMultiPay.
const CONFIRM: Spec = &[
    ("bizCode", Str),
    ("bizMsg", Str),
    ("data", Obj),
    ("data.orderId", Str),
    ("data.bookingId", Str),
    ("data.confirmationId", Str),
    ("data.tickets", Arr),
    ("data.tickets[].ticketNo", Str),
    ("data.tickets[].seatId", Str),
    ("data.tickets[].seatCode", Str),
    ("data.tickets[].sectionId", Str),
    ("data.tickets[].rowId", Str),
    ("data.tickets[].columnId", Str),
    ("data.tickets[].serviceFee", Str),
];

/// §5.5.4 confirmMixOrder and §5.6.4 confirmMixOrderForMultiPay: [`CONFIRM`] plus these.
const MIX_GOODS: Spec = &[
    ("data.goodsOrder", Obj),
    ("data.goodsOrder.holdId", Str),
    ("data.goodsOrder.pickUpCode", Str),
    ("data.goodsOrder.totalGoodsPrice", Str),
    ("data.goodsOrder.totalGoodsFee", Str),
    ("data.goodsOrder.goods", Arr),
    ("data.goodsOrder.goods[].goodsId", Str),
    ("data.goodsOrder.goods[].name", Str),
    ("data.goodsOrder.goods[].salePrice", Str),
    ("data.goodsOrder.goods[].count", Int),
    ("data.goodsOrder.goods[].isPackage", Bool),
];

/// §5.7.4 getOrderInfo (`goodsOrder` in [`ORDER_INFO_GOODS`]).
const ORDER_INFO: Spec = &[
    ("bizCode", Str),
    ("bizMsg", Str),
    ("data", Obj),
    ("data.orderId", Str),
    ("data.bookingId", Str),
    ("data.confirmationId", Str),
    ("data.showDateTime", Str),
    ("data.hallId", Str),
    ("data.filmCode", Str),
    ("data.shortName", Str),
    ("data.status", Str),
    ("data.tickets", Arr),
    ("data.tickets[].ticketNo", Str),
    ("data.tickets[].seatCode", Str),
    ("data.tickets[].sectionId", Str),
    ("data.tickets[].rowId", Str),
    ("data.tickets[].columnId", Str),
    ("data.tickets[].ticketPrice", Str),
    ("data.tickets[].ticketFee", Str),
    ("data.tickets[].serviceFee", Str),
    ("data.tickets[].printStatus", Str),
    ("data.tickets[].refundStatus", Str),
];

/// §5.7.4 getOrderInfo's `goodsOrder` of a mixed order.
const ORDER_INFO_GOODS: Spec = &[
    ("data.goodsOrder", Obj),
    ("data.goodsOrder.holdId", Str),
    ("data.goodsOrder.pickUpCode", Str),
    ("data.goodsOrder.totalGoodsFee", Str),
    ("data.goodsOrder.goods", Arr),
    ("data.goodsOrder.goods[].goodsId", Str),
    ("data.goodsOrder.goods[].name", Str),
    ("data.goodsOrder.goods[].salePrice", Str),
    ("data.goodsOrder.goods[].count", Int),
    ("data.goodsOrder.goods[].isPackage", Bool),
];

/// §5.8.4 getTicketInfo.
const TICKET_INFO: Spec = &[
    ("bizCode", Str),
    ("bizMsg", Str),
    ("data", Obj),
    ("data.printId", Str),
    ("data.bookingId", Str),
    ("data.confirmationId", Str),
    ("data.showDateTime", Str),
    ("data.cinemaName", Str),
    ("data.hallId", Str),
    ("data.hallName", Str),
    ("data.filmCode", Str),
    ("data.shortName", Str),
    ("data.channelCode", Str),
    ("data.channelName", Str),
    ("data.createDateTime", Str),
    ("data.tickets", Arr),
    ("data.tickets[].ticketNo", Str),
    ("data.tickets[].sectionId", Str),
    ("data.tickets[].sectionName", Str),
    ("data.tickets[].rowId", Str),
    ("data.tickets[].columnId", Str),
    ("data.tickets[].infoCode", Str),
    ("data.tickets[].ticketPrice", Str),
    ("data.tickets[].ticketFee", Str),
    ("data.tickets[].serviceFee", Str),
    ("data.tickets[].printStatus", Str),
    ("data.tickets[].refundStatus", Str),
];

/// §5.9.4 printTicket and §5.10.4 getOrderPrintStatus.
const PRINT: Spec = &[
    ("bizCode", Str),
    ("bizMsg", Str),
    ("data", Obj),
    ("data.cinemaLinkId", Str),
    ("data.printId", Str),
];

/// §5.11.4 refundOrder, §5.12.4 refundMixOrder, §5.13.4 reverseOrder, §5.14.4 reverseMixOrder.
const REFUND: Spec = &[
    ("bizCode", Str),
    ("bizMsg", Str),
    ("data", Obj),
    ("data.cinemaLinkId", Str),
    ("data.orderId", Str),
];

/// §6.1.4 getGoods (the table's spellings; the example's are checked by
/// `both_fee_and_goods_price_spellings_are_sent_and_read`).
const GOODS: Spec = &[
    ("bizCode", Str),
    ("bizMsg", Str),
    ("data", Obj),
    ("data.maxBuyCount", Int),
    ("data.cinemaLinkId", Str),
    ("data.goodsList", Arr),
    ("data.goodsList[].goodsId", Str),
    ("data.goodsList[].name", Str),
    ("data.goodsList[].isPackage", Bool),
    ("data.goodsList[].salePrice", Str),
    ("data.goodsList[].settlePrice", Str),
    ("data.goodsList[].goodsPicUrl", Str),
    ("data.goodsList[].desc", Str),
    ("data.goodsList[].isDiscount", Str),
];

/// §6.2.4 confirmGoodsOrder, §6.3.4 confirmGoodsOrderForMultiPay, §6.4.4 getGoodsOrderInfo.
const GOODS_ORDER: Spec = &[
    ("bizCode", Str),
    ("bizMsg", Str),
    ("data", Obj),
    ("data.goodsOrderId", Str),
    ("data.holdId", Str),
    ("data.pickUpCode", Str),
    ("data.totalGoodsPrice", Str),
    ("data.totalGoodsFee", Str),
    ("data.orderStatus", Str),
    ("data.goodsList", Arr),
    ("data.goodsList[].goodsId", Str),
    ("data.goodsList[].name", Str),
    ("data.goodsList[].salePrice", Str),
    ("data.goodsList[].count", Int),
    ("data.goodsList[].isPackage", Bool),
];

/// §6.5.4 refundGoodsOrder.
const GOODS_REFUND: Spec = &[
    ("bizCode", Str),
    ("bizMsg", Str),
    ("data", Obj),
    ("data.cinemaLinkId", Str),
    ("data.goodsOrderId", Str),
];

/// The values a path's parent segments lead to (`x[]` flattens array `x`).
fn parents<'a>(root: &'a Value, segments: &[&str]) -> Vec<&'a Value> {
    let mut at = vec![root];
    for seg in segments {
        let mut next = Vec::new();
        for v in at {
            match seg.strip_suffix("[]") {
                Some(name) => {
                    if let Some(a) = v.get(name).and_then(Value::as_array) {
                        next.extend(a.iter());
                    }
                }
                None => next.extend(v.get(*seg)),
            }
        }
        at = next;
    }
    at
}

/// Asserts every field of every spec on `b`; a path with no instance to look at (an empty
/// list) is a failure too, so that no check passes vacuously.
fn assert_fields(api: &str, b: &Value, specs: &[Spec]) {
    let mut problems = Vec::new();
    for (path, ty) in specs.iter().flat_map(|s| s.iter()) {
        let segments: Vec<&str> = path.split('.').collect();
        let (last, up) = segments.split_last().expect("path");
        let at = parents(b, up);
        if at.is_empty() {
            problems.push(format!("{path}: nothing to check (no parent instance)"));
        }
        for p in at {
            match p.get(*last) {
                None => problems.push(format!("{path}: absent in {p}")),
                Some(v) if !ty.matches(v) => problems.push(format!("{path}: {v} is not {ty:?}")),
                Some(_) => {}
            }
        }
    }
    assert!(problems.is_empty(), "{api}:\n{}\n{b}", problems.join("\n"));
}

/// Snapshot of a whole envelope; random collection codes are redacted.
macro_rules! snapshot {
    ($name:expr, $env:expr) => {
        insta::assert_json_snapshot!($name, $env, {
            ".**.confirmationId" => "[confirmationId]",
            ".**.pickUpCode" => "[pickUpCode]",
            ".**.infoCode" => "[infoCode]",
        })
    };
}

/// [`Yk::ok`], then the document's fields; `B`.
async fn fields(yk: &Yk, api: &str, data: &Value, biz: &str, specs: &[Spec]) -> Value {
    let b = yk.ok(api, data, biz).await;
    assert_fields(api, &b, specs);
    b
}

/// [`fields`], then a snapshot of the whole envelope as received, named after the API (taken
/// once per API in this file).
async fn checked(yk: &Yk, api: &str, data: &Value, biz: &str, specs: &[Spec]) -> Value {
    let name = api.trim_start_matches("ykse.partner.").replace('.', "_");
    checked_as(&name, yk, api, data, biz, specs).await
}

/// [`checked`] under another snapshot name.
async fn checked_as(
    name: &str,
    yk: &Yk,
    api: &str,
    data: &Value,
    biz: &str,
    specs: &[Spec],
) -> Value {
    let env = yk.ok_envelope(api, data, biz).await;
    assert_fields(api, &env["data"], specs);
    snapshot!(name, &env);
    env["data"].clone()
}

/// Cinema 58's schedule 18406 (2026-11-23 09:55, 35.00 + 1.00): `(scheduleId, scheduleKey)`.
async fn schedule_58(yk: &Yk) -> (String, String) {
    let b = yk
        .ok(
            "ykse.partner.schedule.getSchedules",
            &json!({"cinemaLinkId": "58", "startDate": "2026-11-23", "endDate": "2026-11-23"}),
            "SUCCESS",
        )
        .await;
    let s = b["dataList"]
        .as_array()
        .and_then(|l| l.iter().find(|s| s["scheduleId"] == "18406"))
        .unwrap_or_else(|| panic!("schedule 18406: {b}"));
    (
        s["scheduleId"].as_str().expect("id").to_string(),
        s["scheduleKey"].as_str().expect("key").to_string(),
    )
}

const A: &str = "0000000000000001-5-07";
const B: &str = "0000000000000001-5-08";
const C: &str = "0000000000000001-6-01";

/// Locks seats at cinema 58; the `lockOrderId`.
async fn lock(yk: &Yk, s: &(String, String), out: &str, seats: &[&str]) -> String {
    let b = yk
        .ok(
            "ykse.partner.seat.lockSeats",
            &json!({"cinemaLinkId": "58", "scheduleId": s.0, "scheduleKey": s.1, "outLockId": out, "seatIdList": seats}),
            "SUCCESS",
        )
        .await;
    b["data"]["lockOrderId"]
        .as_str()
        .expect("lockOrderId")
        .to_string()
}

/// A confirmOrder body for one seat at `price` with the fee under `fee_name`.
fn confirm_body(
    s: &(String, String),
    lock: &str,
    seat: &str,
    price: &str,
    fee_name: &str,
) -> Value {
    json!({
        "cinemaLinkId": "58", "lockOrderId": lock, "scheduleId": s.0, "scheduleKey": s.1,
        "ticketList": [{"seatId": seat, "ticketPrice": price, fee_name: "1.00"}],
        "mobile": "13800000000"
    })
}

fn id_of(b: &Value, name: &str) -> String {
    b["data"][name]
        .as_str()
        .unwrap_or_else(|| panic!("{name}: {b}"))
        .to_string()
}

#[tokio::test]
async fn base_information_and_lock_answers_carry_every_documented_field() {
    let yk = Yk::start().await;
    checked(&yk, GET_CINEMAS, &json!({}), "SUCCESS", &[CINEMAS]).await;
    // Cinema 888 over three days: plain schedules and the area-priced 34668.
    let b = checked(
        &yk,
        "ykse.partner.schedule.getSchedules",
        &json!({"cinemaLinkId": "888", "startDate": "2026-11-23", "endDate": "2026-11-25"}),
        "SUCCESS",
        &[SCHEDULES],
    )
    .await;
    let area = b["dataList"]
        .as_array()
        .and_then(|l| l.iter().find(|s| s["scheduleId"] == "34668"))
        .expect("34668")
        .clone();
    checked(
        &yk,
        GET_SEATS,
        &json!({"cinemaLinkId": "888", "hallId": "7"}),
        "SUCCESS",
        &[SEATS],
    )
    .await;
    let target =
        json!({"cinemaLinkId": "888", "scheduleId": "34668", "scheduleKey": area["scheduleKey"]});
    checked(
        &yk,
        "ykse.partner.seat.getScheduleAreaSeats",
        &target,
        "SUCCESS",
        &[AREA_SEATS],
    )
    .await;

    let s = schedule_58(&yk).await;
    let b = checked(
        &yk,
        "ykse.partner.seat.lockSeats",
        &json!({"cinemaLinkId": "58", "scheduleId": s.0, "scheduleKey": s.1, "outLockId": "WIRE1", "seatIdList": [A, B]}),
        "SUCCESS",
        &[LOCK],
    )
    .await;
    let lock_id = id_of(&b, "lockOrderId");
    let sold = json!({"cinemaLinkId": "58", "scheduleId": s.0, "scheduleKey": s.1, "sectionId": "0000000000000001"});
    let b = checked(
        &yk,
        "ykse.partner.seat.getScheduleSoldSeats",
        &sold,
        "SUCCESS",
        &[SOLD_SEATS],
    )
    .await;
    let seats = &b["data"]["sectionList"][0]["seats"];
    assert!(
        seats
            .as_array()
            .is_some_and(|l| l.contains(&json!({"seatId": A}))),
        "{b}"
    );
    let release = json!({"cinemaLinkId": "58", "lockOrderId": lock_id});
    checked(
        &yk,
        "ykse.partner.seat.releaseSeats",
        &release,
        "SUCCESS",
        &[RELEASE],
    )
    .await;
    yk.server.stop().await;
}

#[tokio::test]
async fn ticket_order_answers_carry_every_documented_field() {
    let yk = Yk::start().await;
    let s = schedule_58(&yk).await;
    let l = lock(&yk, &s, "T1", &[A]).await;
    let body = confirm_body(&s, &l, A, "35.00", "ticketFee");
    let b = checked(
        &yk,
        "ykse.partner.order.confirmOrder",
        &body,
        "SUCCESS",
        &[CONFIRM],
    )
    .await;
    let order = id_of(&b, "orderId");
    let conf = id_of(&b, "confirmationId");
    let target = json!({"cinemaLinkId": "58", "orderId": order});

    let b = checked(
        &yk,
        "ykse.partner.order.getOrderInfo",
        &target,
        "SUCCESS",
        &[ORDER_INFO],
    )
    .await;
    // A ticket-only order has no goods order: the documented Object is null.
    assert_eq!(b["data"].get("goodsOrder"), Some(&Value::Null), "{b}");
    let by_conf = json!({"cinemaLinkId": "58", "confirmationId": conf});
    let b = checked(
        &yk,
        "ykse.partner.order.getTicketInfo",
        &by_conf,
        "SUCCESS",
        &[TICKET_INFO],
    )
    .await;
    let print = json!({"cinemaLinkId": "58", "printId": id_of(&b, "printId")});
    let status = "ykse.partner.ticket.getOrderPrintStatus";
    checked(&yk, status, &print, "PRINT_TICKET_ALLOW", &[PRINT]).await;
    checked(
        &yk,
        "ykse.partner.order.refundOrder",
        &target,
        "SUCCESS",
        &[REFUND],
    )
    .await;

    let l = lock(&yk, &s, "T2", &[C]).await;
    let mut body = confirm_body(&s, &l, C, "35.00", "ticketFee");
    body["ticketList"][0]["paymentList"] = json!([{"paymentMethod": "Ali", "payAmount": "36.00",
        "thirdPartPayment": {"thirdTradeNo": "2026112200001", "outTradeNo": "W0001"}}]);
    let multi = "ykse.partner.order.confirmOrderForMultiPay";
    let b = checked(&yk, multi, &body, "SUCCESS", &[CONFIRM]).await;
    let by_conf = json!({"cinemaLinkId": "58", "confirmationId": id_of(&b, "confirmationId")});
    let info = yk
        .ok("ykse.partner.order.getTicketInfo", &by_conf, "SUCCESS")
        .await;
    let print = json!({"cinemaLinkId": "58", "printId": id_of(&info, "printId")});
    checked(
        &yk,
        "ykse.partner.ticket.printTicket",
        &print,
        "SUCCESS",
        &[PRINT],
    )
    .await;

    // Reversible: the first confirmation request failed, the success came 13 minutes later.
    let l = lock(&yk, &s, "T3", &[B]).await;
    let low = confirm_body(&s, &l, B, "1.00", "ticketFee");
    yk.ok(
        "ykse.partner.order.confirmOrder",
        &low,
        "LOW_THAN_LEAST_PRICE_ERROR",
    )
    .await;
    yk.server.clock.advance(Duration::minutes(13));
    let body = confirm_body(&s, &l, B, "35.00", "ticketFee");
    let b = fields(
        &yk,
        "ykse.partner.order.confirmOrder",
        &body,
        "SUCCESS",
        &[CONFIRM],
    )
    .await;
    let target = json!({"cinemaLinkId": "58", "orderId": id_of(&b, "orderId")});
    checked(
        &yk,
        "ykse.partner.order.reverseOrder",
        &target,
        "SUCCESS",
        &[REFUND],
    )
    .await;
    yk.server.stop().await;
}

/// A confirmMixOrder body: one seat at 35.00 + 1.00 and two popcorns (1728) at 10.00.
fn mix_body(s: &(String, String), lock: &str, seat: &str, price: &str) -> Value {
    let mut b = confirm_body(s, lock, seat, price, "ticketFee");
    b["goodsList"] =
        json!([{"goodsId": "1728", "isPackage": false, "count": 2, "salePrice": "10.00"}]);
    b
}

#[tokio::test]
async fn mixed_order_answers_carry_every_documented_field() {
    let yk = Yk::start().await;
    let s = schedule_58(&yk).await;
    let l = lock(&yk, &s, "M1", &[A]).await;
    let mix = "ykse.partner.order.confirmMixOrder";
    let b = checked(
        &yk,
        mix,
        &mix_body(&s, &l, A, "35.00"),
        "SUCCESS",
        &[CONFIRM, MIX_GOODS],
    )
    .await;
    let target = json!({"cinemaLinkId": "58", "orderId": id_of(&b, "orderId")});
    let info = "ykse.partner.order.getOrderInfo";
    let specs = [ORDER_INFO, ORDER_INFO_GOODS];
    checked_as(
        "order_getOrderInfo_mixed",
        &yk,
        info,
        &target,
        "SUCCESS",
        &specs,
    )
    .await;
    checked(
        &yk,
        "ykse.partner.order.refundMixOrder",
        &target,
        "SUCCESS",
        &[REFUND],
    )
    .await;

    let l = lock(&yk, &s, "M2", &[C]).await;
    let mut body = mix_body(&s, &l, C, "35.00");
    body["ticketList"][0]["paymentList"] = json!([{"paymentMethod": "WeChat", "payAmount": "30.00",
        "thirdPartPayment": {"thirdTradeNo": "4200001", "outTradeNo": "W0002"}}, {"paymentMethod": "Corp", "payAmount": "6.00"}]);
    body["goodsList"][0]["paymentList"] = json!([{"paymentMethod": "Cash", "payAmount": "20.00"}]);
    let multi = "ykse.partner.order.confirmMixOrderForMultiPay";
    checked(&yk, multi, &body, "SUCCESS", &[CONFIRM, MIX_GOODS]).await;

    let l = lock(&yk, &s, "M3", &[B]).await;
    yk.ok(
        mix,
        &mix_body(&s, &l, B, "1.00"),
        "LOW_THAN_LEAST_PRICE_ERROR",
    )
    .await;
    yk.server.clock.advance(Duration::minutes(13));
    let b = fields(
        &yk,
        mix,
        &mix_body(&s, &l, B, "35.00"),
        "SUCCESS",
        &[CONFIRM, MIX_GOODS],
    )
    .await;
    let target = json!({"cinemaLinkId": "58", "orderId": id_of(&b, "orderId")});
    checked(
        &yk,
        "ykse.partner.order.reverseMixOrder",
        &target,
        "SUCCESS",
        &[REFUND],
    )
    .await;
    yk.server.stop().await;
}

#[tokio::test]
async fn goods_answers_carry_every_documented_field() {
    let yk = Yk::start().await;
    let cinema = json!({"cinemaLinkId": "58"});
    checked(
        &yk,
        "ykse.partner.goods.getGoods",
        &cinema,
        "SUCCESS",
        &[GOODS],
    )
    .await;
    let order = json!({"cinemaLinkId": "58", "thirdOrderId": "WG1", "mobile": "13800000000",
        "goodsList": [{"goodsId": "1728", "count": "2", "isPackage": "false", "salePrice": "10.00"}]});
    let confirm = "ykse.partner.order.confirmGoodsOrder";
    let b = checked(&yk, confirm, &order, "SUCCESS", &[GOODS_ORDER]).await;
    let target = json!({"cinemaLinkId": "58", "goodsOrderId": id_of(&b, "goodsOrderId")});
    let info = "ykse.partner.order.getGoodsOrderInfo";
    checked(&yk, info, &target, "SUCCESS", &[GOODS_ORDER]).await;
    let refund = "ykse.partner.order.refundGoodsOrder";
    checked(&yk, refund, &target, "SUCCESS", &[GOODS_REFUND]).await;

    let multi = json!({"cinemaLinkId": "58", "thirdOrderId": "WG2", "mobile": "13800138000",
        "goodsList": [{"goodsId": "8160812223149", "isPackage": true, "count": 1, "salePrice": "45.00",
            "paymentList": [{"paymentMethod": "Corp", "payAmount": "5.00"}, {"paymentMethod": "Cash", "payAmount": "40.00"}]}]});
    let confirm = "ykse.partner.order.confirmGoodsOrderForMultiPay";
    checked(&yk, confirm, &multi, "SUCCESS", &[GOODS_ORDER]).await;
    yk.server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 3. Table and example spellings (docs/protocols/yueke.md, "Field spellings")
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn both_fee_and_goods_price_spellings_are_sent_and_read() {
    let yk = Yk::start().await;
    // getSchedules: `ticketfee` (table) and `ticketFee` (example), equal, on every schedule.
    let mut schedules = Vec::new();
    for cinema in ["58", "888"] {
        let b = yk
            .ok(
                "ykse.partner.schedule.getSchedules",
                &json!({"cinemaLinkId": cinema, "startDate": "2026-11-23", "endDate": "2026-11-25"}),
                "SUCCESS",
            )
            .await;
        schedules.extend(b["dataList"].as_array().expect("dataList").iter().cloned());
    }
    assert!(
        schedules.len() >= 5,
        "positive control: {} schedules",
        schedules.len()
    );
    for s in &schedules {
        assert!(
            s["ticketFee"].as_str().is_some_and(|f| f.contains('.')),
            "{s}"
        );
        assert_eq!(s["ticketfee"], s["ticketFee"], "{s}");
    }
    let c58 = schedules
        .iter()
        .find(|s| s["scheduleId"] == "18406")
        .expect("18406");
    assert_eq!(
        (&c58["ticketfee"], &c58["ticketFee"]),
        (&json!("1.00"), &json!("1.00"))
    );

    // getGoods: `salePrice`/`settlePrice` (table) and `standardPrice`/`settleprice` (example).
    let b = yk
        .ok(
            "ykse.partner.goods.getGoods",
            &json!({"cinemaLinkId": "58"}),
            "SUCCESS",
        )
        .await;
    let goods = b["data"]["goodsList"].as_array().expect("goodsList");
    assert!(!goods.is_empty(), "positive control: {b}");
    for g in goods {
        assert!(
            g["salePrice"].as_str().is_some_and(|p| !p.is_empty()),
            "{g}"
        );
        assert_eq!(g["standardPrice"], g["salePrice"], "{g}");
        assert_eq!(g["settleprice"], g["settlePrice"], "{g}");
    }
    let popcorn = goods.iter().find(|g| g["goodsId"] == "1728").expect("1728");
    assert_eq!(
        (&popcorn["standardPrice"], &popcorn["settleprice"]),
        (&json!("10.00"), &json!("10.00"))
    );

    // Requests: a ticket's fee under either spelling.
    let s = schedule_58(&yk).await;
    let confirm = "ykse.partner.order.confirmOrder";
    for (seat, out, name) in [(A, "F1", "ticketFee"), (B, "F2", "ticketfee")] {
        let l = lock(&yk, &s, out, &[seat]).await;
        let b = yk
            .ok(
                confirm,
                &confirm_body(&s, &l, seat, "35.00", name),
                "SUCCESS",
            )
            .await;
        let target = json!({"cinemaLinkId": "58", "orderId": id_of(&b, "orderId")});
        let info = yk
            .ok("ykse.partner.order.getOrderInfo", &target, "SUCCESS")
            .await;
        assert_eq!(
            info["data"]["tickets"][0]["ticketFee"], "1.00",
            "{name}: {info}"
        );
    }
    // The value under `ticketfee` is the one checked: a wrong fee is refused.
    let l = lock(&yk, &s, "F3", &[C]).await;
    let mut wrong = confirm_body(&s, &l, C, "35.00", "ticketfee");
    wrong["ticketList"][0]["ticketfee"] = json!("2.00");
    yk.ok(confirm, &wrong, "TICKET_FEE_ERROR").await;
    // …and the multi-pay confirmation reads it too.
    let mut multi = confirm_body(&s, &l, C, "35.00", "ticketfee");
    multi["ticketList"][0]["paymentList"] =
        json!([{"paymentMethod": "Cash", "payAmount": "36.00"}]);
    yk.ok(
        "ykse.partner.order.confirmOrderForMultiPay",
        &multi,
        "SUCCESS",
    )
    .await;
    yk.server.stop().await;
}

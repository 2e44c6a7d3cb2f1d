//! Every business code (`bizCode`) of every Yueke API, over HTTP: the (API, code) pairs that
//! tests/yueke.rs, tests/yueke_orders.rs and tests/cross_protocol.rs leave unexercised.
//!
//! Not tested here, with the reason:
//! - `SYSTEM_ERROR` (storage failures): tested with a fault-injecting store in
//!   `storage_faults.rs`.
//! - getScheduleAreaSeats / getScheduleSoldSeats / lockSeats / confirm*: `SCHEDULE_NOT_FOUND`
//!   for a schedule without a screen: `schedule::schedule` already answers `None` for such a
//!   session, so `find` answers `SCHEDULE_NOT_FOUND` first (the code itself is tested).
//! - lockSeats: the `HoldError` mappings (`LOCK_SEAT_ERROR`, `LOCK_SEAT_OUT_DATE`,
//!   `SCHEDULE_NOT_OPEN`, `OVER_MAX_TICKET`, `SEAT_NOT_FOUND`, `LOCKSEAT_UNMATCH`,
//!   `SCHEDULE_NOT_FOUND`, `SEAT_INFO_ERROR`) are pre-empted by the front end's own checks; each
//!   code is reached (and tested) through those checks.
//! - confirmOrder / confirmMixOrder: `PAYMENT_AMOUNT_ERROR` (`CompleteError::TotalMismatch`) —
//!   the payment line is built from the order's own total, so it cannot mismatch. A completed
//!   lock without its booking (`ORDER_NOT_FOUND`) and a failing `add_items` (`ORDER_SEAT_ERROR`)
//!   need a race; both codes are reached and tested otherwise.
//! - refund*/reverse*: `refund_booking`'s `CANCEL_ORDER_CONDITION_ERROR` (no amount and no payment
//!   are passed, so neither mismatch can occur); its `TICKET_HAS_REFUND` / `TICKET_HAS_PRINT` /
//!   `ORDER_NOT_FOUND` only in a race after the same pre-checks (tested through the pre-checks);
//!   `ORDER_NOT_FOUND` for a booking whose session left the catalogue.
//! - confirmGoodsOrder*: `GOODS_ORDER_FAILED` (`complete_with` failing right after `add_items`
//!   created the order with the same total: a race).
//! - refundGoodsOrder: `TICKET_HAS_REFUND` (pre-empted by `GOODS_ORDER_CLOSE_ERROR`) and
//!   `CANCEL_ORDER_CONDITION_ERROR` (as above).
//! - printTicket: `CollectOutcome::Refunded` (a race; the code `PRINT_TICKET_NOT_ALLOW` is tested).
//! - Codes of the document the server never produces (e.g. `SCHEDULE_OUT_DATE_ERROR`,
//!   `SHOW_REF_SEQ_NO_UNMATCH`, `UN_LOCK_SEAT_UNSUCCESS`, `GOODS_REFUND_FAILED`,
//!   `REFUND_TICKET_STATUS_INCORRECT`, card codes) have nothing to test.

mod common;
use chrono::Duration;
use common::*;
use serde_json::{json, Value};

const GET_SCHEDULES: &str = "ykse.partner.schedule.getSchedules";
const AREA_SEATS: &str = "ykse.partner.seat.getScheduleAreaSeats";
const SOLD_SEATS: &str = "ykse.partner.seat.getScheduleSoldSeats";
const LOCK_SEATS: &str = "ykse.partner.seat.lockSeats";
const RELEASE_SEATS: &str = "ykse.partner.seat.releaseSeats";
const CONFIRM: &str = "ykse.partner.order.confirmOrder";
const CONFIRM_MULTI: &str = "ykse.partner.order.confirmOrderForMultiPay";
const CONFIRM_MIX: &str = "ykse.partner.order.confirmMixOrder";
const CONFIRM_MIX_MULTI: &str = "ykse.partner.order.confirmMixOrderForMultiPay";
const ORDER_INFO: &str = "ykse.partner.order.getOrderInfo";
const PRINT: &str = "ykse.partner.ticket.printTicket";
const PRINT_STATUS: &str = "ykse.partner.ticket.getOrderPrintStatus";
const REFUND: &str = "ykse.partner.order.refundOrder";
const REVERSE: &str = "ykse.partner.order.reverseOrder";
const REFUND_MIX: &str = "ykse.partner.order.refundMixOrder";
const REVERSE_MIX: &str = "ykse.partner.order.reverseMixOrder";
const CONFIRM_GOODS: &str = "ykse.partner.order.confirmGoodsOrder";
const CONFIRM_GOODS_MULTI: &str = "ykse.partner.order.confirmGoodsOrderForMultiPay";
const GOODS_INFO: &str = "ykse.partner.order.getGoodsOrderInfo";
const REFUND_GOODS: &str = "ykse.partner.order.refundGoodsOrder";

/// Seats of cinema 58, hall 1.
const A: &str = "0000000000000001-5-07";
const B: &str = "0000000000000001-5-08";
const C: &str = "0000000000000001-6-01";
const D: &str = "0000000000000001-6-02";
const E: &str = "0000000000000001-6-03";
const F: &str = "0000000000000001-6-04";

/// A signed `/route` GET for the demo channel at the server's clock.
async fn call(server: &TestServer, api: &str, data: &Value) -> Value {
    let env = yueke_call(&server.url, server.app.service.now_ms(), api, data).await;
    assert_eq!(env["retCode"], "0", "{api}: {env}");
    assert_eq!(env["api"], api, "{env}");
    env
}

fn biz(v: &Value) -> &str {
    v["data"]["bizCode"]
        .as_str()
        .unwrap_or_else(|| panic!("no bizCode: {v}"))
}

/// Calls and asserts the business code.
async fn expect(server: &TestServer, api: &str, data: &Value, code: &str) -> Value {
    let env = call(server, api, data).await;
    assert_eq!(biz(&env), code, "{api} {data}: {env}");
    env
}

/// Fen as a two-decimal yuan string.
fn y(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", fen.abs() / 100, fen.abs() % 100)
}

/// The demo catalogue with string edits applied (each must apply).
async fn with_edits(server: &TestServer, edits: &[(&str, &str)]) {
    let mut text = boxoffice_server::DEMO_CATALOG.to_string();
    for (from, to) in edits {
        let next = text.replacen(from, to, 1);
        assert_ne!(next, text, "edit {from:?} applies");
        text = next;
    }
    server.app.apply_catalog(&text).await.expect("catalogue");
}

/// A venue linked to Yueke as cinemaLinkId 77 that the YKSE channel is not bound to.
const UNBOUND_VENUE: (&str, &str) = (
    "[[partner]]\ncode = \"demo\"",
    "[[venue]]\ncode = \"77\"\nname = \"77 影院\"\nnational_id = \"77777777\"\ncity = \"广州\"\ncity_code = \"440100\"\nlinks = { yueke = \"77\" }\n\n[[partner]]\ncode = \"demo\"",
);

/// Session 34668's VIP area priced above the base area (90.00 against 80.00).
const VIP_ABOVE_BASE: (&str, &str) = (
    "{ ticket = \"0043\", area = \"0000000003\", price = 2000 }",
    "{ ticket = \"0043\", area = \"0000000003\", price = 9000 }",
);

const CINEMA_58_POLICY: &str =
    "refund_before_minutes = 60\nrefund_limit_per_session = 100\nsales_cutoff_minutes = -20";

/// Schedule id and key of a demo session.
async fn schedule(server: &TestServer, cinema: &str, id: &str) -> (String, String) {
    let r = call(
        server,
        GET_SCHEDULES,
        &json!({"cinemaLinkId": cinema, "startDate": "2026-11-23", "endDate": "2026-11-25"}),
    )
    .await;
    let s = r["data"]["dataList"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .find(|s| s["scheduleId"] == id)
        .unwrap_or_else(|| panic!("{r}"))
        .clone();
    (
        s["scheduleId"].as_str().unwrap().into(),
        s["scheduleKey"].as_str().unwrap().into(),
    )
}

async fn lock(
    server: &TestServer,
    cinema: &str,
    sched: &(String, String),
    out: &str,
    seats: &[&str],
) -> String {
    let r = expect(
        server,
        LOCK_SEATS,
        &json!({"cinemaLinkId": cinema, "scheduleId": sched.0, "scheduleKey": sched.1, "outLockId": out, "seatIdList": seats}),
        "SUCCESS",
    )
    .await;
    r["data"]["data"]["lockOrderId"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Which confirm API, and so which body shape.
#[derive(Clone, Copy)]
struct Kind {
    api: &'static str,
    /// Per-line payment lists.
    multi: bool,
    /// Goods as well.
    mix: bool,
}

const TICKETS: Kind = Kind {
    api: CONFIRM,
    multi: false,
    mix: false,
};
const TICKETS_MULTI: Kind = Kind {
    api: CONFIRM_MULTI,
    multi: true,
    mix: false,
};
const MIXED: Kind = Kind {
    api: CONFIRM_MIX,
    multi: false,
    mix: true,
};
const MIXED_MULTI: Kind = Kind {
    api: CONFIRM_MIX_MULTI,
    multi: true,
    mix: true,
};

/// A ticket line; with its own payment (price + fee) for the multi-pay APIs.
fn ticket(k: Kind, seat: &str, price: i64, fee: i64) -> Value {
    let mut t = json!({"seatId": seat, "ticketPrice": y(price), "ticketFee": y(fee)});
    if k.multi {
        t["paymentList"] = json!([{"paymentMethod": "Ali", "payAmount": y(price + fee)}]);
    }
    t
}

/// A goods line; with its own payment (price × count) for the multi-pay APIs.
fn goods_line(multi: bool, id: &str, count: i64, price: i64) -> Value {
    let mut g = json!({"goodsId": id, "count": count, "salePrice": y(price), "isPackage": false});
    if multi {
        g["paymentList"] = json!([{"paymentMethod": "Cash", "payAmount": y(price * count)}]);
    }
    g
}

/// A confirm body of the given kind (goods: one popcorn at 10.00 for the mixed APIs).
fn order_body(
    k: Kind,
    cinema: &str,
    sched: &(String, String),
    lock: &str,
    tickets: Vec<Value>,
) -> Value {
    let mut b = json!({"cinemaLinkId": cinema, "lockOrderId": lock, "scheduleId": sched.0, "scheduleKey": sched.1,
                       "ticketList": tickets, "mobile": "13800000000"});
    if k.mix {
        b["goodsList"] = json!([goods_line(k.multi, "1728", 1, 1000)]);
    }
    b
}

/// Locks one seat of cinema 58's 18406 and confirms it through `k`; the orderId and bookingId.
async fn order(
    server: &TestServer,
    k: Kind,
    s: &(String, String),
    out: &str,
    seat: &str,
) -> (String, String) {
    let l = lock(server, "58", s, out, &[seat]).await;
    let r = expect(
        server,
        k.api,
        &order_body(k, "58", s, &l, vec![ticket(k, seat, 3500, 100)]),
        "SUCCESS",
    )
    .await;
    let d = &r["data"]["data"];
    (
        d["orderId"].as_str().unwrap().to_string(),
        d["bookingId"].as_str().unwrap().to_string(),
    )
}

fn mutated(base: &Value, f: impl FnOnce(&mut Value)) -> Value {
    let mut b = base.clone();
    f(&mut b);
    b
}

fn remove(v: &mut Value, key: &str) {
    v.as_object_mut().expect("object").remove(key);
}

// ---------------------------------------------------------------------------------------------
// Cinema lookup: FORMAT_ERROR, NULL_ARGUMENT, CINEMA_INVALID, CHANNEL_CINEMA_NOT_FOUND
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_cinema_api_checks_the_cinema_link_id() {
    let server = TestServer::start().await;
    with_edits(&server, &[UNBOUND_VENUE]).await;
    let lock_like = json!({"lockOrderId": "20261122580000000001", "scheduleId": "18406", "scheduleKey": "0123456789ABCDEF0123456789ABCDEF"});
    let mut confirm = lock_like.clone();
    confirm["ticketList"] = json!([{"seatId": A, "ticketPrice": "35.00", "ticketFee": "1.00"}]);
    confirm["mobile"] = json!("13800000000");
    let goods = json!({"thirdOrderId": "LINK", "mobile": "13800000000", "goodsList": [{"goodsId": "1728", "count": 1, "salePrice": "10.00"}]});
    // Each API with everything but cinemaLinkId valid enough to reach the cinema check.
    let apis: Vec<(&str, Value)> = vec![
        (GET_SCHEDULES, json!({})),
        ("ykse.partner.seat.getSeats", json!({"hallId": "1"})),
        (AREA_SEATS, lock_like.clone()),
        (
            SOLD_SEATS,
            mutated(&lock_like, |b| b["sectionId"] = json!("0000000000000001")),
        ),
        (
            LOCK_SEATS,
            mutated(&lock_like, |b| {
                b["outLockId"] = json!("LINK");
                b["seatIdList"] = json!([A]);
            }),
        ),
        (
            RELEASE_SEATS,
            json!({"lockOrderId": "20261122580000000001"}),
        ),
        (CONFIRM, confirm.clone()),
        (CONFIRM_MULTI, confirm.clone()),
        (CONFIRM_MIX, confirm.clone()),
        (CONFIRM_MIX_MULTI, confirm.clone()),
        (ORDER_INFO, json!({"orderId": "20261122580000100001"})),
        (
            "ykse.partner.order.getTicketInfo",
            json!({"confirmationId": "1234567890123456"}),
        ),
        (PRINT, json!({"printId": "0000000000100001"})),
        (PRINT_STATUS, json!({"printId": "0000000000100001"})),
        (REFUND, json!({"orderId": "20261122580000100001"})),
        (REVERSE, json!({"orderId": "20261122580000100001"})),
        (REFUND_MIX, json!({"orderId": "20261122580000100001"})),
        (REVERSE_MIX, json!({"orderId": "20261122580000100001"})),
        ("ykse.partner.goods.getGoods", json!({})),
        (CONFIRM_GOODS, goods.clone()),
        (CONFIRM_GOODS_MULTI, goods.clone()),
        (GOODS_INFO, json!({"goodsOrderId": "20261122580000100001"})),
        (
            REFUND_GOODS,
            json!({"goodsOrderId": "20261122580000100001"}),
        ),
    ];
    for (api, base) in &apis {
        for (link, code) in [
            (json!({"id": "58"}), "FORMAT_ERROR"),
            (json!(["58"]), "FORMAT_ERROR"),
            (Value::Null, "NULL_ARGUMENT"),
            (json!(""), "NULL_ARGUMENT"),
            (json!("999"), "CINEMA_INVALID"),
            (json!("77"), "CHANNEL_CINEMA_NOT_FOUND"),
        ] {
            let body = mutated(base, |b| {
                if !link.is_null() {
                    b["cinemaLinkId"] = link.clone();
                }
            });
            let env = expect(&server, api, &body, code).await;
            assert!(
                env["data"].get("data").is_none() && env["data"].get("dataList").is_none(),
                "{api}: a failure carries no payload: {env}"
            );
        }
    }
    // The unbound cinema is not listed either.
    let list = call(&server, "ykse.partner.cinema.getCinemas", &json!({})).await;
    let links: Vec<&Value> = list["data"]["dataList"]
        .as_array()
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .map(|c| &c["cinemaLinkId"])
        .collect();
    assert!(
        links.contains(&&json!("58")),
        "the bound cinemas are listed: {list}"
    );
    assert!(!links.contains(&&json!("77")), "{list}");
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Base information
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn schedules_more_than_thirty_days_ahead_and_unknown_sections() {
    let server = TestServer::start().await;
    // Today is business day 2026-11-22: a start 30 days ahead is served, 31 days is not.
    let env = expect(
        &server,
        GET_SCHEDULES,
        &json!({"cinemaLinkId": "888", "startDate": "2026-12-22", "endDate": "2026-12-22"}),
        "SUCCESS",
    )
    .await;
    assert_eq!(env["data"]["dataList"], json!([]));
    for start in ["2026-12-23", "2027-6-1"] {
        expect(
            &server,
            GET_SCHEDULES,
            &json!({"cinemaLinkId": "888", "startDate": start}),
            "OVER_MAX_SCHEDULE_DAY",
        )
        .await;
    }
    // A priceQueryType that is not a scalar.
    expect(
        &server,
        GET_SCHEDULES,
        &json!({"cinemaLinkId": "888", "priceQueryType": ["default"]}),
        "FORMAT_ERROR",
    )
    .await;

    let s = schedule(&server, "58", "18406").await;
    let base = json!({"cinemaLinkId": "58", "scheduleId": s.0, "scheduleKey": s.1});
    // An unknown section → DATA_NOT_EXIST; a malformed one → FORMAT_ERROR.
    expect(
        &server,
        SOLD_SEATS,
        &mutated(&base, |b| b["sectionId"] = json!("0000000000000002")),
        "DATA_NOT_EXIST",
    )
    .await;
    expect(
        &server,
        SOLD_SEATS,
        &mutated(&base, |b| b["sectionId"] = json!(["0000000000000001"])),
        "FORMAT_ERROR",
    )
    .await;
    // A malformed or missing schedule field.
    expect(
        &server,
        SOLD_SEATS,
        &mutated(&base, |b| {
            b["sectionId"] = json!("0000000000000001");
            b["scheduleKey"] = json!({"k": 1});
        }),
        "FORMAT_ERROR",
    )
    .await;
    expect(
        &server,
        AREA_SEATS,
        &mutated(&base, |b| b["scheduleId"] = json!([18406])),
        "FORMAT_ERROR",
    )
    .await;
    expect(
        &server,
        AREA_SEATS,
        &mutated(&base, |b| remove(b, "scheduleKey")),
        "NULL_ARGUMENT",
    )
    .await;
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// releaseSeats
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn releasing_a_confirmed_lock_is_lockseat_unmatch() {
    let server = TestServer::start().await;
    let s = schedule(&server, "58", "18406").await;
    let l = lock(&server, "58", &s, "REL", &[A]).await;
    expect(
        &server,
        CONFIRM,
        &order_body(TICKETS, "58", &s, &l, vec![ticket(TICKETS, A, 3500, 100)]),
        "SUCCESS",
    )
    .await;
    let release = json!({"cinemaLinkId": "58", "lockOrderId": l});
    expect(&server, RELEASE_SEATS, &release, "LOCKSEAT_UNMATCH").await;
    // The order stands.
    let info = expect(
        &server,
        ORDER_INFO,
        &json!({"cinemaLinkId": "58", "lockOrderId": l}),
        "SUCCESS",
    )
    .await;
    assert_eq!(info["data"]["data"]["status"], "ticket_success");
    expect(
        &server,
        RELEASE_SEATS,
        &json!({"cinemaLinkId": "58", "lockOrderId": ["x"]}),
        "FORMAT_ERROR",
    )
    .await;
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// The four confirm APIs
// ---------------------------------------------------------------------------------------------

async fn confirm_codes(k: Kind) {
    let server = TestServer::start().await;
    with_edits(&server, &[VIP_ABOVE_BASE]).await;
    let s = schedule(&server, "58", "18406").await;
    let s56 = schedule(&server, "56", "7054").await;
    let l = lock(&server, "58", &s, "L1", &[A, B]).await;
    let tk = |seat: &str, price: i64, fee: i64| ticket(k, seat, price, fee);
    let ok = order_body(k, "58", &s, &l, vec![tk(A, 3500, 100), tk(B, 3500, 100)]);
    let with_tickets = |t: Vec<Value>| order_body(k, "58", &s, &l, t);

    let mut cases: Vec<(&str, Value, &str)> = vec![
        (
            "no lockOrderId",
            mutated(&ok, |b| remove(b, "lockOrderId")),
            "NULL_ARGUMENT",
        ),
        (
            "lockOrderId not a scalar",
            mutated(&ok, |b| b["lockOrderId"] = json!({"id": 1})),
            "FORMAT_ERROR",
        ),
        (
            "no scheduleKey",
            mutated(&ok, |b| remove(b, "scheduleKey")),
            "NULL_ARGUMENT",
        ),
        (
            "unknown schedule",
            mutated(&ok, |b| b["scheduleId"] = json!("99999")),
            "SCHEDULE_NOT_FOUND",
        ),
        (
            "stale scheduleKey",
            mutated(&ok, |b| {
                b["scheduleKey"] = json!("0123456789ABCDEF0123456789ABCDEF")
            }),
            "SCHEDULE_HAS_CHANGED",
        ),
        (
            "unknown lock",
            mutated(&ok, |b| b["lockOrderId"] = json!("20261122580000009999")),
            "ORDER_NOT_FOUND",
        ),
        (
            "the lock at another cinema",
            mutated(&ok, |b| {
                b["cinemaLinkId"] = json!("56");
                b["scheduleId"] = json!(s56.0);
                b["scheduleKey"] = json!(s56.1);
            }),
            "ORDER_NOT_FOUND",
        ),
        (
            "no mobile",
            mutated(&ok, |b| remove(b, "mobile")),
            "NULL_ARGUMENT",
        ),
        (
            "mobile of 10 digits",
            mutated(&ok, |b| b["mobile"] = json!("1380000000")),
            "FORMAT_ERROR",
        ),
        (
            "mobile not a scalar",
            mutated(&ok, |b| b["mobile"] = json!(["13800000000"])),
            "FORMAT_ERROR",
        ),
        (
            "a card paymentList",
            mutated(
                &ok,
                |b| b["paymentList"] = json!([{"paymentMethod": "MemberCard", "payCardInfo": {"cardNumber": "6810000001"}}]),
            ),
            "PAYMENT_METHOD_ERROR",
        ),
        (
            "isBenefit",
            mutated(&ok, |b| b["ticketList"][0]["isBenefit"] = json!(true)),
            "PAYMENT_METHOD_ERROR",
        ),
        (
            "isCardDiscount",
            mutated(&ok, |b| {
                b["ticketList"][1]["isCardDiscount"] = json!("true")
            }),
            "PAYMENT_METHOD_ERROR",
        ),
        (
            "ticketList not a list",
            mutated(&ok, |b| b["ticketList"] = json!("oops")),
            "SEAT_INFO_ERROR",
        ),
        ("no tickets", with_tickets(vec![]), "SEAT_INFO_NOT_NULL"),
        (
            "one of two seats",
            with_tickets(vec![tk(A, 3500, 100)]),
            "SEAT_COUNT_ERROR",
        ),
        (
            "a seat outside the lock",
            with_tickets(vec![tk(A, 3500, 100), tk(C, 3500, 100)]),
            "SEAT_INFO_ERROR",
        ),
        (
            "the same seat twice",
            with_tickets(vec![tk(A, 3500, 100), tk(A, 3500, 100)]),
            "SEAT_INFO_ERROR",
        ),
        (
            "a ticket without seatId",
            mutated(&ok, |b| remove(&mut b["ticketList"][0], "seatId")),
            "SEAT_INFO_ERROR",
        ),
        (
            "a ticket without ticketPrice",
            mutated(&ok, |b| remove(&mut b["ticketList"][0], "ticketPrice")),
            "NULL_ARGUMENT",
        ),
        (
            "a ticket without ticketFee",
            mutated(&ok, |b| remove(&mut b["ticketList"][1], "ticketFee")),
            "NULL_ARGUMENT",
        ),
        (
            "ticketFee not money",
            mutated(&ok, |b| b["ticketList"][0]["ticketFee"] = json!("1.0.0")),
            "FORMAT_ERROR",
        ),
        (
            "zero price",
            with_tickets(vec![tk(A, 0, 100), tk(B, 0, 100)]),
            "TICKET_PRICE_ERROR",
        ),
        (
            "below the lowest price",
            with_tickets(vec![tk(A, 3500, 100), tk(B, 3499, 100)]),
            "LOW_THAN_LEAST_PRICE_ERROR",
        ),
        (
            "another fee",
            with_tickets(vec![tk(A, 3500, 0), tk(B, 3500, 0)]),
            "TICKET_FEE_ERROR",
        ),
    ];
    if k.multi {
        cases.extend([
            (
                "a ticket without payments",
                mutated(&ok, |b| remove(&mut b["ticketList"][0], "paymentList")),
                "NULL_ARGUMENT",
            ),
            (
                "an unknown payment method",
                mutated(&ok, |b| {
                    b["ticketList"][0]["paymentList"][0]["paymentMethod"] = json!("ali")
                }),
                "PAYMENT_METHOD_ERROR",
            ),
            (
                "a payment without payAmount",
                mutated(&ok, |b| {
                    remove(&mut b["ticketList"][0]["paymentList"][0], "payAmount")
                }),
                "NULL_ARGUMENT",
            ),
            (
                "payAmount not money",
                mutated(&ok, |b| {
                    b["ticketList"][0]["paymentList"][0]["payAmount"] = json!("abc")
                }),
                "FORMAT_ERROR",
            ),
            (
                "payments short of price + fee",
                mutated(&ok, |b| {
                    b["ticketList"][1]["paymentList"][0]["payAmount"] = json!("35.00")
                }),
                "PAYMENT_AMOUNT_ERROR",
            ),
            (
                "an incomplete thirdPartPayment",
                mutated(&ok, |b| {
                    b["ticketList"][0]["paymentList"][0]["thirdPartPayment"] =
                        json!({"outTradeNo": "O1"})
                }),
                "NULL_ARGUMENT",
            ),
            (
                "a paymentList at the top",
                mutated(&ok, |b| {
                    b["paymentList"] = json!([{"paymentMethod": "Ali", "payAmount": "72.00"}])
                }),
                "PAYMENT_METHOD_ERROR",
            ),
        ]);
    } else {
        cases.push((
            "per-ticket payments",
            mutated(&ok, |b| {
                b["ticketList"][0]["paymentList"] =
                    json!([{"paymentMethod": "Ali", "payAmount": "36.00"}])
            }),
            "PAYMENT_METHOD_ERROR",
        ));
    }
    if k.mix {
        let line = |id: &str, count: i64, price: i64| goods_line(k.multi, id, count, price);
        cases.extend([
            (
                "no goodsList",
                mutated(&ok, |b| remove(b, "goodsList")),
                "GOODS_INFO_NOT_NULL",
            ),
            (
                "an empty goodsList",
                mutated(&ok, |b| b["goodsList"] = json!([])),
                "GOODS_INFO_NOT_NULL",
            ),
            (
                "goodsList not a list",
                mutated(&ok, |b| b["goodsList"] = json!("oops")),
                "GOODS_INFO_ERROR",
            ),
            (
                "a goods line without count",
                mutated(&ok, |b| remove(&mut b["goodsList"][0], "count")),
                "GOODS_INFO_ERROR",
            ),
            (
                "zero goods",
                mutated(&ok, |b| b["goodsList"] = json!([line("1728", 0, 1000)])),
                "GOODS_INFO_ERROR",
            ),
            (
                "salePrice not money",
                mutated(&ok, |b| b["goodsList"][0]["salePrice"] = json!("ten")),
                "FORMAT_ERROR",
            ),
            (
                "unknown goods",
                mutated(&ok, |b| b["goodsList"] = json!([line("nope", 1, 1000)])),
                "GOODS_NOT_FOUND",
            ),
            (
                "more than maxBuyCount",
                mutated(&ok, |b| b["goodsList"] = json!([line("1728", 11, 1000)])),
                "GOODS_AMOUNT_ERROR",
            ),
            (
                "a zero goods price",
                mutated(&ok, |b| b["goodsList"] = json!([line("80000000003", 1, 0)])),
                "GOODS_PRICE_ERROR",
            ),
            (
                "below the goods settle price",
                mutated(&ok, |b| b["goodsList"] = json!([line("1728", 1, 999)])),
                "GOODS_PRICE_LESS",
            ),
            (
                "goods isCardDiscount",
                mutated(&ok, |b| b["goodsList"][0]["isCardDiscount"] = json!(true)),
                "PAYMENT_METHOD_ERROR",
            ),
        ]);
        if k.multi {
            cases.extend([
                (
                    "a goods line without payments",
                    mutated(&ok, |b| remove(&mut b["goodsList"][0], "paymentList")),
                    "NULL_ARGUMENT",
                ),
                (
                    "goods payments short of price × count",
                    mutated(&ok, |b| {
                        b["goodsList"][0]["paymentList"][0]["payAmount"] = json!("9.00")
                    }),
                    "PAYMENT_AMOUNT_ERROR",
                ),
                (
                    "an unknown goods payment method",
                    mutated(&ok, |b| {
                        b["goodsList"][0]["paymentList"][0]["paymentMethod"] = json!("Card")
                    }),
                    "PAYMENT_METHOD_ERROR",
                ),
            ]);
        } else {
            cases.push((
                "goods payments",
                mutated(&ok, |b| {
                    b["goodsList"][0]["paymentList"] =
                        json!([{"paymentMethod": "Cash", "payAmount": "10.00"}])
                }),
                "PAYMENT_METHOD_ERROR",
            ));
        }
    } else {
        cases.push((
            "goods on a ticket-only API",
            mutated(&ok, |b| {
                b["goodsList"] = json!([goods_line(k.multi, "1728", 1, 1000)])
            }),
            "GOODS_INFO_ERROR",
        ));
    }
    for (what, body, code) in &cases {
        let env = call(&server, k.api, body).await;
        assert_eq!(biz(&env), *code, "{}: {what}: {env}", k.api);
    }

    // Cinema 888 (no booking fee): the base area below its settle price (34669: 80.00, with a
    // 20.00 VIP area), and a VIP seat below its area price (34668, edited: VIP 90.00 > 80.00).
    let s669 = schedule(&server, "888", "34669").await;
    let plain = "0000000000000001-3-05";
    let l669 = lock(&server, "888", &s669, "L669", &[plain]).await;
    expect(
        &server,
        k.api,
        &order_body(k, "888", &s669, &l669, vec![tk(plain, 7999, 0)]),
        "LOW_THAN_SETTLE_PRICE_ERROR",
    )
    .await;
    let s668 = schedule(&server, "888", "34668").await;
    let vip = "0000000000000002-1-06";
    let l668 = lock(&server, "888", &s668, "L668", &[vip]).await;
    expect(
        &server,
        k.api,
        &order_body(k, "888", &s668, &l668, vec![tk(vip, 8500, 0)]),
        "AREA_SEAT_LOW_THAN_AREA_SETTLE_PRICE_ERROR",
    )
    .await;
    expect(
        &server,
        k.api,
        &order_body(k, "888", &s668, &l668, vec![tk(vip, 9000, 0)]),
        "SUCCESS",
    )
    .await;

    // A lock of another schedule → LOCKSEAT_UNMATCH.
    let s407 = schedule(&server, "58", "18407").await;
    let lm = lock(&server, "58", &s, "LM", &[C]).await;
    expect(
        &server,
        k.api,
        &order_body(k, "58", &s407, &lm, vec![tk(C, 3500, 100)]),
        "LOCKSEAT_UNMATCH",
    )
    .await;
    // A released lock → ORDER_SEAT_ERROR.
    let lr = lock(&server, "58", &s, "LR", &[D]).await;
    expect(
        &server,
        RELEASE_SEATS,
        &json!({"cinemaLinkId": "58", "lockOrderId": lr}),
        "SUCCESS",
    )
    .await;
    expect(
        &server,
        k.api,
        &order_body(k, "58", &s, &lr, vec![tk(D, 3500, 100)]),
        "ORDER_SEAT_ERROR",
    )
    .await;

    // None of the refusals consumed lock L1: it confirms, a replay answers the same, another
    // request on it is refused.
    let done = expect(&server, k.api, &ok, "SUCCESS").await;
    assert_eq!(call(&server, k.api, &ok).await, done, "replay");
    expect(
        &server,
        k.api,
        &mutated(&ok, |b| b["mobile"] = json!("13900000000")),
        "REQUEST_PARAM_INCONFORMITY_ERROR",
    )
    .await;
    // Confirming a lock is not also possible through the other confirm APIs.
    for other in [TICKETS, TICKETS_MULTI, MIXED, MIXED_MULTI] {
        if other.api != k.api {
            let b = order_body(
                other,
                "58",
                &s,
                &l,
                vec![ticket(other, A, 3500, 100), ticket(other, B, 3500, 100)],
            );
            expect(&server, other.api, &b, "REQUEST_PARAM_INCONFORMITY_ERROR").await;
        }
    }

    // An expired lock (15 minutes) → ORDER_SEAT_ERROR.
    let le = lock(&server, "58", &s, "LE", &[E]).await;
    server.clock.advance(Duration::minutes(16));
    expect(
        &server,
        k.api,
        &order_body(k, "58", &s, &le, vec![tk(E, 3500, 100)]),
        "ORDER_SEAT_ERROR",
    )
    .await;

    // A lock taken at 09:34 tomorrow, confirmed after the 09:35 cut-off → ORDER_TICKET_TIME_END.
    let start = boxoffice_server::testing::test_start();
    server
        .clock
        .set(start + Duration::hours(23) + Duration::minutes(34));
    let lt = lock(&server, "58", &s, "LT", &[F]).await;
    server
        .clock
        .set(start + Duration::hours(23) + Duration::minutes(36));
    expect(
        &server,
        k.api,
        &order_body(k, "58", &s, &lt, vec![tk(F, 3500, 100)]),
        "ORDER_TICKET_TIME_END",
    )
    .await;
    // The seat is still held by that lock.
    let sold = call(
        &server,
        SOLD_SEATS,
        &json!({"cinemaLinkId": "58", "scheduleId": s.0, "scheduleKey": s.1, "sectionId": "0000000000000001"}),
    )
    .await;
    assert!(
        sold["data"]["data"]["sectionList"][0]["seats"]
            .as_array()
            .unwrap()
            .contains(&json!({"seatId": F})),
        "{sold}"
    );
    server.stop().await;
}

#[tokio::test]
async fn confirm_order_codes() {
    confirm_codes(TICKETS).await;
}

#[tokio::test]
async fn confirm_order_for_multi_pay_codes() {
    confirm_codes(TICKETS_MULTI).await;
}

#[tokio::test]
async fn confirm_mix_order_codes() {
    confirm_codes(MIXED).await;
}

#[tokio::test]
async fn confirm_mix_order_for_multi_pay_codes() {
    confirm_codes(MIXED_MULTI).await;
}

// ---------------------------------------------------------------------------------------------
// Printing, ticket-order refunds and reversals
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn print_status_refunds_and_reversals_of_ticket_orders() {
    let server = TestServer::start().await;
    let s = schedule(&server, "58", "18406").await;
    // An unknown printId → CONFIRMATIONID_WRONG, also for the status query.
    for id in ["0000000000999999", "100001", "abc"] {
        expect(
            &server,
            PRINT_STATUS,
            &json!({"cinemaLinkId": "58", "printId": id}),
            "CONFIRMATIONID_WRONG",
        )
        .await;
    }
    // A refunded order cannot be printed.
    let (refunded, print_id) = order(&server, TICKETS, &s, "P1", A).await;
    expect(
        &server,
        REFUND,
        &json!({"cinemaLinkId": "58", "orderId": refunded}),
        "SUCCESS",
    )
    .await;
    let print = json!({"cinemaLinkId": "58", "printId": print_id});
    expect(&server, PRINT_STATUS, &print, "PRINT_TICKET_NOT_ALLOW").await;
    let env = expect(&server, PRINT, &print, "PRINT_TICKET_NOT_ALLOW").await;
    assert_eq!(env["data"]["data"], print);
    // A refunded (not reversed) order cannot be reversed.
    expect(
        &server,
        REVERSE,
        &json!({"cinemaLinkId": "58", "orderId": refunded}),
        "REVERSE_TICKET_STATUS_INCORRECT",
    )
    .await;

    // A printed order cannot be reversed.
    let (printed, print_id) = order(&server, TICKETS, &s, "P2", B).await;
    expect(
        &server,
        PRINT,
        &json!({"cinemaLinkId": "58", "printId": print_id}),
        "SUCCESS",
    )
    .await;
    server.clock.advance(Duration::minutes(13));
    expect(
        &server,
        REVERSE,
        &json!({"cinemaLinkId": "58", "orderId": printed}),
        "TICKET_HAS_PRINT",
    )
    .await;

    // Unknown orders, and a goods order's id, are not ticket orders.
    let g = expect(
        &server,
        CONFIRM_GOODS,
        &json!({"cinemaLinkId": "58", "thirdOrderId": "GX", "mobile": "13800000000", "goodsList": [{"goodsId": "1728", "count": 1, "salePrice": "10.00"}]}),
        "SUCCESS",
    )
    .await;
    let goods_id = g["data"]["data"]["goodsOrderId"].as_str().unwrap();
    for api in [REFUND, REVERSE, REFUND_MIX, REVERSE_MIX] {
        for id in ["20261122580000999999", "x", goods_id] {
            expect(
                &server,
                api,
                &json!({"cinemaLinkId": "58", "orderId": id}),
                "ORDER_NOT_FOUND",
            )
            .await;
        }
        // Another cinema's order.
        expect(
            &server,
            api,
            &json!({"cinemaLinkId": "56", "orderId": printed}),
            "ORDER_NOT_FOUND",
        )
        .await;
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Mixed-order refunds and reversals
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn refund_mix_order_follows_print_time_and_limit_rules() {
    let server = TestServer::start().await;
    with_edits(
        &server,
        &[(
            CINEMA_58_POLICY,
            "refund_before_minutes = 60\nrefund_limit_per_session = 1\nsales_cutoff_minutes = -20",
        )],
    )
    .await;
    let s = schedule(&server, "58", "18406").await;
    let (m1, _) = order(&server, MIXED, &s, "M1", A).await;
    let (m2, _) = order(&server, MIXED_MULTI, &s, "M2", B).await;
    let (m3, p3) = order(&server, MIXED, &s, "M3", C).await;
    expect(
        &server,
        PRINT,
        &json!({"cinemaLinkId": "58", "printId": p3}),
        "SUCCESS",
    )
    .await;
    let target = |id: &str| json!({"cinemaLinkId": "58", "orderId": id});
    expect(&server, REFUND_MIX, &target(&m3), "TICKET_HAS_PRINT").await;
    expect(&server, REFUND_MIX, &target(&m1), "SUCCESS").await;
    expect(&server, REFUND_MIX, &target(&m2), "OVER_REFUND_UPPER_LIMIT").await;
    // Later than 60 minutes before the 09:55 show → CANCEL_TIME_ERROR.
    server
        .clock
        .set(boxoffice_server::testing::test_start() + Duration::hours(22) + Duration::minutes(56));
    expect(&server, REFUND_MIX, &target(&m2), "CANCEL_TIME_ERROR").await;
    server.stop().await;
}

#[tokio::test]
async fn refund_mix_order_without_a_refund_policy() {
    let server = TestServer::start().await;
    with_edits(
        &server,
        &[(
            CINEMA_58_POLICY,
            "refund_limit_per_session = 100\nsales_cutoff_minutes = -20",
        )],
    )
    .await;
    let s = schedule(&server, "58", "18406").await;
    let (m, _) = order(&server, MIXED, &s, "NP", A).await;
    expect(
        &server,
        REFUND_MIX,
        &json!({"cinemaLinkId": "58", "orderId": m}),
        "REFUND_POLICY_NOT_FOUND",
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn reverse_mix_order_window_status_and_idempotency() {
    let server = TestServer::start().await;
    let s = schedule(&server, "58", "18406").await;
    let target = |id: &str| json!({"cinemaLinkId": "58", "orderId": id});
    // Confirmed at once: too early, then never reversible.
    let (fast, _) = order(&server, MIXED, &s, "FAST", A).await;
    expect(
        &server,
        REVERSE_MIX,
        &target(&fast),
        "REVERSE_TICKET_NO_TIME_YET",
    )
    .await;
    // Printed.
    let (printed, p) = order(&server, MIXED_MULTI, &s, "PRINTED", B).await;
    expect(
        &server,
        PRINT,
        &json!({"cinemaLinkId": "58", "printId": p}),
        "SUCCESS",
    )
    .await;
    expect(&server, REVERSE_MIX, &target(&printed), "TICKET_HAS_PRINT").await;
    // Refunded.
    let (refunded, _) = order(&server, MIXED, &s, "REFUNDED", C).await;
    expect(&server, REFUND_MIX, &target(&refunded), "SUCCESS").await;
    expect(
        &server,
        REVERSE_MIX,
        &target(&refunded),
        "REVERSE_TICKET_STATUS_INCORRECT",
    )
    .await;
    // First request refused, success 13 minutes later: reversible.
    let l = lock(&server, "58", &s, "SLOW", &[D]).await;
    expect(
        &server,
        CONFIRM_MIX,
        &order_body(MIXED, "58", &s, &l, vec![ticket(MIXED, D, 100, 100)]),
        "LOW_THAN_LEAST_PRICE_ERROR",
    )
    .await;
    server.clock.advance(Duration::minutes(13));
    let r = expect(
        &server,
        CONFIRM_MIX,
        &order_body(MIXED, "58", &s, &l, vec![ticket(MIXED, D, 3500, 100)]),
        "SUCCESS",
    )
    .await;
    let slow = r["data"]["data"]["orderId"].as_str().unwrap().to_string();
    expect(
        &server,
        REVERSE_MIX,
        &target(&fast),
        "REVERSE_TICKET_STATUS_INCORRECT",
    )
    .await;
    let ok = expect(&server, REVERSE_MIX, &target(&slow), "SUCCESS").await;
    assert_eq!(ok["data"]["data"], target(&slow));
    expect(&server, REVERSE_MIX, &target(&slow), "SUCCESS").await;
    let info = expect(&server, ORDER_INFO, &target(&slow), "SUCCESS").await;
    assert_eq!(info["data"]["data"]["status"], "reverse_success");
    // At or after the show's start → CANCEL_TIME_ERROR.
    server
        .clock
        .set(boxoffice_server::testing::test_start() + Duration::days(1));
    expect(&server, REVERSE_MIX, &target(&fast), "CANCEL_TIME_ERROR").await;
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Goods orders
// ---------------------------------------------------------------------------------------------

async fn goods_confirm_codes(api: &str, multi: bool) {
    let server = TestServer::start().await;
    let line = |id: &str, count: i64, price: i64| goods_line(multi, id, count, price);
    let ok = json!({"cinemaLinkId": "58", "thirdOrderId": "GOK", "mobile": "13800000000",
                    "goodsList": [line("1728", 2, 1000), line("8160812223149", 1, 4500)]});
    let mut cases: Vec<(&str, Value, &str)> = vec![
        (
            "no thirdOrderId",
            mutated(&ok, |b| remove(b, "thirdOrderId")),
            "NULL_ARGUMENT",
        ),
        (
            "thirdOrderId over 64 characters",
            mutated(&ok, |b| b["thirdOrderId"] = json!("T".repeat(65))),
            "FORMAT_ERROR",
        ),
        (
            "thirdOrderId not a scalar",
            mutated(&ok, |b| b["thirdOrderId"] = json!({"id": 1})),
            "FORMAT_ERROR",
        ),
        (
            "no mobile",
            mutated(&ok, |b| remove(b, "mobile")),
            "NULL_ARGUMENT",
        ),
        (
            "mobile not 1 + 10 digits",
            mutated(&ok, |b| b["mobile"] = json!("23800000000")),
            "FORMAT_ERROR",
        ),
        (
            "mobile not a scalar",
            mutated(&ok, |b| b["mobile"] = json!({"m": "13800000000"})),
            "FORMAT_ERROR",
        ),
        (
            "paymentList not a list",
            mutated(&ok, |b| b["paymentList"] = json!("[oops")),
            "FORMAT_ERROR",
        ),
        (
            "a card paymentList",
            mutated(
                &ok,
                |b| b["paymentList"] = json!([{"paymentMethod": "MemberCard", "payCardInfo": {"cardNumber": "6810000001"}}]),
            ),
            "PAYMENT_METHOD_ERROR",
        ),
        (
            "no goodsList",
            mutated(&ok, |b| remove(b, "goodsList")),
            "GOODS_INFO_NOT_NULL",
        ),
        (
            "an empty goodsList",
            mutated(&ok, |b| b["goodsList"] = json!([])),
            "GOODS_INFO_NOT_NULL",
        ),
        (
            "goodsList not a list",
            mutated(&ok, |b| b["goodsList"] = json!({"goodsId": "1728"})),
            "GOODS_INFO_ERROR",
        ),
        (
            "a goods line not an object",
            mutated(&ok, |b| b["goodsList"] = json!(["1728"])),
            "GOODS_INFO_ERROR",
        ),
        (
            "a goods line without goodsId",
            mutated(&ok, |b| remove(&mut b["goodsList"][0], "goodsId")),
            "GOODS_INFO_ERROR",
        ),
        (
            "a count that is not a number",
            mutated(&ok, |b| b["goodsList"][0]["count"] = json!("two")),
            "GOODS_INFO_ERROR",
        ),
        (
            "a goods line without salePrice",
            mutated(&ok, |b| remove(&mut b["goodsList"][0], "salePrice")),
            "GOODS_INFO_ERROR",
        ),
        (
            "zero goods",
            mutated(&ok, |b| b["goodsList"][0] = line("1728", 0, 1000)),
            "GOODS_INFO_ERROR",
        ),
        (
            "salePrice not money",
            mutated(&ok, |b| b["goodsList"][0]["salePrice"] = json!("10.001")),
            "FORMAT_ERROR",
        ),
        (
            "isCardDiscount",
            mutated(&ok, |b| b["goodsList"][1]["isCardDiscount"] = json!("true")),
            "PAYMENT_METHOD_ERROR",
        ),
        (
            "unknown goods",
            mutated(&ok, |b| b["goodsList"][1] = line("4322", 1, 1000)),
            "GOODS_NOT_FOUND",
        ),
        (
            "more than maxBuyCount",
            mutated(&ok, |b| b["goodsList"][0] = line("1728", 11, 1000)),
            "GOODS_AMOUNT_ERROR",
        ),
        (
            "a zero price",
            mutated(&ok, |b| b["goodsList"][1] = line("8160812223149", 1, 0)),
            "GOODS_PRICE_ERROR",
        ),
        (
            "below the settle price",
            mutated(&ok, |b| b["goodsList"][1] = line("8160812223149", 1, 3999)),
            "GOODS_PRICE_LESS",
        ),
    ];
    if multi {
        cases.extend([
            (
                "a line without payments",
                mutated(&ok, |b| remove(&mut b["goodsList"][0], "paymentList")),
                "NULL_ARGUMENT",
            ),
            (
                "an unknown payment method",
                mutated(&ok, |b| {
                    b["goodsList"][0]["paymentList"][0]["paymentMethod"] = json!("WECHAT")
                }),
                "PAYMENT_METHOD_ERROR",
            ),
            (
                "a member-card line payment",
                mutated(&ok, |b| {
                    b["goodsList"][0]["paymentList"][0]["paymentMethod"] = json!("MemberCard")
                }),
                "PAYMENT_METHOD_ERROR",
            ),
            (
                "payAmount not money",
                mutated(&ok, |b| {
                    b["goodsList"][0]["paymentList"][0]["payAmount"] = json!("x")
                }),
                "FORMAT_ERROR",
            ),
            (
                "a payment line not an object",
                mutated(&ok, |b| b["goodsList"][0]["paymentList"] = json!(["Cash"])),
                "FORMAT_ERROR",
            ),
            (
                "payments short of price × count",
                mutated(&ok, |b| {
                    b["goodsList"][0]["paymentList"][0]["payAmount"] = json!("10.00")
                }),
                "PAYMENT_AMOUNT_ERROR",
            ),
            (
                "an incomplete thirdPartPayment",
                mutated(&ok, |b| {
                    b["goodsList"][1]["paymentList"][0]["thirdPartPayment"] =
                        json!({"thirdTradeNo": "T1"})
                }),
                "NULL_ARGUMENT",
            ),
        ]);
    } else {
        cases.push((
            "line payments",
            mutated(&ok, |b| {
                b["goodsList"][0]["paymentList"] =
                    json!([{"paymentMethod": "Cash", "payAmount": "20.00"}])
            }),
            "PAYMENT_METHOD_ERROR",
        ));
    }
    for (what, body, code) in &cases {
        let env = call(&server, api, body).await;
        assert_eq!(biz(&env), *code, "{api}: {what}: {env}");
    }
    // None of the refusals used the thirdOrderId.
    let done = expect(&server, api, &ok, "SUCCESS").await;
    assert_eq!(done["data"]["data"]["totalGoodsPrice"], "65.00");
    assert_eq!(call(&server, api, &ok).await, done, "replay");
    expect(
        &server,
        api,
        &mutated(&ok, |b| b["mobile"] = json!("13900000000")),
        "REQUEST_PARAM_INCONFORMITY_ERROR",
    )
    .await;
    let other = if multi {
        CONFIRM_GOODS
    } else {
        CONFIRM_GOODS_MULTI
    };
    let other_body = json!({"cinemaLinkId": "58", "thirdOrderId": "GOK", "mobile": "13800000000",
                            "goodsList": [goods_line(!multi, "1728", 2, 1000), goods_line(!multi, "8160812223149", 1, 4500)]});
    expect(
        &server,
        other,
        &other_body,
        "REQUEST_PARAM_INCONFORMITY_ERROR",
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn confirm_goods_order_codes() {
    goods_confirm_codes(CONFIRM_GOODS, false).await;
}

#[tokio::test]
async fn confirm_goods_order_for_multi_pay_codes() {
    goods_confirm_codes(CONFIRM_GOODS_MULTI, true).await;
}

#[tokio::test]
async fn goods_order_lookups_need_a_goods_order_of_the_cinema() {
    let server = TestServer::start().await;
    let s = schedule(&server, "58", "18406").await;
    let (ticket_order, _) = order(&server, TICKETS, &s, "T1", A).await;
    let (mixed_order, _) = order(&server, MIXED, &s, "T2", B).await;
    let g = expect(
        &server,
        CONFIRM_GOODS,
        &json!({"cinemaLinkId": "58", "thirdOrderId": "GL", "mobile": "13800000000", "goodsList": [{"goodsId": "1728", "count": 1, "salePrice": "10.00"}]}),
        "SUCCESS",
    )
    .await;
    let goods_id = g["data"]["data"]["goodsOrderId"]
        .as_str()
        .unwrap()
        .to_string();
    for api in [GOODS_INFO, REFUND_GOODS] {
        for id in ["20261122580000999999", "short", ticket_order.as_str()] {
            expect(
                &server,
                api,
                &json!({"cinemaLinkId": "58", "goodsOrderId": id}),
                "ORDER_NOT_FOUND",
            )
            .await;
        }
        // A mixed order is queried with getOrderInfo and refunded with refundMixOrder (G-GDS-6).
        let mixed_code = if api == REFUND_GOODS {
            "REFUND_ORDER_TYPE_NOT_MATCH"
        } else {
            "ORDER_NOT_FOUND"
        };
        expect(
            &server,
            api,
            &json!({"cinemaLinkId": "58", "goodsOrderId": mixed_order}),
            mixed_code,
        )
        .await;
        // Another cinema of the channel.
        expect(
            &server,
            api,
            &json!({"cinemaLinkId": "888", "goodsOrderId": goods_id}),
            "ORDER_NOT_FOUND",
        )
        .await;
        expect(
            &server,
            api,
            &json!({"cinemaLinkId": "58", "goodsOrderId": {"id": goods_id}}),
            "FORMAT_ERROR",
        )
        .await;
    }
    // The goods order itself is intact.
    expect(
        &server,
        GOODS_INFO,
        &json!({"cinemaLinkId": "58", "goodsOrderId": goods_id}),
        "SUCCESS",
    )
    .await;
    server.stop().await;
}

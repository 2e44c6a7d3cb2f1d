//! Yueke ticket orders over HTTP: confirmOrder (prices, fees, idempotency), getOrderInfo,
//! getTicketInfo, printTicket, getOrderPrintStatus, refundOrder and reverseOrder with their
//! time rules on the injected clock.

mod common;
use chrono::Duration;
use common::*;
use serde_json::{json, Value};

/// A signed `/route` GET for the demo channel at the server's clock.
async fn call(server: &TestServer, api: &str, data: &Value) -> Value {
    yueke_call(&server.url, server.app.service.now_ms(), api, data).await
}

fn biz(v: &Value) -> &str {
    v["data"]["bizCode"]
        .as_str()
        .unwrap_or_else(|| panic!("no bizCode: {v}"))
}

/// Schedule id and key of a demo session at cinema 58 (18406, tomorrow 09:55, 35.00 + 1.00).
async fn schedule(server: &TestServer, cinema: &str, id: &str) -> (String, String) {
    let r = call(
        server,
        "ykse.partner.schedule.getSchedules",
        &json!({"cinemaLinkId": cinema, "startDate": "2026-11-23", "endDate": "2026-11-25"}),
    )
    .await;
    let s = r["data"]["dataList"]
        .as_array()
        .unwrap()
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
    let r = call(
        server,
        "ykse.partner.seat.lockSeats",
        &json!({"cinemaLinkId": cinema, "scheduleId": sched.0, "scheduleKey": sched.1, "outLockId": out, "seatIdList": seats}),
    )
    .await;
    assert_eq!(biz(&r), "SUCCESS", "{r}");
    r["data"]["data"]["lockOrderId"]
        .as_str()
        .unwrap()
        .to_string()
}

fn confirm_body(
    cinema: &str,
    sched: &(String, String),
    lock: &str,
    seats: &[&str],
    price: &str,
    fee: &str,
) -> Value {
    json!({
        "cinemaLinkId": cinema, "lockOrderId": lock, "scheduleId": sched.0, "scheduleKey": sched.1,
        "ticketList": seats.iter().map(|s| json!({"seatId": s, "ticketPrice": price, "ticketFee": fee})).collect::<Vec<_>>(),
        "mobile": "13800000000"
    })
}

const A: &str = "0000000000000001-5-07";
const B: &str = "0000000000000001-5-08";

#[tokio::test]
async fn confirm_order_books_the_lock_and_a_replay_returns_the_same_order() {
    let server = TestServer::start().await;
    let s = schedule(&server, "58", "18406").await;
    let l = lock(&server, "58", &s, "OUT1", &[A, B]).await;
    let body = confirm_body("58", &s, &l, &[A, B], "39.90", "1.00");
    let r = call(&server, "ykse.partner.order.confirmOrder", &body).await;
    assert_eq!(r["retCode"], "0");
    assert_eq!(biz(&r), "SUCCESS", "{r}");
    let d = &r["data"]["data"];
    let order_id = d["orderId"].as_str().unwrap();
    assert_eq!(order_id, "20261122580000100001");
    assert_eq!(d["bookingId"], "0000000000100001");
    let conf = d["confirmationId"].as_str().unwrap();
    assert!(
        conf.len() == 16 && conf.chars().all(|c| c.is_ascii_digit()),
        "{conf}"
    );
    assert_eq!(
        d["tickets"],
        json!([
            {"ticketNo": "0000100001000001", "seatId": A, "seatCode": "0000000001008006", "sectionId": "0000000000000001", "rowId": "5", "columnId": "07", "serviceFee": "1.00"},
            {"ticketNo": "0000100001000002", "seatId": B, "seatCode": "0000000001008007", "sectionId": "0000000000000001", "rowId": "5", "columnId": "08", "serviceFee": "1.00"}
        ])
    );
    // Idempotent on the lock: the same request answers the same order…
    assert_eq!(
        call(&server, "ykse.partner.order.confirmOrder", &body).await,
        r
    );
    // …and a different one is refused.
    let mut other = body.clone();
    other["mobile"] = json!("13900000000");
    assert_eq!(
        biz(&call(&server, "ykse.partner.order.confirmOrder", &other).await),
        "REQUEST_PARAM_INCONFORMITY_ERROR"
    );
    // The seats are sold: unavailable through the seat query and lockSeats.
    let again = call(
        &server,
        "ykse.partner.seat.lockSeats",
        &json!({"cinemaLinkId": "58", "scheduleId": s.0, "scheduleKey": s.1, "outLockId": "OUT2", "seatIdList": [A]}),
    )
    .await;
    assert_eq!(biz(&again), "LOCK_SEAT_ERROR");
    server.stop().await;
}

#[tokio::test]
async fn confirm_order_enforces_lock_mobile_seat_price_and_fee_rules() {
    let server = TestServer::start().await;
    let s = schedule(&server, "58", "18406").await;
    let l = lock(&server, "58", &s, "OUT1", &[A, B]).await;
    let confirm = |body: Value| {
        let server = &server;
        async move { biz(&call(server, "ykse.partner.order.confirmOrder", &body).await).to_string() }
    };
    let ok = confirm_body("58", &s, &l, &[A, B], "35.00", "1.00");
    let mut bad_lock = ok.clone();
    bad_lock["lockOrderId"] = json!("20261122580000009999");
    assert_eq!(confirm(bad_lock).await, "ORDER_NOT_FOUND");
    let mut bad_key = ok.clone();
    bad_key["scheduleKey"] = json!("0123456789ABCDEF0123456789ABCDEF");
    assert_eq!(confirm(bad_key).await, "SCHEDULE_HAS_CHANGED");
    let mut no_mobile = ok.clone();
    no_mobile.as_object_mut().unwrap().remove("mobile");
    assert_eq!(confirm(no_mobile).await, "NULL_ARGUMENT");
    let mut bad_mobile = ok.clone();
    bad_mobile["mobile"] = json!("2380000000");
    assert_eq!(confirm(bad_mobile).await, "FORMAT_ERROR");
    let mut card = ok.clone();
    card["paymentList"] =
        json!([{"paymentMethod": "MemberCard", "payCardInfo": {"cardNumber": "6810000001"}}]);
    assert_eq!(confirm(card).await, "PAYMENT_METHOD_ERROR");
    assert_eq!(
        confirm(confirm_body("58", &s, &l, &[], "35.00", "1.00")).await,
        "SEAT_INFO_NOT_NULL"
    );
    assert_eq!(
        confirm(confirm_body("58", &s, &l, &[A], "35.00", "1.00")).await,
        "SEAT_COUNT_ERROR"
    );
    assert_eq!(
        confirm(confirm_body(
            "58",
            &s,
            &l,
            &[A, "0000000000000001-5-09"],
            "35.00",
            "1.00"
        ))
        .await,
        "SEAT_INFO_ERROR"
    );
    assert_eq!(
        confirm(confirm_body("58", &s, &l, &[A, B], "0", "1.00")).await,
        "TICKET_PRICE_ERROR"
    );
    assert_eq!(
        confirm(confirm_body("58", &s, &l, &[A, B], "34.99", "1.00")).await,
        "LOW_THAN_LEAST_PRICE_ERROR"
    );
    assert_eq!(
        confirm(confirm_body("58", &s, &l, &[A, B], "35.00", "2.00")).await,
        "TICKET_FEE_ERROR"
    );
    assert_eq!(
        confirm(confirm_body("58", &s, &l, &[A, B], "35.001", "1.00")).await,
        "FORMAT_ERROR"
    );
    // None of the refusals consumed the lock.
    assert_eq!(confirm(ok).await, "SUCCESS");
    server.stop().await;
}

#[tokio::test]
async fn area_prices_and_the_shanghai_fee_cap_apply_at_cinema_888() {
    let server = TestServer::start().await;
    let s = schedule(&server, "888", "34668").await;
    // Screen 7: area 1 sells at 80.00, the VIP area (section 2) at 20.00.
    let vip = "0000000000000002-1-06";
    let plain = "0000000000000001-3-05";
    let l = lock(&server, "888", &s, "VIP", &[vip, plain]).await;
    let body = |vip_price: &str, plain_price: &str| {
        json!({"cinemaLinkId": "888", "lockOrderId": l, "scheduleId": s.0, "scheduleKey": s.1, "mobile": "13800000000",
               "ticketList": [{"seatId": vip, "ticketPrice": vip_price, "ticketFee": "0.00"}, {"seatId": plain, "ticketPrice": plain_price, "ticketFee": "0.00"}]})
    };
    assert_eq!(
        biz(&call(
            &server,
            "ykse.partner.order.confirmOrder",
            &body("19.99", "80.00")
        )
        .await),
        "LOW_THAN_LEAST_PRICE_ERROR"
    );
    assert_eq!(
        biz(&call(
            &server,
            "ykse.partner.order.confirmOrder",
            &body("20.00", "79.99")
        )
        .await),
        "LOW_THAN_SETTLE_PRICE_ERROR"
    );
    assert_eq!(
        biz(&call(
            &server,
            "ykse.partner.order.confirmOrder",
            &body("25.00", "80.00")
        )
        .await),
        "SUCCESS"
    );
    // The Vista side sees those seats sold.
    let plan = Client::new(&server).get(&seat_plan("34668")).await.json();
    let st = seat_statuses(&plan);
    assert_eq!(st.values().filter(|v| **v == 1).count(), 2);
    server.stop().await;
}

#[tokio::test]
async fn order_info_ticket_info_printing_and_refund_follow_the_order() {
    let server = TestServer::start().await;
    let s = schedule(&server, "58", "18406").await;
    let l = lock(&server, "58", &s, "OUT1", &[A]).await;
    assert_eq!(
        biz(&call(
            &server,
            "ykse.partner.order.getOrderInfo",
            &json!({"cinemaLinkId": "58", "lockOrderId": l})
        )
        .await),
        "ORDER_NOT_FOUND"
    );
    let r = call(
        &server,
        "ykse.partner.order.confirmOrder",
        &confirm_body("58", &s, &l, &[A], "39.90", "1.00"),
    )
    .await;
    let order_id = r["data"]["data"]["orderId"].as_str().unwrap().to_string();
    let conf = r["data"]["data"]["confirmationId"]
        .as_str()
        .unwrap()
        .to_string();
    let info = call(
        &server,
        "ykse.partner.order.getOrderInfo",
        &json!({"cinemaLinkId": "58", "lockOrderId": l}),
    )
    .await;
    assert_eq!(
        info["data"]["data"],
        json!({
            "orderId": order_id, "bookingId": "0000000000100001", "confirmationId": conf,
            "showDateTime": "2026-11-23 09:55:00", "hallId": "1", "filmCode": "051400832015", "shortName": "火星救援",
            "status": "ticket_success",
            "tickets": [{"ticketNo": "0000100001000001", "seatCode": "0000000001008006", "sectionId": "0000000000000001", "rowId": "5", "columnId": "07",
                         "ticketPrice": "39.90", "ticketFee": "1.00", "serviceFee": "1.00", "printStatus": "N", "refundStatus": "N"}],
            "goodsOrder": null
        })
    );
    assert_eq!(
        call(
            &server,
            "ykse.partner.order.getOrderInfo",
            &json!({"cinemaLinkId": "58", "orderId": order_id})
        )
        .await["data"]["data"],
        info["data"]["data"]
    );
    assert_eq!(
        biz(&call(
            &server,
            "ykse.partner.order.getOrderInfo",
            &json!({"cinemaLinkId": "58"})
        )
        .await),
        "NULL_ARGUMENT"
    );
    assert_eq!(
        biz(&call(
            &server,
            "ykse.partner.order.getOrderInfo",
            &json!({"cinemaLinkId": "56", "orderId": order_id})
        )
        .await),
        "ORDER_NOT_FOUND"
    );

    let ticket = call(
        &server,
        "ykse.partner.order.getTicketInfo",
        &json!({"cinemaLinkId": "58", "confirmationId": conf}),
    )
    .await;
    let t = &ticket["data"]["data"];
    assert_eq!(t["printId"], "0000000000100001");
    assert_eq!(t["cinemaName"], "58 影院");
    assert_eq!(t["hallName"], "1 号厅");
    assert_eq!(t["channelCode"], "YKSE");
    assert_eq!(t["tickets"][0]["sectionName"], "普通区");
    assert_eq!(
        t["tickets"][0]["infoCode"],
        format!("{conf}0000100001000001")
    );
    assert_eq!(
        biz(&call(
            &server,
            "ykse.partner.order.getTicketInfo",
            &json!({"cinemaLinkId": "58", "confirmationId": "1234567890123456"})
        )
        .await),
        "CONFIRMATIONID_WRONG"
    );

    let print = json!({"cinemaLinkId": "58", "printId": "0000000000100001"});
    assert_eq!(
        biz(&call(&server, "ykse.partner.ticket.getOrderPrintStatus", &print).await),
        "PRINT_TICKET_ALLOW"
    );
    let printed = call(&server, "ykse.partner.ticket.printTicket", &print).await;
    assert_eq!(
        printed["data"],
        json!({"bizCode": "SUCCESS", "bizMsg": "操作成功", "data": {"cinemaLinkId": "58", "printId": "0000000000100001"}})
    );
    let again = call(&server, "ykse.partner.ticket.printTicket", &print).await;
    assert_eq!(biz(&again), "PRINT_TICKET_NOT_ALLOW");
    assert_eq!(
        again["data"]["data"]["printId"], "0000000000100001",
        "data is echoed on the refusal"
    );
    assert_eq!(
        biz(&call(&server, "ykse.partner.ticket.getOrderPrintStatus", &print).await),
        "PRINT_TICKET_NOT_ALLOW"
    );
    assert_eq!(
        biz(&call(
            &server,
            "ykse.partner.ticket.printTicket",
            &json!({"cinemaLinkId": "58", "printId": "0000000000999999"})
        )
        .await),
        "CONFIRMATIONID_WRONG"
    );
    assert_eq!(
        biz(&call(
            &server,
            "ykse.partner.order.refundOrder",
            &json!({"cinemaLinkId": "58", "orderId": order_id})
        )
        .await),
        "TICKET_HAS_PRINT"
    );
    server.stop().await;
}

#[tokio::test]
async fn refund_order_follows_the_cinemas_policy_and_frees_the_seats() {
    let server = TestServer::start().await;
    let s = schedule(&server, "58", "18406").await;
    let l = lock(&server, "58", &s, "OUT1", &[A]).await;
    let r = call(
        &server,
        "ykse.partner.order.confirmOrder",
        &confirm_body("58", &s, &l, &[A], "35.00", "1.00"),
    )
    .await;
    let order_id = r["data"]["data"]["orderId"].as_str().unwrap().to_string();
    let refund = json!({"cinemaLinkId": "58", "orderId": order_id});
    let ok = call(&server, "ykse.partner.order.refundOrder", &refund).await;
    assert_eq!(
        ok["data"],
        json!({"bizCode": "SUCCESS", "bizMsg": "操作成功", "data": {"cinemaLinkId": "58", "orderId": order_id}})
    );
    assert_eq!(
        biz(&call(&server, "ykse.partner.order.refundOrder", &refund).await),
        "TICKET_HAS_REFUND"
    );
    let info = call(
        &server,
        "ykse.partner.order.getOrderInfo",
        &json!({"cinemaLinkId": "58", "orderId": order_id}),
    )
    .await;
    assert_eq!(info["data"]["data"]["status"], "refund_success");
    assert_eq!(info["data"]["data"]["tickets"][0]["refundStatus"], "Y");
    // The seat is for sale again.
    lock(&server, "58", &s, "OUT2", &[A]).await;
    assert_eq!(
        biz(&call(
            &server,
            "ykse.partner.order.refundOrder",
            &json!({"cinemaLinkId": "58", "orderId": "20261122580000999999"})
        )
        .await),
        "ORDER_NOT_FOUND"
    );

    // Cinema 56 has no refund policy.
    let s56 = schedule(&server, "56", "7054").await;
    let l56 = lock(&server, "56", &s56, "OUT3", &["0000000000000001-1-01"]).await;
    let r56 = call(
        &server,
        "ykse.partner.order.confirmOrder",
        &confirm_body(
            "56",
            &s56,
            &l56,
            &["0000000000000001-1-01"],
            "40.00",
            "0.00",
        ),
    )
    .await;
    assert_eq!(biz(&r56), "SUCCESS", "{r56}");
    let o56 = r56["data"]["data"]["orderId"].as_str().unwrap();
    assert_eq!(
        biz(&call(
            &server,
            "ykse.partner.order.refundOrder",
            &json!({"cinemaLinkId": "56", "orderId": o56})
        )
        .await),
        "REFUND_POLICY_NOT_FOUND"
    );

    // Refunds close 60 minutes before the show (09:55 tomorrow).
    let l2 = lock(&server, "58", &s, "OUT4", &[B]).await;
    let r2 = call(
        &server,
        "ykse.partner.order.confirmOrder",
        &confirm_body("58", &s, &l2, &[B], "35.00", "1.00"),
    )
    .await;
    let o2 = r2["data"]["data"]["orderId"].as_str().unwrap().to_string();
    server
        .clock
        .set(boxoffice_server::testing::test_start() + Duration::hours(22) + Duration::minutes(56));
    assert_eq!(
        biz(&call(
            &server,
            "ykse.partner.order.refundOrder",
            &json!({"cinemaLinkId": "58", "orderId": o2})
        )
        .await),
        "CANCEL_TIME_ERROR"
    );
    server.stop().await;
}

#[tokio::test]
async fn reverse_order_needs_a_late_success_and_the_window_and_is_idempotent() {
    let server = TestServer::start().await;
    let s = schedule(&server, "58", "18406").await;
    // Confirmed at once: never reversible.
    let l = lock(&server, "58", &s, "FAST", &[A]).await;
    let r = call(
        &server,
        "ykse.partner.order.confirmOrder",
        &confirm_body("58", &s, &l, &[A], "35.00", "1.00"),
    )
    .await;
    let fast = r["data"]["data"]["orderId"].as_str().unwrap().to_string();
    let reverse = |id: &str| json!({"cinemaLinkId": "58", "orderId": id});
    assert_eq!(
        biz(&call(&server, "ykse.partner.order.reverseOrder", &reverse(&fast)).await),
        "REVERSE_TICKET_NO_TIME_YET"
    );
    server.clock.advance(Duration::minutes(13));
    assert_eq!(
        biz(&call(&server, "ykse.partner.order.reverseOrder", &reverse(&fast)).await),
        "REVERSE_TICKET_STATUS_INCORRECT"
    );

    // First attempt refused, success 13 minutes later: reversible from 12 minutes after the first attempt.
    let s = schedule(&server, "58", "18406").await;
    let l = lock(&server, "58", &s, "SLOW", &[B]).await;
    assert_eq!(
        biz(&call(
            &server,
            "ykse.partner.order.confirmOrder",
            &confirm_body("58", &s, &l, &[B], "1.00", "1.00")
        )
        .await),
        "LOW_THAN_LEAST_PRICE_ERROR"
    );
    server.clock.advance(Duration::minutes(13));
    let r = call(
        &server,
        "ykse.partner.order.confirmOrder",
        &confirm_body("58", &s, &l, &[B], "35.00", "1.00"),
    )
    .await;
    assert_eq!(biz(&r), "SUCCESS", "{r}");
    let slow = r["data"]["data"]["orderId"].as_str().unwrap().to_string();
    let ok = call(&server, "ykse.partner.order.reverseOrder", &reverse(&slow)).await;
    assert_eq!(
        ok["data"],
        json!({"bizCode": "SUCCESS", "bizMsg": "操作成功", "data": {"cinemaLinkId": "58", "orderId": slow}})
    );
    assert_eq!(
        biz(&call(&server, "ykse.partner.order.reverseOrder", &reverse(&slow)).await),
        "SUCCESS",
        "idempotent"
    );
    let info = call(
        &server,
        "ykse.partner.order.getOrderInfo",
        &json!({"cinemaLinkId": "58", "orderId": slow}),
    )
    .await;
    assert_eq!(info["data"]["data"]["status"], "reverse_success");
    assert_eq!(
        biz(&call(&server, "ykse.partner.order.refundOrder", &reverse(&slow)).await),
        "REFUND_TICKET_STATUS_INCORRECT",
        "a reversed order is not a refunded one (G-REF-4)"
    );
    // After the show starts nothing can be reversed.
    server
        .clock
        .set(boxoffice_server::testing::test_start() + Duration::days(1));
    assert_eq!(
        biz(&call(&server, "ykse.partner.order.reverseOrder", &reverse(&fast)).await),
        "CANCEL_TIME_ERROR"
    );
    server.stop().await;
}

#[tokio::test]
async fn confirm_order_for_multi_pay_checks_each_tickets_payments() {
    let server = TestServer::start().await;
    let s = schedule(&server, "58", "18406").await;
    let l = lock(&server, "58", &s, "MULTI", &[A]).await;
    let body = |payments: Value| {
        json!({"cinemaLinkId": "58", "lockOrderId": l, "scheduleId": s.0, "scheduleKey": s.1, "mobile": "13800138000",
               "ticketList": [{"seatId": A, "ticketPrice": "50.00", "ticketFee": "1.00", "paymentList": payments}]})
    };
    let multi = |payments: Value| {
        let b = body(payments);
        let server = &server;
        async move { call(server, "ykse.partner.order.confirmOrderForMultiPay", &b).await }
    };
    assert_eq!(biz(&multi(json!([])).await), "NULL_ARGUMENT");
    assert_eq!(
        biz(&multi(json!([{"paymentMethod": "alipay", "payAmount": "51.00"}])).await),
        "PAYMENT_METHOD_ERROR"
    );
    assert_eq!(
        biz(&multi(json!([{"paymentMethod": "MemberCard", "payAmount": "51.00", "payCardInfo": {"cardNumber": "112345"}}])).await),
        "PAYMENT_METHOD_ERROR",
        "member cards arrive with the member-card work"
    );
    assert_eq!(
        biz(&multi(json!([{"paymentMethod": "Ali", "payAmount": "50.00"}])).await),
        "PAYMENT_AMOUNT_ERROR"
    );
    assert_eq!(biz(&multi(json!([{"paymentMethod": "Ali", "payAmount": "51.00", "thirdPartPayment": {"thirdTradeNo": "T1"}}])).await), "NULL_ARGUMENT");
    let split = json!([
        {"paymentMethod": "Ali", "payAmount": "46.00", "thirdPartPayment": {"thirdTradeNo": "T1", "outTradeNo": "O1"}},
        {"paymentMethod": "Corp", "payAmount": "5.00"}
    ]);
    let ok = multi(split.clone()).await;
    assert_eq!(biz(&ok), "SUCCESS", "{ok}");
    assert_eq!(multi(split).await, ok, "a replay answers the same order");
    // The same lock through the other confirm API is a different request.
    let plain = confirm_body("58", &s, &l, &[A], "50.00", "1.00");
    assert_eq!(
        biz(&call(&server, "ykse.partner.order.confirmOrder", &plain).await),
        "REQUEST_PARAM_INCONFORMITY_ERROR"
    );
    // confirmOrder refuses per-ticket payment lines.
    let l2 = lock(&server, "58", &s, "PLAIN", &[B]).await;
    let mut with_lines = confirm_body("58", &s, &l2, &[B], "50.00", "1.00");
    with_lines["ticketList"][0]["paymentList"] =
        json!([{"paymentMethod": "Ali", "payAmount": "51.00"}]);
    assert_eq!(
        biz(&call(&server, "ykse.partner.order.confirmOrder", &with_lines).await),
        "PAYMENT_METHOD_ERROR"
    );
    server.stop().await;
}

#[tokio::test]
async fn goods_list_goods_orders_are_idempotent_and_refundable() {
    let server = TestServer::start().await;
    let goods = call(
        &server,
        "ykse.partner.goods.getGoods",
        &json!({"cinemaLinkId": "58"}),
    )
    .await;
    assert_eq!(goods["data"]["data"]["maxBuyCount"], 10);
    assert_eq!(
        goods["data"]["data"]["goodsList"][0],
        json!({"goodsId": "1728", "name": "爆米花", "isPackage": false, "salePrice": "10.00", "standardPrice": "10.00", "settlePrice": "10.00", "settleprice": "10.00", "goodsPicUrl": "", "desc": "香甜", "isDiscount": "Y"})
    );
    let order = |third: &str, lines: Value| json!({"cinemaLinkId": "58", "thirdOrderId": third, "mobile": "13800000000", "goodsList": lines});
    let confirm = |body: Value| {
        let server = &server;
        async move { call(server, "ykse.partner.order.confirmGoodsOrder", &body).await }
    };
    assert_eq!(
        biz(&confirm(order("G0", json!([]))).await),
        "GOODS_INFO_NOT_NULL"
    );
    assert_eq!(
        biz(&confirm(order(
            "G0",
            json!([{"goodsId": "nope", "count": "1", "salePrice": "10.00"}])
        ))
        .await),
        "GOODS_NOT_FOUND"
    );
    assert_eq!(
        biz(&confirm(order(
            "G0",
            json!([{"goodsId": "1728", "count": "1", "salePrice": "9.99"}])
        ))
        .await),
        "GOODS_PRICE_LESS"
    );
    assert_eq!(
        biz(&confirm(order(
            "G0",
            json!([{"goodsId": "1728", "count": "11", "salePrice": "10.00"}])
        ))
        .await),
        "GOODS_AMOUNT_ERROR"
    );
    assert_eq!(
        biz(&confirm(order(
            "G0",
            json!([{"goodsId": "1728", "count": "0", "salePrice": "10.00"}])
        ))
        .await),
        "GOODS_INFO_ERROR"
    );
    // The document's padded key and the "id" alias are read.
    let lines = json!([{"goodsId": "1728", " isPackage ": "false", "count": "2", "salePrice": "12.00"}, {"id": "8160812223149", "count": 1, "salePrice": "45.00"}]);
    let ok = confirm(order("G1", lines.clone())).await;
    assert_eq!(biz(&ok), "SUCCESS", "{ok}");
    let d = &ok["data"]["data"];
    assert_eq!(d["totalGoodsPrice"], "69.00");
    assert_eq!(d["totalGoodsFee"], "0.00");
    assert_eq!(d["orderStatus"], "goods_success");
    assert_eq!(
        d["goodsList"][1],
        json!({"goodsId": "8160812223149", "name": "双人套餐", "salePrice": "45.00", "count": 1, "isPackage": true})
    );
    assert_eq!(
        confirm(order("G1", lines)).await,
        ok,
        "replay on thirdOrderId"
    );
    assert_eq!(
        biz(&confirm(order(
            "G1",
            json!([{"goodsId": "1728", "count": "1", "salePrice": "10.00"}])
        ))
        .await),
        "REQUEST_PARAM_INCONFORMITY_ERROR"
    );
    let id = d["goodsOrderId"].as_str().unwrap().to_string();
    // Goods are not printed as tickets: their booking number is no print id.
    let hold = d["holdId"].as_str().unwrap();
    let print_id = format!("{:0>16}", &hold[hold.len() - 10..]);
    assert_eq!(
        biz(&call(
            &server,
            "ykse.partner.ticket.printTicket",
            &json!({"cinemaLinkId": "58", "printId": print_id})
        )
        .await),
        "CONFIRMATIONID_WRONG"
    );
    let info = call(
        &server,
        "ykse.partner.order.getGoodsOrderInfo",
        &json!({"cinemaLinkId": "58", "goodsOrderId": id}),
    )
    .await;
    assert_eq!(info["data"]["data"], ok["data"]["data"]);
    // A goods order is not a ticket order.
    assert_eq!(
        biz(&call(
            &server,
            "ykse.partner.order.getOrderInfo",
            &json!({"cinemaLinkId": "58", "orderId": id})
        )
        .await),
        "ORDER_NOT_FOUND"
    );
    let refund = json!({"cinemaLinkId": "58", "goodsOrderId": id});
    assert_eq!(
        call(&server, "ykse.partner.order.refundGoodsOrder", &refund).await["data"],
        json!({"bizCode": "SUCCESS", "bizMsg": "操作成功", "data": {"cinemaLinkId": "58", "goodsOrderId": id}})
    );
    assert_eq!(
        biz(&call(&server, "ykse.partner.order.refundGoodsOrder", &refund).await),
        "GOODS_ORDER_CLOSE_ERROR"
    );
    let info = call(
        &server,
        "ykse.partner.order.getGoodsOrderInfo",
        &json!({"cinemaLinkId": "58", "goodsOrderId": id}),
    )
    .await;
    assert_eq!(info["data"]["data"]["orderStatus"], "refund_success");
    // Per-line payments must add up to price × count.
    let multi = |pay: &str| {
        json!({"cinemaLinkId": "58", "thirdOrderId": format!("GM{pay}"), "mobile": "13800000000",
               "goodsList": [{"goodsId": "1728", "count": 2, "salePrice": "10.00", "paymentList": [{"paymentMethod": "WeChat", "payAmount": pay}]}]})
    };
    assert_eq!(
        biz(&call(
            &server,
            "ykse.partner.order.confirmGoodsOrderForMultiPay",
            &multi("19.00")
        )
        .await),
        "PAYMENT_AMOUNT_ERROR"
    );
    assert_eq!(
        biz(&call(
            &server,
            "ykse.partner.order.confirmGoodsOrderForMultiPay",
            &multi("20.00")
        )
        .await),
        "SUCCESS"
    );
    server.stop().await;
}

#[tokio::test]
async fn mixed_orders_carry_goods_and_refund_and_reverse_by_type() {
    let server = TestServer::start().await;
    let s = schedule(&server, "58", "18406").await;
    let l = lock(&server, "58", &s, "MIX", &[A]).await;
    let mut body = confirm_body("58", &s, &l, &[A], "35.00", "1.00");
    body["goodsList"] =
        json!([{"goodsId": "1728", "count": 1, "salePrice": "10.00", "isPackage": false}]);
    // confirmOrder does not take goods.
    assert_eq!(
        biz(&call(&server, "ykse.partner.order.confirmOrder", &body).await),
        "GOODS_INFO_ERROR"
    );
    let r = call(&server, "ykse.partner.order.confirmMixOrder", &body).await;
    assert_eq!(biz(&r), "SUCCESS", "{r}");
    let goods = &r["data"]["data"]["goodsOrder"];
    assert_eq!(goods["totalGoodsPrice"], "10.00");
    assert_eq!(goods["goods"][0]["goodsId"], "1728");
    assert_eq!(goods["pickUpCode"], r["data"]["data"]["confirmationId"]);
    let order_id = r["data"]["data"]["orderId"].as_str().unwrap().to_string();
    let info = call(
        &server,
        "ykse.partner.order.getOrderInfo",
        &json!({"cinemaLinkId": "58", "orderId": order_id}),
    )
    .await;
    assert_eq!(info["data"]["data"]["goodsOrder"], *goods);
    let target = json!({"cinemaLinkId": "58", "orderId": order_id});
    assert_eq!(
        biz(&call(&server, "ykse.partner.order.refundOrder", &target).await),
        "REFUND_ORDER_TYPE_NOT_MATCH"
    );
    assert_eq!(
        biz(&call(&server, "ykse.partner.order.reverseOrder", &target).await),
        "REVERSE_ORDER_TYPE_UNMATCH"
    );
    assert_eq!(
        biz(&call(&server, "ykse.partner.order.refundMixOrder", &target).await),
        "SUCCESS"
    );
    assert_eq!(
        biz(&call(&server, "ykse.partner.order.refundMixOrder", &target).await),
        "TICKET_HAS_REFUND"
    );
    // A ticket-only order is not a mixed order.
    let l2 = lock(&server, "58", &s, "PLAIN", &[B]).await;
    let r2 = call(
        &server,
        "ykse.partner.order.confirmOrder",
        &confirm_body("58", &s, &l2, &[B], "35.00", "1.00"),
    )
    .await;
    let plain = json!({"cinemaLinkId": "58", "orderId": r2["data"]["data"]["orderId"]});
    assert_eq!(
        biz(&call(&server, "ykse.partner.order.refundMixOrder", &plain).await),
        "REFUND_ORDER_TYPE_NOT_MATCH"
    );
    assert_eq!(
        biz(&call(&server, "ykse.partner.order.reverseMixOrder", &plain).await),
        "REVERSE_ORDER_TYPE_UNMATCH"
    );
    // Mixed multi-pay: each ticket and each goods line pays its own amount.
    let l3 = lock(&server, "58", &s, "MIXPAY", &["0000000000000001-6-01"]).await;
    let mix = json!({"cinemaLinkId": "58", "lockOrderId": l3, "scheduleId": s.0, "scheduleKey": s.1, "mobile": "13800000000",
        "ticketList": [{"seatId": "0000000000000001-6-01", "ticketPrice": "35.00", "ticketFee": "1.00", "paymentList": [{"paymentMethod": "Ali", "payAmount": "36.00"}]}],
        "goodsList": [{"goodsId": "1728", "count": 1, "salePrice": "10.00", "paymentList": [{"paymentMethod": "Cash", "payAmount": "10.00"}]}]});
    assert_eq!(
        biz(&call(
            &server,
            "ykse.partner.order.confirmMixOrderForMultiPay",
            &mix
        )
        .await),
        "SUCCESS"
    );
    server.stop().await;
}

/// The demo catalogue with one edit (a string replacement that must apply).
async fn with_catalogue_edit(server: &TestServer, from: &str, to: &str) {
    let text = boxoffice_server::DEMO_CATALOG.replacen(from, to, 1);
    assert_ne!(
        text,
        boxoffice_server::DEMO_CATALOG,
        "edit {from:?} applies"
    );
    server.app.apply_catalog(&text).await.expect("catalogue");
}

#[tokio::test]
async fn the_refund_limit_per_schedule_is_enforced() {
    let server = TestServer::start().await;
    with_catalogue_edit(
        &server,
        "refund_before_minutes = 60\nrefund_limit_per_session = 100\nsales_cutoff_minutes = -20",
        "refund_before_minutes = 60\nrefund_limit_per_session = 1\nsales_cutoff_minutes = -20",
    )
    .await;
    let s = schedule(&server, "58", "18406").await;
    let mut orders = Vec::new();
    for (out, seat) in [("R1", A), ("R2", B)] {
        let l = lock(&server, "58", &s, out, &[seat]).await;
        let r = call(
            &server,
            "ykse.partner.order.confirmOrder",
            &confirm_body("58", &s, &l, &[seat], "35.00", "1.00"),
        )
        .await;
        orders.push(r["data"]["data"]["orderId"].as_str().unwrap().to_string());
    }
    assert_eq!(
        biz(&call(
            &server,
            "ykse.partner.order.refundOrder",
            &json!({"cinemaLinkId": "58", "orderId": orders[0]})
        )
        .await),
        "SUCCESS"
    );
    assert_eq!(
        biz(&call(
            &server,
            "ykse.partner.order.refundOrder",
            &json!({"cinemaLinkId": "58", "orderId": orders[1]})
        )
        .await),
        "OVER_REFUND_UPPER_LIMIT"
    );
    server.stop().await;
}

#[tokio::test]
async fn shanghai_fees_are_capped_at_twelve_yuan_and_twenty_percent() {
    let server = TestServer::start().await;
    // Cinema 888 is in Shanghai (310100); give session 29617 a 13.00 fee on the 100.00 ticket.
    with_catalogue_edit(
        &server,
        "{ ticket = \"0010\", area = \"0000000001\", price = 10000 },",
        "{ ticket = \"0010\", area = \"0000000001\", price = 10000, booking_fee = 1300 },",
    )
    .await;
    let s = schedule(&server, "888", "29617").await;
    let seat = "0000000000000001-1-05";
    let l = lock(&server, "888", &s, "SH", &[seat]).await;
    let body = json!({"cinemaLinkId": "888", "lockOrderId": l, "scheduleId": s.0, "scheduleKey": s.1, "mobile": "13800000000",
                      "ticketList": [{"seatId": seat, "ticketPrice": "100.00", "ticketFee": "13.00"}]});
    assert_eq!(
        biz(&call(&server, "ykse.partner.order.confirmOrder", &body).await),
        "TICKET_FEE_ERROR"
    );
    server.stop().await;
}

#[tokio::test]
async fn goods_prices_must_be_positive() {
    let server = TestServer::start().await;
    let body = json!({"cinemaLinkId": "58", "thirdOrderId": "GP", "mobile": "13800000000", "goodsList": [{"goodsId": "80000000003", "count": 1, "salePrice": "0.00"}]});
    assert_eq!(
        biz(&call(&server, "ykse.partner.order.confirmGoodsOrder", &body).await),
        "GOODS_PRICE_ERROR"
    );
    let card = json!({"cinemaLinkId": "58", "thirdOrderId": "GC", "mobile": "13800000000", "goodsList": [{"goodsId": "1728", "count": 1, "salePrice": "10.00", "isCardDiscount": true}]});
    assert_eq!(
        biz(&call(&server, "ykse.partner.order.confirmGoodsOrder", &card).await),
        "PAYMENT_METHOD_ERROR"
    );
    assert_eq!(
        biz(&call(
            &server,
            "ykse.partner.goods.getGoods",
            &json!({"cinemaLinkId": "999"})
        )
        .await),
        "CINEMA_INVALID"
    );
    server.stop().await;
}

//! 游宝星 instant payment over HTTP: GetPayChannel, BeginToPay, the built-in payment simulator
//! and the platforms' notifications (notify_url.aspx, WeChatNotify.aspx), and the expiry of
//! unpaid orders of agents without pay-at-counter rights.

mod common;
use boxoffice_core::scenic::VisitState;
use boxoffice_core::store::QuotaKey;
use common::ybx::*;
use common::*;

const VISIT: &str = "20261123";

fn booking(a: &Agent, list: &str) -> Vec<(String, String)> {
    vec![
        ("Order_list".into(), list.into()),
        ("Mobile".into(), a.enc("13800138000")),
        ("ID".into(), a.enc("430103198001010011")),
        ("SXRQ".into(), a.enc(VISIT)),
        ("timespanindex".into(), "1".into()),
        ("senderid".into(), "PAY-1".into()),
    ]
}

fn refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, x)| (k.as_str(), x.as_str())).collect()
}

async fn book(server: &TestServer, a: &Agent, list: &str) -> String {
    let r = call(
        &server.url,
        a,
        "OrderProducts.aspx",
        &refs(&booking(a, list)),
    )
    .await;
    r.expect(0, "");
    r.tag("orderid").expect("orderid")
}

async fn state(server: &TestServer, number: &str) -> VisitState {
    server
        .app
        .service
        .store()
        .visit_order_by_number(number)
        .await
        .expect("order")
        .expect("exists")
        .state
}

async fn used(server: &TestServer, product: &str, segment: i32) -> i64 {
    let venue = server.app.service.catalog().venue("JQ01").expect("JQ01").id;
    server
        .app
        .service
        .quota_used(&QuotaKey {
            venue_id: venue,
            product: product.into(),
            date: "2026-11-23".into(),
            segment,
        })
        .await
        .expect("quota")
}

/// Confirms or declines a payment on the simulator page, as the payer would.
async fn payer(server: &TestServer, payurl: &str, action: &str) -> String {
    let url = if payurl.starts_with("http") {
        payurl.to_string()
    } else {
        format!("{}{payurl}", server.url)
    };
    let page = reqwest::get(&url).await.expect("page");
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("确认支付"), "{html}");
    reqwest::Client::new()
        .post(&url)
        .form(&[("action", action)])
        .send()
        .await
        .expect("answer")
        .text()
        .await
        .expect("html")
}

#[tokio::test]
async fn pay_channels_are_the_suppliers_when_the_agent_may_pay_instantly() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let r = call(&server.url, &a, "GetPayChannel.aspx", &[]).await;
    r.expect(0, "");
    assert!(r.signed_by(KEY));
    assert!(r.text.ends_with(
        "<Item><paychannelid>01</paychannelid><paychannelname>支付宝</paychannelname></Item>\
         <Item><paychannelid>02</paychannelid><paychannelname>微信支付</paychannelname></Item>\
         <Item><paychannelid>03</paychannelid><paychannelname>银联网上支付</paychannelname></Item></root>"
    ), "{}", r.text);
    server
        .app
        .ybx
        .update_agent(
            server
                .app
                .service
                .catalog()
                .partner_by_credential("ybx", "demo-agent")
                .expect("agent")
                .id,
            serde_json::json!({ "allow_epay": false })
                .as_object()
                .cloned()
                .unwrap_or_default(),
        )
        .await
        .expect("update");
    call(&server.url, &a, "GetPayChannel.aspx", &[])
        .await
        .expect(-1, "没有获取到相关支付的渠道信息。");
    call(
        &server.url,
        &a,
        "BeginToPay.aspx",
        &[("Order_id", "1"), ("Paychannelid", "01")],
    )
    .await
    .expect(-2001, "不支持的支付方式；");
    server.stop().await;
}

#[tokio::test]
async fn begin_to_pay_codes() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let number = book(&server, &a, &format!("{ADULT}|2")).await;
    call(
        &server.url,
        &a,
        "BeginToPay.aspx",
        &[("Paychannelid", "01")],
    )
    .await
    .expect(-2007, "没有输入内部单号，不能完成操作；");
    call(
        &server.url,
        &a,
        "BeginToPay.aspx",
        &[("Order_id", &number), ("Paychannelid", "99")],
    )
    .await
    .expect(-2001, "不支持的支付方式；");
    call(
        &server.url,
        &a,
        "BeginToPay.aspx",
        &[("Order_id", "202611220000000000"), ("Paychannelid", "01")],
    )
    .await
    .expect(-2002, "数据检索失败，请确认信息；");
    call(
        &server.url,
        &Agent::demo2(),
        "BeginToPay.aspx",
        &[("Order_id", &number), ("Paychannelid", "01")],
    )
    .await
    .expect(-2002, "数据检索失败，请确认信息；");
    // By channel name.
    let r = call(
        &server.url,
        &a,
        "BeginToPay.aspx",
        &[("Order_id", &number), ("Paychannelid", "支付宝")],
    )
    .await;
    r.expect(0, "");
    assert_eq!(r.tag("orderid"), Some(number.clone()));
    assert_eq!(r.tag("paychannelid").as_deref(), Some("01"));
    assert_eq!(r.tag("total").as_deref(), Some("240.00"));
    let trade = r.tag("outtradeno").expect("trade");
    assert_eq!(r.tag("payurl"), Some(format!("/ybx/paysim/{trade}")));
    // Paid: a second payment is refused.
    payer(&server, &format!("/ybx/paysim/{trade}"), "confirm").await;
    assert_eq!(state(&server, &number).await, VisitState::Delivered);
    call(
        &server.url,
        &a,
        "BeginToPay.aspx",
        &[("Order_id", &number), ("Paychannelid", "01")],
    )
    .await
    .expect(-2004, "订单状态不是预订中，不允许支付；");
    // demo-agent2 has 30 minutes to pay.
    let b = Agent::demo2();
    let late = book(&server, &b, &format!("{ADULT}|1")).await;
    server.clock.advance(chrono::Duration::minutes(31));
    call(
        &server.url,
        &b,
        "BeginToPay.aspx",
        &[("Order_id", &late), ("Paychannelid", "01")],
    )
    .await
    .expect(-2008, "当前订单超过支付时限");
    server.stop().await;
}

#[tokio::test]
async fn a_confirmed_alipay_payment_pays_and_delivers_once() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    // A callback address (nothing listens there) so that the order's changes are queued.
    call(
        &server.url,
        &a,
        "SetAgentParameters.aspx",
        &[
            ("responseaddr", "http://127.0.0.1:9/cb"),
            ("sendofficiallysnotify", "1"),
        ],
    )
    .await
    .expect(0, "成功");
    let number = book(&server, &a, &format!("{ADULT}|2")).await;
    let r = call(
        &server.url,
        &a,
        "BeginToPay.aspx",
        &[("Order_id", &number), ("Paychannelid", "01")],
    )
    .await;
    let url = r.tag("payurl").expect("payurl");
    let html = payer(&server, &url, "confirm").await;
    assert!(html.contains("success"), "{html}");
    let store = server.app.service.store().clone();
    let o = store
        .visit_order_by_number(&number)
        .await
        .expect("order")
        .expect("exists");
    assert_eq!(o.state, VisitState::Delivered);
    assert_eq!(o.detail.paid, 24_000);
    assert_eq!(o.tickets.len(), 1);
    // Events in order: booked, paid (5, 6), delivered.
    let events: Vec<String> = store
        .outbox(None, Some(o.id))
        .await
        .expect("outbox")
        .iter()
        .map(|e| e.event.payload["state"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(events, ["booked", "paid_unapproved", "paid", "delivered"]);
    // The platform repeats its notification: accepted, nothing changes.
    let form = boxoffice_ybx::epay::gateway_notification(&server.app.ybx, &number, true, false);
    let again = reqwest::Client::new()
        .post(format!("{}/ybx/POST/notify_url.aspx", server.url))
        .form(&form)
        .send()
        .await
        .expect("notify")
        .text()
        .await
        .expect("text");
    assert_eq!(again, "success");
    assert_eq!(
        store.outbox(None, Some(o.id)).await.expect("outbox").len(),
        4
    );
    // A forged notification is refused.
    let mut forged = form.clone();
    for (k, v) in forged.iter_mut() {
        if k == "Sign" {
            *v = "00000000000000000000000000000000".into();
        }
    }
    let text = reqwest::Client::new()
        .post(format!("{}/ybx/notify_url.aspx", server.url))
        .form(&forged)
        .send()
        .await
        .expect("notify")
        .text()
        .await
        .expect("text");
    assert_eq!(text, "fail");
    server.stop().await;
}

#[tokio::test]
async fn wechat_payments_and_declines() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let number = book(&server, &a, &format!("{UNLIMITED}|3")).await;
    let r = call(
        &server.url,
        &a,
        "BeginToPay.aspx",
        &[("Order_id", &number), ("Paychannelid", "03")],
    )
    .await;
    payer(&server, &r.tag("payurl").expect("url"), "decline").await;
    assert_eq!(state(&server, &number).await, VisitState::Booked);
    let store = server.app.service.store().clone();
    let trade = r.tag("outtradeno").expect("trade");
    assert_eq!(
        store
            .visit_payment(&trade)
            .await
            .expect("payment")
            .expect("exists")
            .state,
        "failed"
    );
    let r = call(
        &server.url,
        &a,
        "BeginToPay.aspx",
        &[("Order_id", &number), ("Paychannelid", "02")],
    )
    .await;
    let html = payer(&server, &r.tag("payurl").expect("url"), "confirm").await;
    assert!(html.contains("SUCCESS"), "{html}");
    assert_eq!(state(&server, &number).await, VisitState::Delivered);
    let wx = r.tag("outtradeno").expect("trade");
    let p = store
        .visit_payment(&wx)
        .await
        .expect("payment")
        .expect("exists");
    assert_eq!(
        (p.state.as_str(), p.amount, p.platform_no.len()),
        ("succeeded", 15_000, 28)
    );
    server.stop().await;
}

#[tokio::test]
async fn unpaid_orders_close_when_the_payment_time_runs_out_and_late_money_is_refunded() {
    let server = TestServer::start().await;
    let b = Agent::demo2();
    let number = book(&server, &b, &format!("{ADULT}|2")).await;
    assert_eq!(used(&server, ADULT, 0).await, 2);
    let r = call(
        &server.url,
        &b,
        "BeginToPay.aspx",
        &[("Order_id", &number), ("Paychannelid", "01")],
    )
    .await;
    let url = r.tag("payurl").expect("url");
    server.clock.advance(chrono::Duration::minutes(29));
    assert_eq!(server.app.service.sweep_visits().await.expect("sweep"), 0);
    server.clock.advance(chrono::Duration::minutes(2));
    assert_eq!(server.app.service.sweep_visits().await.expect("sweep"), 1);
    assert_eq!(state(&server, &number).await, VisitState::Closed);
    assert_eq!(used(&server, ADULT, 0).await, 0);
    assert_eq!(used(&server, "@line/01", 1).await, 0);
    // The payer pays anyway: the money is kept and a refund is applied for.
    payer(&server, &url, "confirm").await;
    let o = server
        .app
        .service
        .store()
        .visit_order_by_number(&number)
        .await
        .expect("order")
        .expect("exists");
    assert_eq!(o.state, VisitState::RefundRequested);
    assert_eq!(o.detail.extra["refund_amount"], 24_000);
    // demo-agent (pay at counter allowed) keeps its unpaid order until the visit is over.
    let a = Agent::demo();
    let kept = book(&server, &a, &format!("{ADULT}|1")).await;
    server.clock.advance(chrono::Duration::hours(3));
    server.app.service.sweep_visits().await.expect("sweep");
    assert_eq!(state(&server, &kept).await, VisitState::Booked);
    server.clock.advance(chrono::Duration::days(2));
    server.app.service.sweep_visits().await.expect("sweep");
    assert_eq!(state(&server, &kept).await, VisitState::Closed);
    server.stop().await;
}

#[tokio::test]
async fn expired_authorizations_close_with_the_fee_from_the_hold() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let mut p = booking(&a, &format!("{ADULT}|2"));
    p.push(("SmsCode".into(), a.pay("123456")));
    p.push(("money".into(), "240.00".into()));
    p.push(("smsModel".into(), "0".into()));
    p.push(("XCDDH".into(), a.enc("HOLD-EXP")));
    p.push(("activate".into(), "0".into()));
    let r = call(&server.url, &a, "OrderAndPayWithYDJ.aspx", &refs(&p)).await;
    r.expect(0, "");
    let number = r.tag("Order_id").expect("number");
    // The order is valid for its visit day; at midnight after it, it closes with the
    // on-the-day fee (¥50 a ticket) taken from the hold.
    server.clock.advance(chrono::Duration::hours(38));
    server.app.service.sweep_visits().await.expect("sweep");
    assert_eq!(state(&server, &number).await, VisitState::Closed);
    let partner = server
        .app
        .service
        .catalog()
        .partner_by_credential("ybx", "demo-agent")
        .expect("agent")
        .id;
    let acc = server
        .app
        .service
        .store()
        .accounts(partner)
        .await
        .expect("accounts");
    let deposit = acc
        .iter()
        .find(|x| x.account == "deposit")
        .expect("deposit");
    assert_eq!((deposit.balance, deposit.held), (10_000_000 - 10_000, 0));
    server.stop().await;
}

#[tokio::test]
async fn paid_orders_outlive_the_payment_time_limit_and_lapse_at_the_end_of_their_validity() {
    let server = TestServer::start().await;
    server
        .app
        .apply_catalog(
            r#"
[[venue]]
code = "JQ06"
name = "不自动出票景区"
kind = "scenic_area"
links = { ybx = "JQ06" }
[venue.scenic]
activate_on_payment = false
pay_timeout_minutes = 30
epay_channels = ["01"]
[[venue.product]]
id = "6A000000-0001-4000-8000-000000000001"
name = "门票"
price = 5000

[[partner]]
code = "nocash-agent"
name = "无现付代理"
venues = ["JQ06"]
[[partner.credential]]
protocol = "ybx"
key = "nocash-agent"
secret = "66666666-7777-8888-9999-AAAAAAAAAAAA"
options = { login_md5 = "A540459139867E3EB98F0686EE199B2A", allow_epay = true }
"#,
        )
        .await
        .expect("catalogue");
    let n = Agent {
        user: "nocash-agent".into(),
        key: "66666666-7777-8888-9999-AAAAAAAAAAAA".into(),
        password: "demo-pass".into(),
    };
    let p = [
        (
            "Order_list".to_string(),
            "6A000000-0001-4000-8000-000000000001|2".to_string(),
        ),
        ("Mobile".into(), n.enc("13800138000")),
        ("ID".into(), n.enc("430103198001010011")),
        ("SXRQ".into(), n.enc(VISIT)),
    ];
    let r = call(&server.url, &n, "OrderProducts.aspx", &refs(&p)).await;
    r.expect(0, "");
    assert_eq!(r.tag("paytimeout").as_deref(), Some("30"));
    let number = r.tag("orderid").expect("orderid");
    let r = call(
        &server.url,
        &n,
        "BeginToPay.aspx",
        &[("Order_id", &number), ("Paychannelid", "01")],
    )
    .await;
    payer(&server, &r.tag("payurl").expect("url"), "confirm").await;
    assert_eq!(state(&server, &number).await, VisitState::Paid);
    // Past the payment time limit: paid orders are not touched.
    server.clock.advance(chrono::Duration::minutes(31));
    server.app.service.sweep_visits().await.expect("sweep");
    assert_eq!(state(&server, &number).await, VisitState::Paid);
    // At midnight after the visit day, the undelivered paid order becomes a refund application.
    server.clock.advance(chrono::Duration::hours(38));
    assert_eq!(server.app.service.sweep_visits().await.expect("sweep"), 1);
    let o = server
        .app
        .service
        .store()
        .visit_order_by_number(&number)
        .await
        .expect("order")
        .expect("exists");
    assert_eq!(o.state, VisitState::RefundRequested);
    assert_eq!(o.detail.extra["refund_amount"], 10_000);
    server.stop().await;
}

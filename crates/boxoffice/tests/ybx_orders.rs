//! 游宝星 bookings over HTTP: OrderProducts, OrderAndPayWithYDJ, OrderAndPayWithFK and
//! CancelOrder — success, the documented retcodes, the claims they make (day quotas, time
//! segments, live identity numbers, agent limits) and the ledgers they write.

mod common;
use boxoffice_core::store::QuotaKey;
use common::ybx::*;
use common::*;

const VISIT: &str = "20261123";

/// Request parameters, expected code and message.
type Case = (Vec<(String, String)>, i64, String);
const MEMO_ID: &str = "430103198001010011";

fn venue_id(server: &TestServer) -> i64 {
    server.app.service.catalog().venue("JQ01").expect("JQ01").id
}

fn partner_id(server: &TestServer, user: &str) -> i64 {
    server
        .app
        .service
        .catalog()
        .partner_by_credential("ybx", user)
        .expect("agent")
        .id
}

async fn used(server: &TestServer, product: &str, segment: i32) -> i64 {
    server
        .app
        .service
        .quota_used(&QuotaKey {
            venue_id: venue_id(server),
            product: product.into(),
            date: "2026-11-23".into(),
            segment,
        })
        .await
        .expect("quota")
}

/// OrderProducts parameters for `list` on the visit date, segment `segment`.
fn booking(a: &Agent, list: &str, segment: &str) -> Vec<(String, String)> {
    vec![
        ("Order_list".into(), list.into()),
        ("Mobile".into(), a.enc("13800138000")),
        ("ID".into(), a.enc("430103198001010011")),
        ("SXRQ".into(), a.enc(VISIT)),
        ("timespanindex".into(), segment.into()),
    ]
}

fn refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, x)| (k.as_str(), x.as_str())).collect()
}

async fn order(server: &TestServer, a: &Agent, extra: &[(&str, &str)]) -> XmlReply {
    let mut p = booking(a, &format!("{ADULT}|2"), "1");
    for (k, v) in extra {
        p.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
        p.push((k.to_string(), v.to_string()));
    }
    call(&server.url, a, "OrderProducts.aspx", &refs(&p)).await
}

/// OrderAndPayWithYDJ parameters paying `money` with the demo payment password.
fn ydj(a: &Agent, list: &str, money: &str, xcddh: &str) -> Vec<(String, String)> {
    let mut p = booking(a, list, "1");
    p.push(("SmsCode".into(), a.pay("123456")));
    p.push(("money".into(), money.into()));
    p.push(("smsModel".into(), "0".into()));
    p.push(("XCDDH".into(), a.enc(xcddh)));
    p
}

fn with(mut p: Vec<(String, String)>, k: &str, v: &str) -> Vec<(String, String)> {
    p.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
    p.push((k.into(), v.into()));
    p
}

#[tokio::test]
async fn order_products_books_claims_and_answers_the_documented_item() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let r = order(&server, &a, &[("senderid", "LY-1001")]).await;
    r.expect(0, "");
    assert!(r.signed_by(KEY));
    assert_eq!(r.content_type, "text/xml; charset=utf-8");
    let number = r.tag("orderid").expect("orderid");
    assert_eq!(number.len(), 18, "yyyyMMdd + 10 digits: {number}");
    assert!(number.starts_with("20261122"));
    let expected = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><root><retcode>0</retcode><retmsg></retmsg><sign>{}</sign>\
         <Item><orderid>{number}</orderid><ordertime>20261122100000</ordertime><customertype>1</customertype>\
         <customerid>DL0001</customerid><customername>示例旅行社</customername><description></description>\
         <paytimeout>0</paytimeout><orderstatus>0</orderstatus><subitem><productid>{ADULT}</productid>\
         <productname>成人票</productname><num>2</num><unit>张</unit><price>120.00</price>\
         <productstatus>1</productstatus></subitem></Item></root>",
        r.tag("sign").unwrap_or_default()
    );
    assert_eq!(r.text, expected);
    assert_eq!(used(&server, ADULT, 0).await, 2);
    assert_eq!(used(&server, "@venue", 0).await, 2);
    assert_eq!(used(&server, "@line/01", 1).await, 2);
    let messages = server.app.store.clone();
    let sms = boxoffice_core::store::Store::messages(&messages, Some("13800138000"), None)
        .await
        .expect("messages");
    assert_eq!(sms.len(), 1);
    assert!(sms[0].message.text.contains(&number), "{:?}", sms[0]);
    server.stop().await;
}

#[tokio::test]
async fn post_and_mixed_case_names_work_like_get() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let p = booking(&a, &format!("{ADULT}|1"), "2");
    let upper: Vec<(String, String)> = p
        .iter()
        .map(|(k, v)| (k.to_ascii_uppercase(), v.clone()))
        .collect();
    let r = post(&server.url, &a, "orderproducts.ASPX", &refs(&upper)).await;
    r.expect(0, "");
    assert_eq!(used(&server, "@line/01", 2).await, 1);
    server.stop().await;
}

#[tokio::test]
async fn order_products_validates_in_the_documented_order() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let base = booking(&a, &format!("{ADULT}|2"), "1");
    let cases: Vec<Case> = vec![
        (
            base.iter()
                .filter(|(k, _)| k != "Mobile")
                .cloned()
                .collect(),
            -1501,
            "参数错误".into(),
        ),
        (
            with(base.clone(), "Order_list", "|"),
            -1,
            "没有设置产品列表项，请先设置......".into(),
        ),
        (
            with(
                base.clone(),
                "Order_list",
                &format!("{ADULT}|2|{UNLIMITED}"),
            ),
            -1,
            "产品ID应与数量一一对应，请检查......".into(),
        ),
        (
            with(base.clone(), "Order_list", "NOPE|1"),
            -1,
            "没有获取到产品信息，不能完成订单的提交。".into(),
        ),
        (
            with(base.clone(), "Order_list", &format!("{GROUP}|5")),
            -1501,
            format!("{GROUP}|单笔数量须在10至100之间"),
        ),
        (
            with(base.clone(), "ID", &a.enc("43-01")),
            -1,
            "取票证件号码:\"43-01\"有错误:证件号码格式不正确".into(),
        ),
        (
            with(base.clone(), "SXRQ", &a.enc("20261121")),
            -1,
            "解析实名用户数据失败。门票预售的日期在生效日期之后。".into(),
        ),
        (
            with(base.clone(), "SXRQ", &a.enc("2026-11-23")),
            -1501,
            "参数错误".into(),
        ),
        (
            with(base.clone(), "Mobile", "not-base64!"),
            -1,
            "参数解密失败".into(),
        ),
        (
            with(base.clone(), "timespanindex", "9"),
            -1,
            "时段不存在或不可用，预定失败。".into(),
        ),
        (
            base.iter()
                .filter(|(k, _)| k != "timespanindex")
                .cloned()
                .collect(),
            -1501,
            "参数错误".into(),
        ),
        (
            with(base.clone(), "Order_list", &format!("{NO_MAX}|1")),
            -1502,
            "门票类型中单日最大许可未设置".into(),
        ),
        (
            with(base.clone(), "Order_list", &format!("{REAL_NAME}|1")),
            -1,
            "解析实名用户数据失败。要求实名制的票，没有给出相应的实名信息。".into(),
        ),
    ];
    for (params, code, msg) in cases {
        let r = call(&server.url, &a, "OrderProducts.aspx", &refs(&params)).await;
        r.expect(code, &msg);
        assert!(r.tag("Item").is_none());
    }
    // Nothing was claimed by the refused bookings.
    assert_eq!(used(&server, ADULT, 0).await, 0);
    assert_eq!(used(&server, "@line/01", 1).await, 0);
    server.stop().await;
}

#[tokio::test]
async fn real_name_lists_are_checked_and_identity_numbers_are_live_once() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let base = booking(&a, &format!("{REAL_NAME}|2"), "1");
    let two = format!("{MEMO_ID}^张三^13800138000^1^1|430103198202020022^李四^13900139000^1^1");
    let cases = [
        (
            format!("{MEMO_ID}^张三^^1^1"),
            "1",
            "解析实名用户数据失败。要求实名制的票，没有给出相应的实名信息。",
        ),
        (
            two.clone(),
            "3",
            "解析实名用户数据失败。登记的实名票中票数与人数不一致。",
        ),
        (
            format!("{MEMO_ID}^张三^^1^1|{MEMO_ID}^李四^^1^1"),
            "2",
            "身份证号码出现了重复，请检查输入的用户信息。",
        ),
        (
            format!("{two}|430103198303030033^王五^^1^1"),
            "3",
            "解析实名用户数据失败。存在登记的实名票中票数超过了对应的票数的票种。",
        ),
    ];
    for (memo, count, msg) in cases {
        let p = with(with(base.clone(), "Memo", &a.enc(&memo)), "IDCount", count);
        call(&server.url, &a, "OrderProducts.aspx", &refs(&p))
            .await
            .expect(-1, msg);
    }
    let p = with(with(base.clone(), "Memo", &a.enc(&two)), "IDCount", "2");
    call(&server.url, &a, "OrderProducts.aspx", &refs(&p))
        .await
        .expect(0, "");
    // The same person on a second live order is refused.
    let again = with(
        with(
            booking(&a, &format!("{ADULT}|1"), "1"),
            "Memo",
            &a.enc(&format!("{MEMO_ID}^张三^^1^1")),
        ),
        "IDCount",
        "1",
    );
    call(&server.url, &a, "OrderProducts.aspx", &refs(&again))
        .await
        .expect(
            -1,
            &format!("该证件号码 \"{MEMO_ID} \" 在有效预订单中只允许预定一次。"),
        );
    server.stop().await;
}

#[tokio::test]
async fn automatic_segments_take_the_earliest_with_room() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    // Fill segment 1 (capacity 300) to 299.
    server
        .app
        .service
        .claim_quotas(&[boxoffice_core::store::QuotaClaim {
            key: QuotaKey {
                venue_id: venue_id(&server),
                product: "@line/01".into(),
                date: "2026-11-23".into(),
                segment: 1,
            },
            capacity: 300,
            units: 299,
        }])
        .await
        .expect("claim");
    let p = booking(&a, &format!("{ADULT}|2"), "-1");
    call(&server.url, &a, "OrderProducts.aspx", &refs(&p))
        .await
        .expect(0, "");
    assert_eq!(used(&server, "@line/01", 1).await, 299);
    assert_eq!(used(&server, "@line/01", 2).await, 2);
    // An explicit full segment is refused.
    let p = booking(&a, &format!("{ADULT}|2"), "1");
    call(&server.url, &a, "OrderProducts.aspx", &refs(&p))
        .await
        .expect(-1, "时段余量不足，预定失败。");
    server.stop().await;
}

#[tokio::test]
async fn daily_limits_of_product_and_agent() {
    let server = TestServer::start().await;
    let b = Agent::demo2();
    // demo-agent2 may book 20 persons a day.
    let p = booking(&b, &format!("{UNLIMITED}|15"), "1");
    call(&server.url, &b, "OrderProducts.aspx", &refs(&p))
        .await
        .expect(0, "");
    let p = booking(&b, &format!("{UNLIMITED}|6"), "1");
    call(&server.url, &b, "OrderProducts.aspx", &refs(&p))
        .await
        .expect(-10362, "已达到或接近当前客户单位最大单日预定限制，预定失败");
    // The product's day quota (500) refuses what would exceed it.
    server
        .app
        .service
        .claim_quotas(&[boxoffice_core::store::QuotaClaim {
            key: QuotaKey {
                venue_id: venue_id(&server),
                product: ADULT.into(),
                date: "2026-11-23".into(),
                segment: 0,
            },
            capacity: 500,
            units: 499,
        }])
        .await
        .expect("claim");
    let a = Agent::demo();
    call(
        &server.url,
        &a,
        "OrderProducts.aspx",
        &refs(&booking(&a, &format!("{ADULT}|2"), "2")),
    )
    .await
    .expect(-10361, "已达到或接近最大单日预定限制，");
    server.stop().await;
}

#[tokio::test]
async fn order_and_pay_with_deposit_delivers_debits_and_is_idempotent() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let p = ydj(&a, &format!("{ADULT}|2"), "240.00", "CTRIP-0001");
    let r = call(&server.url, &a, "OrderAndPayWithYDJ.aspx", &refs(&p)).await;
    r.expect(0, "");
    let number = r.tag("Order_id").expect("Order_id");
    assert_eq!(r.tag("XCDDH").as_deref(), Some("CTRIP-0001"));
    assert_eq!(r.tag("status").as_deref(), Some("3"));
    // The same XCDDH again: the same order, nothing charged twice — even with other fields.
    let again = with(p.clone(), "money", "1.00");
    let r2 = call(&server.url, &a, "OrderAndPayWithYDJ.aspx", &refs(&again)).await;
    r2.expect(0, "");
    assert_eq!(r2.tag("Order_id"), Some(number.clone()));
    let store = server.app.service.store().clone();
    let partner = partner_id(&server, "demo-agent");
    let ledger = store
        .ledger(partner, Some("deposit"))
        .await
        .expect("ledger");
    assert_eq!(
        ledger
            .iter()
            .map(|e| (e.kind.as_str(), e.amount, e.balance_after))
            .collect::<Vec<_>>(),
        vec![
            ("topup", 10_000_000, 10_000_000),
            ("debit", -24_000, 9_976_000)
        ]
    );
    let o = store
        .visit_order_by_number(&number)
        .await
        .expect("order")
        .expect("exists");
    assert_eq!(
        o.tickets.len(),
        1,
        "many people, one ticket: {:?}",
        o.tickets
    );
    assert_eq!(o.tickets[0].person_count, 2);
    assert_eq!(o.tickets[0].code.len(), 20);
    assert_eq!(used(&server, ADULT, 0).await, 2);
    server.stop().await;
}

#[tokio::test]
async fn order_and_pay_refusals_change_nothing() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let p = ydj(&a, &format!("{ADULT}|2"), "240.00", "X-1");
    call(
        &server.url,
        &a,
        "OrderAndPayWithYDJ.aspx",
        &refs(&with(p.clone(), "money", "239.99")),
    )
    .await
    .expect(-2096, "指定的订单金额不正确。");
    call(
        &server.url,
        &a,
        "OrderAndPayWithYDJ.aspx",
        &refs(&with(p.clone(), "SmsCode", &a.pay("654321"))),
    )
    .await
    .expect(-2098, "支付密码错误。");
    call(
        &server.url,
        &a,
        "OrderAndPayWithYDJ.aspx",
        &refs(&with(p.clone(), "smsModel", "Z")),
    )
    .await
    .expect(-1901, "参数错误。");
    let b = Agent::demo2();
    // demo-agent2: deposit ¥500.00, no rebate rights.
    let big = ydj(&b, &format!("{ADULT}|5"), "600.00", "X-2");
    call(&server.url, &b, "OrderAndPayWithYDJ.aspx", &refs(&big))
        .await
        .expect(-2097, "预订金余额不足以完成授权。");
    let mut fk = with(ydj(&b, &format!("{ADULT}|1"), "120.00", "X-3"), "XCDDH", "");
    fk.push(("senderid".into(), b.enc("FK-1")));
    call(&server.url, &b, "OrderAndPayWithFK.aspx", &refs(&fk))
        .await
        .expect(-2194, "当前客户不能使用返款余额支付授权。");
    assert_eq!(used(&server, ADULT, 0).await, 0);
    let store = server.app.service.store().clone();
    assert_eq!(
        store
            .ledger(partner_id(&server, "demo-agent2"), Some("deposit"))
            .await
            .expect("ledger")
            .len(),
        1
    );
    // Five wrong payment passwords lock it for 15 minutes, even for the right one.
    for _ in 0..5 {
        call(
            &server.url,
            &a,
            "OrderAndPayWithYDJ.aspx",
            &refs(&with(p.clone(), "SmsCode", &a.pay("000000"))),
        )
        .await
        .expect(-2098, "支付密码错误。");
    }
    server.clock.advance(chrono::Duration::seconds(2));
    call(&server.url, &a, "OrderAndPayWithYDJ.aspx", &refs(&p))
        .await
        .expect(-2098, "支付密码错误。");
    server.clock.advance(chrono::Duration::minutes(16));
    call(&server.url, &a, "OrderAndPayWithYDJ.aspx", &refs(&p))
        .await
        .expect(0, "");
    server.stop().await;
}

#[tokio::test]
async fn authorization_without_activation_holds_and_cancel_charges_the_fee() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let p = with(
        ydj(&a, &format!("{ADULT}|2"), "240.00", "HOLD-1"),
        "activate",
        "0",
    );
    let r = call(&server.url, &a, "OrderAndPayWithYDJ.aspx", &refs(&p)).await;
    r.expect(0, "");
    assert_eq!(r.tag("status").as_deref(), Some("2"));
    let number = r.tag("Order_id").expect("number");
    let store = server.app.service.store().clone();
    let partner = partner_id(&server, "demo-agent");
    let acc = store.accounts(partner).await.expect("accounts");
    let deposit = acc
        .iter()
        .find(|x| x.account == "deposit")
        .expect("deposit");
    assert_eq!((deposit.balance, deposit.held), (10_000_000, 24_000));
    // Cancelled at 10:00 the day before the visit: lead 0 days → ¥20 a ticket.
    call(
        &server.url,
        &a,
        "CancelOrder.aspx",
        &[("Order_id", &number)],
    )
    .await
    .expect(0, "操作成功");
    let acc = store.accounts(partner).await.expect("accounts");
    let deposit = acc
        .iter()
        .find(|x| x.account == "deposit")
        .expect("deposit");
    assert_eq!((deposit.balance, deposit.held), (10_000_000 - 4_000, 0));
    assert_eq!(used(&server, ADULT, 0).await, 0);
    assert_eq!(used(&server, "@line/01", 1).await, 0);
    call(
        &server.url,
        &a,
        "CancelOrder.aspx",
        &[("Order_id", &number)],
    )
    .await
    .expect(-2381, "当前订单状态为4，不支持直接撤消订单。");
    server.stop().await;
}

#[tokio::test]
async fn cancel_order_codes() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let r = order(&server, &a, &[]).await;
    let number = r.tag("orderid").expect("number");
    call(&server.url, &a, "CancelOrder.aspx", &[])
        .await
        .expect(-1, "订单号不能为空，请检查输入");
    call(
        &server.url,
        &a,
        "CancelOrder.aspx",
        &[("Order_id", "202611220000000000")],
    )
    .await
    .expect(-2361, "核算互联网订单违约手续费错误：订单不存在。");
    // Another agent's order is unknown to it.
    call(
        &server.url,
        &Agent::demo2(),
        "CancelOrder.aspx",
        &[("Order_id", &number)],
    )
    .await
    .expect(-2361, "核算互联网订单违约手续费错误：订单不存在。");
    call(
        &server.url,
        &a,
        "CancelOrder.aspx",
        &[("Order_id", &number)],
    )
    .await
    .expect(0, "操作成功");
    assert_eq!(used(&server, ADULT, 0).await, 0);
    let paid = ydj(&a, &format!("{ADULT}|1"), "120.00", "DONE-1");
    let r = call(&server.url, &a, "OrderAndPayWithYDJ.aspx", &refs(&paid)).await;
    let delivered = r.tag("Order_id").expect("number");
    call(
        &server.url,
        &a,
        "CancelOrder.aspx",
        &[("Order_id", &delivered)],
    )
    .await
    .expect(-2381, "当前订单状态为3，不支持直接撤消订单。");
    server.stop().await;
}

#[tokio::test]
async fn order_and_pay_with_rebate_delivers_from_the_rebate_account() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let mut p: Vec<(String, String)> = ydj(&a, &format!("{GROUP}|20"), "1440.00", "")
        .into_iter()
        .filter(|(k, _)| k != "XCDDH")
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    p.push(("senderid".into(), a.enc("FK-ORDER-1")));
    // Ten-for-one: 20 persons, 2 free, 18 × 80.00.
    let r = call(&server.url, &a, "OrderAndPayWithFK.aspx", &refs(&p)).await;
    r.expect(0, "");
    assert_eq!(r.tag("senderid").as_deref(), Some("FK-ORDER-1"));
    assert_eq!(r.tag("status").as_deref(), Some("D"));
    let ledger = server
        .app
        .service
        .store()
        .ledger(partner_id(&server, "demo-agent"), Some("rebate"))
        .await
        .expect("ledger");
    assert_eq!(ledger.last().map(|e| e.amount), Some(-144_000));
    server.stop().await;
}

#[tokio::test]
async fn authentication_failures_answer_in_the_documented_order() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let p = booking(&a, &format!("{ADULT}|1"), "1");
    // Missing sign.
    let mut unsigned = a.signed(&refs(&p));
    unsigned.retain(|(k, _)| k != "sign");
    let r = get_raw(&server.url, "OrderProducts.aspx", &unsigned).await;
    r.expect(-1501, "参数错误");
    assert_eq!(r.tag("sign").as_deref(), Some(""));
    let r = get_raw(
        &server.url,
        "CancelOrder.aspx",
        &a.signed(&[])
            .into_iter()
            .filter(|(k, _)| k != "password")
            .collect::<Vec<_>>(),
    )
    .await;
    r.expect(-1901, "参数错误。");
    // Unknown user.
    let ghost = Agent {
        user: "ghost".into(),
        ..Agent::demo()
    };
    call(&server.url, &ghost, "OrderProducts.aspx", &refs(&p))
        .await
        .expect(-1, "没有这个互联网账户或者互联网账户被禁用；");
    call(
        &server.url,
        &ghost,
        "CancelOrder.aspx",
        &[("Order_id", "1")],
    )
    .await
    .expect(-2201, "当前用户不存在。");
    // Wrong password.
    let wrong = Agent {
        password: "nope".into(),
        ..Agent::demo()
    };
    let r = call(&server.url, &wrong, "OrderProducts.aspx", &refs(&p)).await;
    r.expect(-1, "用户名、密码 或 密钥 不正确；");
    assert!(r.signed_by(KEY));
    // Bad signature.
    let mut tampered = a.signed(&refs(&p));
    for (k, v) in tampered.iter_mut() {
        if k == "timespanindex" {
            *v = "2".into();
        }
    }
    get_raw(&server.url, "OrderProducts.aspx", &tampered)
        .await
        .expect(-1, "签名不正确，不能完成操作；");
    // '+' sent unencoded arrives as a space and is repaired (password and fields).
    let signed = a.signed(&refs(&p));
    let query: String = signed
        .iter()
        .map(|(k, v)| {
            let enc: String = form_encode(v).replace("%2B", "+");
            format!("{k}={enc}")
        })
        .collect::<Vec<_>>()
        .join("&");
    let text = reqwest::get(format!("{}/ybx/OrderProducts.aspx?{query}", server.url))
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    assert!(text.contains("<retcode>0</retcode>"), "{text}");
    // A disabled account.
    server
        .app
        .apply_catalog(
            r#"
[[partner]]
code = "off-agent"
name = "停用代理"
venues = ["JQ01"]
[[partner.credential]]
protocol = "ybx"
key = "off-agent"
secret = "11111111-2222-3333-4444-555555555555"
options = { login_md5 = "A540459139867E3EB98F0686EE199B2A", enabled = false }
"#,
        )
        .await
        .expect("catalogue");
    let off = Agent {
        user: "off-agent".into(),
        key: "11111111-2222-3333-4444-555555555555".into(),
        password: "demo-pass".into(),
    };
    call(&server.url, &off, "OrderProducts.aspx", &refs(&p))
        .await
        .expect(-1, "没有这个互联网账户或者互联网账户被禁用；");
    call(&server.url, &off, "CancelOrder.aspx", &[("Order_id", "1")])
        .await
        .expect(-2202, "当前账户已禁用。");
    // Unknown page.
    let r = get_raw(&server.url, "NoSuchPage.aspx", &[]).await;
    assert_eq!(r.status, 404);
    server.stop().await;
}

fn form_encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

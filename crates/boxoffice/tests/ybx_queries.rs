//! HTTP-level tests of the 游宝星 order queries (catalogue `youbaoxing-eticket.md` §4.2.8–4.2.10,
//! §4.2.51): QueryOrder, QueryOrdersList, QueryOrderPageListCount and GetProductsIdentity.
//!
//! Orders are booked through OrderProducts end to end, or written straight into the store when a
//! test needs states, payments, deliveries and refunds the booking page cannot produce alone.
//! The test clock stands at 2026-11-22 10:00 +08:00.

mod common;

use boxoffice_core::catalog::PartnerId;
use boxoffice_core::scenic::{
    NewVisitOrder, PayMethod, Person, VisitDetail, VisitEffects, VisitItem, VisitOrder,
    VisitOutcome, VisitState, VisitTicket,
};
use chrono::{Duration, NaiveDate};
use common::{ybx::*, TestServer};
use std::sync::atomic::{AtomicU64, Ordering};

const QUERY_ORDER: &str = "QueryOrder.aspx";
const LIST: &str = "QueryOrdersList.aspx";
const COUNT: &str = "QueryOrderPageListCount.aspx";
const IDENTITY: &str = "GetProductsIdentity.aspx";

const NOT_FOUND: &str = "没有找到对应的订单或订单不属于当前用户。";
const PARAM_ERROR: &str = "参数错误。";
const LIST_EMPTY: &str = "没有获取到相关产品的定单信息。";
const COUNT_EMPTY: &str = "没有获取到相关产品的定单列表页数信息。";
const OLD_VERSION: &str = "调用失败，失败原因：此版本已暂停使用，请使用新版本进行门票预订操作!";
const NO_ORDER_ID: &str = "单号不能为空......";
const IDENTITY_UNKNOWN: &str = "指定的预约单不存在。";

/// QueryOrder's `<Item>` elements in the catalogue's [A] order (one subitem).
const QUERY_ORDER_TAGS: &[&str] = &[
    "Item",
    "orderid",
    "ordertime",
    "customertype",
    "customerid",
    "customername",
    "description",
    "orderstatus",
    "paytimeout",
    "summary",
    "spdh",
    "sxrq",
    "jgrqsj",
    "mobile",
    "cardid",
    "xyfp",
    "fptt",
    "dealtotal",
    "dealamount",
    "totalfees",
    "paychannel",
    "backtotal",
    "backstatus",
    "returnticketdesc",
    "returncount",
    "returntotal",
    "returnpaychanneldesc",
    "subitem",
    "productid",
    "productname",
    "num",
    "unit",
    "price",
    "productstatus",
    "timeindex",
    "timeindexdesc",
    "serverstationid",
    "serverstationname",
    "seatlistdesc",
    "dealnum",
    "dealamount",
    "fees",
    "returncount",
    "returnfees",
    "returntotal",
    "returnpaychanneldesc",
];

/// One QueryOrdersList record's elements in the catalogue's order.
const LIST_ITEM_TAGS: &[&str] = &[
    "Item",
    "orderid",
    "ordertime",
    "customertype",
    "customerid",
    "customername",
    "description",
    "orderstatus",
    "summary",
    "tickettypedesc",
    "dealtotal",
    "dealdesc",
    "feetotal",
    "backtotal",
    "backstatus",
    "paychannel",
    "returnticketdesc",
    "returncount",
    "returntotal",
    "returnfees",
    "returnpaychanneldesc",
    "spdh",
    "sxrq",
    "jgrqsj",
    "mobile",
    "cardid",
    "xyfp",
    "fptt",
];

/// Request parameters of a table-driven case.
type Params<'a> = &'a [(&'a str, &'a str)];

const IDENTITY_TAGS: &[&str] = &[
    "Item",
    "orderid",
    "productid",
    "productname",
    "type",
    "status",
    "identitycode",
    "name",
    "mobile",
];

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// An 18-character ID card number with a valid GB 11643 check character for a 17-digit body.
fn id_card(body: &str) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).expect("digit") * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

/// The opening-tag names of the answer's payload (after `<sign>`), in document order.
fn payload_tags(text: &str) -> Vec<String> {
    let start = text.find("</sign>").expect("sign") + "</sign>".len();
    let mut out = Vec::new();
    let mut rest = &text[start..];
    while let Some(i) = rest.find('<') {
        let after = &rest[i + 1..];
        let Some(j) = after.find('>') else { break };
        let name = &after[..j];
        if !name.starts_with('/') {
            out.push(name.to_string());
        }
        rest = &after[j + 1..];
    }
    out
}

/// Asserts every element closes in order (the document is well-formed as far as tags go).
#[track_caller]
fn assert_well_formed(text: &str) {
    let body = text.split_once("?>").map(|(_, b)| b).unwrap_or(text);
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find('<') {
        let after = &rest[i + 1..];
        let j = after.find('>').expect("closing >");
        let name = &after[..j];
        if let Some(closing) = name.strip_prefix('/') {
            assert_eq!(stack.pop(), Some(closing), "in {text}");
        } else {
            assert!(!name.contains(' ') && !name.ends_with('/'), "tag {name}");
            stack.push(name);
        }
        rest = &after[j + 1..];
    }
    assert!(stack.is_empty(), "unclosed {stack:?} in {text}");
}

/// Books `product` × `qty` for 2026-11-23 in segment 1 through OrderProducts; returns the order
/// number.
async fn book(
    server: &TestServer,
    agent: &Agent,
    order_list: &str,
    extra: &[(&str, &str)],
) -> String {
    let mobile = agent.enc("13812345678");
    let id = agent.enc(&id_card("43010419900101123"));
    let date = agent.enc("20261123");
    let mut params: Vec<(&str, &str)> = vec![
        ("Order_list", order_list),
        ("Mobile", &mobile),
        ("ID", &id),
        ("SXRQ", &date),
        ("timespanindex", "1"),
    ];
    params.extend_from_slice(extra);
    let r = call(&server.url, agent, "OrderProducts.aspx", &params).await;
    r.expect(0, "");
    r.tag("orderid").expect("orderid")
}

fn partner_id(server: &TestServer, user: &str) -> PartnerId {
    server
        .app
        .service
        .catalog()
        .partner_by_credential("ybx", user)
        .expect("agent")
        .id
}

fn adult(count: i64) -> VisitItem {
    VisitItem {
        product: ADULT.into(),
        name: "成人票".into(),
        unit: "张".into(),
        count,
        free: 0,
        unit_price: 12000,
    }
}

fn unlimited(count: i64) -> VisitItem {
    VisitItem {
        product: UNLIMITED.into(),
        name: "不限量票".into(),
        unit: "张".into(),
        count,
        free: 0,
        unit_price: 5000,
    }
}

fn real_name(count: i64) -> VisitItem {
    VisitItem {
        product: REAL_NAME.into(),
        name: "实名票".into(),
        unit: "张".into(),
        count,
        free: 0,
        unit_price: 10000,
    }
}

fn ticket(product: &str, price: i64, status: i32, id_number: &str, name: &str) -> VisitTicket {
    static CODE: AtomicU64 = AtomicU64::new(1);
    let n = CODE.fetch_add(1, Ordering::Relaxed);
    VisitTicket {
        code: format!("{:020}", 90_000_000_000u64 + n),
        seq: n as i64,
        product: product.into(),
        person_count: 1,
        free_count: 0,
        price,
        date: date(2026, 11, 23),
        medium: 1,
        status,
        name: name.into(),
        id_number: id_number.into(),
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

/// Milliseconds of a venue-local (+08:00) wall-clock time.
fn local_ms(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
    let t = date(y, m, d).and_hms_opt(h, min, 0).expect("time") - Duration::hours(8);
    t.and_utc().timestamp_millis()
}

/// An order of `user` as the store keeps it, shaped by `tweak` (defaults: two adult tickets for
/// 2026-11-23, line 01 segment 2, booked now, mobile 13800138000).
async fn seed(
    server: &TestServer,
    user: &str,
    tweak: impl FnOnce(&mut NewVisitOrder),
) -> VisitOrder {
    static KEY: AtomicU64 = AtomicU64::new(1);
    let venue = server.app.service.catalog().venue("JQ01").expect("JQ01").id;
    let mut n = NewVisitOrder {
        venue_id: venue,
        partner_id: partner_id(server, user),
        external_ref: format!("t:{}", KEY.fetch_add(1, Ordering::Relaxed)),
        state: VisitState::Booked,
        visit_date: date(2026, 11, 23),
        line: Some("01".into()),
        segment: Some(2),
        total: 24000,
        number_prefix: "20261122".into(),
        detail: VisitDetail {
            items: vec![adult(2)],
            mobile: "13800138000".into(),
            id_number: id_card("43010419900101123"),
            ..VisitDetail::default()
        },
        now_ms: server.app.service.now_ms(),
        expires_ms: None,
        effects: VisitEffects::default(),
    };
    tweak(&mut n);
    match server
        .app
        .service
        .store()
        .create_visit_order(n)
        .await
        .expect("store")
    {
        VisitOutcome::Done(o) => *o,
        other => panic!("not created: {other:?}"),
    }
}

async fn query(server: &TestServer, agent: &Agent, number: &str) -> XmlReply {
    call(&server.url, agent, QUERY_ORDER, &[("order_id", number)]).await
}

async fn list(server: &TestServer, agent: &Agent, params: &[(&str, &str)]) -> XmlReply {
    call(&server.url, agent, LIST, params).await
}

async fn count(server: &TestServer, agent: &Agent, params: &[(&str, &str)]) -> XmlReply {
    call(&server.url, agent, COUNT, params).await
}

fn with_page<'a>(page: &'a str, params: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut p = vec![("Page_index", page)];
    p.extend_from_slice(params);
    p
}

// ---------------------------------------------------------------------------------------------
// QueryOrder (4.2.8)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn query_order_reports_a_booking_made_through_order_products() {
    let server = TestServer::start().await;
    let agent = Agent::demo();
    let list_text = format!("{ADULT}|3");
    let number = book(&server, &agent, &list_text, &[("senderid", "S-1")]).await;

    let r = query(&server, &agent, &number).await;
    r.expect(0, "");
    assert!(r.signed_by(KEY), "{}", r.text);
    assert_eq!(r.status, 200);
    assert!(r.content_type.starts_with("text/xml"), "{}", r.content_type);
    assert_well_formed(&r.text);
    assert_eq!(payload_tags(&r.text), QUERY_ORDER_TAGS);
    assert_eq!(r.tag("orderid").as_deref(), Some(number.as_str()));
    assert_eq!(r.tag("ordertime").as_deref(), Some("20261122100000"));
    assert_eq!(r.tag("customertype").as_deref(), Some("1"));
    assert_eq!(r.tag("customerid").as_deref(), Some("DL0001"));
    assert_eq!(r.tag("customername").as_deref(), Some("示例旅行社"));
    assert_eq!(r.tag("description").as_deref(), Some(""));
    assert_eq!(r.tag("orderstatus").as_deref(), Some("0"));
    assert_eq!(r.tag("paytimeout").as_deref(), Some("0"), "cash agent");
    assert_eq!(r.tag("summary").as_deref(), Some("360.00"));
    assert_eq!(r.tag("spdh").as_deref(), Some(""));
    assert_eq!(r.tag("sxrq").as_deref(), Some("20261123"));
    assert_eq!(r.tag("jgrqsj").as_deref(), Some(""));
    assert_eq!(r.tag("mobile").as_deref(), Some("13812345678"));
    assert_eq!(r.tag("cardid"), Some(id_card("43010419900101123")));
    assert_eq!(r.tag("xyfp").as_deref(), Some("0"));
    assert_eq!(r.tag("fptt").as_deref(), Some(""));
    assert_eq!(r.tags("dealtotal"), ["0.00"]);
    assert_eq!(r.tags("dealamount"), ["0.00", "0.00"]);
    assert_eq!(r.tag("totalfees").as_deref(), Some("0.00"));
    assert_eq!(r.tag("backtotal").as_deref(), Some("0.00"));
    assert_eq!(r.tags("returncount"), ["0", "0"]);
    assert_eq!(r.tag("productid").as_deref(), Some(ADULT));
    assert_eq!(r.tag("productname").as_deref(), Some("成人票"));
    assert_eq!(r.tag("num").as_deref(), Some("3"));
    assert_eq!(r.tag("unit").as_deref(), Some("张"));
    assert_eq!(r.tag("price").as_deref(), Some("120.00"));
    assert_eq!(r.tag("productstatus").as_deref(), Some("1"));
    assert_eq!(r.tag("timeindex").as_deref(), Some("1"));
    assert_eq!(r.tag("timeindexdesc").as_deref(), Some("08:00-10:00"));
    assert_eq!(r.tag("serverstationid").as_deref(), Some("01"));
    assert_eq!(r.tag("serverstationname").as_deref(), Some("主游览线"));
    assert_eq!(r.tag("seatlistdesc").as_deref(), Some(""));
    assert_eq!(r.tag("dealnum").as_deref(), Some("0"));
    assert_eq!(r.tag("fees").as_deref(), Some("0.00"));

    // POST transport answers the same.
    let p = post(&server.url, &agent, QUERY_ORDER, &[("order_id", &number)]).await;
    assert_eq!(p.text, r.text);

    // The other agent cannot see it.
    let other = query(&server, &Agent::demo2(), &number).await;
    other.expect(-2002, NOT_FOUND);
    assert!(other.signed_by(KEY2));
    server.stop().await;
}

#[tokio::test]
async fn query_pages_follow_a_deposit_paid_and_activated_booking() {
    let server = TestServer::start().await;
    let agent = Agent::demo();
    let mobile = agent.enc("13812345678");
    let id = agent.enc(&id_card("43010419900101123"));
    let sxrq = agent.enc("20261123");
    let xcddh = agent.enc("MY-ORDER-1");
    let pay = agent.pay("123456");
    let order_list = format!("{ADULT}|2");
    let r = call(
        &server.url,
        &agent,
        "OrderAndPayWithYDJ.aspx",
        &[
            ("Order_list", &order_list),
            ("Mobile", &mobile),
            ("ID", &id),
            ("SXRQ", &sxrq),
            ("SmsCode", &pay),
            ("money", "240.00"),
            ("smsModel", "0"),
            ("XCDDH", &xcddh),
            ("activate", "1"),
            ("timespanindex", "3"),
        ],
    )
    .await;
    r.expect(0, "");
    let number = r.tag("Order_id").expect("Order_id");

    let q = query(&server, &agent, &number).await;
    q.expect(0, "");
    assert_eq!(q.tag("orderstatus").as_deref(), Some("3"));
    assert_eq!(q.tag("paychannel").as_deref(), Some("预订金"));
    assert_eq!(q.tag("jgrqsj").as_deref(), Some("20261122100000"));
    assert_eq!(q.tag("dealtotal").as_deref(), Some("240.00"));
    assert_eq!(q.tags("dealamount"), ["240.00", "240.00"]);
    assert_eq!(q.tag("dealnum").as_deref(), Some("2"));
    assert_eq!(q.tag("timeindex").as_deref(), Some("3"));
    assert_eq!(q.tag("timeindexdesc").as_deref(), Some("12:00-14:00"));

    // Listed by delivery date and by state.
    let l = list(
        &server,
        &agent,
        &[("Page_index", "0"), ("Query_model", "3"), ("ZT", "3")],
    )
    .await;
    l.expect(0, "");
    assert_eq!(l.tags("orderid"), [number.as_str()]);
    assert_eq!(l.tag("dealdesc").as_deref(), Some("共成交成人票2张"));
    server.stop().await;
}

#[tokio::test]
async fn query_order_reports_delivery_fees_and_ticket_refunds() {
    let server = TestServer::start().await;
    let agent = Agent::demo();
    let delivered = local_ms(2026, 11, 22, 11, 5);
    let order = seed(&server, "demo-agent", |n| {
        n.state = VisitState::Delivered;
        n.total = 41000;
        n.detail.items = vec![adult(3), unlimited(1)];
        n.detail.pay_method = Some(PayMethod::Deposit);
        n.detail.paid = 41000;
        n.detail.fees = 1000;
        n.detail.invoice = true;
        n.detail.invoice_title = "长沙某某公司 & 子公司".into();
        n.detail.delivered_ms = Some(delivered);
        n.detail.sale_bill = "SP202611220001".into();
        n.effects.tickets = vec![
            ticket(ADULT, 12000, 1, "", ""),
            ticket(ADULT, 12000, 2, "", ""),
            ticket(ADULT, 12000, 1, "", ""),
            ticket(UNLIMITED, 5000, 1, "", ""),
        ];
    })
    .await;

    let r = query(&server, &agent, &order.number).await;
    r.expect(0, "");
    assert_well_formed(&r.text);
    let mut expected: Vec<&str> = QUERY_ORDER_TAGS.to_vec();
    expected.extend_from_slice(&QUERY_ORDER_TAGS[27..]);
    assert_eq!(payload_tags(&r.text), expected, "two subitems");
    assert_eq!(r.tag("orderstatus").as_deref(), Some("3"));
    assert_eq!(r.tag("summary").as_deref(), Some("410.00"));
    assert_eq!(r.tag("spdh").as_deref(), Some("SP202611220001"));
    assert_eq!(r.tag("jgrqsj").as_deref(), Some("20261122110500"));
    assert_eq!(r.tag("xyfp").as_deref(), Some("1"));
    assert_eq!(r.tag("fptt").as_deref(), Some("长沙某某公司 & 子公司"));
    assert!(r.text.contains("长沙某某公司 &amp; 子公司"));
    assert_eq!(r.tag("dealtotal").as_deref(), Some("420.00"));
    assert_eq!(r.tags("dealamount"), ["410.00", "360.00", "50.00"]);
    assert_eq!(r.tag("totalfees").as_deref(), Some("10.00"));
    assert_eq!(r.tag("paychannel").as_deref(), Some("预订金"));
    assert_eq!(r.tag("backtotal").as_deref(), Some("120.00"));
    assert_eq!(r.tag("backstatus").as_deref(), Some("已受理"));
    assert_eq!(
        r.tag("returnticketdesc").as_deref(),
        Some("退成人票1张，合计120.00元")
    );
    assert_eq!(r.tags("returncount"), ["1", "1", "0"]);
    assert_eq!(r.tags("returntotal"), ["120.00", "120.00", "0.00"]);
    assert_eq!(
        r.tags("returnpaychanneldesc"),
        [
            "预订金，退款120.00，已受理",
            "预订金，退款120.00，已受理",
            ""
        ]
    );
    assert_eq!(r.tags("productid"), [ADULT, UNLIMITED]);
    assert_eq!(r.tags("num"), ["3", "1"]);
    assert_eq!(r.tags("price"), ["120.00", "50.00"]);
    assert_eq!(r.tags("dealnum"), ["3", "1"]);
    assert_eq!(r.tags("fees"), ["7.50", "2.50"], "fees spread by units");
    assert_eq!(r.tags("returnfees"), ["0.00", "0.00"]);
    assert_eq!(r.tags("timeindex"), ["2", "2"]);
    assert_eq!(r.tags("timeindexdesc"), ["10:00-12:00", "10:00-12:00"]);
    server.stop().await;
}

#[tokio::test]
async fn query_order_names_every_payment_channel() {
    let server = TestServer::start().await;
    let agent = Agent::demo();
    let cases: [(Option<PayMethod>, &str, &str); 8] = [
        (Some(PayMethod::Counter), "", "前台现付"),
        (Some(PayMethod::Deposit), "", "预订金"),
        (Some(PayMethod::Rebate), "", "返款余额"),
        (Some(PayMethod::Instant), "01", "支付宝"),
        (Some(PayMethod::Instant), "02", "微信支付"),
        (Some(PayMethod::Instant), "03", "银联网上支付"),
        (Some(PayMethod::Instant), "", ""),
        (None, "", ""),
    ];
    for (method, channel, text) in cases {
        let o = seed(&server, "demo-agent", |n| {
            n.detail.pay_method = method;
            n.detail.pay_channel = channel.into();
        })
        .await;
        let r = query(&server, &agent, &o.number).await;
        r.expect(0, "");
        assert_eq!(
            r.tag("paychannel").as_deref(),
            Some(text),
            "{method:?} {channel}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn query_order_reports_states_closed_fees_and_the_agents_pay_timeout() {
    let server = TestServer::start().await;
    // A closed order that was charged a breach fee: money stays 0 but for the fee.
    let closed = seed(&server, "demo-agent", |n| {
        n.state = VisitState::Closed;
        n.detail.pay_method = Some(PayMethod::Deposit);
        n.detail.fees = 2000;
        n.segment = None;
        n.line = None;
    })
    .await;
    let r = query(&server, &Agent::demo(), &closed.number).await;
    r.expect(0, "");
    assert_eq!(r.tag("orderstatus").as_deref(), Some("4"));
    assert_eq!(r.tags("dealamount"), ["0.00", "0.00"]);
    assert_eq!(r.tag("totalfees").as_deref(), Some("20.00"));
    assert_eq!(r.tag("dealtotal").as_deref(), Some("20.00"));
    assert_eq!(r.tag("dealnum").as_deref(), Some("0"));
    assert_eq!(r.tag("timeindex").as_deref(), Some(""));
    assert_eq!(r.tag("timeindexdesc").as_deref(), Some(""));

    // Rebate-authorized and refund states, for an agent without pay-at-counter rights.
    for (state, code, back) in [
        (VisitState::RebateAuthorized, "C", ""),
        (VisitState::RefundRequested, "7", "受理中"),
        (VisitState::Refunded, "B", "已受理"),
        (VisitState::DeliveredCounter, "X", ""),
    ] {
        let o = seed(&server, "demo-agent2", |n| n.state = state).await;
        let r = query(&server, &Agent::demo2(), &o.number).await;
        r.expect(0, "");
        assert_eq!(r.tag("orderstatus").as_deref(), Some(code));
        assert_eq!(r.tag("paytimeout").as_deref(), Some("30"));
        assert_eq!(r.tag("backstatus").as_deref(), Some(back), "{code}");
        assert_eq!(r.tag("customerid").as_deref(), Some("DL0002"));
    }
    server.stop().await;
}

#[tokio::test]
async fn query_order_rejects_missing_unknown_and_foreign_orders() {
    let server = TestServer::start().await;
    let agent = Agent::demo();
    let theirs = seed(&server, "demo-agent2", |_| {}).await;

    call(&server.url, &agent, QUERY_ORDER, &[])
        .await
        .expect(-1901, PARAM_ERROR);
    call(&server.url, &agent, QUERY_ORDER, &[("order_id", "  ")])
        .await
        .expect(-1901, PARAM_ERROR);
    query(&server, &agent, "202611229999999999")
        .await
        .expect(-2002, NOT_FOUND);
    let r = query(&server, &agent, &theirs.number).await;
    r.expect(-2002, NOT_FOUND);
    assert!(!r.text.contains("<Item>"));
    query(&server, &Agent::demo2(), &theirs.number)
        .await
        .expect(0, "");

    // A-auth codes apply to this page.
    let mut anon = agent.clone();
    anon.user = "nobody".into();
    query(&server, &anon, &theirs.number)
        .await
        .expect(-2201, "当前用户不存在。");
    let no_sign: Vec<(String, String)> = agent
        .signed(&[("order_id", &theirs.number)])
        .into_iter()
        .filter(|(k, _)| k != "sign")
        .collect();
    get_raw(&server.url, QUERY_ORDER, &no_sign)
        .await
        .expect(-1901, PARAM_ERROR);
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// QueryOrdersList (4.2.9) and QueryOrderPageListCount (4.2.10)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn order_list_pages_newest_first_in_pages_of_twenty() {
    let server = TestServer::start().await;
    let agent = Agent::demo();
    let now = server.app.service.now_ms();
    let mut numbers = Vec::new();
    for i in 0..25i64 {
        let o = seed(&server, "demo-agent", |n| n.now_ms = now - i * 60_000).await;
        numbers.push(o.number);
    }
    let foreign = seed(&server, "demo-agent2", |_| {}).await;

    let c = count(&server, &agent, &[]).await;
    c.expect(0, "");
    assert!(c.signed_by(KEY));
    assert_well_formed(&c.text);
    assert_eq!(
        payload_tags(&c.text),
        ["item", "pagesize", "pagecount", "recordcount"]
    );
    assert_eq!(c.tag("pagesize").as_deref(), Some("20"));
    assert_eq!(c.tag("pagecount").as_deref(), Some("2"));
    assert_eq!(c.tag("recordcount").as_deref(), Some("25"));

    let p0 = list(&server, &agent, &[("Page_index", "0")]).await;
    p0.expect(0, "");
    assert_well_formed(&p0.text);
    assert_eq!(p0.tags("orderid"), numbers[..20]);
    let tags = payload_tags(&p0.text);
    assert_eq!(tags[0], "Items");
    assert_eq!(&tags[1..1 + LIST_ITEM_TAGS.len()], LIST_ITEM_TAGS);
    assert_eq!(tags.len(), 1 + 20 * LIST_ITEM_TAGS.len());

    let p1 = list(&server, &agent, &[("Page_index", "1")]).await;
    p1.expect(0, "");
    assert_eq!(p1.tags("orderid"), numbers[20..]);
    assert!(!p1.text.contains(&foreign.number));
    list(&server, &agent, &[("Page_index", "2")])
        .await
        .expect(-1, LIST_EMPTY);

    // The other agent sees only its own order.
    let theirs = list(&server, &Agent::demo2(), &[("Page_index", "0")]).await;
    theirs.expect(0, "");
    assert_eq!(theirs.tags("orderid"), [foreign.number.as_str()]);
    let c2 = count(&server, &Agent::demo2(), &[]).await;
    assert_eq!(c2.tag("recordcount").as_deref(), Some("1"));
    assert_eq!(c2.tag("pagecount").as_deref(), Some("1"));
    server.stop().await;
}

#[tokio::test]
async fn order_list_records_describe_each_order() {
    let server = TestServer::start().await;
    let agent = Agent::demo();
    let o = seed(&server, "demo-agent", |n| {
        n.state = VisitState::DeliveredRebate;
        n.total = 41000;
        n.detail.items = vec![adult(3), unlimited(1)];
        n.detail.pay_method = Some(PayMethod::Rebate);
        n.detail.fees = 500;
        n.detail.delivered_ms = Some(local_ms(2026, 11, 22, 9, 30));
        n.detail.sale_bill = "SP9".into();
        n.detail.invoice_title = "抬头".into();
        n.effects.tickets = vec![
            ticket(ADULT, 12000, 2, "", ""),
            ticket(ADULT, 12000, 1, "", ""),
            ticket(ADULT, 12000, 1, "", ""),
            ticket(UNLIMITED, 5000, 2, "", ""),
        ];
    })
    .await;
    let r = list(&server, &agent, &[("Page_index", "0")]).await;
    r.expect(0, "");
    let expect = [
        ("orderid", o.number.as_str()),
        ("ordertime", "20261122100000"),
        ("customertype", "1"),
        ("customerid", "DL0001"),
        ("customername", "示例旅行社"),
        ("description", ""),
        ("orderstatus", "D"),
        ("summary", "410.00"),
        ("tickettypedesc", "成人票3张,不限量票1张"),
        ("dealtotal", "415.00"),
        ("dealdesc", "共成交成人票3张,不限量票1张"),
        ("feetotal", "5.00"),
        ("backtotal", "170.00"),
        ("backstatus", "已受理"),
        ("paychannel", "返款余额"),
        ("returnticketdesc", "退成人票1张，不限量票1张，合计170.00元"),
        ("returncount", "2"),
        ("returntotal", "170.00"),
        ("returnfees", "0.00"),
        ("returnpaychanneldesc", "返款余额，退款170.00，已受理"),
        ("spdh", "SP9"),
        ("sxrq", "20261123"),
        ("jgrqsj", "20261122093000"),
        ("mobile", "13800138000"),
        ("cardid", &id_card("43010419900101123")),
        ("xyfp", "0"),
        ("fptt", "抬头"),
    ];
    for (tag, value) in expect {
        assert_eq!(r.tag(tag).as_deref(), Some(value), "{tag}");
    }

    // A booked order: nothing delivered yet.
    let booked = seed(&server, "demo-agent", |n| n.now_ms += 1000).await;
    let r = list(
        &server,
        &agent,
        &[("Page_index", "0"), ("YDDH", &booked.number)],
    )
    .await;
    r.expect(0, "");
    assert_eq!(r.tag("dealdesc").as_deref(), Some(""));
    assert_eq!(r.tag("dealtotal").as_deref(), Some("0.00"));
    assert_eq!(r.tag("tickettypedesc").as_deref(), Some("成人票2张"));
    assert_eq!(r.tag("jgrqsj").as_deref(), Some(""));
    server.stop().await;
}

#[tokio::test]
async fn order_list_filters_by_mobile_id_number_state_and_product() {
    let server = TestServer::start().await;
    let agent = Agent::demo();
    let id_a = id_card("11010519491231002");
    let a = seed(&server, "demo-agent", |n| {
        n.detail.mobile = "13911112222".into();
        n.detail.id_number = id_a.clone();
    })
    .await;
    let b = seed(&server, "demo-agent", |n| {
        n.now_ms += 1;
        n.state = VisitState::RebateAuthorized;
        n.detail.items = vec![unlimited(4)];
        n.total = 20000;
    })
    .await;
    let c = seed(&server, "demo-agent", |n| {
        n.now_ms += 2;
        n.state = VisitState::Delivered;
        n.detail.delivered_ms = Some(n.now_ms);
        n.detail.items = vec![adult(1), unlimited(1)];
    })
    .await;

    let ids = |r: &XmlReply| r.tags("orderid");
    let (sv, ag) = (&server, &agent);
    let p = |f: &'static str, v: String| async move {
        let r = list(sv, ag, &[("Page_index", "0"), (f, &v)]).await;
        let n = count(sv, ag, &[(f, &v)]).await;
        (r, n)
    };
    let (r, n) = p("SJHM", "13911112222".into()).await;
    assert_eq!(ids(&r), [a.number.as_str()]);
    assert_eq!(n.tag("recordcount").as_deref(), Some("1"));
    let (r, _) = p("ZJHM", id_a.to_ascii_lowercase()).await;
    assert_eq!(ids(&r), [a.number.as_str()]);
    let (r, _) = p("YDDH", b.number.clone()).await;
    assert_eq!(ids(&r), [b.number.as_str()]);
    let (r, _) = p("ZT", "c".into()).await;
    assert_eq!(ids(&r), [b.number.as_str()]);
    let (r, _) = p("ZT", "3".into()).await;
    assert_eq!(ids(&r), [c.number.as_str()]);
    let (r, n) = p("ProductID", UNLIMITED.to_ascii_lowercase()).await;
    assert_eq!(ids(&r), [c.number.as_str(), b.number.as_str()]);
    assert_eq!(n.tag("recordcount").as_deref(), Some("2"));
    let (r, _) = p("ProductID", ADULT.into()).await;
    assert_eq!(ids(&r), [c.number.as_str(), a.number.as_str()]);

    // Nothing matches.
    let (r, n) = p("ZT", "4".into()).await;
    r.expect(-1, LIST_EMPTY);
    n.expect(-1, COUNT_EMPTY);
    let (r, _) = p("SJHM", "13000000000".into()).await;
    r.expect(-1, LIST_EMPTY);

    // Filters combine.
    let r = list(
        &server,
        &agent,
        &[("Page_index", "0"), ("ZT", "0"), ("ProductID", ADULT)],
    )
    .await;
    assert_eq!(ids(&r), [a.number.as_str()]);
    server.stop().await;
}

#[tokio::test]
async fn order_list_selects_by_booking_visit_and_delivery_dates() {
    let server = TestServer::start().await;
    let agent = Agent::demo();
    let now_order = seed(&server, "demo-agent", |_| {}).await;
    let month_ago = seed(&server, "demo-agent", |n| {
        n.now_ms = local_ms(2026, 10, 22, 0, 0);
        n.visit_date = date(2026, 11, 30);
    })
    .await;
    let too_old = seed(&server, "demo-agent", |n| {
        n.now_ms = local_ms(2026, 10, 21, 23, 59);
        n.visit_date = date(2026, 11, 25);
    })
    .await;
    let delivered = seed(&server, "demo-agent", |n| {
        n.now_ms = local_ms(2026, 11, 20, 8, 0);
        n.state = VisitState::Delivered;
        n.visit_date = date(2026, 11, 21);
        n.detail.delivered_ms = Some(local_ms(2026, 11, 21, 15, 0));
    })
    .await;
    let ids = |r: XmlReply| {
        assert_eq!(r.code(), 0, "{}", r.text);
        r.tags("orderid")
    };

    // Model 1 (default): booked from the same day last month until today.
    assert_eq!(
        ids(list(&server, &agent, &[("Page_index", "0")]).await),
        [
            now_order.number.as_str(),
            &delivered.number,
            &month_ago.number
        ]
    );
    assert_eq!(
        ids(list(&server, &agent, &with_page("0", &[("Query_model", "1")])).await),
        [
            now_order.number.as_str(),
            &delivered.number,
            &month_ago.number
        ]
    );
    let old = [("Start_datetime", "20261021"), ("End_datetime", "20261021")];
    assert_eq!(
        ids(list(&server, &agent, &with_page("0", &old)).await),
        [too_old.number.as_str()]
    );
    let c = count(&server, &agent, &old).await;
    assert_eq!(c.tag("recordcount").as_deref(), Some("1"));
    // Only an end date before the default start (the same day last month).
    list(
        &server,
        &agent,
        &with_page("0", &[("End_datetime", "20261021")]),
    )
    .await
    .expect(-1901, PARAM_ERROR);

    // Model 2: visit dates.
    let visit = [
        ("Query_model", "2"),
        ("Start_datetime", "20261125"),
        ("End_datetime", "20261130"),
    ];
    assert_eq!(
        ids(list(&server, &agent, &with_page("0", &visit)).await),
        [month_ago.number.as_str(), &too_old.number]
    );
    let visit_now = [
        ("Query_model", "2"),
        ("Start_datetime", "20261121"),
        ("End_datetime", "20261123"),
    ];
    assert_eq!(
        ids(list(&server, &agent, &with_page("0", &visit_now)).await),
        [now_order.number.as_str(), &delivered.number]
    );

    // Model 3: delivery time.
    assert_eq!(
        ids(list(&server, &agent, &with_page("0", &[("Query_model", "3")])).await),
        [delivered.number.as_str()]
    );
    let day = [
        ("Query_model", "3"),
        ("Start_datetime", "20261122"),
        ("End_datetime", "20261122"),
    ];
    list(&server, &agent, &with_page("0", &day))
        .await
        .expect(-1, LIST_EMPTY);
    count(&server, &agent, &day).await.expect(-1, COUNT_EMPTY);
    server.stop().await;
}

#[tokio::test]
async fn order_list_rejects_bad_parameters() {
    let server = TestServer::start().await;
    let agent = Agent::demo();
    seed(&server, "demo-agent", |_| {}).await;

    // Page_index is required by the list page only.
    list(&server, &agent, &[]).await.expect(-1901, PARAM_ERROR);
    for bad in ["x", "-1", "1.5"] {
        list(&server, &agent, &[("Page_index", bad)])
            .await
            .expect(-1901, PARAM_ERROR);
    }
    count(&server, &agent, &[]).await.expect(0, "");

    let cases: [(Params, i64, &str); 9] = [
        (&[("Query_model", "4")], -1901, PARAM_ERROR),
        (&[("Query_model", "x")], -1901, PARAM_ERROR),
        (&[("Start_datetime", "2026-11-01")], -1901, PARAM_ERROR),
        (&[("End_datetime", "20261340")], -1901, PARAM_ERROR),
        (
            &[("Start_datetime", "20261122"), ("End_datetime", "20261121")],
            -1901,
            PARAM_ERROR,
        ),
        (
            &[("Start_datetime", "20261021"), ("End_datetime", "20261122")],
            -1901,
            PARAM_ERROR,
        ),
        (&[("Start_datetime", "20261101000000")], -1, OLD_VERSION),
        (&[("End_datetime", "20261122235959")], -1, OLD_VERSION),
        (
            &[("Start_datetime", "20261001"), ("End_datetime", "20261101")],
            0,
            "",
        ),
    ];
    for (params, code, msg) in cases {
        let expect_code = if code == 0 { -1 } else { code };
        let expect_msg = if code == 0 { LIST_EMPTY } else { msg };
        list(&server, &agent, &with_page("0", params))
            .await
            .expect(expect_code, expect_msg);
        let c = count(&server, &agent, params).await;
        if code == 0 {
            c.expect(-1, COUNT_EMPTY);
        } else {
            c.expect(code, msg);
        }
    }
    // 31 days is the widest span.
    let widest = [("Start_datetime", "20261022"), ("End_datetime", "20261122")];
    list(&server, &agent, &with_page("0", &widest))
        .await
        .expect(0, "");

    // A-auth codes.
    let mut anon = agent.clone();
    anon.user = "nobody".into();
    count(&server, &anon, &[])
        .await
        .expect(-2201, "当前用户不存在。");
    list(&server, &anon, &[("Page_index", "0")])
        .await
        .expect(-2201, "当前用户不存在。");
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// GetProductsIdentity (4.2.51)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn products_identity_lists_persons_booked_through_order_products() {
    let server = TestServer::start().await;
    let agent = Agent::demo();
    let id1 = id_card("11010519491231002");
    let id2 = id_card("43010419900101123");
    let memo = agent.enc(&format!(
        "{id1}^张三^13800000001^1^1|{id2}^李四^13800000002^1^1"
    ));
    let order_list = format!("{REAL_NAME}|2");
    let number = book(
        &server,
        &agent,
        &order_list,
        &[("IDCount", "2"), ("Memo", &memo)],
    )
    .await;

    let r = call(&server.url, &agent, IDENTITY, &[("orderid", &number)]).await;
    r.expect(0, "");
    assert!(r.signed_by(KEY));
    assert_well_formed(&r.text);
    let mut tags = IDENTITY_TAGS.to_vec();
    tags.extend_from_slice(IDENTITY_TAGS);
    assert_eq!(payload_tags(&r.text), tags);
    assert_eq!(r.tags("orderid"), [number.as_str(), &number]);
    assert_eq!(r.tags("productid"), [REAL_NAME, REAL_NAME]);
    assert_eq!(r.tags("productname"), ["实名票", "实名票"]);
    assert_eq!(r.tags("type"), ["1", "1"]);
    assert_eq!(r.tags("status"), ["0", "0"]);
    assert_eq!(r.tags("identitycode"), [id1, id2]);
    assert_eq!(r.tags("name"), ["张三", "李四"]);
    assert_eq!(r.tags("mobile"), ["13800000001", "13800000002"]);

    // Another agent's order does not exist for the caller.
    call(
        &server.url,
        &Agent::demo2(),
        IDENTITY,
        &[("orderid", &number)],
    )
    .await
    .expect(-1, IDENTITY_UNKNOWN);
    server.stop().await;
}

#[tokio::test]
async fn products_identity_reports_issued_and_refunded_tickets() {
    let server = TestServer::start().await;
    let agent = Agent::demo();
    let ids = [
        id_card("11010519491231002"),
        id_card("43010419900101123"),
        id_card("44010619850505001"),
    ];
    let person = |i: usize, name: &str, item: usize, id_type: i32| Person {
        id_number: ids[i].clone(),
        name: name.into(),
        mobile: format!("1380000000{i}"),
        item,
        id_type,
    };
    let persons = vec![
        person(0, "张三", 0, 1),
        person(1, "李四", 0, 1),
        person(2, "王五", 1, 3),
    ];
    let o = seed(&server, "demo-agent", |n| {
        n.state = VisitState::Delivered;
        n.detail.items = vec![real_name(2), adult(1)];
        n.detail.persons = persons.clone();
        n.detail.delivered_ms = Some(n.now_ms);
        n.effects.tickets = vec![
            ticket(REAL_NAME, 10000, 1, &ids[0], "张三"),
            ticket(REAL_NAME, 10000, 2, &ids[1], "李四"),
            ticket(ADULT, 12000, 4, "", ""),
        ];
    })
    .await;
    let r = call(&server.url, &agent, IDENTITY, &[("orderid", &o.number)]).await;
    r.expect(0, "");
    assert_eq!(r.tags("productid"), [REAL_NAME, REAL_NAME, ADULT]);
    assert_eq!(r.tags("productname"), ["实名票", "实名票", "成人票"]);
    assert_eq!(r.tags("status"), ["1", "2", "1"]);
    assert_eq!(r.tags("type"), ["1", "1", "3"]);
    assert_eq!(r.tags("identitycode"), ids);

    // Undelivered: every person is 0.
    let booked = seed(&server, "demo-agent", |n| {
        n.detail.items = vec![real_name(2), adult(1)];
        n.detail.persons = persons.clone();
    })
    .await;
    let r = call(
        &server.url,
        &agent,
        IDENTITY,
        &[("orderid", &booked.number)],
    )
    .await;
    assert_eq!(r.tags("status"), ["0", "0", "0"]);

    // No persons: success without records.
    let plain = seed(&server, "demo-agent", |_| {}).await;
    let r = call(&server.url, &agent, IDENTITY, &[("orderid", &plain.number)]).await;
    r.expect(0, "");
    assert!(payload_tags(&r.text).is_empty(), "{}", r.text);
    server.stop().await;
}

#[tokio::test]
async fn products_identity_rejects_missing_and_unknown_orders() {
    let server = TestServer::start().await;
    let agent = Agent::demo();
    let theirs = seed(&server, "demo-agent2", |_| {}).await;
    call(&server.url, &agent, IDENTITY, &[])
        .await
        .expect(-1, NO_ORDER_ID);
    call(&server.url, &agent, IDENTITY, &[("orderid", "")])
        .await
        .expect(-1, NO_ORDER_ID);
    call(
        &server.url,
        &agent,
        IDENTITY,
        &[("orderid", "202611220000009999")],
    )
    .await
    .expect(-1, IDENTITY_UNKNOWN);
    let r = call(
        &server.url,
        &agent,
        IDENTITY,
        &[("orderid", &theirs.number)],
    )
    .await;
    r.expect(-1, IDENTITY_UNKNOWN);
    assert!(r.signed_by(KEY));
    server.stop().await;
}

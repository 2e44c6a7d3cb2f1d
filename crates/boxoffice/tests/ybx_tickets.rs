//! 游宝星 activation and tickets over HTTP: ActivateTicket (whole and partial, deposit, rebate
//! and instant orders, real names, segments, ledgers), GetTicketList, GetTicketContext (the
//! e-ticket JPEG's QR code decoded) and ReMakeTicket (its limits) — success and every message
//! the pages can answer.

mod common;
use base64::Engine as _;
use boxoffice_core::catalog::Venue;
use boxoffice_core::scenic::{
    NewVisitOrder, PayMethod, VisitChange, VisitDetail, VisitEffects, VisitItem, VisitOutcome,
    VisitState,
};
use boxoffice_core::store::{QuotaClaim, QuotaKey};
use common::ybx::*;
use common::*;
use std::sync::Arc;

const VISIT: &str = "20261123";
const ID1: &str = "430103198001010011";
const ID2: &str = "430103198202020022";
const ID3: &str = "430103198303030033";
const ID4: &str = "430103198404040044";
const ID5: &str = "430103198505050055";

const NOT_ALLOWED: &str = "当前电子门票系统不允许远程激活，必须至前台或自助机上取票。";
const STATE: &str = "当前预订（预购）单不处于\"已支付\"或\"预订金支付授权\"状态，不能执行激活。";
const OTHER: &str = "其他错误。";

fn venue(server: &TestServer) -> Arc<Venue> {
    server
        .app
        .service
        .catalog()
        .venue("JQ01")
        .cloned()
        .expect("JQ01")
}

async fn replace_venue(server: &TestServer, v: Venue) {
    server
        .app
        .service
        .apply_catalog(&[v], &[], &[])
        .await
        .expect("venue replaced");
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

fn key(server: &TestServer, product: &str, segment: i32) -> QuotaKey {
    QuotaKey {
        venue_id: venue(server).id,
        product: product.into(),
        date: "2026-11-23".into(),
        segment,
    }
}

async fn used(server: &TestServer, product: &str, segment: i32) -> i64 {
    server
        .app
        .service
        .quota_used(&key(server, product, segment))
        .await
        .expect("quota")
}

fn refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, x)| (k.as_str(), x.as_str())).collect()
}

fn with(mut p: Vec<(String, String)>, k: &str, v: &str) -> Vec<(String, String)> {
    p.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
    if !v.is_empty() {
        p.push((k.into(), v.into()));
    }
    p
}

/// OrderAndPayWithYDJ (or FK) without activation: state 2 (C) with a hold.
async fn hold(
    server: &TestServer,
    a: &Agent,
    list: &str,
    money: &str,
    reference: &str,
    memo: Option<(&str, &str)>,
    rebate: bool,
) -> String {
    let mut p: Vec<(String, String)> = vec![
        ("Order_list".into(), list.into()),
        ("Mobile".into(), a.enc("13800138000")),
        ("ID".into(), a.enc(ID1)),
        ("SXRQ".into(), a.enc(VISIT)),
        ("timespanindex".into(), "1".into()),
        ("SmsCode".into(), a.pay("123456")),
        ("money".into(), money.into()),
        ("smsModel".into(), "0".into()),
        ("activate".into(), "0".into()),
    ];
    p.push((
        if rebate { "senderid" } else { "XCDDH" }.into(),
        a.enc(reference),
    ));
    if let Some((memo, count)) = memo {
        p.push(("Memo".into(), a.enc(memo)));
        p.push(("IDCount".into(), count.into()));
    }
    let page = if rebate {
        "OrderAndPayWithFK.aspx"
    } else {
        "OrderAndPayWithYDJ.aspx"
    };
    let r = call(&server.url, a, page, &refs(&p)).await;
    r.expect(0, "");
    assert_eq!(
        r.tag("status").as_deref(),
        Some(if rebate { "C" } else { "2" }),
        "{}",
        r.text
    );
    r.tag(if rebate { "order_id" } else { "Order_id" })
        .expect("order number")
}

/// ActivateTicket parameters: the whole order, for the visit date, QR, normal mode, segment 1.
fn act(number: &str) -> Vec<(String, String)> {
    vec![
        ("orderid".into(), number.into()),
        ("activateall".into(), "1".into()),
        ("activatedate".into(), VISIT.into()),
        ("tickettype".into(), "2".into()),
        ("activatemode".into(), "1".into()),
        ("timespanindex".into(), "1".into()),
    ]
}

async fn activate(server: &TestServer, a: &Agent, p: &[(String, String)]) -> XmlReply {
    call(&server.url, a, "ActivateTicket.aspx", &refs(p)).await
}

fn partial(number: &str, list: &str) -> Vec<(String, String)> {
    with(with(act(number), "activateall", "0"), "activatelist", list)
}

async fn order_of(server: &TestServer, number: &str) -> boxoffice_core::scenic::VisitOrder {
    server
        .app
        .service
        .store()
        .visit_order_by_number(number)
        .await
        .expect("order")
        .expect("exists")
}

async fn deposit(server: &TestServer, user: &str, account: &str) -> (i64, i64) {
    let acc = server
        .app
        .service
        .store()
        .accounts(partner_id(server, user))
        .await
        .expect("accounts");
    acc.iter()
        .find(|x| x.account == account)
        .map(|x| (x.balance, x.held))
        .unwrap_or((0, 0))
}

#[tokio::test]
async fn whole_activation_delivers_debits_the_hold_and_answers_the_documented_item() {
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
    let number = hold(
        &server,
        &a,
        &format!("{ADULT}|2"),
        "240.00",
        "ACT-1",
        None,
        false,
    )
    .await;
    assert_eq!(
        deposit(&server, "demo-agent", "deposit").await,
        (10_000_000, 24_000)
    );
    let r = activate(&server, &a, &act(&number)).await;
    r.expect(0, "");
    assert!(r.signed_by(KEY));
    let code = r.tag("ticketcode").expect("ticket code");
    assert_eq!(code.len(), 20);
    let expected = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><root><retcode>0</retcode><retmsg></retmsg><sign>{}</sign>\
         <Item><orderid>{number}</orderid><sellbillid>{number}</sellbillid><stationid>99</stationid>\
         <stationname>互联网售票</stationname><businesstype>2</businesstype><datetime>20261122100000</datetime>\
         <total>240.00</total><dealtotal>240.00</dealtotal><dealamount>240.00</dealamount><totalfees>0.00</totalfees>\
         <ticketcount>1</ticketcount><personcount>2</personcount><tickets><ticket><productid>{ADULT}</productid>\
         <productname>成人票</productname><ticketcode>{code}</ticketcode><personcount>2</personcount>\
         <ticketdate>20261123</ticketdate><freecount>0</freecount><price>120.00</price><summary>240.00</summary>\
         <servicecode>01</servicecode><servicename>主游览线</servicename><timespanindex>1</timespanindex>\
         <starttime>08:00</starttime><endtime>10:00</endtime><status>1</status><name></name><identitycode></identitycode>\
         </ticket></tickets></Item></root>",
        r.tag("sign").unwrap_or_default()
    );
    assert_eq!(r.text, expected);
    // The hold became a debit of the delivered amount, in one ledger row.
    assert_eq!(
        deposit(&server, "demo-agent", "deposit").await,
        (9_976_000, 0)
    );
    let store = server.app.service.store().clone();
    let partner = partner_id(&server, "demo-agent");
    let ledger = store
        .ledger(partner, Some("deposit"))
        .await
        .expect("ledger");
    let last = ledger.last().expect("row");
    assert_eq!(
        (
            last.kind.as_str(),
            last.amount,
            last.held_delta,
            last.held_after
        ),
        ("deliver", -24_000, -24_000, 0)
    );
    let o = order_of(&server, &number).await;
    assert_eq!(o.state, VisitState::Delivered);
    assert_eq!(o.detail.sale_bill, number);
    assert!(o.detail.delivered_ms.is_some());
    assert_eq!(o.expires_ms, None);
    // Units stay claimed; the callback and the official notice were written with it.
    assert_eq!(used(&server, ADULT, 0).await, 2);
    assert_eq!(used(&server, "@line/01", 1).await, 2);
    let outbox = store
        .outbox(Some(partner), Some(o.id))
        .await
        .expect("outbox");
    assert_eq!(
        outbox.last().map(|r| r.event.payload["state"].clone()),
        Some(serde_json::json!("delivered"))
    );
    let sms = store.messages(None, Some(o.id)).await.expect("messages");
    assert!(
        sms.iter()
            .any(|m| m.message.kind == "delivery" && m.message.text.contains(&number)),
        "{sms:?}"
    );
    // A second activation is refused.
    activate(&server, &a, &act(&number)).await.expect(-1, STATE);
    assert_eq!(
        deposit(&server, "demo-agent", "deposit").await,
        (9_976_000, 0)
    );
    server.stop().await;
}

#[tokio::test]
async fn partial_activation_charges_the_fee_on_the_rest_and_gives_its_units_back() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let number = hold(
        &server,
        &a,
        &format!("{ADULT}|3"),
        "360.00",
        "ACT-P",
        None,
        false,
    )
    .await;
    assert_eq!(used(&server, ADULT, 0).await, 3);
    // Without a notice this time, on the eve of the visit: ¥20 a ticket not taken.
    let p = with(
        partial(&number, &format!("{ADULT}|1")),
        "sendnotification",
        "0",
    );
    let r = activate(&server, &a, &p).await;
    r.expect(0, "");
    assert_eq!(r.tag("total").as_deref(), Some("360.00"));
    assert_eq!(r.tag("dealamount").as_deref(), Some("120.00"));
    assert_eq!(r.tag("totalfees").as_deref(), Some("40.00"));
    assert_eq!(r.tag("dealtotal").as_deref(), Some("160.00"));
    assert_eq!(r.tag("ticketcount").as_deref(), Some("1"));
    assert_eq!(r.tags("personcount"), vec!["1", "1"]);
    // One ledger row: the hold released, delivered + fee debited.
    assert_eq!(
        deposit(&server, "demo-agent", "deposit").await,
        (10_000_000 - 16_000, 0)
    );
    let ledger = server
        .app
        .service
        .store()
        .ledger(partner_id(&server, "demo-agent"), Some("deposit"))
        .await
        .expect("ledger");
    assert_eq!(
        ledger
            .iter()
            .map(|e| (e.kind.as_str(), e.amount, e.held_delta))
            .collect::<Vec<_>>(),
        vec![
            ("topup", 10_000_000, 0),
            ("hold", 0, 36_000),
            ("deliver", -16_000, -36_000)
        ]
    );
    // The two units not taken are given back to every quota.
    assert_eq!(used(&server, ADULT, 0).await, 1);
    assert_eq!(used(&server, "@venue", 0).await, 1);
    assert_eq!(used(&server, "@line/01", 1).await, 1);
    let o = order_of(&server, &number).await;
    assert_eq!(o.detail.fees, 4_000);
    assert_eq!(o.tickets.len(), 1);
    let sms = server
        .app
        .service
        .store()
        .messages(None, Some(o.id))
        .await
        .expect("messages");
    let kinds: Vec<&str> = sms.iter().map(|m| m.message.kind.as_str()).collect();
    assert!(
        !kinds.is_empty(),
        "the order's other notices are kept: {sms:?}"
    );
    assert!(!kinds.contains(&"delivery"), "{sms:?}");
    // The rest can never be delivered.
    activate(&server, &a, &partial(&number, &format!("{ADULT}|2")))
        .await
        .expect(-1, STATE);
    server.stop().await;
}

#[tokio::test]
async fn rebate_orders_activate_in_mode_2_against_the_rebate_account() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    // Ten-for-one: 20 persons, 2 free, 18 × 80.00.
    let number = hold(
        &server,
        &a,
        &format!("{GROUP}|20"),
        "1440.00",
        "FK-A",
        None,
        true,
    )
    .await;
    assert_eq!(
        deposit(&server, "demo-agent", "rebate").await,
        (1_000_000, 144_000)
    );
    activate(&server, &a, &act(&number)).await.expect(-1, STATE);
    // Partial: 10 persons (1 free) delivered; the other 10 (1 free) pay ¥20 each for 9.
    let r = activate(
        &server,
        &a,
        &with(
            partial(&number, &format!("{GROUP}|10")),
            "activatemode",
            "2",
        ),
    )
    .await;
    r.expect(0, "");
    assert_eq!(r.tag("freecount").as_deref(), Some("1"));
    assert_eq!(r.tag("price").as_deref(), Some("80.00"));
    assert_eq!(r.tag("summary").as_deref(), Some("720.00"));
    assert_eq!(r.tag("totalfees").as_deref(), Some("180.00"));
    assert_eq!(
        deposit(&server, "demo-agent", "rebate").await,
        (1_000_000 - 72_000 - 18_000, 0)
    );
    assert_eq!(
        order_of(&server, &number).await.state,
        VisitState::DeliveredRebate
    );
    // A deposit order in mode 2 is refused.
    let held = hold(
        &server,
        &a,
        &format!("{ADULT}|1"),
        "120.00",
        "ACT-M",
        None,
        false,
    )
    .await;
    activate(&server, &a, &with(act(&held), "activatemode", "2"))
        .await
        .expect(-1, STATE);
    server.stop().await;
}

#[tokio::test]
async fn parameter_and_order_failures_answer_the_documented_messages() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let number = hold(
        &server,
        &a,
        &format!("{ADULT}|2"),
        "240.00",
        "ACT-E",
        None,
        false,
    )
    .await;
    let base = act(&number);
    let cases: Vec<(Vec<(String, String)>, &str)> = vec![
        (vec![], "参数不能为空，激活失败。"),
        (with(base.clone(), "orderid", ""), "预订单号不能为空，激活失败。"),
        (
            with(base.clone(), "activatedate", ""),
            "激活（游览）日期不能为空，激活失败。",
        ),
        (
            with(base.clone(), "activatemode", ""),
            "激活方式不能为空，激活失败。",
        ),
        (
            with(base.clone(), "activateall", ""),
            "是否整单激活参数不能为空，激活失败。",
        ),
        (with(base.clone(), "tickettype", ""), "参数不能为空，激活失败。"),
        (with(base.clone(), "activateall", "2"), OTHER),
        (
            with(base.clone(), "activateall", "0"),
            "当前业务被指定为部分激活，但未提供激活列表，激活失败。",
        ),
        (
            with(base.clone(), "tickettype", "3"),
            "当前电子门票系统不允许按指定的模式执行远程激活，激活失败。",
        ),
        (
            with(base.clone(), "activatemode", "3"),
            "激活方式参数错误，激活失败。",
        ),
        (
            with(base.clone(), "orderid", "202611220000009999"),
            "没有找到对应的预订（预购）单。",
        ),
        (
            with(base.clone(), "activatedate", "20261122"),
            "激活（游览）日期不在允许的范围内，激活失败。",
        ),
        (
            with(base.clone(), "activatedate", "20261124"),
            "激活（游览）日期不在允许的范围内，激活失败。",
        ),
        (with(base.clone(), "activatedate", "2026-11-23"), OTHER),
        (
            partial(&number, &format!("{ADULT}|0")),
            "没有需要激活的门票，激活订单失败。",
        ),
        (
            partial(&number, &format!("{ADULT}|3")),
            "请求激活的门票数量超过预订数量，激活失败。",
        ),
        (
            partial(&number, &format!("{UNLIMITED}|1")),
            "请求激活的门票类型未在预订单中存在，激活失败。",
        ),
        (partial(&number, &format!("{ADULT}|1|{ADULT}")), OTHER),
        (
            with(base.clone(), "timespanindex", "2"),
            "时段与预订时指定的时段不一致或不可用，激活失败。",
        ),
        (
            with(base.clone(), "timespanindex", ""),
            "参数不能为空，激活失败。",
        ),
        (
            with(base.clone(), "memo", "not-base64!"),
            "参数解密失败",
        ),
        (
            with(base.clone(), "memo", &a.enc(&format!("{ID1}^张三^^1^1"))),
            "当前预订单不存在客户实名信息，不能确认请求激活的身份证号码是否存在于预订列表之中，激活失败。",
        ),
        (
            with(base.clone(), "tickettype", "1"),
            "当前系统要求使用二代身份证远程激活，但订单中，成人票对应的预订单中的实名信息数量与要求激活的数量不一致，激活失败。",
        ),
    ];
    for (p, msg) in cases {
        let r = activate(&server, &a, &p).await;
        r.expect(-1, msg);
        assert!(r.signed_by(KEY));
    }
    // Another agent's order is unknown to it.
    activate(&server, &Agent::demo2(), &base)
        .await
        .expect(-1, "没有找到对应的预订（预购）单。");
    // An unpaid order cannot be activated.
    let p = vec![
        ("Order_list".to_string(), format!("{ADULT}|1")),
        ("Mobile".into(), a.enc("13800138000")),
        ("ID".into(), a.enc(ID1)),
        ("SXRQ".into(), a.enc(VISIT)),
        ("timespanindex".into(), "1".into()),
    ];
    let r = call(&server.url, &a, "OrderProducts.aspx", &refs(&p)).await;
    let unpaid = r.tag("orderid").expect("number");
    activate(&server, &a, &act(&unpaid)).await.expect(-1, STATE);
    // `-1` for the booked segment works.
    activate(&server, &a, &with(base.clone(), "timespanindex", "-1"))
        .await
        .expect(0, "");
    server.stop().await;
}

#[tokio::test]
async fn supplier_settings_refuse_activation() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let number = hold(
        &server,
        &a,
        &format!("{ADULT}|1"),
        "120.00",
        "ACT-S",
        None,
        false,
    )
    .await;
    let original = (*venue(&server)).clone();
    let mut v = original.clone();
    v.scenic.as_mut().expect("scenic").remote_activation = 0;
    replace_venue(&server, v).await;
    activate(&server, &a, &act(&number))
        .await
        .expect(-1, NOT_ALLOWED);
    let mut v = original.clone();
    v.scenic.as_mut().expect("scenic").gate_medium = 2;
    replace_venue(&server, v).await;
    activate(&server, &a, &with(act(&number), "tickettype", "1"))
        .await
        .expect(
            -1,
            "当前电子门票系统不允许按指定的模式执行远程激活，激活失败。",
        );
    let mut v = original.clone();
    v.scenic.as_mut().expect("scenic").gate_medium = 1;
    replace_venue(&server, v).await;
    activate(&server, &a, &act(&number)).await.expect(
        -1,
        "当前电子门票系统不允许按指定的模式执行远程激活，激活失败。",
    );
    let mut v = original.clone();
    v.scenic = None;
    replace_venue(&server, v).await;
    activate(&server, &a, &act(&number))
        .await
        .expect(-1, "不能确定当前系统是否处于分时段模式，激活失败。");
    let mut v = original.clone();
    for p in &mut v.products {
        if p.id == ADULT {
            p.lines.clear();
        }
    }
    replace_venue(&server, v).await;
    activate(&server, &a, &act(&number)).await.expect(
        -1,
        "当前系统处于分时段模式，但请求激活的门票类型没有分配线路（检票站点），激活失败。",
    );
    // Forced activation (2) allows it too.
    let mut v = original.clone();
    v.scenic.as_mut().expect("scenic").remote_activation = 2;
    replace_venue(&server, v).await;
    activate(&server, &a, &act(&number)).await.expect(0, "");
    server.stop().await;
}

#[tokio::test]
async fn orders_booked_without_a_segment_take_one_at_activation() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let original = (*venue(&server)).clone();
    let mut v = original.clone();
    v.scenic.as_mut().expect("scenic").segmented = false;
    replace_venue(&server, v).await;
    let first = hold(
        &server,
        &a,
        &format!("{UNLIMITED}|2"),
        "100.00",
        "SEG-1",
        None,
        false,
    )
    .await;
    let second = hold(
        &server,
        &a,
        &format!("{UNLIMITED}|2"),
        "100.00",
        "SEG-2",
        None,
        false,
    )
    .await;
    let third = hold(
        &server,
        &a,
        &format!("{UNLIMITED}|2"),
        "100.00",
        "SEG-3",
        None,
        false,
    )
    .await;
    assert_eq!(order_of(&server, &first).await.segment, None);
    replace_venue(&server, original).await;
    activate(&server, &a, &with(act(&first), "timespanindex", "9"))
        .await
        .expect(-1, "时段与预订时指定的时段不一致或不可用，激活失败。");
    // Segment 1 is full: -1 takes segment 2.
    server
        .app
        .service
        .claim_quotas(&[QuotaClaim {
            key: key(&server, "@line/01", 1),
            capacity: 300,
            units: 300,
        }])
        .await
        .expect("claim");
    let r = activate(&server, &a, &with(act(&first), "timespanindex", "-1")).await;
    r.expect(0, "");
    assert_eq!(r.tag("timespanindex").as_deref(), Some("2"));
    assert_eq!(r.tag("starttime").as_deref(), Some("10:00"));
    assert_eq!(used(&server, "@line/01", 2).await, 2);
    assert_eq!(order_of(&server, &first).await.segment, Some(2));
    // An explicit full segment, then every segment full.
    activate(&server, &a, &act(&second))
        .await
        .expect(-1, "时段余量不足，激活失败。");
    let r = activate(&server, &a, &with(act(&second), "timespanindex", "3")).await;
    r.expect(0, "");
    assert_eq!(used(&server, "@line/01", 3).await, 2);
    for segment in 2..=4 {
        let left = 300 - used(&server, "@line/01", segment).await;
        server
            .app
            .service
            .claim_quotas(&[QuotaClaim {
                key: key(&server, "@line/01", segment),
                capacity: 300,
                units: left,
            }])
            .await
            .expect("claim");
    }
    activate(&server, &a, &with(act(&third), "timespanindex", "-1"))
        .await
        .expect(-1, "时段余量不足，激活失败。");
    assert_eq!(
        order_of(&server, &third).await.state,
        VisitState::DepositAuthorized
    );
    server.stop().await;
}

#[tokio::test]
async fn real_names_are_checked_and_id_card_tickets_are_issued_per_person() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let two = format!("{ID1}^张三^13800138000^1^1|{ID2}^李四^13900139000^1^1");
    let number = hold(
        &server,
        &a,
        &format!("{REAL_NAME}|2"),
        "200.00",
        "RN-1",
        Some((&two, "2")),
        false,
    )
    .await;
    let base = with(act(&number), "tickettype", "1");
    let memo = |m: &str| with(base.clone(), "memo", &a.enc(m));
    let cases: Vec<(Vec<(String, String)>, String)> = vec![
        (
            partial(&number, &format!("{REAL_NAME}|1")),
            "当前预订单中，实名票要求前台实名，但预订单中现有实名信息的数量，与要求激活的数量不一致，激活失败。".into(),
        ),
        (
            memo(&format!("{ID3}^王五^^1^1")),
            "请求激活的身份证号码不存在于预订列表之中，激活失败。".into(),
        ),
        (
            memo(&format!("{ID1}^张三^^1^1|{ID1}^张三^^1^1")),
            "当前系统仅允许二代身份证激活，但激活请求拼装后出现了重复的身份证引用，激活失败。".into(),
        ),
        (
            memo(&format!("{ID1}^张三^^2^1")),
            "请求激活的门票类型未在预订单中存在，激活失败。".into(),
        ),
        (
            memo(&format!("{ID1}^张三^^1^1")),
            "当前门票类型实名票要求前台实名，但激活请求中提供的实名信息数量与请求激活的数量不一致，激活失败。".into(),
        ),
        (memo("garbage"), "实名信息格式不正确，激活失败。".into()),
    ];
    for (p, msg) in cases {
        activate(&server, &a, &p).await.expect(-1, &msg);
    }
    // One named person of two: one ID-card ticket, the other person's unit pays the fee.
    let p = with(
        with(
            partial(&number, &format!("{REAL_NAME}|1")),
            "tickettype",
            "1",
        ),
        "memo",
        &a.enc(&format!("{ID2}^李四^^1^1")),
    );
    let r = activate(&server, &a, &p).await;
    r.expect(0, "");
    assert_eq!(r.tag("name").as_deref(), Some("李四"));
    assert_eq!(r.tag("identitycode").as_deref(), Some(ID2));
    assert_eq!(r.tag("totalfees").as_deref(), Some("20.00"));
    assert_eq!(used(&server, REAL_NAME, 0).await, 1);
    assert_eq!(used(&server, &format!("@id/{REAL_NAME}/{ID1}"), 0).await, 0);
    assert_eq!(used(&server, &format!("@id/{REAL_NAME}/{ID2}"), 0).await, 1);
    // ID-card tickets have no image.
    let code = r.tag("ticketcode").expect("code");
    let c = call(
        &server.url,
        &a,
        "GetTicketContext.aspx",
        &[("orderid", &number), ("ticketcode", &code)],
    )
    .await;
    c.expect(0, "");
    assert_eq!(c.tag("eticketimage").as_deref(), Some(""));
    assert_eq!(c.tag("name").as_deref(), Some("李四"));
    // The person freed by the partial delivery may book again.
    let again = hold(
        &server,
        &a,
        &format!("{ADULT}|1"),
        "120.00",
        "RN-AGAIN",
        Some((&format!("{ID1}^张三^^1^1"), "1")),
        false,
    )
    .await;
    // A whole ID-card activation issues one ticket per person.
    let r = activate(&server, &a, &with(act(&again), "tickettype", "1")).await;
    r.expect(0, "");
    assert_eq!(r.tag("identitycode").as_deref(), Some(ID1));
    server.stop().await;
}

#[tokio::test]
async fn memo_entries_must_match_the_booked_products_and_counts() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    // Two lines: adults (two named) and one real-name ticket.
    let memo = format!("{ID1}^张三^^1^1|{ID2}^李四^^1^1|{ID3}^王五^^2^1");
    let number = hold(
        &server,
        &a,
        &format!("{ADULT}|2|{REAL_NAME}|1"),
        "340.00",
        "RN-2",
        Some((&memo, "3")),
        false,
    )
    .await;
    let base = act(&number);
    activate(
        &server,
        &a,
        &with(base.clone(), "memo", &a.enc(&format!("{ID3}^王五^^1^1"))),
    )
    .await
    .expect(
        -1,
        "请求激活的身份证号码对应的门票类型与预订时该身份证号指定的门票类型不一致，激活失败。",
    );
    activate(
        &server,
        &a,
        &with(
            with(base.clone(), "tickettype", "1"),
            "memo",
            &a.enc(&format!("{ID1}^张三^^1^1")),
        ),
    )
    .await
    .expect(
        -1,
        "当前系统仅允许二代身份证激活，但激活请求中提供的实名信息数量与请求激活的数量不一致，激活失败。",
    );
    // The real-name product becomes one-person-one-ticket without real names.
    let original = (*venue(&server)).clone();
    let mut v = original.clone();
    for p in &mut v.products {
        if p.id == REAL_NAME {
            p.real_name = false;
        }
    }
    replace_venue(&server, v).await;
    let single = hold(
        &server,
        &a,
        &format!("{REAL_NAME}|2"),
        "200.00",
        "RN-3",
        Some((&format!("{ID4}^赵六^^1^1|{ID5}^钱七^^1^1"), "2")),
        false,
    )
    .await;
    activate(&server, &a, &partial(&single, &format!("{REAL_NAME}|1")))
        .await
        .expect(
            -1,
            "当前门票类型实名票要求一人一票，预订单存在一个或多个用于该门票类型的实名信息，但实名信息的数量与期望激活的该种门票类型的数量不一致，激活失败。",
        );
    activate(
        &server,
        &a,
        &with(act(&single), "memo", &a.enc(&format!("{ID4}^赵六^^1^1"))),
    )
    .await
    .expect(
        -1,
        "当前门票类型实名票要求一人一票，激活请求中提供了一个或多个用于该门票类型的实名信息，但实名信息的数量与期望激活的该种门票类型的数量不一致，激活失败。",
    );
    // The two-line order, whole, as QR tickets: 2 adults on one ticket named after the first.
    replace_venue(&server, original).await;
    let r = activate(&server, &a, &base).await;
    r.expect(0, "");
    assert_eq!(r.tag("ticketcount").as_deref(), Some("2"));
    assert_eq!(r.tags("name"), vec!["张三", "王五"]);
    server.stop().await;
}

/// Writes an order directly (states the pages cannot reach in this test server).
async fn stored_order(
    server: &TestServer,
    state: VisitState,
    items: Vec<VisitItem>,
    mobile: &str,
    reference: &str,
) -> String {
    let total = items.iter().map(VisitItem::amount).sum();
    let detail = VisitDetail {
        items,
        mobile: mobile.into(),
        id_number: ID1.into(),
        pay_method: Some(PayMethod::Instant),
        pay_channel: "01".into(),
        paid: total,
        protocol: "ybx".into(),
        ..VisitDetail::default()
    };
    let new = NewVisitOrder {
        venue_id: venue(server).id,
        partner_id: partner_id(server, "demo-agent"),
        external_ref: reference.into(),
        state,
        visit_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"),
        line: Some("01".into()),
        segment: Some(1),
        total,
        number_prefix: "20261122".into(),
        detail,
        now_ms: server.app.service.now_ms(),
        expires_ms: None,
        effects: VisitEffects::default(),
    };
    match server
        .app
        .service
        .store()
        .create_visit_order(new)
        .await
        .expect("create")
    {
        VisitOutcome::Done(o) => o.number,
        other => panic!("not created: {other:?}"),
    }
}

fn adults(count: i64) -> Vec<VisitItem> {
    vec![VisitItem {
        product: ADULT.into(),
        name: "成人票".into(),
        unit: "张".into(),
        count,
        free: 0,
        unit_price: 12_000,
    }]
}

#[tokio::test]
async fn instant_paid_orders_activate_without_account_moves() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let number = stored_order(&server, VisitState::Paid, adults(3), "13800138000", "i:1").await;
    let before = deposit(&server, "demo-agent", "deposit").await;
    let r = activate(&server, &a, &partial(&number, &format!("{ADULT}|2"))).await;
    r.expect(0, "");
    assert_eq!(r.tag("dealamount").as_deref(), Some("240.00"));
    assert_eq!(r.tag("totalfees").as_deref(), Some("20.00"));
    assert_eq!(deposit(&server, "demo-agent", "deposit").await, before);
    let o = order_of(&server, &number).await;
    assert_eq!(o.state, VisitState::Delivered);
    assert_eq!(
        o.detail.extra.get("refund_due"),
        Some(&serde_json::json!(10_000))
    );
    // An order without lines.
    let empty = stored_order(&server, VisitState::Paid, vec![], "13800138000", "i:2").await;
    activate(&server, &a, &act(&empty))
        .await
        .expect(-1, "没有预订明细记录，激活失败。");
    server.stop().await;
}

#[tokio::test]
async fn ticket_list_reports_delivered_orders_only() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let number = hold(
        &server,
        &a,
        &format!("{ADULT}|2"),
        "240.00",
        "TL-1",
        None,
        false,
    )
    .await;
    let page = "GetTicketList.aspx";
    // Not yet delivered, missing, unknown, another agent's: all `其他错误。`.
    call(&server.url, &a, page, &[("orderid", &number)])
        .await
        .expect(-1, OTHER);
    call(&server.url, &a, page, &[]).await.expect(-1, OTHER);
    call(&server.url, &a, page, &[("orderid", "202611220000009999")])
        .await
        .expect(-1, OTHER);
    let r = activate(&server, &a, &act(&number)).await;
    r.expect(0, "");
    call(&server.url, &Agent::demo2(), page, &[("orderid", &number)])
        .await
        .expect(-1, OTHER);
    let l = call(&server.url, &a, page, &[("orderid", &number)]).await;
    l.expect(0, "");
    assert!(l.signed_by(KEY));
    let code = r.tag("ticketcode").expect("code");
    assert!(
        l.text.contains(&format!(
            "<Item><orderid>{number}</orderid><sellbillid>{number}</sellbillid><stationid>99</stationid><businesstype>2</businesstype><stationname>互联网售票</stationname><datetime>20261122100000</datetime><total>240.00</total>"
        )),
        "{}",
        l.text
    );
    // The tickets as ActivateTicket answered them.
    let tickets = |x: &XmlReply| {
        let t = &x.text;
        t[t.find("<tickets>").unwrap_or(0)..].to_string()
    };
    assert_eq!(tickets(&l), tickets(&r));
    // A used ticket is status 4 here, 1 in GetTicketContext.
    let o = order_of(&server, &number).await;
    server
        .app
        .service
        .store()
        .change_visit_order(VisitChange {
            order_id: o.id,
            from: vec![VisitState::Delivered],
            to: VisitState::Delivered,
            detail: None,
            expires_ms: None,
            segment: None,
            now_ms: server.app.service.now_ms(),
            actor: "gate".into(),
            version: None,
            effects: VisitEffects {
                ticket_status: vec![boxoffice_core::scenic::TicketStatusChange {
                    code: code.clone(),
                    from: vec![1, 3],
                    to: 4,
                }],
                ..VisitEffects::default()
            },
        })
        .await
        .expect("gate");
    let l = call(&server.url, &a, page, &[("orderid", &number)]).await;
    assert_eq!(l.tag("status").as_deref(), Some("4"));
    let c = call(
        &server.url,
        &a,
        "GetTicketContext.aspx",
        &[("orderid", &number), ("ticketcode", &code)],
    )
    .await;
    assert_eq!(c.tag("status").as_deref(), Some("1"));
    server.stop().await;
}

#[tokio::test]
async fn ticket_context_carries_a_jpeg_whose_qr_code_is_the_ticket_code() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let number = hold(
        &server,
        &a,
        &format!("{GROUP}|10"),
        "720.00",
        "TC-1",
        None,
        false,
    )
    .await;
    let r = activate(&server, &a, &act(&number)).await;
    r.expect(0, "");
    let code = r.tag("ticketcode").expect("code");
    let page = "GetTicketContext.aspx";
    for given in [code.clone(), a.enc(&code)] {
        let c = call(
            &server.url,
            &a,
            page,
            &[("orderid", &number), ("ticketcode", &given)],
        )
        .await;
        c.expect(0, "");
        assert!(c.signed_by(KEY));
        let image = c.tag("eticketimage").expect("image");
        let head = format!(
            "<Item><productid>{GROUP}</productid><productname>团体票（十免一）</productname><ticketcode>{code}</ticketcode><personcount>10</personcount><ticketdate>20261123</ticketdate><freecount>1</freecount><price>80.00</price><summary>720.00</summary><servicecode>01</servicecode><servicename>主游览线</servicename><timespanindex>1</timespanindex><starttime>08:00</starttime><endtime>10:00</endtime><status>1</status><name></name><identitycode></identitycode><dealtype>2</dealtype><seatdesc></seatdesc><eticketimage>{image}</eticketimage></Item></root>"
        );
        assert!(c.text.ends_with(&head), "{}", c.text);
        let jpeg = base64::engine::general_purpose::STANDARD
            .decode(image.as_bytes())
            .expect("base64");
        assert_eq!(&jpeg[..3], &[0xFF, 0xD8, 0xFF], "a JPEG");
        let img = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)
            .expect("decodes")
            .to_luma8();
        assert_eq!((img.width(), img.height()), (600, 900));
        let mut prepared = rqrr::PreparedImage::prepare(img);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code");
        let (_, content) = grids[0].decode().expect("QR decodes");
        assert_eq!(content, code);
    }
    for params in [
        vec![("orderid", number.as_str())],
        vec![("ticketcode", code.as_str())],
        vec![
            ("orderid", number.as_str()),
            ("ticketcode", "99999999999999999999"),
        ],
        vec![
            ("orderid", "202611220000009999"),
            ("ticketcode", code.as_str()),
        ],
    ] {
        call(&server.url, &a, page, &params).await.expect(-1, OTHER);
    }
    call(
        &server.url,
        &Agent::demo2(),
        page,
        &[("orderid", &number), ("ticketcode", &code)],
    )
    .await
    .expect(-1, OTHER);
    server.stop().await;
}

#[tokio::test]
async fn remake_ticket_resends_at_most_five_times_five_minutes_apart() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let number = hold(
        &server,
        &a,
        &format!("{ADULT}|1"),
        "120.00",
        "RM-1",
        None,
        false,
    )
    .await;
    let page = "ReMakeTicket.aspx";
    let resend = |model: &'static str| {
        let number = number.clone();
        let a = a.clone();
        let url = server.url.clone();
        async move {
            call(
                &url,
                &a,
                page,
                &[("Order_id", &number), ("smsModel", model)],
            )
            .await
        }
    };
    // Authorized (not yet delivered) orders get the credential too.
    let r = resend("0").await;
    r.expect(0, "重发成功");
    assert!(r.signed_by(KEY));
    resend("1")
        .await
        .expect(-1, "下发短信失败,下发的时间太频繁，请稍后再试(间隔5分钟)");
    server.clock.advance(chrono::Duration::minutes(4));
    resend("1")
        .await
        .expect(-1, "下发短信失败,下发的时间太频繁，请稍后再试(间隔5分钟)");
    activate(&server, &a, &act(&number)).await.expect(0, "");
    let code = order_of(&server, &number).await.tickets[0].code.clone();
    for model in ["1", "2", "0", "0"] {
        server.clock.advance(chrono::Duration::minutes(5));
        resend(model).await.expect(0, "重发成功");
    }
    server.clock.advance(chrono::Duration::minutes(30));
    resend("0").await.expect(
        -1,
        "下发短信失败,此定单已经发送了多次凭证，不允许再重发凭证；",
    );
    let o = order_of(&server, &number).await;
    let sent: Vec<_> = server
        .app
        .service
        .store()
        .messages(None, Some(o.id))
        .await
        .expect("messages")
        .into_iter()
        .filter(|m| m.message.kind == "credential")
        .collect();
    assert_eq!(sent.len(), 5);
    assert!(sent.iter().all(|m| m.message.phone == "13800138000"));
    assert!(sent[4].message.text.contains(&code), "{:?}", sent[4]);
    assert!(sent[4].message.text.contains(&number));
    // Bad parameters, unknown and other agents' orders.
    for params in [
        vec![("smsModel", "0")],
        vec![("Order_id", number.as_str()), ("smsModel", "3")],
        vec![("Order_id", number.as_str())],
        vec![("Order_id", "202611220000009999"), ("smsModel", "0")],
    ] {
        call(&server.url, &a, page, &params).await.expect(-1, OTHER);
    }
    call(
        &server.url,
        &Agent::demo2(),
        page,
        &[("Order_id", &number), ("smsModel", "0")],
    )
    .await
    .expect(-1, OTHER);
    // Unpaid orders and orders without a mobile.
    let p = vec![
        ("Order_list".to_string(), format!("{ADULT}|1")),
        ("Mobile".into(), a.enc("13800138000")),
        ("ID".into(), a.enc(ID1)),
        ("SXRQ".into(), a.enc(VISIT)),
        ("timespanindex".into(), "1".into()),
    ];
    let unpaid = call(&server.url, &a, "OrderProducts.aspx", &refs(&p))
        .await
        .tag("orderid")
        .expect("number");
    call(
        &server.url,
        &a,
        page,
        &[("Order_id", &unpaid), ("smsModel", "0")],
    )
    .await
    .expect(
        -1,
        "下发短信失败,此定单还没有支付完成，不能进行下发短信凭证的操作；",
    );
    let silent = stored_order(&server, VisitState::Paid, adults(1), "", "i:m").await;
    call(
        &server.url,
        &a,
        page,
        &[("Order_id", &silent), ("smsModel", "0")],
    )
    .await
    .expect(-1, "下发短信失败,预定人的手机号码为空，不能完成操作；");
    server.stop().await;
}

//! 游宝星 deposit and rebate authorization over HTTP: ReadyToPay / UseAccountToPay,
//! UseAccountToPayByPwd, ReadyToPayByFK / UseAccountToPayByFK, UseAccountToPayByFKWithPwd (and
//! its alias UseFKAccountToPayByPwd), GetVerificationCode / ChangePayPwd — success, every
//! documented retcode the pages can return, the ledgers, holds, tickets and callbacks.

mod common;
use boxoffice_core::scenic::{AccountMove, VisitOrder, VisitState};
use boxoffice_core::store::Store;
use common::ybx::*;
use common::*;
use std::sync::Arc;

const VISIT: &str = "20261123";
const PHONE1: &str = "13800138000";
const PHONE2: &str = "13900139000";
const MEMO_ID: &str = "430103198001010011";

fn store(server: &TestServer) -> Arc<dyn Store> {
    server.app.service.store().clone()
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

fn refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, x)| (k.as_str(), x.as_str())).collect()
}

/// Books `list` with OrderProducts (segment 1, optional `senderid` and `Memo`) and returns the
/// order number.
async fn book_with(
    server: &TestServer,
    a: &Agent,
    list: &str,
    sender: &str,
    memo: Option<&str>,
) -> String {
    let mut p: Vec<(String, String)> = vec![
        ("Order_list".into(), list.into()),
        ("Mobile".into(), a.enc("13700137000")),
        ("ID".into(), a.enc(MEMO_ID)),
        ("SXRQ".into(), a.enc(VISIT)),
        ("timespanindex".into(), "1".into()),
    ];
    if !sender.is_empty() {
        p.push(("senderid".into(), sender.into()));
    }
    if let Some(m) = memo {
        p.push(("Memo".into(), a.enc(m)));
    }
    let r = call(&server.url, a, "OrderProducts.aspx", &refs(&p)).await;
    r.expect(0, "");
    r.tag("orderid").expect("orderid")
}

/// Two adult tickets (240.00 at the demo prices).
async fn book(server: &TestServer, a: &Agent, sender: &str) -> String {
    book_with(server, a, &format!("{ADULT}|2"), sender, None).await
}

async fn order(server: &TestServer, number: &str) -> VisitOrder {
    store(server)
        .visit_order_by_number(number)
        .await
        .expect("order")
        .expect("exists")
}

/// The latest verification code sent to `phone` (the 6 digits after `验证码`).
async fn last_code(server: &TestServer, phone: &str) -> String {
    let sms = store(server)
        .messages(Some(phone), None)
        .await
        .expect("sms");
    let m = sms
        .iter()
        .rev()
        .find(|m| m.message.kind == "code")
        .expect("a code message");
    let text = &m.message.text;
    let at = text.find("验证码").expect("验证码") + "验证码".len();
    let code: String = text[at..].chars().take(6).collect();
    assert!(
        code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()),
        "{text}"
    );
    code
}

async fn code_messages(server: &TestServer, phone: &str) -> usize {
    store(server)
        .messages(Some(phone), None)
        .await
        .expect("sms")
        .iter()
        .filter(|m| m.message.kind == "code")
        .count()
}

/// A code different from `code`.
fn other(code: &str) -> String {
    if code == "000000" {
        "111111".into()
    } else {
        "000000".into()
    }
}

async fn balance(server: &TestServer, user: &str, account: &str) -> (i64, i64) {
    let acc = store(server)
        .accounts(partner_id(server, user))
        .await
        .expect("accounts");
    acc.iter()
        .find(|x| x.account == account)
        .map(|x| (x.balance, x.held))
        .unwrap_or((0, 0))
}

async fn ledger(server: &TestServer, user: &str, account: &str) -> Vec<(String, i64, i64)> {
    store(server)
        .ledger(partner_id(server, user), Some(account))
        .await
        .expect("ledger")
        .into_iter()
        .map(|e| (e.kind, e.amount, e.held_delta))
        .collect()
}

async fn events(server: &TestServer, o: &VisitOrder) -> Vec<String> {
    store(server)
        .outbox(Some(o.partner_id), Some(o.id))
        .await
        .expect("outbox")
        .into_iter()
        .map(|r| {
            r.event.payload["state"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

async fn set_agent(server: &TestServer, user: &str, patch: serde_json::Value) {
    let serde_json::Value::Object(patch) = patch else {
        panic!("object")
    };
    server
        .app
        .ybx
        .update_agent(partner_id(server, user), patch)
        .await
        .expect("update agent");
}

async fn ready(server: &TestServer, a: &Agent, page: &str, number: &str) -> XmlReply {
    call(&server.url, a, page, &[("Order_id", number)]).await
}

async fn use_code(
    server: &TestServer,
    a: &Agent,
    number: &str,
    money: &str,
    code: &str,
    extra: &[(&str, &str)],
) -> XmlReply {
    let mut p = vec![("Order_id", number), ("money", money), ("SmsCode", code)];
    p.extend_from_slice(extra);
    call(&server.url, a, "UseAccountToPay.aspx", &p).await
}

async fn use_pwd(
    server: &TestServer,
    a: &Agent,
    page: &str,
    number: &str,
    money: &str,
    pw: &str,
    extra: &[(&str, &str)],
) -> XmlReply {
    let enc = a.pay(pw);
    let mut p = vec![
        ("Order_id", number),
        ("money", money),
        ("Smscode", enc.as_str()),
        ("smsModel", "0"),
    ];
    for (k, v) in extra {
        p.retain(|(n, _)| n != k);
        p.push((*k, *v));
    }
    call(&server.url, a, page, &p).await
}

fn tick(server: &TestServer, seconds: i64) {
    server.clock.advance(chrono::Duration::seconds(seconds));
}

#[tokio::test]
async fn ready_to_pay_and_use_account_to_pay_activate_debit_and_call_back() {
    let server = TestServer::start().await;
    callbacks_on(&server).await;
    let a = Agent::demo();
    let number = book(&server, &a, "LY-2001").await;
    let r = ready(&server, &a, "ReadyToPay.aspx", &number).await;
    r.expect(0, "");
    assert!(r.signed_by(KEY));
    let sms = store(&server)
        .messages(Some(PHONE1), None)
        .await
        .expect("sms");
    let text = &sms.last().expect("code sms").message.text;
    assert!(text.contains(&number) && text.contains("240.00"), "{text}");
    let code = last_code(&server, PHONE1).await;
    let r = use_code(&server, &a, &number, "240.00", &code, &[]).await;
    r.expect(0, "");
    let o = order(&server, &number).await;
    assert_eq!(o.state, VisitState::Delivered);
    assert_eq!(o.tickets.len(), 1);
    assert_eq!(o.tickets[0].person_count, 2);
    assert_eq!(o.detail.paid, 24_000);
    assert_eq!(o.detail.held, 0);
    assert_eq!(o.expires_ms, None);
    assert_eq!(
        ledger(&server, "demo-agent", "deposit").await,
        vec![
            ("topup".into(), 10_000_000, 0),
            ("debit".into(), -24_000, 0)
        ]
    );
    assert_eq!(
        balance(&server, "demo-agent", "deposit").await,
        (9_976_000, 0)
    );
    assert_eq!(
        events(&server, &o).await,
        vec!["booked", "deposit_authorized", "delivered"]
    );
    // The official notice to the visitor.
    let notices = store(&server)
        .messages(Some("13700137000"), Some(o.id))
        .await
        .expect("sms");
    assert!(notices.iter().any(|m| m.message.kind == "delivery"));
    // Used up: the order is no longer booked; a new code is refused too.
    use_code(&server, &a, &number, "240.00", &code, &[])
        .await
        .expect(
            -2095,
            "指定的订单不存在、订单状态不为'预订中'或订单不属于当前代理商。",
        );
    ready(&server, &a, "ReadyToPay.aspx", &number)
        .await
        .expect(-2002, "定单已经不是预定中的状态了，不需要再设置");
    server.stop().await;
}

#[tokio::test]
async fn use_account_to_pay_without_activation_holds_the_deposit() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let number = book(&server, &a, "").await;
    ready(&server, &a, "ReadyToPay.aspx", &number)
        .await
        .expect(0, "");
    let code = last_code(&server, PHONE1).await;
    // `activate` needs `tickettype`.
    use_code(&server, &a, &number, "240.00", &code, &[("activate", "0")])
        .await
        .expect(-1901, "参数错误。");
    use_code(
        &server,
        &a,
        &number,
        "240.00",
        &code,
        &[("activate", "0"), ("tickettype", "2")],
    )
    .await
    .expect(0, "");
    let o = order(&server, &number).await;
    assert_eq!(o.state, VisitState::DepositAuthorized);
    assert!(o.tickets.is_empty());
    assert_eq!((o.detail.paid, o.detail.held), (24_000, 24_000));
    assert_eq!(
        o.detail.pay_method,
        Some(boxoffice_core::scenic::PayMethod::Deposit)
    );
    assert!(o.expires_ms.is_some());
    assert_eq!(
        ledger(&server, "demo-agent", "deposit").await,
        vec![("topup".into(), 10_000_000, 0), ("hold".into(), 0, 24_000)]
    );
    assert_eq!(
        balance(&server, "demo-agent", "deposit").await,
        (10_000_000, 24_000)
    );
    // No senderid: no callbacks.
    assert!(events(&server, &o).await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn ready_to_pay_codes() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let number = book(&server, &a, "").await;
    ready(&server, &a, "ReadyToPay.aspx", "202611220000000000")
        .await
        .expect(-2002, "定单已经不是预定中的状态了，不需要再设置");
    ready(&server, &a, "ReadyToPay.aspx", "")
        .await
        .expect(-2002, "定单已经不是预定中的状态了，不需要再设置");
    // Another agent's order is not its own.
    ready(&server, &Agent::demo2(), "ReadyToPay.aspx", &number)
        .await
        .expect(-2002, "定单已经不是预定中的状态了，不需要再设置");
    // demo-agent has no second mobile.
    call(
        &server.url,
        &a,
        "ReadyToPay.aspx",
        &[("Order_id", &number), ("NumIndex", "1")],
    )
    .await
    .expect(-1, "代理商处预留的手机号码为空，不能完成操作。");
    ready(&server, &a, "ReadyToPay.aspx", &number)
        .await
        .expect(0, "");
    let first = last_code(&server, PHONE1).await;
    tick(&server, 30);
    ready(&server, &a, "ReadyToPay.aspx", &number)
        .await
        .expect(-1, "重发太频繁，请稍候再试；");
    // The second mobile receives codes too; a new code supersedes the old one.
    set_agent(
        &server,
        "demo-agent",
        serde_json::json!({ "mobile2": PHONE2 }),
    )
    .await;
    tick(&server, 31);
    call(
        &server.url,
        &a,
        "ReadyToPay.aspx",
        &[("Order_id", &number), ("NumIndex", "1")],
    )
    .await
    .expect(0, "");
    let second = last_code(&server, PHONE2).await;
    if first != second {
        use_code(&server, &a, &number, "240.00", &first, &[])
            .await
            .expect(-2092, "验证码错误。");
    }
    // At most 50 codes per order and day.
    for _ in 0..48 {
        tick(&server, 61);
        ready(&server, &a, "ReadyToPay.aspx", &number)
            .await
            .expect(0, "");
    }
    tick(&server, 61);
    ready(&server, &a, "ReadyToPay.aspx", &number)
        .await
        .expect(-3, "重发的次数太多了，不允许再重发（暂定不超过50次重发）");
    assert_eq!(code_messages(&server, PHONE1).await, 49);
    // Without deposit rights, and for official channels.
    set_agent(
        &server,
        "demo-agent",
        serde_json::json!({ "allow_deposit": false }),
    )
    .await;
    ready(&server, &a, "ReadyToPay.aspx", &number)
        .await
        .expect(-1, "不支持预付金支付功能，请与景区管理员联系，开通此功能；");
    set_agent(
        &server,
        "demo-agent",
        serde_json::json!({ "allow_deposit": true, "unit_id": "00000000-0000-0000-0000-000000000000" }),
    )
    .await;
    ready(&server, &a, "ReadyToPay.aspx", &number)
        .await
        .expect(-1, "不支持预付金支付功能。");
    server.stop().await;
}

#[tokio::test]
async fn use_account_to_pay_codes() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let number = book(&server, &a, "").await;
    ready(&server, &a, "ReadyToPay.aspx", &number)
        .await
        .expect(0, "");
    let code = last_code(&server, PHONE1).await;
    let wrong = other(&code);
    let not_payable = "指定的订单不存在、订单状态不为'预订中'或订单不属于当前代理商。";
    call(
        &server.url,
        &a,
        "UseAccountToPay.aspx",
        &[("Order_id", &number), ("money", "240.00")],
    )
    .await
    .expect(-1901, "参数错误。");
    use_code(&server, &a, &number, "abc", &code, &[])
        .await
        .expect(-1901, "参数错误。");
    use_code(&server, &a, "202611220000000000", "240.00", &code, &[])
        .await
        .expect(-2095, not_payable);
    use_code(&server, &Agent::demo2(), &number, "240.00", &code, &[])
        .await
        .expect(-2095, not_payable);
    use_code(&server, &a, &number, "240.00", &wrong, &[])
        .await
        .expect(-2092, "验证码错误。");
    // A wrong amount does not use the code up.
    use_code(&server, &a, &number, "239.99", &code, &[])
        .await
        .expect(-2096, "指定的订单金额不正确。");
    // Deposit codes live 6 minutes.
    tick(&server, 361);
    use_code(&server, &a, &number, "240.00", &code, &[])
        .await
        .expect(-2093, "验证码已过期。");
    ready(&server, &a, "ReadyToPay.aspx", &number)
        .await
        .expect(0, "");
    let code = last_code(&server, PHONE1).await;
    // Five wrong tries void the code (one was counted on the previous code).
    for _ in 0..5 {
        use_code(&server, &a, &number, "240.00", &other(&code), &[])
            .await
            .expect(-2092, "验证码错误。");
    }
    use_code(&server, &a, &number, "240.00", &code, &[])
        .await
        .expect(-2092, "验证码错误。");
    // Permissions.
    set_agent(
        &server,
        "demo-agent",
        serde_json::json!({ "allow_deposit": false }),
    )
    .await;
    use_code(&server, &a, &number, "240.00", &code, &[])
        .await
        .expect(-2094, "当前客户不能使用预定金支付.");
    set_agent(
        &server,
        "demo-agent",
        serde_json::json!({ "allow_deposit": true, "unit_id": "00000000-0000-0000-0000-000000000000" }),
    )
    .await;
    use_code(&server, &a, &number, "240.00", &code, &[])
        .await
        .expect(-1, "不支持预付金支付功能，请与景区管理员联系，开通此功能。");
    set_agent(
        &server,
        "demo-agent",
        serde_json::json!({ "unit_id": null }),
    )
    .await;
    tick(&server, 61);
    ready(&server, &a, "ReadyToPay.aspx", &number)
        .await
        .expect(0, "");
    let code = last_code(&server, PHONE1).await;
    use_code(&server, &a, &number, "240.00", &code, &[])
        .await
        .expect(0, "");
    // Nothing but the one debit.
    assert_eq!(
        ledger(&server, "demo-agent", "deposit").await,
        vec![
            ("topup".into(), 10_000_000, 0),
            ("debit".into(), -24_000, 0)
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn insufficient_deposit_changes_nothing() {
    let server = TestServer::start().await;
    // demo-agent2: deposit ¥500.00, no rebate rights, no pay-at-counter.
    let b = Agent::demo2();
    let number = book_with(&server, &b, &format!("{ADULT}|5"), "", None).await;
    ready(&server, &b, "ReadyToPay.aspx", &number)
        .await
        .expect(0, "");
    let code = last_code(&server, PHONE2).await;
    use_code(&server, &b, &number, "600.00", &code, &[])
        .await
        .expect(-2097, "预订金余额不足以完成授权。");
    // Holding needs the money as well.
    use_code(
        &server,
        &b,
        &number,
        "600.00",
        &code,
        &[("activate", "0"), ("tickettype", "2")],
    )
    .await
    .expect(-2097, "预订金余额不足以完成授权。");
    use_pwd(
        &server,
        &b,
        "UseAccountToPayByPwd.aspx",
        &number,
        "600.00",
        "123456",
        &[],
    )
    .await
    .expect(-2097, "预订金余额不足以完成授权。");
    assert_eq!(order(&server, &number).await.state, VisitState::Booked);
    assert_eq!(ledger(&server, "demo-agent2", "deposit").await.len(), 1);
    assert_eq!(
        balance(&server, "demo-agent2", "deposit").await,
        (50_000, 0)
    );
    // Rebate is not theirs.
    ready(&server, &b, "ReadyToPayByFK.aspx", &number)
        .await
        .expect(
            -1,
            "不支持返款余额支付功能，请与景区管理员联系，开通此功能；",
        );
    call(
        &server.url,
        &b,
        "UseAccountToPayByFK.aspx",
        &[
            ("Order_id", &number),
            ("money", "600.00"),
            ("SmsCode", &code),
            ("smsModel", "0"),
        ],
    )
    .await
    .expect(-2194, "当前客户不能使用预定金支付.");
    use_pwd(
        &server,
        &b,
        "UseAccountToPayByFKWithPwd.aspx",
        &number,
        "600.00",
        "123456",
        &[],
    )
    .await
    .expect(-2194, "当前客户不能使用返款余额支付授权。");
    // Past its 30-minute payment time limit the order is no longer payable.
    tick(&server, 31 * 60);
    ready(&server, &b, "ReadyToPay.aspx", &number)
        .await
        .expect(-2002, "定单已经不是预定中的状态了，不需要再设置");
    use_pwd(
        &server,
        &b,
        "UseAccountToPayByPwd.aspx",
        &number,
        "600.00",
        "123456",
        &[],
    )
    .await
    .expect(
        -2095,
        "指定的订单不存在、订单状态不为'预订中'或订单不属于当前代理商。",
    );
    server.stop().await;
}

#[tokio::test]
async fn use_account_to_pay_by_pwd_codes_and_lock_out() {
    let server = TestServer::start().await;
    callbacks_on(&server).await;
    let a = Agent::demo();
    let page = "UseAccountToPayByPwd.aspx";
    let number = book(&server, &a, "LY-3001").await;
    let not_payable = "指定的订单不存在、订单状态不为'预订中'或订单不属于当前代理商。";
    call(
        &server.url,
        &a,
        page,
        &[
            ("Order_id", &number),
            ("money", "240.00"),
            ("Smscode", &a.pay("123456")),
        ],
    )
    .await
    .expect(-1901, "参数错误。");
    use_pwd(
        &server,
        &a,
        page,
        &number,
        "240.00",
        "123456",
        &[("smsModel", "9")],
    )
    .await
    .expect(-1901, "参数错误。");
    use_pwd(
        &server,
        &a,
        page,
        "202611220000000000",
        "240.00",
        "123456",
        &[],
    )
    .await
    .expect(-2095, not_payable);
    use_pwd(&server, &a, page, &number, "24.00", "123456", &[])
        .await
        .expect(-2096, "指定的订单金额不正确。");
    // Five wrong passwords lock it for 15 minutes.
    for _ in 0..5 {
        use_pwd(&server, &a, page, &number, "240.00", "654321", &[])
            .await
            .expect(-2098, "支付密码错误。");
    }
    tick(&server, 2);
    use_pwd(&server, &a, page, &number, "240.00", "123456", &[])
        .await
        .expect(-2098, "支付密码错误。");
    tick(&server, 16 * 60);
    set_agent(
        &server,
        "demo-agent",
        serde_json::json!({ "allow_deposit": false }),
    )
    .await;
    use_pwd(&server, &a, page, &number, "240.00", "123456", &[])
        .await
        .expect(-2094, "当前客户不能使用预定金支付.");
    set_agent(
        &server,
        "demo-agent",
        serde_json::json!({ "allow_deposit": true, "unit_id": "00000000-0000-0000-0000-000000000000" }),
    )
    .await;
    use_pwd(&server, &a, page, &number, "240.00", "123456", &[])
        .await
        .expect(-1, "不支持预付金支付功能，请与景区管理员联系，开通此功能。");
    set_agent(
        &server,
        "demo-agent",
        serde_json::json!({ "unit_id": null, "pay_md5": "" }),
    )
    .await;
    use_pwd(&server, &a, page, &number, "240.00", "123456", &[])
        .await
        .expect(-2099, "当前用户尚未设置支付密码。");
    set_agent(
        &server,
        "demo-agent",
        serde_json::json!({ "pay_md5": null }),
    )
    .await;
    // Success: activation by default (payandactive), official notice suppressed by smsModel A.
    use_pwd(
        &server,
        &a,
        page,
        &number,
        "240.00",
        "123456",
        &[("smsModel", "A")],
    )
    .await
    .expect(0, "");
    let o = order(&server, &number).await;
    assert_eq!(o.state, VisitState::Delivered);
    assert_eq!(
        events(&server, &o).await,
        vec!["booked", "deposit_authorized", "delivered"]
    );
    let notices = store(&server)
        .messages(Some("13700137000"), Some(o.id))
        .await
        .expect("sms");
    assert!(!notices.is_empty(), "the booking notice");
    assert!(
        notices.iter().all(|m| m.message.kind == "booking"),
        "{notices:?}"
    );
    use_pwd(&server, &a, page, &number, "240.00", "123456", &[])
        .await
        .expect(-2095, not_payable);
    server.stop().await;
}

#[tokio::test]
async fn activation_with_the_id_card_gate_needs_every_person_named() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let page = "UseAccountToPayByPwd.aspx";
    let plain = book(&server, &a, "").await;
    use_pwd(
        &server,
        &a,
        page,
        &plain,
        "240.00",
        "123456",
        &[("activate", "1"), ("tickettype", "1")],
    )
    .await
    .expect(
        -1,
        "当前系统要求使用二代身份证远程激活，但订单中，成人票对应的预订单中的实名信息数量与要求激活的数量不一致，激活失败。",
    );
    assert_eq!(order(&server, &plain).await.state, VisitState::Booked);
    assert_eq!(ledger(&server, "demo-agent", "deposit").await.len(), 1);
    let memo = format!("{MEMO_ID}^张三^13800138000^1^1|430103198202020022^李四^^1^1");
    let named = book_with(&server, &a, &format!("{REAL_NAME}|2"), "", Some(&memo)).await;
    use_pwd(
        &server,
        &a,
        page,
        &named,
        "200.00",
        "123456",
        &[("activate", "1"), ("tickettype", "1")],
    )
    .await
    .expect(0, "");
    let o = order(&server, &named).await;
    assert_eq!(o.state, VisitState::Delivered);
    assert_eq!(o.tickets.len(), 2);
    assert!(o
        .tickets
        .iter()
        .all(|t| t.medium == 1 && t.person_count == 1));
    assert_eq!(o.tickets[0].id_number, MEMO_ID);
    // Without tickettype the supplier's mode 3 picks the ID card for fully named orders and
    // the QR code otherwise.
    use_pwd(&server, &a, page, &plain, "240.00", "123456", &[])
        .await
        .expect(0, "");
    let o = order(&server, &plain).await;
    assert!(!o.tickets.is_empty(), "{:?}", o.tickets);
    assert!(o.tickets.iter().all(|t| t.medium == 2));
    server.stop().await;
}

#[tokio::test]
async fn rebate_authorization_with_sms_code() {
    let server = TestServer::start().await;
    callbacks_on(&server).await;
    let a = Agent::demo();
    let page = "UseAccountToPayByFK.aspx";
    let number = book(&server, &a, "FK-4001").await;
    let r = ready(&server, &a, "ReadyToPayByFK.aspx", &number).await;
    r.expect(0, "调用成功");
    let code = last_code(&server, PHONE1).await;
    let not_payable = "指定的订单不存在、订单状态不为'预订中'或订单不属于当前代理商。";
    let fk = |number: &str, money: &str, code: &str| {
        vec![
            ("Order_id".to_string(), number.to_string()),
            ("money".to_string(), money.to_string()),
            ("SmsCode".to_string(), code.to_string()),
            ("smsModel".to_string(), "0".to_string()),
        ]
    };
    call(
        &server.url,
        &a,
        page,
        &[
            ("Order_id", &number),
            ("money", "240.00"),
            ("SmsCode", &code),
        ],
    )
    .await
    .expect(-1901, "参数错误。");
    call(
        &server.url,
        &a,
        page,
        &refs(&fk("202611220000000000", "240.00", &code)),
    )
    .await
    .expect(-2195, not_payable);
    call(
        &server.url,
        &a,
        page,
        &refs(&fk(&number, "240.00", &other(&code))),
    )
    .await
    .expect(-2092, "验证码错误。");
    call(&server.url, &a, page, &refs(&fk(&number, "241.00", &code)))
        .await
        .expect(-2196, "指定的订单金额不正确。");
    // Resends: a minute apart.
    ready(&server, &a, "ReadyToPayByFK.aspx", &number)
        .await
        .expect(-1, "调用失败，失败原因：重发太频繁，请稍候再试。");
    // Rebate codes live 10 minutes: still good after 6.
    tick(&server, 400);
    // Not enough rebate balance (¥10000.00 less ¥9999.00).
    let partner = partner_id(&server, "demo-agent");
    store(&server)
        .move_account(
            partner,
            AccountMove {
                account: "rebate".into(),
                balance_delta: -999_900,
                held_delta: 0,
                kind: "adjust".into(),
                note: "test".into(),
            },
            "test",
            0,
        )
        .await
        .expect("move")
        .expect("moved");
    call(&server.url, &a, page, &refs(&fk(&number, "240.00", &code)))
        .await
        .expect(-2197, "返款余额不足以完成授权。");
    store(&server)
        .move_account(
            partner,
            AccountMove {
                account: "rebate".into(),
                balance_delta: 999_900,
                held_delta: 0,
                kind: "adjust".into(),
                note: "test".into(),
            },
            "test",
            0,
        )
        .await
        .expect("move")
        .expect("moved");
    call(&server.url, &a, page, &refs(&fk(&number, "240.00", &code)))
        .await
        .expect(0, "调用成功");
    let o = order(&server, &number).await;
    assert_eq!(o.state, VisitState::DeliveredRebate);
    assert_eq!(
        events(&server, &o).await,
        vec!["booked", "rebate_authorized", "delivered_rebate"]
    );
    assert_eq!(
        ledger(&server, "demo-agent", "rebate").await.last(),
        Some(&("debit".to_string(), -24_000, 0))
    );
    assert_eq!(ledger(&server, "demo-agent", "deposit").await.len(), 1);
    ready(&server, &a, "ReadyToPayByFK.aspx", &number)
        .await
        .expect(-2002, "定单已经不是预定中的状态了，不能再下发验证码；");
    // Expired after 10 minutes; too many resends; permissions.
    let second = book(&server, &a, "").await;
    ready(&server, &a, "ReadyToPayByFK.aspx", &second)
        .await
        .expect(0, "调用成功");
    let code = last_code(&server, PHONE1).await;
    tick(&server, 601);
    call(&server.url, &a, page, &refs(&fk(&second, "240.00", &code)))
        .await
        .expect(-2093, "验证码已过期。");
    for _ in 0..49 {
        ready(&server, &a, "ReadyToPayByFK.aspx", &second)
            .await
            .expect(0, "调用成功");
        tick(&server, 61);
    }
    ready(&server, &a, "ReadyToPayByFK.aspx", &second)
        .await
        .expect(
            -1,
            "调用失败，失败原因：重发次数太多，不允许此操作，请与管理员联系；",
        );
    set_agent(
        &server,
        "demo-agent",
        serde_json::json!({ "unit_id": "00000000-0000-0000-0000-000000000000" }),
    )
    .await;
    let code = last_code(&server, PHONE1).await;
    call(&server.url, &a, page, &refs(&fk(&second, "240.00", &code)))
        .await
        .expect(
            -1,
            "不支持返款余额支付功能，请与景区管理员联系，开通此功能；",
        );
    server.stop().await;
}

#[tokio::test]
async fn rebate_authorization_with_the_payment_password_and_the_alias() {
    let server = TestServer::start().await;
    callbacks_on(&server).await;
    let a = Agent::demo();
    let page = "UseAccountToPayByFKWithPwd.aspx";
    let not_payable = "指定的订单不存在、订单状态不为'预订中'或订单不属于当前代理商。";
    let number = book(&server, &a, "FK-5001").await;
    call(
        &server.url,
        &a,
        page,
        &[
            ("Order_id", &number),
            ("money", "240.00"),
            ("SmsCode", &a.pay("123456")),
        ],
    )
    .await
    .expect(-1901, "参数错误。");
    use_pwd(
        &server,
        &a,
        page,
        "202611220000000000",
        "240.00",
        "123456",
        &[],
    )
    .await
    .expect(-2195, not_payable);
    use_pwd(&server, &a, page, &number, "240.01", "123456", &[])
        .await
        .expect(-2196, "指定的订单金额不正确。");
    use_pwd(&server, &a, page, &number, "240.00", "111111", &[])
        .await
        .expect(-2098, "支付密码错误。");
    // Held, not delivered, when activation is declined.
    use_pwd(
        &server,
        &a,
        page,
        &number,
        "240.00",
        "123456",
        &[("activate", "0"), ("tickettype", "2")],
    )
    .await
    .expect(0, "");
    let o = order(&server, &number).await;
    assert_eq!(o.state, VisitState::RebateAuthorized);
    assert_eq!(o.detail.held, 24_000);
    assert_eq!(
        events(&server, &o).await,
        vec!["booked", "rebate_authorized"]
    );
    assert_eq!(
        balance(&server, "demo-agent", "rebate").await,
        (1_000_000, 24_000)
    );
    assert_eq!(
        ledger(&server, "demo-agent", "rebate").await.last(),
        Some(&("hold".to_string(), 0, 24_000))
    );
    // The alias, delivering from the rebate account.
    let second = book(&server, &a, "").await;
    use_pwd(
        &server,
        &a,
        "UseFKAccountToPayByPwd.aspx",
        &second,
        "240.00",
        "123456",
        &[],
    )
    .await
    .expect(0, "");
    assert_eq!(
        order(&server, &second).await.state,
        VisitState::DeliveredRebate
    );
    assert_eq!(
        balance(&server, "demo-agent", "rebate").await,
        (976_000, 24_000)
    );
    // Insufficient: ¥9760.00 left, ¥240.00 held.
    let third = book_with(&server, &a, &format!("{ADULT}|50"), "", None).await;
    let fourth = book_with(&server, &a, &format!("{ADULT}|50"), "", None).await;
    use_pwd(&server, &a, page, &third, "6000.00", "123456", &[])
        .await
        .expect(0, "");
    use_pwd(&server, &a, page, &fourth, "6000.00", "123456", &[])
        .await
        .expect(-2197, "返款余额不足以完成授权。");
    set_agent(&server, "demo-agent", serde_json::json!({ "pay_md5": "" })).await;
    use_pwd(&server, &a, page, &fourth, "6000.00", "123456", &[])
        .await
        .expect(-2099, "当前用户尚未设置支付密码。");
    server.stop().await;
}

async fn get_code(server: &TestServer, a: &Agent, extra: &[(&str, &str)]) -> XmlReply {
    let dwid = a.enc("DL0001");
    let mut p = vec![("DWSX", "1"), ("DWID", dwid.as_str())];
    for (k, v) in extra {
        p.retain(|(n, _)| n != k);
        p.push((*k, *v));
    }
    call(&server.url, a, "GetVerificationCode.aspx", &p).await
}

async fn change(
    server: &TestServer,
    a: &Agent,
    code: &str,
    zfdh: &str,
    new1: &str,
    new2: &str,
) -> XmlReply {
    let (n1, n2) = (a.enc(new1), a.enc(new2));
    call(
        &server.url,
        a,
        "ChangePayPwd.aspx",
        &[
            ("YZM", code),
            ("ZFDH", zfdh),
            ("NewPwd", &n1),
            ("NewPwd2", &n2),
        ],
    )
    .await
}

#[tokio::test]
async fn change_pay_pwd_then_pay_with_the_new_password() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let new_md5 = boxoffice_ybx::crypto::md5_upper("888888");
    // Unit checks.
    get_code(&server, &a, &[("DWID", &a.enc("DL0002"))])
        .await
        .expect(-1, "传入的单位ID或单位属性ID不正确；");
    get_code(&server, &a, &[("DWSX", "2")])
        .await
        .expect(-1, "传入的单位ID或单位属性ID不正确；");
    call(&server.url, &a, "GetVerificationCode.aspx", &[])
        .await
        .expect(-1, "传入的单位ID或单位属性ID不正确；");
    get_code(&server, &a, &[("NumIndex", "1")])
        .await
        .expect(-1, "代理商处预留的手机号码为空，不能完成操作。");
    // DWSX may be encrypted too.
    let r = get_code(&server, &a, &[("DWSX", &a.enc("1"))]).await;
    r.expect(0, "");
    assert!(r.signed_by(KEY));
    let zfdh = r.tag("order_id").expect("order_id");
    assert_eq!(r.tag("status").as_deref(), Some("0"));
    assert!(!zfdh.is_empty() && zfdh.len() <= 20, "{zfdh}");
    let code = last_code(&server, PHONE1).await;
    get_code(&server, &a, &[])
        .await
        .expect(-1, "调用失败，失败原因：重发太频繁；");
    // ChangePayPwd refusals.
    call(
        &server.url,
        &a,
        "ChangePayPwd.aspx",
        &[("YZM", &code), ("ZFDH", &zfdh)],
    )
    .await
    .expect(-1901, "参数错误。");
    change(&server, &a, &code, "ZF0", &new_md5, &new_md5)
        .await
        .expect(-2433, "验证码已过期或不正确。");
    change(&server, &a, &other(&code), &zfdh, &new_md5, &new_md5)
        .await
        .expect(-2431, "验证码错误。");
    let other_md5 = boxoffice_ybx::crypto::md5_upper("999999");
    change(&server, &a, &code, &zfdh, &new_md5, &other_md5)
        .await
        .expect(-2432, "新密码错误、两次输入密码不相符或密钥不符合规则。");
    let empty = boxoffice_ybx::crypto::md5_upper("");
    change(&server, &a, &code, &zfdh, &empty, &empty)
        .await
        .expect(-2432, "新密码错误、两次输入密码不相符或密钥不符合规则。");
    change(&server, &a, &code, &zfdh, "888888", "888888")
        .await
        .expect(-2432, "新密码错误、两次输入密码不相符或密钥不符合规则。");
    // Changed (lower-case hex accepted, stored upper-case).
    let lower = new_md5.to_ascii_lowercase();
    change(&server, &a, &code, &zfdh, &lower, &lower)
        .await
        .expect(0, "");
    let agent = server
        .app
        .ybx
        .agent("demo-agent")
        .await
        .expect("agent")
        .expect("exists");
    assert_eq!(agent.pay_md5.as_deref(), Some(new_md5.as_str()));
    // The code is used up.
    change(&server, &a, &code, &zfdh, &new_md5, &new_md5)
        .await
        .expect(-2433, "验证码已过期或不正确。");
    // Paying: the old password fails, the new one works.
    let number = book(&server, &a, "").await;
    let page = "UseAccountToPayByPwd.aspx";
    use_pwd(&server, &a, page, &number, "240.00", "123456", &[])
        .await
        .expect(-2098, "支付密码错误。");
    use_pwd(&server, &a, page, &number, "240.00", "888888", &[])
        .await
        .expect(0, "");
    assert_eq!(order(&server, &number).await.state, VisitState::Delivered);
    server.stop().await;
}

#[tokio::test]
async fn pay_password_codes_expire_are_voided_and_limited() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let new_md5 = boxoffice_ybx::crypto::md5_upper("777777");
    // A first-time password is set through the same flow.
    set_agent(&server, "demo-agent", serde_json::json!({ "pay_md5": "" })).await;
    let r = get_code(&server, &a, &[]).await;
    r.expect(0, "");
    let zfdh = r.tag("order_id").expect("zfdh");
    let code = last_code(&server, PHONE1).await;
    tick(&server, 601);
    change(&server, &a, &code, &zfdh, &new_md5, &new_md5)
        .await
        .expect(-2433, "验证码已过期或不正确。");
    // A new code supersedes the old bill number.
    let r = get_code(&server, &a, &[]).await;
    r.expect(0, "");
    let zfdh2 = r.tag("order_id").expect("zfdh");
    assert_ne!(zfdh, zfdh2);
    let code = last_code(&server, PHONE1).await;
    change(&server, &a, &code, &zfdh, &new_md5, &new_md5)
        .await
        .expect(-2433, "验证码已过期或不正确。");
    // Five wrong tries void it.
    for _ in 0..5 {
        change(&server, &a, &other(&code), &zfdh2, &new_md5, &new_md5)
            .await
            .expect(-2431, "验证码错误。");
    }
    change(&server, &a, &code, &zfdh2, &new_md5, &new_md5)
        .await
        .expect(-2433, "验证码已过期或不正确。");
    tick(&server, 61);
    let r = get_code(&server, &a, &[]).await;
    r.expect(0, "");
    let zfdh3 = r.tag("order_id").expect("zfdh");
    let code = last_code(&server, PHONE1).await;
    change(&server, &a, &code, &zfdh3, &new_md5, &new_md5)
        .await
        .expect(0, "");
    let number = book(&server, &a, "").await;
    use_pwd(
        &server,
        &a,
        "UseAccountToPayByFKWithPwd.aspx",
        &number,
        "240.00",
        "777777",
        &[],
    )
    .await
    .expect(0, "");
    // At most 50 codes a day (3 so far); a new local day starts over.
    for _ in 0..47 {
        tick(&server, 61);
        get_code(&server, &a, &[]).await.expect(0, "");
    }
    tick(&server, 61);
    get_code(&server, &a, &[])
        .await
        .expect(-3, "调用失败，失败原因：重发次数太多，不允许此操作；");
    tick(&server, 86_400);
    get_code(&server, &a, &[]).await.expect(0, "");
    // Agents with neither deposit nor rebate rights may not.
    set_agent(
        &server,
        "demo-agent",
        serde_json::json!({ "allow_deposit": false, "allow_rebate": false }),
    )
    .await;
    tick(&server, 61);
    get_code(&server, &a, &[]).await.expect(
        -1,
        "未开通预付金支付或返款支付功能的代理商不允许更改支付密码；",
    );
    server.stop().await;
}

#[tokio::test]
async fn racing_authorizations_with_one_code_pay_once() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    let number = book(&server, &a, "").await;
    ready(&server, &a, "ReadyToPay.aspx", &number)
        .await
        .expect(0, "");
    let code = last_code(&server, PHONE1).await;
    let calls = (0..4).map(|_| use_code(&server, &a, &number, "240.00", &code, &[]));
    let answers = futures::future::join_all(calls).await;
    let codes: Vec<i64> = answers.iter().map(XmlReply::code).collect();
    assert_eq!(codes.iter().filter(|c| **c == 0).count(), 1, "{codes:?}");
    assert!(
        codes.iter().all(|c| [0, -2092, -2095].contains(c)),
        "{codes:?}"
    );
    // The code was consumed with the authorization.
    let stored = store(&server)
        .verify_code(partner_id(&server, "demo-agent"), "deposit", &number)
        .await
        .expect("code")
        .expect("exists");
    assert!(stored.used);
    assert_eq!(
        ledger(&server, "demo-agent", "deposit").await,
        vec![
            ("topup".into(), 10_000_000, 0),
            ("debit".into(), -24_000, 0)
        ]
    );
    server.stop().await;
}

/// Gives the demo agent a callback address (nothing listens there: events stay queued), so that
/// its orders' changes are announced.
async fn callbacks_on(server: &TestServer) {
    call(
        &server.url,
        &Agent::demo(),
        "SetAgentParameters.aspx",
        &[
            ("responseaddr", "http://127.0.0.1:9/cb"),
            ("sendofficiallysnotify", "1"),
        ],
    )
    .await
    .expect(0, "成功");
}

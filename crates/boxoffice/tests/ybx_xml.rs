//! 游宝星 answers are well-formed XML whatever comes in or is stored: parameters carrying a
//! character XML 1.0 cannot carry are refused with each page's parameter error; data stored with
//! such characters (written through the store, bypassing the pages) is still answered as
//! well-formed XML; agents' callback answers are read with an XML parser; CDATA escapes its
//! terminator. Every answer here is parsed with quick-xml and checked against XML 1.0's `Char`
//! production, and its `<sign>` is checked with the test-side signature oracle.

mod common;
use boxoffice_core::scenic::{VisitChange, VisitEffects, VisitOrder};
use common::receiver::*;
use common::ybx::*;
use common::*;
use quick_xml::events::Event;
use std::time::Duration;

const VISIT: &str = "20261123";
const WAIT: Duration = Duration::from_secs(15);
/// Characters XML 1.0 forbids: C0 controls other than tab, LF and CR; U+FFFE and U+FFFF.
const FORBIDDEN: [char; 6] = ['\u{0}', '\u{1}', '\u{B}', '\u{1F}', '\u{FFFE}', '\u{FFFF}'];
/// What the server writes for a stored forbidden character.
const REPLACED: char = '\u{FFFD}';

/// XML 1.0's `Char` production, written from the specification (§2.2).
fn xml_char(c: char) -> bool {
    let n = c as u32;
    matches!(n, 0x9 | 0xA | 0xD)
        || (0x20..=0xD7FF).contains(&n)
        || (0xE000..=0xFFFD).contains(&n)
        || (0x10000..=0x10FFFF).contains(&n)
}

/// An answer parsed with quick-xml: every element with the text directly inside it, in document
/// order (closing order).
struct Doc {
    elements: Vec<(String, String)>,
}

impl Doc {
    fn get(&self, name: &str) -> Option<&str> {
        self.elements
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
    }
    fn all(&self, name: &str) -> Vec<&str> {
        self.elements
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
            .collect()
    }
    fn code(&self) -> i64 {
        self.get("retcode")
            .and_then(|c| c.parse().ok())
            .expect("a numeric retcode")
    }
    fn msg(&self) -> &str {
        self.get("retmsg").expect("retmsg")
    }
}

/// Text of an element or reference, or a panic naming the document.
fn content<E: std::fmt::Display>(r: Result<std::borrow::Cow<'_, str>, E>, text: &str) -> String {
    r.unwrap_or_else(|e| panic!("undecodable ({e}): {text:?}"))
        .into_owned()
}

/// A reference (`&#13;`, `&amp;`) as the character(s) it stands for; it must be one XML allows.
fn reference(r: &quick_xml::events::BytesRef<'_>, text: &str) -> String {
    match r.resolve_char_ref() {
        Ok(Some(c)) => {
            assert!(xml_char(c), "a reference to U+{:04X}: {text:?}", c as u32);
            c.to_string()
        }
        Ok(None) => {
            let name = content(r.decode(), text);
            quick_xml::escape::resolve_predefined_entity(&name)
                .unwrap_or_else(|| panic!("unknown entity {name}: {text:?}"))
                .to_string()
        }
        Err(e) => panic!("bad reference ({e}): {text:?}"),
    }
}

/// Parses a whole answer: HTTP 200 `text/xml`, no character XML 1.0 forbids (raw or by
/// reference), tags balanced and matched, exactly one root element.
#[track_caller]
fn parse(r: &XmlReply) -> Doc {
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.content_type.starts_with("text/xml"), "{}", r.content_type);
    let text = r.text.as_str();
    assert!(
        text.chars().all(xml_char),
        "a forbidden character: {text:?}"
    );
    let mut reader = quick_xml::Reader::from_str(text);
    let mut open: Vec<(String, String)> = Vec::new();
    let mut elements = Vec::new();
    let mut roots = 0;
    loop {
        let event = reader
            .read_event()
            .unwrap_or_else(|e| panic!("not well-formed ({e}): {text:?}"));
        let name = |e: &quick_xml::events::BytesStart<'_>| {
            String::from_utf8(e.name().as_ref().to_vec()).expect("UTF-8 name")
        };
        match event {
            Event::Start(e) => {
                roots += usize::from(open.is_empty());
                open.push((name(&e), String::new()));
            }
            Event::Empty(e) => {
                roots += usize::from(open.is_empty());
                elements.push((name(&e), String::new()));
            }
            Event::End(_) => elements.push(open.pop().expect("an open element")),
            Event::Text(t) => {
                let s = content(t.xml10_content(), text);
                match open.last_mut() {
                    Some((_, acc)) => acc.push_str(&s),
                    None => assert!(s.trim().is_empty(), "text outside the root: {text:?}"),
                }
            }
            Event::CData(c) => {
                let s = content(c.xml10_content(), text);
                open.last_mut()
                    .expect("CDATA inside the root")
                    .1
                    .push_str(&s);
            }
            Event::GeneralRef(g) => {
                let s = reference(&g, text);
                open.last_mut()
                    .expect("a reference inside the root")
                    .1
                    .push_str(&s);
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::DocType(_) => panic!("a DOCTYPE: {text:?}"),
        }
    }
    assert!(open.is_empty(), "unclosed elements {open:?}: {text:?}");
    assert_eq!(roots, 1, "{text:?}");
    Doc { elements }
}

/// Parses an answer and checks its code, message and `<sign>` (test-side oracle).
#[track_caller]
fn expect_doc(r: &XmlReply, key: &str, code: i64, msg: &str) -> Doc {
    let doc = parse(r);
    assert_eq!((doc.code(), doc.msg()), (code, msg), "{}", r.text);
    assert_eq!(
        doc.get("sign"),
        Some(oracle::response_sign(&code.to_string(), msg, key).as_str()),
        "{}",
        r.text
    );
    doc
}

fn refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, x)| (k.as_str(), x.as_str())).collect()
}

fn with(mut p: Vec<(String, String)>, k: &str, v: &str) -> Vec<(String, String)> {
    p.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
    p.push((k.into(), v.into()));
    p
}

/// The three booking pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Booking {
    OrderProducts,
    Deposit,
    Rebate,
}

impl Booking {
    fn page(self) -> &'static str {
        match self {
            Booking::OrderProducts => "OrderProducts.aspx",
            Booking::Deposit => "OrderAndPayWithYDJ.aspx",
            Booking::Rebate => "OrderAndPayWithFK.aspx",
        }
    }
    /// The page's documented parameter error.
    fn param_error(self) -> (i64, &'static str) {
        match self {
            Booking::OrderProducts => (-1501, "参数错误"),
            Booking::Deposit | Booking::Rebate => (-1901, "参数错误。"),
        }
    }
    /// The agent's own order number field, and whether it is TripleDes-encrypted.
    fn reference(self) -> (&'static str, bool) {
        match self {
            Booking::OrderProducts => ("senderid", false),
            Booking::Deposit => ("XCDDH", true),
            Booking::Rebate => ("senderid", true),
        }
    }
}

/// A booking of two adults for the visit date with a pick-up ID, an invoice title, a real-name
/// list of one person (`memo_id`, 张三) and the agent's own order number `reference`; paying
/// pages pay 240.00 with the demo payment password.
fn booking(a: &Agent, page: Booking, memo_id: &str, reference: &str) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = vec![
        ("Order_list".into(), format!("{ADULT}|2")),
        ("Mobile".into(), a.enc("13800138000")),
        ("ID".into(), a.enc("430103198001010011")),
        ("SXRQ".into(), a.enc(VISIT)),
        ("timespanindex".into(), "1".into()),
        ("NeedInvoice".into(), "1".into()),
        ("InvoiceTitle".into(), a.enc("示例公司")),
        (
            "Memo".into(),
            a.enc(&format!("{memo_id}^张三^13800138000^1^1")),
        ),
        ("IDCount".into(), "1".into()),
    ];
    if page != Booking::OrderProducts {
        p.push(("SmsCode".into(), a.pay("123456")));
        p.push(("money".into(), "240.00".into()));
        p.push(("smsModel".into(), "0".into()));
    }
    let (field, encrypted) = page.reference();
    let value = if encrypted {
        a.enc(reference)
    } else {
        reference.to_string()
    };
    p.push((field.into(), value));
    p
}

/// Every echoed field of a booking spoiled with `bad`: (what, parameters).
fn spoiled(a: &Agent, page: Booking, bad: char) -> Vec<(String, Vec<(String, String)>)> {
    let base = booking(a, page, "430103198202020022", "CLEAN-REF");
    let (field, encrypted) = page.reference();
    let reference = format!("REF{bad}1");
    let reference = if encrypted {
        a.enc(&reference)
    } else {
        reference
    };
    vec![
        (
            "ID".into(),
            with(
                base.clone(),
                "ID",
                &a.enc(&format!("4301031980{bad}1010011")),
            ),
        ),
        (
            "InvoiceTitle".into(),
            with(
                base.clone(),
                "InvoiceTitle",
                &a.enc(&format!("示例{bad}公司")),
            ),
        ),
        (
            "Memo name".into(),
            with(
                base.clone(),
                "Memo",
                &a.enc(&format!("430103198202020022^张{bad}三^13800138000^1^1")),
            ),
        ),
        (
            "Memo ID".into(),
            with(
                base.clone(),
                "Memo",
                &a.enc(&format!("43010319820202002{bad}^张三^13800138000^1^1")),
            ),
        ),
        (field.into(), with(base, field, &reference)),
    ]
}

#[test]
fn the_signature_oracle_reproduces_the_catalogue_example() {
    // Catalogue §2.6, worked example.
    let params = [
        ("user", "agent01"),
        (
            "password",
            "mzDQJtpTiAvW/AgjaF2C4whDeWU/Q4mFfGXNkaNYGvxl4qG49kOCRQ==",
        ),
        ("order_id", "2160301000"),
        ("sign_key_index", "1"),
    ];
    assert_eq!(
        oracle::request_sign(&params, KEY),
        "869F518CBA8FBB945260F7DAB475B1F1"
    );
    // Names are case-insensitive, `sign` and empty values take no part, the first wins.
    let noisy = [
        ("Order_ID", "2160301000"),
        ("sign", "anything"),
        ("memo", ""),
        ("USER", "agent01"),
        ("user", "someone else"),
        (
            "Password",
            "mzDQJtpTiAvW/AgjaF2C4whDeWU/Q4mFfGXNkaNYGvxl4qG49kOCRQ==",
        ),
        ("sign_key_index", "1"),
    ];
    assert!(oracle::request_sign_ok(
        &noisy,
        KEY,
        "869f518cba8fbb945260f7dab475b1f1"
    ));
    // Response signs, computed with `md5sum` over `retcode=…&retmsg=…&key=…`.
    assert_eq!(
        oracle::response_sign("0", "", KEY),
        "1AAEC0F5D59F992CFC5679336DD5A580"
    );
    assert_eq!(
        oracle::response_sign("-1901", "参数错误。", KEY),
        "1A77E2586AB4D7C002CAF2B58A15453D"
    );
}

#[tokio::test]
async fn forbidden_characters_in_booking_fields_are_each_pages_parameter_error() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    for page in [Booking::OrderProducts, Booking::Deposit, Booking::Rebate] {
        let (code, msg) = page.param_error();
        for bad in FORBIDDEN {
            for (what, params) in spoiled(&a, page, bad) {
                let r = call(&server.url, &a, page.page(), &refs(&params)).await;
                let doc = parse(&r);
                assert_eq!(
                    (doc.code(), doc.msg()),
                    (code, msg),
                    "{} with U+{:04X} in {what}: {}",
                    page.page(),
                    bad as u32,
                    r.text
                );
                assert!(doc.get("Item").is_none(), "{}", r.text);
                assert!(r.signed_by(KEY));
            }
        }
        // The same request through the POST route.
        let (_, params) = spoiled(&a, page, '\u{1}').remove(0);
        let r = post(&server.url, &a, page.page(), &refs(&params)).await;
        expect_doc(&r, KEY, code, msg);
    }
    // Positive controls: the same bookings without the characters are taken, and they are the
    // only orders there are (the refused ones created nothing).
    let ids = [
        "430103198001010011",
        "430103198202020022",
        "430103198303030033",
    ];
    for (page, memo_id) in [Booking::OrderProducts, Booking::Deposit, Booking::Rebate]
        .into_iter()
        .zip(ids)
    {
        let p = booking(&a, page, memo_id, "CLEAN-REF");
        let r = call(&server.url, &a, page.page(), &refs(&p)).await;
        let doc = expect_doc(&r, KEY, 0, "");
        match page {
            Booking::OrderProducts => assert_eq!(doc.get("orderstatus"), Some("0")),
            Booking::Deposit => assert_eq!(doc.get("XCDDH"), Some("CLEAN-REF")),
            Booking::Rebate => assert_eq!(doc.get("senderid"), Some("CLEAN-REF")),
        }
    }
    let r = call(&server.url, &a, "QueryOrderPageListCount.aspx", &[]).await;
    let doc = expect_doc(&r, KEY, 0, "");
    assert_eq!(doc.get("recordcount"), Some("3"));
    server.stop().await;
}

/// Every page's answer to a parameter carrying a forbidden character, as its table documents
/// its parameter error (our texts where a page documents none).
fn page_param_error(page: &str) -> (i64, &'static str) {
    const OURS: &str = "调用失败，失败原因：参数中含有不允许的字符；";
    match page {
        "OrderProducts.aspx" => (-1501, "参数错误"),
        "GetProviderConfig.aspx"
        | "GetAgentParameters.aspx"
        | "GetTimeSegment.aspx"
        | "SetAgentParameters.aspx" => (-1901, "参数错误"),
        "OrderAndPayWithYDJ.aspx"
        | "OrderAndPayWithFK.aspx"
        | "CancelOrder.aspx"
        | "QueryOrder.aspx"
        | "QueryOrdersList.aspx"
        | "QueryOrderPageListCount.aspx"
        | "UseAccountToPay.aspx"
        | "UseAccountToPayByPwd.aspx"
        | "UseAccountToPayByFK.aspx"
        | "UseAccountToPayByFKWithPwd.aspx"
        | "UseFKAccountToPayByPwd.aspx"
        | "ChangePayPwd.aspx" => (-1901, "参数错误。"),
        "GetProductsInventory.aspx" => (-1, "创建访问参数失败。错误:参数中含有不允许的字符。"),
        "ActivateTicket.aspx" => (-1, "验证参数失败：参数中含有不允许的字符。"),
        "GetProducts.aspx"
        | "QueryPruductStatus.aspx"
        | "GetServiceItem.aspx"
        | "GetProductsIdentity.aspx"
        | "ReadyToPay.aspx"
        | "ReadyToPayByFK.aspx"
        | "GetVerificationCode.aspx"
        | "GetPayChannel.aspx"
        | "BeginToPay.aspx"
        | "GetTicketList.aspx"
        | "GetTicketContext.aspx"
        | "ReMakeTicket.aspx" => (-1, OURS),
        other => panic!("{other}: add the page's parameter error to this table"),
    }
}

#[tokio::test]
async fn every_page_refuses_forbidden_characters_in_any_parameter() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    assert_eq!(boxoffice_ybx::route::PAGES.len(), 31);
    for (i, page) in boxoffice_ybx::route::PAGES.iter().enumerate() {
        let (code, msg) = page_param_error(page);
        let bad = FORBIDDEN[i % FORBIDDEN.len()];
        // In a parameter the page reads, in one it does not know, and in a parameter's name.
        let cases = [
            vec![("order_id", format!("2026{bad}1")), ("orderid", "1".into())],
            vec![("orderid", format!("2026{bad}1")), ("order_id", "1".into())],
            vec![("note", format!("x{bad}"))],
            vec![(
                if i % 2 == 0 { "no\u{1}te" } else { "n\u{FFFF}" },
                "x".into(),
            )],
        ];
        for params in cases {
            let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = call(&server.url, &a, page, &params).await;
            let doc = parse(&r);
            assert_eq!(
                (doc.code(), doc.msg()),
                (code, msg),
                "{page} with {params:?}: {}",
                r.text
            );
            assert!(r.signed_by(KEY), "{}", r.text);
        }
    }
    // ActivateTicket's real-name list (encrypted) on an authorized order.
    let p = with(
        booking(&a, Booking::Deposit, "430103198202020022", "ACT-1"),
        "activate",
        "0",
    );
    let r = call(&server.url, &a, "OrderAndPayWithYDJ.aspx", &refs(&p)).await;
    let doc = expect_doc(&r, KEY, 0, "");
    assert_eq!(doc.get("status"), Some("2"));
    let number = doc.get("Order_id").expect("Order_id").to_string();
    let activation: Vec<(&str, &str)> = vec![
        ("orderid", &number),
        ("activateall", "1"),
        ("activatedate", VISIT),
        ("tickettype", "2"),
        ("activatemode", "1"),
        ("timespanindex", "1"),
    ];
    let memo = a.enc("430103198202020022^张\u{1}三^13800138000^1^1");
    let mut spoiled = activation.clone();
    spoiled.push(("memo", &memo));
    let r = call(&server.url, &a, "ActivateTicket.aspx", &spoiled).await;
    expect_doc(&r, KEY, -1, "验证参数失败：参数中含有不允许的字符。");
    let r = call(&server.url, &a, "ActivateTicket.aspx", &activation).await;
    expect_doc(&r, KEY, 0, "");
    // Positive control: a page that takes such a parameter otherwise answers it.
    let r = call(&server.url, &a, "GetProducts.aspx", &[("note", "x")]).await;
    let doc = expect_doc(&r, KEY, 0, "");
    assert!(!doc.all("productid").is_empty());
    server.stop().await;
}

/// Writes `change` into the stored order through the store, bypassing the pages.
async fn store_detail(server: &TestServer, o: &VisitOrder, change: impl FnOnce(&mut VisitOrder)) {
    let mut changed = o.clone();
    change(&mut changed);
    let outcome = server
        .app
        .service
        .store()
        .change_visit_order(VisitChange {
            order_id: o.id,
            from: vec![o.state],
            to: o.state,
            detail: Some(changed.detail),
            expires_ms: None,
            segment: None,
            now_ms: server.app.service.now_ms(),
            actor: "test".into(),
            version: None,
            effects: VisitEffects::default(),
        })
        .await
        .expect("stored");
    assert!(
        matches!(outcome, boxoffice_core::scenic::VisitOutcome::Done(_)),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn stored_forbidden_characters_still_give_well_formed_answers() {
    let server = TestServer::start().await;
    let a = Agent::demo();
    // Two orders: a clean one and one whose stored data is spoiled afterwards.
    let clean = booking(&a, Booking::Deposit, "430103198303030033", "CLEAN-1");
    let r = call(&server.url, &a, "OrderAndPayWithYDJ.aspx", &refs(&clean)).await;
    expect_doc(&r, KEY, 0, "");
    let p = booking(&a, Booking::Deposit, "430103198202020022", "STORED-1");
    let r = call(&server.url, &a, "OrderAndPayWithYDJ.aspx", &refs(&p)).await;
    let number = expect_doc(&r, KEY, 0, "")
        .get("Order_id")
        .expect("Order_id")
        .to_string();
    let store = server.app.service.store().clone();
    let o = store
        .visit_order_by_number(&number)
        .await
        .expect("order")
        .expect("exists");
    assert_eq!(o.detail.persons.len(), 1);
    store_detail(&server, &o, |o| {
        let d = &mut o.detail;
        d.sender_ref = "STORED-1\u{1}\u{FFFF}".into();
        d.id_number = "4301\u{B}0011".into();
        d.invoice_title = "示例\u{0}公司\u{1F}".into();
        d.mobile = "138\u{FFFE}".into();
        d.items[0].name = "成人票\u{7}".into();
        d.persons[0].name = "张\u{1}三".into();
        d.persons[0].mobile = "139\u{2}\r".into();
    })
    .await;
    // QueryOrder.
    let reply = call(&server.url, &a, "QueryOrder.aspx", &[("order_id", &number)]).await;
    let doc = expect_doc(&reply, KEY, 0, "");
    assert_eq!(doc.get("orderid"), Some(number.as_str()));
    assert_eq!(doc.get("fptt"), Some("示例\u{FFFD}公司\u{FFFD}"));
    assert_eq!(doc.get("cardid"), Some("4301\u{FFFD}0011"));
    assert_eq!(doc.get("mobile"), Some("138\u{FFFD}"));
    assert_eq!(doc.get("productname"), Some("成人票\u{FFFD}"));
    // A whole QueryOrdersList page with both orders.
    let reply = call(
        &server.url,
        &a,
        "QueryOrdersList.aspx",
        &[("Page_index", "0")],
    )
    .await;
    let doc = expect_doc(&reply, KEY, 0, "");
    let numbers = doc.all("orderid");
    assert_eq!(numbers.len(), 2, "{}", reply.text);
    assert!(numbers.contains(&number.as_str()));
    assert!(doc.all("fptt").contains(&"示例\u{FFFD}公司\u{FFFD}"));
    assert!(doc.all("fptt").contains(&"示例公司"));
    assert!(doc.all("tickettypedesc").contains(&"成人票\u{FFFD}2张"));
    // GetProductsIdentity: the person's name and mobile (CR kept through `&#13;`).
    let reply = call(
        &server.url,
        &a,
        "GetProductsIdentity.aspx",
        &[("orderid", &number)],
    )
    .await;
    let doc = expect_doc(&reply, KEY, 0, "");
    assert_eq!(doc.all("name"), vec!["张\u{FFFD}三"]);
    assert_eq!(doc.all("mobile"), vec!["139\u{FFFD}\r"]);
    // A replay of the booking answers the stored order.
    let reply = call(&server.url, &a, "OrderAndPayWithYDJ.aspx", &refs(&p)).await;
    let doc = expect_doc(&reply, KEY, 0, "");
    assert_eq!(doc.get("Order_id"), Some(number.as_str()));
    assert_eq!(doc.get("XCDDH"), Some("STORED-1\u{FFFD}\u{FFFD}"));
    assert!(doc.get("XCDDH").is_some_and(|x| x.contains(REPLACED)));
    server.stop().await;
}

async fn set_address(server: &TestServer, a: &Agent, addr: &str) {
    let r = call(
        &server.url,
        a,
        "SetAgentParameters.aspx",
        &[("responseaddr", addr), ("sendofficiallysnotify", "1")],
    )
    .await;
    expect_doc(&r, &a.key, 0, "成功");
}

/// The outbox rows of an order: (state, attempts, last error).
async fn outbox(server: &TestServer, number: &str) -> Vec<(String, i64, String)> {
    let store = server.app.service.store().clone();
    let o = store
        .visit_order_by_number(number)
        .await
        .expect("order")
        .expect("exists");
    store
        .outbox(None, Some(o.id))
        .await
        .expect("outbox")
        .into_iter()
        .map(|r| (r.state, r.attempts, r.last_error))
        .collect()
}

/// Waits until the outbox rows of an order satisfy `done`.
async fn wait_outbox(
    server: &TestServer,
    number: &str,
    done: impl Fn(&[(String, i64, String)]) -> bool,
) -> Vec<(String, i64, String)> {
    let end = std::time::Instant::now() + WAIT;
    loop {
        let rows = outbox(server, number).await;
        if done(&rows) {
            return rows;
        }
        assert!(
            std::time::Instant::now() < end,
            "outbox of {number}: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A paid booking with an XCDDH (three events: 0, 2, 3); its order number.
async fn paid_order(server: &TestServer, a: &Agent, memo_id: &str, xcddh: &str) -> String {
    let p = booking(a, Booking::Deposit, memo_id, xcddh);
    let r = call(&server.url, a, "OrderAndPayWithYDJ.aspx", &refs(&p)).await;
    expect_doc(&r, KEY, 0, "")
        .get("Order_id")
        .expect("Order_id")
        .to_string()
}

#[tokio::test]
async fn callback_answers_are_read_as_xml() {
    let server = TestServer::start().await;
    let receiver = CallbackReceiver::start().await;
    let a = Agent::demo();
    set_address(&server, &a, &receiver.url).await;
    let accepted = [
        "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<root>\r\n  <retcode>\r\n 0 \r\n</retcode>\n  <retmsg/>\n</root>\n",
        "<root><retcode><![CDATA[0]]></retcode><retmsg><![CDATA[a]]]]><![CDATA[>b]]></retmsg></root>",
        "<root xmlns=\"urn:agent\"><retcode type=\"int\" note='x &amp; y'>0</retcode></root>",
        "<ROOT><RetCode>0</RetCode><RetMsg>OK</RetMsg></ROOT>",
        "<?xml version=\"1.0\"?><!-- ok --><root><retmsg>&lt;retcode&gt;-1&lt;/retcode&gt;</retmsg><retcode>&#48;</retcode></root>",
    ];
    let ids = [
        "110101199001010011",
        "110101199001010022",
        "110101199001010033",
        "110101199001010044",
        "110101199001010055",
    ];
    for (i, (body, id)) in accepted.iter().zip(ids).enumerate() {
        receiver.set_ok_answer(body);
        let number = paid_order(&server, &a, id, &format!("CB-OK-{i}")).await;
        let rows = wait_outbox(&server, &number, |rows| {
            rows.len() == 3 && rows.iter().all(|(s, _, _)| s != "pending")
        })
        .await;
        assert!(
            rows.iter().all(|(s, n, _)| s == "delivered" && *n == 1),
            "answer {body:?}: {rows:?}"
        );
        assert_eq!(receiver.delivered_of(&number).len(), 3);
    }
    // Negative controls: a retcode other than 0 (in CDATA) and a document that is not
    // well-formed are failures, retried later.
    let refused = [
        (
            "<root><retcode><![CDATA[ -1 ]]></retcode></root>",
            "retcode -1",
        ),
        (
            "<root><retcode>0</retmsg></root>",
            "no retcode in the answer: <root><retcode>0</retmsg></root>",
        ),
    ];
    for (i, (body, error)) in refused.into_iter().enumerate() {
        receiver.set_ok_answer(body);
        let id = ["110101199001010066", "110101199001010077"][i];
        let number = paid_order(&server, &a, id, &format!("CB-NO-{i}")).await;
        // The first attempt is over once its failure is recorded.
        let rows = wait_outbox(&server, &number, |rows| {
            rows.first().is_some_and(|(_, _, e)| !e.is_empty())
        })
        .await;
        assert_eq!(rows[0].0, "pending", "answer {body:?}: {rows:?}");
        assert_eq!(rows[0].1, 1, "{rows:?}");
        assert_eq!(rows[0].2, error);
        assert!(rows[1..].iter().all(|(s, n, _)| s == "pending" && *n == 0));
    }
    server.stop().await;
}

#[test]
fn cdata_values_containing_the_terminator_round_trip() {
    for value in [
        "a]]>b",
        "]]>",
        "]]]]>>",
        "x]]",
        "]]><![CDATA[",
        "引号]]>内容",
        "",
    ] {
        let mut body = String::from("<root><retcode>0</retcode><retmsg>");
        boxoffice_ybx::xml::cdata_into(&mut body, value);
        body.push_str("</retmsg></root>");
        let reply = XmlReply {
            status: 200,
            content_type: "text/xml".into(),
            text: body,
        };
        let doc = parse(&reply);
        assert_eq!(doc.get("retmsg"), Some(value), "{}", reply.text);
    }
    // Forbidden characters in CDATA are replaced too.
    let mut body = String::from("<root><retmsg>");
    boxoffice_ybx::xml::cdata_into(&mut body, "a\u{1}]]>\u{FFFF}");
    body.push_str("</retmsg></root>");
    let reply = XmlReply {
        status: 200,
        content_type: "text/xml".into(),
        text: body,
    };
    assert_eq!(parse(&reply).get("retmsg"), Some("a\u{FFFD}]]>\u{FFFD}"));
}

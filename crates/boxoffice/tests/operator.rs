//! The operator API (`/ops/*`) over real HTTP on a server started with a token, and its command
//! line twins: bearer authentication, agents (show, update, key rotation checked over the 游宝星
//! protocol), accounts and ledgers, counter sales, ticket printing, gate passages and desk refunds
//! with their ledger rows, outbox events and messages.

mod common;
use boxoffice_core::store::{QuotaKey, Store};
use common::ybx::*;
use common::*;
use serde_json::{json, Value};
use std::process::Command;

const TOKEN_OPS: &str = "ops-secret";
const VISIT: &str = "20261123";
const PHONE: &str = "13800138000";
/// The demo agent's login password hash and payment password hash (never shown).
const LOGIN_MD5: &str = "A540459139867E3EB98F0686EE199B2A";
const PAY_MD5: &str = "E10ADC3949BA59ABBE56E057F20F883E";

/// A server with the operator API on, and the directory of its database.
async fn start() -> (TestServer, Option<tempfile::TempDir>) {
    let (db, dir) = boxoffice_server::testing::fresh_database(TestStore::from_env()).await;
    let server = TestServer::start_on(&db, |c| c.operator.token = Some(TOKEN_OPS.into())).await;
    (server, dir)
}

/// Gives the demo agent a callback address (nothing listens there: the events stay queued),
/// so that its orders' changes are announced.
async fn with_callbacks(server: &TestServer) {
    let partner = server
        .app
        .service
        .catalog()
        .partner_by_credential("ybx", "demo-agent")
        .expect("agent")
        .id;
    server
        .app
        .ybx
        .update_agent(
            partner,
            json!({ "responseaddr": "http://127.0.0.1:9/cb" })
                .as_object()
                .cloned()
                .unwrap_or_default(),
        )
        .await
        .expect("callback address");
}

/// An operator API client.
struct Ops {
    base: String,
    http: reqwest::Client,
    auth: Option<String>,
}

impl Ops {
    fn new(server: &TestServer) -> Ops {
        Ops {
            base: server.url.clone(),
            http: reqwest::Client::new(),
            auth: Some(format!("Bearer {TOKEN_OPS}")),
        }
    }

    fn with_auth(&self, auth: Option<&str>) -> Ops {
        Ops {
            base: self.base.clone(),
            http: self.http.clone(),
            auth: auth.map(str::to_string),
        }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<String>) -> Reply {
        let mut rb = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(a) = &self.auth {
            rb = rb.header("authorization", a);
        }
        if let Some(b) = body {
            rb = rb.header("content-type", "application/json").body(b);
        }
        let resp = rb.send().await.expect("request");
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let text = resp.text().await.expect("body");
        Reply {
            status,
            content_type,
            text,
        }
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::POST, path, Some(body.to_string()))
            .await
    }

    async fn post_raw(&self, path: &str, body: &str) -> Reply {
        self.send(reqwest::Method::POST, path, Some(body.to_string()))
            .await
    }

    async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::PATCH, path, Some(body.to_string()))
            .await
    }
}

/// Asserts an answer's status and returns its JSON.
#[track_caller]
fn expect(r: &Reply, status: u16) -> Value {
    assert_eq!(r.status, status, "answer: {}", r.text);
    assert!(
        r.content_type.starts_with("application/json"),
        "content type {} of {}",
        r.content_type,
        r.text
    );
    r.json()
}

/// Asserts a JSON error answer.
#[track_caller]
fn expect_error(r: &Reply, status: u16) -> String {
    let v = expect(r, status);
    let msg = v["error"].as_str().unwrap_or_default().to_string();
    assert!(
        !msg.is_empty(),
        "error answer without a message: {}",
        r.text
    );
    msg
}

fn refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, x)| (k.as_str(), x.as_str())).collect()
}

/// OrderProducts parameters for `list` on the visit date, segment 1.
fn booking(a: &Agent, list: &str) -> Vec<(String, String)> {
    vec![
        ("Order_list".into(), list.into()),
        ("Mobile".into(), a.enc(PHONE)),
        ("ID".into(), a.enc("430103198001010011")),
        ("SXRQ".into(), a.enc(VISIT)),
        ("timespanindex".into(), "1".into()),
    ]
}

/// Books with OrderProducts (state 0) and returns the order number.
async fn order_products(server: &TestServer, a: &Agent, list: &str, sender: &str) -> String {
    let mut p = booking(a, list);
    p.push(("senderid".into(), sender.into()));
    let r = call(&server.url, a, "OrderProducts.aspx", &refs(&p)).await;
    r.expect(0, "");
    r.tag("orderid").expect("orderid")
}

/// Books and pays from the deposit account with OrderAndPayWithYDJ; returns the order number.
async fn order_and_pay(
    server: &TestServer,
    a: &Agent,
    list: &str,
    money: &str,
    xcddh: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut p = booking(a, list);
    p.push(("SmsCode".into(), a.pay("123456")));
    p.push(("money".into(), money.into()));
    p.push(("smsModel".into(), "0".into()));
    p.push(("XCDDH".into(), a.enc(xcddh)));
    for (k, v) in extra {
        p.push((k.to_string(), v.to_string()));
    }
    let r = call(&server.url, a, "OrderAndPayWithYDJ.aspx", &refs(&p)).await;
    r.expect(0, "");
    r.tag("Order_id").expect("Order_id")
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

async fn order_id(server: &TestServer, number: &str) -> i64 {
    server
        .app
        .store
        .visit_order_by_number(number)
        .await
        .expect("order")
        .expect("known order")
        .id
}

/// Kinds of the outbox rows of an order, in delivery order.
async fn outbox_kinds(server: &TestServer, number: &str) -> Vec<(String, Value)> {
    let id = order_id(server, number).await;
    server
        .app
        .store
        .outbox(None, Some(id))
        .await
        .expect("outbox")
        .into_iter()
        .map(|r| (r.event.kind, r.event.payload))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Authentication and routing
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn operator_api_requires_the_bearer_token() {
    let (server, _dir) = start().await;
    let ops = Ops::new(&server);
    let path = "/ops/ybx/agents/demo-agent";
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("Bearer ops-secre"),
        Some("Basic b3BzLXNlY3JldA=="),
        Some("ops-secret"),
        Some("Bearer"),
    ] {
        let r = ops.with_auth(auth).get(path).await;
        expect_error(&r, 401);
    }
    // Writes are refused without the token too, and change nothing.
    let r = ops
        .with_auth(None)
        .post(
            "/ops/ybx/agents/demo-agent/accounts/deposit",
            json!({"amount": 100}),
        )
        .await;
    expect_error(&r, 401);
    let r = ops.with_auth(Some("bearer ops-secret")).get(path).await;
    expect(&r, 200);
    let r = ops.get(path).await;
    assert_eq!(expect(&r, 200)["user"], "demo-agent");
    // Unknown paths are 404 (after authentication), wrong methods 405 — both JSON.
    expect_error(&ops.with_auth(None).get("/ops/nothing/here").await, 401);
    expect_error(&ops.get("/ops/nothing/here").await, 404);
    expect_error(&ops.get("/ops").await, 404);
    expect_error(&ops.get("/ops/ybx/agents/demo-agent/key").await, 405);
    expect_error(&ops.post(path, json!({})).await, 405);
    expect_error(&ops.post("/ops/tickets/123/explode", json!({})).await, 404);
    server.stop().await;

    // Without a configured token the API is off.
    let off = TestServer::start().await;
    let r = Ops::new(&off).get(path).await;
    assert_eq!(r.status, 404, "{}", r.text);
    off.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Agents
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn agents_are_shown_without_secrets_and_updated_at_once() {
    let (server, _dir) = start().await;
    let ops = Ops::new(&server);
    let path = "/ops/ybx/agents/demo-agent";
    let r = ops.get(path).await;
    let a = expect(&r, 200);
    assert_eq!(a["user"], "demo-agent");
    assert_eq!(a["partner"], "demo-agent");
    assert_eq!(a["name"], "示例旅行社");
    assert_eq!(a["enabled"], true);
    assert_eq!(a["allow_cash"], true);
    assert_eq!(a["allow_deposit"], true);
    assert_eq!(a["allow_rebate"], true);
    assert_eq!(a["allow_epay"], true);
    assert_eq!(a["daily_max"], 0);
    assert_eq!(a["products"], json!(["*"]));
    assert_eq!(a["mobile1"], PHONE);
    assert_eq!(a["responseaddr"], "");
    assert_eq!(a["sign_check"], "strict");
    assert_eq!(a["pay_password_set"], true);
    assert_eq!(a["key"]["version"], 1);
    assert_eq!(a["key"]["source"], "catalogue");
    for secret in [KEY, LOGIN_MD5, PAY_MD5, "6F9619FF"] {
        assert!(!r.text.contains(secret), "{secret} shown: {}", r.text);
    }
    expect_error(&ops.get("/ops/ybx/agents/nobody").await, 404);

    // Update several settings at once.
    let r = ops
        .patch(
            path,
            json!({
                "enabled": false,
                "allow_cash": false,
                "daily_max": 7,
                "products": [ADULT.to_ascii_lowercase()],
                "mobile2": "13700137000",
                "email": "ops@example.com",
                "sign_check": "OFF"
            }),
        )
        .await;
    let a = expect(&r, 200);
    assert_eq!(a["enabled"], false);
    assert_eq!(a["allow_cash"], false);
    assert_eq!(a["daily_max"], 7);
    assert_eq!(a["products"], json!([ADULT]));
    assert_eq!(a["mobile1"], PHONE);
    assert_eq!(a["mobile2"], "13700137000");
    assert_eq!(a["email"], "ops@example.com");
    assert_eq!(a["sign_check"], "off");
    assert_eq!(expect(&ops.get(path).await, 200), a);
    // Disabled: the 游宝星 pages refuse the agent at once.
    let demo = Agent::demo();
    let r = call(&server.url, &demo, "GetProducts.aspx", &[]).await;
    assert_ne!(r.code(), 0, "{}", r.text);
    assert!(r.msg().contains("禁用"), "{}", r.text);
    // Enabled again: only the product it may still sell is listed.
    let a = expect(&ops.patch(path, json!({"enabled": true})).await, 200);
    assert_eq!(a["enabled"], true);
    let r = call(&server.url, &demo, "GetProducts.aspx", &[]).await;
    assert_eq!(r.code(), 0, "{}", r.text);
    assert_eq!(r.tags("productid"), vec![ADULT]);

    // Invalid patches are 400 and change nothing.
    for bad in [
        json!({"daily_max": -1}),
        json!({"products": ["NOPE"]}),
        json!({"products": []}),
        json!({"sign_check": "maybe"}),
        json!({"mobile1": "call me"}),
        json!({"email": "not an address"}),
        json!({"enabled": "yes"}),
        json!({"data_key": "6F9619FF-8B86-D011-B42D-00C04FC964FF"}),
        json!({"login_md5": "00"}),
        json!([1, 2]),
    ] {
        expect_error(&ops.patch(path, bad.clone()).await, 400);
    }
    let r = ops
        .send(reqwest::Method::PATCH, path, Some("{not json".into()))
        .await;
    expect_error(&r, 400);
    let a = expect(&ops.get(path).await, 200);
    assert_eq!(a["daily_max"], 7);
    assert_eq!(a["products"], json!([ADULT]));
    assert_eq!(a["sign_check"], "off");
    expect_error(
        &ops.patch("/ops/ybx/agents/nobody", json!({"enabled": true}))
            .await,
        404,
    );
    // An empty patch changes nothing and answers the agent.
    assert_eq!(expect(&ops.patch(path, json!({})).await, 200), a);
    server.stop().await;
}

#[tokio::test]
async fn rotating_the_key_invalidates_the_old_one_at_once() {
    let (server, _dir) = start().await;
    let ops = Ops::new(&server);
    let old = Agent::demo();
    order_products(&server, &old, &format!("{ADULT}|1"), "").await;

    let r = ops.post("/ops/ybx/agents/demo-agent/key", json!({})).await;
    let k = expect(&r, 200);
    let key = k["key"].as_str().expect("key").to_string();
    assert_eq!(key.len(), 36);
    assert_eq!(key, key.to_ascii_uppercase());
    assert_eq!(
        key.split('-').map(str::len).collect::<Vec<_>>(),
        vec![8, 4, 4, 4, 12]
    );
    assert_ne!(key, KEY);
    assert_eq!(k["version"], 2);
    assert_eq!(k["user"], "demo-agent");

    // The old key fails at once (the password does not decrypt, the sign does not match).
    let r = call(&server.url, &old, "GetProducts.aspx", &[]).await;
    r.expect(-1, "用户名、密码 或 密钥 不正确；");
    let mut p = booking(&old, &format!("{ADULT}|1"));
    p.push(("senderid".into(), "OLD-KEY".into()));
    let r = call(&server.url, &old, "OrderProducts.aspx", &refs(&p)).await;
    assert_ne!(r.code(), 0, "{}", r.text);
    // The new key signs, encrypts and books.
    let new = Agent {
        key: key.clone(),
        ..Agent::demo()
    };
    let r = call(&server.url, &new, "GetProducts.aspx", &[]).await;
    assert_eq!(r.code(), 0, "{}", r.text);
    assert!(r.signed_by(&key));
    order_products(&server, &new, &format!("{ADULT}|1"), "NEW-KEY").await;

    // The agent shows the version, never the key.
    let r = ops.get("/ops/ybx/agents/demo-agent").await;
    let a = expect(&r, 200);
    assert_eq!(a["key"]["version"], 2);
    assert_eq!(a["key"]["source"], "rotated");
    assert_eq!(a["key"]["rotated_ms"], server.app.service.now_ms());
    assert!(!r.text.contains(&key), "{}", r.text);

    // A second rotation retires the second key.
    let k3 = expect(
        &ops.post("/ops/ybx/agents/demo-agent/key", json!({})).await,
        200,
    );
    assert_eq!(k3["version"], 3);
    let r = call(&server.url, &new, "GetProducts.aspx", &[]).await;
    r.expect(-1, "用户名、密码 或 密钥 不正确；");
    expect_error(
        &ops.post("/ops/ybx/agents/nobody/key", json!({})).await,
        404,
    );
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn recharges_and_debits_write_ledger_rows_and_never_overdraw() {
    let (server, _dir) = start().await;
    let ops = Ops::new(&server);
    let base = "/ops/ybx/agents/demo-agent";
    let v = expect(&ops.get(&format!("{base}/accounts")).await, 200);
    assert_eq!(
        v["accounts"],
        json!([
            {"account": "deposit", "balance": 10_000_000, "held": 0, "available": 10_000_000},
            {"account": "rebate", "balance": 1_000_000, "held": 0, "available": 1_000_000},
        ])
    );

    let r = ops
        .post(
            &format!("{base}/accounts/deposit"),
            json!({"amount": 50_000, "note": "bank transfer 42"}),
        )
        .await;
    let v = expect(&r, 200);
    assert_eq!(v["entry"]["kind"], "topup");
    assert_eq!(v["entry"]["amount"], 50_000);
    assert_eq!(v["entry"]["actor"], "operator");
    assert_eq!(v["entry"]["note"], "bank transfer 42");
    assert_eq!(v["entry"]["balance_after"], 10_050_000);
    assert_eq!(v["balance"]["available"], 10_050_000);
    let v = expect(
        &ops.post(
            &format!("{base}/accounts/rebate"),
            json!({"amount": -1_000}),
        )
        .await,
        200,
    );
    assert_eq!(v["entry"]["kind"], "debit");
    assert_eq!(v["entry"]["amount"], -1_000);
    assert_eq!(v["entry"]["note"], "operator debit");
    assert_eq!(v["balance"]["balance"], 999_000);

    // A held authorization (activate = 0) is not available for debits.
    order_and_pay(
        &server,
        &Agent::demo(),
        &format!("{ADULT}|2"),
        "240.00",
        "HOLD-1",
        &[("activate", "0")],
    )
    .await;
    let v = expect(&ops.get(&format!("{base}/accounts")).await, 200);
    assert_eq!(v["accounts"][0]["held"], 24_000);
    assert_eq!(v["accounts"][0]["available"], 10_026_000);
    let msg = expect_error(
        &ops.post(
            &format!("{base}/accounts/deposit"),
            json!({"amount": -10_026_001}),
        )
        .await,
        409,
    );
    assert!(msg.contains("insufficient"), "{msg}");
    let v = expect(&ops.get(&format!("{base}/accounts")).await, 200);
    assert_eq!(v["accounts"][0]["balance"], 10_050_000);
    let v = expect(
        &ops.post(
            &format!("{base}/accounts/deposit"),
            json!({"amount": -10_026_000, "note": "refund of the deposit"}),
        )
        .await,
        200,
    );
    assert_eq!(
        v["balance"],
        json!({"account": "deposit", "balance": 24_000, "held": 24_000, "available": 0})
    );

    // Malformed requests.
    for (path, body) in [
        (format!("{base}/accounts/deposit"), json!({"amount": 0})),
        (
            format!("{base}/accounts/deposit"),
            json!({"note": "no amount"}),
        ),
        (format!("{base}/accounts/deposit"), json!({"amount": "100"})),
        (format!("{base}/accounts/deposit"), json!({"amount": 1.5})),
        (
            format!("{base}/accounts/deposit"),
            json!({"amount": 1, "extra": 1}),
        ),
        (format!("{base}/accounts/cash"), json!({"amount": 100})),
        (
            format!("{base}/accounts/deposit"),
            json!({"amount": 1, "note": "x".repeat(201)}),
        ),
    ] {
        expect_error(&ops.post(&path, body).await, 400);
    }
    expect_error(
        &ops.post_raw(&format!("{base}/accounts/deposit"), "amount=1")
            .await,
        400,
    );
    expect_error(
        &ops.post(
            "/ops/ybx/agents/nobody/accounts/deposit",
            json!({"amount": 1}),
        )
        .await,
        404,
    );
    expect_error(&ops.get("/ops/ybx/agents/nobody/accounts").await, 404);

    // The ledger: the opening balance, the hold, the operator's rows — oldest first.
    let v = expect(
        &ops.get(&format!("{base}/ledger?account=deposit")).await,
        200,
    );
    assert_eq!(v["account"], "deposit");
    let rows: Vec<(String, i64, String)> = v["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap_or_default().to_string(),
                e["amount"].as_i64().unwrap_or_default(),
                e["actor"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("topup".to_string(), 10_000_000, "catalogue".to_string()),
            ("topup".to_string(), 50_000, "operator".to_string()),
            ("hold".to_string(), 0, "partner".to_string()),
            ("debit".to_string(), -10_026_000, "operator".to_string()),
        ]
    );
    let all = expect(&ops.get(&format!("{base}/ledger")).await, 200);
    assert_eq!(all["entries"].as_array().map(Vec::len), Some(6));
    assert!(
        all.as_object().is_some_and(|o| o.contains_key("account")),
        "{all}"
    );
    assert_eq!(all["account"], Value::Null);
    expect_error(&ops.get(&format!("{base}/ledger?account=cash")).await, 400);
    expect_error(&ops.get("/ops/ybx/agents/nobody/ledger").await, 404);
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Orders and tickets
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn counter_sale_gate_passage_and_desk_refund() {
    let (server, _dir) = start().await;
    with_callbacks(&server).await;
    let ops = Ops::new(&server);
    let now = server.app.service.now_ms();
    let number = order_products(
        &server,
        &Agent::demo(),
        &format!("{ADULT}|1|{UNLIMITED}|2"),
        "LY-2001",
    )
    .await;
    let v = expect(&ops.get(&format!("/ops/ybx/orders/{number}")).await, 200);
    assert_eq!(v["status"], "0");
    assert_eq!(v["state"], "booked");
    assert_eq!(v["number"], number);
    expect_error(&ops.get("/ops/ybx/orders/20261122999999999").await, 404);

    // Counter sale: 0 → X with QR tickets, paid in full at the counter.
    let r = ops
        .post(&format!("/ops/ybx/orders/{number}/counter-sale"), json!({}))
        .await;
    let v = expect(&r, 200);
    assert_eq!(v["status"], "X");
    assert_eq!(v["state"], "delivered_counter");
    assert_eq!(v["detail"]["pay_method"], "counter");
    assert_eq!(v["detail"]["paid"], 22_000);
    assert_eq!(v["detail"]["delivered_ms"], now);
    assert_eq!(v["expires_ms"], Value::Null);
    let tickets = v["tickets"].as_array().expect("tickets").clone();
    assert_eq!(tickets.len(), 2, "{}", r.text);
    assert!(tickets.iter().all(|t| t["status"] == 1 && t["medium"] == 2));
    let adult = tickets[0]["code"].as_str().expect("code").to_string();
    let unlimited = tickets[1]["code"].as_str().expect("code").to_string();
    assert_eq!(tickets[1]["price"], 10_000);
    assert_eq!(tickets[1]["person_count"], 2);
    // Only booked orders are sold at the counter.
    let msg = expect_error(
        &ops.post(&format!("/ops/ybx/orders/{number}/counter-sale"), json!({}))
            .await,
        409,
    );
    assert!(msg.contains("X"), "{msg}");
    expect_error(
        &ops.post("/ops/ybx/orders/20261122999999999/counter-sale", json!({}))
            .await,
        404,
    );
    let v = expect(&ops.get(&format!("/ops/tickets/{adult}")).await, 200);
    assert_eq!(v["order"], number);
    assert_eq!(v["ticket"]["status"], 1);

    // Printing: 1 → 3; a reprint changes nothing.
    let v = expect(
        &ops.post(&format!("/ops/tickets/{adult}/print"), json!({}))
            .await,
        200,
    );
    assert_eq!(v["ticket"]["status"], 3);
    assert_eq!(v["changed"], true);
    let v = expect(
        &ops.post(&format!("/ops/tickets/{adult}/print"), json!({}))
            .await,
        200,
    );
    assert_eq!(v["changed"], false);
    // Gate passage: 3 → 4; only the first passage is an event.
    let v = expect(
        &ops.post(
            &format!("/ops/tickets/{adult}/check"),
            json!({"gate": "G1"}),
        )
        .await,
        200,
    );
    assert_eq!(v["ticket"]["status"], 4);
    assert_eq!(v["changed"], true);
    assert_eq!(v["order_status"], "X");
    let v = expect(
        &ops.post(
            &format!("/ops/tickets/{adult}/check"),
            json!({"gate": "G2"}),
        )
        .await,
        200,
    );
    assert_eq!(v["changed"], false);
    assert_eq!(v["ticket"]["status"], 4);
    // A used ticket is neither refunded nor printed.
    expect_error(
        &ops.post(&format!("/ops/tickets/{adult}/refund"), json!({}))
            .await,
        409,
    );
    expect_error(
        &ops.post(&format!("/ops/tickets/{adult}/print"), json!({}))
            .await,
        409,
    );

    // Desk refund of the other ticket, on the eve of the visit: ¥20 a person.
    let ledger_before = server
        .app
        .store
        .ledger(partner_id(&server, "demo-agent"), None)
        .await
        .expect("ledger");
    server.clock.advance(chrono::Duration::hours(2));
    let refunded_ms = server.app.service.now_ms();
    let v = expect(
        &ops.post(&format!("/ops/tickets/{unlimited}/refund"), json!({}))
            .await,
        200,
    );
    assert_eq!(v["ticket"]["status"], 2);
    assert_eq!(
        v["refund"],
        json!({"fee": 4_000, "amount": 6_000, "mode": 1, "account": null, "refunded_ms": refunded_ms, "order_refunded": false})
    );
    assert_eq!(v["order_status"], "X");
    // A refunded ticket cannot pass the gate, be printed or be refunded again.
    for action in ["check", "print", "refund"] {
        expect_error(
            &ops.post(
                &format!("/ops/tickets/{unlimited}/{action}"),
                json!({"gate": "G1"}),
            )
            .await,
            409,
        );
    }
    let v = expect(&ops.get(&format!("/ops/ybx/orders/{number}")).await, 200);
    assert_eq!(v["status"], "X");
    assert_eq!(v["detail"]["fees"], 4_000);
    assert_eq!(
        v["tickets"]
            .as_array()
            .expect("tickets")
            .iter()
            .map(|t| t["status"].as_i64().unwrap_or_default())
            .collect::<Vec<_>>(),
        vec![4, 2]
    );
    // Cash refunds touch no account: the agent's ledger is exactly what it was before.
    let ledger = server
        .app
        .store
        .ledger(partner_id(&server, "demo-agent"), None)
        .await
        .expect("ledger");
    assert_eq!(ledger, ledger_before);

    // The callbacks, in order, as the store keeps them and as the API shows them.
    let events = outbox_kinds(&server, &number).await;
    let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        vec![
            "order_changed",
            "order_changed",
            "ticket_checked",
            "ticket_refunded"
        ]
    );
    assert_eq!(events[1].1, json!({"state": "delivered_counter"}));
    assert_eq!(
        events[2].1,
        json!({"ticket": adult, "checked_ms": now, "station": "互联网售票", "gate": "G1"})
    );
    assert_eq!(
        events[3].1,
        json!({"ticket": unlimited, "fee": 4_000, "amount": 6_000, "refunded_ms": refunded_ms, "mode": 1})
    );
    let v = expect(
        &ops.get(&format!("/ops/ybx/outbox?order={number}")).await,
        200,
    );
    let rows = v.as_array().expect("rows");
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[3]["event"]["kind"], "ticket_refunded");
    assert!(rows.iter().all(|r| r["state"].is_string()), "{v}");
    let v = expect(&ops.get("/ops/ybx/outbox?user=demo-agent").await, 200);
    assert_eq!(v.as_array().map(Vec::len), Some(4));
    expect_error(
        &ops.get("/ops/ybx/outbox?order=20261122999999999").await,
        404,
    );
    expect_error(&ops.get("/ops/ybx/outbox?user=nobody").await, 404);

    // The messages: booking, delivery at the counter, refund.
    let v = expect(
        &ops.get(&format!("/ops/messages?order={number}")).await,
        200,
    );
    let kinds: Vec<&str> = v
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["message"]["kind"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(kinds, vec!["booking", "delivery", "refund"]);
    assert!(v[2]["message"]["text"]
        .as_str()
        .unwrap_or_default()
        .contains(&unlimited));
    let v = expect(&ops.get(&format!("/ops/messages?phone={PHONE}")).await, 200);
    assert_eq!(v.as_array().map(Vec::len), Some(3));
    let v = expect(&ops.get("/ops/messages?phone=10000000000").await, 200);
    assert_eq!(v, json!([]));
    expect_error(&ops.get("/ops/messages?order=nope").await, 404);

    // Unknown tickets and malformed passages.
    for action in ["print", "check", "refund"] {
        expect_error(
            &ops.post(
                &format!("/ops/tickets/99999999999999999999/{action}"),
                json!({}),
            )
            .await,
            404,
        );
    }
    expect_error(&ops.get("/ops/tickets/99999999999999999999").await, 404);
    expect_error(
        &ops.post_raw(&format!("/ops/tickets/{adult}/check"), "{gate")
            .await,
        400,
    );
    expect_error(
        &ops.post(
            &format!("/ops/tickets/{adult}/check"),
            json!({"gate": "G".repeat(33)}),
        )
        .await,
        400,
    );
    expect_error(
        &ops.post(&format!("/ops/tickets/{adult}/check"), json!({"door": "1"}))
            .await,
        400,
    );
    server.stop().await;
}

#[tokio::test]
async fn refunding_every_ticket_of_a_deposit_order_refunds_it_to_the_account() {
    let (server, _dir) = start().await;
    with_callbacks(&server).await;
    let ops = Ops::new(&server);
    let number = order_and_pay(
        &server,
        &Agent::demo(),
        &format!("{ADULT}|2"),
        "240.00",
        "YDJ-7001",
        &[],
    )
    .await;
    let v = expect(&ops.get(&format!("/ops/ybx/orders/{number}")).await, 200);
    assert_eq!(v["status"], "3");
    let ticket = v["tickets"][0]["code"].as_str().expect("code").to_string();
    assert_eq!(v["tickets"].as_array().map(Vec::len), Some(1));
    // A delivered order is not sold at the counter.
    expect_error(
        &ops.post(&format!("/ops/ybx/orders/{number}/counter-sale"), json!({}))
            .await,
        409,
    );
    assert_eq!(used(&server, ADULT, 0).await, 2);
    assert_eq!(used(&server, "@line/01", 1).await, 2);
    let before = expect(&ops.get("/ops/ybx/agents/demo-agent/accounts").await, 200);
    assert_eq!(before["accounts"][0]["balance"], 10_000_000 - 24_000);

    // Two days ahead (the clock set back): no fee; the whole price goes back to the deposit
    // account.
    server
        .clock
        .set(boxoffice_server::testing::test_start() - chrono::Duration::days(2));
    let refunded_ms = server.app.service.now_ms();
    let v = expect(
        &ops.post(&format!("/ops/ybx/tickets/{ticket}/refund"), json!({}))
            .await,
        200,
    );
    assert_eq!(
        v["refund"],
        json!({"fee": 0, "amount": 24_000, "mode": 2, "account": "deposit", "refunded_ms": refunded_ms, "order_refunded": true})
    );
    assert_eq!(v["order_status"], "B");
    let after = expect(&ops.get("/ops/ybx/agents/demo-agent/accounts").await, 200);
    assert_eq!(after["accounts"][0]["balance"], 10_000_000);
    let ledger = expect(
        &ops.get("/ops/ybx/agents/demo-agent/ledger?account=deposit")
            .await,
        200,
    );
    let last = ledger["entries"]
        .as_array()
        .and_then(|e| e.last())
        .cloned()
        .expect("a ledger row");
    assert_eq!(last["kind"], "refund");
    assert_eq!(last["amount"], 24_000);
    assert_eq!(last["actor"], "operator");
    assert_eq!(last["order_id"], order_id(&server, &number).await);
    // The order is refunded and its quota units are released.
    let v = expect(&ops.get(&format!("/ops/ybx/orders/{number}")).await, 200);
    assert_eq!(v["status"], "B");
    assert_eq!(v["state"], "refunded");
    assert_eq!(used(&server, ADULT, 0).await, 0);
    assert_eq!(used(&server, "@line/01", 1).await, 0);
    assert_eq!(used(&server, "@venue", 0).await, 0);
    let events = outbox_kinds(&server, &number).await;
    let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        // The state change first, then the ticket event.
        vec![
            "order_changed",
            "order_changed",
            "order_changed",
            "order_changed",
            "ticket_refunded"
        ]
    );
    assert_eq!(events[3].1, json!({"state": "refunded"}));
    assert_eq!(
        events[4].1,
        json!({"ticket": ticket, "fee": 0, "amount": 24_000, "refunded_ms": refunded_ms, "mode": 2})
    );
    expect_error(
        &ops.post(&format!("/ops/tickets/{ticket}/refund"), json!({}))
            .await,
        409,
    );
    server.stop().await;
}

#[tokio::test]
async fn fees_follow_the_lead_to_the_visit_date_for_rebate_orders() {
    let (server, _dir) = start().await;
    let ops = Ops::new(&server);
    // OrderAndPayWithFK (rebate), two adults → one ticket of ¥240.
    let a = Agent::demo();
    let mut p = booking(&a, &format!("{ADULT}|2"));
    p.push(("SmsCode".into(), a.pay("123456")));
    p.push(("money".into(), "240.00".into()));
    p.push(("smsModel".into(), "0".into()));
    p.push(("senderid".into(), a.enc("FK-1")));
    let r = call(&server.url, &a, "OrderAndPayWithFK.aspx", &refs(&p)).await;
    r.expect(0, "");
    let number = r.tag("order_id").expect("order_id");
    let v = expect(&ops.get(&format!("/ops/ybx/orders/{number}")).await, 200);
    assert_eq!(v["status"], "D");
    let ticket = v["tickets"][0]["code"].as_str().expect("code").to_string();
    // On the visit day: ¥50 a person.
    server.clock.advance(chrono::Duration::days(1));
    let v = expect(
        &ops.post(&format!("/ops/tickets/{ticket}/refund"), json!({}))
            .await,
        200,
    );
    assert_eq!(v["refund"]["fee"], 10_000);
    assert_eq!(v["refund"]["amount"], 14_000);
    assert_eq!(v["refund"]["account"], "rebate");
    assert_eq!(v["order_status"], "B");
    let ledger = server
        .app
        .store
        .ledger(partner_id(&server, "demo-agent"), Some("rebate"))
        .await
        .expect("ledger");
    let last = ledger.last().expect("row");
    assert_eq!((last.kind.as_str(), last.amount), ("refund", 14_000));
    assert_eq!(last.balance_after, 1_000_000 - 24_000 + 14_000);
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

fn boxoffice() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_boxoffice"));
    c.env("RUST_LOG", "warn");
    c
}

/// Runs the command line on a database; returns (success, stdout, stderr).
fn cli(db: &str, args: &[&str]) -> (bool, String, String) {
    let out = boxoffice()
        .args(args)
        .args(["--database", db])
        .output()
        .expect("run boxoffice");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[track_caller]
fn cli_json(db: &str, args: &[&str]) -> Value {
    let (ok, out, err) = cli(db, args);
    assert!(ok, "boxoffice {args:?} failed: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

#[tokio::test]
async fn the_command_line_runs_the_same_actions() {
    let (server, _dir) = start().await;
    let db = server.database.clone();
    let ops = Ops::new(&server);

    // A payment received outside the gateway, recorded from the command line.
    let number = order_products(&server, &Agent::demo(), &format!("{ADULT}|1"), "").await;
    let v = cli_json(
        &db,
        &["ybx", "payment", &number, "receipt", "--channel", "03"],
    );
    assert_eq!(v["status"], "3");
    assert_eq!(v["detail"]["pay_channel"], "03");
    let (ok, _, err) = cli(&db, &["ybx", "payment", &number, "approve-refund"]);
    assert!(!ok && err.contains("does not apply"), "{err}");

    // Recharge and debit, then the ledger.
    let v = cli_json(
        &db,
        &[
            "ybx",
            "recharge",
            "--user",
            "demo-agent",
            "--account",
            "deposit",
            "--amount",
            "-500",
            "--note",
            "cli debit",
        ],
    );
    assert_eq!(v["entry"]["kind"], "debit");
    assert_eq!(v["entry"]["actor"], "operator");
    assert_eq!(v["balance"]["balance"], 10_000_000 - 500);
    let v = cli_json(
        &db,
        &[
            "ybx",
            "recharge",
            "--user",
            "demo-agent",
            "--account",
            "rebate",
            "--amount",
            "700",
        ],
    );
    assert_eq!(v["entry"]["kind"], "topup");
    let v = cli_json(
        &db,
        &[
            "ybx",
            "ledger",
            "--user",
            "demo-agent",
            "--account",
            "deposit",
        ],
    );
    let last = v["entries"]
        .as_array()
        .and_then(|e| e.last())
        .cloned()
        .expect("row");
    assert_eq!(last["note"], "cli debit");
    assert_eq!(v["accounts"][0]["balance"], 10_000_000 - 500);
    // The HTTP API sees the same rows.
    let h = expect(
        &ops.get("/ops/ybx/agents/demo-agent/ledger?account=deposit")
            .await,
        200,
    );
    assert_eq!(h["entries"], v["entries"]);
    // Refusals exit non-zero with the reason.
    let (ok, _, err) = cli(
        &db,
        &[
            "ybx",
            "recharge",
            "--user",
            "demo-agent",
            "--account",
            "deposit",
            "--amount",
            "-999999999",
        ],
    );
    assert!(!ok);
    assert!(err.contains("insufficient") && err.contains("409"), "{err}");
    let (ok, _, err) = cli(&db, &["ybx", "agent", "show", "--user", "nobody"]);
    assert!(!ok);
    assert!(err.contains("404"), "{err}");

    // Agent show and update; the key is never printed by show.
    let (ok, out, err) = cli(&db, &["ybx", "agent", "show", "--user", "demo-agent"]);
    assert!(ok, "{err}");
    assert!(!out.contains(KEY) && !out.contains(LOGIN_MD5), "{out}");
    let v = cli_json(
        &db,
        &[
            "ybx",
            "agent",
            "update",
            "--user",
            "demo-agent",
            "--daily-max",
            "9",
            "--allow-epay",
            "false",
        ],
    );
    assert_eq!(v["daily_max"], 9);
    assert_eq!(v["allow_epay"], false);

    // Ticket printing on an order delivered over HTTP.
    let number = order_and_pay(
        &server,
        &Agent::demo(),
        &format!("{ADULT}|1"),
        "120.00",
        "CLI-1",
        &[],
    )
    .await;
    let order = expect(&ops.get(&format!("/ops/ybx/orders/{number}")).await, 200);
    let code = order["tickets"][0]["code"]
        .as_str()
        .expect("code")
        .to_string();
    let v = cli_json(&db, &["ybx", "ticket", "print", &code]);
    assert_eq!(v["ticket"]["status"], 3);
    let v = cli_json(&db, &["ybx", "order", &number]);
    assert_eq!(v["tickets"][0]["status"], 3);
    let v = cli_json(&db, &["messages", "--phone", PHONE]);
    // The receipt's booking and delivery messages, then this order's delivery message.
    assert_eq!(v.as_array().map(Vec::len), Some(3));
    let v = cli_json(&db, &["messages", "--order", &number]);
    assert_eq!(v.as_array().map(Vec::len), Some(1));

    // A key rotated from the command line: the server drops the old key once its agent cache
    // (1 s) has expired.
    let v = cli_json(&db, &["ybx", "agent", "rotate-key", "--user", "demo-agent"]);
    let key = v["key"].as_str().expect("key").to_string();
    assert_eq!(key.len(), 36);
    server.clock.advance(chrono::Duration::seconds(2));
    let r = call(&server.url, &Agent::demo(), "GetProducts.aspx", &[]).await;
    r.expect(-1, "用户名、密码 或 密钥 不正确；");
    let new = Agent {
        key,
        ..Agent::demo()
    };
    let r = call(&server.url, &new, "GetProducts.aspx", &[]).await;
    assert_eq!(r.code(), 0, "{}", r.text);
    server.stop().await;
}

#[tokio::test]
async fn racing_processes_refund_or_pass_a_ticket_once() {
    let (server, _dir) = start().await;
    let db = server.database.clone();
    let ops = Ops::new(&server);
    let number = order_and_pay(
        &server,
        &Agent::demo(),
        &format!("{ADULT}|1|{UNLIMITED}|1"),
        "170.00",
        "RACE-1",
        &[],
    )
    .await;
    let order = expect(&ops.get(&format!("/ops/ybx/orders/{number}")).await, 200);
    let refund = order["tickets"][0]["code"]
        .as_str()
        .expect("code")
        .to_string();
    let check = order["tickets"][1]["code"]
        .as_str()
        .expect("code")
        .to_string();
    // Separate processes (each its own store connection) plus this server, at the same time.
    let spawn = |args: Vec<String>| {
        boxoffice()
            .args(&args)
            .args(["--database", &db])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn boxoffice")
    };
    let mut children = Vec::new();
    for _ in 0..4 {
        children.push(spawn(vec![
            "ybx".into(),
            "ticket".into(),
            "refund".into(),
            refund.clone(),
        ]));
        children.push(spawn(vec![
            "ybx".into(),
            "ticket".into(),
            "check".into(),
            check.clone(),
            "--gate".into(),
            "G7".into(),
        ]));
    }
    let (refund_path, check_path) = (
        format!("/ops/tickets/{refund}/refund"),
        format!("/ops/tickets/{check}/check"),
    );
    let http_refund = ops.post(&refund_path, json!({}));
    let http_check = ops.post(&check_path, json!({"gate": "G8"}));
    let (r1, r2) = tokio::join!(http_refund, http_check);
    assert!(r1.status == 200 || r1.status == 409, "{}", r1.text);
    assert_eq!(r2.status, 200, "{}", r2.text);
    let mut refunds_ok = usize::from(r1.status == 200);
    for child in children {
        let out = child.wait_with_output().expect("wait");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if text.contains("\"refund\"") {
            assert!(out.status.success());
            refunds_ok += 1;
        }
    }
    assert_eq!(refunds_ok, 1, "exactly one refund wins");
    let ledger = server
        .app
        .store
        .ledger(partner_id(&server, "demo-agent"), Some("deposit"))
        .await
        .expect("ledger");
    assert!(
        ledger.iter().filter(|e| e.kind == "refund").count() <= 1,
        "{ledger:?}"
    );
    let events = outbox_kinds(&server, &number).await;
    let count = |kind: &str| events.iter().filter(|(k, _)| k == kind).count();
    assert_eq!(count("ticket_refunded"), 1, "{events:?}");
    assert_eq!(count("ticket_checked"), 1, "{events:?}");
    let v = expect(&ops.get(&format!("/ops/ybx/orders/{number}")).await, 200);
    assert_eq!(v["tickets"][0]["status"], 2);
    assert_eq!(v["tickets"][1]["status"], 4);
    assert_eq!(v["status"], "3");
    server.stop().await;
}

/// Confirms a started instant payment on the simulator page.
async fn pay_instantly(server: &TestServer, a: &Agent, number: &str) {
    let r = call(
        &server.url,
        a,
        "BeginToPay.aspx",
        &[("Order_id", number), ("Paychannelid", "01")],
    )
    .await;
    r.expect(0, "");
    let url = format!("{}{}", server.url, r.tag("payurl").expect("payurl"));
    let page = reqwest::Client::new()
        .post(url)
        .form(&[("action", "confirm")])
        .send()
        .await
        .expect("simulator")
        .text()
        .await
        .expect("page");
    assert!(page.contains("success"), "{page}");
}

#[tokio::test]
async fn payments_are_approved_or_rejected_and_refund_applications_decided() {
    let (server, _dir) = start().await;
    let ops = Ops::new(&server);
    // A supplier that approves instant payments by hand.
    server
        .app
        .apply_catalog(
            r#"
[[venue]]
code = "JQ05"
name = "审核景区"
kind = "scenic_area"
links = { ybx = "JQ05" }
[venue.scenic]
epay_manual_approval = true
epay_channels = ["01"]
[[venue.product]]
id = "5A000000-0001-4000-8000-000000000001"
name = "门票"
price = 6000
inventory = true
daily_max = 100

[[partner]]
code = "audit-agent"
name = "审核代理"
venues = ["JQ05"]
[[partner.credential]]
protocol = "ybx"
key = "audit-agent"
secret = "55555555-6666-7777-8888-999999999999"
options = { login_md5 = "A540459139867E3EB98F0686EE199B2A", allow_epay = true }
"#,
        )
        .await
        .expect("catalogue");
    let m = Agent {
        user: "audit-agent".into(),
        key: "55555555-6666-7777-8888-999999999999".into(),
        password: "demo-pass".into(),
    };
    let book = |list: &'static str| {
        let server = &server;
        let m = m.clone();
        async move {
            let p = vec![
                ("Order_list".to_string(), list.to_string()),
                ("Mobile".into(), m.enc("13800138000")),
                ("ID".into(), m.enc("430103198001010011")),
                ("SXRQ".into(), m.enc("20261123")),
            ];
            let r = call(&server.url, &m, "OrderProducts.aspx", &refs(&p)).await;
            r.expect(0, "");
            r.tag("orderid").expect("orderid")
        }
    };
    let quota = || async {
        let venue = server.app.service.catalog().venue("JQ05").expect("JQ05").id;
        server
            .app
            .service
            .quota_used(&boxoffice_core::store::QuotaKey {
                venue_id: venue,
                product: "5A000000-0001-4000-8000-000000000001".into(),
                date: "2026-11-23".into(),
                segment: 0,
            })
            .await
            .expect("quota")
    };
    // Paid, awaiting approval (5); approved: paid (6) and delivered (3).
    let approved = book("5A000000-0001-4000-8000-000000000001|2").await;
    pay_instantly(&server, &m, &approved).await;
    // Paid: the payment time limit (30 minutes for an agent without pay-at-counter rights)
    // no longer applies.
    server.clock.advance(chrono::Duration::minutes(31));
    server.app.service.sweep_visits().await.expect("sweep");
    let v = expect(&ops.get(&format!("/ops/ybx/orders/{approved}")).await, 200);
    assert_eq!(v["status"], "5");
    let v = expect(
        &ops.post(
            &format!("/ops/ybx/orders/{approved}/approve-payment"),
            json!({}),
        )
        .await,
        200,
    );
    assert_eq!(v["status"], "3");
    assert_eq!(v["tickets"].as_array().map(Vec::len), Some(1));
    expect_error(
        &ops.post(
            &format!("/ops/ybx/orders/{approved}/approve-payment"),
            json!({}),
        )
        .await,
        409,
    );
    // Rejected (9): the money is due back and the units are free again.
    let rejected = book("5A000000-0001-4000-8000-000000000001|3").await;
    pay_instantly(&server, &m, &rejected).await;
    assert_eq!(quota().await, 5);
    let v = expect(
        &ops.post(
            &format!("/ops/ybx/orders/{rejected}/reject-payment"),
            json!({}),
        )
        .await,
        200,
    );
    assert_eq!(v["status"], "9");
    assert_eq!(v["detail"]["extra"]["refund_amount"], 18_000);
    assert_eq!(quota().await, 2);

    // A payment recorded by hand on the demo supplier pays and delivers the order.
    let a = Agent::demo();
    let manual = order_products(&server, &a, &format!("{ADULT}|1"), "").await;
    expect_error(
        &ops.post(
            &format!("/ops/ybx/orders/{manual}/receipt"),
            json!({"channel": "09"}),
        )
        .await,
        400,
    );
    let v = expect(
        &ops.post(
            &format!("/ops/ybx/orders/{manual}/receipt"),
            json!({"channel": "02"}),
        )
        .await,
        200,
    );
    assert_eq!(v["status"], "3");
    assert_eq!(v["detail"]["pay_channel"], "02");

    // Refund applications: money arriving for an order closed by its payment time limit.
    let b = Agent::demo2();
    let late = |n: &'static str| {
        let server = &server;
        let b = b.clone();
        async move {
            let number = order_products(server, &b, &format!("{UNLIMITED}|1"), n).await;
            let r = call(
                &server.url,
                &b,
                "BeginToPay.aspx",
                &[("Order_id", &number), ("Paychannelid", "01")],
            )
            .await;
            (
                number,
                format!("{}{}", server.url, r.tag("payurl").expect("payurl")),
            )
        }
    };
    let (first, url1) = late("").await;
    let (second, url2) = late("").await;
    server.clock.advance(chrono::Duration::minutes(31));
    server.app.service.sweep_visits().await.expect("sweep");
    for url in [&url1, &url2] {
        reqwest::Client::new()
            .post(url)
            .form(&[("action", "confirm")])
            .send()
            .await
            .expect("simulator");
    }
    for n in [&first, &second] {
        let v = expect(&ops.get(&format!("/ops/ybx/orders/{n}")).await, 200);
        assert_eq!(v["status"], "7");
    }
    let v = expect(
        &ops.post(
            &format!("/ops/ybx/orders/{first}/approve-refund"),
            json!({}),
        )
        .await,
        200,
    );
    assert_eq!(v["status"], "8");
    let v = expect(
        &ops.post(
            &format!("/ops/ybx/orders/{first}/complete-refund"),
            json!({}),
        )
        .await,
        200,
    );
    assert_eq!(v["status"], "B");
    let v = expect(
        &ops.post(
            &format!("/ops/ybx/orders/{second}/reject-refund"),
            json!({}),
        )
        .await,
        200,
    );
    assert_eq!(v["status"], "A");
    expect_error(
        &ops.post(
            &format!("/ops/ybx/orders/{second}/complete-refund"),
            json!({}),
        )
        .await,
        409,
    );
    expect_error(
        &ops.post(&format!("/ops/ybx/orders/{second}/launder"), json!({}))
            .await,
        404,
    );
    expect_error(
        &ops.post(
            "/ops/ybx/orders/202611229999999999/approve-refund",
            json!({}),
        )
        .await,
        404,
    );
    server.stop().await;
}

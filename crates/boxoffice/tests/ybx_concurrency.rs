//! 游宝星 under concurrency, over HTTP against two server processes sharing one database: many
//! agents racing for the last units of a day quota and of time segments sell exactly the
//! capacity, and racing authorizations never take an agent's deposit below zero.

mod common;
use boxoffice_core::store::QuotaKey;
use common::ybx::*;
use common::*;
use std::sync::Arc;

const AGENTS: usize = 16;
const DAY: &str = "9B000000-0001-4000-8000-000000000001";
const SEG: &str = "9B000000-0002-4000-8000-000000000002";

fn agent_key(i: usize) -> String {
    format!("AAAAAAAA-0000-4000-8000-{i:012}")
}

/// A scenic area with a 10-unit product, a line of three 3-unit segments, and 16 agents with a
/// deposit of ¥500.00 each.
fn catalogue() -> String {
    let mut t = String::from(
        r#"
[[venue]]
code = "JQ09"
name = "并发景区"
kind = "scenic_area"
links = { ybx = "JQ09" }

[venue.scenic]
segmented = true
remote_activation = 1
activate_on_payment = true

[[venue.line]]
code = "01"
name = "线路"
segment = [
  { index = 1, start = "08:00", end = "10:00", capacity = 3 },
  { index = 2, start = "10:00", end = "12:00", capacity = 3 },
  { index = 3, start = "12:00", end = "14:00", capacity = 3 },
]

[[venue.line]]
code = "02"
name = "全天线路"
segment = [{ index = 1, start = "08:00", end = "17:00", capacity = 1000 }]

[[venue.product]]
id = "9B000000-0001-4000-8000-000000000001"
name = "限量票"
price = 12000
inventory = true
daily_max = 10
lines = ["02"]

[[venue.product]]
id = "9B000000-0002-4000-8000-000000000002"
name = "时段票"
price = 5000
lines = ["01"]
"#,
    );
    for i in 0..AGENTS {
        t.push_str(&format!(
            r#"
[[partner]]
code = "race-{i}"
name = "并发代理{i}"
venues = ["JQ09"]
accounts = {{ deposit = 50000 }}

[[partner.credential]]
protocol = "ybx"
key = "race-{i}"
secret = "{}"
options = {{ login_md5 = "A540459139867E3EB98F0686EE199B2A", pay_md5 = "E10ADC3949BA59ABBE56E057F20F883E", allow_deposit = true }}
"#,
            agent_key(i)
        ));
    }
    t
}

fn agent(i: usize) -> Agent {
    Agent {
        user: format!("race-{i}"),
        key: agent_key(i),
        password: "demo-pass".into(),
    }
}

fn order(
    a: &Agent,
    product: &str,
    qty: i64,
    price: i64,
    segment: &str,
    xcddh: &str,
) -> Vec<(String, String)> {
    vec![
        ("Order_list".into(), format!("{product}|{qty}")),
        ("mobile".into(), a.enc("13800138000")),
        ("ID".into(), a.enc("430103198001010011")),
        ("SXRQ".into(), a.enc("20261123")),
        ("timespanindex".into(), segment.into()),
        ("SmsCode".into(), a.pay("123456")),
        ("money".into(), format!("{}.00", qty * price / 100)),
        ("smsModel".into(), "A".into()),
        ("XCDDH".into(), a.enc(xcddh)),
    ]
}

async fn two_servers() -> (TestServer, TestServer, Option<tempfile::TempDir>) {
    let (db, dir) = boxoffice_server::testing::fresh_database(TestStore::from_env()).await;
    let one = TestServer::start_on(&db, |_| {}).await;
    one.app
        .apply_catalog(&catalogue())
        .await
        .expect("catalogue");
    let two = TestServer::start_on(&db, |_| {}).await;
    two.app
        .apply_catalog(&catalogue())
        .await
        .expect("catalogue");
    (one, two, dir)
}

async fn used(server: &TestServer, product: &str, segment: i32) -> i64 {
    let venue = server.app.service.catalog().venue("JQ09").expect("JQ09").id;
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

/// Sends `n` bookings (alternating servers, `AGENTS` agents) concurrently; returns the answers.
async fn race(
    urls: [String; 2],
    n: usize,
    make: impl Fn(usize, &Agent) -> Vec<(String, String)>,
) -> Vec<XmlReply> {
    let urls = Arc::new(urls);
    let mut tasks = Vec::new();
    for i in 0..n {
        let a = agent(i % AGENTS);
        let params = make(i, &a);
        let urls = urls.clone();
        tasks.push(tokio::spawn(async move {
            let refs: Vec<(&str, &str)> = params
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            call(&urls[i % 2], &a, "OrderAndPayWithYDJ.aspx", &refs).await
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_agents_sell_exactly_a_day_quota() {
    let (one, two, _dir) = two_servers().await;
    let answers = race([one.url.clone(), two.url.clone()], 64, |i, a| {
        order(a, DAY, 1, 12000, "-1", &format!("DAY-{i}"))
    })
    .await;
    let won = answers.iter().filter(|r| r.code() == 0).count();
    for r in answers.iter().filter(|r| r.code() != 0) {
        r.expect(-10361, "已达到或接近最大单日预定限制，");
    }
    assert_eq!(won, 10, "exactly the day quota is sold");
    assert_eq!(used(&one, DAY, 0).await, 10);
    one.stop().await;
    two.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_agents_fill_the_segments_exactly() {
    let (one, two, _dir) = two_servers().await;
    // 24 bookings of one person for the earliest segment with room: 9 places in three segments.
    let answers = race([one.url.clone(), two.url.clone()], 24, |i, a| {
        order(a, SEG, 1, 5000, "-1", &format!("SEG-{i}"))
    })
    .await;
    let won = answers.iter().filter(|r| r.code() == 0).count();
    for r in answers.iter().filter(|r| r.code() != 0) {
        r.expect(-1, "时段余量不足，预定失败。");
    }
    assert_eq!(won, 9);
    for s in 1..=3 {
        assert_eq!(used(&one, "@line/01", s).await, 3, "segment {s}");
    }
    // An explicit segment that is full is refused too.
    let a = agent(0);
    let p = order(&a, SEG, 1, 5000, "2", "SEG-LATE");
    let refs: Vec<(&str, &str)> = p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    call(&two.url, &a, "OrderAndPayWithYDJ.aspx", &refs)
        .await
        .expect(-1, "时段余量不足，预定失败。");
    one.stop().await;
    two.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_authorizations_never_overdraw_a_deposit() {
    let (one, two, _dir) = two_servers().await;
    // One agent, ¥500.00 of deposit, 12 concurrent bookings of ¥120.00: 4 fit.
    let urls = Arc::new([one.url.clone(), two.url.clone()]);
    let mut tasks = Vec::new();
    for i in 0..12 {
        let a = agent(3);
        let urls = urls.clone();
        tasks.push(tokio::spawn(async move {
            let p = order(&a, DAY, 1, 12000, "-1", &format!("MONEY-{i}"));
            let refs: Vec<(&str, &str)> = p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            call(&urls[i % 2], &a, "OrderAndPayWithYDJ.aspx", &refs).await
        }));
    }
    let mut won = 0;
    for t in tasks {
        let r = t.await.expect("task");
        if r.code() == 0 {
            won += 1;
        } else {
            r.expect(-2097, "预订金余额不足以完成授权。");
        }
    }
    assert_eq!(won, 4);
    let partner = one
        .app
        .service
        .catalog()
        .partner_by_credential("ybx", "race-3")
        .expect("agent")
        .id;
    let store = one.app.service.store().clone();
    let acc = store.accounts(partner).await.expect("accounts");
    assert_eq!(acc[0].balance, 50_000 - 4 * 12_000);
    let ledger = store
        .ledger(partner, Some("deposit"))
        .await
        .expect("ledger");
    assert_eq!(ledger.len(), 5, "the opening balance and four debits");
    // Every row's balance follows from the previous one.
    let mut balance = 0;
    for e in &ledger {
        balance += e.amount;
        assert_eq!(e.balance_after, balance);
        assert!(e.balance_after >= 0);
    }
    // The refused bookings gave their quota units back: 4 sold.
    assert_eq!(used(&one, DAY, 0).await, 4);
    one.stop().await;
    two.stop().await;
}

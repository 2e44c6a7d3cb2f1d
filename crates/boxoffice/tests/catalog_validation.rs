//! The catalogue file as an operator and partners meet it: `boxoffice catalog apply` refuses a
//! bad file with the key path on stderr and a non-zero exit, writing nothing; the example of
//! `docs/catalog.md` is applied as written and served; and a partner granted all venues is
//! offered, through each protocol, only the venues that protocol sells.

mod common;

use boxoffice_core::catalog::VenueKind;
use boxoffice_core::clock::ManualClock;
use boxoffice_server::config::Config;
use boxoffice_server::testing::{fresh_database, test_start};
use boxoffice_server::App;
use common::ybx::{call, Agent, ADULT, GROUP, KEY, NO_MAX, REAL_NAME, UNLIMITED};
use common::{yueke_call_as, Client, TestServer, TestStore, ODATA};
use serde_json::{json, Value};
use std::process::Command;
use std::sync::Arc;

/// A small valid catalogue: a cinema, a scenic area, a Vista partner and a 游宝星 agent.
const GOOD: &str = r#"
[[venue]]
code = "C1"
name = "Cinema"
[[venue.screen]]
number = 1
name = "Hall 1"
[[venue.screen.area]]
number = 1
category = "STD"
rows = ["B | 2 1", "A | 2 1"]
[[venue.film]]
code = "F1"
title = "Film"
[[venue.ticket_type]]
code = "T1"
description = "Adult"
[[venue.session]]
code = "S1"
screen = 1
film = "F1"
start = "today+1 10:50"
prices = [{ ticket = "T1", area = "STD", price = 5000 }]

[[venue]]
code = "P1"
name = "Park"
kind = "scenic_area"
[[venue.product]]
id = "ADULT"
name = "Adult"
price = 12000

[[partner]]
code = "v"
name = "Vista partner"
[[partner.credential]]
protocol = "vista"
key = "TOKEN-V"

[[partner]]
code = "a"
name = "Agent"
[[partner.credential]]
protocol = "ybx"
key = "agent-a"
secret = "6F9619FF-8B86-D011-B42D-00C04FC964FF"
options = { login_md5 = "A540459139867E3EB98F0686EE199B2A", products = ["ADULT"] }
"#;

/// Runs `boxoffice catalog apply` on a catalogue text; returns (success, stdout, stderr).
fn apply(database: &str, text: &str) -> (bool, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("catalog.toml");
    std::fs::write(&file, text).expect("write catalogue");
    let out = Command::new(env!("CARGO_BIN_EXE_boxoffice"))
        .env("RUST_LOG", "warn")
        .args(["catalog", "apply"])
        .arg(&file)
        .args(["--database", database])
        .output()
        .expect("run boxoffice catalog apply");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// GOOD with `from` (present exactly once) replaced by `to`.
fn good_with(from: &str, to: &str) -> String {
    assert_eq!(GOOD.matches(from).count(), 1, "{from:?} once in GOOD");
    GOOD.replacen(from, to, 1)
}

#[tokio::test]
async fn bad_catalogues_are_refused_on_stderr_with_their_key_path_and_nothing_is_written() {
    let (db, _dir) = fresh_database(TestStore::from_env()).await;
    let cases = [
        (
            good_with("key = \"agent-a\"", "key = \"agent-a\"\nsecrett = \"x\""),
            "catalogue file: partner[1].credential[0].secrett: unknown field `secrett`",
        ),
        (
            good_with("products = [\"ADULT\"]", "products = [\"ADULT\"], payment_password = \"x\""),
            "catalogue file: partner[1].credential[0].options.payment_password: unknown field `payment_password`",
        ),
        (
            good_with("\"B | 2 1\"", "\"B | 2 2\""),
            "catalogue file: venue[0].screen[0].area[0].rows[0]: row \"B\" repeats seat 2",
        ),
        (
            good_with("price = 5000", "price = -5000"),
            "catalogue file: venue[0].session[0].prices[0].price: must be 0 or more (is -5000)",
        ),
        (
            good_with("kind = \"scenic_area\"", "kind = \"scenic\""),
            "catalogue file: venue[1].kind: unknown variant `scenic`, expected one of `cinema`, `theatre`, `scenic_area`",
        ),
        (
            good_with("start = \"today+1 10:50\"", "start = \"2026-11-31 10:50\""),
            "catalogue file: venue[0].session[0].start: \"2026-11-31 10:50\" is not",
        ),
        (
            good_with("code = \"a\"", "code = \"a\"\nvenues = [\"NOPE\"]"),
            "catalogue file: partner[1].venues[0]: unknown venue \"NOPE\"",
        ),
        (
            good_with("code = \"v\"", "code = \"v\"\nvenues = [\"P1\"]"),
            "catalogue file: partner[0].venues[0]: \"P1\" is a scenic_area, which none of the partner's protocols (vista) sells",
        ),
        (
            good_with("products = [\"ADULT\"]", "products = [\"CHILD\"]"),
            "catalogue file: partner[1].credential[0].options.products[0]: no product \"CHILD\" at the partner's 游宝星 venues (\"P1\")",
        ),
    ];
    for (text, expected) in &cases {
        let (ok, _, stderr) = apply(&db, text);
        assert!(!ok, "accepted: {expected}");
        assert!(
            stderr.contains(expected),
            "expected {expected:?} in:\n{stderr}"
        );
    }
    // Nothing was written: the good file changes every one of its five documents.
    let (ok, stdout, stderr) = apply(&db, GOOD);
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim(), "catalogue applied: 5 document(s) changed");
    // A key already held by a partner in the database is refused to another partner.
    let thief = "[[partner]]\ncode = \"w\"\nname = \"W\"\n[[partner.credential]]\nprotocol = \"vista\"\nkey = \"TOKEN-V\"\n";
    let (ok, _, stderr) = apply(&db, thief);
    assert!(!ok);
    assert!(
        stderr.contains(
            "catalogue file: partner[0].credential[0].key: partner \"v\" already holds this vista key"
        ),
        "{stderr}"
    );
    // A partner-only file may grant venues stored by an earlier apply.
    let later = "[[partner]]\ncode = \"w\"\nname = \"W\"\nvenues = [\"C1\"]\n[[partner.credential]]\nprotocol = \"vista\"\nkey = \"TOKEN-W\"\n";
    let (ok, stdout, stderr) = apply(&db, later);
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim(), "catalogue applied: 1 document(s) changed");
}

/// Every TOML example of docs/catalog.md, in order.
fn doc_examples() -> String {
    let doc = include_str!("../../../docs/catalog.md");
    doc.split("```toml\n")
        .skip(1)
        .map(|block| block.split("```").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn the_documented_catalogue_is_applied_as_written_and_served() {
    let (db, _dir) = fresh_database(TestStore::from_env()).await;
    let app = App::open(
        &Config::for_database(&db),
        Arc::new(ManualClock::new(test_start())),
    )
    .await
    .expect("open");
    let changed = app
        .apply_catalog(&doc_examples())
        .await
        .expect("docs/catalog.md");
    assert_eq!(changed, 5, "two venues, one session, two partners");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(boxoffice_server::serve(listener, app.clone(), async move {
        let _ = stopped.await;
    }));

    // Vista: the partner granted all venues sees the cinema, not the scenic area.
    let r = Client::for_url(&url)
        .get(&format!("{ODATA}/Cinemas?$format=json&$select=ID,Name"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json()["value"],
        json!([{"ID": "0200", "Name": "CHTEST01"}])
    );
    // Its session, at the documented price.
    let r = Client::for_url(&url)
        .get("/WSVistaWebClient/RESTData.svc/cinemas/0200/sessions/29617/tickets")
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["ResponseCode"], 0, "{}", r.text);
    let tickets = r.json()["Tickets"].clone();
    assert_eq!(tickets.as_array().map(Vec::len), Some(1), "{tickets}");
    assert_eq!(tickets[0]["TicketTypeCode"], "0056", "{tickets}");
    assert_eq!(tickets[0]["PriceInCents"], 5000, "{tickets}");

    // 游宝星: the agent (granted all venues: the one scenic area) sells the product at its price.
    let agent = Agent {
        user: "demo-agent".into(),
        key: KEY.into(),
        password: "demo-pass".into(),
    };
    let r = call(&url, &agent, "GetProducts.aspx", &[]).await;
    assert_eq!(r.code(), 0, "{}", r.text);
    assert_eq!(
        r.tags("productid"),
        ["8A1F0C2E-0001-4C6B-9E51-3D2A7B000001"]
    );
    assert_eq!(r.tags("price"), ["110.00"]);
    assert_eq!(r.tags("productname"), ["成人票"]);

    let _ = stop.send(());
    let _ = task.await;
    app.store.close().await;
}

/// A partner granted all venues, with a credential for each protocol.
const EVERY: &str = r#"
[[partner]]
code = "every"
name = "Everywhere"
channel = "RSP"
venues = []
[[partner.credential]]
protocol = "vista"
key = "EVERY-TOKEN"
[[partner.credential]]
protocol = "yueke"
key = "EVERY"
secret = "every-secret"
options = { apis = ["*"], ticket_type = "0010" }
[[partner.credential]]
protocol = "ybx"
key = "every-agent"
secret = "3F2504E0-4F89-11D3-9A0C-0305E82C3301"
options = { login_md5 = "A540459139867E3EB98F0686EE199B2A" }
"#;

/// A signed Yueke call as the `EVERY` channel.
async fn yueke_every(url: &str, now_ms: i64, api: &str, data: &Value) -> Value {
    yueke_call_as(url, now_ms, ("EVERY", "every-secret"), api, data).await
}

#[tokio::test]
async fn all_venues_means_the_venues_the_protocol_sells() {
    let server = TestServer::start().await;
    server.app.apply_catalog(EVERY).await.expect("partner");
    // The demo holds three cinemas and the scenic area JQ01; give JQ01 a Yueke id too
    // (bypassing the file's checks, which refuse it) so only the rule keeps it out of Yueke.
    let catalog = server.app.service.catalog();
    let mut park = catalog.venue("JQ01").expect("JQ01").as_ref().clone();
    assert_eq!(park.kind, VenueKind::ScenicArea);
    park.links.insert("yueke".into(), "999".into());
    server
        .app
        .service
        .apply_catalog(&[park], &[], &[])
        .await
        .expect("JQ01 with a Yueke id");

    // Vista: the cinemas, not the scenic area.
    let r = Client::new(&server)
        .with_token(Some("EVERY-TOKEN"))
        .get(&format!("{ODATA}/Cinemas?$format=json&$select=ID"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json()["value"],
        json!([{"ID": "0200"}, {"ID": "56"}, {"ID": "58"}])
    );

    // Yueke: the linked cinemas, not the linked scenic area; naming it is refused.
    let now = server.app.service.now_ms();
    let env = yueke_every(
        &server.url,
        now,
        "ykse.partner.cinema.getCinemas",
        &json!({}),
    )
    .await;
    assert_eq!(env["data"]["bizCode"], "SUCCESS", "{env}");
    let mut links: Vec<String> = env["data"]["dataList"]
        .as_array()
        .expect("dataList")
        .iter()
        .map(|c| c["cinemaLinkId"].as_str().unwrap_or("").to_string())
        .collect();
    links.sort();
    assert_eq!(links, ["56", "58", "888"]);
    let env = yueke_every(
        &server.url,
        now,
        "ykse.partner.schedule.getSchedules",
        &json!({"cinemaLinkId": "999", "startDate": "2026-11-22", "endDate": "2026-11-23"}),
    )
    .await;
    assert_eq!(env["data"]["bizCode"], "CHANNEL_CINEMA_NOT_FOUND", "{env}");
    let env = yueke_every(
        &server.url,
        now,
        "ykse.partner.schedule.getSchedules",
        &json!({"cinemaLinkId": "888", "startDate": "2026-11-22", "endDate": "2026-11-23"}),
    )
    .await;
    assert_eq!(env["data"]["bizCode"], "SUCCESS", "{env}");

    // 游宝星: the one scenic area, not the cinemas: its products are listed.
    let agent = Agent {
        user: "every-agent".into(),
        key: "3F2504E0-4F89-11D3-9A0C-0305E82C3301".into(),
        password: "demo-pass".into(),
    };
    let r = call(&server.url, &agent, "GetProducts.aspx", &[]).await;
    assert_eq!(r.code(), 0, "{}", r.text);
    assert_eq!(
        r.tags("productid"),
        [ADULT, REAL_NAME, GROUP, UNLIMITED, NO_MAX]
    );
    server.stop().await;
}

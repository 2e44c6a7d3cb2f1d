//! HTTP tests of the 游宝星 read pages (catalogue §4.2.1, 4.2.2, 4.2.38, 4.2.39, 4.2.40):
//! GetProducts, GetProductsInventory, GetProviderConfig (and its alias GetAgentParameters),
//! GetServiceItem and GetTimeSegment, against a real server on the demo catalogue (today is
//! 2026-11-22 at the venue).

mod common;

use boxoffice_core::catalog::Venue;
use boxoffice_core::scenic::{FeeRule, Line, Segment};
use boxoffice_core::store::{QuotaClaim, QuotaKey};
use boxoffice_server::testing::fresh_database;
use boxoffice_ybx::codes;
use common::{ybx::*, TestServer, TestStore};
use std::sync::Arc;

const HEAD_OK: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><root><retcode>0</retcode><retmsg></retmsg><sign>1AAEC0F5D59F992CFC5679336DD5A580</sign>";
const PAGES: [&str; 6] = [
    "GetProducts.aspx",
    "GetProductsInventory.aspx",
    "GetProviderConfig.aspx",
    "GetAgentParameters.aspx",
    "GetServiceItem.aspx",
    "GetTimeSegment.aspx",
];

/// More suppliers and agents: JQ02, a scenic area without `[venue.scenic]` settings (so not
/// segmented, no supplier day max); TH01, a theatre; agents for them, a disabled agent, an agent
/// without products and an agent claimed by two venues.
const EXTRA: &str = r#"
[[venue]]
code = "JQ02"
name = "第二景区"
kind = "scenic_area"

[[venue.line]]
code = "01"
name = "东线"
segment = [{ index = 1, start = "09:00", end = "12:00", capacity = 10 }]

[[venue.product]]
id = "JQ02-EXPIRED"
name = "过期票"
price = 1000
valid_to = "2026-11-21"

[[venue.product]]
id = "JQ02-OFF"
name = "停售票"
price = 1000
enabled = false

[[venue.product]]
id = "JQ02-FULL"
name = "全字段票"
class = 0
unit = "人"
price = 9900
valid_from = "2026-11-20"
valid_to = "2026-11-22"
conditions = "A&B <儿童>"
min_per_order = 2
max_per_order = 8
per_id_daily_max = 3
effect_mode = "B"
order_validity_days = 5
validity_days = 2
effect_from = "20261201"
effect_to = "20261231"
effect_negated = true
lead_days = 1
delivery_days = 4
real_name = true
lines = ["01"]

[[venue.product]]
id = "JQ02-FREE"
name = "自由票"
price = 2000

[[venue.product]]
id = "JQ02-QUOTA"
name = "限量票"
price = 3000
valid_from = "2026-11-23"
inventory = true
daily_max = 10

[[venue]]
code = "TH01"
name = "示例剧场"
kind = "theatre"

[[partner]]
code = "agent-jq02"
name = "二号代理"
venues = ["JQ02"]

[[partner.credential]]
protocol = "ybx"
key = "agent-jq02"
secret = "A1B2C3D4-E5F6-4789-9ABC-DEF012345678"
options = { login_md5 = "A540459139867E3EB98F0686EE199B2A", prices = { "jq02-full" = 8850 }, allow_cash = true }

[[partner]]
code = "agent-th"
name = "剧场代理"
venues = ["TH01"]

[[partner.credential]]
protocol = "ybx"
key = "agent-th"
secret = "B2C3D4E5-F607-4189-8ABC-DEF012345679"
options = { login_md5 = "A540459139867E3EB98F0686EE199B2A" }

[[partner]]
code = "agent-off"
name = "停用代理"
venues = ["JQ01"]

[[partner.credential]]
protocol = "ybx"
key = "agent-off"
secret = "C3D4E5F6-0718-4289-9ABC-DEF01234567A"
options = { login_md5 = "A540459139867E3EB98F0686EE199B2A", enabled = false }

[[partner]]
code = "agent-none"
name = "无票代理"
venues = ["JQ01"]

[[partner.credential]]
protocol = "ybx"
key = "agent-none"
secret = "D4E5F607-1829-4389-8ABC-DEF01234567B"
options = { login_md5 = "A540459139867E3EB98F0686EE199B2A", products = [] }

[[partner]]
code = "agent-two"
name = "两地代理"
venues = ["JQ01", "JQ02"]

[[partner.credential]]
protocol = "ybx"
key = "agent-two"
secret = "E5F60718-293A-4489-9ABC-DEF01234567C"
options = { login_md5 = "A540459139867E3EB98F0686EE199B2A" }
"#;

fn agent(user: &str, key: &str) -> Agent {
    Agent {
        user: user.into(),
        key: key.into(),
        password: "demo-pass".into(),
    }
}

fn jq02() -> Agent {
    agent("agent-jq02", "A1B2C3D4-E5F6-4789-9ABC-DEF012345678")
}
fn theatre() -> Agent {
    agent("agent-th", "B2C3D4E5-F607-4189-8ABC-DEF012345679")
}
fn disabled() -> Agent {
    agent("agent-off", "C3D4E5F6-0718-4289-9ABC-DEF01234567A")
}
fn no_products() -> Agent {
    agent("agent-none", "D4E5F607-1829-4389-8ABC-DEF01234567B")
}
fn two_venues() -> Agent {
    agent("agent-two", "E5F60718-293A-4489-9ABC-DEF01234567C")
}

async fn with_extra(server: &TestServer) {
    server
        .app
        .apply_catalog(EXTRA)
        .await
        .expect("extra catalogue");
}

fn venue(server: &TestServer, code: &str) -> Arc<Venue> {
    server
        .app
        .service
        .catalog()
        .venue(code)
        .cloned()
        .expect("venue")
}

/// Replaces a venue's definition in the store (bypassing the catalogue file's checks).
async fn replace_venue(server: &TestServer, v: Venue) {
    server
        .app
        .service
        .apply_catalog(&[v], &[], &[])
        .await
        .expect("venue replaced");
}

/// Claims `units` of a quota of JQ01 (`product`: an id, `@venue` or `@line/<code>`).
async fn claim(server: &TestServer, product: &str, date: &str, segment: i32, units: i64) {
    let key = QuotaKey {
        venue_id: venue(server, "JQ01").id,
        product: product.into(),
        date: date.into(),
        segment,
    };
    let ok = server
        .app
        .service
        .claim_quotas(&[QuotaClaim {
            key,
            capacity: 1_000_000,
            units,
        }])
        .await
        .expect("claim");
    assert!(ok, "claim of {units} {product} on {date}");
}

/// Asserts an error answer signed by `key` (or unsigned for `None`) with no payload.
#[track_caller]
fn expect_err(r: &XmlReply, code: i64, msg: &str, key: Option<&str>) {
    r.expect(code, msg);
    match key {
        Some(k) => assert!(r.signed_by(k), "sign: {}", r.text),
        None => assert_eq!(r.tag("sign").as_deref(), Some(""), "{}", r.text),
    }
    assert!(
        r.text.ends_with("</sign></root>"),
        "payload on error: {}",
        r.text
    );
}

#[allow(clippy::too_many_arguments)]
fn product_item(
    id: &str,
    name: &str,
    class: (&str, &str),
    unit: &str,
    price: &str,
    valid: (&str, &str),
    conditions: &str,
    limits: (i64, i64, i64),
    effect: (&str, i64, i64, &str, &str, &str),
    days: (i64, i64),
    needname: &str,
) -> String {
    format!(
        "<Item><productid>{id}</productid><productname>{name}</productname><Classid>{}</Classid><classname>{}</classname><unit>{unit}</unit><price>{price}</price><initdate>{}</initdate><enddate>{}</enddate><conditionsofsale>{conditions}</conditionsofsale><minimum>{}</minimum><maximum>{}</maximum><SimpleIDmaximum>{}</SimpleIDmaximum><shippingmethod>{}</shippingmethod><Preorder>{}</Preorder><PreorderDays>{}</PreorderDays><EffectBegPeriod>{}</EffectBegPeriod><EffectEndPeriod>{}</EffectEndPeriod><EffectPeriodNegated>{}</EffectPeriodNegated><webpredays>{}</webpredays><weblong>{}</weblong><needname>{needname}</needname></Item>",
        class.0, class.1, valid.0, valid.1, limits.0, limits.1, limits.2, effect.0, effect.1,
        effect.2, effect.3, effect.4, effect.5, days.0, days.1
    )
}

/// A demo product as GetProducts lists it (virtual, 张, no validity window, mode A, 1/1 days).
fn demo_item(
    id: &str,
    name: &str,
    price: &str,
    cond: &str,
    limits: (i64, i64, i64),
    real: bool,
) -> String {
    product_item(
        id,
        name,
        ("1", "虚拟产品"),
        "张",
        price,
        ("", ""),
        cond,
        limits,
        ("A", 1, 1, "", "", "0"),
        (0, 0),
        if real { "1" } else { "0" },
    )
}

fn demo_products() -> String {
    [
        demo_item(
            ADULT,
            "成人票",
            "120.00",
            "1.2 米以上游客",
            (1, 50, 0),
            false,
        ),
        demo_item(
            REAL_NAME,
            "实名票",
            "100.00",
            "凭身份证入园，一人一票",
            (1, 10, 1),
            true,
        ),
        demo_item(
            GROUP,
            "团体票（十免一）",
            "80.00",
            "10 人以上团队，每 10 人免 1 人",
            (10, 100, 0),
            false,
        ),
        demo_item(UNLIMITED, "不限量票", "50.00", "", (1, 99, 0), false),
        demo_item(NO_MAX, "库存未设置", "30.00", "", (1, 99, 0), false),
    ]
    .concat()
}

// ---------------------------------------------------------------------------------------------
// GetProducts (4.2.1)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn get_products_lists_the_demo_catalogue_exactly() {
    let server = TestServer::start().await;
    let demo = Agent::demo();
    let r = call(&server.url, &demo, "GetProducts.aspx", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, "text/xml; charset=utf-8");
    let expected = format!("{HEAD_OK}{}</root>", demo_products());
    assert_eq!(r.text, expected);
    assert!(r.signed_by(KEY));
    // POST, mixed-case name and the line of every product: the same answer.
    let p = post(
        &server.url,
        &demo,
        "getproducts.ASPX",
        &[("ServiceCode", "01")],
    )
    .await;
    assert_eq!(p.text, expected);
    server.stop().await;
}

#[tokio::test]
async fn get_products_follows_agent_rights_validity_and_line() {
    let server = TestServer::start().await;
    with_extra(&server).await;
    // demo-agent2 may sell two products.
    let r = call(&server.url, &Agent::demo2(), "GetProducts.aspx", &[]).await;
    assert_eq!(r.code(), 0, "{}", r.text);
    assert!(r.signed_by(KEY2));
    assert_eq!(r.tags("productid"), vec![ADULT, UNLIMITED]);
    // An unknown line of a segmented supplier: nothing in the intersection.
    let r = call(
        &server.url,
        &Agent::demo(),
        "GetProducts.aspx",
        &[("ServiceCode", "02")],
    )
    .await;
    expect_err(&r, -1, codes::NO_PRODUCTS, Some(KEY));
    // An agent without products.
    let none = no_products();
    let r = call(&server.url, &none, "GetProducts.aspx", &[]).await;
    expect_err(&r, -1, codes::NO_PRODUCTS, Some(&none.key));
    // JQ02: the expired and the disabled product are left out; every field of the full product;
    // the agent's own price; ServiceCode ignored (not segmented).
    let a = jq02();
    let full = product_item(
        "JQ02-FULL",
        "全字段票",
        ("0", "有形产品"),
        "人",
        "88.50",
        ("20261120", "20261122"),
        "A&amp;B &lt;儿童&gt;",
        (2, 8, 3),
        ("B", 5, 2, "20261201", "20261231", "1"),
        (1, 4),
        "1",
    );
    let plain = |id: &str, name: &str, price: &str, from: &str| {
        product_item(
            id,
            name,
            ("1", "虚拟产品"),
            "张",
            price,
            (from, ""),
            "",
            (1, 99, 0),
            ("A", 1, 1, "", "", "0"),
            (0, 0),
            "0",
        )
    };
    let expected = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><root><retcode>0</retcode><retmsg></retmsg><sign>{}</sign>{full}{}{}</root>",
        common::ybx::oracle::response_sign("0", "", &a.key),
        plain("JQ02-FREE", "自由票", "20.00", ""),
        plain("JQ02-QUOTA", "限量票", "30.00", "20261123"),
    );
    let r = call(&server.url, &a, "GetProducts.aspx", &[]).await;
    assert_eq!(r.text, expected);
    let r = call(
        &server.url,
        &a,
        "GetProducts.aspx",
        &[("ServiceCode", "99")],
    )
    .await;
    assert_eq!(r.text, expected);
    // The day after its last valid date the full product is no longer listed.
    server.clock.advance(chrono::Duration::days(1));
    let r = call(&server.url, &a, "GetProducts.aspx", &[]).await;
    assert_eq!(r.tags("productid"), vec!["JQ02-FREE", "JQ02-QUOTA"]);
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Authentication and supplier-mode codes of every read page
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_read_page_answers_the_authentication_codes() {
    let server = TestServer::start().await;
    with_extra(&server).await;
    let demo = Agent::demo();
    for page in PAGES {
        let bare = matches!(
            page,
            "GetProviderConfig.aspx" | "GetAgentParameters.aspx" | "GetTimeSegment.aspx"
        );
        // Missing user / password / sign.
        let r = get_raw(&server.url, page, &[("user".into(), "demo-agent".into())]).await;
        if bare {
            expect_err(&r, -1901, codes::PARAM_ERROR, None);
        } else {
            expect_err(&r, -1, codes::BAD_CREDENTIALS, None);
        }
        // Unknown user.
        let r = call(&server.url, &agent("nobody", KEY), page, &[]).await;
        if bare {
            expect_err(&r, -2201, codes::USER_UNKNOWN_COMMA, None);
        } else {
            expect_err(&r, -1, codes::NO_ACCOUNT, None);
        }
        // Disabled account.
        let off = disabled();
        let r = call(&server.url, &off, page, &[]).await;
        if bare {
            expect_err(&r, -2202, codes::ACCOUNT_DISABLED, Some(&off.key));
        } else {
            expect_err(&r, -1, codes::NO_ACCOUNT, Some(&off.key));
        }
        // Wrong password.
        let wrong = Agent {
            password: "other".into(),
            ..demo.clone()
        };
        let r = call(&server.url, &wrong, page, &[]).await;
        expect_err(&r, -1, codes::BAD_CREDENTIALS, Some(KEY));
        // Wrong signature.
        let mut params = demo.signed(&[("StartDate", "20261122")]);
        for (k, v) in params.iter_mut() {
            if k == "StartDate" {
                *v = "20261123".into();
            }
        }
        let r = get_raw(&server.url, page, &params).await;
        expect_err(&r, -1, codes::BAD_SIGN, Some(KEY));
        // A theatre supplier.
        let th = theatre();
        let r = call(&server.url, &th, page, &[]).await;
        expect_err(&r, -1, codes::THEATER_MODE, Some(&th.key));
        // An agent claimed by two suppliers.
        let two = two_venues();
        let r = call(&server.url, &two, page, &[]).await;
        if page.starts_with("GetProviderConfig") || page.starts_with("GetAgentParameters") {
            expect_err(&r, -2341, codes::PROVIDER_CONFIG_MISSING, Some(&two.key));
        } else {
            expect_err(&r, -1, codes::OTHER_ERROR, Some(&two.key));
        }
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// GetProductsInventory (4.2.2)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn inventory_reports_remaining_day_quotas_v4() {
    let server = TestServer::start().await;
    with_extra(&server).await;
    let demo = Agent::demo();
    claim(&server, ADULT, "2026-11-22", 0, 120).await;
    claim(&server, "@venue", "2026-11-23", 0, 1900).await;
    claim(&server, ADULT, "2026-11-24", 0, 500).await;
    claim(&server, "@venue", "2026-11-25", 0, 2000).await;
    // Another product's key and a time segment do not count for the adult ticket.
    claim(&server, UNLIMITED, "2026-11-22", 0, 7).await;
    claim(&server, "@line/01", "2026-11-22", 2, 30).await;

    let r = call(
        &server.url,
        &demo,
        "GetProductsInventory.aspx",
        &[
            ("ProductID", ADULT),
            ("StartDate", "20261122"),
            ("EndDate", "20261123"),
        ],
    )
    .await;
    let item = |id: &str, name: &str, date: &str, q: i64| {
        format!("<Item><productid>{id}</productid><productname>{name}</productname><date>{date}</date><quantity>{q}</quantity></Item>")
    };
    assert_eq!(
        r.text,
        format!(
            "{HEAD_OK}{}{}</root>",
            item(ADULT, "成人票", "20261122", 380),
            item(ADULT, "成人票", "20261123", 100)
        )
    );
    assert!(r.signed_by(KEY));

    // Every product the agent sells, dates ascending within each product, eight dates (a span
    // of exactly seven days is allowed).
    let r = call(
        &server.url,
        &demo,
        "GetProductsInventory.aspx",
        &[("startdate", "20261122"), ("ENDDATE", "20261129")],
    )
    .await;
    assert_eq!(r.code(), 0, "{}", r.text);
    let ids = r.tags("productid");
    assert_eq!(ids.len(), 40);
    for (i, id) in [ADULT, REAL_NAME, GROUP, UNLIMITED, NO_MAX]
        .iter()
        .enumerate()
    {
        assert!(ids[i * 8..i * 8 + 8].iter().all(|x| x == id), "{ids:?}");
    }
    let dates = r.tags("date");
    assert_eq!(
        dates[..8],
        [
            "20261122", "20261123", "20261124", "20261125", "20261126", "20261127", "20261128",
            "20261129"
        ]
    );
    let q: Vec<i64> = r
        .tags("quantity")
        .iter()
        .map(|q| q.parse().expect("int"))
        .collect();
    // Adult: min(product, supplier); sold out when either is exhausted.
    assert_eq!(q[0..8], [380, 100, -1, -1, 500, 500, 500, 500]);
    // Real-name: its own day quota of 200.
    assert_eq!(q[8..16], [200, 100, 200, -1, 200, 200, 200, 200]);
    // Group, unlimited and "no maximum set": only the supplier's day max applies.
    for p in 2..5 {
        assert_eq!(
            q[p * 8..p * 8 + 8],
            [2000, 100, 2000, -1, 2000, 2000, 2000, 2000]
        );
    }

    // ProductID compared case-insensitively, narrowed by a matching line.
    let lower = ADULT.to_ascii_lowercase();
    let r = call(
        &server.url,
        &demo,
        "GetProductsInventory.aspx",
        &[
            ("ProductID", &lower),
            ("ServiceCode", "01"),
            ("StartDate", "20261122"),
            ("EndDate", "20261122"),
        ],
    )
    .await;
    assert_eq!(r.tags("quantity"), vec!["380"]);
    assert_eq!(r.tags("productid"), vec![ADULT]);

    // JQ02 has no supplier day max: no quota → 0 (unlimited); its quota product is not on sale
    // before 2026-11-23 (sold out) and has 10 a day from then on.
    let a = jq02();
    let r = call(
        &server.url,
        &a,
        "GetProductsInventory.aspx",
        &[("StartDate", "20261122"), ("EndDate", "20261123")],
    )
    .await;
    assert_eq!(r.code(), 0, "{}", r.text);
    assert!(r.signed_by(&a.key));
    assert_eq!(
        r.tags("productid"),
        vec![
            "JQ02-FULL",
            "JQ02-FULL",
            "JQ02-FREE",
            "JQ02-FREE",
            "JQ02-QUOTA",
            "JQ02-QUOTA"
        ]
    );
    // The full product is valid until 2026-11-22 but effective only outside December: on sale
    // the 22nd (unlimited), not the 23rd.
    assert_eq!(r.tags("quantity"), vec!["0", "-1", "0", "0", "-1", "10"]);
    server.stop().await;
}

#[tokio::test]
async fn inventory_error_codes_v4() {
    let server = TestServer::start().await;
    let demo = Agent::demo();
    let page = "GetProductsInventory.aspx";
    for params in [
        vec![("EndDate", "20261122")],
        vec![("StartDate", "20261122")],
        vec![],
        vec![("StartDate", "2026-11-22"), ("EndDate", "20261122")],
        vec![("StartDate", "20261122"), ("EndDate", "20261131")],
        vec![("StartDate", "2026112"), ("EndDate", "20261122")],
        vec![("StartDate", "20261122"), ("EndDate", "x0261122")],
    ] {
        let r = call(&server.url, &demo, page, &params).await;
        expect_err(&r, -1, codes::INVENTORY_FORMAT, Some(KEY));
    }
    let r = call(
        &server.url,
        &demo,
        page,
        &[("StartDate", "20261123"), ("EndDate", "20261122")],
    )
    .await;
    expect_err(&r, -1, codes::INVENTORY_ORDER, Some(KEY));
    let r = call(
        &server.url,
        &demo,
        page,
        &[("StartDate", "20261122"), ("EndDate", "20261130")],
    )
    .await;
    expect_err(&r, -1, codes::INVENTORY_SPAN, Some(KEY));
    // A product the agent may not sell, an unknown product, an empty line intersection.
    let r = call(
        &server.url,
        &Agent::demo2(),
        page,
        &[
            ("ProductID", GROUP),
            ("StartDate", "20261122"),
            ("EndDate", "20261122"),
        ],
    )
    .await;
    expect_err(&r, -1, codes::NO_PRODUCTS, Some(KEY2));
    let r = call(
        &server.url,
        &demo,
        page,
        &[
            ("ProductID", "NO-SUCH"),
            ("StartDate", "20261122"),
            ("EndDate", "20261122"),
        ],
    )
    .await;
    expect_err(&r, -1, codes::NO_PRODUCTS, Some(KEY));
    let r = call(
        &server.url,
        &demo,
        page,
        &[
            ("ServiceCode", "02"),
            ("StartDate", "20261122"),
            ("EndDate", "20261122"),
        ],
    )
    .await;
    expect_err(&r, -1, codes::NO_PRODUCTS, Some(KEY));
    server.stop().await;
}

#[tokio::test]
async fn inventory_v3_convention_swaps_values_and_codes() {
    let (db, _dir) = fresh_database(TestStore::from_env()).await;
    let server = TestServer::start_on(&db, |cfg| {
        cfg.ybx.inventory_quantity_convention = "v3".into();
    })
    .await;
    with_extra(&server).await;
    let page = "GetProductsInventory.aspx";
    claim(&server, ADULT, "2026-11-23", 0, 500).await;
    claim(&server, ADULT, "2026-11-24", 0, 1).await;
    let demo = Agent::demo();
    let r = call(
        &server.url,
        &demo,
        page,
        &[
            ("ProductID", ADULT),
            ("StartDate", "20261123"),
            ("EndDate", "20261124"),
        ],
    )
    .await;
    assert_eq!(r.code(), 0, "{}", r.text);
    assert!(r.signed_by(KEY));
    assert_eq!(r.tags("quantity"), vec!["0", "499"]);
    // Unlimited is -1, not on sale is 0.
    let a = jq02();
    let r = call(
        &server.url,
        &a,
        page,
        &[("StartDate", "20261122"), ("EndDate", "20261122")],
    )
    .await;
    assert_eq!(r.tags("quantity"), vec!["-1", "-1", "0"]);
    // The [B] codes.
    let r = call(
        &server.url,
        &Agent::demo2(),
        page,
        &[
            ("ProductID", GROUP),
            ("StartDate", "20261122"),
            ("EndDate", "20261122"),
        ],
    )
    .await;
    expect_err(&r, -2, codes::V3_NO_PERMIT, Some(KEY2));
    let r = call(
        &server.url,
        &demo,
        page,
        &[("StartDate", "20261122"), ("EndDate", "20261130")],
    )
    .await;
    expect_err(&r, -3, codes::V3_SPAN, Some(KEY));
    let r = call(
        &server.url,
        &demo,
        page,
        &[("StartDate", "20261123"), ("EndDate", "20261122")],
    )
    .await;
    expect_err(&r, -4, codes::V3_ORDER, Some(KEY));
    let r = call(&server.url, &demo, page, &[("StartDate", "20261122")]).await;
    expect_err(&r, -1, codes::INVENTORY_FORMAT, Some(KEY));
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// GetProviderConfig / GetAgentParameters (4.2.38)
// ---------------------------------------------------------------------------------------------

const DEMO_FEES: &str = "<feeitems>\
<feeitem><productid></productid><productname>全部</productname><unitcount>2</unitcount><unit>D</unit><referencetime>A</referencetime><feecalmode>B</feecalmode><feevalue>0.00</feevalue></feeitem>\
<feeitem><productid></productid><productname>全部</productname><unitcount>1</unitcount><unit>D</unit><referencetime>A</referencetime><feecalmode>B</feecalmode><feevalue>10.00</feevalue></feeitem>\
<feeitem><productid></productid><productname>全部</productname><unitcount>0</unitcount><unit>D</unit><referencetime>A</referencetime><feecalmode>B</feecalmode><feevalue>20.00</feevalue></feeitem>\
<feeitem><productid></productid><productname>全部</productname><unitcount>-1</unitcount><unit>D</unit><referencetime>A</referencetime><feecalmode>B</feecalmode><feevalue>50.00</feevalue></feeitem>\
</feeitems>";

#[tokio::test]
async fn provider_config_exact_wire_output() {
    let server = TestServer::start().await;
    let expected = format!(
        "{HEAD_OK}<Item><providerid>JQ01</providerid><providername>示例景区</providername><type>1</type><sublevelmode>1</sublevelmode><feemode>1</feemode>{DEMO_FEES}<activateable>1</activateable><tickettype>3</tickettype><canpaywithcash>1</canpaywithcash><canpaywithyfk>1</canpaywithyfk><canpaywithfk>1</canpaywithfk><canpaywithepay>1</canpaywithepay><maxlimit>0</maxlimit><payandactive>1</payandactive><activerefund>0</activerefund></Item></root>"
    );
    let demo = Agent::demo();
    let r = call(&server.url, &demo, "GetProviderConfig.aspx", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text, expected);
    assert!(r.signed_by(KEY));
    let r = post(&server.url, &demo, "GetAgentParameters.aspx", &[]).await;
    assert_eq!(r.text, expected);
    // demo-agent2: no counter payment, no rebate, 20 persons a day.
    let r = call(&server.url, &Agent::demo2(), "GetProviderConfig.aspx", &[]).await;
    assert_eq!(
        r.text,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><root><retcode>0</retcode><retmsg></retmsg><sign>{}</sign><Item><providerid>JQ01</providerid><providername>示例景区</providername><type>1</type><sublevelmode>1</sublevelmode><feemode>1</feemode>{DEMO_FEES}<activateable>1</activateable><tickettype>3</tickettype><canpaywithcash>0</canpaywithcash><canpaywithyfk>1</canpaywithyfk><canpaywithfk>0</canpaywithfk><canpaywithepay>1</canpaywithepay><maxlimit>20</maxlimit><payandactive>1</payandactive><activerefund>0</activerefund></Item></root>",
            common::ybx::oracle::response_sign("0", "", KEY2)
        )
    );
    assert!(r.signed_by(KEY2));
    server.stop().await;
}

#[tokio::test]
async fn provider_config_fee_rules_switches_and_errors() {
    let server = TestServer::start().await;
    with_extra(&server).await;
    // A supplier without settings.
    let a = jq02();
    let r = call(&server.url, &a, "GetProviderConfig.aspx", &[]).await;
    expect_err(&r, -2341, codes::PROVIDER_CONFIG_MISSING, Some(&a.key));

    // Product rules, percentages, other switches; no link → the venue code.
    let mut v = (*venue(&server, "JQ01")).clone();
    let rule = |product: &str, unit_count, unit: &str, percent, amount| FeeRule {
        product: product.into(),
        unit_count,
        unit: unit.into(),
        percent,
        amount,
    };
    {
        let s = v.scenic.as_mut().expect("scenic");
        s.fees = vec![
            rule(&ADULT.to_ascii_lowercase(), 3, "d", Some(15), None),
            rule(GROUP, 1, "D", None, Some(1250)),
            rule("*", 0, "D", None, None),
        ];
        s.segmented = false;
        s.remote_activation = 2;
        s.gate_medium = 1;
        s.activate_on_payment = false;
        s.refund_after_activation = true;
        s.epay_channels.clear();
    }
    v.links.clear();
    replace_venue(&server, v.clone()).await;
    let fee = |id: &str, name: &str, count: i64, mode: &str, value: &str| {
        format!("<feeitem><productid>{id}</productid><productname>{name}</productname><unitcount>{count}</unitcount><unit>D</unit><referencetime>A</referencetime><feecalmode>{mode}</feecalmode><feevalue>{value}</feevalue></feeitem>")
    };
    let r = call(&server.url, &Agent::demo(), "GetProviderConfig.aspx", &[]).await;
    assert_eq!(
        r.text,
        format!(
            "{HEAD_OK}<Item><providerid>JQ01</providerid><providername>示例景区</providername><type>1</type><sublevelmode>0</sublevelmode><feemode>1</feemode><feeitems>{}{}{}</feeitems><activateable>2</activateable><tickettype>1</tickettype><canpaywithcash>1</canpaywithcash><canpaywithyfk>1</canpaywithyfk><canpaywithfk>1</canpaywithfk><canpaywithepay>0</canpaywithepay><maxlimit>0</maxlimit><payandactive>0</payandactive><activerefund>1</activerefund></Item></root>",
            fee(ADULT, "成人票", 3, "A", "15"),
            fee(GROUP, "团体票（十免一）", 1, "B", "12.50"),
            fee("", "全部", 0, "B", "0.00"),
        )
    );
    // demo-agent2 does not sell the group ticket: its rule is left out.
    let r = call(&server.url, &Agent::demo2(), "GetAgentParameters.aspx", &[]).await;
    assert_eq!(r.tags("productid"), vec![ADULT.to_string(), String::new()]);
    assert!(r.signed_by(KEY2));

    // Fees off: an empty list.
    v.scenic.as_mut().expect("scenic").fees_enabled = false;
    replace_venue(&server, v.clone()).await;
    let r = call(&server.url, &Agent::demo(), "GetProviderConfig.aspx", &[]).await;
    assert!(
        r.text
            .contains("<feemode>0</feemode><feeitems></feeitems><activateable>"),
        "{}",
        r.text
    );

    // A bad activation setting (only reachable by writing the store directly).
    v.scenic.as_mut().expect("scenic").remote_activation = 3;
    replace_venue(&server, v).await;
    let r = call(&server.url, &Agent::demo(), "GetProviderConfig.aspx", &[]).await;
    expect_err(&r, -2342, codes::PROVIDER_ACTIVATION_BAD, Some(KEY));
    let r = call(&server.url, &Agent::demo(), "GetAgentParameters.aspx", &[]).await;
    expect_err(&r, -2342, codes::PROVIDER_ACTIVATION_BAD, Some(KEY));
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// GetServiceItem (4.2.39)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn service_items_of_the_supplier_and_of_a_product() {
    let server = TestServer::start().await;
    with_extra(&server).await;
    let demo = Agent::demo();
    let page = "GetServiceItem.aspx";
    let r = call(&server.url, &demo, page, &[]).await;
    assert_eq!(
        r.text,
        format!("{HEAD_OK}<Item><ServiceCode>01</ServiceCode><ServiceName>主游览线</ServiceName></Item></root>")
    );
    assert!(r.signed_by(KEY));

    // A second line with a product of its own, and a product on no line.
    let mut v = (*venue(&server, "JQ01")).clone();
    v.lines.push(Line {
        code: "02".into(),
        name: "夜游线".into(),
        segments: vec![Segment {
            index: 1,
            start: "19:00".into(),
            end: "21:00".into(),
            capacity: 50,
            desk_capacity: 0,
        }],
    });
    let mut night = v.product(UNLIMITED).cloned().expect("product");
    night.id = "NIGHT".into();
    night.lines = vec!["02".into(), "01".into()];
    let mut loose = night.clone();
    loose.id = "LOOSE".into();
    loose.lines.clear();
    v.products.push(night);
    v.products.push(loose);
    replace_venue(&server, v).await;

    let r = call(&server.url, &demo, page, &[]).await;
    assert_eq!(r.tags("ServiceCode"), vec!["01", "02"]);
    assert_eq!(r.tags("ServiceName"), vec!["主游览线", "夜游线"]);
    let r = call(
        &server.url,
        &demo,
        page,
        &[("productid", &ADULT.to_ascii_lowercase())],
    )
    .await;
    assert_eq!(
        r.text,
        format!("{HEAD_OK}<Item><ServiceCode>01</ServiceCode><ServiceName>主游览线</ServiceName></Item></root>")
    );
    let r = call(&server.url, &demo, page, &[("ProductID", "night")]).await;
    assert_eq!(r.tags("ServiceCode"), vec!["01", "02"]);
    // With ServiceCode: GetProducts narrows to the line.
    let r = call(
        &server.url,
        &demo,
        "GetProducts.aspx",
        &[("ServiceCode", "02")],
    )
    .await;
    assert_eq!(r.tags("productid"), vec!["NIGHT"]);

    for (agent, key, product) in [
        (demo.clone(), KEY, "LOOSE"),
        (demo.clone(), KEY, "NO-SUCH"),
        (Agent::demo2(), KEY2, GROUP),
    ] {
        let r = call(&server.url, &agent, page, &[("productid", product)]).await;
        expect_err(&r, -1, codes::NO_PRODUCTS, Some(key));
    }
    // Not segmented.
    let a = jq02();
    let r = call(&server.url, &a, page, &[]).await;
    expect_err(&r, -1, codes::OTHER_ERROR, Some(&a.key));
    server.stop().await;
}

#[tokio::test]
async fn service_items_need_a_line() {
    let server = TestServer::start().await;
    let mut v = (*venue(&server, "JQ01")).clone();
    v.lines.clear();
    for p in &mut v.products {
        p.lines.clear();
    }
    replace_venue(&server, v).await;
    let r = call(&server.url, &Agent::demo(), "GetServiceItem.aspx", &[]).await;
    expect_err(&r, -1, codes::NO_PRODUCTS, Some(KEY));
    let r = call(&server.url, &Agent::demo(), "GetTimeSegment.aspx", &[]).await;
    expect_err(&r, -2352, codes::SEGMENT_NONE, Some(KEY));
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// GetTimeSegment (4.2.40)
// ---------------------------------------------------------------------------------------------

fn segment_item(
    date: &str,
    index: i32,
    start: &str,
    end: &str,
    capacity: i64,
    used: i64,
) -> String {
    format!(
        "<Item><ServiceCode>01</ServiceCode><ServiceName>主游览线</ServiceName><Date>{date}</Date><TimeSpanIndex>{index}</TimeSpanIndex><StartTime>{start}</StartTime><EndTime>{end}</EndTime><TotalCapacity>400</TotalCapacity><Capacity>{capacity}</Capacity><UsedCount>{used}</UsedCount></Item>"
    )
}

#[tokio::test]
async fn time_segments_report_capacity_and_use() {
    let server = TestServer::start().await;
    let demo = Agent::demo();
    let page = "GetTimeSegment.aspx";
    claim(&server, "@line/01", "2026-11-22", 2, 37).await;
    claim(&server, "@line/01", "2026-11-23", 4, 300).await;
    // Day quotas are not segment use.
    claim(&server, ADULT, "2026-11-22", 0, 5).await;
    claim(&server, "@venue", "2026-11-22", 0, 5).await;

    // Neither date: today.
    let r = call(&server.url, &demo, page, &[]).await;
    let day = |date: &str, used: [i64; 4]| {
        [
            segment_item(date, 1, "08:00", "10:00", 300, used[0]),
            segment_item(date, 2, "10:00", "12:00", 300, used[1]),
            segment_item(date, 3, "12:00", "14:00", 300, used[2]),
            segment_item(date, 4, "14:00", "17:00", 300, used[3]),
        ]
        .concat()
    };
    assert_eq!(
        r.text,
        format!("{HEAD_OK}{}</root>", day("20261122", [0, 37, 0, 0]))
    );
    assert!(r.signed_by(KEY));

    // Both dates, with the line and the internet resource type named.
    let r = call(
        &server.url,
        &demo,
        page,
        &[
            ("startdate", "20261122"),
            ("enddate", "20261123"),
            ("servicecode", "01"),
            ("resourcetype", "2"),
        ],
    )
    .await;
    assert_eq!(
        r.text,
        format!(
            "{HEAD_OK}{}{}</root>",
            day("20261122", [0, 37, 0, 0]),
            day("20261123", [0, 0, 0, 300])
        )
    );
    // An unknown resource type counts as 2.
    let r2 = call(
        &server.url,
        &demo,
        page,
        &[
            ("StartDate", "20261122"),
            ("EndDate", "20261123"),
            ("resourcetype", "7"),
        ],
    )
    .await;
    assert_eq!(r2.text, r.text);

    // The desk's share: desk capacity, nothing used.
    let r = call(
        &server.url,
        &demo,
        page,
        &[("startdate", "20261123"), ("resourcetype", "1")],
    )
    .await;
    assert_eq!(r.tags("Date"), vec!["20261123"; 4]);
    assert_eq!(r.tags("Capacity"), vec!["100"; 4]);
    assert_eq!(r.tags("TotalCapacity"), vec!["400"; 4]);
    assert_eq!(r.tags("UsedCount"), vec!["0"; 4]);

    // Only an end date: today through the end (a span of seven days is allowed).
    let r = call(&server.url, &demo, page, &[("enddate", "20261129")]).await;
    assert_eq!(r.code(), 0, "{}", r.text);
    let dates = r.tags("Date");
    assert_eq!(dates.len(), 32);
    assert_eq!(
        (dates[0].as_str(), dates[31].as_str()),
        ("20261122", "20261129")
    );
    assert_eq!(
        r.tags("TimeSpanIndex")[..8],
        ["1", "2", "3", "4", "1", "2", "3", "4"]
    );
    // Past dates can be read too.
    let r = call(&server.url, &demo, page, &[("startdate", "20261101")]).await;
    assert_eq!(r.tags("Date"), vec!["20261101"; 4]);
    server.stop().await;
}

#[tokio::test]
async fn time_segment_error_codes() {
    let server = TestServer::start().await;
    with_extra(&server).await;
    let demo = Agent::demo();
    let page = "GetTimeSegment.aspx";
    for params in [
        vec![("startdate", "2026-11-22")],
        vec![("enddate", "20261332")],
        vec![("startdate", "20261122"), ("enddate", "2026112")],
    ] {
        let r = call(&server.url, &demo, page, &params).await;
        expect_err(&r, -1901, codes::PARAM_ERROR, Some(KEY));
    }
    let r = call(
        &server.url,
        &demo,
        page,
        &[("startdate", "20261122"), ("enddate", "20261130")],
    )
    .await;
    expect_err(&r, -2351, codes::SEGMENT_SPAN, Some(KEY));
    let r = call(&server.url, &demo, page, &[("enddate", "20261130")]).await;
    expect_err(&r, -2351, codes::SEGMENT_SPAN, Some(KEY));
    for params in [
        vec![("servicecode", "09")],
        vec![("startdate", "20261123"), ("enddate", "20261122")],
        vec![("enddate", "20261121")],
    ] {
        let r = call(&server.url, &demo, page, &params).await;
        expect_err(&r, -2352, codes::SEGMENT_NONE, Some(KEY));
    }
    // Not segmented.
    let a = jq02();
    let r = call(&server.url, &a, page, &[]).await;
    expect_err(&r, -1, codes::OTHER_ERROR, Some(&a.key));
    // A line without segments finds nothing.
    let mut v = (*venue(&server, "JQ01")).clone();
    for l in &mut v.lines {
        l.segments.clear();
    }
    replace_venue(&server, v).await;
    let r = call(&server.url, &demo, page, &[]).await;
    expect_err(&r, -2352, codes::SEGMENT_NONE, Some(KEY));
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Storage failures (a fault-injecting store, so on SQLite and PostgreSQL alike)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn storage_failures_name_no_database_details() {
    let (server, faults) = TestServer::start_with_faults(|_| {}).await;
    let demo = Agent::demo();
    // The first call caches the agent's runtime settings, so the next ones reach the page.
    let r = call(&server.url, &demo, "GetProducts.aspx", &[]).await;
    assert_eq!(r.code(), 0, "{}", r.text);
    faults.fail_all();
    // The documented generic failure (-1, "调用失败，失败原因：") with our reason, signed.
    let failed = "调用失败，失败原因：数据访问失败，请稍后重试；";
    let r = call(
        &server.url,
        &demo,
        "GetProductsInventory.aspx",
        &[("StartDate", "20261122"), ("EndDate", "20261122")],
    )
    .await;
    expect_err(&r, -1, failed, Some(KEY));
    let inventory = r.text;
    let hits = faults.injected();
    assert!(hits > 0, "the inventory read reached the store");
    let r = call(&server.url, &demo, "GetTimeSegment.aspx", &[]).await;
    expect_err(&r, -1, failed, Some(KEY));
    assert!(
        faults.injected() > hits,
        "the segment read reached the store"
    );
    for text in [&inventory, &r.text] {
        for leak in [
            "SQLSTATE",
            "relation",
            "visit_orders",
            "10.0.0.5",
            "injected",
        ] {
            assert!(!text.contains(leak), "{leak}: {text}");
        }
    }
    // Pages that read only the catalogue still answer.
    let r = call(&server.url, &demo, "GetServiceItem.aspx", &[]).await;
    assert_eq!(r.code(), 0, "{}", r.text);
    faults.heal();
    server.stop().await;
}

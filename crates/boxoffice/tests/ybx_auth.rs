//! Authentication of every 游宝星 page over HTTP, in the documented order (catalogue §2.8):
//! missing COMMON fields, unknown user, disabled account, wrong or undecryptable password, bad
//! signature, unsupported signature options — each page answering with its own codes and texts.

mod common;
use common::ybx::*;
use common::*;

const A_MISSING: (i64, &str) = (-1901, "参数错误。");
const A_UNKNOWN: (i64, &str) = (-2201, "当前用户不存在。");
const A_DISABLED: (i64, &str) = (-2202, "当前账户已禁用。");
const PLAIN_MISSING: (i64, &str) = (-1, "用户名、密码 或 密钥 不正确；");
const PLAIN_UNKNOWN: (i64, &str) = (-1, "没有这个互联网账户或者互联网账户被禁用；");

/// A code and its message.
type Code = (i64, &'static str);

/// Every agent page with the codes it answers for a missing field, an unknown user and a
/// disabled account.
fn pages() -> Vec<(&'static str, Code, Code, Code)> {
    let plain = (PLAIN_MISSING, PLAIN_UNKNOWN, PLAIN_UNKNOWN);
    let a = (A_MISSING, A_UNKNOWN, A_DISABLED);
    let bare = (
        (-1901, "参数错误"),
        (-2201, "当前用户不存在，"),
        (-2202, "当前账户已禁用"),
    );
    let order = ((-1501, "参数错误"), PLAIN_UNKNOWN, PLAIN_UNKNOWN);
    let set = (
        (-1901, "参数错误"),
        (-2201, "当前用户不存在。"),
        (-2202, "当前用户已禁用。"),
    );
    [
        ("GetProducts.aspx", plain),
        ("GetProductsInventory.aspx", plain),
        ("QueryPruductStatus.aspx", plain),
        ("GetProviderConfig.aspx", bare),
        ("GetAgentParameters.aspx", bare),
        ("GetServiceItem.aspx", plain),
        ("GetTimeSegment.aspx", bare),
        ("OrderProducts.aspx", order),
        ("OrderAndPayWithYDJ.aspx", a),
        ("OrderAndPayWithFK.aspx", a),
        ("CancelOrder.aspx", a),
        ("QueryOrder.aspx", a),
        ("QueryOrdersList.aspx", a),
        ("QueryOrderPageListCount.aspx", a),
        ("GetProductsIdentity.aspx", plain),
        ("ReadyToPay.aspx", plain),
        ("UseAccountToPay.aspx", a),
        ("UseAccountToPayByPwd.aspx", a),
        ("ReadyToPayByFK.aspx", plain),
        ("UseAccountToPayByFK.aspx", a),
        ("UseAccountToPayByFKWithPwd.aspx", a),
        ("UseFKAccountToPayByPwd.aspx", a),
        ("GetVerificationCode.aspx", plain),
        ("ChangePayPwd.aspx", a),
        ("GetPayChannel.aspx", plain),
        ("BeginToPay.aspx", plain),
        ("ActivateTicket.aspx", plain),
        ("GetTicketList.aspx", plain),
        ("GetTicketContext.aspx", plain),
        ("ReMakeTicket.aspx", plain),
        ("SetAgentParameters.aspx", set),
    ]
    .into_iter()
    .map(|(p, (m, u, d))| (p, m, u, d))
    .collect()
}

const OFF_KEY: &str = "11111111-2222-3333-4444-555555555555";

async fn server_with_a_disabled_agent() -> TestServer {
    let server = TestServer::start().await;
    server
        .app
        .apply_catalog(&format!(
            r#"
[[partner]]
code = "off-agent"
name = "停用代理"
venues = ["JQ01"]
[[partner.credential]]
protocol = "ybx"
key = "off-agent"
secret = "{OFF_KEY}"
options = {{ login_md5 = "A540459139867E3EB98F0686EE199B2A", enabled = false }}
"#
        ))
        .await
        .expect("catalogue");
    server
}

#[tokio::test]
async fn every_page_answers_the_authentication_failures_with_its_own_codes() {
    let server = server_with_a_disabled_agent().await;
    let a = Agent::demo();
    let off = Agent {
        user: "off-agent".into(),
        key: OFF_KEY.into(),
        password: "demo-pass".into(),
    };
    let ghost = Agent {
        user: "ghost".into(),
        ..Agent::demo()
    };
    let wrong = Agent {
        password: "wrong".into(),
        ..Agent::demo()
    };
    for (page, missing, unknown, disabled) in pages() {
        for drop in ["user", "password", "sign"] {
            let p: Vec<(String, String)> = a
                .signed(&[])
                .into_iter()
                .filter(|(k, _)| k != drop)
                .collect();
            let r = get_raw(&server.url, page, &p).await;
            assert_eq!(
                (r.code(), r.msg()),
                (missing.0, missing.1.to_string()),
                "{page} without {drop}"
            );
            assert_eq!(
                r.tag("sign").as_deref(),
                Some(""),
                "{page}: unidentified callers get an empty sign"
            );
        }
        let r = call(&server.url, &ghost, page, &[]).await;
        assert_eq!(
            (r.code(), r.msg()),
            (unknown.0, unknown.1.to_string()),
            "{page} unknown user"
        );
        let r = call(&server.url, &off, page, &[]).await;
        assert_eq!(
            (r.code(), r.msg()),
            (disabled.0, disabled.1.to_string()),
            "{page} disabled"
        );
        assert!(
            r.signed_by(OFF_KEY),
            "{page}: the answer is signed with the caller's key"
        );
        let r = call(&server.url, &wrong, page, &[]).await;
        r.expect(-1, "用户名、密码 或 密钥 不正确；");
        assert!(r.signed_by(KEY));
        // A password that does not decrypt is a wrong password.
        let mut p = a.signed(&[]);
        for (k, v) in p.iter_mut() {
            if k == "password" {
                *v = "not-a-ciphertext".into();
            }
        }
        let p: Vec<(String, String)> = p.into_iter().filter(|(k, _)| k != "sign").collect();
        let refs: Vec<(&str, &str)> = p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let s = boxoffice_ybx::crypto::sign(&refs, KEY);
        let mut p = p.clone();
        p.push(("sign".into(), s));
        get_raw(&server.url, page, &p)
            .await
            .expect(-1, "用户名、密码 或 密钥 不正确；");
        // A wrong signature, also over POST.
        let mut p = a.signed(&[("extra", "1")]);
        for (k, v) in p.iter_mut() {
            if k == "extra" {
                *v = "2".into();
            }
        }
        get_raw(&server.url, page, &p)
            .await
            .expect(-1, "签名不正确，不能完成操作；");
        post_raw(&server.url, page, &p)
            .await
            .expect(-1, "签名不正确，不能完成操作；");
        // Unsupported signature options are signature errors.
        for (k, v) in [
            ("sign_type", "RSA"),
            ("input_charset", "GBK"),
            ("sign_key_index", "2"),
        ] {
            let p = a.signed(&[(k, v)]);
            get_raw(&server.url, page, &p)
                .await
                .expect(-1, "签名不正确，不能完成操作；");
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn a_theatre_supplier_refuses_scenic_pages() {
    let server = TestServer::start().await;
    server
        .app
        .apply_catalog(
            r#"
[[venue]]
code = "JC01"
name = "示例剧场"
kind = "theatre"
links = { ybx = "JC01" }

[[partner]]
code = "theatre-agent"
name = "剧场代理"
venues = ["JC01"]
[[partner.credential]]
protocol = "ybx"
key = "theatre-agent"
secret = "22222222-3333-4444-5555-666666666666"
options = { login_md5 = "A540459139867E3EB98F0686EE199B2A" }
"#,
        )
        .await
        .expect("catalogue");
    let t = Agent {
        user: "theatre-agent".into(),
        key: "22222222-3333-4444-5555-666666666666".into(),
        password: "demo-pass".into(),
    };
    for (page, ..) in pages() {
        call(&server.url, &t, page, &[])
            .await
            .expect(-1, "系统工作模式为 THEATER_MODE，不支持此项操作...");
    }
    server.stop().await;
}

#[tokio::test]
async fn payment_notifications_and_unknown_pages_are_not_agent_pages() {
    let server = TestServer::start().await;
    for page in [
        "NoSuchPage.aspx",
        "GetProducts2.aspx",
        "RefundTicket.aspx",
        "POST/x/GetProducts.aspx",
    ] {
        let r = get_raw(&server.url, page, &[]).await;
        assert_eq!(r.status, 404, "{page}");
    }
    // Notification endpoints answer the platforms' way, without COMMON.
    let r = get_raw(&server.url, "notify_url.aspx", &[]).await;
    assert_eq!((r.status, r.text.as_str()), (200, "fail"));
    let r = get_raw(&server.url, "WECHATNOTIFY.aspx", &[]).await;
    assert!(
        r.text
            .contains("<return_code><![CDATA[FAIL]]></return_code>"),
        "{}",
        r.text
    );
    server.stop().await;
}

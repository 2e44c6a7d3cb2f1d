//! Safe by default: a server configured like `boxoffice serve` (no `sandbox = true`) has no
//! payment simulator, accepts no payment notification signed with the simulator's public test
//! keys, and offers no payment channel; a feature without its secret is refused at start-up
//! with the key named; and no URL the server calls comes from a request's `Host` header.

mod common;
use boxoffice_core::clock::ManualClock;
use boxoffice_core::scenic::VisitState;
use boxoffice_server::config::{Config, PaymentGatewayKind, PublicUrl};
use boxoffice_server::testing::{fresh_database, test_start};
use boxoffice_server::App;
use boxoffice_ybx::epay::{gateway_form, gateway_notification, wechat_notification};
use boxoffice_ybx::GatewayKeys;
use common::ybx::*;
use common::*;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const VISIT: &str = "20261123";
/// The WeChat answer of a refused notification.
const WECHAT_FAIL: &str =
    "<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[ERROR]]></return_msg></xml>";
/// The WeChat answer of an accepted notification.
const WECHAT_OK: &str =
    "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>";

/// Books two adult tickets as the demo agent; answers the order number.
async fn book(base: &str) -> String {
    let a = Agent::demo();
    let params = [
        ("Order_list".to_string(), format!("{ADULT}|2")),
        ("Mobile".into(), a.enc("13800138000")),
        ("ID".into(), a.enc("430103198001010011")),
        ("SXRQ".into(), a.enc(VISIT)),
        ("timespanindex".into(), "1".into()),
    ];
    let refs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = call(base, &a, "OrderProducts.aspx", &refs).await;
    r.expect(0, "");
    r.tag("orderid").expect("orderid")
}

/// Starts a payment of an order; answers the reply.
async fn begin_to_pay(base: &str, number: &str, channel: &str) -> XmlReply {
    call(
        base,
        &Agent::demo(),
        "BeginToPay.aspx",
        &[("Order_id", number), ("Paychannelid", channel)],
    )
    .await
}

async fn state(server: &TestServer, number: &str) -> VisitState {
    server
        .app
        .service
        .store()
        .visit_order_by_number(number)
        .await
        .expect("order")
        .expect("exists")
        .state
}

/// POSTs a form to a notification page; answers status and body.
async fn notify_form(base: &str, page: &str, form: &[(String, String)]) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(format!("{base}/ybx/POST/{page}"))
        .form(form)
        .send()
        .await
        .expect("notify");
    (r.status().as_u16(), r.text().await.expect("text"))
}

/// POSTs a WeChat XML body to `WeChatNotify.aspx`; answers status and body.
async fn notify_wechat(base: &str, xml: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(format!("{base}/ybx/WeChatNotify.aspx"))
        .header("content-type", "text/xml")
        .body(xml.to_string())
        .send()
        .await
        .expect("notify");
    (r.status().as_u16(), r.text().await.expect("text"))
}

async fn status_of(req: reqwest::RequestBuilder) -> u16 {
    req.send().await.expect("request").status().as_u16()
}

/// A sandbox server on `db` starts an Alipay and a WeChat payment of two orders and keeps the
/// notifications its simulator would send (signed with the built-in test keys).
struct Started {
    alipay_order: String,
    alipay_trade: String,
    alipay_form: Vec<(String, String)>,
    wechat_order: String,
    wechat_xml: String,
}

async fn start_payments_in_the_sandbox(db: &str) -> Started {
    let sandbox = TestServer::start_on(db, |_| {}).await;
    let alipay_order = book(&sandbox.url).await;
    let r = begin_to_pay(&sandbox.url, &alipay_order, "01").await;
    r.expect(0, "");
    let alipay_trade = r.tag("outtradeno").expect("trade");
    // Positive control: the sandbox's simulator page exists.
    let page = reqwest::get(format!("{}/ybx/paysim/{alipay_trade}", sandbox.url))
        .await
        .expect("page");
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.expect("html").contains("确认支付"));
    let wechat_order = book(&sandbox.url).await;
    let r = begin_to_pay(&sandbox.url, &wechat_order, "02").await;
    r.expect(0, "");
    let wechat_trade = r.tag("outtradeno").expect("trade");
    let payment = sandbox
        .app
        .service
        .store()
        .visit_payment(&wechat_trade)
        .await
        .expect("payment")
        .expect("exists");
    let started = Started {
        alipay_form: gateway_notification(&sandbox.app.ybx, &alipay_order, true, false),
        wechat_xml: wechat_notification(&sandbox.app.ybx, &payment, &wechat_order, true),
        alipay_order,
        alipay_trade,
        wechat_order,
    };
    assert!(!started.alipay_form.is_empty() && !started.wechat_xml.is_empty());
    sandbox.stop().await;
    started
}

#[tokio::test]
async fn without_sandbox_there_is_no_simulator_no_channel_and_no_accepted_notification() {
    let (db, _dir) = fresh_database(TestStore::from_env()).await;
    let p = start_payments_in_the_sandbox(&db).await;

    // The same database served like `boxoffice serve` with only a database configured.
    let server = TestServer::start_on(&db, |c| c.sandbox = false).await;
    let http = reqwest::Client::new();
    let sim = format!("{}/ybx/paysim/{}", server.url, p.alipay_trade);
    assert_eq!(status_of(http.get(&sim)).await, 404);
    assert_eq!(
        status_of(http.post(&sim).form(&[("action", "confirm")])).await,
        404
    );
    // Notifications signed with the simulator's keys (which are in the source) are refused.
    for page in ["notify_url.aspx", "notify_Payback_url.aspx"] {
        assert_eq!(
            notify_form(&server.url, page, &p.alipay_form).await,
            (200, "fail".to_string()),
            "{page}"
        );
    }
    assert_eq!(
        notify_wechat(&server.url, &p.wechat_xml).await,
        (200, WECHAT_FAIL.to_string())
    );
    assert_eq!(state(&server, &p.alipay_order).await, VisitState::Booked);
    assert_eq!(state(&server, &p.wechat_order).await, VisitState::Booked);
    // No channel is offered and no payment can start.
    call(&server.url, &Agent::demo(), "GetPayChannel.aspx", &[])
        .await
        .expect(-1, "没有获取到相关支付的渠道信息。");
    for channel in ["01", "02", "支付宝"] {
        begin_to_pay(&server.url, &p.alipay_order, channel)
            .await
            .expect(-2001, "不支持的支付方式；");
    }
    server.stop().await;

    // Positive control: the very same notifications pay the orders in the sandbox.
    let sandbox = TestServer::start_on(&db, |_| {}).await;
    assert_eq!(
        notify_form(&sandbox.url, "notify_url.aspx", &p.alipay_form).await,
        (200, "success".to_string())
    );
    assert_eq!(
        notify_wechat(&sandbox.url, &p.wechat_xml).await,
        (200, WECHAT_OK.to_string())
    );
    assert_eq!(
        state(&sandbox, &p.alipay_order).await,
        VisitState::Delivered
    );
    assert_eq!(
        state(&sandbox, &p.wechat_order).await,
        VisitState::Delivered
    );
    sandbox.stop().await;
}

const REAL_KEY: &str = "a-production-gateway-key-from-the-vault";

#[tokio::test]
async fn an_external_gateway_links_to_its_page_and_accepts_only_its_own_key() {
    let (db, _dir) = fresh_database(TestStore::from_env()).await;
    let server = TestServer::start_on(&db, |c| {
        c.sandbox = false;
        c.ybx.payment_gateway = Some(PaymentGatewayKind::External);
        c.ybx.gateway_key = Some(REAL_KEY.into());
        c.ybx.payment_url =
            Some("https://pay.example.com/cashier?trade={out_trade_no}&amount={total}".into());
    })
    .await;
    let number = book(&server.url).await;
    let r = begin_to_pay(&server.url, &number, "01").await;
    r.expect(0, "");
    let trade = r.tag("outtradeno").expect("trade");
    assert_eq!(
        r.tag("payurl"),
        Some(format!(
            "https://pay.example.com/cashier?trade={trade}&amount=240.00"
        ))
    );
    assert!(r.text.contains("&amp;amount=240.00</payurl>"), "{}", r.text);
    // The simulator is a sandbox feature even when a gateway is configured.
    let sim = format!("{}/ybx/paysim/{trade}", server.url);
    assert_eq!(status_of(reqwest::Client::new().get(&sim)).await, 404);
    // Signed with the simulator's test key: refused.
    let test_key = GatewayKeys::sandbox().gateway_key;
    let forged = gateway_form(&test_key, &number, true, false);
    assert_eq!(
        notify_form(&server.url, "notify_url.aspx", &forged).await,
        (200, "fail".to_string())
    );
    assert_eq!(state(&server, &number).await, VisitState::Booked);
    // No WeChat merchant configured: WeChat notifications are refused.
    assert_eq!(
        notify_wechat(&server.url, "<xml><mch_id>1900000109</mch_id></xml>").await,
        (200, WECHAT_FAIL.to_string())
    );
    // Signed with the configured key: the order is paid (and delivered on payment).
    let real = gateway_form(&REAL_KEY.into(), &number, true, false);
    assert_eq!(
        notify_form(&server.url, "notify_url.aspx", &real).await,
        (200, "success".to_string())
    );
    assert_eq!(state(&server, &number).await, VisitState::Delivered);
    server.stop().await;
}

/// Opens an app on a fresh database; answers the error message of a refused start.
async fn open_refused(tweak: impl FnOnce(&mut Config)) -> String {
    let (db, _dir) = fresh_database(TestStore::from_env()).await;
    let mut config = Config::for_database(&db);
    tweak(&mut config);
    match App::open(&config, Arc::new(ManualClock::new(test_start()))).await {
        Ok(app) => {
            app.store.close().await;
            panic!("started: {config:?}")
        }
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn start_up_is_refused_when_an_enabled_feature_lacks_its_secret() {
    let e = open_refused(|c| {
        c.ybx.payment_gateway = Some(PaymentGatewayKind::External);
        c.ybx.payment_url = Some("https://pay.example.com/{out_trade_no}".into());
    })
    .await;
    assert_eq!(
        e,
        "invalid configuration: ybx.gateway_key is required when ybx.payment_gateway = \"external\""
    );
    let e = open_refused(|c| c.ybx.payment_gateway = Some(PaymentGatewayKind::Simulator)).await;
    assert_eq!(
        e,
        "invalid configuration: sandbox is required when ybx.payment_gateway = \"simulator\" (a sandbox feature)"
    );
    let e = open_refused(|c| {
        c.sandbox = true;
        c.ybx.wechat_key = Some("a-wechat-key".into());
    })
    .await;
    assert_eq!(
        e,
        "invalid configuration: ybx.wechat_mch_id is required when ybx.wechat_key is set"
    );
}

/// Runs `boxoffice serve` on a configuration file; answers its exit success and output, or
/// panics when it is still running after 30 s.
fn run_serve(config: &str, env: &[(&str, &str)]) -> (bool, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("boxoffice.toml");
    std::fs::write(&file, config).expect("config");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_boxoffice"));
    cmd.args(["serve", "--config"])
        .arg(&file)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn boxoffice serve");
    let end = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() >= end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("boxoffice serve did not refuse the configuration");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn the_binary_refuses_a_gateway_without_its_key_and_warns_of_unknown_variables() {
    let (db, _dir) = fresh_database(TestStore::from_env()).await;
    let config = format!(
        "database = \"{db}\"\nlisten = \"127.0.0.1:0\"\n\
         [ybx]\npayment_gateway = \"external\"\npayment_url = \"https://pay.example.com/{{out_trade_no}}\"\n"
    );
    let (ok, out) = run_serve(&config, &[("BOXOFFICE_HOLD_MINTUES", "5")]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("ybx.gateway_key is required when ybx.payment_gateway = \"external\""),
        "{out}"
    );
    assert!(
        out.contains(
            "environment variable BOXOFFICE_HOLD_MINTUES is not a configuration key; it is ignored"
        ),
        "{out}"
    );
    // A bad value is refused with its key named.
    let (ok, out) = run_serve(
        &format!("database = \"{db}\"\nsqlite_synchronous = \"SOMETIMES\"\n"),
        &[],
    );
    assert!(!ok, "{out}");
    assert!(
        out.contains("sqlite_synchronous: unknown variant `SOMETIMES`"),
        "{out}"
    );
}

/// An HTTP server that records the path and `Host` of every request and answers `success`.
struct Recorder {
    url: String,
    address: String,
    seen: Arc<Mutex<Vec<(String, String)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Recorder {
    async fn start() -> Recorder {
        let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let log = seen.clone();
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let log = log.clone();
            async move {
                let host = req
                    .headers()
                    .get("host")
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                log.lock()
                    .expect("log")
                    .push((req.uri().path().to_string(), host));
                "success"
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Recorder {
            url: format!("http://{address}"),
            address,
            seen,
            task,
        }
    }

    fn paths(&self) -> Vec<String> {
        let seen = self.seen.lock().expect("log");
        seen.iter().map(|(p, _)| p.clone()).collect()
    }

    /// Waits (up to 10 s) until `k` requests arrived; answers their paths.
    async fn wait_for(&self, k: usize) -> Vec<String> {
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            let paths = self.paths();
            if paths.len() >= k {
                return paths;
            }
            assert!(Instant::now() < end, "waited for {k} requests: {paths:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The payer confirms on the simulator page with a request whose `Host` header names `host`
/// (written by hand so that nothing rewrites it); answers the page.
async fn confirm_with_host(server: &str, trade: &str, host: &str) -> String {
    let address = server.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let body = "action=confirm";
    let request = format!(
        "POST /ybx/paysim/{trade} HTTP/1.1\r\nHost: {host}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write request");
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .await
        .expect("read answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    answer
}

#[tokio::test]
async fn the_simulator_notifies_the_configured_public_url_never_the_host_of_the_request() {
    let decoy = Recorder::start().await;
    let public = Recorder::start().await;
    let (db, _dir) = fresh_database(TestStore::from_env()).await;
    let base = PublicUrl::try_from(format!("{}/", public.url)).expect("url");
    let server = TestServer::start_on(&db, |c| c.public_url = Some(base)).await;
    let number = book(&server.url).await;
    let r = begin_to_pay(&server.url, &number, "01").await;
    r.expect(0, "");
    let trade = r.tag("outtradeno").expect("trade");
    assert_eq!(
        r.tag("payurl"),
        Some(format!("{}/ybx/paysim/{trade}", public.url))
    );
    let page = confirm_with_host(&server.url, &trade, &decoy.address).await;
    assert!(page.contains("<code>success</code>"), "{page}");
    let wechat = book(&server.url).await;
    let r = begin_to_pay(&server.url, &wechat, "02").await;
    r.expect(0, "");
    let trade = r.tag("outtradeno").expect("trade");
    confirm_with_host(&server.url, &trade, &decoy.address).await;
    // Both notifications reached the configured public URL …
    assert_eq!(
        public.wait_for(2).await,
        ["/ybx/POST/notify_url.aspx", "/ybx/WeChatNotify.aspx"]
    );
    // … and, once they had, nothing had gone to the address named by Host.
    assert_eq!(decoy.paths(), Vec::<String>::new());
    server.stop().await;
}

#[tokio::test]
async fn without_public_url_the_simulator_notifies_the_listen_address() {
    let decoy = Recorder::start().await;
    let server = TestServer::start().await;
    let number = book(&server.url).await;
    let r = begin_to_pay(&server.url, &number, "01").await;
    r.expect(0, "");
    let trade = r.tag("outtradeno").expect("trade");
    assert_eq!(r.tag("payurl"), Some(format!("/ybx/paysim/{trade}")));
    let page = confirm_with_host(&server.url, &trade, &decoy.address).await;
    // The simulator answers once the notification was answered: the server itself paid it.
    assert!(page.contains("<code>success</code>"), "{page}");
    assert_eq!(state(&server, &number).await, VisitState::Delivered);
    assert_eq!(decoy.paths(), Vec::<String>::new());
    server.stop().await;
}

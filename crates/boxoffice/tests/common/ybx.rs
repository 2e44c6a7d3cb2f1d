//! A 游宝星 client for tests: builds COMMON parameters (user, TripleDes password, Tenpay-style
//! sign), sends GET or POST requests and reads the XML answer.

use boxoffice_ybx::crypto::triple_des;

/// The signature recipe of the catalogue (§2.6, "REC"; the original document names the fields
/// but not the recipe), written here from its text alone so that tests never take an expected
/// signature from the production code they test. Checked against the catalogue's worked example
/// in `ybx_xml.rs`.
pub mod oracle {
    use md5::{Digest, Md5};

    /// `UPPER(HEX(MD5(UTF8(text))))`.
    pub fn md5_upper(text: &str) -> String {
        Md5::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect()
    }

    /// The request (and callback) signature: every parameter except `sign`, names lower-cased
    /// (the first occurrence of a name wins), empty values dropped, sorted by name byte-wise,
    /// `name=value&…&key=KEY`, MD5 upper-case hex.
    pub fn request_sign<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)], key: &str) -> String {
        let mut first: std::collections::BTreeMap<String, &str> = Default::default();
        for (k, v) in params {
            first
                .entry(k.as_ref().to_ascii_lowercase())
                .or_insert(v.as_ref());
        }
        let mut s = String::new();
        for (k, v) in first {
            if k != "sign" && !v.is_empty() {
                s += &format!("{k}={v}&");
            }
        }
        md5_upper(&format!("{s}key={key}"))
    }

    /// Whether `given` is the request signature of `params` (case-insensitive hex).
    pub fn request_sign_ok<K: AsRef<str>, V: AsRef<str>>(
        params: &[(K, V)],
        key: &str,
        given: &str,
    ) -> bool {
        request_sign(params, key) == given.to_ascii_uppercase()
    }

    /// An answer's `<sign>`: MD5 of `retcode=…&retmsg=…&key=KEY`, upper-case hex.
    pub fn response_sign(retcode: &str, retmsg: &str, key: &str) -> String {
        md5_upper(&format!("retcode={retcode}&retmsg={retmsg}&key={key}"))
    }
}

use oracle::md5_upper;

/// The demo agent's data key.
pub const KEY: &str = "6F9619FF-8B86-D011-B42D-00C04FC964FF";
/// The second demo agent's data key.
pub const KEY2: &str = "3F2504E0-4F89-11D3-9A0C-0305E82C3301";
/// Demo products.
pub const ADULT: &str = "8A1F0C2E-0001-4C6B-9E51-3D2A7B000001";
/// Real-name, one ticket per person, one per ID and day.
pub const REAL_NAME: &str = "8A1F0C2E-0002-4C6B-9E51-3D2A7B000002";
/// Ten-for-one group ticket (min 10).
pub const GROUP: &str = "8A1F0C2E-0003-4C6B-9E51-3D2A7B000003";
/// No quota.
pub const UNLIMITED: &str = "8A1F0C2E-0004-4C6B-9E51-3D2A7B000004";
/// Inventory without a daily maximum (-1502).
pub const NO_MAX: &str = "8A1F0C2E-0005-4C6B-9E51-3D2A7B000005";

/// Who calls.
#[derive(Debug, Clone)]
pub struct Agent {
    /// `user`.
    pub user: String,
    /// Data key.
    pub key: String,
    /// Login password (plain).
    pub password: String,
}

impl Agent {
    /// `demo-agent` / `demo-pass`.
    pub fn demo() -> Agent {
        Agent {
            user: "demo-agent".into(),
            key: KEY.into(),
            password: "demo-pass".into(),
        }
    }
    /// `demo-agent2` / `demo-pass`.
    pub fn demo2() -> Agent {
        Agent {
            user: "demo-agent2".into(),
            key: KEY2.into(),
            password: "demo-pass".into(),
        }
    }
    /// `TripleDes(value, key)` under this agent's key.
    pub fn enc(&self, value: &str) -> String {
        triple_des(value, &self.key)
    }
    /// The encrypted payment password field for `pw`.
    pub fn pay(&self, pw: &str) -> String {
        triple_des(&md5_upper(pw), &self.key)
    }
    /// `params` plus user, password and sign.
    pub fn signed(&self, params: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        all.push(("user".into(), self.user.clone()));
        all.push((
            "password".into(),
            triple_des(&md5_upper(&self.password), &self.key),
        ));
        all.push(("sign_type".into(), "MD5".into()));
        let s = oracle::request_sign(&all, &self.key);
        all.push(("sign".into(), s));
        all
    }
}

/// An answer as a test sees it.
#[derive(Debug, Clone)]
pub struct XmlReply {
    /// HTTP status.
    pub status: u16,
    /// Content-Type.
    pub content_type: String,
    /// Body.
    pub text: String,
}

impl XmlReply {
    /// `retcode`.
    pub fn code(&self) -> i64 {
        self.tag("retcode")
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("no retcode in {}", self.text))
    }
    /// `retmsg`.
    pub fn msg(&self) -> String {
        self.tag("retmsg").unwrap_or_default()
    }
    /// The text of the first `<name>` element.
    pub fn tag(&self, name: &str) -> Option<String> {
        self.tags(name).into_iter().next()
    }
    /// The texts of every `<name>` element, in order.
    pub fn tags(&self, name: &str) -> Vec<String> {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let mut out = Vec::new();
        let mut rest = self.text.as_str();
        while let Some(i) = rest.find(&open) {
            let after = &rest[i + open.len()..];
            let Some(j) = after.find(&close) else { break };
            out.push(unescape(&after[..j]));
            rest = &after[j + close.len()..];
        }
        out
    }
    /// Asserts the code and message.
    #[track_caller]
    pub fn expect(&self, code: i64, msg: &str) {
        assert_eq!(
            (self.code(), self.msg().as_str()),
            (code, msg),
            "answer: {}",
            self.text
        );
    }
    /// Whether `<sign>` is the response signature under `key`.
    pub fn signed_by(&self, key: &str) -> bool {
        let s = oracle::response_sign(&self.code().to_string(), &self.msg(), key);
        self.tag("sign").as_deref() == Some(s.as_str())
    }
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// GET `/ybx/<page>` with exactly these parameters (nothing added).
pub async fn get_raw(base: &str, page: &str, params: &[(String, String)]) -> XmlReply {
    let url = format!("{base}/ybx/{page}");
    let resp = reqwest::Client::new()
        .get(url)
        .query(params)
        .send()
        .await
        .expect("request");
    read(resp).await
}

/// POST `/ybx/POST/<page>` with exactly these form parameters.
pub async fn post_raw(base: &str, page: &str, params: &[(String, String)]) -> XmlReply {
    let url = format!("{base}/ybx/POST/{page}");
    let resp = reqwest::Client::new()
        .post(url)
        .form(params)
        .send()
        .await
        .expect("request");
    read(resp).await
}

async fn read(resp: reqwest::Response) -> XmlReply {
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = resp.text().await.expect("body");
    XmlReply {
        status,
        content_type,
        text,
    }
}

/// GET a page as `agent` (COMMON added and signed).
pub async fn call(base: &str, agent: &Agent, page: &str, params: &[(&str, &str)]) -> XmlReply {
    get_raw(base, page, &agent.signed(params)).await
}

/// POST a page as `agent` (COMMON added and signed).
pub async fn post(base: &str, agent: &Agent, page: &str, params: &[(&str, &str)]) -> XmlReply {
    post_raw(base, page, &agent.signed(params)).await
}

//! A 游宝星 agent's callback folder for tests: an HTTP server on 127.0.0.1 that records every
//! callback (page and parameters), checks its COMMON block and sign with the agent's key, and
//! can fail the first N calls of an order (HTTP 500 or `retcode` -1) or hold calls for a while.

use super::ybx::oracle::{md5_upper, request_sign_ok};
use super::ybx::{KEY, KEY2};
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use boxoffice_ybx::crypto::triple_des_decrypt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The answer of a successful callback.
pub const OK_ANSWER: &str =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><root><retcode>0</retcode><retmsg></retmsg></root>";
/// The answer of a callback failed with a retcode.
pub const FAIL_ANSWER: &str =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><root><retcode>-1</retcode><retmsg>busy</retmsg></root>";

/// How a failed call is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// HTTP 500 with an empty body.
    Http500,
    /// HTTP 200 with `retcode` -1.
    Retcode,
}

/// What the receiver answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    /// `retcode` 0.
    Ok,
    /// Failed on purpose.
    Failed(Failure),
}

/// One recorded callback.
#[derive(Debug, Clone)]
pub struct Callback {
    /// The request path (e.g. `/cb/Notify_OrderChanged.aspx`).
    pub path: String,
    /// The page name (last path segment).
    pub page: String,
    /// Parameters in the order sent.
    pub params: Vec<(String, String)>,
    /// The sign matches the agent's key and the COMMON block is as documented.
    pub sign_ok: bool,
    /// What was answered.
    pub answered: Answered,
}

impl Callback {
    /// A parameter's value, empty when absent.
    pub fn get(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
    /// The order number.
    pub fn order(&self) -> &str {
        self.get("orderid")
    }
    /// The sender id.
    pub fn sender(&self) -> &str {
        self.get("senderid")
    }
    /// Whether it was answered with success.
    pub fn ok(&self) -> bool {
        self.answered == Answered::Ok
    }
    /// A short label: `status` for order changes, else the page name.
    pub fn label(&self) -> String {
        if self.page == "Notify_OrderChanged.aspx" {
            self.get("status").to_string()
        } else {
            self.page.trim_end_matches(".aspx").to_string()
        }
    }
}

#[derive(Default)]
struct Inner {
    calls: Vec<Callback>,
    /// Remaining failures by order number or sender id.
    failing: HashMap<String, (usize, Failure)>,
    /// Delay before answering.
    delay: Duration,
    /// The body of answers not failed on purpose (`None`: [`OK_ANSWER`]).
    ok_answer: Option<String>,
}

/// The receiver; dropped with the test (its task is aborted).
pub struct CallbackReceiver {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for CallbackReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn key_of(user: &str) -> Option<&'static str> {
    match user {
        "demo-agent" => Some(KEY),
        "demo-agent2" => Some(KEY2),
        _ => None,
    }
}

/// Whether a callback's COMMON block and sign are right for its `user`.
fn check(params: &[(String, String)]) -> bool {
    let get = |n: &str| {
        params
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let Some(key) = key_of(get("user")) else {
        return false;
    };
    let common = get("sign_type") == "MD5"
        && get("service_version") == "1.0"
        && get("input_charset") == "UTF-8"
        && get("sign_key_index") == "1";
    let password = triple_des_decrypt(get("password"), key)
        .map(|p| p == md5_upper("demo-pass"))
        .unwrap_or(false);
    common && password && request_sign_ok(params, key, get("sign"))
}

async fn handle(
    State(inner): State<Arc<Mutex<Inner>>>,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Response {
    let path = uri.path().to_string();
    let page = path.rsplit('/').next().unwrap_or("").to_string();
    let params: Vec<(String, String)> =
        reqwest::Url::parse(&format!("http://x/?{}", query.unwrap_or_default()))
            .map(|u| u.query_pairs().into_owned().collect())
            .unwrap_or_default();
    let sign_ok = check(&params);
    let (answered, delay, ok_answer) = {
        let mut g = inner.lock().expect("receiver state");
        let order = params
            .iter()
            .find(|(k, _)| k == "orderid")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let sender = params
            .iter()
            .find(|(k, _)| k == "senderid")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let mut answered = Answered::Ok;
        for id in [order, sender] {
            if let Some((left, how)) = g.failing.get_mut(&id) {
                if *left > 0 {
                    *left -= 1;
                    answered = Answered::Failed(*how);
                    break;
                }
            }
        }
        g.calls.push(Callback {
            path,
            page,
            params,
            sign_ok,
            answered,
        });
        let ok_answer = g.ok_answer.clone().unwrap_or_else(|| OK_ANSWER.to_string());
        (answered, g.delay, ok_answer)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match answered {
        Answered::Ok => ok_answer.into_response(),
        Answered::Failed(Failure::Retcode) => FAIL_ANSWER.into_response(),
        Answered::Failed(Failure::Http500) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "").into_response()
        }
    }
}

impl CallbackReceiver {
    /// Starts a receiver on a free loopback port.
    pub async fn start() -> CallbackReceiver {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        CallbackReceiver { url, inner, task }
    }

    /// Fails the next `n` calls of an order (by order number or sender id).
    pub fn fail_first(&self, id: &str, n: usize, how: Failure) {
        self.inner
            .lock()
            .expect("receiver state")
            .failing
            .insert(id.to_string(), (n, how));
    }

    /// Stops failing an order's calls.
    pub fn heal(&self, id: &str) {
        self.inner
            .lock()
            .expect("receiver state")
            .failing
            .remove(id);
    }

    /// Answers every call not failed on purpose with `body` (HTTP 200) instead of [`OK_ANSWER`]
    /// (it is still recorded as [`Answered::Ok`]: what the server makes of it is the test's).
    pub fn set_ok_answer(&self, body: &str) {
        self.inner.lock().expect("receiver state").ok_answer = Some(body.to_string());
    }

    /// Holds every answer for `d` (zero: answer at once).
    pub fn set_delay(&self, d: Duration) {
        self.inner.lock().expect("receiver state").delay = d;
    }

    /// Every call so far, in arrival order.
    pub fn calls(&self) -> Vec<Callback> {
        self.inner.lock().expect("receiver state").calls.clone()
    }

    /// The calls of an order (by order number or sender id), in arrival order.
    pub fn calls_of(&self, id: &str) -> Vec<Callback> {
        self.calls()
            .into_iter()
            .filter(|c| c.order() == id || c.sender() == id)
            .collect()
    }

    /// The successfully answered calls of an order, in arrival order.
    pub fn delivered_of(&self, id: &str) -> Vec<Callback> {
        self.calls_of(id).into_iter().filter(|c| c.ok()).collect()
    }

    /// The labels of an order's successfully answered calls.
    pub fn labels_of(&self, id: &str) -> Vec<String> {
        self.delivered_of(id).iter().map(Callback::label).collect()
    }

    /// Waits until `pred` holds over the calls, polling every 50 ms; panics after `timeout`.
    pub async fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&[Callback]) -> bool,
    ) -> Vec<Callback> {
        let end = Instant::now() + timeout;
        loop {
            let calls = self.calls();
            if pred(&calls) {
                return calls;
            }
            if Instant::now() >= end {
                panic!("timed out waiting for {what}; calls: {calls:#?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `k` calls were answered with success (all orders).
    pub async fn wait_delivered(&self, k: usize, timeout: Duration) -> Vec<Callback> {
        self.wait_until(&format!("{k} delivered callbacks"), timeout, |c| {
            c.iter().filter(|c| c.ok()).count() >= k
        })
        .await
    }

    /// Waits until an order (order number or sender id) got `k` calls (any answer).
    pub async fn wait_calls_of(&self, id: &str, k: usize, timeout: Duration) -> Vec<Callback> {
        self.wait_until(&format!("{k} calls of {id}"), timeout, |c| {
            c.iter()
                .filter(|c| c.order() == id || c.sender() == id)
                .count()
                >= k
        })
        .await
    }

    /// Waits until an order (order number or sender id) got `k` successful calls.
    pub async fn wait_delivered_of(&self, id: &str, k: usize, timeout: Duration) -> Vec<Callback> {
        self.wait_until(&format!("{k} delivered callbacks of {id}"), timeout, |c| {
            c.iter()
                .filter(|c| c.ok() && (c.order() == id || c.sender() == id))
                .count()
                >= k
        })
        .await
    }
}

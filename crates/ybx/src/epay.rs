//! Instant payment: GetPayChannel (4.2.6), BeginToPay (4.2.7), the payment platforms'
//! notifications (4.2.22: `notify_url.aspx` / `notify_Payback_url.aspx` with TripleDes fields
//! and an MD5 `Sign` under the gateway key; `WeChatNotify.aspx` with a WeChat Pay v2 XML body),
//! and the built-in payment simulator (`/ybx/paysim/{trade}`: the payer confirms or declines,
//! and the simulator sends the platform's signed notification to this server over HTTP).
//!
//! A receipt moves the order 0 → 5 → 6 (→ 5 only when the supplier approves payments by hand)
//! in one transaction that also marks the payment succeeded — a repeated notification finds
//! the payment settled and changes nothing. Then, as V4.0 says, delivery follows in a second
//! transaction (6 → 3) when the supplier activates on payment. Money that arrives for a closed
//! order becomes a refund application (→ 7); a second payment of a paid order is recorded for
//! refund. Nothing answered `success` is lost.

use crate::booking::issue_tickets;
use crate::crypto::{md5_upper, sign, triple_des, triple_des_decrypt};
use crate::route::{failure, Ctx};
use crate::xml::{escape_into, money, Answer, Xml};
use crate::{GatewayKeys, Payments, WeChatMerchant, Ybx, PROTOCOL};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use boxoffice_core::scenic::{
    OutboxEvent, PayMethod, PaymentGateway, Product, VisitChange, VisitEffects, VisitOrder,
    VisitOutcome, VisitPayment, VisitRefusal, VisitState,
};
use rand::Rng;
use secrecy::ExposeSecret;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// `-1`: no channels.
pub const NO_CHANNELS: &str = "没有获取到相关支付的渠道信息。";
/// `-1`: the payment could not be saved.
pub const SAVE_FAILED: &str = "保存数据异常，不能完成支付的操作。";
/// `-2001`.
pub const UNSUPPORTED_CHANNEL: &str = "不支持的支付方式；";
/// `-2002`.
pub const LOOKUP_FAILED: &str = "数据检索失败，请确认信息；";
/// `-2004`.
pub const NOT_BOOKED: &str = "订单状态不是预订中，不允许支付；";
/// `-2007`.
pub const NO_ORDER_ID: &str = "没有输入内部单号，不能完成操作；";
/// `-2008`.
pub const PAY_TIME_OVER: &str = "当前订单超过支付时限";

/// The instant-payment channels: id and name.
pub const CHANNELS: &[(&str, &str)] =
    &[("01", "支付宝"), ("02", "微信支付"), ("03", "银联网上支付")];

/// The name of a channel id.
pub fn channel_name(id: &str) -> &'static str {
    CHANNELS
        .iter()
        .find(|(i, _)| *i == id)
        .map(|(_, n)| *n)
        .unwrap_or("")
}

/// The built-in gateway: payment links lead to this server's simulator page.
pub struct SimulatorGateway {
    /// Public base URL (empty: relative links).
    pub base: String,
}

impl PaymentGateway for SimulatorGateway {
    fn pay_url(&self, payment: &VisitPayment, _order_number: &str) -> String {
        format!("{}/ybx/paysim/{}", self.base, payment.out_trade_no)
    }
}

/// A payment platform outside this server: payment links from a configured template.
pub struct ExternalGateway {
    /// The link with `{out_trade_no}`, `{order_id}`, `{total}` (yuan, two decimals) and
    /// `{channel}` (01, 02, 03) to replace, URL-encoded.
    pub template: String,
}

impl PaymentGateway for ExternalGateway {
    fn pay_url(&self, payment: &VisitPayment, order_number: &str) -> String {
        let enc = |v: &str| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
        self.template
            .replace("{out_trade_no}", &enc(&payment.out_trade_no))
            .replace("{order_id}", &enc(order_number))
            .replace("{total}", &enc(&money(payment.amount)))
            .replace("{channel}", &enc(&payment.channel))
    }
}

/// Whether a received signature is the expected one (hex, any case), compared in constant time.
fn same_sign(expected: &str, given: &str) -> bool {
    let expected = expected.to_ascii_uppercase();
    let given = given.trim().to_ascii_uppercase();
    expected.as_bytes().ct_eq(given.as_bytes()).into()
}

/// The channels an agent may pay through: none when no payment gateway is configured.
fn channels_for(cx: &Ctx) -> Vec<(&'static str, &'static str)> {
    if cx.ybx.gateway.is_none() || !cx.agent.allow_epay {
        return Vec::new();
    }
    let offered = cx
        .venue
        .scenic
        .as_ref()
        .map(|s| s.epay_channels.clone())
        .unwrap_or_default();
    CHANNELS
        .iter()
        .filter(|(id, _)| offered.iter().any(|o| o == id))
        .copied()
        .collect()
}

/// `GetPayChannel.aspx` (4.2.6): the supplier's channels, when the agent may pay instantly.
pub async fn get_pay_channel(cx: &Ctx) -> Answer {
    let channels = channels_for(cx);
    if channels.is_empty() {
        return Answer::err(-1, NO_CHANNELS);
    }
    let mut x = Xml::new();
    for (id, name) in channels {
        x.open("Item")
            .leaf("paychannelid", id)
            .leaf("paychannelname", name)
            .close("Item");
    }
    Answer::ok("", x.finish())
}

/// `BeginToPay.aspx` (4.2.7): starts a payment of an order in state 0 (`Paychannelid` is the
/// channel id or its name; optional `NotifyURL`). Answers the payment link and trade number.
/// Several payments of one order may be started (a payer may switch channel); only the first
/// that succeeds pays the order.
pub async fn begin_to_pay(cx: &Ctx) -> Answer {
    let number = cx.params.text("order_id");
    if number.is_empty() {
        return Answer::err(-2007, NO_ORDER_ID);
    }
    let wanted = cx.params.text("paychannelid");
    let channel = channels_for(cx)
        .into_iter()
        .find(|(id, name)| *id == wanted || *name == wanted);
    let (Some((channel, _)), Some(gateway)) = (channel, cx.ybx.gateway.as_ref()) else {
        return Answer::err(-2001, UNSUPPORTED_CHANNEL);
    };
    let order = match cx.ybx.svc.store().visit_order_by_number(number).await {
        Ok(Some(o)) if o.partner_id == cx.agent.id() => o,
        Ok(_) => return Answer::err(-2002, LOOKUP_FAILED),
        Err(e) => return failure(&e),
    };
    if order.state != VisitState::Booked {
        return Answer::err(-2004, NOT_BOOKED);
    }
    if !cx.agent.allow_cash && order.expires_ms.is_some_and(|e| e <= cx.now_ms) {
        return Answer::err(-2008, PAY_TIME_OVER);
    }
    let suffix: u32 = rand::thread_rng().gen_range(0..10_000);
    let payment = VisitPayment {
        out_trade_no: format!("{}{suffix:04}", order.number),
        order_id: order.id,
        channel: channel.to_string(),
        amount: order.total,
        state: "started".into(),
        platform_no: String::new(),
        notify_url: cx.params.text("notifyurl").to_string(),
        created_ms: cx.now_ms,
        settled_ms: None,
    };
    if let Err(e) = cx.ybx.svc.store().add_visit_payment(payment.clone()).await {
        tracing::error!(error = %e, "BeginToPay could not save the payment");
        return Answer::err(-1, SAVE_FAILED);
    }
    let url = gateway.pay_url(&payment, &order.number);
    let mut x = Xml::new();
    x.open("Item")
        .leaf("orderid", &order.number)
        .leaf("paychannelid", channel)
        .leaf("total", money(order.total))
        .leaf("payurl", url)
        .leaf("outtradeno", &payment.out_trade_no)
        .close("Item");
    Answer::ok("", x.finish())
}

/// What a notification says.
struct Notice {
    order_number: String,
    out_trade_no: Option<String>,
    platform_no: String,
    success: bool,
    refund: bool,
    amount: Option<i64>,
}

/// A payment platform's notification (4.2.22). Answers `success` / `fail` (WeChat: its XML).
/// Without a configured gateway every notification is refused.
pub async fn notification(ybx: &Ybx, page: &str, query: &str, body: &[u8]) -> Response {
    let wechat = page.eq_ignore_ascii_case("WeChatNotify.aspx");
    let notice = match ybx.opts.payments.keys() {
        None => {
            tracing::warn!(
                page,
                "payment notification refused: no payment gateway is configured"
            );
            None
        }
        Some(keys) if wechat => keys.wechat.as_ref().and_then(|m| wechat_notice(m, body)),
        Some(keys) => gateway_notice(keys, query, body),
    };
    let accepted = match notice {
        Some(n) => match settle(ybx, n).await {
            Ok(ok) => ok,
            Err(e) => {
                tracing::error!(error = %e, "payment notification failed");
                false
            }
        },
        None => false,
    };
    if wechat {
        let (code, msg) = if accepted {
            ("SUCCESS", "OK")
        } else {
            ("FAIL", "ERROR")
        };
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
            format!("<xml><return_code><![CDATA[{code}]]></return_code><return_msg><![CDATA[{msg}]]></return_msg></xml>"),
        )
            .into_response()
    } else {
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            if accepted { "success" } else { "fail" },
        )
            .into_response()
    }
}

/// `NETDH`, `STATUS`, `OpType` (TripleDes under the gateway key), `Sign`, `sign_type`.
fn gateway_notice(keys: &GatewayKeys, query: &str, body: &[u8]) -> Option<Notice> {
    let params = crate::route::Params::parse(query, &String::from_utf8_lossy(body));
    let key = keys.gateway_key.expose_secret();
    let pairs: Vec<(String, String)> = ["netdh", "status", "optype", "sign_type"]
        .iter()
        .filter_map(|k| params.get(k).map(|v| (k.to_string(), v.replace(' ', "+"))))
        .collect();
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if !same_sign(&sign(&refs, key), params.text("sign")) {
        tracing::warn!("payment notification with a bad Sign");
        return None;
    }
    let field = |name: &str| triple_des_decrypt(params.text(name), key).ok();
    let order_number = field("netdh")?;
    let status = field("status")?;
    let op = field("optype")?;
    Some(Notice {
        order_number: order_number.trim().to_string(),
        out_trade_no: None,
        platform_no: String::new(),
        success: status.trim() == "TRADE_SUCCESS",
        refund: op.trim() == "1",
        amount: None,
    })
}

/// The fields of a WeChat Pay v2 payment notification that are read (`<xml>` root; text or
/// CDATA; entities decoded by quick-xml).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct WxNotify {
    attach: String,
    mch_id: String,
    out_trade_no: String,
    result_code: String,
    return_code: String,
    total_fee: String,
    transaction_id: String,
    sign: String,
}

/// Every field of a WeChat notification by name (the signature covers them all, not only those
/// read), or `None` when the body is not a flat `<xml>` of text elements.
fn wx_fields(xml: &str) -> Option<BTreeMap<String, String>> {
    match quick_xml::de::from_str::<BTreeMap<String, String>>(xml) {
        Ok(fields) => Some(fields),
        Err(e) => {
            tracing::warn!(error = %e, "WeChat notification is not readable XML");
            None
        }
    }
}

/// The WeChat Pay v2 signature of a notification's fields (`sign` and empty values left out).
pub fn wechat_sign(fields: &[(&str, String)], key: &str) -> String {
    let mut f: Vec<&(&str, String)> = fields
        .iter()
        .filter(|(k, v)| !v.is_empty() && *k != "sign")
        .collect();
    f.sort_by(|a, b| a.0.cmp(b.0));
    let mut s: String = f
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    s.push_str("&key=");
    s.push_str(key);
    md5_upper(&s)
}

fn wechat_notice(merchant: &WeChatMerchant, body: &[u8]) -> Option<Notice> {
    let xml = std::str::from_utf8(body).ok()?;
    let fields = wx_fields(xml)?;
    let n: WxNotify = quick_xml::de::from_str(xml).ok()?;
    let signed: Vec<(&str, String)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    let expected = wechat_sign(&signed, merchant.key.expose_secret());
    if !same_sign(&expected, &n.sign) {
        tracing::warn!("WeChat notification with a bad sign");
        return None;
    }
    if n.mch_id != merchant.mch_id {
        return None;
    }
    Some(Notice {
        order_number: n.attach,
        out_trade_no: Some(n.out_trade_no),
        platform_no: n.transaction_id,
        success: n.return_code == "SUCCESS" && n.result_code == "SUCCESS",
        refund: false,
        amount: n.total_fee.parse().ok(),
    })
}

/// Applies a notification; `Ok(true)` when it is accepted (also a repeated one).
async fn settle(ybx: &Ybx, n: Notice) -> Result<bool, boxoffice_core::store::StoreError> {
    let store = ybx.svc.store();
    let Some(order) = store.visit_order_by_number(&n.order_number).await? else {
        return Ok(false);
    };
    let now = ybx.svc.now_ms();
    if n.refund {
        if !n.success || order.state != VisitState::RefundApproved {
            // A failed refund, or a repeated one: nothing to change.
            return Ok(matches!(
                order.state,
                VisitState::Refunded | VisitState::RefundApproved
            ));
        }
        let change = simple_change(&order, VisitState::Refunded, now, VisitEffects::default());
        return Ok(matches!(
            ybx.svc.change_visit_order(change).await?,
            VisitOutcome::Done(_)
        ));
    }
    let payments = store.visit_payments(order.id).await?;
    let payment = match &n.out_trade_no {
        Some(no) => payments.iter().find(|p| &p.out_trade_no == no),
        None => payments
            .iter()
            .rev()
            .find(|p| p.state == "started")
            .or_else(|| payments.iter().rev().find(|p| p.state == "succeeded")),
    };
    let Some(payment) = payment.cloned() else {
        return Ok(false);
    };
    if n.amount.is_some_and(|a| a != payment.amount) {
        return Ok(false);
    }
    if payment.state != "started" {
        // Already settled: a repeated notification.
        return Ok(true);
    }
    if !n.success {
        store
            .settle_visit_payment(&payment.out_trade_no, "failed", &n.platform_no, now)
            .await?;
        return Ok(true);
    }
    let scenic = ybx
        .svc
        .catalog()
        .venue_by_id(order.venue_id)
        .and_then(|v| v.scenic.clone())
        .unwrap_or_default();
    if order.state == VisitState::Booked {
        let to = if scenic.epay_manual_approval {
            VisitState::PaidUnapproved
        } else {
            VisitState::Paid
        };
        let mut effects = VisitEffects {
            settle_payment: Some((payment.out_trade_no.clone(), n.platform_no.clone())),
            ..VisitEffects::default()
        };
        if ybx.announces(&order).await {
            effects.events.push(OutboxEvent::order_changed(
                PROTOCOL,
                VisitState::PaidUnapproved,
            ));
            if to == VisitState::Paid {
                effects
                    .events
                    .push(OutboxEvent::order_changed(PROTOCOL, VisitState::Paid));
            }
        }
        let mut detail = order.detail.clone();
        detail.pay_method = Some(PayMethod::Instant);
        detail.pay_channel = payment.channel.clone();
        detail.paid = payment.amount;
        let mut change = simple_change(&order, to, now, effects);
        change.detail = Some(detail);
        // Paid: no longer subject to the payment time limit, only to the order's validity.
        change.expires_ms = Some(Some(paid_until(ybx, &order)));
        match ybx.svc.change_visit_order(change).await? {
            VisitOutcome::Done(paid) => {
                if to == VisitState::Paid
                    && scenic.activate_on_payment
                    && scenic.remote_activation != 0
                {
                    activate_paid(ybx, &paid, now).await?;
                }
                return Ok(true);
            }
            VisitOutcome::Refused(VisitRefusal::PaymentSettled) => return Ok(true),
            _ => {}
        }
    }
    // The order is no longer waiting for payment: keep the money and apply for its refund.
    if !store
        .settle_visit_payment(&payment.out_trade_no, "succeeded", &n.platform_no, now)
        .await?
    {
        return Ok(true);
    }
    let Some(order) = store.visit_order(order.id).await? else {
        return Ok(true);
    };
    let mut detail = order.detail.clone();
    let refunds = detail
        .extra
        .get("refund_amount")
        .and_then(|v| v.as_i64())
        .unwrap_or(0);
    detail
        .extra
        .insert("refund_amount".into(), (refunds + payment.amount).into());
    let to = if order.state == VisitState::Closed {
        detail.pay_method = Some(PayMethod::Instant);
        detail.pay_channel = payment.channel.clone();
        detail.paid = payment.amount;
        VisitState::RefundRequested
    } else {
        order.state
    };
    let mut effects = VisitEffects::default();
    if to != order.state && ybx.announces(&order).await {
        effects
            .events
            .push(OutboxEvent::order_changed(PROTOCOL, to));
    }
    let mut change = simple_change(&order, to, now, effects);
    change.detail = Some(detail);
    ybx.svc.change_visit_order(change).await?;
    Ok(true)
}

/// The end of a paid order's validity.
fn paid_until(ybx: &Ybx, order: &VisitOrder) -> i64 {
    let catalog = ybx.svc.catalog();
    let venue = catalog.venue_by_id(order.venue_id);
    let products: Vec<&Product> = order
        .detail
        .items
        .iter()
        .filter_map(|i| venue.and_then(|v| v.product(&i.product)))
        .collect();
    boxoffice_core::scenic::validity_end(order.visit_date, products, ybx.svc.settings().offset)
}

fn simple_change(
    order: &VisitOrder,
    to: VisitState,
    now: i64,
    effects: VisitEffects,
) -> VisitChange {
    VisitChange {
        order_id: order.id,
        from: vec![order.state],
        to,
        detail: None,
        expires_ms: None,
        segment: None,
        now_ms: now,
        actor: "gateway".into(),
        version: None,
        effects,
    }
}

/// Delivers a paid order (6 → 3) with the supplier's default gate medium.
async fn activate_paid(
    ybx: &Ybx,
    order: &VisitOrder,
    now: i64,
) -> Result<(), boxoffice_core::store::StoreError> {
    let catalog = ybx.svc.catalog();
    let Some(venue) = catalog.venue_by_id(order.venue_id) else {
        return Ok(());
    };
    let units: i64 = order.detail.items.iter().map(|i| i.count).sum();
    let all_named = order.detail.persons.len() as i64 == units;
    let medium = match venue.scenic.as_ref().map_or(3, |s| s.gate_medium) {
        1 | 3 if all_named => 1,
        _ => 2,
    };
    let products: Vec<Product> = order
        .detail
        .items
        .iter()
        .filter_map(|i| venue.product(&i.product).cloned())
        .collect();
    let mut effects = VisitEffects {
        tickets: issue_tickets(
            &order.detail.items,
            &products,
            &order.detail.persons,
            order.visit_date,
            medium,
        ),
        ..VisitEffects::default()
    };
    if ybx.announces(order).await {
        effects
            .events
            .push(OutboxEvent::order_changed(PROTOCOL, VisitState::Delivered));
    }
    if order.detail.notify_visitors && !order.detail.mobile.is_empty() {
        effects.messages.push(boxoffice_core::scenic::Message {
            kind: "delivery".into(),
            phone: order.detail.mobile.clone(),
            text: format!(
                "【{}】您预订的{}入园门票已出票，订单号{{number}}，请凭{}入园。",
                venue.name,
                order.visit_date.format("%Y-%m-%d"),
                if medium == 1 {
                    "身份证"
                } else {
                    "二维码"
                }
            ),
        });
    }
    let mut detail = order.detail.clone();
    detail.delivered_ms = Some(now);
    detail.extra.insert("medium".into(), medium.into());
    let mut change = simple_change(order, VisitState::Delivered, now, effects);
    change.detail = Some(detail);
    change.expires_ms = Some(None);
    if let VisitOutcome::Refused(r) = ybx.svc.change_visit_order(change).await? {
        tracing::warn!(order = %order.number, refusal = ?r, "activation after payment failed");
    }
    Ok(())
}

fn page(title: &str, body: &str) -> Html<String> {
    let mut t = String::new();
    escape_into(&mut t, title);
    Html(format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>body{{font-family:sans-serif;max-width:28em;margin:3em auto}}button{{font-size:1.1em;margin:.5em}}</style>\
         </head><body><h1>{t}</h1>{body}</body></html>"
    ))
}

/// `GET /ybx/paysim/{trade}`: the simulated platform's payment page.
pub async fn simulator_page(State(ybx): State<Arc<Ybx>>, Path(trade): Path<String>) -> Response {
    let payment = match ybx.svc.store().visit_payment(&trade).await {
        Ok(Some(p)) => p,
        Ok(None) => return (StatusCode::NOT_FOUND, page("未找到支付", "")).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "simulator page failed");
            return (StatusCode::SERVICE_UNAVAILABLE, page("暂时无法支付", "")).into_response();
        }
    };
    let mut info = String::new();
    escape_into(
        &mut info,
        &format!(
            "{}（模拟）· 商户订单号 {} · 金额 ¥{} · 状态 {}",
            channel_name(&payment.channel),
            payment.out_trade_no,
            money(payment.amount),
            payment.state
        ),
    );
    let form = if payment.state == "started" {
        "<form method=\"post\"><button name=\"action\" value=\"confirm\">确认支付</button>\
         <button name=\"action\" value=\"decline\">取消支付</button></form>"
    } else {
        ""
    };
    page("模拟支付", &format!("<p>{info}</p>{form}")).into_response()
}

/// `POST /ybx/paysim/{trade}` (`action=confirm|decline`): sends the platform's signed
/// notification to this server, as the real platform would — to the server's own base URL
/// from configuration, never to an address taken from the request.
pub async fn simulator_answer(
    State(ybx): State<Arc<Ybx>>,
    Path(trade): Path<String>,
    body: String,
) -> Response {
    let Payments::Simulator { notify_base, .. } = &ybx.opts.payments else {
        return (StatusCode::NOT_FOUND, page("未找到支付", "")).into_response();
    };
    let confirm =
        form_urlencoded::parse(body.as_bytes()).any(|(k, v)| k == "action" && v == "confirm");
    let payment = match ybx.svc.store().visit_payment(&trade).await {
        Ok(Some(p)) => p,
        Ok(None) => return (StatusCode::NOT_FOUND, page("未找到支付", "")).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "simulator failed");
            return (StatusCode::SERVICE_UNAVAILABLE, page("暂时无法支付", "")).into_response();
        }
    };
    let order = match ybx.svc.store().visit_order(payment.order_id).await {
        Ok(Some(o)) => o,
        _ => return (StatusCode::NOT_FOUND, page("未找到订单", "")).into_response(),
    };
    let base = format!("{notify_base}/ybx");
    let client = reqwest::Client::new();
    let sent = if payment.channel == "02" {
        let xml = wechat_notification(&ybx, &payment, &order.number, confirm);
        client
            .post(format!("{base}/WeChatNotify.aspx"))
            .header(header::CONTENT_TYPE, "text/xml")
            .body(xml)
            .send()
            .await
    } else {
        let form = gateway_notification(&ybx, &order.number, confirm, false);
        client
            .post(format!("{base}/POST/notify_url.aspx"))
            .form(&form)
            .send()
            .await
    };
    let answer = match sent {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(e) => {
            tracing::warn!(error = %e, "the simulator's notification was not delivered");
            "notification not delivered".to_string()
        }
    };
    let answer: String = answer.chars().take(400).collect();
    let mut shown = String::new();
    escape_into(&mut shown, &answer);
    let title = if confirm {
        "支付完成"
    } else {
        "支付已取消"
    };
    page(
        title,
        &format!("<p>平台通知的应答：<code>{shown}</code></p>"),
    )
    .into_response()
}

/// The form of a `notify_url.aspx` notification signed with the configured gateway key (what
/// the simulated platform sends); empty when no gateway is configured.
pub fn gateway_notification(
    ybx: &Ybx,
    order_number: &str,
    success: bool,
    refund: bool,
) -> Vec<(String, String)> {
    match ybx.opts.payments.keys() {
        Some(keys) => gateway_form(&keys.gateway_key, order_number, success, refund),
        None => Vec::new(),
    }
}

/// The form of a `notify_url.aspx` notification signed with `key`.
pub fn gateway_form(
    key: &secrecy::SecretString,
    order_number: &str,
    success: bool,
    refund: bool,
) -> Vec<(String, String)> {
    let key = key.expose_secret();
    let mut form = vec![
        ("NETDH".to_string(), triple_des(order_number, key)),
        (
            "STATUS".to_string(),
            triple_des(
                if success {
                    "TRADE_SUCCESS"
                } else {
                    "TRADE_FAIL"
                },
                key,
            ),
        ),
        (
            "OpType".to_string(),
            triple_des(if refund { "1" } else { "0" }, key),
        ),
        ("sign_type".to_string(), "MD5".to_string()),
    ];
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let s = sign(&refs, key);
    form.push(("Sign".to_string(), s));
    form
}

/// The XML body of a `WeChatNotify.aspx` notification signed as the configured WeChat merchant
/// (what the simulated platform sends); empty when no WeChat merchant is configured.
pub fn wechat_notification(
    ybx: &Ybx,
    payment: &VisitPayment,
    order_number: &str,
    success: bool,
) -> String {
    match ybx.opts.payments.keys().and_then(|k| k.wechat.as_ref()) {
        Some(merchant) => wechat_body(merchant, payment, order_number, success),
        None => String::new(),
    }
}

/// The XML body of a `WeChatNotify.aspx` notification signed as `merchant`.
pub fn wechat_body(
    merchant: &WeChatMerchant,
    payment: &VisitPayment,
    order_number: &str,
    success: bool,
) -> String {
    let mut rng = rand::thread_rng();
    let nonce: String = (0..16)
        .map(|_| char::from(b'a' + rng.gen_range(0..26u8)))
        .collect();
    let transaction: String = (0..28)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect();
    let fields: Vec<(&str, String)> = vec![
        ("appid", "wx0000000000simul".into()),
        ("attach", order_number.into()),
        ("bank_type", "CFT".into()),
        ("fee_type", "CNY".into()),
        ("mch_id", merchant.mch_id.clone()),
        ("nonce_str", nonce),
        ("out_trade_no", payment.out_trade_no.clone()),
        (
            "result_code",
            if success { "SUCCESS" } else { "FAIL" }.into(),
        ),
        ("return_code", "SUCCESS".into()),
        ("total_fee", payment.amount.to_string()),
        ("trade_type", "NATIVE".into()),
        ("transaction_id", transaction),
    ];
    let s = wechat_sign(&fields, merchant.key.expose_secret());
    let mut xml = String::from("<xml>");
    for (k, v) in &fields {
        push_cdata(&mut xml, k, v);
    }
    push_cdata(&mut xml, "sign", &s);
    xml.push_str("</xml>");
    xml
}

/// `<name><![CDATA[value]]></name>`, a `]]>` inside the value split across two sections.
fn push_cdata(xml: &mut String, name: &str, value: &str) {
    xml.push_str(&format!(
        "<{name}><![CDATA[{}]]></{name}>",
        value.replace("]]>", "]]]]><![CDATA[>")
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wechat_fields_read_cdata_entities_and_plain_text() {
        let xml = "<xml><a><![CDATA[x <y>]]></a><b>2</b><c>a &amp; b</c>\
                   <d><![CDATA[p]]]]><![CDATA[>q]]></d></xml>";
        let f = wx_fields(xml).expect("fields");
        assert_eq!(f.get("a").map(String::as_str), Some("x <y>"));
        assert_eq!(f.get("b").map(String::as_str), Some("2"));
        assert_eq!(f.get("c").map(String::as_str), Some("a & b"));
        assert_eq!(f.get("d").map(String::as_str), Some("p]]>q"));
        assert_eq!(f.get("e"), None);
        assert!(wx_fields("<xml><a>").is_none());
    }

    #[test]
    fn cdata_written_survives_a_closing_sequence() {
        let mut xml = String::from("<xml>");
        push_cdata(&mut xml, "attach", "a]]><evil/>");
        xml.push_str("</xml>");
        assert_eq!(
            xml,
            "<xml><attach><![CDATA[a]]]]><![CDATA[><evil/>]]></attach></xml>"
        );
        let f = wx_fields(&xml).expect("fields");
        assert_eq!(f.get("attach").map(String::as_str), Some("a]]><evil/>"));
    }

    #[test]
    fn signatures_compare_in_any_case_and_not_by_prefix() {
        assert!(same_sign("9A0A8659", "9a0a8659"));
        assert!(same_sign("9A0A8659", " 9A0A8659 "));
        assert!(!same_sign("9A0A8659", "9A0A865"));
        assert!(!same_sign("9A0A8659", ""));
    }

    #[test]
    fn wechat_signature_follows_the_v2_recipe() {
        // The example of WeChat Pay's signature guide.
        let fields: Vec<(&str, String)> = vec![
            ("appid", "wxd930ea5d5a258f4f".into()),
            ("mch_id", "10000100".into()),
            ("device_info", "1000".into()),
            ("body", "test".into()),
            ("nonce_str", "ibuaiVcKdpRxkhJA".into()),
        ];
        assert_eq!(
            wechat_sign(&fields, "192006250b4c09247ec02edce69f6a2d"),
            "9A0A8659F005D6984697E2CA0A9CF3B7"
        );
    }
}

/// Why a supplier's payment action changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum PaymentActionError {
    /// No such order.
    #[error("no order {0:?}")]
    NotFound(String),
    /// The order is not in a state the action applies to.
    #[error("order {0} is in state {1}; the action does not apply")]
    WrongState(String, &'static str),
    /// The channel is not one of 01, 02, 03.
    #[error("unknown payment channel {0:?}")]
    Channel(String),
    /// Storage failure.
    #[error(transparent)]
    Store(#[from] boxoffice_core::store::StoreError),
}

async fn order_by_number(ybx: &Ybx, number: &str) -> Result<VisitOrder, PaymentActionError> {
    ybx.svc
        .store()
        .visit_order_by_number(number.trim())
        .await?
        .ok_or_else(|| PaymentActionError::NotFound(number.to_string()))
}

/// The supplier records a payment it received outside the gateway's notifications (the
/// document's "manually add the payment notification"): a payment of the order's total through
/// `channel`, settled at once — the order is then paid (and delivered) exactly as if the
/// platform had notified it. Answers the order as it now stands.
pub async fn manual_receipt(
    ybx: &Ybx,
    number: &str,
    channel: &str,
) -> Result<VisitOrder, PaymentActionError> {
    if channel_name(channel).is_empty() {
        return Err(PaymentActionError::Channel(channel.to_string()));
    }
    let order = order_by_number(ybx, number).await?;
    if order.state != VisitState::Booked {
        return Err(PaymentActionError::WrongState(
            order.number,
            crate::booking::state_code(order.state),
        ));
    }
    let suffix: u32 = rand::thread_rng().gen_range(0..1_000);
    let payment = VisitPayment {
        out_trade_no: format!("{}M{suffix:03}", order.number),
        order_id: order.id,
        channel: channel.to_string(),
        amount: order.total,
        state: "started".into(),
        platform_no: "manual".into(),
        notify_url: String::new(),
        created_ms: ybx.svc.now_ms(),
        settled_ms: None,
    };
    ybx.svc.store().add_visit_payment(payment.clone()).await?;
    settle(
        ybx,
        Notice {
            order_number: order.number.clone(),
            out_trade_no: Some(payment.out_trade_no),
            platform_no: "manual".into(),
            success: true,
            refund: false,
            amount: Some(payment.amount),
        },
    )
    .await?;
    order_by_number(ybx, &order.number).await
}

/// Moves an order from one of `from` to `to` with an `order_changed` event; `Ok(None)` when it
/// was in another state.
async fn supplier_step(
    ybx: &Ybx,
    order: &VisitOrder,
    from: VisitState,
    to: VisitState,
    detail: Option<boxoffice_core::scenic::VisitDetail>,
) -> Result<VisitOrder, PaymentActionError> {
    if order.state != from {
        return Err(PaymentActionError::WrongState(
            order.number.clone(),
            crate::booking::state_code(order.state),
        ));
    }
    let mut effects = VisitEffects::default();
    if ybx.announces(order).await {
        effects
            .events
            .push(OutboxEvent::order_changed(PROTOCOL, to));
    }
    let mut change = simple_change(order, to, ybx.svc.now_ms(), effects);
    change.actor = "operator".into();
    change.detail = detail;
    match ybx.svc.change_visit_order(change).await? {
        VisitOutcome::Done(o) => Ok(*o),
        _ => {
            let now = order_by_number(ybx, &order.number).await?;
            Err(PaymentActionError::WrongState(
                now.number,
                crate::booking::state_code(now.state),
            ))
        }
    }
}

/// The supplier approves an instant payment awaiting approval (5 → 6), then delivers the order
/// when it activates on payment (→ 3).
pub async fn approve_payment(ybx: &Ybx, number: &str) -> Result<VisitOrder, PaymentActionError> {
    let order = order_by_number(ybx, number).await?;
    let paid = supplier_step(
        ybx,
        &order,
        VisitState::PaidUnapproved,
        VisitState::Paid,
        None,
    )
    .await?;
    let scenic = ybx
        .svc
        .catalog()
        .venue_by_id(paid.venue_id)
        .and_then(|v| v.scenic.clone())
        .unwrap_or_default();
    if scenic.activate_on_payment && scenic.remote_activation != 0 {
        activate_paid(ybx, &paid, ybx.svc.now_ms()).await?;
    }
    order_by_number(ybx, number).await
}

/// The supplier rejects an instant payment awaiting approval (5 → 9); the amount paid is due
/// back to the payer (`refund_amount`).
pub async fn reject_payment(ybx: &Ybx, number: &str) -> Result<VisitOrder, PaymentActionError> {
    let order = order_by_number(ybx, number).await?;
    let mut detail = order.detail.clone();
    detail
        .extra
        .insert("refund_amount".into(), order.detail.paid.into());
    let o = supplier_step(
        ybx,
        &order,
        VisitState::PaidUnapproved,
        VisitState::PaymentRejected,
        Some(detail),
    )
    .await?;
    release_inventory(ybx, &o).await?;
    order_by_number(ybx, number).await
}

/// Gives a closed-for-good order's quota units and identity numbers back.
async fn release_inventory(ybx: &Ybx, order: &VisitOrder) -> Result<(), PaymentActionError> {
    let change = VisitChange {
        effects: VisitEffects {
            release: true,
            ..VisitEffects::default()
        },
        ..simple_change(
            order,
            order.state,
            ybx.svc.now_ms(),
            VisitEffects::default(),
        )
    };
    ybx.svc.change_visit_order(change).await?;
    Ok(())
}

/// The supplier decides on a refund application (7 → 8 approved, 7 → A rejected).
pub async fn decide_refund(
    ybx: &Ybx,
    number: &str,
    approve: bool,
) -> Result<VisitOrder, PaymentActionError> {
    let order = order_by_number(ybx, number).await?;
    let to = if approve {
        VisitState::RefundApproved
    } else {
        VisitState::RefundRejected
    };
    supplier_step(ybx, &order, VisitState::RefundRequested, to, None).await
}

/// The refund of an approved application was paid out (8 → B); the order's quota units and
/// identity numbers are given back.
pub async fn complete_refund(ybx: &Ybx, number: &str) -> Result<VisitOrder, PaymentActionError> {
    let order = order_by_number(ybx, number).await?;
    let o = supplier_step(
        ybx,
        &order,
        VisitState::RefundApproved,
        VisitState::Refunded,
        None,
    )
    .await?;
    release_inventory(ybx, &o).await?;
    order_by_number(ybx, number).await
}

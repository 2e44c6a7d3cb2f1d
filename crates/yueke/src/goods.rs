//! Goods (卖品): `goods.getGoods`, `order.confirmGoodsOrder`,
//! `order.confirmGoodsOrderForMultiPay`, `order.getGoodsOrderInfo`, `order.refundGoodsOrder`,
//! and the goods part of mixed orders.
//!
//! A goods order is a core order of goods lines only, kept under the channel's `thirdOrderId`
//! (idempotency key, G-IDEM); `goodsOrderId` = `{yyyyMMdd}{cinemaLinkId}{booking number, 10
//! digits}` like `orderId`, `holdId` = `{cinemaLinkId}{booking number, 10 digits}`, `pickUpCode` =
//! the booking's collection code.

use crate::codes::{self, BizCode};
use crate::order::{check_payment_lines, refund_booking};
use crate::schedule;
use crate::wire::{self, money, parse_money, Data};
use crate::{Caller, Yueke};
use axum::response::Response;
use boxoffice_core::catalog::Venue;
use boxoffice_core::clock::{business_date, from_millis, local};
use boxoffice_core::order::{Booking, BookingState, ClientRef, Customer, OrderItem, OrderState};
use boxoffice_core::service::{BookingKey, CompleteError, HoldError, PaymentLine};
use md5::{Digest, Md5};
use serde_json::{json, Value};

/// One requested goods line.
pub(crate) struct GoodsIn {
    pub item: OrderItem,
    pub payments: Vec<Value>,
}

/// A member of a goods line, tolerating the document's padded keys (`" isPackage "`, G-DATA-3).
fn member<'a>(m: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    m.get(name)
        .or_else(|| m.iter().find(|(k, _)| k.trim() == name).map(|(_, v)| v))
}

fn scalar(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Parses and checks `goodsList` against the venue's goods (R-GPRICE): known items
/// (`GOODS_NOT_FOUND`), counts 1…`maxBuyCount` (`GOODS_INFO_ERROR`/`GOODS_AMOUNT_ERROR`), prices
/// not below the settle price (`GOODS_PRICE_LESS`); per-line payments when `multi`.
pub(crate) fn parse_goods(d: &Data, venue: &Venue, multi: bool) -> Result<Vec<GoodsIn>, BizCode> {
    let list = d
        .array("goodsList")
        .map_err(|_| codes::GOODS_INFO_ERROR)?
        .unwrap_or_default();
    if list.is_empty() {
        return Err(codes::GOODS_INFO_NOT_NULL);
    }
    let mut out: Vec<GoodsIn> = Vec::with_capacity(list.len());
    for (i, g) in list.iter().enumerate() {
        let m = g.as_object().ok_or(codes::GOODS_INFO_ERROR)?;
        let code = scalar(member(m, "goodsId").or_else(|| member(m, "id")))
            .ok_or(codes::GOODS_INFO_ERROR)?;
        let count: i64 = scalar(member(m, "count"))
            .and_then(|c| c.parse().ok())
            .ok_or(codes::GOODS_INFO_ERROR)?;
        let price = scalar(member(m, "salePrice")).ok_or(codes::GOODS_INFO_ERROR)?;
        let price = parse_money(&price).ok_or(codes::FORMAT_ERROR)?;
        if scalar(member(m, "isCardDiscount")).is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Err(codes::PAYMENT_METHOD_ERROR);
        }
        let item = venue.goods_item(&code).ok_or(codes::GOODS_NOT_FOUND)?;
        if count < 1 {
            return Err(codes::GOODS_INFO_ERROR);
        }
        if count > venue.max_goods_per_item {
            return Err(codes::GOODS_AMOUNT_ERROR);
        }
        if price <= 0 {
            return Err(codes::GOODS_PRICE_ERROR);
        }
        if item.settle_price.is_some_and(|s| price < s) {
            return Err(codes::GOODS_PRICE_LESS);
        }
        let payments = match member(m, "paymentList") {
            Some(Value::Array(a)) => a.clone(),
            Some(Value::Null) | None => Vec::new(),
            Some(_) => return Err(codes::FORMAT_ERROR),
        };
        if multi {
            check_payment_lines(&payments, price * count)?;
        } else if !payments.is_empty() {
            return Err(codes::PAYMENT_METHOD_ERROR);
        }
        out.push(GoodsIn {
            item: OrderItem {
                seq: i32::try_from(i + 1).unwrap_or(i32::MAX),
                code: item.code.clone(),
                name: item.name.clone(),
                count,
                unit_price: price,
                is_package: item.is_package,
            },
            payments,
        });
    }
    Ok(out)
}

/// The lines' part of a request digest.
pub(crate) fn digest_part(goods: &[GoodsIn]) -> String {
    let mut v: Vec<String> = goods
        .iter()
        .map(|g| {
            format!(
                "{}:{}:{}:{}",
                g.item.code,
                g.item.count,
                g.item.unit_price,
                Value::Array(g.payments.clone())
            )
        })
        .collect();
    v.sort();
    v.join(",")
}

/// `holdId` of a booking with goods.
pub(crate) fn hold_id(link: &str, b: &Booking) -> String {
    format!("{link}{:010}", b.number)
}

/// The goods lines of a booking as `goodsList`/`goods` entries.
pub(crate) fn goods_lines(b: &Booking) -> Vec<Value> {
    b.order
        .items
        .iter()
        .map(|i| json!({"goodsId": i.code, "name": i.name, "salePrice": money(i.unit_price), "count": i.count, "isPackage": i.is_package}))
        .collect()
}

/// The `goodsOrder` object of a mixed order.
pub(crate) fn goods_order(link: &str, b: &Booking) -> Value {
    json!({
        "holdId": hold_id(link, b),
        "pickUpCode": b.pickup_code,
        "totalGoodsPrice": money(b.order.goods_total()),
        "totalGoodsFee": money(0),
        "goods": goods_lines(b),
    })
}

fn goods_order_id(yk: &Yueke, link: &str, b: &Booking) -> String {
    let day = business_date(local(from_millis(b.created_ms), yk.svc.settings().offset));
    format!("{}{link}{:010}", day.format("%Y%m%d"), b.number)
}

fn status(b: &Booking) -> &'static str {
    match b.state {
        BookingState::Paid => "goods_success",
        BookingState::Refunded => "refund_success",
    }
}

fn answer(yk: &Yueke, c: &Caller, link: &str, b: &Booking) -> Response {
    wire::object(
        &c.api,
        &c.v,
        codes::BIZ_SUCCESS,
        Some(json!({
            "goodsOrderId": goods_order_id(yk, link, b),
            "holdId": hold_id(link, b),
            "pickUpCode": b.pickup_code,
            "totalGoodsPrice": money(b.order.goods_total()),
            "totalGoodsFee": money(0),
            "orderStatus": status(b),
            "goodsList": goods_lines(b),
        })),
    )
}

/// `ykse.partner.goods.getGoods`: the cinema's goods.
pub async fn get_goods(yk: &Yueke, c: &Caller, d: &Data) -> Response {
    let fail = |code: BizCode| wire::failure(&c.api, &c.v, code);
    let link = match d.str("cinemaLinkId") {
        Ok(Some(l)) => l,
        Ok(None) => return fail(codes::NULL_ARGUMENT),
        Err(_) => return fail(codes::FORMAT_ERROR),
    };
    let venue = match schedule::cinema(yk, c, &link) {
        Ok(v) => v,
        Err(code) => return fail(code),
    };
    let list: Vec<Value> = venue
        .goods
        .iter()
        .map(|g| {
            let mut m = serde_json::Map::new();
            m.insert("goodsId".into(), json!(g.code));
            m.insert("name".into(), json!(g.name));
            m.insert("isPackage".into(), json!(g.is_package));
            let settle = g.settle_price.map(money).unwrap_or_default();
            // Both spellings: the field table's (`salePrice`, `settlePrice`) and the
            // example's (`standardPrice`, `settleprice`).
            m.insert("salePrice".into(), json!(money(g.price)));
            m.insert("standardPrice".into(), json!(money(g.price)));
            m.insert("settlePrice".into(), json!(settle));
            m.insert("settleprice".into(), json!(settle));
            m.insert("goodsPicUrl".into(), json!(g.picture_url));
            m.insert("desc".into(), json!(g.description));
            m.insert(
                "isDiscount".into(),
                json!(if g.member_discount { "Y" } else { "N" }),
            );
            Value::Object(m)
        })
        .collect();
    wire::object(
        &c.api,
        &c.v,
        codes::BIZ_SUCCESS,
        Some(
            json!({"maxBuyCount": venue.max_goods_per_item, "cinemaLinkId": link, "goodsList": list}),
        ),
    )
}

/// `ykse.partner.order.confirmGoodsOrder` and `…ForMultiPay`: a goods-only order, idempotent on
/// `thirdOrderId`.
pub async fn confirm_goods_order(yk: &Yueke, c: &Caller, d: &Data, multi: bool) -> Response {
    let fail = |code: BizCode| wire::failure(&c.api, &c.v, code);
    let (Ok(link), Ok(third), Ok(mobile)) = (
        d.str("cinemaLinkId"),
        d.str("thirdOrderId"),
        d.str("mobile"),
    ) else {
        return fail(codes::FORMAT_ERROR);
    };
    let (Some(link), Some(third)) = (link, third) else {
        return fail(codes::NULL_ARGUMENT);
    };
    if third.chars().count() > 64 {
        return fail(codes::FORMAT_ERROR);
    }
    let venue = match schedule::cinema(yk, c, &link) {
        Ok(v) => v,
        Err(code) => return fail(code),
    };
    let Some(mobile) = mobile else {
        return fail(codes::NULL_ARGUMENT);
    };
    if mobile.len() != 11
        || !mobile.starts_with('1')
        || !mobile.chars().all(|ch| ch.is_ascii_digit())
    {
        return fail(codes::FORMAT_ERROR);
    }
    let payments = match d.array("paymentList") {
        Ok(p) => p.unwrap_or_default(),
        Err(_) => return fail(codes::FORMAT_ERROR),
    };
    if !payments.is_empty() {
        return fail(codes::PAYMENT_METHOD_ERROR);
    }
    let goods = match parse_goods(d, &venue, multi) {
        Ok(g) => g,
        Err(code) => return fail(code),
    };
    let mut h = Md5::new();
    h.update(format!("{}|{}|{mobile}", c.api, digest_part(&goods)));
    let digest = hex::encode(h.finalize());
    // A known thirdOrderId: the first answer again, or a refusal if the request differs.
    match yk.svc.order(&c.partner, &third).await {
        Ok(Some(o)) if o.state == OrderState::Completed => {
            return match yk.svc.bookings_by_order_ref(&c.partner, &third).await {
                Ok(list) => match list.into_iter().find(|b| b.order.id == o.id) {
                    Some(b) if b.fingerprint.as_deref() == Some(digest.as_str()) => {
                        answer(yk, c, &link, &b)
                    }
                    _ => fail(codes::REQUEST_PARAM_INCONFORMITY_ERROR),
                },
                Err(_) => fail(codes::SYSTEM_ERROR),
            };
        }
        Ok(Some(_)) => return fail(codes::REQUEST_PARAM_INCONFORMITY_ERROR),
        Ok(None) => {}
        Err(_) => return fail(codes::SYSTEM_ERROR),
    }
    let client = ClientRef {
        class: "YUEKE".into(),
        id: link.clone(),
        name: c.partner.name.clone(),
    };
    let items: Vec<OrderItem> = goods.into_iter().map(|g| g.item).collect();
    let order = match yk
        .svc
        .add_items(
            &c.partner,
            boxoffice_core::catalog::Protocol::Yueke,
            &third,
            &venue.code,
            client,
            items,
        )
        .await
    {
        Ok(o) => o,
        Err(HoldError::Store(_)) => return fail(codes::SYSTEM_ERROR),
        Err(_) => return fail(codes::REQUEST_PARAM_INCONFORMITY_ERROR),
    };
    let line = PaymentLine {
        card_number: String::new(),
        card_type: "YUEKE".into(),
        tender_category: "YUEKE".into(),
        value: order.total,
        keep_unmasked: true,
    };
    let customer = Customer {
        name: String::new(),
        phone: mobile,
        email: String::new(),
    };
    match yk
        .svc
        .complete_with(
            &c.partner,
            &third,
            &[line],
            customer,
            Some(digest),
            Vec::new(),
        )
        .await
    {
        Ok(b) => answer(yk, c, &link, &b),
        Err(CompleteError::Store(_)) => fail(codes::SYSTEM_ERROR),
        Err(_) => fail(codes::GOODS_ORDER_FAILED),
    }
}

/// The booking with goods named by `goodsOrderId` (goods-only or mixed).
async fn goods_booking(
    yk: &Yueke,
    c: &Caller,
    d: &Data,
) -> Result<(String, String, Booking), BizCode> {
    let (Ok(link), Ok(id)) = (d.str("cinemaLinkId"), d.str("goodsOrderId")) else {
        return Err(codes::FORMAT_ERROR);
    };
    let (Some(link), Some(id)) = (link, id) else {
        return Err(codes::NULL_ARGUMENT);
    };
    let venue = schedule::cinema(yk, c, &link)?;
    let number = crate::lock::order_id_of(&id).ok_or(codes::ORDER_NOT_FOUND)?;
    let b = yk
        .svc
        .booking(&c.partner, &venue.code, &BookingKey::Number(number))
        .await
        .map_err(|_| codes::SYSTEM_ERROR)?
        .filter(|b| goods_order_id(yk, &link, b) == id && !b.order.items.is_empty())
        .ok_or(codes::ORDER_NOT_FOUND)?;
    Ok((link, id, b))
}

/// `ykse.partner.order.getGoodsOrderInfo`: a goods order by `goodsOrderId`.
pub async fn get_goods_order_info(yk: &Yueke, c: &Caller, d: &Data) -> Response {
    match goods_booking(yk, c, d).await {
        // A mixed order is queried with getOrderInfo.
        Ok((_, _, b)) if !b.order.tickets.is_empty() => {
            wire::failure(&c.api, &c.v, codes::ORDER_NOT_FOUND)
        }
        Ok((link, _, b)) => answer(yk, c, &link, &b),
        Err(code) => wire::failure(&c.api, &c.v, code),
    }
}

/// `ykse.partner.order.refundGoodsOrder`: returns a whole goods order.
pub async fn refund_goods_order(yk: &Yueke, c: &Caller, d: &Data) -> Response {
    let (link, id, b) = match goods_booking(yk, c, d).await {
        Ok(x) => x,
        Err(code) => return wire::failure(&c.api, &c.v, code),
    };
    if !b.order.tickets.is_empty() {
        // A mixed order is refunded with refundMixOrder (G-GDS-6).
        return wire::failure(&c.api, &c.v, codes::REFUND_ORDER_TYPE_NOT_MATCH);
    }
    if b.state == BookingState::Refunded {
        return wire::failure(&c.api, &c.v, codes::GOODS_ORDER_CLOSE_ERROR);
    }
    let venue_code = yk
        .svc
        .catalog()
        .venue_by_id(b.order.venue_id)
        .map(|v| v.code.clone())
        .unwrap_or_default();
    match refund_booking(yk, c, &venue_code, &b, "refundGoodsOrder").await {
        Ok(()) => wire::object(
            &c.api,
            &c.v,
            codes::BIZ_SUCCESS,
            Some(json!({"cinemaLinkId": link, "goodsOrderId": id})),
        ),
        Err(code) => wire::failure(&c.api, &c.v, code),
    }
}

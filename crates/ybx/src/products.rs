//! Read pages: GetProducts, GetProductsInventory, GetProviderConfig (alias GetAgentParameters),
//! GetServiceItem, GetTimeSegment.
//!
//! Element names and order follow the catalogue's response XML (opening-tag spelling); every
//! documented element is emitted. Decisions where the catalogue is silent:
//!
//! - `ServiceCode` of GetProducts / GetProductsInventory is ignored unless the supplier sells by
//!   time segment (catalogue §4.2.1: "otherwise ignored"); an unknown code gives an empty
//!   intersection (`没有获取到相关的产品列表。`).
//! - The products an agent "can sell" (GetProducts, GetProductsInventory) are those it is
//!   authorized for, enabled, and not expired (today ≤ `valid_to`).
//! - `classname` is empty for a class other than 0 / 1.
//! - GetProductsInventory checks the dates (format, order, span) before the products.
//! - A product's day quota counts only with `inventory` and a `daily_max` above 0 (capacity 0 =
//!   unlimited, as for claims); the supplier day max only when above 0.
//! - A date the product cannot be sold for (validity window or effective period) reports
//!   "sold out".
//! - GetProviderConfig: `providername` is the venue's name; a rule for every product (`*`) is
//!   sent with an empty `productid` and `productname` `全部`; product rules name the product's
//!   catalogue id and name and are left out when the agent does not sell that product;
//!   `feeitems` is empty when fees are off; a rule with an amount is mode B (the amount wins,
//!   as in the fee computation), with a percentage mode A, with neither mode B `0.00`;
//!   `maxlimit` is never negative.
//! - GetServiceItem with `productid`: the product must be one the agent is authorized for.
//! - GetTimeSegment: `startdate` after `enddate` (or only an `enddate` before today) finds
//!   nothing (`-2352`); an unknown `resourcetype` counts as `2` (catalogue §4.2.40).

use crate::codes;
use crate::route::{failure, Ctx};
use crate::xml::{money, ymd, Answer, Xml};
use boxoffice_core::catalog::Venue;
use boxoffice_core::scenic::{FeeRule, Product};
use boxoffice_core::store::QuotaKey;
use chrono::NaiveDate;
use std::collections::HashMap;

/// `productname` of a fee rule that covers every product.
const ALL_PRODUCTS: &str = "全部";

/// The product key of the supplier's day maximum.
const VENUE_KEY: &str = "@venue";

/// `1` / `0`.
fn flag(b: bool) -> &'static str {
    if b {
        "1"
    } else {
        "0"
    }
}

/// A strict `yyyyMMdd` date.
fn parse_ymd(s: &str) -> Option<NaiveDate> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y%m%d").ok()
}

/// A date as the store's `yyyy-MM-dd`.
fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Whether the supplier sells by time segment.
fn segmented(venue: &Venue) -> bool {
    venue.scenic.as_ref().is_some_and(|s| s.segmented)
}

/// Whether the agent may sell the product now (authorized, enabled, not expired).
fn listed(cx: &Ctx, p: &Product) -> bool {
    let today = cx.today();
    cx.agent.sells(&p.id) && p.enabled && p.valid_to.is_none_or(|t| today <= t)
}

/// The products listed for the agent, narrowed to a line when `ServiceCode` is given and the
/// supplier sells by time segment.
fn sellable<'a>(cx: &Ctx, venue: &'a Venue) -> Vec<&'a Product> {
    let line = cx.params.text("servicecode");
    let by_line = !line.is_empty() && segmented(venue);
    venue
        .products
        .iter()
        .filter(|p| listed(cx, p))
        .filter(|p| !by_line || p.lines.iter().any(|l| l == line))
        .collect()
}

/// `GetProducts.aspx` (4.2.1).
pub async fn get_products(cx: &Ctx) -> Answer {
    let products = sellable(cx, &cx.venue);
    if products.is_empty() {
        return Answer::err(-1, codes::NO_PRODUCTS);
    }
    let mut x = Xml::new();
    for p in products {
        let classname = match p.class {
            0 => "有形产品",
            1 => "虚拟产品",
            _ => "",
        };
        x.open("Item")
            .leaf("productid", &p.id)
            .leaf("productname", &p.name)
            .leaf("Classid", p.class)
            .leaf("classname", classname)
            .leaf("unit", &p.unit)
            .leaf("price", money(cx.agent.price(p)))
            .leaf("initdate", p.valid_from.map(ymd).unwrap_or_default())
            .leaf("enddate", p.valid_to.map(ymd).unwrap_or_default())
            .leaf("conditionsofsale", &p.conditions)
            .leaf("minimum", p.min_per_order)
            .leaf("maximum", p.max_per_order)
            .leaf("SimpleIDmaximum", p.per_id_daily_max)
            .leaf("shippingmethod", &p.effect_mode)
            .leaf("Preorder", p.order_validity_days)
            .leaf("PreorderDays", p.validity_days)
            .leaf("EffectBegPeriod", &p.effect_from)
            .leaf("EffectEndPeriod", &p.effect_to)
            .leaf("EffectPeriodNegated", flag(p.effect_negated))
            .leaf("webpredays", p.lead_days)
            .leaf("weblong", p.delivery_days)
            .leaf("needname", flag(p.real_name))
            .close("Item");
    }
    Answer::ok("", x.finish())
}

/// What a product has left on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stock {
    /// No cap applies.
    Unlimited,
    /// Nothing left (or not on sale that date).
    SoldOut,
    /// Units left.
    Left(i64),
}

/// `GetProductsInventory.aspx` (4.2.2).
pub async fn get_products_inventory(cx: &Ctx) -> Answer {
    let v3 = cx.ybx.opts.inventory_v3;
    let (Some(start), Some(end)) = (
        parse_ymd(cx.params.text("startdate")),
        parse_ymd(cx.params.text("enddate")),
    ) else {
        return Answer::err(-1, codes::INVENTORY_FORMAT);
    };
    if start > end {
        return if v3 {
            Answer::err(-4, codes::V3_ORDER)
        } else {
            Answer::err(-1, codes::INVENTORY_ORDER)
        };
    }
    if (end - start).num_days() > cx.ybx.opts.max_query_days {
        return if v3 {
            Answer::err(-3, codes::V3_SPAN)
        } else {
            Answer::err(-1, codes::INVENTORY_SPAN)
        };
    }
    let venue = &cx.venue;
    let wanted = cx.params.text("productid");
    let products: Vec<&Product> = sellable(cx, venue)
        .into_iter()
        .filter(|p| wanted.is_empty() || p.id.eq_ignore_ascii_case(wanted))
        .collect();
    if products.is_empty() {
        return if v3 {
            Answer::err(-2, codes::V3_NO_PERMIT)
        } else {
            Answer::err(-1, codes::NO_PRODUCTS)
        };
    }
    let usage = match cx
        .ybx
        .svc
        .quota_usage(venue.id, &iso(start), &iso(end))
        .await
    {
        Ok(u) => u,
        Err(e) => return failure(&e),
    };
    let used: HashMap<(String, String), i64> = usage
        .iter()
        .filter(|(k, _)| k.segment == 0)
        .map(|(k, n)| ((k.product.clone(), k.date.clone()), *n))
        .collect();
    let used_of = |product: &str, date: &str| {
        used.get(&(product.to_string(), date.to_string()))
            .copied()
            .unwrap_or(0)
    };
    let venue_cap = venue
        .scenic
        .as_ref()
        .map(|s| s.daily_max)
        .filter(|m| *m > 0);
    let mut x = Xml::new();
    for p in products {
        let key = p.id.to_ascii_uppercase();
        let product_cap = p.daily_max.filter(|m| p.inventory && *m > 0);
        for date in start.iter_days().take_while(|d| *d <= end) {
            let day = iso(date);
            let caps = [
                product_cap.map(|c| c - used_of(&key, &day)),
                venue_cap.map(|c| c - used_of(VENUE_KEY, &day)),
            ];
            let stock = if !p.sells_on(date) {
                Stock::SoldOut
            } else {
                match caps.into_iter().flatten().min() {
                    None => Stock::Unlimited,
                    Some(n) if n <= 0 => Stock::SoldOut,
                    Some(n) => Stock::Left(n),
                }
            };
            let quantity = match (stock, v3) {
                (Stock::Unlimited, false) | (Stock::SoldOut, true) => 0,
                (Stock::Unlimited, true) | (Stock::SoldOut, false) => -1,
                (Stock::Left(n), _) => n,
            };
            x.open("Item")
                .leaf("productid", &p.id)
                .leaf("productname", &p.name)
                .leaf("date", ymd(date))
                .leaf("quantity", quantity)
                .close("Item");
        }
    }
    Answer::ok("", x.finish())
}

/// `GetProviderConfig.aspx` / `GetAgentParameters.aspx` (4.2.38).
pub async fn get_provider_config(cx: &Ctx) -> Answer {
    let venue = &cx.venue;
    let Some(s) = venue.scenic.as_ref() else {
        return Answer::err(-2341, codes::PROVIDER_CONFIG_MISSING);
    };
    if !(0..=2).contains(&s.remote_activation) {
        return Answer::err(-2342, codes::PROVIDER_ACTIVATION_BAD);
    }
    let agent = &cx.agent;
    let provider = venue
        .links
        .get(crate::PROTOCOL)
        .filter(|l| !l.is_empty())
        .unwrap_or(&venue.code);
    let mut x = Xml::new();
    x.open("Item")
        .leaf("providerid", provider)
        .leaf("providername", &venue.name)
        .leaf("type", "1")
        .leaf("sublevelmode", flag(s.segmented))
        .leaf("feemode", flag(s.fees_enabled))
        .open("feeitems");
    if s.fees_enabled {
        for rule in &s.fees {
            fee_item(&mut x, cx, rule);
        }
    }
    x.close("feeitems")
        .leaf("activateable", s.remote_activation)
        .leaf("tickettype", s.gate_medium)
        .leaf("canpaywithcash", flag(agent.allow_cash))
        .leaf("canpaywithyfk", flag(agent.allow_deposit))
        .leaf("canpaywithfk", flag(agent.allow_rebate))
        .leaf(
            "canpaywithepay",
            flag(agent.allow_epay && !s.epay_channels.is_empty()),
        )
        .leaf("maxlimit", agent.daily_max.max(0))
        .leaf("payandactive", flag(s.activate_on_payment))
        .leaf("activerefund", flag(s.refund_after_activation))
        .close("Item");
    Answer::ok("", x.finish())
}

/// One `<feeitem>` (nothing for a rule of a product the agent does not sell).
fn fee_item(x: &mut Xml, cx: &Ctx, rule: &FeeRule) {
    let (id, name) = if rule.product == "*" {
        (String::new(), ALL_PRODUCTS.to_string())
    } else {
        if !cx.agent.sells(&rule.product) {
            return;
        }
        match cx.venue.product(&rule.product) {
            Some(p) => (p.id.clone(), p.name.clone()),
            None => (rule.product.clone(), String::new()),
        }
    };
    let (mode, value) = match (rule.amount, rule.percent) {
        (Some(a), _) => ("B", money(a)),
        (None, Some(p)) => ("A", p.to_string()),
        (None, None) => ("B", money(0)),
    };
    x.open("feeitem")
        .leaf("productid", id)
        .leaf("productname", name)
        .leaf("unitcount", rule.unit_count)
        .leaf("unit", rule.unit.to_ascii_uppercase())
        .leaf("referencetime", "A")
        .leaf("feecalmode", mode)
        .leaf("feevalue", value)
        .close("feeitem");
}

/// `GetServiceItem.aspx` (4.2.39).
pub async fn get_service_item(cx: &Ctx) -> Answer {
    let venue = &cx.venue;
    if !segmented(venue) {
        return Answer::err(-1, codes::OTHER_ERROR);
    }
    let wanted = cx.params.text("productid");
    let product = if wanted.is_empty() {
        None
    } else {
        match venue.product(wanted).filter(|p| cx.agent.sells(&p.id)) {
            Some(p) => Some(p),
            None => return Answer::err(-1, codes::NO_PRODUCTS),
        }
    };
    let lines: Vec<_> = venue
        .lines
        .iter()
        .filter(|l| product.is_none_or(|p| p.lines.contains(&l.code)))
        .collect();
    if lines.is_empty() {
        return Answer::err(-1, codes::NO_PRODUCTS);
    }
    let mut x = Xml::new();
    for l in lines {
        x.open("Item")
            .leaf("ServiceCode", &l.code)
            .leaf("ServiceName", &l.name)
            .close("Item");
    }
    Answer::ok("", x.finish())
}

/// `GetTimeSegment.aspx` (4.2.40).
pub async fn get_time_segment(cx: &Ctx) -> Answer {
    let venue = &cx.venue;
    if !segmented(venue) {
        return Answer::err(-1, codes::OTHER_ERROR);
    }
    let date = |name: &str| -> Result<Option<NaiveDate>, ()> {
        let v = cx.params.text(name);
        if v.is_empty() {
            Ok(None)
        } else {
            parse_ymd(v).map(Some).ok_or(())
        }
    };
    let (Ok(from), Ok(to)) = (date("startdate"), date("enddate")) else {
        return Answer::err(-1901, codes::PARAM_ERROR);
    };
    let today = cx.today();
    let (start, end) = match (from, to) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, s),
        (None, Some(e)) => (today, e),
        (None, None) => (today, today),
    };
    if (end - start).num_days() > cx.ybx.opts.max_query_days {
        return Answer::err(-2351, codes::SEGMENT_SPAN);
    }
    let code = cx.params.text("servicecode");
    let lines: Vec<_> = venue
        .lines
        .iter()
        .filter(|l| code.is_empty() || l.code == code)
        .collect();
    if lines.is_empty() || start > end {
        return Answer::err(-2352, codes::SEGMENT_NONE);
    }
    let desk = cx.params.text("resourcetype") == "1";
    let used: HashMap<QuotaKey, i64> = if desk {
        HashMap::new()
    } else {
        match cx
            .ybx
            .svc
            .quota_usage(venue.id, &iso(start), &iso(end))
            .await
        {
            Ok(u) => u.iter().cloned().collect(),
            Err(e) => return failure(&e),
        }
    };
    let mut x = Xml::new();
    let mut any = false;
    for l in lines {
        let mut segments: Vec<_> = l.segments.iter().collect();
        segments.sort_by_key(|s| s.index);
        for date in start.iter_days().take_while(|d| *d <= end) {
            for s in &segments {
                let (capacity, used_count) = if desk {
                    (s.desk_capacity, 0)
                } else {
                    let key = QuotaKey {
                        venue_id: venue.id,
                        product: format!("@line/{}", l.code),
                        date: iso(date),
                        segment: s.index,
                    };
                    (s.capacity, used.get(&key).copied().unwrap_or(0))
                };
                any = true;
                x.open("Item")
                    .leaf("ServiceCode", &l.code)
                    .leaf("ServiceName", &l.name)
                    .leaf("Date", ymd(date))
                    .leaf("TimeSpanIndex", s.index)
                    .leaf("StartTime", &s.start)
                    .leaf("EndTime", &s.end)
                    .leaf("TotalCapacity", s.capacity + s.desk_capacity)
                    .leaf("Capacity", capacity)
                    .leaf("UsedCount", used_count)
                    .close("Item");
            }
        }
    }
    if !any {
        return Answer::err(-2352, codes::SEGMENT_NONE);
    }
    Answer::ok("", x.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_strict_yyyymmdd() {
        assert_eq!(parse_ymd("20261122"), NaiveDate::from_ymd_opt(2026, 11, 22));
        for bad in [
            "2026112",
            "2026-11-22",
            "20261322",
            "+2026112",
            "２0261122",
            "",
        ] {
            assert_eq!(parse_ymd(bad), None, "{bad}");
        }
    }
}

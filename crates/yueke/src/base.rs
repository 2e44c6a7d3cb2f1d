//! Base-information APIs: `cinema.getCinemas`, `schedule.getSchedules`, `seat.getSeats`,
//! `seat.getScheduleAreaSeats`, `seat.getScheduleSoldSeats`.

use crate::codes;
use crate::schedule::{self, column_id, section_id, Schedule};
use crate::wire::{self, money, parse_date, Data};
use crate::{Caller, Yueke};
use axum::response::Response;
use boxoffice_core::catalog::{SeatKind, SeatStyle};
use boxoffice_core::clock::{business_date, from_millis, local};
use boxoffice_core::service::SeatState;
use chrono::Duration;
use serde_json::{json, Map, Value};

/// Longest schedule range one call returns, in business days (G-SCH-2).
const MAX_SCHEDULE_DAYS: i64 = 30;

/// `ykse.partner.cinema.getCinemas`: every cinema bound to the channel, with its halls.
pub async fn get_cinemas(yk: &Yueke, c: &Caller) -> Response {
    let catalog = yk.svc.catalog();
    let mut list = Vec::new();
    for v in catalog
        .venues
        .iter()
        .filter(|v| crate::route::bound(&c.partner, v))
    {
        let Some(link) = v.links.get(crate::PROTOCOL) else {
            continue;
        };
        let halls: Vec<Value> = v
            .screens
            .iter()
            .map(|s| json!({"hallId": s.number.to_string(), "name": s.name, "type": s.kind, "seatCount": s.seats().count()}))
            .collect();
        let mut m = Map::new();
        m.insert("cinemaLinkId".into(), json!(link));
        m.insert("name".into(), json!(v.name));
        m.insert("cinemaId".into(), json!(v.national_id));
        m.insert("cityCode".into(), json!(v.city_code));
        m.insert("city".into(), json!(v.city));
        m.insert("hallCount".into(), json!(v.screens.len()));
        // Documented fields are always sent: empty means "not refundable" / "no limit" (§4.1).
        let text = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
        m.insert(
            "refundBeforeTime".into(),
            json!(text(v.refund_before_minutes)),
        );
        m.insert(
            "refundLimitCount".into(),
            json!(text(v.refund_limit_per_session)),
        );
        m.insert("halls".into(), Value::Array(halls));
        list.push(Value::Object(m));
    }
    wire::list(&c.api, &c.v, codes::BIZ_SUCCESS, list)
}

fn time(ms: i64, yk: &Yueke) -> String {
    local(from_millis(ms), yk.svc.settings().offset)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn schedule_json(yk: &Yueke, s: &Schedule, link: &str, on_sale: bool) -> Value {
    let film = s.venue.film(&s.session.film);
    let attrs = &s.session.attributes;
    let dimensional = ["4D", "3D"]
        .iter()
        .find(|d| attrs.iter().any(|a| a.contains(*d)))
        .copied()
        .unwrap_or("2D");
    let size = ["IMAX", "DMAX"]
        .iter()
        .find(|d| attrs.iter().any(|a| a.to_ascii_uppercase().contains(*d)))
        .copied()
        .unwrap_or("NORMAL");
    let mut f = Map::new();
    f.insert(
        "name".into(),
        json!(film.map(|f| f.title.as_str()).unwrap_or("")),
    );
    f.insert(
        "shortName".into(),
        json!(film
            .map(|f| if f.title_alt.is_empty() {
                f.title.as_str()
            } else {
                f.title_alt.as_str()
            })
            .unwrap_or("")),
    );
    f.insert(
        "filmCode".into(),
        json!(film.map(|f| f.short_code.as_str()).unwrap_or("")),
    );
    f.insert(
        "duration".into(),
        json!(film.map(|f| f.runtime_minutes).unwrap_or(0)),
    );
    // The catalogue has no film language yet: the documented field is sent empty.
    f.insert("language".into(), json!(""));
    f.insert("dimensional".into(), json!(dimensional));
    f.insert("size".into(), json!(size));
    let base = s.base_category().and_then(|b| s.price_of(b));
    let lowest = s.prices.iter().map(|p| p.1).min().unwrap_or(0);
    let standard = s.prices.iter().map(|p| p.1).max().unwrap_or(0);
    let start_ms = s.stop_selling_ms - s.venue.sales_cutoff_minutes * 60_000;
    let mut m = Map::new();
    m.insert("scheduleId".into(), json!(s.session.code));
    m.insert("scheduleKey".into(), json!(s.key));
    m.insert("cinemaLinkId".into(), json!(link));
    m.insert("showDateTime".into(), json!(time(start_ms, yk)));
    m.insert("hallId".into(), json!(s.session.screen.to_string()));
    m.insert("standardPrice".into(), json!(money(standard)));
    m.insert("lowestPrice".into(), json!(money(lowest)));
    // `settlePrice` and the fee are empty when the first area has no price for the channel.
    let settle = base.map(|b| money(b.1)).unwrap_or_default();
    let fee = base.map(|b| money(b.2)).unwrap_or_default();
    m.insert("settlePrice".into(), json!(settle));
    // The fee under both spellings: `ticketfee` (field table) and `ticketFee` (example).
    m.insert("ticketfee".into(), json!(fee));
    m.insert("ticketFee".into(), json!(fee));
    m.insert("feeType".into(), json!("ticket"));
    m.insert("throughStatus".into(), json!("N"));
    m.insert("stopSellingTime".into(), json!(time(s.stop_selling_ms, yk)));
    m.insert("saleStatus".into(), json!(if on_sale { "Y" } else { "N" }));
    m.insert("sessionCode".into(), json!(s.session.code));
    m.insert("film".into(), Value::Object(f));
    let areas: Vec<Value> = s
        .prices
        .iter()
        .filter(|p| Some(p.0.as_str()) != s.base_category())
        .map(|p| json!({"name": area_name(s, &p.0), "settlePrice": money(p.1)}))
        .collect();
    // No co-branded (benefit) card prices yet; area prices empty when the schedule has none.
    m.insert("benefitCardPrices".into(), Value::Array(Vec::new()));
    m.insert("areaSettlePrices".into(), Value::Array(areas));
    Value::Object(m)
}

/// The price area's name: the description of the first seat area of its category.
fn area_name(s: &Schedule, category: &str) -> String {
    s.screen()
        .and_then(|sc| sc.areas.iter().find(|a| a.category == category))
        .map(|a| a.description.clone())
        .unwrap_or_default()
}

/// `ykse.partner.schedule.getSchedules`: a cinema's schedules over a business-day range.
pub async fn get_schedules(yk: &Yueke, c: &Caller, d: &Data) -> Response {
    let fail = |code| wire::failure(&c.api, &c.v, code);
    let (Ok(link), Ok(start), Ok(end), Ok(price_type)) = (
        d.str("cinemaLinkId"),
        d.str("startDate"),
        d.str("endDate"),
        d.str("priceQueryType"),
    ) else {
        return fail(codes::FORMAT_ERROR);
    };
    let Some(link) = link else {
        return fail(codes::NULL_ARGUMENT);
    };
    if !matches!(
        price_type.as_deref(),
        None | Some("default") | Some("benefit") | Some("specialSeat")
    ) {
        return fail(codes::ILLEGAL_ARGUMENT);
    }
    let venue = match schedule::cinema(yk, c, &link) {
        Ok(v) => v,
        Err(code) => return fail(code),
    };
    let offset = yk.svc.settings().offset;
    let today = business_date(local(yk.svc.clock().now(), offset));
    let start = match start.as_deref().map(parse_date) {
        None => today,
        Some(Some(d)) => d,
        Some(None) => return fail(codes::FORMAT_ERROR),
    };
    let end = match (
        end.as_deref().map(parse_date),
        d.str("startDate").ok().flatten(),
    ) {
        (None, None) => start,
        (None, Some(_)) => start + Duration::days(MAX_SCHEDULE_DAYS - 1),
        (Some(Some(e)), _) => e,
        (Some(None), _) => return fail(codes::FORMAT_ERROR),
    };
    if end < start {
        return fail(codes::ILLEGAL_ARGUMENT);
    }
    if start > today + Duration::days(MAX_SCHEDULE_DAYS) {
        return fail(codes::OVER_MAX_SCHEDULE_DAY);
    }
    let end = end.min(start + Duration::days(MAX_SCHEDULE_DAYS - 1));
    let catalog = yk.svc.catalog();
    let now = yk.svc.now_ms();
    // Served from the cache until the catalogue changes or a listed schedule stops selling.
    let key = format!(
        "{}|{}|{link}|{start}|{end}|{}",
        c.api,
        c.partner.id,
        price_type.as_deref().unwrap_or("")
    );
    if let Some(body) = yk.answers.get(&key, &catalog, now) {
        return wire::body(body);
    }
    let mut list = Vec::new();
    let mut until = i64::MAX;
    for session in catalog.sessions_of(venue.id) {
        let day = business_date(session.start);
        if day < start || day > end {
            continue;
        }
        if let Some(s) = schedule::schedule(yk, c, &venue, session) {
            let on_sale = !session.sold_out && !session.sales_closed && now <= s.stop_selling_ms;
            if now <= s.stop_selling_ms {
                until = until.min(s.stop_selling_ms + 1);
            }
            list.push(schedule_json(yk, &s, &link, on_sale));
        }
    }
    let body: bytes::Bytes = wire::list_body(&c.api, &c.v, codes::BIZ_SUCCESS, list).into();
    yk.answers.put(key, catalog, until, body.clone());
    wire::body(body)
}

/// Seat `type` and `damage` of a layout seat.
fn seat_type(kind: SeatKind, style: SeatStyle) -> (&'static str, &'static str) {
    let t = match (kind, style) {
        (SeatKind::Special, _) => "W",
        (SeatKind::House | SeatKind::Placeholder | SeatKind::Companion, _) => "H",
        (_, SeatStyle::SofaLeft) => "L",
        (_, SeatStyle::SofaRight | SeatStyle::SofaMiddle) => "R",
        _ => "N",
    };
    (t, if kind == SeatKind::Broken { "Y" } else { "N" })
}

/// `ykse.partner.seat.getSeats`: a hall's seat map, one section per seat area.
pub async fn get_seats(yk: &Yueke, c: &Caller, d: &Data) -> Response {
    let fail = |code| wire::failure(&c.api, &c.v, code);
    let (Ok(link), Ok(hall)) = (d.str("cinemaLinkId"), d.str("hallId")) else {
        return fail(codes::FORMAT_ERROR);
    };
    let (Some(link), Some(hall)) = (link, hall) else {
        return fail(codes::NULL_ARGUMENT);
    };
    let venue = match schedule::cinema(yk, c, &link) {
        Ok(v) => v,
        Err(code) => return fail(code),
    };
    let Some(screen) = hall.parse::<i32>().ok().and_then(|n| venue.screen(n)) else {
        return fail(codes::DATA_NOT_EXIST);
    };
    // The seat map only changes with the catalogue.
    let catalog = yk.svc.catalog();
    let key = format!("{}|{}|{link}|{hall}", c.api, c.partner.id);
    if let Some(body) = yk.answers.get(&key, &catalog, yk.svc.now_ms()) {
        return wire::body(body);
    }
    let total_rows: i32 = screen.areas.iter().map(|a| a.row_count()).sum();
    let mut top = 0;
    let mut sections = Vec::new();
    for a in &screen.areas {
        let section = section_id(a);
        let mut seats = Vec::new();
        for (ri, r) in a.rows.iter().enumerate() {
            let row = r.physical_name.clone().unwrap_or_default();
            for s in &r.seats {
                let (t, damage) = seat_type(s.kind, s.style);
                seats.push(json!({
                    "seatId": format!("{section}-{row}-{}", column_id(&s.name)),
                    "rowId": row,
                    "columnId": column_id(&s.name),
                    "x": s.key.column + 1,
                    "y": total_rows - (top + ri as i32),
                    "type": t,
                    "damage": damage,
                }));
            }
        }
        top += a.row_count();
        sections.push(json!({"sectionId": section, "name": a.description, "seats": seats}));
    }
    let effective = screen
        .layout_effective_date
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "2000-01-01".into());
    let body: bytes::Bytes = wire::object_body(
        &c.api,
        &c.v,
        codes::BIZ_SUCCESS,
        Some(json!({"cinemaLinkId": link, "hallId": hall, "seatPlanList": [{"effectiveDate": effective, "sections": sections}]})),
    )
    .into();
    yk.answers.put(key, catalog, i64::MAX, body.clone());
    wire::body(body)
}

/// The schedule named in `data` (`cinemaLinkId`, `scheduleId`, `scheduleKey`).
pub(crate) fn schedule_from(
    yk: &Yueke,
    c: &Caller,
    d: &Data,
) -> Result<(String, Schedule), crate::codes::BizCode> {
    let (Ok(link), Ok(id), Ok(key)) = (
        d.str("cinemaLinkId"),
        d.str("scheduleId"),
        d.str("scheduleKey"),
    ) else {
        return Err(codes::FORMAT_ERROR);
    };
    let (Some(link), Some(id), Some(key)) = (link, id, key) else {
        return Err(codes::NULL_ARGUMENT);
    };
    let venue = schedule::cinema(yk, c, &link)?;
    let s = schedule::find(yk, c, &venue, &id, Some(&key))?;
    Ok((link, s))
}

/// `ykse.partner.seat.getScheduleAreaSeats`: which seats of a schedule lie in which price area.
pub async fn get_schedule_area_seats(yk: &Yueke, c: &Caller, d: &Data) -> Response {
    let (link, s) = match schedule_from(yk, c, d) {
        Ok(x) => x,
        Err(code) => return wire::failure(&c.api, &c.v, code),
    };
    let Some(screen) = s.screen() else {
        return wire::failure(&c.api, &c.v, codes::SCHEDULE_NOT_FOUND);
    };
    let base = s.base_category().unwrap_or("").to_string();
    let mut n = 0;
    let sections: Vec<Value> = screen
        .areas
        .iter()
        .map(|a| {
            let details = if a.category == base || s.price_of(&a.category).is_none() {
                Vec::new()
            } else {
                n += 1;
                let section = section_id(a);
                let seats: Vec<Value> = a
                    .rows
                    .iter()
                    .flat_map(|r| {
                        let row = r.physical_name.clone().unwrap_or_default();
                        let section = section.clone();
                        r.seats.iter().map(move |x| json!({"seatId": format!("{section}-{row}-{}", column_id(&x.name))}))
                    })
                    .collect();
                vec![json!({"name": area_name(&s, &a.category), "code": format!("A{n:03}"), "seats": seats})]
            };
            json!({"sectionId": section_id(a), "areaDetails": details})
        })
        .collect();
    wire::object(
        &c.api,
        &c.v,
        codes::BIZ_SUCCESS,
        Some(
            json!({"cinemaLinkId": link, "scheduleId": s.session.code, "scheduleKey": s.key, "sectionAreas": sections}),
        ),
    )
}

/// `ykse.partner.seat.getScheduleSoldSeats`: the seats of one section that cannot be sold now —
/// sold, locked by anyone (through any protocol), damaged or reserved (G-SEAT-3).
pub async fn get_schedule_sold_seats(yk: &Yueke, c: &Caller, d: &Data) -> Response {
    let fail = |code| wire::failure(&c.api, &c.v, code);
    let section = match d.str("sectionId") {
        Ok(Some(s)) => s,
        Ok(None) => return fail(codes::NULL_ARGUMENT),
        Err(_) => return fail(codes::FORMAT_ERROR),
    };
    let (link, s) = match schedule_from(yk, c, d) {
        Ok(x) => x,
        Err(code) => return fail(code),
    };
    let Some(screen) = s.screen() else {
        return fail(codes::SCHEDULE_NOT_FOUND);
    };
    let Some(area) = screen.areas.iter().find(|a| section_id(a) == section) else {
        return fail(codes::DATA_NOT_EXIST);
    };
    let map = match yk.svc.seat_map(s.session.id).await {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error = %e, "getScheduleSoldSeats: storage failure");
            return fail(codes::SYSTEM_ERROR);
        }
    };
    let mut seats = Vec::new();
    for r in &area.rows {
        let row = r.physical_name.clone().unwrap_or_default();
        for x in &r.seats {
            if x.kind != SeatKind::Normal || map.state(x.key) != SeatState::Free {
                seats.push(json!({"seatId": format!("{section}-{row}-{}", column_id(&x.name))}));
            }
        }
    }
    wire::object(
        &c.api,
        &c.v,
        codes::BIZ_SUCCESS,
        Some(
            json!({"cinemaLinkId": link, "scheduleId": s.session.code, "scheduleKey": s.key, "sectionList": [{"sectionId": section, "seats": seats}]}),
        ),
    )
}

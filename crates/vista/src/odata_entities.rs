//! Entity values of the OData service, built from the catalogue. Values come in the
//! declaration order of `odata_model.rs`; decisions on values the catalogue does not hold are
//! in `docs/protocols/vista.md` ("OData").

use crate::{Caller, Vista};
use boxoffice_core::catalog::{Catalog, Film, Screen, Session, Venue};
use boxoffice_core::clock::business_date;
use boxoffice_odata::{Entity, Value};
use chrono::NaiveDate;
use std::sync::Arc;

fn text(s: &str) -> Value {
    Value::String(s.to_string())
}

/// `Translation` collections are always empty: the catalogue has one language.
fn no_translations() -> Value {
    Value::Translations(vec![])
}

/// A `Cinema`, with its `ScreenAttributes` loaded (rendered only when expanded).
pub(crate) fn cinema(v: &Venue) -> Entity {
    let mut e = Entity::new(vec![
        text(&v.code),
        text(&v.national_id),
        text(&v.name),
        text(""),
        text(&v.phone),
        v.email.as_deref().map(text).unwrap_or(Value::Null),
        text(&v.address),
        text(""),
        text(&v.city),
        Value::Null,
        Value::Null,
        text(""),
        text(""),
        Value::Bool(false),
        text(""),
        text(""),
        text(""),
        text("CNY"),
        Value::Bool(false),
        Value::Bool(false),
        Value::Bool(true),
        text("China Standard Time"),
        text(&v.code),
        no_translations(),
        no_translations(),
        no_translations(),
        no_translations(),
        Value::Bool(false),
        Value::Null,
        text(&v.code),
    ]);
    e.nav.push(("ScreenAttributes", screen_attributes(v)));
    e
}

/// The `Attributes` set: every session attribute of the caller's cinemas, in order of first
/// use, with the cinemas whose sessions carry it in `SessionAttributeCinemaIDs`.
pub(crate) fn attributes(venues: &[&Arc<Venue>], catalog: &Catalog) -> Vec<Entity> {
    let mut seen: Vec<(&str, Vec<String>)> = Vec::new();
    for v in venues {
        for name in catalog.sessions_of(v.id).flat_map(|s| s.attributes.iter()) {
            let at = match seen.iter().position(|(n, _)| *n == name.as_str()) {
                Some(i) => i,
                None => {
                    seen.push((name, Vec::new()));
                    seen.len() - 1
                }
            };
            if !seen[at].1.contains(&v.code) {
                seen[at].1.push(v.code.clone());
            }
        }
    }
    seen.into_iter()
        .map(|(name, cinemas)| attribute(name, cinemas))
        .collect()
}

/// An `Attribute`: the catalogue's attribute text is its ID, description and short name.
fn attribute(name: &str, cinemas: Vec<String>) -> Entity {
    Entity::new(vec![
        text(name),
        text(name),
        text(name),
        text(""),
        text(""),
        text(""),
        text(""),
        text(""),
        Value::Bool(false),
        Value::Bool(true),
        Value::Int(0),
        no_translations(),
        no_translations(),
        Value::Strings(cinemas),
    ])
}

/// A `Session`, with its `Attributes` loaded.
pub(crate) async fn session(vista: &Vista, v: &Venue, s: &Session) -> Entity {
    let screen = v.screen(s.screen);
    let available = vista.svc.seats_available(v, s).await.unwrap_or(0);
    let mut categories: Vec<String> = Vec::new();
    for p in &s.prices {
        if !categories.contains(&p.area_category) {
            categories.push(p.area_category.clone());
        }
    }
    let on_sale = !s.sold_out && vista.svc.on_sale(v, s);
    let mut e = Entity::new(vec![
        text(&format!("{}-{}", v.code, s.code)),
        text(&v.code),
        text(&s.film),
        text(&s.code),
        Value::Strings(categories),
        Value::DateTime(s.start),
        Value::Bool(true),
        Value::Bool(true),
        Value::Int(i64::try_from(available).unwrap_or(i64::MAX)),
        Value::Bool(false),
        text(""),
        text(&s.price_group),
        screen.map(|sc| text(&sc.name)).unwrap_or(Value::Null),
        screen.map(|sc| text(&sc.name_alt)).unwrap_or(Value::Null),
        screen
            .map(|sc| Value::Int(i64::from(sc.number)))
            .unwrap_or(Value::Null),
        text(&v.code),
        text("0000000001"),
        text(";RSP;"),
        Value::Strings(s.attributes.clone()),
        Value::Strings(vec![]),
        Value::Bool(on_sale),
        Value::Bool(false),
        Value::Null,
        Value::DateTime(
            business_date(s.start)
                .and_hms_opt(0, 0, 0)
                .unwrap_or(s.start),
        ),
        Value::Int(0),
        Value::Bool(false),
    ]);
    let attributes = s
        .attributes
        .iter()
        .map(|a| attribute(a, vec![v.code.clone()]))
        .collect();
    e.nav.push(("Attributes", attributes));
    e
}

/// A `ScheduledFilm`: one film at one cinema. `has_sessions`: the list shows sessions for it.
pub(crate) fn scheduled_film(v: &Venue, f: &Film, has_sessions: bool) -> Entity {
    Entity::new(vec![
        text(&format!("{}-{}", v.code, f.code)),
        text(&f.code),
        text(&v.code),
        Value::Bool(has_sessions),
        text(&f.title),
        text(&f.title_alt),
        text(&f.rating),
        text(""),
        text(&f.rating_description),
        text(""),
        text(&f.synopsis),
        text(""),
        f.opening_date.map(Value::DateTime).unwrap_or(Value::Null),
        text(&f.code),
        text(&f.code),
        text(&f.short_code),
        text(&f.runtime_minutes.to_string()),
        text(""),
        Value::Int(0),
        text(""),
        Value::Bool(has_sessions),
        text(""),
        text(&v.name),
        text(""),
        Value::Bool(true),
        Value::Bool(false),
        Value::Null,
        Value::Null,
        Value::Bool(false),
        Value::Bool(false),
    ])
}

/// A `Film` of the head-office film list. `IsComingSoon`: it opens after `today`;
/// `IsScheduledAtCinema`: a session of it has not started yet at one of the caller's cinemas.
pub(crate) fn film(f: &Film, today: NaiveDate, scheduled: bool) -> Entity {
    Entity::new(vec![
        text(&f.code),
        text(&f.short_code),
        text(&f.title),
        text(&f.rating),
        text(&f.rating_description),
        text(&f.synopsis),
        text(""),
        text(&f.code),
        text(""),
        Value::Int(i64::from(f.runtime_minutes)),
        f.opening_date.map(Value::DateTime).unwrap_or(Value::Null),
        text(""),
        Value::Bool(f.opening_date.is_some_and(|d| d.date() > today)),
        Value::Bool(scheduled),
        text(&f.title_alt),
        text(""),
        text(""),
        text(""),
        text(""),
        text(""),
        Value::Null,
        text(""),
        no_translations(),
        no_translations(),
        no_translations(),
        Value::Null,
    ])
}

/// The site group a cinema belongs to: one per city, identified by the city's statistics
/// area code (`city_code`), or by the city name when the code is empty.
pub(crate) fn site_group_id(v: &Venue) -> &str {
    if v.city_code.is_empty() {
        &v.city
    } else {
        &v.city_code
    }
}

/// The `SiteGroups` set: one group per city of the caller's cinemas (in order of first
/// appearance), its `Cinemas` loaded.
pub(crate) fn site_groups(venues: &[&Arc<Venue>]) -> Vec<Entity> {
    let mut groups: Vec<(&Venue, Vec<Entity>)> = Vec::new();
    for v in venues {
        let id = site_group_id(v);
        if id.is_empty() {
            continue;
        }
        match groups
            .iter_mut()
            .find(|(first, _)| site_group_id(first) == id)
        {
            Some((_, cinemas)) => cinemas.push(cinema(v)),
            None => groups.push((v, vec![cinema(v)])),
        }
    }
    groups
        .into_iter()
        .map(|(first, cinemas)| {
            let name = if first.city.is_empty() {
                site_group_id(first)
            } else {
                &first.city
            };
            let mut e = Entity::new(vec![
                text(site_group_id(first)),
                text(name),
                text(&first.city_code),
                Value::Null,
                Value::Bool(false),
            ]);
            e.nav.push(("Cinemas", cinemas));
            e
        })
        .collect()
}

/// What a screen's hall type (`Screen::kind`) means, as a screen attribute.
fn hall_type(kind: &str) -> (&str, &str) {
    match kind {
        "N" => ("普通厅", "Standard"),
        "I" => ("IMAX 厅", "IMAX"),
        "Y" => ("VIP 厅", "VIP"),
        other => (other, other),
    }
}

/// The `ScreenAttributes` of a cinema: one per screen with a hall type.
pub(crate) fn screen_attributes(v: &Venue) -> Vec<Entity> {
    v.screens
        .iter()
        .filter(|s| !s.kind.is_empty())
        .map(|s| screen_attribute(v, s))
        .collect()
}

fn screen_attribute(v: &Venue, s: &Screen) -> Entity {
    let (description, alt) = hall_type(&s.kind);
    Entity::new(vec![
        text(&format!("{}-{}-{}", v.code, s.number, s.kind)),
        text(&v.code),
        Value::Int(i64::from(s.number)),
        text(&s.kind),
        Value::Bool(false),
        text(description),
        text(alt),
    ])
}

/// The security-behaviour settings Vista's result codes 43–45 name, plus the price-override
/// behaviour, for the caller's profile; values as .NET prints booleans.
pub(crate) fn settings(caller: &Caller) -> Vec<Entity> {
    let flags = [
        ("AllowBookingRefunds", caller.allow_refunds),
        ("AllowExternalPayments", caller.allow_external_payments),
        ("AllowOfflinePayments", false),
        ("AllowTicketPriceOverride", caller.allow_price_override),
    ];
    flags
        .into_iter()
        .map(|(name, on)| {
            Entity::new(vec![
                text(name),
                text(if on { "True" } else { "False" }),
                text(name),
            ])
        })
        .collect()
}

//! A test model mirroring spec §3.3 (Cinema, ScheduledFilm, Session, Attribute) and helpers.
#![allow(dead_code)]

use boxoffice_odata::PropKind::{
    Boolean as B, DateTime as DT, Decimal as D, Int32 as I, String as S, StringCollection as SC,
    TranslationCollection as TC,
};
use boxoffice_odata::*;
use chrono::{NaiveDate, NaiveDateTime};

pub const BASE: &str = "http://127.0.0.1:8080/WSVistaWebClient/OData.svc";

fn props(list: &[(&'static str, PropKind, bool)]) -> Vec<Property> {
    list.iter()
        .map(|&(n, k, nullable)| Property::new(n, k, nullable))
        .collect()
}

fn nav(name: &'static str, target_type: &'static str) -> Navigation {
    Navigation {
        name,
        target_type,
        many: true,
    }
}

pub fn model() -> Model {
    let cinema = EntityType {
        name: "Cinema",
        key: "ID",
        properties: props(&[
            ("ID", S, false),
            ("CinemaNationalId", S, true),
            ("Name", S, true),
            ("NameAlt", S, true),
            ("PhoneNumber", S, true),
            ("EmailAddress", S, true),
            ("Address1", S, true),
            ("Address2", S, true),
            ("City", S, true),
            ("Latitude", D, true),
            ("Longitude", D, true),
            ("ParkingInfo", S, true),
            ("LoyaltyCode", S, true),
            ("IsGiftStore", B, false),
            ("Description", S, true),
            ("DescriptionAlt", S, true),
            ("PublicTransport", S, true),
            ("CurrencyCode", S, true),
            ("AllowPrintAtHomeBookings", B, false),
            ("AllowOnlineVoucherValidation", B, false),
            ("DisplaySofaSeats", B, false),
            ("TimeZoneId", S, true),
            ("HOPK", S, true),
            ("NameTranslations", TC, false),
            ("DescriptionTranslations", TC, false),
            ("ParkingInfoTranslations", TC, false),
            ("PublicTransportTranslations", TC, false),
            ("TipsCompulsory", B, false),
            ("TipPercentages", S, true),
            ("ServerName", S, true),
        ]),
        navigations: vec![
            nav("ScheduledFilms", "ScheduledFilm"),
            nav("ScreenAttributes", "Attribute"),
            nav("ConceptAttributes", "Attribute"),
        ],
    };
    let film = EntityType {
        name: "ScheduledFilm",
        key: "ID",
        properties: props(&[
            ("ID", S, false),
            ("ScheduledFilmId", S, true),
            ("CinemaId", S, true),
            ("HasFutureSessions", B, false),
            ("Title", S, true),
            ("TitleAlt", S, true),
            ("Rating", S, true),
            ("RatingAlt", S, true),
            ("RatingDescription", S, true),
            ("RatingDescriptionAlt", S, true),
            ("Synopsis", S, true),
            ("SynopsisAlt", S, true),
            ("OpeningDate", DT, true),
            ("FilmHOPK", S, true),
            ("FilmHOCode", S, true),
            ("ShortCode", S, true),
            ("RunTime", S, true),
            ("TrailerUrl", S, true),
            ("DisplaySequence", I, true),
            ("TwitterTag", S, true),
            ("HasSessionsAvailable", B, false),
            ("GraphicUrl", S, true),
            ("CinemaName", S, true),
            ("CinemaNameAlt", S, true),
            ("AllowTicketSales", B, false),
            ("AdvertiseAdvanceBookingDate", B, false),
            ("AdvanceBookingDate", DT, true),
            ("LoyaltyAdvanceBookingDate", DT, true),
            ("HasDynamicallyPricedTicketsAvailable", B, false),
            ("IsPlayThroughMarketingFilm", B, false),
        ]),
        navigations: vec![
            nav("Sessions", "Session"),
            nav("PlayThroughFilms", "ScheduledFilm"),
        ],
    };
    let session = EntityType {
        name: "Session",
        key: "ID",
        properties: props(&[
            ("ID", S, false),
            ("CinemaId", S, true),
            ("ScheduledFilmId", S, true),
            ("SessionId", S, true),
            ("AreaCategoryCodes", SC, false),
            ("Showtime", DT, false),
            ("IsAllocatedSeating", B, false),
            ("AllowChildAdmits", B, false),
            ("SeatsAvailable", I, false),
            ("AllowComplimentaryTickets", B, false),
            ("EventId", S, true),
            ("PriceGroupCode", S, true),
            ("ScreenName", S, true),
            ("ScreenNameAlt", S, true),
            ("ScreenNumber", I, true),
            ("CinemaOperatorCode", S, true),
            ("FormatCode", S, true),
            ("SalesChannels", S, true),
            ("SessionAttributesNames", SC, false),
            ("ConceptAttributesNames", SC, false),
            ("AllowTicketSales", B, false),
            ("HasDynamicallyPricedTicketsAvailable", B, false),
            ("PlayThroughId", S, true),
            ("SessionBusinessDate", DT, false),
            ("SessionDisplayPriority", I, false),
            ("GroupSessionsByAttribute", B, false),
        ]),
        navigations: vec![nav("Attributes", "Attribute")],
    };
    let attribute = EntityType {
        name: "Attribute",
        key: "ID",
        properties: props(&[
            ("ID", S, false),
            ("Description", S, true),
            ("ShortName", S, true),
            ("AltDescription", S, true),
            ("AltShortName", S, true),
            ("Message", S, true),
            ("MessageAlt", S, true),
            ("SalesChannels", S, true),
            ("IsUsedForConcepts", B, false),
            ("IsUsedForSessionAdvertising", B, false),
            ("DisplayPriority", I, false),
            ("DescriptionTranslations", TC, false),
            ("MessageTranslations", TC, false),
            ("SessionAttributeCinemaIDs", SC, false),
        ]),
        navigations: vec![],
    };
    Model {
        namespace: "WSVistaWebClient.ServiceContracts.OData",
        container: "DataServiceContext",
        types: vec![cinema, film, session, attribute],
        sets: vec![
            EntitySet {
                name: "Cinemas",
                entity_type: "Cinema",
            },
            EntitySet {
                name: "ScheduledFilms",
                entity_type: "ScheduledFilm",
            },
            EntitySet {
                name: "Sessions",
                entity_type: "Session",
            },
            EntitySet {
                name: "Attributes",
                entity_type: "Attribute",
            },
        ],
        functions: vec![FunctionImport {
            name: "GetNowShowingScheduledFilms",
            entity_set: "ScheduledFilms",
            params: vec![
                ("cinemaId", PropKind::String),
                ("includeAdvanceSales", PropKind::Boolean),
            ],
        }],
    }
}

/// Builds an entity of `ty` from name/value pairs; unspecified properties are `Null`
/// (collections empty, booleans false, ints 0 for non-nullable ones).
pub fn ent(model: &Model, ty: &str, pairs: &[(&str, Value)]) -> Entity {
    let t = model.entity_type(ty).expect("type");
    for (n, _) in pairs {
        assert!(t.property_index(n).is_some(), "test bug: {ty}.{n}");
    }
    let values = t
        .properties
        .iter()
        .map(|p| {
            if let Some((_, v)) = pairs.iter().find(|(n, _)| *n == p.name) {
                return v.clone();
            }
            match (p.kind, p.nullable) {
                (_, true) => Value::Null,
                (PropKind::StringCollection, _) => Value::Strings(vec![]),
                (PropKind::TranslationCollection, _) => Value::Translations(vec![]),
                (PropKind::Boolean, _) => Value::Bool(false),
                (PropKind::Int32 | PropKind::Byte, _) => Value::Int(0),
                (PropKind::DateTime, _) => Value::DateTime(dt(2000, 1, 1, 0, 0)),
                _ => Value::String(String::new()),
            }
        })
        .collect();
    Entity::new(values)
}

pub fn dt(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .and_then(|x| x.and_hms_opt(h, min, 0))
        .expect("valid date")
}

pub fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

/// Sessions used by several tests.
pub fn sessions(m: &Model) -> Vec<Entity> {
    let mk = |cinema: &str,
              id: &str,
              film: &str,
              when: NaiveDateTime,
              seats: i64,
              screen: Option<i64>| {
        ent(
            m,
            "Session",
            &[
                ("ID", s(&format!("{cinema}-{id}"))),
                ("CinemaId", s(cinema)),
                ("ScheduledFilmId", s(film)),
                ("SessionId", s(id)),
                ("Showtime", Value::DateTime(when)),
                ("SeatsAvailable", Value::Int(seats)),
                ("ScreenNumber", screen.map_or(Value::Null, Value::Int)),
                (
                    "ScreenName",
                    screen.map_or(Value::Null, |n| s(&format!("Screen {n}"))),
                ),
            ],
        )
    };
    vec![
        mk("0200", "1", "HO001", dt(2015, 8, 7, 23, 30), 10, Some(1)),
        mk("0200", "2", "HO001", dt(2015, 8, 8, 10, 30), 20, Some(2)),
        mk("0200", "3", "HO002", dt(2015, 8, 8, 18, 0), 30, None),
        mk("0200", "4", "HO002", dt(2015, 8, 9, 0, 0), 40, Some(1)),
        mk("0300", "5", "HO001", dt(2015, 8, 8, 12, 0), 50, Some(3)),
        mk(
            "1001",
            "14164",
            "HO00000720",
            dt(2019, 2, 26, 20, 0),
            66,
            Some(2),
        ),
    ]
}

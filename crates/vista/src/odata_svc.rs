//! The OData service (`/WSVistaWebClient/OData.svc`): `Cinemas`, `Sessions`, `ScheduledFilms`,
//! `Attributes`, the service operation `GetNowShowingScheduledFilms`, the service document and
//! `$metadata`. Query options are handled by `boxoffice-odata`.

use crate::Vista;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use boxoffice_core::catalog::{Session, Venue};
use boxoffice_core::clock::business_date;
use boxoffice_odata::PropKind::{
    Boolean as B, DateTime as DT, Decimal as D, Int32 as I, String as S, StringCollection as SC,
    TranslationCollection as TC,
};
use boxoffice_odata::{
    Entity, EntitySet, EntityType, FunctionImport, Model, Navigation, ODataError, PropKind,
    Property, Query, Value,
};
use std::sync::{Arc, OnceLock};

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

/// The Vista Connect OData model (EDMX of a real Connect install, namespace
/// `WSVistaWebClient.ServiceContracts.OData`), properties in declaration order.
pub(crate) fn model() -> Model {
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

fn vista_model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(model)
}

const JSON_LIGHT: &str = "application/json;odata=minimalmetadata;streaming=true;charset=utf-8";

fn odata_response(status: StatusCode, content_type: &'static str, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::HeaderName::from_static("dataserviceversion"),
                "3.0;",
            ),
        ],
        body,
    )
        .into_response()
}

fn odata_error(e: ODataError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    odata_response(status, JSON_LIGHT, e.to_json())
}

fn unauthorized() -> Response {
    odata_response(
        StatusCode::UNAUTHORIZED,
        JSON_LIGHT,
        boxoffice_odata::error_json(
            "Access is denied: a valid connectapitoken header is required.",
        ),
    )
}

/// The service root URL as the client addressed it.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}/WSVistaWebClient/OData.svc")
}

/// `GET /WSVistaWebClient/OData.svc`: the service document.
pub async fn service_document(State(vista): State<Arc<Vista>>, headers: HeaderMap) -> Response {
    if vista.caller(&headers).is_none() {
        return unauthorized();
    }
    odata_response(
        StatusCode::OK,
        JSON_LIGHT,
        boxoffice_odata::service_document(vista_model(), &base_url(&headers)),
    )
}

/// `GET /WSVistaWebClient/OData.svc/{resource}`: `$metadata`, an entity set, or a service operation.
pub async fn resource(
    State(vista): State<Arc<Vista>>,
    headers: HeaderMap,
    Path(resource): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(caller) = vista.caller(&headers) else {
        return unauthorized();
    };
    if resource == "$metadata" {
        return odata_response(
            StatusCode::OK,
            "application/xml;charset=utf-8",
            boxoffice_odata::metadata_xml(vista_model()),
        );
    }
    let query = match Query::parse(query.as_deref().unwrap_or("")) {
        Ok(q) => q,
        Err(e) => return odata_error(e),
    };
    let segment = match boxoffice_odata::parse_segment(&resource) {
        Ok(s) => s,
        Err(e) => return odata_error(e),
    };
    let catalog = vista.svc.catalog();
    let venues: Vec<&Arc<Venue>> = catalog
        .venues_for(&caller.partner, boxoffice_core::catalog::Protocol::Vista)
        .collect();
    let (ty, fragment, entities) = match segment.name.as_str() {
        "Cinemas" => (
            "Cinema",
            "Cinemas",
            venues.iter().map(|v| cinema(v)).collect::<Vec<_>>(),
        ),
        "Sessions" => {
            let mut out = Vec::new();
            for v in &venues {
                for s in catalog.sessions_of(v.id) {
                    out.push(session(&vista, v, s).await);
                }
            }
            ("Session", "Sessions", out)
        }
        "Attributes" => (
            "Attribute",
            "Attributes",
            attributes(
                &catalog
                    .sessions
                    .iter()
                    .flat_map(|s| s.attributes.iter().cloned())
                    .collect::<Vec<_>>(),
            ),
        ),
        "ScheduledFilms" => (
            "ScheduledFilm",
            "ScheduledFilms",
            films(&vista, &venues, &catalog, None, &query, false).await,
        ),
        "GetNowShowingScheduledFilms" => {
            let cinema = query.param("cinemaId");
            (
                "ScheduledFilm",
                "ScheduledFilms",
                films(&vista, &venues, &catalog, cinema.as_deref(), &query, true).await,
            )
        }
        other => return odata_error(boxoffice_odata::resource_not_found(other)),
    };
    let entities = match segment.key {
        Some(key) => entities
            .into_iter()
            .filter(|e| matches!(e.value(0), Value::String(s) if *s == key))
            .collect(),
        None => entities,
    };
    let model = vista_model();
    let result = boxoffice_odata::apply(model, ty, entities, &query).and_then(|list| {
        boxoffice_odata::render_collection(model, ty, &base_url(&headers), fragment, &list, &query)
    });
    match result {
        Ok(body) => odata_response(StatusCode::OK, JSON_LIGHT, body),
        Err(e) => odata_error(e),
    }
}

fn text(s: &str) -> Value {
    Value::String(s.to_string())
}

fn cinema(v: &Venue) -> Entity {
    let m = vista_model();
    let ty = m
        .entity_type("Cinema")
        .map(|t| t.properties.len())
        .unwrap_or(0);
    let values = vec![
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
        Value::Translations(vec![]),
        Value::Translations(vec![]),
        Value::Translations(vec![]),
        Value::Translations(vec![]),
        Value::Bool(false),
        Value::Null,
        text(&v.code),
    ];
    debug_assert_eq!(values.len(), ty);
    Entity::new(values)
}

fn attributes(names: &[String]) -> Vec<Entity> {
    let mut seen: Vec<&str> = Vec::new();
    for n in names {
        if !seen.contains(&n.as_str()) {
            seen.push(n);
        }
    }
    seen.iter().map(|n| attribute(n)).collect()
}

fn attribute(name: &str) -> Entity {
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
        Value::Translations(vec![]),
        Value::Translations(vec![]),
        Value::Strings(vec![]),
    ])
}

async fn session(vista: &Vista, v: &Venue, s: &Session) -> Entity {
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
        Value::Int(available as i64),
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
    e.nav.push((
        "Attributes",
        s.attributes.iter().map(|a| attribute(a)).collect(),
    ));
    e
}

/// Films with sessions; `now_showing` keeps films with a session still on sale. With a cinema
/// id, only that cinema's films and sessions.
async fn films(
    vista: &Vista,
    venues: &[&Arc<Venue>],
    catalog: &boxoffice_core::catalog::Catalog,
    cinema: Option<&str>,
    query: &Query,
    now_showing: bool,
) -> Vec<Entity> {
    let expand = query.expands("Sessions");
    let mut out = Vec::new();
    for v in venues.iter().filter(|v| cinema.is_none_or(|c| c == v.code)) {
        for f in &v.films {
            let sessions: Vec<&Arc<Session>> = catalog
                .sessions_of(v.id)
                .filter(|s| s.film == f.code)
                .filter(|s| !now_showing || (!s.sold_out && vista.svc.on_sale(v, s)))
                .collect();
            if now_showing && sessions.is_empty() {
                continue;
            }
            let mut e = Entity::new(vec![
                text(&format!("{}-{}", v.code, f.code)),
                text(&f.code),
                text(&v.code),
                Value::Bool(!sessions.is_empty()),
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
                Value::Bool(!sessions.is_empty()),
                text(""),
                text(&v.name),
                text(""),
                Value::Bool(true),
                Value::Bool(false),
                Value::Null,
                Value::Null,
                Value::Bool(false),
                Value::Bool(false),
            ]);
            if expand {
                let mut list = Vec::with_capacity(sessions.len());
                for s in sessions {
                    list.push(session(vista, v, s).await);
                }
                e.nav.push(("Sessions", list));
            }
            out.push(e);
        }
    }
    out
}

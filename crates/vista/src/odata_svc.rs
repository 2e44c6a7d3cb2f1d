//! The OData service (`/WSVistaWebClient/OData.svc`): the entity sets `Cinemas`,
//! `ScheduledFilms`, `Sessions`, `Settings`, `Films`, `SiteGroups`, `CinemaEvents`,
//! `Attributes` and `ScreenAttributes`, the service operations `GetScheduledFilms`,
//! `GetNowShowingScheduledFilms`, `GetComingSoonScheduledFilms` and `GetNowShowingSessions`,
//! the service document and `$metadata`. Query options are handled by `boxoffice-odata`; the
//! model is in `odata_model.rs`; decisions are in `docs/protocols/vista.md` ("OData").

use crate::odata_entities::{
    attributes, cinema, film, scheduled_film, screen_attributes, session, settings, site_group_id,
    site_groups,
};
use crate::odata_model::model;
use crate::{Caller, Vista};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use boxoffice_core::catalog::{Catalog, Session, Venue};
use boxoffice_core::clock::{business_date, local};
use boxoffice_odata::{Entity, Model, ODataError, Query, Value};
use std::sync::{Arc, OnceLock};

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

/// The resources under `OData.svc/`, by wire name (case-sensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resource {
    Cinemas,
    ScheduledFilms,
    Sessions,
    Settings,
    Films,
    SiteGroups,
    CinemaEvents,
    Attributes,
    ScreenAttributes,
    GetScheduledFilms,
    GetNowShowingScheduledFilms,
    GetComingSoonScheduledFilms,
    GetNowShowingSessions,
}

/// Wire name, entity type and the set named in `odata.metadata` of each resource.
const RESOURCES: &[(&str, Resource, &str, &str)] = &[
    ("Cinemas", Resource::Cinemas, "Cinema", "Cinemas"),
    (
        "ScheduledFilms",
        Resource::ScheduledFilms,
        "ScheduledFilm",
        "ScheduledFilms",
    ),
    ("Sessions", Resource::Sessions, "Session", "Sessions"),
    ("Settings", Resource::Settings, "Setting", "Settings"),
    ("Films", Resource::Films, "Film", "Films"),
    (
        "SiteGroups",
        Resource::SiteGroups,
        "SiteGroup",
        "SiteGroups",
    ),
    (
        "CinemaEvents",
        Resource::CinemaEvents,
        "CinemaEvent",
        "CinemaEvents",
    ),
    (
        "Attributes",
        Resource::Attributes,
        "Attribute",
        "Attributes",
    ),
    (
        "ScreenAttributes",
        Resource::ScreenAttributes,
        "ScreenAttribute",
        "ScreenAttributes",
    ),
    (
        "GetScheduledFilms",
        Resource::GetScheduledFilms,
        "ScheduledFilm",
        "ScheduledFilms",
    ),
    (
        "GetNowShowingScheduledFilms",
        Resource::GetNowShowingScheduledFilms,
        "ScheduledFilm",
        "ScheduledFilms",
    ),
    (
        "GetComingSoonScheduledFilms",
        Resource::GetComingSoonScheduledFilms,
        "ScheduledFilm",
        "ScheduledFilms",
    ),
    (
        "GetNowShowingSessions",
        Resource::GetNowShowingSessions,
        "Session",
        "Sessions",
    ),
];

/// A resource by its (case-sensitive) wire name, with its entity type and metadata fragment.
fn resolve(name: &str) -> Option<(Resource, &'static str, &'static str)> {
    RESOURCES
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|&(_, r, ty, fragment)| (r, ty, fragment))
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
    let Some((which, ty, fragment)) = resolve(&segment.name) else {
        return odata_error(boxoffice_odata::resource_not_found(&segment.name));
    };
    let catalog = vista.svc.catalog();
    let scope = Scope::new(&vista, &caller, &catalog, &query);
    let entities = scope.entities(which).await;
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

/// Which films a film list keeps, and which of their sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FilmList {
    /// `ScheduledFilms`: every film of the cinema, with all its sessions.
    All,
    /// `GetScheduledFilms`: films with a session that has not started yet.
    Scheduled,
    /// `GetNowShowingScheduledFilms`: films with a session still on sale.
    NowShowing,
    /// `GetComingSoonScheduledFilms`: films opening after today, with their sessions not yet started.
    ComingSoon,
}

/// What one request may see: the caller's cinemas, the catalogue and the query.
struct Scope<'a> {
    vista: &'a Vista,
    caller: &'a Caller,
    catalog: &'a Catalog,
    query: &'a Query,
    /// Cinemas (and theatres) the caller may sell, in catalogue order; scenic areas are not
    /// Vista cinemas.
    venues: Vec<&'a Arc<Venue>>,
}

impl<'a> Scope<'a> {
    fn new(vista: &'a Vista, caller: &'a Caller, catalog: &'a Catalog, query: &'a Query) -> Self {
        let venues = catalog
            .venues_for(&caller.partner, boxoffice_core::catalog::Protocol::Vista)
            .collect();
        Scope {
            vista,
            caller,
            catalog,
            query,
            venues,
        }
    }

    async fn entities(&self, which: Resource) -> Vec<Entity> {
        match which {
            Resource::Cinemas => self.venues.iter().map(|v| cinema(v)).collect(),
            Resource::Sessions => self.sessions(&self.venues, false).await,
            Resource::GetNowShowingSessions => self.sessions(&self.narrowed(), true).await,
            Resource::Attributes => attributes(&self.venues, self.catalog),
            Resource::ScreenAttributes => self
                .venues
                .iter()
                .flat_map(|v| screen_attributes(v))
                .collect(),
            Resource::Films => self.films_master(),
            Resource::SiteGroups => site_groups(&self.venues),
            Resource::CinemaEvents => Vec::new(),
            Resource::Settings => settings(self.caller),
            Resource::ScheduledFilms => self.films(&self.venues, FilmList::All).await,
            Resource::GetScheduledFilms => self.films(&self.narrowed(), FilmList::Scheduled).await,
            Resource::GetNowShowingScheduledFilms => {
                self.films(&self.narrowed(), FilmList::NowShowing).await
            }
            Resource::GetComingSoonScheduledFilms => {
                self.films(&self.narrowed(), FilmList::ComingSoon).await
            }
        }
    }

    /// The caller's cinemas narrowed by the service-operation parameters `cinemaId`,
    /// `cinemaIds` (comma list) and `siteGroupId` (names case-insensitive, values quoted or
    /// not; empty values are ignored). `cinemaEventId` names an event, and the catalogue has
    /// none, so any non-empty value leaves no cinema.
    fn narrowed(&self) -> Vec<&'a Arc<Venue>> {
        let q = self.query;
        let present = |name: &str| q.param(name).filter(|v| !v.trim().is_empty());
        let mut ids: Option<Vec<String>> = present("cinemaId").map(|c| vec![c]);
        if let Some(list) = present("cinemaIds") {
            let more = list
                .split(',')
                .map(|c| boxoffice_odata::unquote(c.trim()))
                .filter(|c| !c.is_empty());
            ids.get_or_insert_with(Vec::new).extend(more);
        }
        let group = present("siteGroupId");
        let event = present("cinemaEventId");
        self.venues
            .iter()
            .filter(|v| ids.as_ref().is_none_or(|ids| ids.contains(&v.code)))
            .filter(|v| group.as_ref().is_none_or(|g| *g == site_group_id(v)))
            .filter(|_| event.is_none())
            .copied()
            .collect()
    }

    /// Whether a session is on sale now (not flagged sold out, not past the cut-off).
    fn now_showing(&self, v: &Venue, s: &Session) -> bool {
        !s.sold_out && self.vista.svc.on_sale(v, s)
    }

    /// Whether a session has not started yet.
    fn upcoming(&self, s: &Session) -> bool {
        self.vista.svc.session_start_ms(s) > self.vista.svc.now_ms()
    }

    /// Today's business date, venue-local.
    fn today(&self) -> chrono::NaiveDate {
        let svc = &self.vista.svc;
        business_date(local(svc.clock().now(), svc.settings().offset))
    }

    /// Sessions of `venues`; `now_showing` keeps those on sale (`GetNowShowingSessions`).
    async fn sessions(&self, venues: &[&Arc<Venue>], now_showing: bool) -> Vec<Entity> {
        let mut out = Vec::new();
        for v in venues {
            for s in self.catalog.sessions_of(v.id) {
                if !now_showing || self.now_showing(v, s) {
                    out.push(session(self.vista, v, s).await);
                }
            }
        }
        out
    }

    /// The sessions a film list shows for one film at one cinema, narrowed by
    /// `attributeShortName` for the service operations.
    fn film_sessions(&self, v: &Venue, film: &str, list: FilmList) -> Vec<&'a Arc<Session>> {
        let attribute = match list {
            FilmList::All => None,
            _ => self
                .query
                .param("attributeShortName")
                .filter(|a| !a.is_empty()),
        };
        self.catalog
            .sessions_of(v.id)
            .filter(|s| s.film == film)
            .filter(|s| match list {
                FilmList::All => true,
                FilmList::Scheduled | FilmList::ComingSoon => self.upcoming(s),
                FilmList::NowShowing => self.now_showing(v, s),
            })
            .filter(|s| attribute.as_ref().is_none_or(|a| s.attributes.contains(a)))
            .collect()
    }

    /// Whether a film belongs to a film list, given the sessions the list shows for it.
    fn keeps_film(
        &self,
        list: FilmList,
        f: &boxoffice_core::catalog::Film,
        sessions: usize,
    ) -> bool {
        let attribute = self
            .query
            .param("attributeShortName")
            .is_some_and(|a| !a.is_empty());
        match list {
            FilmList::All => true,
            FilmList::Scheduled | FilmList::NowShowing => sessions > 0,
            FilmList::ComingSoon => {
                f.opening_date.is_some_and(|d| d.date() > self.today())
                    && (!attribute || sessions > 0)
            }
        }
    }

    /// `ScheduledFilm` entities (one per film and cinema) of a film list; with
    /// `$expand=Sessions` each carries the sessions the list shows.
    async fn films(&self, venues: &[&Arc<Venue>], list: FilmList) -> Vec<Entity> {
        let expand = self.query.expands("Sessions");
        let mut out = Vec::new();
        for v in venues {
            for f in &v.films {
                let sessions = self.film_sessions(v, &f.code, list);
                if !self.keeps_film(list, f, sessions.len()) {
                    continue;
                }
                let mut e = scheduled_film(v, f, !sessions.is_empty());
                if expand {
                    let mut nav = Vec::with_capacity(sessions.len());
                    for s in sessions {
                        nav.push(session(self.vista, v, s).await);
                    }
                    e.nav.push(("Sessions", nav));
                }
                out.push(e);
            }
        }
        out
    }

    /// `Film` entities: the head-office film list, one per film code over the caller's
    /// cinemas (the first cinema's definition wins).
    fn films_master(&self) -> Vec<Entity> {
        let today = self.today();
        let mut seen: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for v in &self.venues {
            for f in &v.films {
                if seen.contains(&f.code.as_str()) {
                    continue;
                }
                seen.push(&f.code);
                let scheduled = self.venues.iter().any(|w| {
                    self.catalog
                        .sessions_of(w.id)
                        .any(|s| s.film == f.code && self.upcoming(s))
                });
                out.push(film(f, today, scheduled));
            }
        }
        out
    }
}

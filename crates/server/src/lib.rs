//! The boxoffice server: opens the store, builds the service, mounts every protocol front end
//! on one address, and runs the background workers (the hold-expiry sweeper).

pub mod catalog_file;
pub mod config;
pub mod faults;
pub mod messages;
pub mod observe;
pub mod testing;

use axum::extract::Request;
use axum::routing::get;
use axum::Router;
use boxoffice_core::clock::{local, parse_offset, Clock};
use boxoffice_core::service::Settings;
use boxoffice_core::store::Store;
use boxoffice_core::Boxoffice;
use boxoffice_store::{SqlStore, StoreOptions};
use boxoffice_vista::{Vista, VistaOptions};
use boxoffice_ybx::{Ybx, YbxOptions};
use boxoffice_yueke::{Yueke, YuekeOptions};
use catalog_file::CatalogFile;
use config::Config;
use secrecy::ExposeSecret;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tower::Layer;

/// The built-in demo catalogue (`boxoffice demo`).
pub const DEMO_CATALOG: &str = include_str!("../demo/catalog.toml");

/// A running service over its store.
#[derive(Clone)]
pub struct App {
    /// The service.
    pub service: Arc<Boxoffice>,
    /// The store.
    pub store: SqlStore,
    /// The configuration it was opened with.
    pub config: Config,
    /// The 游宝星 front end (shared by its routes and its callback worker).
    pub ybx: Arc<Ybx>,
    /// Completed rounds of the message worker (tests wait on it instead of sleeping).
    pub message_rounds: Arc<std::sync::atomic::AtomicU64>,
}

impl App {
    /// Opens the database (migrating it) and loads the catalogue.
    pub async fn open(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
        App::open_wrapped(config, clock, |store| store).await
    }

    /// [`App::open`] with the store the service uses passed through `wrap` first (tests inject
    /// faults this way; `store` stays the unwrapped one, for closing).
    pub async fn open_wrapped(
        config: &Config,
        clock: Arc<dyn Clock>,
        wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store>,
    ) -> anyhow::Result<App> {
        let offset = parse_offset(&config.timezone)
            .ok_or_else(|| anyhow::anyhow!("bad timezone {}", config.timezone))?;
        // Features and their secrets are checked before anything is opened.
        let payments = config.ybx_payments()?;
        if config.sandbox {
            tracing::warn!("sandbox features are on (payment simulator, built-in test keys)");
        }
        let store = SqlStore::connect(
            &config.database,
            &StoreOptions {
                max_connections: config.max_connections,
                sqlite_synchronous: config.sqlite_synchronous.as_str().to_string(),
            },
        )
        .await?;
        let settings = Settings {
            offset,
            hold_lifetime: chrono::Duration::minutes(config.hold_minutes),
            payment_hold_lifetime: chrono::Duration::hours(config.payment_hold_hours),
            snapshot_ttl: chrono::Duration::milliseconds(config.snapshot_ttl_ms),
            ..Settings::default()
        };
        let service =
            Arc::new(Boxoffice::new(wrap(Arc::new(store.clone())), clock, settings).await?);
        let ybx = Ybx::new(
            service.clone(),
            YbxOptions {
                inventory_v3: config
                    .ybx
                    .inventory_quantity_convention
                    .eq_ignore_ascii_case("v3"),
                agent_cache_ms: config.snapshot_ttl_ms,
                payments,
                public_url: config.payment_link_base(),
                ..YbxOptions::default()
            },
        );
        Ok(App {
            service,
            store,
            config: config.clone(),
            ybx,
            message_rounds: Arc::default(),
        })
    }

    /// Parses a catalogue file and applies it; returns how many documents changed.
    pub async fn apply_catalog(&self, text: &str) -> anyhow::Result<usize> {
        let today = local(self.service.clock().now(), self.service.settings().offset).date();
        let file = CatalogFile::parse(text, today)?;
        Ok(self
            .service
            .apply_catalog(&file.venues, &file.sessions, &file.partners)
            .await?)
    }

    /// Every front end, `/healthz`, `/readyz` and `/metrics` on one router, with request ids
    /// and request logging (see [`observe`]).
    pub fn router(&self) -> Router {
        observe::prometheus();
        let vista = Vista::new(
            self.service.clone(),
            VistaOptions {
                anonymous_partner: self.config.vista.anonymous_partner.clone(),
                ..VistaOptions::default()
            },
        );
        let yueke = Yueke::new(
            self.service.clone(),
            YuekeOptions {
                timestamp_window_ms: self
                    .config
                    .yueke
                    .timestamp_window_seconds
                    .saturating_mul(1000),
                lock_lifetime: chrono::Duration::minutes(self.config.yueke.lock_minutes),
                max_seats_per_lock: self.config.yueke.max_seats_per_lock,
                ..YuekeOptions::default()
            },
        );
        let mut router = Router::new()
            .route("/healthz", get(|| async { "ok" }))
            .merge(
                Router::new()
                    .route("/readyz", get(observe::readyz))
                    .route("/metrics", get(observe::metrics_page))
                    .with_state(self.clone()),
            )
            .merge(boxoffice_vista::router(vista))
            .merge(boxoffice_yueke::router(yueke))
            .merge(boxoffice_ybx::router(self.ybx.clone()));
        if let Some(token) = self
            .config
            .operator
            .token
            .clone()
            .filter(|t| !t.expose_secret().is_empty())
        {
            router = router.merge(boxoffice_operator::router(
                self.service.clone(),
                self.ybx.clone(),
                token.expose_secret().to_string(),
            ));
        }
        // Request ids (the client's `x-request-id`, or a new UUID; echoed in the answer), a
        // trace span per request naming its method, path (never the query string) and id, and
        // the request log. The last layer added runs first.
        use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
        let span = |req: &Request| {
            let id = req
                .headers()
                .get(observe::REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            tracing::debug_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        };
        router
            .layer(axum::middleware::from_fn(observe::record))
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(span))
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
    }
}

/// Rewrites protocol paths to their canonical casing before routing.
fn canonicalize(mut req: Request) -> Request {
    if let Some(path) = boxoffice_vista::canonical_path(req.uri().path()) {
        if path != req.uri().path() {
            let pq = match req.uri().query() {
                Some(q) => format!("{path}?{q}"),
                None => path,
            };
            if let Ok(pq) = pq.parse::<axum::http::uri::PathAndQuery>() {
                let mut parts = req.uri().clone().into_parts();
                parts.path_and_query = Some(pq);
                if let Ok(uri) = axum::http::Uri::from_parts(parts) {
                    *req.uri_mut() = uri;
                }
            }
        }
    }
    req
}

/// Serves the app on a listener until `shutdown` resolves, running the expiry sweeper meanwhile.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let sweeper = {
        let service = app.service.clone();
        let every = Duration::from_secs(app.config.sweep_interval_seconds.max(1));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if let Err(e) = service.sweep_expired().await {
                    tracing::warn!(error = %e, "expiry sweep failed");
                }
                if let Err(e) = service.sweep_visits().await {
                    tracing::warn!(error = %e, "visit-order expiry sweep failed");
                }
            }
        })
    };
    let callbacks = {
        let ybx = app.ybx.clone();
        let every = Duration::from_millis(app.config.ybx.outbox_poll_ms.max(10));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            let mut in_flight = tokio::task::JoinSet::new();
            loop {
                tick.tick().await;
                // A full batch means more may be due: look again at once (a few times).
                for _ in 0..8 {
                    let n = boxoffice_ybx::callbacks::deliver_due(&ybx, &mut in_flight).await;
                    if n < boxoffice_ybx::callbacks::BATCH as usize {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
            }
        })
    };
    let message_sink = match app
        .config
        .messages
        .webhook
        .as_deref()
        .filter(|w| !w.is_empty())
    {
        Some(url) => match messages::WebhookSink::new(url) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::error!(error = %e, "message webhook unusable; messages stay in the database");
                None
            }
        },
        None => None,
    };
    let message_worker = message_sink.map(|sink| {
        let service = app.service.clone();
        let rounds = app.message_rounds.clone();
        let every = Duration::from_millis(app.config.messages.poll_ms.max(10));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                while messages::deliver_messages(&service, &sink).await == messages::BATCH as usize
                {
                }
                rounds.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        })
    });
    let router = app.router();
    let service = tower::util::MapRequestLayer::new(canonicalize).layer(router);
    let result = axum::serve(
        listener,
        axum::ServiceExt::<Request>::into_make_service(service),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    sweeper.abort();
    callbacks.abort();
    if let Some(w) = message_worker {
        w.abort();
    }
    result
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

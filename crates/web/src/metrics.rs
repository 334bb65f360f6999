//! Prometheus metrics (SPEC §7). One recorder per process, installed only
//! when `--metrics-addr` is given (without it every metric is a no-op), and
//! rendered on a listener of its own, never on the public port.
//!
//! Labels are bounded: routes by their template (`/api/v1/keys/{id}`), never
//! the raw path; a request that matched no route is `route="unmatched"`.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::MatchedPath;
use axum::http::{header, HeaderValue, Request, Response};
use axum::routing::get;
use axum::Router;
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

/// Request latency buckets, in seconds: 50 µs to 10 s.
const BUCKETS: [f64; 16] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 10.0,
];

pub const HTTP_REQUESTS: &str = "commerce_http_requests_total";
pub const HTTP_DURATION: &str = "commerce_http_request_duration_seconds";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's recorder, once; later calls return the same
/// handle. Metric handles taken before this are no-ops, so call it before
/// the apps are built.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&BUCKETS)
                .expect("the bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Only fails when another recorder was installed first; ours is
            // the only one, and `get_or_init` runs this once.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Whether `install` has run: the apps add their request metrics only then.
pub fn installed() -> bool {
    HANDLE.get().is_some()
}

/// Sets gauges that are read rather than counted (cache size, outbox
/// backlog, pool use) just before each scrape.
pub type Collector = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Serves `GET /metrics` on `listener` until `shutdown`, and drains the
/// histograms every few seconds so their memory stays bounded between scrapes.
pub async fn serve(
    listener: TcpListener,
    collectors: Vec<Collector>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let handle = install();
    let upkeep = {
        let handle = handle.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                handle.run_upkeep();
            }
        })
    };
    let collectors = Arc::new(collectors);
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            let collectors = collectors.clone();
            async move {
                for c in collectors.iter() {
                    c().await;
                }
                (
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                    )],
                    handle.render(),
                )
            }
        }),
    );
    // Host checked as the apps check it (no DNS rebinding onto the metrics).
    let hosts = crate::hosts::AllowedHosts::new(listener.local_addr()?, None);
    let app = app.layer(axum::middleware::from_fn_with_state(
        hosts,
        crate::hosts::check,
    ));
    let served = crate::server::serve(listener, app, shutdown).await;
    upkeep.abort();
    served
}

/// Sets `commerce_db_pool_connections{app,state}`: connections in use and idle.
pub fn record_pool(app: &'static str, db: &crate::db::Db) {
    let size = db.pool.size() as usize;
    let idle = db.pool.num_idle();
    metrics::gauge!("commerce_db_pool_connections", "app" => app, "state" => "in_use")
        .set(size.saturating_sub(idle) as f64);
    metrics::gauge!("commerce_db_pool_connections", "app" => app, "state" => "idle")
        .set(idle as f64);
}

/// Counts and times every request of `app` by route template and status.
#[derive(Clone)]
pub struct HttpMetricsLayer {
    routes: Arc<Routes>,
}

impl HttpMetricsLayer {
    pub fn new(app: &'static str) -> Self {
        HttpMetricsLayer {
            routes: Arc::new(Routes {
                app,
                by_template: RwLock::new(HashMap::new()),
            }),
        }
    }
}

impl HttpMetricsLayer {
    /// The metrics of the route `template`, for routes answered outside the
    /// router (`web::edge::Direct`; the router's routes are timed by the
    /// layer). Looked up once, when the app is built, not per request.
    pub fn route(&self, template: &str) -> RouteMetrics {
        RouteMetrics(self.routes.get(template))
    }
}

/// One route's request count and latency ([`HttpMetricsLayer::route`]).
#[derive(Clone)]
pub struct RouteMetrics(Arc<Route>);

impl RouteMetrics {
    /// Starts timing a request of this route.
    pub fn timer(&self) -> RouteTimer {
        RouteTimer {
            route: self.0.clone(),
            start: Instant::now(),
        }
    }
}

/// One request being timed: [`RouteTimer::done`] records its status and duration.
pub struct RouteTimer {
    route: Arc<Route>,
    start: Instant,
}

impl RouteTimer {
    pub fn done(&self, status: u16) {
        self.route.record(status, self.start.elapsed());
    }
}

impl<S> tower::Layer<S> for HttpMetricsLayer {
    type Service = HttpMetrics<S>;
    fn layer(&self, inner: S) -> HttpMetrics<S> {
        HttpMetrics {
            inner,
            routes: self.routes.clone(),
        }
    }
}

/// The handles of one app's routes, made on a route's first request: the
/// hot path looks them up under a read lock instead of building metric keys.
struct Routes {
    app: &'static str,
    by_template: RwLock<HashMap<Box<str>, Arc<Route>>>,
}

struct Route {
    app: &'static str,
    template: Arc<str>,
    duration: Histogram,
    by_status: RwLock<Vec<(u16, Counter)>>,
}

impl Routes {
    fn get(&self, template: &str) -> Arc<Route> {
        if let Some(r) = self
            .by_template
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(template)
        {
            return r.clone();
        }
        let mut map = self.by_template.write().unwrap_or_else(|e| e.into_inner());
        map.entry(template.into())
            .or_insert_with(|| {
                let template: Arc<str> = Arc::from(template);
                Arc::new(Route {
                    app: self.app,
                    duration: metrics::histogram!(
                        HTTP_DURATION,
                        "app" => self.app,
                        "route" => template.to_string(),
                    ),
                    template,
                    by_status: RwLock::new(Vec::new()),
                })
            })
            .clone()
    }
}

impl Route {
    fn record(&self, status: u16, took: Duration) {
        self.duration.record(took.as_secs_f64());
        let known = self
            .by_status
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(s, _)| *s == status)
            .map(|(_, c)| c.clone());
        let counter = known.unwrap_or_else(|| {
            let mut all = self.by_status.write().unwrap_or_else(|e| e.into_inner());
            if let Some((_, c)) = all.iter().find(|(s, _)| *s == status) {
                return c.clone();
            }
            let c = metrics::counter!(
                HTTP_REQUESTS,
                "app" => self.app,
                "route" => self.template.to_string(),
                "status" => status.to_string(),
            );
            all.push((status, c.clone()));
            c
        });
        counter.increment(1);
    }
}

#[derive(Clone)]
pub struct HttpMetrics<S> {
    inner: S,
    routes: Arc<Routes>,
}

impl<S, B, ResBody> tower::Service<Request<B>> for HttpMetrics<S>
where
    S: tower::Service<Request<B>, Response = Response<ResBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Timed<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let template = req
            .extensions()
            .get::<MatchedPath>()
            .map_or("unmatched", MatchedPath::as_str);
        let timer = RouteTimer {
            route: self.routes.get(template),
            start: Instant::now(),
        };
        Timed {
            inner: self.inner.call(req),
            timer,
        }
    }
}

pin_project_lite::pin_project! {
    /// A request's answer, timed from the call to the response head.
    pub struct Timed<F> {
        #[pin]
        inner: F,
        timer: RouteTimer,
    }
}

impl<F, ResBody, E> Future for Timed<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let out = std::task::ready!(this.inner.poll(cx));
        if let Ok(res) = &out {
            this.timer.done(res.status().as_u16());
        }
        Poll::Ready(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt;

    #[tokio::test]
    async fn requests_are_counted_by_route_template_and_status() {
        let handle = install();
        let app = Router::new()
            .route("/items/{id}", get(|| async { "ok" }))
            .layer(HttpMetricsLayer::new("unit"));
        for path in ["/items/1", "/items/2", "/nowhere"] {
            let res = app
                .clone()
                .oneshot(Request::get(path).body(Body::empty()).unwrap())
                .await
                .unwrap();
            let _ = res;
        }
        let text = handle.render();
        assert!(
            text.contains(
                r#"commerce_http_requests_total{app="unit",route="/items/{id}",status="200"} 2"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"commerce_http_requests_total{app="unit",route="unmatched",status="404"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"commerce_http_request_duration_seconds_count{app="unit",route="/items/{id}"} 2"#
            ),
            "{text}"
        );
        assert!(!text.contains("/items/1"), "raw paths are never labels");
    }
}

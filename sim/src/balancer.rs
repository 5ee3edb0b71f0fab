//! A load balancer in front of hub instances, as a rolling upgrade has one: every client
//! (devices, customers, the organizer) talks to its one address, and each request goes to a
//! live instance in turn. An instance is *drained* before it is stopped — no new request goes
//! to it, those in flight finish — which is how a real balancer (nginx, HAProxy, a cloud load
//! balancer's deregistration) takes an instance out of rotation.
//!
//! Written here (a few dozen lines over axum and reqwest) rather than driving nginx or HAProxy:
//! neither is among the packages this machine's tests install, and the chaos run needs to
//! count every request that failed on its way through, which a balancer of its own can.
//!
//! Like those balancers it retries a request on another instance only when the connection
//! to the first could not be made (nothing was sent, so nothing can have happened twice);
//! any other failure reaches the client as 502 and is counted.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The balancer, serving on 127.0.0.1 until dropped.
pub struct Balancer {
    /// Its base URL: what clients are given.
    pub url: String,
    pool: Arc<Pool>,
    server: tokio::task::JoinHandle<()>,
}

/// What went through it.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Traffic {
    /// Requests answered by an instance (whatever the status).
    pub forwarded: u64,
    /// Requests sent to another instance because the first could not be connected to.
    pub retried_elsewhere: u64,
    /// Requests answered 502 by the balancer (no instance, or one failed mid-request), and
    /// responses cut off mid-body: what clients saw fail.
    pub failed: u64,
}

struct Pool {
    instances: Mutex<Vec<Instance>>,
    next: AtomicUsize,
    client: reqwest::Client,
    forwarded: AtomicU64,
    retried: AtomicU64,
    failed: AtomicU64,
}

struct Instance {
    url: String,
    /// Taking new requests (false once draining).
    live: bool,
    /// Requests on their way to it or being answered (a streamed answer counts until it ends).
    in_flight: Arc<AtomicUsize>,
}

/// Headers that belong to one connection, not to the request or response (RFC 9110 §7.6.1),
/// and the ones the client library sets itself. Those a `Connection` header names are dropped
/// too ([`hop_by_hop`]).
const NOT_FORWARDED: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

/// Whether `name` is not to be forwarded in a message whose headers are `headers`.
fn hop_by_hop(name: &HeaderName, headers: &axum::http::HeaderMap) -> bool {
    NOT_FORWARDED.contains(&name.as_str())
        || headers.get_all(header::CONNECTION).iter().any(|listed| {
            listed
                .to_str()
                .is_ok_and(|l| l.split(',').any(|token| token.trim().eq_ignore_ascii_case(name.as_str())))
        })
}

impl Balancer {
    /// Starts it in front of `urls`.
    pub async fn start(urls: &[String]) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(30))
            .build()?;
        let pool = Arc::new(Pool {
            instances: Mutex::new(Vec::new()),
            next: AtomicUsize::new(0),
            client,
            forwarded: AtomicU64::new(0),
            retried: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        });
        let balancer = {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let url = format!("http://{}", listener.local_addr()?);
            let app = axum::Router::new().fallback(forward).with_state(Arc::clone(&pool));
            let server = tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            });
            Self { url, pool, server }
        };
        for url in urls {
            balancer.add(url);
        }
        Ok(balancer)
    }

    /// Puts an instance into rotation.
    pub fn add(&self, url: &str) {
        self.pool.instances().push(Instance {
            url: url.to_owned(),
            live: true,
            in_flight: Arc::new(AtomicUsize::new(0)),
        });
    }

    /// Takes `url` out of rotation and waits up to `within` for its requests in flight to
    /// finish; returns how many still were (long-polls and streams the instance itself must
    /// end when it stops).
    pub async fn drain(&self, url: &str, within: Duration) -> usize {
        let in_flight = {
            let mut instances = self.pool.instances();
            let Some(instance) = instances.iter_mut().find(|i| i.url == url) else { return 0 };
            instance.live = false;
            Arc::clone(&instance.in_flight)
        };
        let started = Instant::now();
        while in_flight.load(Ordering::SeqCst) > 0 && started.elapsed() < within {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        in_flight.load(Ordering::SeqCst)
    }

    /// Forgets a drained instance.
    pub fn remove(&self, url: &str) {
        self.pool.instances().retain(|i| i.url != url);
    }

    /// What went through it so far.
    pub fn traffic(&self) -> Traffic {
        Traffic {
            forwarded: self.pool.forwarded.load(Ordering::Relaxed),
            retried_elsewhere: self.pool.retried.load(Ordering::Relaxed),
            failed: self.pool.failed.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Counts a request in flight at one instance until dropped.
struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Pool {
    fn instances(&self) -> std::sync::MutexGuard<'_, Vec<Instance>> {
        self.instances.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next live instance in turn, counted in flight; `skip` are ones that just failed.
    fn pick(&self, skip: &[String]) -> Option<(String, InFlight)> {
        let instances = self.instances();
        let live: Vec<&Instance> = instances.iter().filter(|i| i.live && !skip.contains(&i.url)).collect();
        if live.is_empty() {
            return None;
        }
        let chosen = live[self.next.fetch_add(1, Ordering::Relaxed) % live.len()];
        chosen.in_flight.fetch_add(1, Ordering::SeqCst);
        Some((chosen.url.clone(), InFlight(Arc::clone(&chosen.in_flight))))
    }

    fn fail(&self, why: &str) -> Response {
        self.failed.fetch_add(1, Ordering::Relaxed);
        (StatusCode::BAD_GATEWAY, format!("load balancer: {why}")).into_response()
    }
}

async fn forward(State(pool): State<Arc<Pool>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    // Requests are small (sync batches, JSON): held whole, so one can go to another instance.
    let Ok(body) = axum::body::to_bytes(body, 64 << 20).await else {
        return (StatusCode::BAD_REQUEST, "load balancer: unreadable request body").into_response();
    };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut tried = Vec::new();
    loop {
        let Some((url, in_flight)) = pool.pick(&tried) else {
            return pool.fail("no instance could be reached");
        };
        let mut outgoing = pool.client.request(parts.method.clone(), format!("{url}{path}"));
        for (name, value) in &parts.headers {
            if !hop_by_hop(name, &parts.headers) {
                outgoing = outgoing.header(name, value);
            }
        }
        match outgoing.body(body.clone()).send().await {
            Ok(answer) => {
                pool.forwarded.fetch_add(1, Ordering::Relaxed);
                return relay(answer, in_flight, Arc::clone(&pool));
            }
            Err(e) if e.is_connect() => {
                pool.retried.fetch_add(1, Ordering::Relaxed);
                tried.push(url);
            }
            Err(e) => return pool.fail(&format!("{url} failed mid-request: {e}")),
        }
    }
}

/// The instance's answer, its body streamed as it comes (server-sent events, long-polls);
/// the request counts in flight until the body ends.
fn relay(answer: reqwest::Response, in_flight: InFlight, pool: Arc<Pool>) -> Response {
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        // The body is streamed as it comes: its length, when the instance gave one, stands.
        if name == header::CONTENT_LENGTH || !hop_by_hop(name, answer.headers()) {
            response = response.header(name, value);
        }
    }
    let chunks = futures_util::stream::unfold(Some((answer, in_flight)), move |state| {
        let pool = Arc::clone(&pool);
        async move {
            let (mut answer, in_flight) = state?;
            match answer.chunk().await {
                Ok(Some(bytes)) => Some((Ok(bytes), Some((answer, in_flight)))),
                Ok(None) => None,
                // Cut off: the client must see the body fail, not end as if whole.
                Err(e) => {
                    pool.failed.fetch_add(1, Ordering::Relaxed);
                    Some((Err(e), None))
                }
            }
        }
    });
    response
        .body(Body::from_stream(chunks))
        .unwrap_or_else(|e| (StatusCode::BAD_GATEWAY, format!("load balancer: {e}")).into_response())
}

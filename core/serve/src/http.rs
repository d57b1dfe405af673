//! The REST endpoints, go-judge's paths and bodies: /run, /file, /version, /config.

use crate::cancel::Cancel;
use crate::exec::Executor;
use crate::model::{CmdResult, Request};
use crate::plan::{plan, BadRequest};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

pub struct AppState {
    pub exec: Arc<Executor>,
    /// One permit per container the service runs at once.
    pub permits: Arc<Semaphore>,
    pub parallelism: usize,
    pub waiting: AtomicUsize,
    pub queue_max: usize,
    pub queue_timeout: Duration,
    pub auth_token: Option<String>,
    pub metrics: crate::metrics::Metrics,
}

/// An error answer: go-judge sends a JSON string.
pub struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(self.1)).into_response()
    }
}

pub fn router(state: Arc<AppState>, body_max: usize) -> Router {
    Router::new()
        .route("/run", post(run))
        .route("/file", get(file_list).post(file_upload))
        .route("/file/{id}", get(file_get).delete(file_delete))
        .route("/version", get(version))
        .route("/config", get(config))
        .route("/metrics", get(metrics))
        .route("/ws", get(crate::ws::upgrade))
        .layer(DefaultBodyLimit::max(body_max))
        .layer(middleware::from_fn_with_state(state.clone(), authorize))
        .with_state(state)
}

/// `--auth-token`: every endpoint wants `Authorization: Bearer TOKEN`.
async fn authorize(
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    if let Some(token) = &state.auth_token {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|g| same(g.as_bytes(), token.as_bytes())) {
            return ApiError(
                StatusCode::UNAUTHORIZED,
                "missing or wrong bearer token".into(),
            )
            .into_response();
        }
    }
    next.run(request).await
}

/// Compares without stopping at the first difference, so timing tells nothing.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Parses a JSON body with serde's own message for what is wrong (400).
pub fn parse_request(body: &[u8]) -> Result<Request, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("bad request body: {e}")))
}

/// The router of `--metrics-addr`: /metrics alone, without the bearer token
/// (scrapers reach it on an address of their own).
pub fn metrics_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let waiting = state.waiting.load(Ordering::SeqCst);
    state
        .metrics
        .waiting
        .set(i64::try_from(waiting).unwrap_or(i64::MAX));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(state.exec.store.usage()),
    )
}

async fn run(
    State(state): State<Arc<AppState>>,
    body: Bytes,
) -> Result<Json<Vec<CmdResult>>, ApiError> {
    let request = parse_request(&body)?;
    execute(&state, request).await.map(Json)
}

/// Marks a run cancelled when the request's future is dropped before it finished
/// (the client went away): its programs are killed at once.
struct CancelOnDrop {
    cancel: Arc<Cancel>,
    done: bool,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if !self.done {
            self.cancel.cancel();
        }
    }
}

/// Queues, runs and answers one request (shared by /run and /ws).
pub async fn execute(state: &Arc<AppState>, request: Request) -> Result<Vec<CmdResult>, ApiError> {
    let plan = plan(request, &state.exec.store, state.parallelism)
        .and_then(|plan| {
            crate::cpus::check(&plan, &state.exec.pool.config().container.cgroup)?;
            Ok(plan)
        })
        .map_err(|BadRequest(m)| ApiError(StatusCode::BAD_REQUEST, m))?;
    tracing::debug!(request_id = %plan.request_id, cmds = plan.cmds.len(), "run");
    let needed = u32::try_from(plan.cmds.len()).unwrap_or(u32::MAX);
    // Free containers are taken at once; otherwise the request joins the queue,
    // bounded in length and in time (503 beyond either).
    let arrived = std::time::Instant::now();
    let permits = match state.permits.clone().try_acquire_many_owned(needed) {
        Ok(permits) => permits,
        Err(_) => wait_in_queue(state, needed).await?,
    };
    let cancel = Arc::new(Cancel::default());
    let mut guard = CancelOnDrop {
        cancel: cancel.clone(),
        done: false,
    };
    let exec = state.exec.clone();
    state.metrics.running.inc();
    let outcome = tokio::task::spawn_blocking(move || {
        let results = exec.run(plan, &cancel);
        drop(permits);
        results
    })
    .await;
    state.metrics.running.dec();
    guard.done = true;
    state
        .metrics
        .request_seconds
        .observe(arrived.elapsed().as_secs_f64());
    if let Ok(Ok(results)) = &outcome {
        for r in results {
            state.metrics.count_run(r.status);
        }
    }
    match outcome {
        Ok(Ok(results)) => Ok(results),
        Ok(Err(e)) => Err(ApiError(StatusCode::INTERNAL_SERVER_ERROR, e)),
        Err(e) => Err(ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("run failed: {e}"),
        )),
    }
}

async fn wait_in_queue(
    state: &AppState,
    needed: u32,
) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
    // Counted out again however this ends, a client that goes away included.
    struct Waiting<'a>(&'a AtomicUsize);
    impl Drop for Waiting<'_> {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }
    let before = state.waiting.fetch_add(1, Ordering::SeqCst);
    let waiting = Waiting(&state.waiting);
    if before >= state.queue_max {
        state.metrics.count_rejected("queue_full");
        return Err(unavailable(format!(
            "the wait queue is full ({} requests wait for a container)",
            state.queue_max
        )));
    }
    let acquired = tokio::time::timeout(
        state.queue_timeout,
        state.permits.clone().acquire_many_owned(needed),
    )
    .await;
    drop(waiting);
    match acquired {
        Ok(Ok(permits)) => Ok(permits),
        Ok(Err(_)) => Err(unavailable("the service is stopping".into())),
        Err(_) => {
            state.metrics.count_rejected("queue_timeout");
            Err(unavailable(format!(
                "no container became free within {:?}",
                state.queue_timeout
            )))
        }
    }
}

fn unavailable(message: String) -> ApiError {
    ApiError(StatusCode::SERVICE_UNAVAILABLE, message)
}

async fn file_list(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    Json(state.exec.store.list())
}

/// `multipart/form-data` with a part named `file`; answers the new id.
async fn file_upload(
    State(state): State<Arc<AppState>>,
    mut form: Multipart,
) -> Result<Json<String>, ApiError> {
    let bad = |m: String| ApiError(StatusCode::BAD_REQUEST, m);
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError(e.status(), e.body_text()))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or_default().to_owned();
        let data = field
            .bytes()
            .await
            .map_err(|e| ApiError(e.status(), e.body_text()))?;
        return state
            .exec
            .store
            .add(&name, data.to_vec())
            .map(Json)
            .map_err(|full| ApiError(StatusCode::INSUFFICIENT_STORAGE, full.to_string()));
    }
    Err(bad("the form has no part named \"file\"".into()))
}

async fn file_get(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let file = state
        .exec
        .store
        .get(&id)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, crate::plan::unknown_file_id(&id)))?;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        "application/octet-stream".parse().expect("static"),
    );
    let disposition = format!(
        "attachment; filename={:?}",
        file.name.replace(['"', '\\', '\r', '\n'], "_")
    );
    if let Ok(value) = disposition.parse() {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok((headers, file.data.as_ref().clone()).into_response())
}

async fn file_delete(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<String>, ApiError> {
    if state.exec.store.remove(&id) {
        Ok(Json(id))
    } else {
        Err(ApiError(
            StatusCode::NOT_FOUND,
            crate::plan::unknown_file_id(&id),
        ))
    }
}

/// What this service offers, in go-judge's keys (false where it differs).
fn features() -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    for (key, on) in [
        ("copyOutOptional", true),
        ("pipeProxy", true),
        ("symlink", true),
        ("addressSpaceLimit", true),
        ("stream", false),
        ("procPeak", true),
        ("copyOutTruncate", true),
    ] {
        m.insert(key.into(), on.into());
    }
    m
}

async fn version() -> impl IntoResponse {
    let mut m = features();
    m.insert(
        "buildVersion".into(),
        concat!("scpool-serve ", env!("CARGO_PKG_VERSION")).into(),
    );
    m.insert("platform".into(), std::env::consts::ARCH.into());
    m.insert("os".into(), std::env::consts::OS.into());
    Json(m)
}

async fn config(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let mut m = features();
    let (used, files) = state.exec.store.usage();
    m.insert("parallelism".into(), state.parallelism.into());
    m.insert("fileStoreBytes".into(), used.into());
    m.insert("fileStoreFiles".into(), files.into());
    m.insert("copyOutMax".into(), state.exec.copy_out_max.into());
    Json(m)
}

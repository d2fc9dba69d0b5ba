//! The page's routes: `/` the page itself (`page.html`, built into the binary), `/state`
//! the run's state as JSON (long-polled), `/frame.png` the newest figure.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use tokio::sync::watch;

use crate::live::LiveState;
use crate::plots::encode_png;

const PAGE: &str = include_str!("page.html");

/// A `/state` request waits this long at most for something new, so a page whose run
/// stalls still hears from the server.
const LONG_POLL: Duration = Duration::from_secs(10);

#[derive(Clone)]
struct Served {
    state: watch::Receiver<LiveState>,
    /// The newest frame's number and its PNG, encoded once however often it is asked for.
    png: Arc<Mutex<Option<(usize, Bytes)>>>,
}

pub fn router(state: watch::Receiver<LiveState>) -> Router {
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/state", get(state_json))
        .route("/frame.png", get(frame_png))
        .with_state(Served { state, png: Arc::default() })
}

#[derive(Deserialize)]
struct After {
    /// The version the page has; the answer waits until there is a newer one.
    after: Option<u64>,
}

async fn state_json(State(mut served): State<Served>, Query(after): Query<After>) -> Response {
    if let Some(seen) = after.after {
        let newer = served.state.wait_for(|s| s.version > seen || s.finished.is_some());
        // A timeout or a run that has gone (the sender dropped) answers with what there is.
        let _ = tokio::time::timeout(LONG_POLL, newer).await;
    }
    let state = served.state.borrow().clone();
    (no_store(), Json(state.to_json())).into_response()
}

async fn frame_png(State(served): State<Served>) -> Response {
    let Some(shown) = served.state.borrow().frame.clone() else {
        return (StatusCode::NOT_FOUND, no_store(), "the viewer has drawn no figure yet").into_response();
    };
    let cached = served.png.lock().expect("the PNG cache is never poisoned: encoding does not panic").clone();
    let png = match cached {
        Some((number, png)) if number == shown.number => png,
        _ => {
            let mut bytes = Vec::new();
            if let Err(error) = encode_png(&mut bytes, &shown.frame) {
                return (StatusCode::INTERNAL_SERVER_ERROR, no_store(), format!("encoding frame {} as PNG: {error}", shown.number)).into_response();
            }
            let png = Bytes::from(bytes);
            *served.png.lock().expect("the PNG cache is never poisoned: encoding does not panic") = Some((shown.number, png.clone()));
            png
        }
    };
    let mut headers = no_store();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    headers.insert("x-pyproc-frame", HeaderValue::from(shown.number));
    headers.insert("x-pyproc-sample", HeaderValue::from(shown.frame.sample_number));
    (headers, png).into_response()
}

/// Every answer is the run's state at that moment: never cached.
fn no_store() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers
}

//! What both fake providers share: the request record, fault injection, the server task and
//! webhook delivery. `fake_revolut` uses it through `crate::fake_paypal::support`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::task::JoinHandle;

/// A request a fake received, in arrival order.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// The headers, names lowercase.
    pub headers: Vec<(String, String)>,
    /// The body as received.
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// A fault a fake injects into the next matching requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer 500 without doing anything.
    ServerError,
    /// Wait this long, then handle the request normally (the work is done even when the
    /// client has given up: a timeout with an unknown outcome).
    Delay(Duration),
    /// Do the work, then answer 500 (the outcome is unknown to the client).
    ServerErrorAfterWork,
}

#[derive(Debug)]
struct FaultRule {
    method: String,
    path_prefix: String,
    fault: Fault,
    remaining: u32,
}

/// The record and the fault queue, shared by the middleware and the fake's handle.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    requests: Mutex<Vec<RecordedRequest>>,
    faults: Mutex<VecDeque<FaultRule>>,
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .expect("fake server mutex is never poisoned: handlers do not panic holding it")
}

impl Recorder {
    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.requests).clone()
    }

    pub(crate) fn inject(&self, method: &str, path_prefix: &str, fault: Fault, times: u32) {
        lock(&self.faults).push_back(FaultRule {
            method: method.to_ascii_uppercase(),
            path_prefix: path_prefix.to_owned(),
            fault,
            remaining: times,
        });
    }

    fn take_fault(&self, method: &str, path: &str) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let index = faults
            .iter()
            .position(|rule| rule.method == method && path.starts_with(&rule.path_prefix))?;
        let rule = &mut faults[index];
        let fault = rule.fault.clone();
        rule.remaining = rule.remaining.saturating_sub(1);
        if rule.remaining == 0 {
            faults.remove(index);
        }
        Some(fault)
    }
}

/// The middleware: records every request, then applies a matching fault.
pub(crate) async fn record_and_inject(
    recorder: Arc<Recorder>,
    server_error_body: &'static str,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let method = parts.method.as_str().to_owned();
    let path = parts.uri.path().to_owned();
    lock(&recorder.requests).push(RecordedRequest {
        method: method.clone(),
        path: path.clone(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    value.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        body: bytes.to_vec(),
    });
    let request = Request::from_parts(parts, Body::from(bytes));
    let server_error = || {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            [("content-type", "application/json")],
            server_error_body,
        )
            .into_response()
    };
    match recorder.take_fault(&method, &path) {
        None => next.run(request).await,
        Some(Fault::ServerError) => server_error(),
        Some(Fault::Delay(delay)) => {
            // Spawned: the server drops this future when the client gives up, and the work
            // must still happen then, as it would at a real provider.
            let work = tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                next.run(request).await
            });
            work.await.unwrap_or_else(|_| server_error())
        }
        Some(Fault::ServerErrorAfterWork) => {
            let _ = next.run(request).await;
            server_error()
        }
    }
}

/// A router served on `127.0.0.1:0` until dropped.
#[derive(Debug)]
pub(crate) struct Served {
    pub(crate) url: String,
    task: JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(crate) async fn serve(router: Router) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding 127.0.0.1:0 works in tests");
    let address = listener
        .local_addr()
        .expect("a bound listener has an address");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Served {
        url: format!("http://{address}"),
        task,
    }
}

/// How a fake delivers its webhooks.
#[derive(Debug, Clone, Default)]
pub struct WebhookDelivery {
    /// Wait this long before each delivery (in a background task).
    pub delay: Option<Duration>,
    /// Deliver each event twice.
    pub duplicate: bool,
}

/// Posts a webhook: at once (returning the status of the first delivery), or in the
/// background when delayed (returning `None`).
pub(crate) async fn post_webhook(
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    delivery: WebhookDelivery,
) -> Option<u16> {
    let times = if delivery.duplicate { 2 } else { 1 };
    let send = async move {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("a plain reqwest client builds");
        let mut first = None;
        for _ in 0..times {
            let mut request = client.post(&url).body(body.clone());
            for (name, value) in &headers {
                request = request.header(name, value);
            }
            let status = request
                .send()
                .await
                .map(|response| response.status().as_u16())
                .unwrap_or(0);
            first.get_or_insert(status);
        }
        first
    };
    match delivery.delay {
        Some(delay) => {
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                send.await;
            });
            None
        }
        None => send.await,
    }
}

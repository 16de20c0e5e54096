//! Routing one request to its answer.

use super::reply::{self, EchoBody};
use super::upload;
use super::EchoState;
use http::header::{HeaderValue, CONNECTION};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::{json, Map, Value};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Longest `/delay/<ms>` accepted, so a typo cannot pin a connection for days.
const MAX_DELAY_MS: u64 = 600_000;

/// Reports counters; not counted as in flight, so tests can watch other requests.
pub const STATS_PATH: &str = "/_echo/stats";

/// Both ends of the connection a request came on.
#[derive(Debug, Clone, Copy)]
pub struct ConnInfo {
    pub peer: SocketAddr,
    pub local: SocketAddr,
}

/// Answers one request; every answer names the server in `X-Served-By`.
pub async fn handle(
    req: Request<Incoming>,
    state: Arc<EchoState>,
    conn: ConnInfo,
) -> Result<Response<EchoBody>, Infallible> {
    state.count_request();
    let mut resp = if req.uri().path() == STATS_PATH {
        stats(&state)
    } else {
        let _busy = state.enter();
        route(req, &state, conn).await
    };
    resp.headers_mut()
        .insert("x-served-by", state.served_by().clone());
    Ok(resp)
}

async fn route(req: Request<Incoming>, state: &EchoState, conn: ConnInfo) -> Response<EchoBody> {
    if state.is_draining() {
        // Seed 001: after SIGTERM, new requests get 503 so the proxy retries elsewhere.
        let mut resp = reply::text(StatusCode::SERVICE_UNAVAILABLE, "draining\n");
        resp.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
        return resp;
    }
    let path = req.uri().path().to_owned();
    match (req.method(), path.as_str()) {
        (&Method::GET | &Method::HEAD, "/healthz") => reply::text(StatusCode::OK, "ok"),
        (&Method::GET | &Method::HEAD, "/health") => health(state),
        (&Method::POST, "/health/enable") => {
            state.set_healthy(true);
            reply::text(StatusCode::OK, "enabled\n")
        }
        (&Method::POST, "/health/disable") => {
            state.set_healthy(false);
            reply::text(StatusCode::OK, "disabled\n")
        }
        (_, "/upload") => upload_reply(req).await,
        (_, p) => {
            if let Some(ms) = p.strip_prefix("/delay/") {
                match ms.parse::<u64>() {
                    Ok(ms) if ms <= MAX_DELAY_MS => {
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                        echo(req, StatusCode::OK, state, conn).await
                    }
                    _ => bad_request("delay must be 0..=600000 ms\n"),
                }
            } else if let Some(code) = p.strip_prefix("/status/") {
                match code.parse::<u16>().ok().filter(|c| (200..=599).contains(c)) {
                    Some(code) => match StatusCode::from_u16(code) {
                        Ok(status) => echo(req, status, state, conn).await,
                        Err(_) => bad_request("status must be 200..=599\n"),
                    },
                    None => bad_request("status must be 200..=599\n"),
                }
            } else if let Some(n) = p.strip_prefix("/bytes/") {
                match n.parse::<u64>() {
                    Ok(n) => reply::pattern(n),
                    Err(_) => bad_request("byte count must be a number\n"),
                }
            } else {
                echo(req, StatusCode::OK, state, conn).await
            }
        }
    }
}

fn stats(state: &EchoState) -> Response<EchoBody> {
    reply::json(
        StatusCode::OK,
        &json!({
            "name": state.name(),
            "version": state.version(),
            "requests": state.requests(),
            "in_flight": state.in_flight(),
            "healthy": state.is_healthy(),
            "draining": state.is_draining(),
        }),
    )
}

fn bad_request(msg: &'static str) -> Response<EchoBody> {
    reply::text(StatusCode::BAD_REQUEST, msg)
}

fn health(state: &EchoState) -> Response<EchoBody> {
    if state.is_healthy() {
        reply::text(StatusCode::OK, "OK\n")
    } else {
        reply::text(state.disabled_status(), "SERVICE UNAVAILABLE\n")
    }
}

async fn upload_reply(req: Request<Incoming>) -> Response<EchoBody> {
    match upload::digest(req.into_body()).await {
        Ok(d) => reply::json(
            StatusCode::OK,
            &json!({ "length": d.length, "crc32": format!("{:08x}", d.crc32) }),
        ),
        Err(_) => bad_request("request body could not be read\n"),
    }
}

/// The JSON echo: who answered, and what it received.
async fn echo(
    req: Request<Incoming>,
    status: StatusCode,
    state: &EchoState,
    conn: ConnInfo,
) -> Response<EchoBody> {
    let (parts, body) = req.into_parts();
    let digest = match upload::digest(body).await {
        Ok(d) => d,
        Err(_) => return bad_request("request body could not be read\n"),
    };
    let mut headers = Map::new();
    let mut header_list = Vec::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        header_list.push(json!([name.as_str(), value]));
        // Repeated headers are joined with ", " as Node (and so ealen/echo-server) does.
        match headers.get_mut(name.as_str()) {
            Some(Value::String(prev)) => {
                prev.push_str(", ");
                prev.push_str(&value);
            }
            _ => {
                headers.insert(name.as_str().to_owned(), Value::String(value));
            }
        }
    }
    let body = json!({
        "name": state.name(),
        "version": state.version(),
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query().unwrap_or(""),
        "url": parts.uri.to_string(),
        "protocol": format!("{:?}", parts.version),
        "headers": headers,
        "header_list": header_list,
        "body_length": digest.length,
        "body_crc32": format!("{:08x}", digest.crc32),
        "remote_addr": conn.peer.to_string(),
        "local_addr": conn.local.to_string(),
    });
    reply::json(status, &body)
}

//! One worker: sends requests one after another over its own keep-alive connection,
//! as each of hey's `-c` goroutines does, and reports every result to the collector.

use super::conn::{dial, Conn};
use super::outcome::{Failure, Phase};
use super::sample::{Answer, Phases, Sample};
use super::{Attribution, LoadPlan, Stop};
use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

/// How much of a body `--backend-body-regex` looks at.
const BODY_CAPTURE_LIMIT: usize = 64 * 1024;

pub struct Worker {
    plan: Arc<LoadPlan>,
    epoch: Instant,
    conn: Option<Conn>,
    results: Sender<Sample>,
    stop: watch::Receiver<bool>,
}

/// What an exchange has done so far; survives a timeout that drops the exchange.
#[derive(Default)]
struct Progress {
    phase: Option<Phase>,
    phases: Phases,
    replayed: bool,
}

impl Worker {
    pub fn new(
        plan: Arc<LoadPlan>,
        epoch: Instant,
        results: Sender<Sample>,
        stop: watch::Receiver<bool>,
    ) -> Self {
        Worker {
            plan,
            epoch,
            conn: None,
            results,
            stop,
        }
    }

    pub async fn run(mut self) {
        let mut remaining = match self.plan.stop {
            Stop::PerWorker(n) => Some(n),
            Stop::Duration(_) | Stop::Manual => None,
        };
        // Like Go's time.Tick: the first request waits one period.
        let mut throttle = self.plan.qps.map(|qps| {
            let period = Duration::from_secs_f64(1.0 / qps);
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
            tick
        });
        loop {
            if *self.stop.borrow() {
                break;
            }
            if let Some(left) = remaining.as_mut() {
                if *left == 0 {
                    break;
                }
                *left -= 1;
            }
            if let Some(tick) = throttle.as_mut() {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = self.stop.changed() => break,
                }
            }
            let sample = self.request().await;
            if self.results.send(sample).is_err() {
                break;
            }
        }
    }

    async fn request(&mut self) -> Sample {
        let started_at = Instant::now();
        let mut progress = Progress::default();
        let result = match self.plan.timeout {
            Some(limit) => {
                match tokio::time::timeout(limit, self.exchange(&mut progress)).await {
                    Ok(result) => result,
                    Err(_) => {
                        // The exchange (and the connection it held) is dropped: closed.
                        Err(Failure::timeout(progress.phase.unwrap_or(Phase::Dial)))
                    }
                }
            }
            None => self.exchange(&mut progress).await,
        };
        if result.is_err() {
            self.conn = None;
        }
        Sample {
            started: started_at.saturating_duration_since(self.epoch),
            finished: self.epoch.elapsed(),
            phases: progress.phases,
            result,
            replayed: progress.replayed,
        }
    }

    async fn exchange(&mut self, progress: &mut Progress) -> Result<Answer, Failure> {
        loop {
            let mut conn = match self.conn.take().filter(Conn::is_usable) {
                Some(conn) => conn,
                None => {
                    progress.phase = Some(Phase::Dial);
                    let (conn, times) = dial(&self.plan.target, self.epoch).await?;
                    progress.phases.conn = times.total;
                    progress.phases.dns = times.dns;
                    conn
                }
            };
            progress.phase = Some(Phase::Exchange);
            let reused = conn.used;
            conn.used = true;
            conn.marks.reset();
            let got_conn = Instant::now();
            if let Err(e) = conn.sender.ready().await {
                if reused {
                    // An idle connection the server closed: nothing was sent, dial anew.
                    continue;
                }
                return Err(Failure::from_hyper(&e, &conn.peer, Phase::Exchange));
            }
            let response = match conn.sender.try_send_request(self.build_request()).await {
                Ok(response) => response,
                Err(mut e) => {
                    let nothing_written = e.take_message().is_some();
                    let no_answer = conn.marks.first_read().is_none();
                    if reused
                        && self.plan.retry_reused
                        && (nothing_written || (no_answer && self.plan.replayable()))
                    {
                        progress.replayed = true;
                        continue;
                    }
                    return Err(Failure::from_hyper(e.error(), &conn.peer, Phase::Exchange));
                }
            };
            let head_at = Instant::now();
            let written = conn.marks.last_write().unwrap_or(got_conn);
            let first_byte = conn.marks.first_read().unwrap_or(head_at);
            progress.phases.write = written.saturating_duration_since(got_conn);
            progress.phases.wait = first_byte.saturating_duration_since(written);
            progress.phase = Some(Phase::Body);

            let status = response.status().as_u16();
            let mut backend = match &self.plan.attribution {
                Attribution::Header(name) => response
                    .headers()
                    .get(name)
                    .map(|v| Bytes::copy_from_slice(v.as_bytes())),
                Attribution::None | Attribution::BodyRegex(_) => None,
            };
            let capture = matches!(self.plan.attribution, Attribution::BodyRegex(_));
            let mut captured = BytesMut::new();
            let mut bytes = 0u64;
            let mut body = response.into_body();
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| Failure::from_hyper(&e, &conn.peer, Phase::Body))?;
                if let Some(data) = frame.data_ref() {
                    bytes += data.len() as u64;
                    if capture && captured.len() < BODY_CAPTURE_LIMIT {
                        let room = BODY_CAPTURE_LIMIT - captured.len();
                        captured.extend_from_slice(&data[..data.len().min(room)]);
                    }
                }
            }
            progress.phases.read = first_byte.elapsed();
            if let Attribution::BodyRegex(re) = &self.plan.attribution {
                backend = re.captures(&captured).and_then(|caps| {
                    caps.get(1)
                        .or_else(|| caps.get(0))
                        .map(|m| Bytes::copy_from_slice(m.as_bytes()))
                });
            }
            if self.plan.keepalive {
                self.conn = Some(conn);
            }
            return Ok(Answer {
                status,
                bytes,
                backend,
            });
        }
    }

    fn build_request(&self) -> http::Request<Full<Bytes>> {
        let mut request = http::Request::new(Full::new(self.plan.body.clone()));
        *request.method_mut() = self.plan.method.clone();
        // An origin-form target is always a valid URI (checked when the plan was made).
        if let Ok(uri) = self.plan.target.path_and_query.parse() {
            *request.uri_mut() = uri;
        }
        *request.headers_mut() = self.plan.headers.clone();
        request
    }
}

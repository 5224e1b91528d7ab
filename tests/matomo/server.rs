//! Connections: the accept loop, one thread per connection, routing to the tracking API, the Reporting API and
//! the control endpoint.

use std::collections::HashMap;
use std::io::{self, BufReader, Read};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::http::{self, Request, Response};
use super::store::State;
use super::{reporting, tracking, Fault, RawRequest};

/// What the server and its connection threads share.
pub(crate) struct Shared {
    state: Mutex<State>,
    /// Set when the server is dropped: the accept loop ends.
    pub(crate) stopping: AtomicBool,
    /// Open connections, to shut them down when the server is dropped.
    connections: Mutex<HashMap<u64, TcpStream>>,
}

impl Shared {
    /// A server with nothing in it.
    pub(crate) fn new() -> Shared {
        Shared { state: Mutex::new(State::new()), stopping: AtomicBool::new(false), connections: Mutex::default() }
    }

    /// The state, locked.
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("contract server state poisoned by a panic")
    }

    /// The open connections, locked.
    pub(crate) fn connections(&self) -> MutexGuard<'_, HashMap<u64, TcpStream>> {
        self.connections.lock().expect("contract server connections poisoned by a panic")
    }
}

/// What to do with a request.
pub(crate) enum Reply {
    /// Answer it.
    Send(Response),
    /// Close the connection without answering.
    Cut,
}

/// Accepts connections until the server is stopped, each served by its own thread.
pub(crate) fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for (id, stream) in (0u64..).zip(listener.incoming()) {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let Ok(handle) = stream.try_clone() else { continue };
        shared.connections().insert(id, handle);
        let connection = Arc::clone(&shared);
        let spawned = thread::Builder::new().name(format!("matomo-contract-{id}")).spawn(move || {
            serve(&connection, stream);
            connection.connections().remove(&id);
        });
        if spawned.is_err() {
            // The closure, and the stream in it, are gone: the connection is closed.
            shared.connections().remove(&id);
        }
    }
}

/// Serves the requests of one connection until it closes.
fn serve(shared: &Shared, stream: TcpStream) {
    let mut reader = BufReader::new(stream);
    loop {
        let mut raw = Vec::new();
        let request = http::read_request(&mut reader, &mut raw);
        if !raw.is_empty() {
            shared.state().requests.push(RawRequest { bytes: raw });
        }
        let request = match request {
            Ok(request) => request,
            Err(error) => {
                if let Some(response) = error.response() {
                    if http::write_response(reader.get_mut(), &response, false).is_ok() {
                        linger(reader.get_mut());
                    }
                }
                return;
            }
        };
        match route(shared, &request) {
            Reply::Cut => {
                // Best effort: the connection is dropped just after anyway.
                let _ = reader.get_ref().shutdown(Shutdown::Both);
                return;
            }
            Reply::Send(response) => {
                if http::write_response(reader.get_mut(), &response, request.keep_alive).is_err() || !request.keep_alive
                {
                    return;
                }
            }
        }
    }
}

/// Closes our side and drains what the client still sends for a moment, so that the answer is not lost to a
/// reset when the request was not read to its end.
fn linger(stream: &mut TcpStream) {
    if stream.shutdown(Shutdown::Write).is_ok() && stream.set_read_timeout(Some(Duration::from_secs(1))).is_ok() {
        // Errors and timeouts only end the draining.
        let _ = io::copy(&mut stream.take(1 << 20), &mut io::sink());
    }
}

/// Dispatches a request by path.
fn route(shared: &Shared, req: &Request) -> Reply {
    if req.path == "/__contract/totals" {
        return Reply::Send(match req.method.as_str() {
            "GET" => Response::json(200, &totals(&shared.state())),
            _ => Response::text(405, "GET only"),
        });
    }
    if req.method != "GET" && req.method != "POST" {
        return Reply::Send(Response::text(405, "GET or POST only"));
    }
    let latency = {
        let mut state = shared.state();
        if req.path == "/matomo.php" {
            state.tracking_requests += 1;
        }
        match state.fault {
            Fault::Latency(latency) => Some(latency),
            _ => None,
        }
    };
    if let Some(latency) = latency {
        thread::sleep(latency);
    }
    match req.path.as_str() {
        "/matomo.php" => tracking::handle(&mut shared.state(), req),
        "/index.php" => Reply::Send(reporting::handle(&mut shared.state(), req)),
        _ => Reply::Send(Response::text(404, "Not Found (the contract server knows /matomo.php and /index.php)")),
    }
}

/// The control endpoint's answer: `{"sites": {"1": {"visits": n, "events": {"cat/action": n}}}}`, from every
/// stored hit (no archive lag).
fn totals(state: &State) -> Value {
    let sites: Map<String, Value> = state
        .sites
        .iter()
        .map(|site| {
            let events: Map<String, Value> = state
                .event_counts(site.id)
                .into_iter()
                .map(|((category, action), count)| (format!("{category}/{action}"), json!(count)))
                .collect();
            (site.id.to_string(), json!({"visits": state.visit_count(site.id), "events": events}))
        })
        .collect();
    json!({ "sites": sites })
}

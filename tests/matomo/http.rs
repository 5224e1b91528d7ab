//! The HTTP/1.1 layer of the contract server, on `std::net`: strict request parsing, responses, and request
//! parameters.
//!
//! Strictness: the request line and each header line must end with CRLF, header names must be tokens, HTTP/1.1
//! requests must carry `Host`, a body must have a `Content-Length` (one value); anything else is answered 400,
//! and a `Transfer-Encoding` (chunked) body 411. `Expect: 100-continue` is honoured. Connections are kept alive
//! unless the client asks otherwise (`Connection: close`, or HTTP/1.0 without `keep-alive`).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// Longest request head (request line and headers) accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Most header lines accepted.
const MAX_HEADERS: usize = 100;
/// Largest request body accepted.
const MAX_BODY: u64 = 64 * 1024 * 1024;

/// A request read from a connection.
pub(crate) struct Request {
    /// Method, as sent (`GET`, `POST`...).
    pub(crate) method: String,
    /// Path part of the target, without the query.
    pub(crate) path: String,
    /// Query part of the target, without the `?` (empty when none).
    pub(crate) query: String,
    /// Headers, names in lower case, in order.
    headers: Vec<(String, String)>,
    /// The body (empty without `Content-Length`).
    pub(crate) body: Vec<u8>,
    /// Whether the connection stays open after the answer.
    pub(crate) keep_alive: bool,
}

impl Request {
    /// Value of the first header with this (lower-case) name.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Whether the body's media type (Content-Type without its parameters) is `media_type`.
    pub(crate) fn has_media_type(&self, media_type: &str) -> bool {
        self.header("content-type")
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case(media_type))
    }
}

/// Why no request could be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The client closed the connection (or the socket failed): there is nobody to answer.
    Gone,
    /// The request breaks HTTP/1.1 syntax: 400.
    Malformed(&'static str),
    /// The body has a `Transfer-Encoding`: 411 (the contract server only reads `Content-Length` bodies).
    LengthRequired,
    /// The head or the body is too large: 413.
    TooLarge,
}

impl ReadError {
    /// The answer to send before closing the connection, if any.
    pub(crate) fn response(&self) -> Option<Response> {
        match self {
            ReadError::Gone => None,
            ReadError::Malformed(why) => Some(Response::text(400, why)),
            ReadError::LengthRequired => Some(Response::text(411, "Content-Length required (no chunked bodies)")),
            ReadError::TooLarge => Some(Response::text(413, "request too large")),
        }
    }
}

/// Reads one request from `reader`; every byte read for it is appended to `raw`, even when it fails.
pub(crate) fn read_request(reader: &mut BufReader<TcpStream>, raw: &mut Vec<u8>) -> Result<Request, ReadError> {
    let line = read_line(reader, raw)?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Malformed("request line is not METHOD SP target SP version"));
    };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ReadError::Malformed("bad method"));
    }
    if !target.starts_with('/') || target.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(ReadError::Malformed("bad request target"));
    }
    let http11 = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        _ => return Err(ReadError::Malformed("unsupported HTTP version")),
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let (method, path, query) = (method.to_owned(), path.to_owned(), query.to_owned());

    let mut headers = Vec::new();
    loop {
        let line = read_line(reader, raw)?;
        if line.is_empty() {
            break;
        }
        if headers.len() == MAX_HEADERS {
            return Err(ReadError::TooLarge);
        }
        let (name, value) = line.split_once(':').ok_or(ReadError::Malformed("header line without a colon"))?;
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(ReadError::Malformed("bad header name"));
        }
        headers.push((name.to_ascii_lowercase(), value.trim_matches([' ', '\t']).to_owned()));
    }
    let all = |name: &'static str| headers.iter().filter(move |(n, _)| n == name).map(|(_, v)| v.as_str());

    if http11 && all("host").next().is_none() {
        return Err(ReadError::Malformed("HTTP/1.1 request without Host"));
    }
    if all("transfer-encoding").next().is_some() {
        return Err(ReadError::LengthRequired);
    }
    let mut length = None;
    for value in all("content-length") {
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ReadError::Malformed("bad Content-Length"));
        }
        let value: u64 = value.parse().map_err(|_| ReadError::TooLarge)?;
        if length.is_some_and(|l| l != value) {
            return Err(ReadError::Malformed("conflicting Content-Length headers"));
        }
        length = Some(value);
    }
    let length = length.unwrap_or(0);
    if length > MAX_BODY {
        return Err(ReadError::TooLarge);
    }
    let connection = all("connection").flat_map(|v| v.split(',')).map(str::trim).collect::<Vec<_>>();
    let has = |token: &str| connection.iter().any(|t| t.eq_ignore_ascii_case(token));
    let keep_alive = if http11 { !has("close") } else { has("keep-alive") };
    let continue_expected = all("expect").any(|v| v.eq_ignore_ascii_case("100-continue"));

    let mut body = Vec::new();
    if length > 0 {
        if continue_expected {
            let stream = reader.get_mut();
            stream
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .and_then(|()| stream.flush())
                .map_err(|_| ReadError::Gone)?;
        }
        reader.by_ref().take(length).read_to_end(&mut body).map_err(|_| ReadError::Gone)?;
        raw.extend_from_slice(&body);
        if body.len() as u64 != length {
            return Err(ReadError::Gone);
        }
    }
    Ok(Request { method, path, query, headers, body, keep_alive })
}

/// Reads one CRLF-terminated line of the request head, without its CRLF.
fn read_line(reader: &mut BufReader<TcpStream>, raw: &mut Vec<u8>) -> Result<String, ReadError> {
    let budget = MAX_HEAD.saturating_sub(raw.len());
    let mut line = Vec::new();
    reader.by_ref().take(budget as u64).read_until(b'\n', &mut line).map_err(|_| ReadError::Gone)?;
    raw.extend_from_slice(&line);
    if !line.ends_with(b"\n") {
        return Err(if line.len() == budget { ReadError::TooLarge } else { ReadError::Gone });
    }
    if !line.ends_with(b"\r\n") {
        return Err(ReadError::Malformed("line not terminated by CRLF"));
    }
    line.truncate(line.len() - 2);
    String::from_utf8(line).map_err(|_| ReadError::Malformed("request head is not UTF-8"))
}

/// Whether `b` may appear in a header name (RFC 9110 `tchar`).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// An answer to send.
#[derive(Debug)]
pub(crate) struct Response {
    /// Status code.
    pub(crate) status: u16,
    /// Content-Type, if the answer has a body.
    pub(crate) content_type: Option<&'static str>,
    /// The body.
    pub(crate) body: Vec<u8>,
}

impl Response {
    /// A JSON answer.
    pub(crate) fn json(status: u16, value: &serde_json::Value) -> Response {
        Response { status, content_type: Some("application/json; charset=utf-8"), body: value.to_string().into_bytes() }
    }

    /// A plain text answer.
    pub(crate) fn text(status: u16, text: &str) -> Response {
        Response { status, content_type: Some("text/plain; charset=utf-8"), body: text.as_bytes().to_vec() }
    }

    /// An HTML answer.
    pub(crate) fn html(status: u16, html: &str) -> Response {
        Response { status, content_type: Some("text/html; charset=utf-8"), body: html.as_bytes().to_vec() }
    }

    /// 204, no body.
    pub(crate) fn no_content() -> Response {
        Response { status: 204, content_type: None, body: Vec::new() }
    }
}

/// Writes `response` on `stream`, announcing whether the connection stays open.
pub(crate) fn write_response(stream: &mut TcpStream, response: &Response, keep_alive: bool) -> io::Result<()> {
    let reason = match response.status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Content Too Large",
        500 => "Internal Server Error",
        _ => "Unknown",
    };
    let mut out = format!("HTTP/1.1 {} {reason}\r\n", response.status);
    if response.status != 204 {
        if let Some(content_type) = response.content_type {
            out.push_str(&format!("Content-Type: {content_type}\r\n"));
        }
        out.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
    }
    out.push_str(if keep_alive { "Connection: keep-alive\r\n\r\n" } else { "Connection: close\r\n\r\n" });
    let mut out = out.into_bytes();
    out.extend_from_slice(&response.body);
    stream.write_all(&out)?;
    stream.flush()
}

/// Request parameters (from a query string or a form body), in order. As in PHP, the last occurrence of a name
/// wins; names are case-sensitive.
#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// Parses `application/x-www-form-urlencoded` text (a query string without its `?`).
    pub(crate) fn parse(input: &[u8]) -> Params {
        Params(form_urlencoded::parse(input).into_owned().collect())
    }

    /// Value of `name`, if given.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Appends `later`, whose values win over the ones already there.
    pub(crate) fn extend(&mut self, later: Params) {
        self.0.extend(later.0);
    }

    /// The pairs, in order.
    pub(crate) fn into_pairs(self) -> Vec<(String, String)> {
        self.0
    }
}

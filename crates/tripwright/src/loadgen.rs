//! `tripwright bench web`: a small HTTP/1.1 load generator for the web app's speed targets,
//! run against a server on a loopback address.
//!
//! It speaks just enough HTTP/1.1 over plain keep-alive TCP connections (requests with a
//! `Content-Length` answer, no chunked bodies) that the client itself costs little of the two
//! cores it shares with the server; a general client would measure itself.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::bench::percentile;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// One keep-alive connection.
pub struct Conn {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    host: String,
}

/// A response: status, headers (lower-case names) and body.
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Header lines as `(name, value)`, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first header called `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `id` of the JSON body (of a plan or list just made).
    pub fn id(&self) -> Result<String> {
        serde_json::from_slice::<serde_json::Value>(&self.body)?["id"]
            .as_str()
            .map(str::to_owned)
            .context("the answer has no id")
    }
}

impl Conn {
    /// Connects to `addr`, which must be a loopback address (load stays on this machine).
    pub async fn open(addr: SocketAddr) -> Result<Self> {
        if !addr.ip().is_loopback() {
            bail!("the load generator only sends traffic to loopback addresses, not {addr}");
        }
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("cannot connect to {addr}; is `tripwright serve` running?"))?;
        stream.set_nodelay(true)?;
        let (r, w) = stream.into_split();
        Ok(Self {
            reader: BufReader::new(r),
            writer: w,
            host: addr.to_string(),
        })
    }

    /// Sends one request and reads the whole response.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response> {
        self.send(method, path, headers, body).await?;
        let (status, headers) = self.read_head().await?;
        let len: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .map(|(_, v)| v.parse())
            .transpose()
            .context("bad Content-Length")?
            .with_context(|| format!("{method} {path}: the response has no Content-Length"))?;
        let mut body = vec![0; len];
        self.reader.read_exact(&mut body).await?;
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<()> {
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        for (n, v) in headers {
            req.push_str(n);
            req.push_str(": ");
            req.push_str(v);
            req.push_str("\r\n");
        }
        if !body.is_empty() || method == "POST" {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        self.writer.write_all(&bytes).await?;
        Ok(())
    }

    async fn read_head(&mut self) -> Result<(u16, Vec<(String, String)>)> {
        let mut line = String::new();
        if self.reader.read_line(&mut line).await? == 0 {
            bail!("the server closed the connection");
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("not an HTTP status line: {line:?}"))?;
        let mut headers = Vec::new();
        loop {
            line.clear();
            self.reader.read_line(&mut line).await?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((n, v)) = l.split_once(':') {
                headers.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
        }
        Ok((status, headers))
    }

    /// A new browser session: `GET /api/session`'s cookie (`name=value`) and CSRF token.
    pub async fn session(&mut self) -> Result<(String, String)> {
        let r = self.request("GET", "/api/session", &[], b"").await?;
        let cookie = r
            .header("set-cookie")
            .and_then(|v| v.split(';').next())
            .context("GET /api/session set no cookie")?
            .to_owned();
        let csrf = serde_json::from_slice::<serde_json::Value>(&r.body)?["csrf"]
            .as_str()
            .context("GET /api/session gave no CSRF token")?
            .to_owned();
        Ok((cookie, csrf))
    }

    /// `POST path` with a JSON `body` as the browser of `cookie` and `csrf` does it.
    pub async fn post_json(
        &mut self,
        path: &str,
        cookie: &str,
        csrf: &str,
        body: &[u8],
    ) -> Result<Response> {
        self.request(
            "POST",
            path,
            &[
                ("Cookie", cookie),
                ("X-CSRF-Token", csrf),
                ("Content-Type", "application/json"),
            ],
            body,
        )
        .await
    }

    /// Sends a GET for an event stream and returns once its response head has arrived.
    pub async fn open_events(&mut self, path: &str, headers: &[(&str, &str)]) -> Result<()> {
        self.send("GET", path, headers, b"").await?;
        let (status, _) = self.read_head().await?;
        if status != 200 {
            bail!("GET {path} answered {status}");
        }
        Ok(())
    }

    /// Reads an open event stream up to its next `event:` line and returns the event name.
    pub async fn next_event(&mut self) -> Result<String> {
        let mut line = String::new();
        loop {
            line.clear();
            if self.reader.read_line(&mut line).await? == 0 {
                bail!("the event stream ended before its first event");
            }
            // Chunked framing lines (sizes) are skipped; only the event name matters.
            if let Some(name) = line.trim().strip_prefix("event:") {
                return Ok(name.trim().to_owned());
            }
        }
    }
}

/// Latency and throughput of one load run.
pub struct LoadFigures {
    /// Requests completed.
    pub requests: usize,
    /// Non-2xx answers or connection errors.
    pub errors: usize,
    /// Completed requests per second of wall time.
    pub per_second: f64,
    /// Median latency.
    pub p50: Duration,
    /// 99th-percentile latency.
    pub p99: Duration,
}

/// `connections` keep-alive connections each send `GET path` back to back for `duration`.
pub async fn hammer(
    addr: SocketAddr,
    path: &str,
    cookie: &str,
    connections: usize,
    duration: Duration,
) -> Result<LoadFigures> {
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (path, cookie) = (path.to_owned(), cookie.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0usize;
            let mut conn = Conn::open(addr).await?;
            while Instant::now() < deadline {
                let t = Instant::now();
                match conn
                    .request("GET", &path, &[("Cookie", cookie.as_str())], b"")
                    .await
                {
                    Ok(r) if (200..300).contains(&r.status) => lat.push(t.elapsed()),
                    Ok(_) => errors += 1,
                    Err(_) => {
                        errors += 1;
                        conn = Conn::open(addr).await?;
                    }
                }
            }
            anyhow::Ok((lat, errors))
        }));
    }
    let mut lat = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await??;
        lat.extend(l);
        errors += e;
    }
    let wall = start.elapsed();
    lat.sort();
    Ok(LoadFigures {
        requests: lat.len(),
        errors,
        per_second: lat.len() as f64 / wall.as_secs_f64(),
        p50: percentile(&lat, 0.50),
        p99: percentile(&lat, 0.99),
    })
}

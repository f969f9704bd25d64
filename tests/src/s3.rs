//! An S3-protocol server of the test's own on 127.0.0.1: moto's (PyPI `moto[server]`, the
//! `moto_server` command), named by `MINQING_TEST_S3_SERVER`. `.ci/run` installs it into a
//! virtualenv under `target/` and sets the variable; by hand:
//!
//! ```text
//! python3 -m venv target/moto-venv
//! target/moto-venv/bin/pip install 'moto[server]==5.2.5'
//! export MINQING_TEST_S3_SERVER=$PWD/target/moto-venv/bin/moto_server
//! ```
//!
//! moto keeps everything in memory and checks no signature, so the test can look at the
//! bucket with plain HTTP (HTTP/1.0, one request per connection: no client library needed).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const S3_SERVER_ENV: &str = "MINQING_TEST_S3_SERVER";

const FAKE_AUTHORIZATION: &str = "AWS4-HMAC-SHA256 \
     Credential=minqing-test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0";

const INSTALL: &str = "python3 -m venv target/moto-venv && target/moto-venv/bin/pip install \
                       'moto[server]==5.2.5' && export MINQING_TEST_S3_SERVER=$PWD/target/moto-venv/bin/moto_server";

/// The `moto_server` program, or `None` after saying loudly that `test` is skipped. Under
/// CI (`CI` set) a missing server fails the test instead, since `.ci/run` installs it.
pub fn s3_server_program(test: &str) -> Option<PathBuf> {
    let program = std::env::var_os(S3_SERVER_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let missing = match &program {
        None => format!("{S3_SERVER_ENV} is not set"),
        Some(path) if !path.is_file() => format!("{S3_SERVER_ENV}={} is no file", path.display()),
        Some(_) => return program,
    };
    if std::env::var("CI").is_ok_and(|v| !v.is_empty()) {
        panic!(
            "S3 test {test} cannot run in CI: {missing}; .ci/run installs moto's server \
             (by hand: {INSTALL})"
        );
    }
    eprintln!(
        "\n********\n* SKIPPED S3 test {test}: {missing}.\n* To run it: {INSTALL}\n********\n"
    );
    None
}

/// A running `moto_server`, stopped when dropped.
pub struct S3Server {
    child: Child,
    /// `http://127.0.0.1:<port>`: what `MINQING_S3_ENDPOINT` is set to.
    pub endpoint: String,
    port: u16,
    log: PathBuf,
}

impl S3Server {
    /// Starts `program` on a free port and waits (up to 60 s) until it answers.
    pub fn start(program: &Path) -> S3Server {
        let log = std::env::temp_dir().join(format!(
            "minqing-moto-{}.log",
            uuid::Uuid::new_v4().simple()
        ));
        // A port found free may be taken before moto binds it: then moto exits, and another
        // port is tried.
        for _ in 0..5 {
            let port = free_port();
            let out = std::fs::File::create(&log).expect("moto's log file");
            let child = Command::new(program)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(out.try_clone().expect("moto's log file"))
                .stderr(out)
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()));
            let mut server = S3Server {
                child,
                endpoint: format!("http://127.0.0.1:{port}"),
                port,
                log: log.clone(),
            };
            if server.wait_until_up(Duration::from_secs(60)) {
                return server;
            }
        }
        panic!("moto's S3 server did not start; its log:\n{}", tail(&log))
    }

    /// Polls until the server answers `GET /`; false if it exited (port taken).
    fn wait_until_up(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if self
                .try_request("GET", "/", b"")
                .is_ok_and(|(s, _)| s == 200)
            {
                return true;
            }
            assert!(
                Instant::now() < deadline,
                "moto's S3 server did not answer within {limit:?}; its log:\n{}",
                tail(&self.log)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn try_request(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> std::io::Result<(u16, Vec<u8>)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        // moto checks no signature, but refuses anonymous reads of private objects: any
        // Authorization header will do. A body is plain bytes, never a form to parse.
        let head = format!(
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n\
             Authorization: {FAKE_AUTHORIZATION}\r\n\
             Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
            self.port,
            body.len()
        );
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer)?;
        let split = answer
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| std::io::Error::other("no end of headers"))?;
        let status = String::from_utf8_lossy(&answer[..split])
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other("no status"))?;
        Ok((status, answer[split + 4..].to_vec()))
    }

    /// `METHOD path` with `body`: the status and the body of the answer.
    pub fn request(&self, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
        self.try_request(method, path, body)
            .unwrap_or_else(|e| panic!("{method} {path} to moto: {e}"))
    }

    pub fn create_bucket(&self, bucket: &str) {
        let (status, body) = self.request("PUT", &format!("/{bucket}"), b"");
        assert_eq!(
            status,
            200,
            "creating bucket {bucket}: {}",
            String::from_utf8_lossy(&body)
        );
    }

    /// The object's bytes, `None` if there is none.
    pub fn object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        match self.request("GET", &format!("/{bucket}/{key}"), b"") {
            (200, body) => Some(body),
            (404, _) => None,
            (status, body) => panic!(
                "GET {bucket}/{key}: {status} {}",
                String::from_utf8_lossy(&body)
            ),
        }
    }

    pub fn put_object(&self, bucket: &str, key: &str, bytes: &[u8]) {
        let (status, body) = self.request("PUT", &format!("/{bucket}/{key}"), bytes);
        assert_eq!(
            status,
            200,
            "PUT {bucket}/{key}: {}",
            String::from_utf8_lossy(&body)
        );
    }

    /// The keys under `prefix`, sorted (the first 1,000: plenty for a test).
    pub fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let (status, body) = self.request(
            "GET",
            &format!("/{bucket}?list-type=2&prefix={prefix}"),
            b"",
        );
        let xml = String::from_utf8_lossy(&body);
        assert_eq!(status, 200, "listing {bucket}/{prefix}: {xml}");
        let mut keys: Vec<String> = xml
            .split("<Key>")
            .skip(1)
            .filter_map(|rest| rest.split_once("</Key>").map(|(key, _)| key.to_string()))
            .collect();
        keys.sort();
        keys
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

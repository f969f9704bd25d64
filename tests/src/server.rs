//! The real `minqing` binary, started the way a newcomer starts it, for the end-to-end and
//! browser tests.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::TestDatabase;

/// `target/<profile>/minqing`, built by `cargo test --workspace` alongside the tests.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let bin = dir.join("minqing");
    assert!(
        bin.exists(),
        "{} is missing: run the tests with `cargo test --workspace`",
        bin.display()
    );
    bin
}

/// `minqing` on the test's database, in its scratch directory, with a known admin.
pub fn command(db: &TestDatabase) -> Command {
    command_for(db, binary())
}

/// `program` (e.g. a wrapper that then runs `minqing`) with the environment of [`command`].
pub fn command_for(db: &TestDatabase, program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(db.dir())
        .env("DATABASE_URL", &db.url)
        .env("MINQING_BIND", "127.0.0.1:0")
        .env("MINQING_ADMIN_PHONE", "13800000000")
        .env("MINQING_ADMIN_PASSWORD", "admin-password-1")
        .env_remove("MINQING_JWT_SECRET")
        .env_remove("MINQING_CONFIG");
    cmd
}

pub struct Server {
    child: Child,
    /// `http://127.0.0.1:<port>`: where the pages are.
    pub origin: String,
    /// `<origin>/api/v1`.
    pub base: String,
    /// The server's standard output, line by line; kept open so it never writes into a closed pipe.
    output: mpsc::Receiver<String>,
}

impl Server {
    /// Starts `minqing <args>` and waits (up to 60 s) for the line that says where it listens.
    pub fn start(db: &TestDatabase, args: &[&str]) -> Server {
        Self::start_with(db, args, &[])
    }

    /// [`Server::start`] with these environment variables set besides.
    pub fn start_with(db: &TestDatabase, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = command(db);
        cmd.args(args).envs(env.iter().copied());
        Self::spawn(cmd)
    }

    /// Starts a prepared command that ends up running the server (see [`command_for`]).
    pub fn spawn(mut cmd: Command) -> Server {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("minqing starts");
        let stdout = child.stdout.take();
        let (tx, rx) = mpsc::channel();
        // Owned by `Server` from here on, so the process is reaped even if startup fails.
        let mut server = Server {
            child,
            origin: String::new(),
            base: String::new(),
            output: rx,
        };
        std::thread::spawn(move || {
            for line in stdout
                .into_iter()
                .flat_map(|out| BufReader::new(out).lines().map_while(Result::ok))
            {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = server
                .output
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no listening line; output so far: {seen:?}"));
            if let Some(rest) = line.strip_prefix("Minqing is listening on ") {
                let origin = rest.split_whitespace().next().unwrap_or_default();
                server.origin = origin.to_string();
                server.base = format!("{origin}/api/v1");
                return server;
            }
            seen.push(line);
        }
    }

    /// The standard output written since the listening line (or the last call), after
    /// waiting `settle` for lines still on their way.
    pub fn output_since(&self, settle: Duration) -> Vec<String> {
        std::thread::sleep(settle);
        self.output.try_iter().collect()
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stop_gracefully(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop within 30 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

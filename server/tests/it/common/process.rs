//! The real `starfront` binary as a child process of a test, on a database that outlives it:
//! the replicas test runs two at once, the crash test kills one again and again.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The one database the processes of a test share: the harness's fresh PostgreSQL database
/// when `TEST_DATABASE_URL` is set, else a SQLite file in the test's directory (a real
/// multi-process setup too: several writers, one WAL, a file that survives a kill).
pub fn shared_database_url(dir: &Path) -> String {
    super::fresh_database()
        .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", dir.join("shop.db").display()))
}

/// A loopback address nobody listens on right now.
pub fn free_addr() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// A child process that is killed when the test ends, however it ends. Its output goes to
/// `<dir>/<name>.log`, across restarts.
pub struct Process {
    name: &'static str,
    program: PathBuf,
    env: Vec<(String, String)>,
    child: Child,
    log: PathBuf,
}

impl Process {
    pub fn spawn(name: &'static str, program: &str, env: &[(&str, String)], dir: &Path) -> Self {
        let log = dir.join(format!("{name}.log"));
        std::fs::File::create(&log).unwrap();
        let program = PathBuf::from(program);
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let child = start(name, &program, &env, &log);
        Process {
            name,
            program,
            env,
            child,
            log,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL (what `Child::kill` sends on Unix): no signal handler, no graceful stop, no
    /// flush; whatever the process had not committed is gone. Waits until it is dead.
    pub fn sigkill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the program again with the same environment (after [`Process::sigkill`]).
    pub fn restart(&mut self) {
        self.child = start(self.name, &self.program, &self.env, &self.log);
    }

    /// Waits until `url` answers 200, failing with the process's log if it exits first.
    pub async fn wait_ready(&mut self, url: &str) {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(res) = http.get(url).send().await {
                if res.status().is_success() {
                    return;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited with {status}:\n{}", self.name, self.log());
            }
            assert!(
                Instant::now() < deadline,
                "{} did not get ready:\n{}",
                self.name,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn start(name: &str, program: &Path, env: &[(String, String)], log: &Path) -> Child {
    let file = std::fs::OpenOptions::new().append(true).open(log).unwrap();
    Command::new(program)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        // The server logs to stdout and reports start-up failures on stderr.
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {name} ({}): {err}", program.display()))
}

impl Drop for Process {
    fn drop(&mut self) {
        self.sigkill();
    }
}

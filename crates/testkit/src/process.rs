//! The `localbroker` binary as a child process.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a starting server may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running `localbroker` process.
#[derive(Debug)]
pub struct Process {
    /// The child.
    pub child: Child,
    /// The first line it printed.
    pub first_line: String,
    /// The URL from that line.
    pub url: String,
    /// Every further line of stdout, as it arrives.
    pub rest: mpsc::Receiver<String>,
}

impl Process {
    /// Starts `binary` with `args` in `cwd` and waits for its `listening on` line.
    ///
    /// # Panics
    /// When the process cannot start or prints no address in time.
    pub fn spawn(binary: &Path, args: &[&str], cwd: &Path) -> Self {
        Self::spawn_with_env(binary, args, cwd, &[])
    }

    /// Like [`Process::spawn`], with extra environment variables.
    ///
    /// # Panics
    /// When the process cannot start or prints no address in time.
    pub fn spawn_with_env(binary: &Path, args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(binary)
            .args(args)
            .envs(env.iter().copied())
            .current_dir(cwd)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("localbroker starts");
        let stdout = child.stdout.take().expect("a stdout pipe");
        let (lines, rest) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let first_line = rest.recv_timeout(START_TIMEOUT).unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("localbroker printed no address within {START_TIMEOUT:?}")
        });
        let url = first_line.strip_prefix("listening on ").unwrap_or_default().to_owned();
        Self { child, first_line, url, rest }
    }

    /// Kills the process without warning (SIGKILL) and reaps it.
    pub fn kill(self) {
        drop(self);
    }
}

/// A test that fails half-way must not leave a server running.
impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

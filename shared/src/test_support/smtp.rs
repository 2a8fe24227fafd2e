//! A real SMTP server per test: `smtp_server.py` beside this file (aiosmtpd, from the
//! project's `.venv`) on a free port, writing each message it accepts to a directory of its
//! own; killed when the test ends. It answers 550 to recipients containing "unknown" or
//! "bounce", and 451 to the first `flaky_failures` deliveries to recipients containing "flaky".

use super::{eventually, unique};
use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};
use tokio::process::{Child, Command};

const SCRIPT: &str = include_str!("smtp_server.py");

pub struct SmtpServer {
    pub port: u16,
    dir: PathBuf,
    flaky_failures: u32,
    child: Option<Child>,
}

/// A message as the server received it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// The SMTP envelope's recipients.
    pub rcpt_to: Vec<String>,
    pub subject: String,
    pub message_id: String,
    pub raw: String,
}

fn python() -> PathBuf {
    let venv = std::env::var("VENV_BIN").map_or_else(
        |_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin"),
        PathBuf::from,
    );
    let candidate = venv.join("python3");
    if candidate.exists() {
        candidate
    } else {
        PathBuf::from("python3")
    }
}

impl SmtpServer {
    /// Starts a server that refuses the first `flaky_failures` deliveries to each "flaky"
    /// address with 451.
    pub async fn start(flaky_failures: u32) -> SmtpServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = std::env::temp_dir().join(unique("test-smtp-"));
        std::fs::create_dir_all(&dir).expect("a mail directory");
        // The script travels inside the crate, so any crate's tests can start it.
        let script = dir.join("smtp_server.py");
        std::fs::write(&script, SCRIPT).expect("write the SMTP server script");
        let mut server = SmtpServer {
            port,
            dir,
            flaky_failures,
            child: None,
        };
        server.start_again().await;
        server
    }

    /// Stops the server (as a crash would): connections are refused until [`Self::start_again`].
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts the server (again) on the same port, keeping the mail received so far.
    pub async fn start_again(&mut self) {
        let script = self.dir.join("smtp_server.py");
        let child = Command::new(python())
            .arg(script)
            .args(["--port", &self.port.to_string()])
            .arg("--dir")
            .arg(&self.dir)
            .args(["--flaky-failures", &self.flaky_failures.to_string()])
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 with aiosmtpd runs (pip install aiosmtpd)");
        self.child = Some(child);
        let port = self.port;
        eventually(
            "the SMTP server to listen",
            Duration::from_secs(15),
            || async move {
                tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .ok()
                    .map(|_| ())
            },
        )
        .await;
    }

    /// Every message received so far, oldest first.
    pub fn received(&self) -> Vec<ReceivedMail> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
            .iter()
            .filter_map(|path| std::fs::read_to_string(path).ok())
            .map(|raw| parse(&raw))
            .collect()
    }

    /// The messages received for `address`.
    pub fn received_by(&self, address: &str) -> Vec<ReceivedMail> {
        self.received()
            .into_iter()
            .filter(|m| m.rcpt_to.iter().any(|to| to == address))
            .collect()
    }

    /// Waits for `count` messages to `address` and returns them.
    pub async fn wait_for(&self, count: usize, address: &str) -> Vec<ReceivedMail> {
        eventually(
            &format!("{count} mail(s) to {address}"),
            Duration::from_secs(20),
            || async move {
                let mails = self.received_by(address);
                (mails.len() >= count).then_some(mails)
            },
        )
        .await
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The headers we look at, unfolded.
fn parse(raw: &str) -> ReceivedMail {
    let head = raw.split("\r\n\r\n").next().unwrap_or(raw);
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    ReceivedMail {
        rcpt_to: header("x-rcpt-to")
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        subject: header("subject"),
        message_id: header("message-id"),
        raw: raw.to_owned(),
    }
}

impl ReceivedMail {
    /// Whether the Message-ID names this notification.
    pub fn is_for(&self, notification_id: &str) -> bool {
        self.message_id.contains(notification_id)
    }
}

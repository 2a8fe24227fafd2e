//! The service as a real process, to kill it with SIGKILL: no graceful shutdown, no chance to
//! finish the batch in hand or to ack it.

use crate::harness::{Client, Servers, WAIT};
use shared::test_support::eventually;
use std::{
    io::Write,
    process::{Child, Command, Stdio},
};

pub struct ServiceProcess {
    child: Child,
    pub client: Client,
    _config_file: tempfile_path::TempPath,
}

impl ServiceProcess {
    /// Starts the service binary on `servers`, configured by a file only (the test's own
    /// environment, e.g. `RABBITMQ_URL`, must not leak in), and waits until it is ready.
    pub async fn start(servers: &Servers) -> ServiceProcess {
        let port = free_port();
        let mut config = servers.config.clone();
        config.http.port = port;
        config.log_level = "warn".into();
        let config_file = tempfile_path::TempPath::new("event-store-config.json");
        std::fs::File::create(&config_file.0)
            .and_then(|mut f| f.write_all(&serde_json::to_vec(&config).expect("JSON config")))
            .expect("write the config file");
        let child = Command::new(env!("CARGO_BIN_EXE_event-store-service"))
            .env_clear()
            .env("APP_CONFIG_FILE", &config_file.0)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the service binary starts");
        let process = ServiceProcess {
            child,
            client: Client::new(port),
            _config_file: config_file,
        };
        let ready = format!("{}/ready", process.client.address);
        eventually("the service process is ready", WAIT, || async {
            let response = reqwest::get(&ready).await.ok()?;
            response.status().is_success().then_some(())
        })
        .await;
        process
    }

    /// SIGKILL, and wait until the process is gone.
    pub fn kill(mut self) {
        self.child.kill().expect("kill the service");
        self.child.wait().expect("the service exits");
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A file path in the temp directory, removed on drop.
mod tempfile_path {
    pub struct TempPath(pub std::path::PathBuf);

    impl TempPath {
        pub fn new(name: &str) -> Self {
            let unique = uuid::Uuid::new_v4().simple().to_string();
            Self(std::env::temp_dir().join(format!("{unique}-{name}")))
        }
    }

    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

//! Local transports: messages appended as JSON lines to a file, or written to the log.
//! Nothing leaves the machine, so they never fail for the recipient's sake.

use super::transport::{BuildError, Mail, SendError, Transport};
use serde_json::json;
use std::{
    io::Write,
    path::PathBuf,
    sync::{Arc, Mutex},
};
#[cfg(test)]
use uuid::Uuid;

pub const FILE_NAME: &str = "notifications.jsonl";

pub struct FileTransport {
    path: PathBuf,
    /// One writer at a time, so lines never interleave.
    lock: Arc<Mutex<()>>,
}

impl FileTransport {
    pub fn build(dir: &str) -> Result<Self, BuildError> {
        std::fs::create_dir_all(dir).map_err(|e| BuildError::Directory(dir.to_owned(), e))?;
        Ok(Self {
            path: PathBuf::from(dir).join(FILE_NAME),
            lock: Arc::new(Mutex::new(())),
        })
    }
}

impl Transport for FileTransport {
    async fn send(&self, mail: &Mail<'_>) -> Result<(), SendError> {
        let mut line = json!({
            "notificationId": mail.notification_id,
            "complaintId": mail.complaint_id,
            "to": mail.to_address,
            "toName": mail.to_name,
            "subject": mail.subject,
            "body": mail.body,
            "deliveredAt": chrono::Utc::now(),
        })
        .to_string();
        line.push('\n');
        let path = self.path.clone();
        let lock = self.lock.clone();
        tokio::task::spawn_blocking(move || {
            let _writer = lock
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .and_then(|mut file| file.write_all(line.as_bytes()))
                .map_err(|e| SendError::Transient(format!("{}: {e}", path.display())))
        })
        .await
        .map_err(|e| SendError::Transient(e.to_string()))?
    }
}

pub struct LogTransport;

impl Transport for LogTransport {
    async fn send(&self, mail: &Mail<'_>) -> Result<(), SendError> {
        tracing::info!(
            notification_id = %mail.notification_id,
            complaint_id = mail.complaint_id,
            to = mail.to_address,
            subject = mail.subject,
            body = mail.body,
            "notification delivered to the log"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_message_is_appended_as_one_json_line() {
        let dir = std::env::temp_dir().join(format!("notification-file-{}", Uuid::new_v4()));
        let transport = FileTransport::build(dir.to_str().unwrap()).unwrap();
        for subject in ["first", "second"] {
            let mail = Mail {
                notification_id: Uuid::now_v7(),
                complaint_id: "c-1",
                to_address: "ada@example.com",
                to_name: "Ada",
                subject,
                body: "line one\nline two",
            };
            transport.send(&mail).await.unwrap();
        }
        let text = std::fs::read_to_string(dir.join(FILE_NAME)).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["subject"], "second");
        assert_eq!(lines[0]["to"], "ada@example.com");
        assert_eq!(lines[0]["body"], "line one\nline two");
        std::fs::remove_dir_all(dir).unwrap();
    }
}

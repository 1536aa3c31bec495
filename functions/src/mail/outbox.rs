//! The local mail transport: each message an RFC 5322 `.eml` file in a
//! folder, which any mail program opens.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::{MailError, MailTransport};

pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    pub fn new(dir: impl Into<PathBuf>) -> Outbox {
        Outbox { dir: dir.into() }
    }
}

#[async_trait]
impl MailTransport for Outbox {
    async fn send(&self, reference: &str, message: &lettre::Message) -> Result<(), MailError> {
        let dir = self.dir.clone();
        let name = format!("{reference}.eml");
        let bytes = message.formatted();
        tokio::task::spawn_blocking(move || write_durably(&dir, &name, &bytes))
            .await
            .map_err(|e| MailError::Send(format!("the outbox writer stopped: {e}")))?
            .map_err(|e| MailError::Send(format!("cannot write to {}: {e}", self.dir.display())))
    }
}

/// Named by reference, so a retried send replaces rather than repeats;
/// written to a partial file, flushed to disk, renamed, and the folder
/// flushed too, so a message counted as sent survives a crash and a
/// reader never sees half of one. The file holds the owner's name and
/// phone: only the desk's account may read it (0600).
fn write_durably(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let final_path = dir.join(name);
    let partial = dir.join(format!(".{name}.partial"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&partial)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&partial, &final_path)?;
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_written_message_is_complete_and_private() {
        let tmp = tempfile::tempdir().unwrap();
        super::write_durably(tmp.path(), "RP-1.eml", b"Subject: x\r\n\r\nbody").unwrap();
        super::write_durably(tmp.path(), "RP-1.eml", b"Subject: y\r\n\r\nbody").unwrap();
        let path = tmp.path().join("RP-1.eml");
        assert_eq!(std::fs::read(&path).unwrap(), b"Subject: y\r\n\r\nbody");
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let names: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["RP-1.eml"], "no partial file is left behind");
    }
}

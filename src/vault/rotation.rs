//! `ringback key rotate`: a new key, every secret sealed again under it, and the files swapped
//! in the order that leaves every secret openable whenever the rotation stops.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use super::{
    LOCK, NEW, OLD, Ring, SealError, Sealed, SealingKey, Vault, companion, new_key, read_key,
    seal_with, stamps, sync_directory, write_new_key,
};

/// One rotation of the key (`ringback key rotate`), in the order that leaves every secret
/// openable whenever it stops: the new key is written to `.new`, the caller re-seals every
/// secret under it in one transaction, then `finish` keeps the old key as `.old` and makes the
/// new one the key file. One rotation at a time: it holds `.lock` beside the key file.
pub struct Rotation {
    path: PathBuf,
    next: SealingKey,
    _lock: std::fs::File,
}

impl Rotation {
    /// Starts a rotation of the key at `path`. A `.new` left by a rotation that stopped before
    /// its end is finished first when secrets were sealed under it (`in_use`), dropped if not.
    pub fn begin(path: &Path, in_use: impl Fn(&Vault) -> bool) -> Result<Rotation, RotationError> {
        use std::os::unix::fs::OpenOptionsExt;
        let lock = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(companion(path, LOCK))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(RotationError::Busy),
            Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
        }
        let pending = companion(path, NEW);
        if pending.exists() {
            if let Ok(key) = read_key(&pending) {
                let only_pending = Vault {
                    path: pending.clone(),
                    ring: RwLock::new(Arc::new(Ring {
                        current: Ok(SealingKey::new(&key)),
                        others: Vec::new(),
                        seen: stamps(&pending),
                    })),
                };
                if in_use(&only_pending) {
                    finish_files(path)?;
                }
            }
            let _ = std::fs::remove_file(&pending);
        }
        let key = new_key();
        write_new_key(&pending, &key)?;
        Ok(Rotation {
            path: path.to_path_buf(),
            next: SealingKey::new(&key),
            _lock: lock,
        })
    }

    /// Seals `secret` for `owner` under the new key.
    pub fn seal(&self, owner: &str, secret: &str) -> Result<Sealed, SealError> {
        seal_with(&self.next, owner, secret).ok_or(SealError::TooLong)
    }

    /// Once every secret is sealed under the new key (committed): the old key becomes `.old`
    /// (replacing an older one), the new key the key file.
    pub fn finish(self) -> std::io::Result<()> {
        finish_files(&self.path)
    }

    /// Nothing was sealed under the new key: it is dropped.
    pub fn abandon(self) {
        let _ = std::fs::remove_file(companion(&self.path, NEW));
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error("another `ringback key rotate` is running")]
    Busy,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

fn finish_files(path: &Path) -> std::io::Result<()> {
    let (pending, old) = (companion(path, NEW), companion(path, OLD));
    if path.exists() {
        // Copied, not moved: at no moment is there no key file.
        let staged = companion(path, ".old.tmp");
        let _ = std::fs::remove_file(&staged);
        {
            use std::os::unix::fs::OpenOptionsExt;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&staged)?;
            file.write_all(&std::fs::read(path)?)?;
            file.sync_all()?;
        }
        std::fs::rename(&staged, &old)?;
    }
    std::fs::rename(&pending, path)?;
    sync_directory(path)
}

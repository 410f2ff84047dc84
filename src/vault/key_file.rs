//! The key file and its companions on disk: read, named, and written new — whole, private and
//! durable before anything is sealed with it.

use std::io::Write;
use std::path::{Path, PathBuf};

use chacha20poly1305::Key;
use chacha20poly1305::aead::Generate;

use super::{KEY_LEN, KeyProblem};

pub(super) fn read_key(path: &Path) -> Result<[u8; KEY_LEN], KeyProblem> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => KeyProblem::Missing(path.to_path_buf()),
        _ => KeyProblem::Unreadable {
            path: path.to_path_buf(),
            reason: e.to_string(),
        },
    })?;
    <[u8; KEY_LEN]>::try_from(bytes.as_slice())
        .map_err(|_| KeyProblem::Malformed(path.to_path_buf()))
}

/// The rotation's companions of a key file: `ringback.key.new` holds the next key while a
/// rotation re-seals, `ringback.key.old` the previous one once it is done.
pub const NEW: &str = ".new";
pub const OLD: &str = ".old";
pub(super) const LOCK: &str = ".lock";

pub fn companion(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

pub(super) fn new_key() -> [u8; KEY_LEN] {
    Key::generate().into()
}

/// Writes a key to a file that must not exist yet, readable by its owner alone, and makes it
/// durable before anything is sealed with it. Written whole beside it first, then linked into
/// place: a crash never leaves a short key under the name, and a key that appeared meanwhile is
/// never replaced.
pub(super) fn write_new_key(path: &Path, key: &[u8; KEY_LEN]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let staged = companion(path, &format!(".tmp{}", std::process::id()));
    let _ = std::fs::remove_file(&staged);
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&staged)?;
        file.write_all(key)?;
        file.sync_all()?;
        std::fs::hard_link(&staged, path)
    })();
    let _ = std::fs::remove_file(&staged);
    written?;
    sync_directory(path)
}

pub(super) fn sync_directory(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::File::open(dir)?.sync_all(),
        _ => std::fs::File::open(".")?.sync_all(),
    }
}

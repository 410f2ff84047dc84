//! Third-party secrets at rest (SPEC §8.2). A WhatsApp access token lets whoever holds it send
//! messages billed to the restaurant, and every copy of the database (a nightly backup, a
//! Litestream replica, a file sent for support) would carry it. So it is sealed with
//! XChaCha20-Poly1305 under a key that lives in a file of its own, with the restaurant's id as
//! associated data: a sealed token copied onto another restaurant's row does not open.
//!
//! A sealed value names the key that sealed it (a short digest of the key, never the key), so
//! that `ringback key rotate` can replace the key while a server runs: the server meets a key
//! it does not hold, reads the key files again, and goes on.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use crate::secret::Secret;

mod key_file;
mod rotation;
#[cfg(test)]
mod tests;

use key_file::{LOCK, new_key, read_key, sync_directory, write_new_key};
pub use key_file::{NEW, OLD, companion};
pub use rotation::{Rotation, RotationError};

/// The first bytes of every sealed value: the format, should it ever change.
const MAGIC: &[u8; 4] = b"rbs1";
const KEY_ID_LEN: usize = 8;
const NONCE_LEN: usize = 24;
const HEADER_LEN: usize = MAGIC.len() + KEY_ID_LEN + NONCE_LEN;
/// A key file holds exactly this many random bytes.
pub const KEY_LEN: usize = 32;

/// A secret as stored: sealed, and shown by its length alone.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed(pub Vec<u8>);

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealed({} bytes)", self.0.len())
    }
}

/// Why a sealed secret cannot be opened: what the start-up log, the console and `whatsapp check`
/// say, naming the key file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyProblem {
    #[error("the key file {} is missing", .0.display())]
    Missing(PathBuf),
    #[error("the key file {} cannot be read: {reason}", path.display())]
    Unreadable { path: PathBuf, reason: String },
    #[error("the key file {} is not a ringback key (it must hold exactly 32 bytes)", .0.display())]
    Malformed(PathBuf),
    #[error("the key file {} is not the key the access token was sealed with", .0.display())]
    Wrong(PathBuf),
}

/// Why a secret was not sealed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error(transparent)]
    Key(#[from] KeyProblem),
    #[error("the secret is too long to seal")]
    TooLong,
}

impl KeyProblem {
    /// The code a skipped call records (`SKIPPED_NO_WHATSAPP` for this reason).
    pub const CODE: &'static str = "key_file";

    /// `missing`, `unreadable`, `malformed` or `wrong`: what the console says in the manager's
    /// language.
    pub fn kind(&self) -> &'static str {
        match self {
            KeyProblem::Missing(_) => "missing",
            KeyProblem::Unreadable { .. } => "unreadable",
            KeyProblem::Malformed(_) => "malformed",
            KeyProblem::Wrong(_) => "wrong",
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            KeyProblem::Missing(p) | KeyProblem::Malformed(p) | KeyProblem::Wrong(p) => p,
            KeyProblem::Unreadable { path, .. } => path,
        }
    }

    /// The problem a skipped call recorded as its message (this type's `Display`), read back.
    pub fn from_message(message: &str) -> Option<KeyProblem> {
        let rest = message.strip_prefix("the key file ")?;
        let path = |end: &str| rest.strip_suffix(end).map(PathBuf::from);
        if let Some(p) = path(" is missing") {
            return Some(KeyProblem::Missing(p));
        }
        if let Some(p) = path(" is not a ringback key (it must hold exactly 32 bytes)") {
            return Some(KeyProblem::Malformed(p));
        }
        if let Some(p) = path(" is not the key the access token was sealed with") {
            return Some(KeyProblem::Wrong(p));
        }
        let (p, reason) = rest.split_once(" cannot be read: ")?;
        Some(KeyProblem::Unreadable {
            path: PathBuf::from(p),
            reason: reason.to_string(),
        })
    }
}

/// The keys a server or a command holds: the key file's, and those of a rotation's companions
/// (`.new` while a rotation is under way, `.old` after it).
pub struct Vault {
    path: PathBuf,
    ring: RwLock<Arc<Ring>>,
}

struct Ring {
    /// The key file's own key, which seals; `Err` when it cannot be had.
    current: Result<SealingKey, KeyProblem>,
    /// Keys that still open what they sealed.
    others: Vec<SealingKey>,
    /// The key files as they were when read: a sealed value under an unknown key makes the
    /// ring read again only when one of them has changed since, so a missing key costs each
    /// report three `stat`s, not three reads.
    seen: FileStamps,
}

/// Identity, size and change time of the key file and its companions (`None`: absent).
type FileStamps = [Option<(u64, u64, i64, i64)>; 3];

fn stamps(path: &Path) -> FileStamps {
    use std::os::unix::fs::MetadataExt;
    [
        path.to_path_buf(),
        companion(path, NEW),
        companion(path, OLD),
    ]
    .map(|p| {
        std::fs::metadata(p)
            .ok()
            .map(|m| (m.ino(), m.len(), m.ctime(), m.ctime_nsec()))
    })
}

#[derive(Clone)]
struct SealingKey {
    id: [u8; KEY_ID_LEN],
    cipher: XChaCha20Poly1305,
    /// The root of `Vault::derive`: a digest of the key, never the key itself.
    derivation: [u8; 32],
}

impl SealingKey {
    fn new(bytes: &[u8; KEY_LEN]) -> SealingKey {
        let derivation = Sha256::new()
            .chain_update(b"ringback derived values\0")
            .chain_update(bytes)
            .finalize()
            .into();
        SealingKey {
            id: key_id(bytes),
            cipher: XChaCha20Poly1305::new(&Key::from(*bytes)),
            derivation,
        }
    }
}

/// A digest of the key, stored beside what it sealed: it tells which key to use without
/// revealing anything of it.
fn key_id(key: &[u8; KEY_LEN]) -> [u8; KEY_ID_LEN] {
    let digest = Sha256::new()
        .chain_update(b"ringback key id\0")
        .chain_update(key)
        .finalize();
    let mut id = [0; KEY_ID_LEN];
    id.copy_from_slice(&digest[..KEY_ID_LEN]);
    id
}

impl Vault {
    /// The keys at `path` and its rotation companions, as they are now. Never fails: a missing
    /// or unreadable key is a problem the vault reports for each secret it cannot open, since a
    /// box without its key still serves (its restaurants send nothing).
    pub fn load(path: &Path) -> Vault {
        Vault {
            path: path.to_path_buf(),
            ring: RwLock::new(Arc::new(read_ring(path))),
        }
    }

    /// For `serve`, `demo` and `migrate`: creates the key file (32 random bytes, mode 0600) when
    /// it is missing, then loads it. Returns whether it was created.
    pub fn create_if_missing(path: &Path) -> std::io::Result<bool> {
        match std::fs::symlink_metadata(path) {
            Ok(_) => Ok(false),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match write_new_key(path, &new_key()) {
                    Ok(()) => Ok(true),
                    // Another process made it meanwhile: that key is the key.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Why nothing can be sealed, if so: the key file is missing or unusable.
    pub fn problem(&self) -> Option<KeyProblem> {
        self.ring().current.as_ref().err().cloned()
    }

    /// Seals `secret` for the row `owner` (the restaurant's id) under the key file's key, read
    /// afresh: a rotation that just ran is taken into account.
    pub fn seal(&self, owner: &str, secret: &str) -> Result<Sealed, SealError> {
        let ring = self.reload();
        let key = ring
            .current
            .as_ref()
            .map_err(|p| SealError::Key(p.clone()))?;
        seal_with(key, owner, secret).ok_or(SealError::TooLong)
    }

    /// Opens what `seal` made for `owner`. A key not held is looked for again on disk once (a
    /// rotation may have replaced it); what still does not open is a problem with the key file.
    pub fn open(&self, owner: &str, sealed: &Sealed) -> Result<Secret, KeyProblem> {
        let sealed = sealed.0.as_slice();
        match open_with(&self.ring(), owner, sealed) {
            Opened::Secret(s) => Ok(s),
            Opened::NoKey => match open_with(&self.reload_if_changed(), owner, sealed) {
                Opened::Secret(s) => Ok(s),
                Opened::NoKey | Opened::Refused => Err(self.blame()),
            },
            Opened::Refused => Err(self.blame()),
        }
    }

    /// A value only this key file gives for `label`, the same at every run: the demo's partner
    /// token is one, so that a demo started again prints the token it printed before without
    /// the token being stored anywhere but as its hash.
    pub fn derive(&self, label: &str) -> Result<[u8; 32], KeyProblem> {
        use hmac::{Hmac, Mac};
        let ring = self.reload();
        let key = ring.current.as_ref().map_err(Clone::clone)?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key.derivation)
            .map_err(|_| KeyProblem::Malformed(self.path.clone()))?;
        mac.update(label.as_bytes());
        Ok(mac.finalize().into_bytes().into())
    }

    /// The key file's problem when it has one, else: it is the wrong key.
    fn blame(&self) -> KeyProblem {
        self.problem()
            .unwrap_or_else(|| KeyProblem::Wrong(self.path.clone()))
    }

    fn ring(&self) -> Arc<Ring> {
        match self.ring.read() {
            Ok(ring) => Arc::clone(&ring),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn reload_if_changed(&self) -> Arc<Ring> {
        let ring = self.ring();
        if ring.seen == stamps(&self.path) {
            return ring;
        }
        self.reload()
    }

    fn reload(&self) -> Arc<Ring> {
        let fresh = Arc::new(read_ring(&self.path));
        match self.ring.write() {
            Ok(mut ring) => *ring = Arc::clone(&fresh),
            Err(poisoned) => *poisoned.into_inner() = Arc::clone(&fresh),
        }
        fresh
    }
}

enum Opened {
    Secret(Secret),
    /// Sealed under a key this ring does not hold.
    NoKey,
    /// The key is held but the value does not open: tampered with, or moved to another row.
    Refused,
}

/// `None` only for a secret longer than the cipher takes (256 GiB): never a token.
fn seal_with(key: &SealingKey, owner: &str, secret: &str) -> Option<Sealed> {
    let nonce = XNonce::generate();
    let payload = Payload {
        msg: secret.as_bytes(),
        aad: owner.as_bytes(),
    };
    let sealed = key.cipher.encrypt(&nonce, payload).ok()?;
    let mut out = Vec::with_capacity(HEADER_LEN + sealed.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&key.id);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Some(Sealed(out))
}

fn open_with(ring: &Ring, owner: &str, sealed: &[u8]) -> Opened {
    if sealed.len() < HEADER_LEN || &sealed[..MAGIC.len()] != MAGIC {
        return Opened::Refused;
    }
    let id = &sealed[MAGIC.len()..MAGIC.len() + KEY_ID_LEN];
    let Some(key) = ring
        .current
        .iter()
        .chain(ring.others.iter())
        .find(|k| k.id == id)
    else {
        return Opened::NoKey;
    };
    let nonce = XNonce::try_from(&sealed[MAGIC.len() + KEY_ID_LEN..HEADER_LEN]);
    let Ok(nonce) = nonce else {
        return Opened::Refused;
    };
    let payload = Payload {
        msg: &sealed[HEADER_LEN..],
        aad: owner.as_bytes(),
    };
    match key.cipher.decrypt(&nonce, payload).map(String::from_utf8) {
        Ok(Ok(secret)) => Opened::Secret(Secret::new(secret)),
        _ => Opened::Refused,
    }
}

fn read_ring(path: &Path) -> Ring {
    // Stamped before reading: a change made while reading is seen as a change next time.
    let seen = stamps(path);
    let current = read_key(path).map(|k| SealingKey::new(&k));
    let others = [companion(path, NEW), companion(path, OLD)]
        .iter()
        .filter_map(|p| read_key(p).ok())
        .map(|k| SealingKey::new(&k))
        .collect();
    Ring {
        current,
        others,
        seen,
    }
}

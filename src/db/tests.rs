//! The connections' pragmas and the migrations, as the tests hold them.

use super::*;

#[test]
fn the_write_connection_is_durable_wal_with_a_busy_timeout_and_secure_delete() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conn = open(&dir.path().join("d.db")).expect("open");
    let pragma = |name: &str| -> String {
        conn.query_row(&format!("PRAGMA {name}"), [], |r| {
            r.get::<_, rusqlite::types::Value>(0)
        })
        .map(|v| format!("{v:?}"))
        .expect("pragma")
    };
    assert_eq!(pragma("journal_mode"), r#"Text("wal")"#);
    assert_eq!(pragma("synchronous"), "Integer(2)"); // FULL
    assert_eq!(pragma("foreign_keys"), "Integer(1)");
    assert_eq!(pragma("secure_delete"), "Integer(1)");
    assert_eq!(pragma("busy_timeout"), "Integer(5000)");
    assert_eq!(
        schema_version(&conn).expect("version"),
        latest_schema_version()
    );
}

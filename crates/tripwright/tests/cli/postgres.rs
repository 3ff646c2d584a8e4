//! The store in PostgreSQL: `DATABASE_URL` moves everything the SQLite file held (places, the
//! street map, plans) to the database, and a database that cannot be reached is a clear error
//! that never shows the password. `scripts/test.sh` starts a throwaway PostgreSQL server on
//! loopback and names it in `TRIPWRIGHT_TEST_POSTGRES_URL`; in CI the test fails without it.

use sqlx::Connection;
use sqlx::postgres::PgConnection;

use super::serve::{Serve, status_and_body};
use super::{json, tripwright_env};

/// The server's admin URL, when one is given; without one the calling test is skipped,
/// which fails in CI (it always gives one).
pub(super) fn admin_url() -> Option<String> {
    let url = std::env::var("TRIPWRIGHT_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.trim().is_empty());
    if url.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "CI runs this test on PostgreSQL: scripts/test.sh sets TRIPWRIGHT_TEST_POSTGRES_URL"
        );
        eprintln!("skipped: TRIPWRIGHT_TEST_POSTGRES_URL is not set (scripts/test.sh sets it)");
    }
    url
}

/// A new database on the server: its URL.
pub(super) fn new_database(admin: &str) -> String {
    let name = format!("tw_cli_{}", uuid::Uuid::new_v4().simple());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let mut conn = PgConnection::connect(admin).await.expect("the test server");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("a database");
    });
    let (base, _) = admin.rsplit_once('/').expect("a URL with a database");
    format!("{base}/{name}")
}

/// `sql`'s one number, read from the database at `url`.
pub(super) fn scalar(url: &str, sql: &str) -> i64 {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let mut conn = PgConnection::connect(url).await.expect("connect");
        sqlx::query_scalar(sql)
            .fetch_one(&mut conn)
            .await
            .expect(sql)
    })
}

#[test]
fn database_url_keeps_the_store_in_postgres() {
    let Some(admin) = admin_url() else {
        return;
    };
    let url = new_database(&admin);
    let dir = tempfile::tempdir().expect("tempdir");
    let env = [("DATABASE_URL", url.as_str())];
    // The first start imports the demo extract into the empty database, then plans.
    let out = tripwright_env(
        dir.path(),
        &["plan", "--destination", "Helsinki", "--days", "1", "--json"],
        &env,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan = json(&out);
    let id = plan["id"].as_str().expect("an id").to_owned();
    assert!(
        !dir.path().join("tripwright.sqlite").exists(),
        "no SQLite file is made"
    );
    assert_eq!(scalar(&url, "SELECT COUNT(*) FROM plans"), 1);
    assert!(scalar(&url, "SELECT COUNT(*) FROM places") > 500);
    assert!(scalar(&url, "SELECT COUNT(*) FROM map_features") > 1000);
    // The walks used the street map read back from PostgreSQL.
    let stops = plan["itinerary"]["days"][0]["stops"]
        .as_array()
        .expect("stops");
    assert!(
        stops
            .iter()
            .all(|s| s["route"].as_array().is_some_and(|r| r.len() >= 2))
    );
    // Another process reads it back.
    let listed = tripwright_env(dir.path(), &["plans", "list"], &env);
    assert!(String::from_utf8_lossy(&listed.stdout).contains(&id));

    // Backed up with pg_dump and restored into a new database, as docs/operations.md says:
    // the restored database serves the plan (its migrations came with it).
    let dump = dir.path().join("tripwright.dump");
    let ok = std::process::Command::new("pg_dump")
        .args(["--format=custom", "--dbname", &url, "--file"])
        .arg(&dump)
        .status()
        .expect("pg_dump runs");
    assert!(ok.success());
    let restored = new_database(&admin);
    let ok = std::process::Command::new("pg_restore")
        .args(["--no-owner", "--dbname", &restored])
        .arg(&dump)
        .status()
        .expect("pg_restore runs");
    assert!(ok.success());
    let shown = tripwright_env(
        dir.path(),
        &["plans", "show", &id],
        &[("DATABASE_URL", restored.as_str())],
    );
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    assert_eq!(json(&shown)["itinerary"], plan["itinerary"]);
    // `tripwright backup` is for the SQLite file; here it says what to use.
    let out = tripwright_env(dir.path(), &["backup", "copy.sqlite"], &env);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));

    // A database that cannot be reached: a clear error, without the password.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let bad = format!("postgres://tw:s3cret-pw@{closed}/none");
    let out = tripwright_env(
        dir.path(),
        &["plans", "list"],
        &[("DATABASE_URL", bad.as_str())],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot use the database"), "{err}");
    assert!(!err.contains("s3cret-pw"), "{err}");
}

/// Two replicas on one database share a client's rate: 3 plan requests a minute in all, not
/// 3 on each. (The requests are invalid, answered 400 after the limit lets them through, so
/// nothing is planned.)
#[test]
fn rate_limits_count_across_replicas_sharing_the_database() {
    let Some(admin) = admin_url() else {
        return;
    };
    let url = new_database(&admin);
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("TRIPWRIGHT_LIMITS__PLAN_REQUESTS_PER_MINUTE", "3"),
    ];
    let dirs = [
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    ];
    let replicas: Vec<Serve> = dirs.iter().map(|d| Serve::start(d.path(), &env)).collect();
    let body = r#"{"destination":"Helsinki","days":0}"#;
    let request = format!(
        "POST /api/plans HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    // A minute's window could turn over mid-way: then the run is repeated in the next one.
    for _ in 0..2 {
        let minute = || {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("a clock")
                .as_secs()
                / 60
        };
        let began = minute();
        let statuses: Vec<(u16, String)> = (0..6)
            .map(|i| {
                let answer = replicas[i % 2].request(&request).expect("an answer");
                let (status, _) = status_and_body(&answer);
                (status, answer)
            })
            .collect();
        if minute() != began {
            continue;
        }
        let codes: Vec<u16> = statuses.iter().map(|(s, _)| *s).collect();
        assert_eq!(codes, [400, 400, 400, 429, 429, 429], "{statuses:?}");
        let refused = &statuses[3].1;
        let retry: u64 = refused
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("retry-after:")
                    .map(|v| v.trim().to_owned())
            })
            .and_then(|v| v.parse().ok())
            .expect("a Retry-After");
        assert!((1..=60).contains(&retry), "{refused}");
        return;
    }
    panic!("two minutes turned over during two runs of six requests");
}

//! SQLite's file on a filesystem that turns read-only, or fills up: a tmpfs of the test's own.

use std::path::PathBuf;
use std::process::Command;

use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::{json, Value};

use super::{assert_names_no_internals, cannot_run, contact, database_internals, is_root, run, temp_path};
use crate::helpers::{assert_json, assert_problem, TestApp};
use crm_segments::db::schema::contacts;

/// A tmpfs of the test's own. Dropped: unmounted, with whatever was stacked on it (lazily, so
/// that files the app still holds open do not keep it), and its directory removed.
struct Tmpfs {
    dir: PathBuf,
    stacked: bool,
}

impl Tmpfs {
    fn mount(size: &str) -> Result<Tmpfs, String> {
        let dir = temp_path("crm-tmpfs");
        std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let fs = Tmpfs { dir, stacked: false };
        run(Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
            .arg(&fs.dir))?;
        Ok(fs)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Makes the filesystem read-only for every file opened on it from now on.
    ///
    /// Linux refuses `mount -o remount,ro` while any file on the filesystem is open for writing
    /// (EBUSY), and the service's SQLite connections hold theirs open. So the directory gets a
    /// bind mount of itself stacked on it, which is remounted read-only (it has no writers):
    /// whatever reaches a file by its path from now on (the service asking whether it can
    /// write, a new connection) finds a read-only filesystem, as after a forced remount (ext4's
    /// `errors=remount-ro`); the descriptors open before stay writable, which the service must
    /// not rely on.
    fn make_read_only(&mut self) {
        if !self.stacked {
            run(Command::new("mount").arg("--bind").arg(&self.dir).arg(&self.dir)).unwrap();
            self.stacked = true;
        }
        self.remount("ro");
    }

    fn make_writable(&mut self) {
        self.remount("rw");
    }

    fn remount(&self, mode: &str) {
        let options = format!("remount,bind,{mode}");
        run(Command::new("mount").args(["-o", &options]).arg(&self.dir)).unwrap();
    }

    /// Waits until the service has asked the filesystem again since the last remount.
    async fn noticed(&self) {
        tokio::time::sleep(crm_segments::db::filesystem::FILESYSTEM_CHECK_INTERVAL * 2).await;
    }

    /// Fills the free space with a file; answers its path.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.path("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        for chunk in [1 << 20, 4096, 1] {
            let bytes = vec![0x55_u8; chunk];
            while file.write_all(&bytes).is_ok() {}
        }
        // The last failed write may have left a part of a chunk written; what matters is
        // that nothing more fits.
        assert!(file.write_all(&[0; 4096]).is_err() && file.flush().is_ok());
        path
    }

    fn is_mounted(&self) -> bool {
        let target = self.dir.display().to_string();
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .any(|line| line.split(' ').nth(4) == Some(target.as_str()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        for _ in 0..4 {
            if !self.is_mounted() {
                break;
            }
            let _ = run(Command::new("umount").arg("-l").arg(&self.dir));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A tmpfs, or None (after a loud notice, or a failure under CI) when this process cannot mount.
fn tmpfs_or_skip(test: &str, size: &str) -> Option<Tmpfs> {
    if !is_root() {
        cannot_run(test, "mounting a tmpfs needs root");
        return None;
    }
    match Tmpfs::mount(size) {
        Ok(fs) => Some(fs),
        Err(why) => {
            cannot_run(test, &why);
            None
        }
    }
}

/// The app on a SQLite file on `fs`. Its delivery worker is off: nothing but the test's own
/// requests touches the filesystem, so that it is idle whenever the test remounts it.
async fn app_on(fs: &Tmpfs) -> TestApp {
    let path = fs.path("crm.db");
    TestApp::spawn_on(path.to_str().unwrap(), |s| {
        s.delivery.enabled = false;
        s.bulk_max_items = 20000;
    })
    .await
}

#[derive(QueryableByName)]
struct IntegrityCheck {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

fn assert_intact(app: &TestApp) {
    let rows: Vec<IntegrityCheck> =
        diesel::sql_query("PRAGMA integrity_check").load(&mut *app.conn()).unwrap();
    let results: Vec<&str> = rows.iter().map(|r| r.integrity_check.as_str()).collect();
    assert_eq!(results, ["ok"]);
}

fn contact_count(app: &TestApp) -> i64 {
    contacts::table.count().get_result(&mut *app.conn()).unwrap()
}

fn bulk(prefix: &str, n: usize) -> Value {
    json!({"items": (0..n).map(|i| contact(&format!("{prefix}{i:05}"))).collect::<Vec<_>>()})
}

/// Sixteen reads and eight creates (numbered from `prefix`) at once, four times the pool:
/// their statuses.
async fn at_once(app: &TestApp, prefix: &str) -> (Vec<u16>, Vec<u16>) {
    let reads = (0..16).map(|_| app.get("/v1/contacts?limit=2"));
    let writes = (0..8).map(|i| {
        let body = contact(&format!("{prefix}{i}"));
        async move { app.post("/v1/contacts", &body).await }
    });
    let (reads, writes) =
        tokio::join!(futures_util::future::join_all(reads), futures_util::future::join_all(writes));
    let statuses =
        |responses: Vec<reqwest::Response>| responses.iter().map(|r| r.status().as_u16()).collect();
    (statuses(reads), statuses(writes))
}

/// Creates contact `no` with the Idempotency-Key `create-<no>`.
async fn idempotent_create(app: &TestApp, no: &str) -> reqwest::Response {
    let request = app.request(reqwest::Method::POST, "/v1/contacts");
    request.header("Idempotency-Key", format!("create-{no}")).json(&contact(no)).send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_sqlite_filesystem_answers_reads_refuses_writes_with_503_and_recovers() {
    let test = "a_read_only_sqlite_filesystem_answers_reads_refuses_writes_with_503_and_recovers";
    let Some(mut fs) = tmpfs_or_skip(test, "32m") else { return };
    let app = app_on(&fs).await;
    let forbidden = database_internals(&[fs.dir.display().to_string()]);
    let mut ids = Vec::new();
    for no in ["R1", "R2", "R3"] {
        ids.push(
            assert_json(app.post("/v1/contacts", &contact(no)).await, 201).await["id"].as_i64().unwrap(),
        );
    }

    fs.make_read_only();
    fs.noticed().await;
    // Reads are answered.
    let page = assert_json(app.get("/v1/contacts").await, 200).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    assert_json(app.get(&format!("/v1/contacts/{}", ids[0])).await, 200).await;
    assert_json(app.get("/readyz").await, 200).await;
    // Also more at once than the pool has connections, and writes among them.
    let (reads, writes) = at_once(&app, "RC").await;
    assert!(reads.iter().all(|s| *s == 200) && writes.iter().all(|s| *s == 503), "{reads:?} {writes:?}");
    // Every kind of change answers 503 `database-read-only` with Retry-After.
    let refused = [
        app.post("/v1/contacts", &contact("R4")).await,
        app.patch(&format!("/v1/contacts/{}", ids[0]), &json!({"name": "Renamed"})).await,
        app.post("/v1/contacts/bulk", &bulk("RB", 50)).await,
        app.delete(&format!("/v1/contacts/{}", ids[1])).await,
        idempotent_create(&app, "R5").await,
    ];
    for response in refused {
        assert_eq!(response.headers()["retry-after"], "30");
        let problem = assert_problem(response, 503, "database-read-only").await;
        assert_names_no_internals(&problem, &forbidden);
    }
    assert_eq!(contact_count(&app), 3);

    // Writable again: changes work at once, without a restart.
    fs.make_writable();
    fs.noticed().await;
    assert_json(app.post("/v1/contacts", &contact("R4")).await, 201).await;
    // The refused create was not remembered under its Idempotency-Key: the same one creates.
    assert_json(idempotent_create(&app, "R5").await, 201).await;
    let renamed =
        assert_json(app.patch(&format!("/v1/contacts/{}", ids[0]), &json!({"name": "Renamed"})).await, 200)
            .await;
    assert_eq!(renamed["name"], "Renamed");
    assert_eq!(app.delete(&format!("/v1/contacts/{}", ids[1])).await.status(), 204);
    let (reads, writes) = at_once(&app, "RW").await;
    assert!(reads.iter().all(|s| *s == 200) && writes.iter().all(|s| *s == 201), "{reads:?} {writes:?}");
    assert_eq!(contact_count(&app), 4 + writes.len() as i64);
    assert_intact(&app);
}

/// A template document of about `bytes` bytes (HTML), stored as one row.
fn large_document(bytes: usize) -> Vec<u8> {
    let paragraph = "<p>Hei {{ contact_name }}, her er nytt fra oss.</p>\n";
    paragraph.repeat(bytes / paragraph.len()).into_bytes()
}

async fn upload_document(app: &TestApp, document: Vec<u8>) -> reqwest::Response {
    crate::attachments::upload_raw(app, "BIG", "language_code=en", Some("text/html"), document).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sqlite_filesystem_answers_507_writes_nothing_and_the_same_request_succeeds_with_space() {
    let test = "a_full_sqlite_filesystem_answers_507_writes_nothing_and_the_same_request_succeeds_with_space";
    let Some(fs) = tmpfs_or_skip(test, "32m") else { return };
    let app = app_on(&fs).await;
    let forbidden = database_internals(&[fs.dir.display().to_string()]);
    assert_json(app.post("/v1/contacts", &contact("F1")).await, 201).await;
    crate::attachments::create_template(&app, "BIG").await;
    // The write-ahead log emptied, so that the next write must grow it: into no space.
    diesel::connection::SimpleConnection::batch_execute(&mut *app.conn(), "PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let filler = fs.fill();

    // Many rows (a bulk sync of 3,000 contacts), one large row (a 3 MB document, more than
    // SQLite's page cache holds, so that it writes while inserting and ends the transaction
    // itself when that fails), and a small change: each 507 `database-full`, without Retry-After.
    let contacts = bulk("F", 3000);
    let document = large_document(3 << 20);
    let refused = [
        app.post("/v1/contacts/bulk", &contacts).await,
        upload_document(&app, document.clone()).await,
        app.post("/v1/contacts", &contact("F2")).await,
    ];
    for response in refused {
        assert!(response.headers().get("retry-after").is_none());
        let problem = assert_problem(response, 507, "database-full").await;
        assert_names_no_internals(&problem, &forbidden);
    }
    // Nothing half written, and reads go on.
    assert_eq!(contact_count(&app), 1);
    assert_eq!(assert_json(app.get("/v1/contacts").await, 200).await["items"].as_array().unwrap().len(), 1);
    let documents = assert_json(app.get("/v1/interaction-templates/BIG/attachments").await, 200).await;
    assert_eq!(documents["items"].as_array().unwrap().len(), 0, "{documents}");
    assert_intact(&app);

    // Space again: the same requests succeed whole.
    std::fs::remove_file(filler).unwrap();
    let synced = assert_json(app.post("/v1/contacts/bulk", &contacts).await, 200).await;
    let results = synced["results"].as_array().unwrap();
    assert!(results.len() == 3000 && results.iter().all(|r| r["status"] == "created"), "{synced}");
    assert_eq!(contact_count(&app), 3001);
    assert_json(upload_document(&app, document).await, 201).await;
    assert_intact(&app);
}

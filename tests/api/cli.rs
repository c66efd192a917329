//! The binary: config errors, `api-keys create`, `openapi`.

use std::process::Command;

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_crm-segments"))
}

#[test]
fn invalid_configuration_exits_non_zero_with_a_one_line_reason() {
    for (name, value) in
        [("BIND", "nowhere"), ("DB_POOL_SIZE", "0"), ("LOG_FORMAT", "xml"), ("DATABASE_URL", "mysql://x/y")]
    {
        let output = binary().arg("migrate").env(name, value).output().unwrap();
        assert!(!output.status.success(), "{name}={value} was accepted");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(name), "{stderr}");
    }
}

#[test]
fn an_unreachable_postgres_fails_fast_with_the_real_reason() {
    let started = std::time::Instant::now();
    let output =
        binary().arg("migrate").env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("cannot connect to postgresql"), "{stderr}");
    assert!(started.elapsed().as_secs() < 10);
}

#[test]
fn api_keys_create_prints_the_key_alone_and_the_key_is_stored_hashed() {
    let path = std::env::temp_dir().join(format!("crm_cli_{}.db", std::process::id()));
    let output = binary()
        .args(["api-keys", "create", "--name", "ops", "--scope", "admin"])
        .env("DATABASE_URL", &path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let key = String::from_utf8(output.stdout).unwrap();
    assert_eq!(key.lines().count(), 1);
    assert!(key.starts_with("crm_") && key.trim().len() > 40, "{key}");
    let listed = binary().args(["api-keys", "list"]).env("DATABASE_URL", &path).output().unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(listed.contains("ops") && !listed.contains(key.trim()), "{listed}");
    let stored = std::fs::read(&path).unwrap();
    assert!(!String::from_utf8_lossy(&stored).contains(key.trim()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[test]
fn openapi_prints_the_document_without_a_database() {
    let output =
        binary().arg("openapi").env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none").output().unwrap();
    assert!(output.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
}

#[test]
fn a_startup_failure_prints_its_whole_cause_chain() {
    let path = std::env::temp_dir().join(format!("crm_cli_garbage_{}.db", std::process::id()));
    std::fs::write(&path, vec![b'x'; 4096]).unwrap();
    let output = binary().arg("migrate").env("DATABASE_URL", &path).output().unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    // The context and the database's own reason, on one line.
    assert!(stderr.contains("cannot connect to sqlite: file is not a database"), "{stderr}");
    assert!(!stderr.contains("has been logged"), "{stderr}");
}

/// Replicas starting at the same moment on a fresh PostgreSQL database: migrations run once,
/// under an advisory lock, and every replica serves.
#[test]
#[cfg_attr(not(pg_tests), ignore = "TEST_DATABASE_URL is not set")]
fn replicas_starting_together_on_a_fresh_database_all_serve() {
    let Some(database) = crate::helpers::FreshPostgres::create() else { return };
    let ports: Vec<u16> = (0..3)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port())
        .collect();
    /// Killed when dropped, also when the test fails half-way.
    struct Replica(std::process::Child);
    impl Drop for Replica {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut replicas: Vec<Replica> = ports
        .iter()
        .map(|port| {
            binary()
                .arg("serve")
                .env("DATABASE_URL", &database.url)
                .env("BIND", format!("127.0.0.1:{port}"))
                .env("CRM_ADMIN_KEY", "replica-admin-key-0123456789")
                .env("LOG_LEVEL", "error")
                .stdout(std::process::Stdio::null())
                .spawn()
                .map(Replica)
                .unwrap()
        })
        .collect();
    let ready = |port: u16| {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok_and(|mut stream| {
            use std::io::{Read, Write};
            let request =
                format!("GET /readyz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
            let mut answer = String::new();
            stream.write_all(request.as_bytes()).is_ok()
                && stream.read_to_string(&mut answer).is_ok()
                && answer.starts_with("HTTP/1.1 200")
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut serving = vec![false; ports.len()];
    while serving.iter().any(|s| !s) && std::time::Instant::now() < deadline {
        for (i, replica) in replicas.iter_mut().enumerate() {
            if let Ok(Some(status)) = replica.0.try_wait() {
                panic!("replica {i} exited with {status} (see its stderr above)");
            }
            serving[i] = serving[i] || ready(ports[i]);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    drop(replicas);
    assert!(serving.iter().all(|s| *s), "replicas serving: {serving:?}");
}

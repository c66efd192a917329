//! The deployment files agree with the binary: docker-compose.yml sets only variables the
//! service reads, with values it accepts, and its ports, healthchecks and service names agree
//! with those values; the Dockerfile builds in stages and runs `serve` as a non-root user with a
//! healthcheck on the port it exposes. (No Docker engine runs here: the files are read.)

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use yaml_rust2::{Yaml, YamlLoader};

fn project_file(name: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).unwrap()
}

fn compose() -> Yaml {
    YamlLoader::load_from_str(&project_file("docker-compose.yml")).unwrap().remove(0)
}

/// `${NAME:-default}` as compose substitutes it with NAME unset.
fn with_defaults(value: &str) -> String {
    match value.strip_prefix("${").and_then(|v| v.strip_suffix('}')).and_then(|v| v.split_once(":-")) {
        Some((_, default)) => default.to_owned(),
        None => value.to_owned(),
    }
}

/// A service's `environment` map, defaults substituted.
fn environment(service: &Yaml) -> BTreeMap<String, String> {
    service["environment"]
        .as_hash()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let value = v.as_str().map(str::to_owned).or_else(|| v.as_i64().map(|n| n.to_string())).unwrap();
            (k.as_str().unwrap().to_owned(), with_defaults(&value))
        })
        .collect()
}

/// The port of a URL or `host:port`: the digits after the last `:` before any `/`.
fn port(text: &str) -> u16 {
    let authority = text.split("://").last().unwrap().split('/').next().unwrap();
    authority.rsplit(':').next().unwrap().parse().unwrap()
}

fn host(url: &str) -> String {
    let authority = url.split("://").nth(1).unwrap().split('/').next().unwrap();
    let host_port = authority.rsplit('@').next().unwrap();
    host_port.split(':').next().unwrap().to_owned()
}

fn list(yaml: &Yaml) -> Vec<String> {
    yaml.as_vec().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

#[test]
fn compose_sets_only_variables_the_service_reads_with_values_it_accepts() {
    let compose = compose();
    let app = &compose["services"]["app"];
    let env = environment(app);
    let read = RefCell::new(BTreeSet::new());
    let settings = crm_segments::config::Settings::from_lookup(|name| {
        read.borrow_mut().insert(name.to_owned());
        env.get(name).cloned()
    })
    .unwrap_or_else(|e| panic!("the compose file's settings are refused: {e}"));
    let read = read.into_inner();
    for name in env.keys() {
        assert!(read.contains(name), "docker-compose.yml sets {name}, which the service never reads");
    }
    assert!(settings.admin_key.is_some(), "the compose service has an admin key");
    assert!(matches!(settings.database, crm_segments::db::Backend::Postgres(_)));
    assert!(settings.smtp.is_some(), "delivery works out of the box");
}

#[test]
fn compose_ports_healthchecks_and_services_agree_with_the_settings() {
    let compose = compose();
    let services = &compose["services"];
    let (app, db, mail) = (&services["app"], &services["db"], &services["mail"]);
    let env = environment(app);

    // The app listens on all interfaces, on the container port that is published (a range, so
    // that `--scale app=2` gives each replica a host port) and that its healthcheck asks.
    let bind = &env["BIND"];
    assert!(bind.starts_with("0.0.0.0:"), "{bind}: a container must listen beyond loopback");
    let published = list(&app["ports"]);
    assert_eq!(published.len(), 1);
    let (host_ports, container_port) = published[0].rsplit_once(':').unwrap();
    assert_eq!(container_port.parse::<u16>().unwrap(), port(bind));
    assert!(host_ports.contains('-'), "a host port range, one port per replica: {host_ports}");
    let health = list(&app["healthcheck"]["test"]);
    assert!(health.iter().any(|part| part.ends_with("/healthz")), "{health:?}");
    let health_url = health.iter().find(|part| part.starts_with("http")).unwrap();
    assert_eq!(port(health_url), port(bind));

    // The database: a pinned major version, a named volume, a healthcheck the app waits for,
    // and the credentials the app's URL uses.
    let image = db["image"].as_str().unwrap();
    let tag = image.strip_prefix("postgres:").unwrap();
    assert!(tag.chars().next().unwrap().is_ascii_digit(), "pin the major version: {image}");
    let volume = list(&db["volumes"])[0].split(':').next().unwrap().to_owned();
    assert!(!compose["volumes"][volume.as_str()].is_badvalue(), "{volume} is a declared named volume");
    assert!(list(&db["healthcheck"]["test"]).join(" ").contains("pg_isready"));
    assert_eq!(app["depends_on"]["db"]["condition"].as_str(), Some("service_healthy"));
    let db_env = environment(db);
    let url = &env["DATABASE_URL"];
    assert_eq!(host(url), "db");
    let expected = format!(
        "postgres://{}:{}@db:5432/{}",
        db_env["POSTGRES_USER"], db_env["POSTGRES_PASSWORD"], db_env["POSTGRES_DB"]
    );
    assert_eq!(url, &expected);

    // Mail goes to the catcher's SMTP port; its web UI is published.
    let smtp = &env["SMTP_URL"];
    assert_eq!((host(smtp).as_str(), port(smtp)), ("mail", 1025));
    assert!(mail["image"].as_str().unwrap().starts_with("axllent/mailpit:v"), "a pinned mailpit");
    assert!(list(&mail["ports"]).iter().any(|p| p.ends_with(":8025")));
    assert!(!app["depends_on"]["mail"].is_badvalue());

    // A stop waits longer than the service's own grace period.
    let grace: u64 = env["SHUTDOWN_GRACE_SECS"].parse().unwrap();
    let stop: u64 = app["stop_grace_period"].as_str().unwrap().trim_end_matches('s').parse().unwrap();
    assert!(stop > grace, "stop_grace_period {stop}s must exceed SHUTDOWN_GRACE_SECS {grace}");
}

#[test]
fn the_dockerfile_builds_in_stages_and_runs_serve_unprivileged_with_a_healthcheck() {
    let dockerfile = project_file("Dockerfile");
    let instructions: Vec<&str> =
        dockerfile.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    let starting =
        |word: &str| -> Vec<&str> { instructions.iter().copied().filter(|l| l.starts_with(word)).collect() };
    assert!(starting("FROM ").len() >= 2, "a build stage and a runtime stage");
    assert!(starting("FROM ").last().unwrap().contains("slim"), "a small runtime image");
    let user = starting("USER ");
    let user = user.last().expect("a USER").trim_start_matches("USER ").trim();
    assert!(user != "root" && user != "0", "runs as {user}");
    assert_eq!(starting("ENTRYPOINT "), [r#"ENTRYPOINT ["crm-segments"]"#]);
    // The last CMD is the image's (the healthcheck's CMD belongs to HEALTHCHECK).
    assert_eq!(starting("CMD ").last(), Some(&r#"CMD ["serve"]"#));
    let bind = starting("ENV BIND=")[0].trim_start_matches("ENV BIND=").to_owned();
    let exposed: u16 = starting("EXPOSE ")[0].trim_start_matches("EXPOSE ").parse().unwrap();
    assert_eq!(port(&bind), exposed);
    let healthcheck =
        dockerfile[dockerfile.find("HEALTHCHECK").unwrap()..].lines().take(2).collect::<String>();
    assert!(healthcheck.contains(&format!("127.0.0.1:{exposed}/healthz")), "{healthcheck}");
    // What the build needs is in the context: .dockerignore leaves out only build output and data.
    let ignored = project_file(".dockerignore");
    for needed in ["src", "migrations", "Cargo.lock", "benches", "build.rs"] {
        assert!(!ignored.lines().any(|l| l.trim() == needed), "{needed} is ignored");
    }
}

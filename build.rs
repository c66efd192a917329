// New migration folders must rebuild the binary that embeds them.
// `pg_tests`: the PostgreSQL variants of the integration tests run (a server is named, or CI must
// fail without one); otherwise they are reported as ignored instead of passing untested.
fn main() {
    println!("cargo::rerun-if-changed=migrations");
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rustc-check-cfg=cfg(pg_tests)");
    let url_set = std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty());
    let ci = std::env::var("CI").as_deref() == Ok("true");
    if url_set || ci {
        println!("cargo::rustc-cfg=pg_tests");
    }
}

//! Settings read from the environment; every variable is listed in the README.

use std::time::Duration;

use lettre::message::Mailbox;

use crate::db::Backend;
use crate::delivery::outbox::RetryPolicy;
use crate::delivery::worker::DeliverySettings;
use crate::http::cors::is_origin;
use crate::http::rate_limit::RateLimit;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Everything the service can be configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `DATABASE_URL`: `postgres://...`, `sqlite://path`, or a path. Default `./crm-segments.db`.
    pub database: Backend,
    /// `BIND`: address to listen on. Default `127.0.0.1:8080`.
    pub bind: String,
    /// `DB_POOL_SIZE`: connections in the pool. Default 10.
    pub pool_size: u32,
    /// `DB_POOL_TIMEOUT_SECS`: how long a request waits for a pooled connection (also for one
    /// to a database that does not answer) before it answers 503. Default 10.
    pub pool_timeout: Duration,
    /// `BODY_LIMIT_BYTES`: largest accepted request body. Default 4 MiB.
    pub body_limit: usize,
    /// `ATTACHMENT_MAX_BYTES`: largest template document accepted. Default 10 MiB.
    pub attachment_max_bytes: usize,
    /// `BULK_MAX_ITEMS`: most items in one bulk request. Default 1000.
    pub bulk_max_items: usize,
    /// `IDEMPOTENCY_TTL_SECS`: how long an `Idempotency-Key` is remembered. Default 24 h.
    pub idempotency_ttl: Duration,
    /// `CRM_ADMIN_KEY`: an admin API key accepted without being stored.
    pub admin_key: Option<String>,
    /// `LOG_LEVEL` (or `RUST_LOG`): a tracing filter. Default `info`.
    pub log_level: String,
    /// `LOG_FORMAT`: `text` or `json`. Default `text`.
    pub log_format: LogFormat,
    /// `WORKERS`: HTTP worker threads. Default: one per core.
    pub workers: Option<usize>,
    /// `BLOCKING_THREADS`: threads per HTTP worker that run database work. Default 2. More
    /// threads than pooled connections only queue on the pool.
    pub blocking_threads: usize,
    /// `SMTP_URL`, `SMTP_FROM`, `SMTP_TIMEOUT_SECS`: the mail server emails are sent through.
    /// None when `SMTP_URL` is unset: email delivery is off.
    pub smtp: Option<SmtpSettings>,
    /// `DELIVERY_WORKER` (`on` or `off`, default on), `DELIVERY_BATCH` (default 50), `DELIVERY_SENDERS` (default 4), `DELIVERY_POLL_MS`
    /// (default 1000), `DELIVERY_RETRY_BASE_MS` (default 30000), `DELIVERY_MAX_ATTEMPTS`
    /// (default 5): how the delivery worker drains the outbox.
    pub delivery: DeliverySettings,
    /// `SHUTDOWN_GRACE_SECS`: on SIGTERM, how long in-flight requests and the current delivery
    /// batch may take to finish. Default 30.
    pub shutdown_grace: Duration,
    /// `CORS_ORIGINS`: browser origins (`https://app.example.com`, comma-separated, or `*`)
    /// allowed to call the API. Default none.
    pub cors_origins: Vec<String>,
    /// `RATE_LIMIT_PER_SEC` and `RATE_LIMIT_BURST` (default twice the rate): requests per API
    /// key. Off unless `RATE_LIMIT_PER_SEC` is set.
    pub rate_limit: Option<RateLimit>,
    /// `API_KEY_CACHE_SECS`: how long a key found active is trusted without asking the database.
    /// A key revoked through another replica or the command line is refused here within it.
    /// Default 5; 0 asks every time.
    pub api_key_cache_ttl: Duration,
    /// `DB_STATEMENT_TIMEOUT_SECS`: PostgreSQL cancels a statement running longer. Default 60;
    /// 0 turns it off. Migrations run without it.
    pub statement_timeout: Option<Duration>,
}

/// Where and as whom emails are sent; present only when `SMTP_URL` is set.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// `SMTP_URL`: `smtp://host:port` (plain), `smtp://host:587?tls=required` (STARTTLS) or
    /// `smtps://user:pass@host:465` (implicit TLS); a path (`smtp://host/name`) sets the EHLO name.
    pub url: SmtpUrl,
    /// `SMTP_FROM`: the sender mailbox, `Name <addr@host>` or `addr@host`. Required with `SMTP_URL`.
    pub from: Mailbox,
    /// `SMTP_TIMEOUT_SECS`: limit on each connect, command and reply. Default 30.
    pub timeout: Duration,
}

/// An SMTP server URL; it may carry a password, so `Debug` shows it without one.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl(String);

impl SmtpUrl {
    /// Checks the URL the way the transport will read it.
    pub fn parse(url: &str) -> Result<SmtpUrl, String> {
        lettre::SmtpTransport::from_url(url).map_err(|e| format!("SMTP_URL: {e}"))?;
        Ok(SmtpUrl(url.to_owned()))
    }

    /// The URL as configured, password included.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.split_once("://").and_then(|(scheme, rest)| Some((scheme, rest.split_once('@')?.1))) {
            Some((scheme, host)) => write!(f, "\"{scheme}://***@{host}\""),
            None => write!(f, "{:?}", self.0),
        }
    }
}

pub const DEFAULT_DATABASE_URL: &str = "./crm-segments.db";

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Settings, String> {
        Settings::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`; an error is one line naming the variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        let database = Backend::from_url(&database_url)?;

        let bind = get("BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        validate_bind(&bind)?;

        let log_level = get("LOG_LEVEL").or_else(|| get("RUST_LOG")).unwrap_or_else(|| "info".into());
        tracing_subscriber::EnvFilter::try_new(&log_level)
            .map_err(|e| format!("LOG_LEVEL: invalid filter {log_level:?}: {e}"))?;
        let log_format = match get("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(format!("LOG_FORMAT: expected text or json, got {other:?}")),
        };

        let admin_key = get("CRM_ADMIN_KEY");
        if let Some(key) = &admin_key {
            if key.len() < 16 {
                return Err("CRM_ADMIN_KEY: must be at least 16 characters".into());
            }
        }

        let smtp_timeout = Duration::from_secs(parse_number(&get, "SMTP_TIMEOUT_SECS", 30, 1, 3600)?);
        let smtp = match get("SMTP_URL") {
            None => None,
            Some(url) => Some(SmtpSettings {
                url: SmtpUrl::parse(url.trim())?,
                from: parse_smtp_from(get("SMTP_FROM"))?,
                timeout: smtp_timeout,
            }),
        };

        let cors_origins: Vec<String> = get("CORS_ORIGINS")
            .map(|list| list.split(',').map(|o| o.trim().trim_end_matches('/').to_owned()).collect())
            .unwrap_or_default();
        if let Some(bad) =
            cors_origins.iter().find(|o| !(is_origin(o) || (*o == "*" && cors_origins.len() == 1)))
        {
            return Err(format!(
                "CORS_ORIGINS: expected origins such as https://app.example.com (comma-separated) or *, got {bad:?}"
            ));
        }
        let rate_limit = match get("RATE_LIMIT_PER_SEC") {
            None => None,
            Some(_) => {
                let per_second = parse_number(&get, "RATE_LIMIT_PER_SEC", 1, 1, 1_000_000)?;
                let burst = parse_number(&get, "RATE_LIMIT_BURST", per_second * 2, 1, 10_000_000)?;
                Some(RateLimit { per_second: non_zero(per_second)?, burst: non_zero(burst)? })
            }
        };
        let statement_timeout = match parse_number(&get, "DB_STATEMENT_TIMEOUT_SECS", 60, 0, 86_400)? {
            0 => None,
            secs => Some(Duration::from_secs(secs)),
        };

        Ok(Settings {
            shutdown_grace: Duration::from_secs(parse_number(&get, "SHUTDOWN_GRACE_SECS", 30, 0, 3600)?),
            cors_origins,
            rate_limit,
            statement_timeout,
            api_key_cache_ttl: Duration::from_secs(parse_number(&get, "API_KEY_CACHE_SECS", 5, 0, 3600)?),
            database,
            bind,
            pool_size: parse_number(&get, "DB_POOL_SIZE", 10, 1, 1000)? as u32,
            pool_timeout: Duration::from_secs(parse_number(&get, "DB_POOL_TIMEOUT_SECS", 10, 1, 600)?),
            body_limit: parse_number(&get, "BODY_LIMIT_BYTES", 4 * 1024 * 1024, 1024, 1 << 30)? as usize,
            attachment_max_bytes: parse_number(&get, "ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, 1024, 1 << 30)?
                as usize,
            bulk_max_items: parse_number(&get, "BULK_MAX_ITEMS", 1000, 1, 100_000)? as usize,
            idempotency_ttl: Duration::from_secs(parse_number(
                &get,
                "IDEMPOTENCY_TTL_SECS",
                86_400,
                1,
                366 * 86_400,
            )?),
            admin_key,
            log_level,
            log_format,
            blocking_threads: parse_number(&get, "BLOCKING_THREADS", 2, 1, 1024)? as usize,
            workers: match get("WORKERS") {
                None => None,
                Some(_) => Some(parse_number(&get, "WORKERS", 1, 1, 1024)? as usize),
            },
            smtp,
            delivery: DeliverySettings {
                enabled: match get("DELIVERY_WORKER").as_deref() {
                    None | Some("on") => true,
                    Some("off") => false,
                    Some(other) => return Err(format!("DELIVERY_WORKER: expected on or off, got {other:?}")),
                },
                batch: parse_number(&get, "DELIVERY_BATCH", 50, 1, 1000)? as i64,
                senders: parse_number(&get, "DELIVERY_SENDERS", 4, 1, 64)? as usize,
                poll: Duration::from_millis(parse_number(&get, "DELIVERY_POLL_MS", 1000, 10, 3_600_000)?),
                retry: RetryPolicy {
                    base: Duration::from_millis(parse_number(
                        &get,
                        "DELIVERY_RETRY_BASE_MS",
                        30_000,
                        10,
                        3_600_000,
                    )?),
                    max_attempts: parse_number(&get, "DELIVERY_MAX_ATTEMPTS", 5, 1, 100)? as i64,
                },
            },
        })
    }
}

fn parse_number(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, String> {
    let Some(text) = get(name) else { return Ok(default) };
    let value: u64 =
        text.trim().parse().map_err(|_| format!("{name}: expected a whole number, got {text:?}"))?;
    if !(min..=max).contains(&value) {
        return Err(format!("{name}: must be between {min} and {max}, got {value}"));
    }
    Ok(value)
}

fn non_zero(n: u64) -> Result<std::num::NonZeroU32, String> {
    u32::try_from(n).ok().and_then(std::num::NonZeroU32::new).ok_or_else(|| format!("{n} is out of range"))
}

fn parse_smtp_from(text: Option<String>) -> Result<Mailbox, String> {
    let text = text.ok_or("SMTP_FROM: required when SMTP_URL is set, e.g. `CRM <crm@example.com>`")?;
    text.trim().parse().map_err(|e| format!("SMTP_FROM: expected `Name <addr@host>`, got {text:?}: {e}"))
}

fn validate_bind(bind: &str) -> Result<(), String> {
    if bind.parse::<std::net::SocketAddr>().is_ok() {
        return Ok(());
    }
    let valid =
        bind.rsplit_once(':').is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    if valid {
        Ok(())
    } else {
        Err(format!("BIND: expected host:port, got {bind:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, String> {
        Settings::from_lookup(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string()))
    }

    #[test]
    fn defaults_serve_sqlite_on_localhost() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database, Backend::Sqlite(DEFAULT_DATABASE_URL.into()));
        assert_eq!(s.bind, "127.0.0.1:8080");
        assert_eq!(s.pool_size, 10);
        assert_eq!(s.pool_timeout, Duration::from_secs(10));
        assert_eq!(s.bulk_max_items, 1000);
        assert_eq!(s.attachment_max_bytes, 10 * 1024 * 1024);
    }

    #[test]
    fn database_url_scheme_selects_the_backend() {
        let pg = settings(&[("DATABASE_URL", "postgres://u@h/db")]).unwrap();
        assert_eq!(pg.database, Backend::Postgres("postgres://u@h/db".into()));
        let lite = settings(&[("DATABASE_URL", "sqlite:///tmp/x.db")]).unwrap();
        assert_eq!(lite.database, Backend::Sqlite("/tmp/x.db".into()));
    }

    #[test]
    fn invalid_values_are_refused_with_the_variable_named() {
        for (name, value) in [
            ("BIND", "nonsense"),
            ("DB_POOL_SIZE", "0"),
            ("DB_POOL_SIZE", "many"),
            ("DB_POOL_TIMEOUT_SECS", "0"),
            ("ATTACHMENT_MAX_BYTES", "12"),
            ("LOG_FORMAT", "xml"),
            ("DATABASE_URL", "mysql://x"),
            ("DATABASE_URL", ":memory:"),
            ("CRM_ADMIN_KEY", "short"),
            ("BLOCKING_THREADS", "0"),
            ("API_KEY_CACHE_SECS", "3601"),
        ] {
            let err = settings(&[(name, value)]).unwrap_err();
            assert!(err.starts_with(name.split('_').next().unwrap()) || err.contains(name), "{err}");
            assert!(!err.contains('\n'));
        }
    }

    #[test]
    fn email_delivery_is_off_without_smtp_url() {
        let s = settings(&[("SMTP_FROM", "CRM <crm@example.com>")]).unwrap();
        assert!(s.smtp.is_none());
    }

    #[test]
    fn smtp_settings_are_read_with_a_30_second_default_timeout() {
        let s = settings(&[
            ("SMTP_URL", "smtp://127.0.0.1:2525"),
            ("SMTP_FROM", "Kundeservice Ærø <crm@example.com>"),
        ])
        .unwrap();
        let smtp = s.smtp.unwrap();
        assert_eq!(smtp.url.expose(), "smtp://127.0.0.1:2525");
        assert_eq!(smtp.from.name.as_deref(), Some("Kundeservice Ærø"));
        assert_eq!(smtp.from.email.to_string(), "crm@example.com");
        assert_eq!(smtp.timeout, Duration::from_secs(30));

        let tls = settings(&[
            ("SMTP_URL", "smtps://user:secret@mail.example.com:465"),
            ("SMTP_FROM", "crm@example.com"),
            ("SMTP_TIMEOUT_SECS", "5"),
        ])
        .unwrap()
        .smtp
        .unwrap();
        assert_eq!(tls.timeout, Duration::from_secs(5));
        let starttls =
            settings(&[("SMTP_URL", "smtp://mail.example.com:587?tls=required"), ("SMTP_FROM", "a@b.c")]);
        assert!(starttls.unwrap().smtp.is_some());
    }

    #[test]
    fn the_smtp_password_is_not_shown_by_debug() {
        let s = settings(&[("SMTP_URL", "smtps://user:secret@mail.example.com:465"), ("SMTP_FROM", "a@b.c")])
            .unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("smtps://***@mail.example.com:465"), "{shown}");
    }

    #[test]
    fn invalid_smtp_settings_are_refused_with_the_variable_named() {
        let url = ("SMTP_URL", "smtp://127.0.0.1:2525");
        let from = ("SMTP_FROM", "CRM <crm@example.com>");
        for (vars, name) in [
            (vec![url], "SMTP_FROM"),
            (vec![url, ("SMTP_FROM", "CRM <not an address>")], "SMTP_FROM"),
            (vec![url, ("SMTP_FROM", "crm.example.com")], "SMTP_FROM"),
            (vec![("SMTP_URL", "http://mail.example.com"), from], "SMTP_URL"),
            (vec![("SMTP_URL", "smtp://mail.example.com?tls=sometimes"), from], "SMTP_URL"),
            (vec![("SMTP_URL", "mail.example.com:25"), from], "SMTP_URL"),
            (vec![url, from, ("SMTP_TIMEOUT_SECS", "0")], "SMTP_TIMEOUT_SECS"),
            (vec![("SMTP_TIMEOUT_SECS", "soon")], "SMTP_TIMEOUT_SECS"),
        ] {
            let err = settings(&vars).unwrap_err();
            assert!(err.starts_with(&format!("{name}: ")), "{vars:?}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }
}

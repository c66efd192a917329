//! The delivery worker: one thread per server process that drains the outbox after logging
//! commits. Each batch is claimed, merged, sent and recorded; on PostgreSQL inside one
//! transaction whose row locks keep other processes' workers off the same deliveries.
//!
//! At least once, never twice in the normal course: a message is recorded as sent in the
//! transaction that claimed it, so only a crash between an SMTP server's acceptance and that
//! commit sends it again, and then with the same `Message-ID` (at most one batch of messages).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use diesel::Connection;

use super::mail::{MailAttachment, Mailer, OutgoingMail, SendError};
use super::outbox::{self, Due, Outcome, RetryPolicy};
use super::Wakeup;
use crate::db::{self, Conn, Pool};
use crate::documents::html_to_text;
use crate::domain::{DeliveryStatus, DocumentKind};
use crate::error::ApiError;
use crate::merge::repo::{entry_sources, EntriesOf, MergeSource};
use crate::merge::{Documents, Merged};
use crate::metrics::METRICS;

/// How the worker works.
#[derive(Debug, Clone, Copy)]
pub struct DeliverySettings {
    /// Whether this process drains the outbox (`DELIVERY_WORKER`); off for a replica that
    /// only serves the API.
    pub enabled: bool,
    /// Deliveries claimed, sent and recorded together (`DELIVERY_BATCH`): also the most
    /// messages a crash can have sent without recording them.
    pub batch: i64,
    /// Messages of a batch sent at once, each on its own pooled SMTP connection (`DELIVERY_SENDERS`).
    pub senders: usize,
    /// How often the outbox is looked at when nothing wakes the worker (`DELIVERY_POLL_MS`).
    pub poll: Duration,
    pub retry: RetryPolicy,
}

/// The worker of this process.
pub struct Worker {
    pool: Pool,
    mailer: Option<Mailer>,
    settings: DeliverySettings,
    wakeup: Arc<Wakeup>,
}

impl Worker {
    pub fn new(pool: Pool, mailer: Option<Mailer>, settings: DeliverySettings, wakeup: Arc<Wakeup>) -> Self {
        Worker { pool, mailer, settings, wakeup }
    }

    /// Runs the worker on a thread of its own until its wakeup is stopped or dropped.
    pub fn spawn(self) -> std::io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new().name("delivery".into()).spawn(move || self.run())
    }

    fn run(self) {
        // A shutdown stops the wakeup; otherwise the server's state and the application hold the
        // other references to it, and once they are gone so is the worker (tests start and drop
        // many servers in one process).
        while !self.wakeup.is_stopped() && Arc::strong_count(&self.wakeup) > 1 {
            match self.drain_batch() {
                // A full batch: there may be more due right away.
                Ok(n) if n as i64 == self.settings.batch => continue,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "delivery batch failed; retrying after the poll interval")
                }
            }
            self.wakeup.wait(self.settings.poll);
        }
    }

    /// Claims, delivers and records one batch; answers how many deliveries it held.
    pub fn drain_batch(&self) -> Result<usize, ApiError> {
        let mut conn = self.pool.get()?;
        match &mut *conn {
            // The claim's row locks last until the outcomes are committed.
            Conn::Postgresql(_) => conn.transaction(|conn| self.batch(conn)),
            // One process, one worker: claims cannot collide; each record is its own write.
            Conn::Sqlite(_) => self.batch(&mut conn),
        }
    }

    /// Merges the batch's documents (with the connection), sends its messages on `senders`
    /// threads at once, then records the outcomes: the sent ones in two statements.
    fn batch(&self, conn: &mut Conn) -> Result<usize, ApiError> {
        let due = outbox::claim(conn, self.settings.batch, Utc::now().naive_utc())?;
        if due.is_empty() {
            return Ok(0);
        }
        let ids: Vec<i64> = due.iter().map(|d| d.entry_id).collect();
        let sources = entry_sources(conn, EntriesOf::Ids(&ids), 0, self.settings.batch)?;
        let mut documents = Documents::default();
        let prepared: Vec<Result<Delivery, Outcome>> = due
            .iter()
            .map(|delivery| {
                let source = sources.iter().find(|s| s.id == delivery.entry_id);
                self.prepare(conn, &mut documents, delivery, source)
            })
            .collect();
        let outcomes = self.send_all(prepared);
        let mut sent = Vec::new();
        for (delivery, outcome) in due.iter().zip(outcomes) {
            if matches!(outcome, Outcome::Sent) {
                sent.push((delivery.entry_id, channel(delivery)));
                continue;
            }
            tracing::warn!(entry_no = delivery.entry_no, ?outcome, "delivery attempt failed");
            let now = Utc::now().naive_utc();
            let status = db::write_transaction(conn, |conn| {
                outbox::record(conn, delivery, &outcome, self.settings.retry, now)
            })?;
            let outcome = if status == DeliveryStatus::Pending { "retry" } else { "failed" };
            METRICS.deliveries.with_label_values(&[channel(delivery), outcome]).inc();
        }
        let now = Utc::now().naive_utc();
        let sent_ids: Vec<i64> = sent.iter().map(|(id, _)| *id).collect();
        db::write_transaction(conn, |conn| outbox::record_sent(conn, &sent_ids, now))?;
        for (_, channel) in sent {
            METRICS.deliveries.with_label_values(&[channel, "sent"]).inc();
        }
        Ok(due.len())
    }

    /// The outcome of each prepared delivery, in order; emails go out `senders` at a time.
    fn send_all(&self, prepared: Vec<Result<Delivery, Outcome>>) -> Vec<Outcome> {
        let next = AtomicUsize::new(0);
        let outcomes: Vec<Mutex<Option<Outcome>>> = prepared.iter().map(|_| Mutex::new(None)).collect();
        let send = || loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(delivery) = prepared.get(i) else { return };
            let outcome = match delivery {
                Err(outcome) => outcome.clone(),
                Ok(Delivery::Letter) => Outcome::Sent,
                Ok(Delivery::Email(mail)) => self.send_email(mail),
            };
            if let Ok(mut slot) = outcomes[i].lock() {
                *slot = Some(outcome);
            }
        };
        std::thread::scope(|scope| {
            for _ in 1..self.settings.senders.min(prepared.len()) {
                scope.spawn(send);
            }
            send();
        });
        outcomes
            .into_iter()
            .map(|slot| {
                slot.into_inner()
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| Outcome::Transient("the sender stopped before this delivery".into()))
            })
            .collect()
    }

    /// What delivering an entry takes, or why it cannot be delivered.
    fn prepare(
        &self,
        conn: &mut Conn,
        documents: &mut Documents,
        delivery: &Due,
        source: Option<&MergeSource>,
    ) -> Result<Delivery, Outcome> {
        let no_document = || Outcome::Permanent("the entry has no document to deliver".into());
        let source = source.ok_or_else(no_document)?;
        let merged = match documents.merge(conn, source) {
            Ok(merged) => merged.ok_or_else(no_document)?,
            Err(e) => return Err(Outcome::Permanent(format!("the document cannot be merged: {e}"))),
        };
        match delivery.correspondence_type.as_deref() {
            // The letter is kept: its document renders from the frozen values, ready to print.
            Some("hard_copy") => Ok(Delivery::Letter),
            Some("email") => self.email(delivery, source, merged).map(|mail| Delivery::Email(Box::new(mail))),
            other => {
                Err(Outcome::Permanent(format!("an entry of correspondence type {other:?} is not delivered")))
            }
        }
    }

    fn email(&self, delivery: &Due, source: &MergeSource, merged: Merged) -> Result<OutgoingMail, Outcome> {
        let Some(mailer) = &self.mailer else {
            return Err(Outcome::Permanent("email delivery is off: SMTP_URL is not set".into()));
        };
        let value =
            |name: &str| source.values.0.iter().find(|(n, _)| *n == name).and_then(|(_, v)| v.clone());
        let Some(to_email) = value("contact_email") else {
            return Err(Outcome::Permanent(
                "the contact had no email address when the entry was logged".into(),
            ));
        };
        let mut mail = OutgoingMail {
            to_name: value("contact_name"),
            to_email,
            subject: delivery.subject.clone().unwrap_or_else(|| delivery.description.clone()),
            message_id: message_id(delivery.entry_no, mailer.message_id_domain()),
            html: None,
            text: String::new(),
            attachment: None,
        };
        match merged.kind {
            DocumentKind::Html => {
                let html = String::from_utf8_lossy(&merged.bytes).into_owned();
                mail.text = html_to_text(&html);
                mail.html = Some(html);
            }
            DocumentKind::Text => mail.text = String::from_utf8_lossy(&merged.bytes).into_owned(),
            DocumentKind::Docx => {
                mail.text = format!("Please find the attached document {}.", merged.file_name);
                mail.attachment = Some(MailAttachment {
                    file_name: merged.file_name,
                    content_type: DocumentKind::Docx.content_type().to_owned(),
                    bytes: merged.bytes,
                });
            }
        }
        Ok(mail)
    }

    fn send_email(&self, mail: &OutgoingMail) -> Outcome {
        let Some(mailer) = &self.mailer else {
            return Outcome::Permanent("email delivery is off: SMTP_URL is not set".into());
        };
        match mailer.send(mail) {
            Ok(()) => Outcome::Sent,
            Err(SendError::Transient(e)) => Outcome::Transient(e),
            Err(SendError::Permanent(e)) => Outcome::Permanent(e),
        }
    }
}

/// A delivery ready to go.
enum Delivery {
    Email(Box<OutgoingMail>),
    Letter,
}

/// The `Message-ID` of an entry's email: the same at every attempt, so a message sent again
/// after a crash is recognisably the same message.
pub fn message_id(entry_no: i64, domain: &str) -> String {
    format!("interaction-{entry_no}@{domain}")
}

/// A delivery's channel, as metrics label it.
fn channel(delivery: &Due) -> &'static str {
    match delivery.correspondence_type.as_deref() {
        Some("hard_copy") => "letter",
        _ => "email",
    }
}

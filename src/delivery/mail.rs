//! Email over SMTP: building the MIME message for one mail and sending it through a pooled transport.

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::{self, PoolConfig};
use lettre::{Address, Message, SmtpTransport, Transport};

use crate::config::SmtpSettings;

/// One email to send: everything the message needs, already merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// The recipient's display name, if any.
    pub to_name: Option<String>,
    /// The recipient's address, `addr@host`.
    pub to_email: String,
    /// The subject line; any characters, encoded as the header needs.
    pub subject: String,
    /// The full Message-ID value without angle brackets, e.g. `entry-42.lseg-7@crm-segments.local`;
    /// stable per entry so a resend after a crash carries the same id.
    pub message_id: String,
    /// The HTML body; with it the message is `multipart/alternative` (text first, then HTML).
    pub html: Option<String>,
    /// The plain-text body, always sent.
    pub text: String,
    /// One file to attach, if any.
    pub attachment: Option<MailAttachment>,
}

/// A file sent with the mail; the message becomes `multipart/mixed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailAttachment {
    /// The name the recipient sees; any characters.
    pub file_name: String,
    /// A MIME type such as `application/pdf`.
    pub content_type: String,
    /// The file's content, sent base64-encoded.
    pub bytes: Vec<u8>,
}

/// Why a mail was not sent, by whether sending it again can help.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth retrying: connection refused, reset or timed out, TLS failure, an SMTP 4xx reply.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// Not worth retrying: an SMTP 5xx reply, or a message that cannot be built (an address,
    /// Message-ID or attachment type that cannot be parsed).
    #[error("permanent failure: {0}")]
    Permanent(String),
}

/// Sends mail through the configured SMTP server; clones share one connection pool.
///
/// lettre 0.11.23 leaves Nagle on, so each message waits ~40 ms for the server's delayed ACK
/// (about 20 messages/s per connection); throughput comes from sending on several threads.
#[derive(Clone)]
pub struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport's Debug would show the credentials.
        f.debug_struct("Mailer").field("from", &self.from).finish_non_exhaustive()
    }
}

impl Mailer {
    /// Builds the transport once; connections are opened on the first send and then reused.
    pub fn from_settings(settings: &SmtpSettings) -> Result<Mailer, String> {
        let transport = SmtpTransport::from_url(settings.url.expose())
            .map_err(|e| format!("SMTP_URL: {e}"))?
            .timeout(Some(settings.timeout))
            .pool_config(PoolConfig::new())
            .build();
        Ok(Mailer { transport, from: settings.from.clone() })
    }

    /// The domain of `SMTP_FROM`, for building Message-IDs.
    pub fn message_id_domain(&self) -> &str {
        self.from.email.domain()
    }

    /// Sends one mail, blocking until the server has accepted or refused it.
    pub fn send(&self, mail: &OutgoingMail) -> Result<(), SendError> {
        let message = self.build_message(mail)?;
        let ascii_envelope = mail.to_email.is_ascii() && AsRef::<str>::as_ref(&self.from.email).is_ascii();
        self.transport.send(&message).map(drop).map_err(|e| classify(&e, ascii_envelope))
    }

    fn build_message(&self, mail: &OutgoingMail) -> Result<Message, SendError> {
        let address: Address = mail.to_email.trim().parse().map_err(|e| {
            SendError::Permanent(format!("recipient address {:?} cannot be used: {e}", mail.to_email))
        })?;
        let name = mail.to_name.as_deref().map(one_line).filter(|name| !name.trim().is_empty());
        let to = Mailbox::new(name, address);
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(one_line(&mail.subject))
            .message_id(Some(format!("<{}>", checked_message_id(&mail.message_id)?)));

        let body = match &mail.html {
            Some(html) => Body::Multi(MultiPart::alternative_plain_html(mail.text.clone(), html.clone())),
            None => Body::Single(SinglePart::plain(mail.text.clone())),
        };
        let built = match (&mail.attachment, body) {
            (None, Body::Single(part)) => builder.singlepart(part),
            (None, Body::Multi(part)) => builder.multipart(part),
            (Some(file), body) => {
                let content_type = ContentType::parse(&file.content_type).map_err(|e| {
                    SendError::Permanent(format!("attachment content type {:?}: {e}", file.content_type))
                })?;
                let attachment =
                    Attachment::new(one_line(&file.file_name)).body(file.bytes.clone(), content_type);
                let mixed = match body {
                    Body::Single(part) => MultiPart::mixed().singlepart(part),
                    Body::Multi(part) => MultiPart::mixed().multipart(part),
                };
                builder.multipart(mixed.singlepart(attachment))
            }
        };
        built.map_err(|e| SendError::Permanent(format!("message cannot be built: {e}")))
    }
}

/// Header text on one line: each run of control characters becomes one space. lettre cannot write
/// a display name with a line break (its `Display` fails and `to_string` panics), and merged names,
/// subjects and file names may hold one.
fn one_line(text: &str) -> String {
    text.split(char::is_control).filter(|piece| !piece.is_empty()).collect::<Vec<_>>().join(" ")
}

enum Body {
    Single(SinglePart),
    Multi(MultiPart),
}

/// A Message-ID is `left@right` in printable ASCII; anything else would be rewritten or refused.
fn checked_message_id(id: &str) -> Result<&str, SendError> {
    let printable = id.bytes().all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>');
    match id.split_once('@') {
        Some((left, right)) if printable && !left.is_empty() && !right.is_empty() => Ok(id),
        _ => Err(SendError::Permanent(format!("Message-ID {id:?} is not of the form left@right"))),
    }
}

/// 5xx replies and a recipient the server cannot take are permanent; the rest (4xx, network,
/// TLS, timeouts, a server that misbehaves) may pass, so they are worth another try.
/// A client error on a non-ASCII envelope is a server without SMTPUTF8: no retry will change that.
fn classify(error: &smtp::Error, ascii_envelope: bool) -> SendError {
    let text = error.to_string();
    let unsupported_recipient = error.is_client() && !ascii_envelope;
    if error.is_permanent() || unsupported_recipient {
        SendError::Permanent(text)
    } else {
        SendError::Transient(text)
    }
}

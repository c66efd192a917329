//! Email through `Mailer` to a real SMTP server (the sink): message shape, encodings, and which
//! failures are worth retrying. No database.

use std::time::Duration;

use crm_segments::config::Settings;
use crm_segments::delivery::mail::{MailAttachment, Mailer, OutgoingMail, SendError};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::smtp::SmtpSink;

const FROM: &str = "Kundeservice Ærø <crm@example.com>";
const WAIT: Duration = Duration::from_secs(10);

fn mailer(url: &str) -> Mailer {
    let settings = Settings::from_lookup(|name| match name {
        "SMTP_URL" => Some(url.to_owned()),
        "SMTP_FROM" => Some(FROM.to_owned()),
        "SMTP_TIMEOUT_SECS" => Some("5".to_owned()),
        _ => None,
    })
    .unwrap();
    Mailer::from_settings(settings.smtp.as_ref().unwrap()).unwrap()
}

fn text_mail(message_id: &str) -> OutgoingMail {
    OutgoingMail {
        to_name: None,
        to_email: "anna@example.org".into(),
        subject: "Your order".into(),
        message_id: message_id.into(),
        html: None,
        text: "Hello Anna,\nyour order has shipped.\n".into(),
        attachment: None,
    }
}

fn pdf_attachment() -> MailAttachment {
    // Every byte value, so a transfer encoding that loses one shows in the digest.
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    MailAttachment {
        file_name: "tilbud på æbler nr. 7.pdf".into(),
        content_type: "application/pdf".into(),
        bytes,
    }
}

#[test]
fn an_html_mail_with_an_attachment_arrives_with_both_bodies_the_file_and_its_message_id() {
    let Some(sink) = SmtpSink::start() else { return };
    let attachment = pdf_attachment();
    let mail = OutgoingMail {
        to_name: Some("Søren Åkesson".into()),
        to_email: "soren@example.org".into(),
        subject: "Tilbud på æbler – 20 % rabat 🍏".into(),
        message_id: "entry-42.lseg-7@crm-segments.local".into(),
        html: Some("<p>Kære Søren,</p>\n<p>se vedhæftede <b>tilbud</b>.</p>\n".into()),
        text: "Kære Søren,\nse vedhæftede tilbud.\n".into(),
        attachment: Some(attachment.clone()),
    };

    mailer(&sink.url()).send(&mail).unwrap();

    let received = sink.wait_for(1, WAIT);
    let got = &received[0];
    assert_eq!(got["mail_from"], "crm@example.com");
    assert_eq!(got["rcpt_tos"], json!(["soren@example.org"]));
    assert_eq!(got["from"], FROM);
    assert_eq!(got["to"], "Søren Åkesson <soren@example.org>");
    assert_eq!(got["message_id"], "<entry-42.lseg-7@crm-segments.local>");
    assert_eq!(got["subject"], "Tilbud på æbler – 20 % rabat 🍏");
    assert_eq!(
        got["structure"],
        json!(["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "application/pdf"])
    );
    assert_eq!(got["text"], "Kære Søren,\nse vedhæftede tilbud.\n");
    assert_eq!(got["html"], "<p>Kære Søren,</p>\n<p>se vedhæftede <b>tilbud</b>.</p>\n");
    let files = got["attachments"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["filename"], "tilbud på æbler nr. 7.pdf");
    assert_eq!(files[0]["content_type"], "application/pdf");
    assert_eq!(files[0]["size"], 70_000);
    assert_eq!(files[0]["sha256"], hex_sha256(&attachment.bytes));
}

#[test]
fn a_text_only_mail_is_one_plain_part() {
    let Some(sink) = SmtpSink::start() else { return };
    mailer(&sink.url()).send(&text_mail("entry-1.lseg-1@crm-segments.local")).unwrap();

    let got = &sink.wait_for(1, WAIT)[0];
    assert_eq!(got["structure"], json!(["text/plain"]));
    assert_eq!(got["to"], "anna@example.org");
    assert_eq!(got["subject"], "Your order");
    // A lone part runs to the end of DATA: lettre ends it with CRLF and its terminator adds one.
    assert_eq!(got["text"].as_str().unwrap().trim_end_matches('\n'), "Hello Anna,\nyour order has shipped.");
    assert_eq!(got["html"], Value::Null);
    assert_eq!(got["attachments"], json!([]));
    assert_eq!(got["message_id"], "<entry-1.lseg-1@crm-segments.local>");
}

#[test]
fn a_text_mail_with_an_attachment_is_mixed_without_an_html_part() {
    let Some(sink) = SmtpSink::start() else { return };
    let mail = OutgoingMail { attachment: Some(pdf_attachment()), ..text_mail("entry-2.lseg-1@crm.test") };
    mailer(&sink.url()).send(&mail).unwrap();

    let got = &sink.wait_for(1, WAIT)[0];
    assert_eq!(got["structure"], json!(["multipart/mixed", "text/plain", "application/pdf"]));
    assert_eq!(got["text"], "Hello Anna,\nyour order has shipped.\n");
    assert_eq!(got["html"], Value::Null);
    assert_eq!(got["attachments"][0]["sha256"], hex_sha256(&pdf_attachment().bytes));
}

#[test]
fn line_breaks_in_the_name_subject_and_file_name_become_spaces_and_add_no_recipient() {
    let Some(sink) = SmtpSink::start() else { return };
    let mail = OutgoingMail {
        to_name: Some("Anna\r\nBcc: eve@example.net".into()),
        subject: "Hello\r\nBcc: eve@example.net".into(),
        attachment: Some(MailAttachment {
            file_name: "a\r\nBcc: eve@example.net.pdf".into(),
            ..pdf_attachment()
        }),
        ..text_mail("entry-10.lseg-1@crm.test")
    };
    mailer(&sink.url()).send(&mail).unwrap();

    let got = &sink.wait_for(1, WAIT)[0];
    assert_eq!(got["rcpt_tos"], json!(["anna@example.org"]));
    assert_eq!(got["subject"], "Hello Bcc: eve@example.net");
    assert_eq!(got["to"], "\"Anna Bcc: eve@example.net\" <anna@example.org>");
    assert_eq!(got["attachments"][0]["filename"], "a Bcc: eve@example.net.pdf");
}

#[test]
fn clones_of_one_mailer_send_from_several_threads_over_the_pool() {
    let Some(sink) = SmtpSink::start() else { return };
    let mailer = mailer(&sink.url());
    std::thread::scope(|scope| {
        for thread in 0..4 {
            let mailer = mailer.clone();
            scope.spawn(move || {
                for n in 0..25 {
                    mailer.send(&text_mail(&format!("entry-{thread}-{n}@crm.test"))).unwrap();
                }
            });
        }
    });

    let mut ids: Vec<String> =
        sink.wait_for(100, WAIT).iter().map(|m| m["message_id"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 100);
}

#[test]
fn a_451_refusal_is_transient_and_the_same_mailer_sends_once_the_server_accepts() {
    let Some(sink) = SmtpSink::start() else { return };
    let mailer = mailer(&sink.url());
    mailer.send(&text_mail("entry-3.lseg-1@crm.test")).unwrap();
    sink.refuse(451);

    let err = mailer.send(&text_mail("entry-4.lseg-1@crm.test")).unwrap_err();
    assert!(matches!(&err, SendError::Transient(text) if text.contains("451")), "{err:?}");

    sink.accept();
    mailer.send(&text_mail("entry-4.lseg-1@crm.test")).unwrap();
    let ids: Vec<Value> = sink.wait_for(2, WAIT).iter().map(|m| m["message_id"].clone()).collect();
    assert_eq!(ids, [json!("<entry-3.lseg-1@crm.test>"), json!("<entry-4.lseg-1@crm.test>")]);
}

#[test]
fn a_550_refusal_is_permanent() {
    let Some(sink) = SmtpSink::start() else { return };
    sink.refuse(550);
    let err = mailer(&sink.url()).send(&text_mail("entry-5.lseg-1@crm.test")).unwrap_err();
    assert!(matches!(&err, SendError::Permanent(text) if text.contains("550")), "{err:?}");
    assert_eq!(sink.messages().len(), 0);
}

#[test]
fn a_server_that_is_not_listening_is_transient() {
    let Some(mut sink) = SmtpSink::start() else { return };
    let mailer = mailer(&sink.url());
    sink.stop();
    let err = mailer.send(&text_mail("entry-6.lseg-1@crm.test")).unwrap_err();
    assert!(matches!(err, SendError::Transient(_)), "{err:?}");
}

#[test]
fn a_server_that_went_away_after_a_send_is_transient() {
    let Some(mut sink) = SmtpSink::start() else { return };
    let mailer = mailer(&sink.url());
    mailer.send(&text_mail("entry-7.lseg-1@crm.test")).unwrap();
    sink.stop();
    let err = mailer.send(&text_mail("entry-8.lseg-1@crm.test")).unwrap_err();
    assert!(matches!(err, SendError::Transient(_)), "{err:?}");
}

#[test]
fn a_message_that_cannot_be_built_is_permanent_before_any_connection() {
    // Nothing listens at the URL: a permanent error here proves nothing was sent.
    let mailer = mailer("smtp://127.0.0.1:9");
    for mail in [
        OutgoingMail { to_email: "not an address".into(), ..text_mail("entry-9@crm.test") },
        OutgoingMail { to_email: "".into(), ..text_mail("entry-9@crm.test") },
        text_mail("<entry-9@crm.test>"),
        text_mail("entry-9"),
        text_mail("entry 9@crm.test"),
        OutgoingMail {
            attachment: Some(MailAttachment { content_type: "pdf".into(), ..pdf_attachment() }),
            ..text_mail("entry-9@crm.test")
        },
    ] {
        let err = mailer.send(&mail).unwrap_err();
        assert!(matches!(err, SendError::Permanent(_)), "{mail:?}: {err:?}");
    }
}

#[test]
fn message_ids_are_made_in_the_domain_of_smtp_from() {
    assert_eq!(mailer("smtp://127.0.0.1:9").message_id_domain(), "example.com");
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

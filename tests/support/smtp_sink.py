#!/usr/bin/env python3
"""A real SMTP server for tests: accepts every message and appends it as one JSON line to --out.

    smtp_sink.py --port 0 --out messages.jsonl [--control control.txt] [--host 127.0.0.1]

Prints `LISTENING <port>` on stdout once it accepts connections. Each received message becomes
one line: mail_from, rcpt_tos (the envelope), from, to, message_id, subject (headers, decoded),
structure (every part's content type, depth first), text, html (or null) and
attachments [{filename, content_type, size, sha256, base64}], parsed with the `email` package.

The control file, read on every RCPT and DATA, says how to answer: `accept` (also when the file
is missing or empty), or `refuse <code>` to answer that SMTP code (e.g. `refuse 451`, `refuse 550`).
Needs aiosmtpd: `.ci/setup-python` installs it into target/ci-venv.
"""

import argparse
import asyncio
import base64
import hashlib
import json
import signal
import sys
from email import policy
from email.parser import BytesParser

from aiosmtpd.smtp import SMTP

REFUSALS = {
    "421": "421 4.3.0 Service not available (test sink told to refuse)",
    "450": "450 4.2.0 Mailbox unavailable (test sink told to refuse)",
    "451": "451 4.3.0 Local error in processing (test sink told to refuse)",
    "452": "452 4.3.1 Insufficient system storage (test sink told to refuse)",
    "550": "550 5.1.1 Mailbox unavailable (test sink told to refuse)",
    "552": "552 5.3.4 Message too big (test sink told to refuse)",
    "554": "554 5.0.0 Transaction failed (test sink told to refuse)",
}


def control_reply(path):
    """The refusal the control file asks for, or None to accept."""
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            words = f.read().split()
    except FileNotFoundError:
        return None
    if not words or words[0] == "accept":
        return None
    if words[0] == "refuse" and len(words) == 2 and words[1].isdigit() and len(words[1]) == 3:
        return REFUSALS.get(words[1], f"{words[1]} Refused (test sink told to refuse)")
    return "451 4.3.0 Test sink control file unreadable: " + " ".join(words)[:80]


def describe(envelope):
    """The JSON record of one received message.

    The MIME tree is parsed with the compat32 policy and headers are decoded through the default
    policy's header registry: the same results as parsing with policy.default, which re-parses
    Content-Type on every access and costs 2 ms a message, against 0.3 ms this way."""
    message = BytesParser(policy=policy.compat32).parsebytes(envelope.original_content)
    text = html = None
    structure, attachments = [], []
    for part in message.walk():
        content_type = part.get_content_type()
        structure.append(content_type)
        if part.is_multipart():
            continue
        data = part.get_payload(decode=True) or b""
        if part.get_content_disposition() == "attachment":
            attachments.append(
                {
                    "filename": attachment_name(part),
                    "content_type": content_type,
                    "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "base64": base64.b64encode(data).decode("ascii"),
                }
            )
        elif content_type == "text/plain" and text is None:
            text = body_text(part, data)
        elif content_type == "text/html" and html is None:
            html = body_text(part, data)
    return {
        "mail_from": envelope.mail_from,
        "rcpt_tos": list(envelope.rcpt_tos),
        "from": header(message, "From"),
        "to": header(message, "To"),
        "message_id": header(message, "Message-ID"),
        "subject": header(message, "Subject"),
        "structure": structure,
        "text": text,
        "html": html,
        "attachments": attachments,
    }


def header(message, name):
    """A header's value as policy.default reads it: unfolded, encoded words decoded."""
    raw = message.get(name)
    return None if raw is None else str(policy.default.header_fetch_parse(name, raw))


def attachment_name(part):
    raw = part.get("Content-Disposition")
    return policy.default.header_fetch_parse("Content-Disposition", raw).params.get("filename")


def body_text(part, data):
    # SMTP carries CRLF; tests compare with the text as written.
    return data.decode(part.get_content_charset() or "us-ascii", errors="replace").replace("\r\n", "\n")


class Sink:
    def __init__(self, out, control):
        self.out = out
        self.control = control

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refusal = control_reply(self.control)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        refusal = control_reply(self.control)
        if refusal:
            return refusal
        try:
            record = describe(envelope)
        except Exception as e:  # a message the parser cannot read is the test's failure to see
            record = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos), "error": repr(e)}
        # One write and flush per message: readers see it at once; no fsync, the OS keeps it.
        self.out.write(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
        self.out.flush()
        return "250 2.0.0 Message accepted"


async def serve(args):
    loop = asyncio.get_running_loop()
    out = open(args.out, "ab")
    sink = Sink(out, args.control)
    server = await loop.create_server(
        lambda: SMTP(
            sink,
            hostname="smtp-sink.test",
            enable_SMTPUTF8=True,
            data_size_limit=64 * 1024 * 1024,
            loop=loop,
        ),
        host=args.host,
        port=args.port,
        backlog=256,
    )
    stopped = loop.create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: stopped.done() or stopped.set_result(None))
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"LISTENING {port}\n")
    sys.stdout.flush()
    try:
        await stopped
    finally:
        server.close()
        out.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--out", required=True, help="file to append one JSON line per message to")
    parser.add_argument("--control", help="file saying `accept` or `refuse <code>`")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()

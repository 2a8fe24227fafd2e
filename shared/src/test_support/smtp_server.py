"""A real SMTP server for notification-service's integration tests (aiosmtpd).

Usage: smtp_server.py --port PORT --dir DIR [--flaky-failures N]

Each accepted message is written to DIR as one file (`<ns>-<uuid>.eml`): two lines
`X-Rcpt-To:` and `X-Mail-From:` with the SMTP envelope, then the message as received.
Recipients whose address contains "unknown" or "bounce" are refused with 550 (permanent);
the first N deliveries to each address containing "flaky" are refused with 451 (transient).
Runs until killed.
"""

import argparse
import os
import threading
import time
import uuid

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, directory, flaky_failures):
        self.directory = directory
        self.flaky_failures = flaky_failures
        self.flaky_refusals = {}
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        lower = address.lower()
        if "unknown" in lower or "bounce" in lower:
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if "flaky" in lower:
            with self.lock:
                refused = self.flaky_refusals.get(lower, 0)
                if refused < self.flaky_failures:
                    self.flaky_refusals[lower] = refused + 1
                    return "451 4.3.0 <%s>: Temporary failure, try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        name = "%d-%s.eml" % (time.time_ns(), uuid.uuid4().hex)
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        head = "X-Rcpt-To: %s\r\nX-Mail-From: %s\r\n" % (
            ", ".join(envelope.rcpt_tos),
            envelope.mail_from,
        )
        temporary = os.path.join(self.directory, "." + name + ".tmp")
        with open(temporary, "wb") as out:
            out.write(head.encode("utf-8") + content)
        # Appears complete or not at all, for a test polling the directory.
        os.replace(temporary, os.path.join(self.directory, name))
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--flaky-failures", type=int, default=2)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    controller = Controller(
        Handler(args.dir, args.flaky_failures), hostname="127.0.0.1", port=args.port
    )
    controller.start()
    print("ready", flush=True)
    try:
        threading.Event().wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()

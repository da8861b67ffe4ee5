"""Adversarial messages: the shapes that make a backtracking regex or a quadratic loop slow.

Each is a whole message under 1 MB that parse + classify must finish in well under a
second (tests/test_fuzz.py, bench/worst_case.py). ``SHAPES`` are the runs a pattern
repeats (long lines of one character class); ``templates`` put a run where each kind
of detector reads (a Sendmail transcript, a Postfix or Exim notice, a DSN field, a
header); ``named`` are the cases found by hand, each a size the issue reported slow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

# A run of each character class patterns repeat: punctuation the formats use as
# separators, address and host characters, spaces, and pairs of them.
SHAPES: dict[str, Callable[[int], str]] = {
    "dashes": lambda n: "-" * n,
    "at-signs": lambda n: "@" * n,
    "dots": lambda n: "." * n,
    "label-dots": lambda n: "a." * (n // 2),
    "spaces": lambda n: " " * n,
    "tabs": lambda n: "\t" * n,
    "space-dash": lambda n: " -" * (n // 2),
    "equals": lambda n: "=" * n,
    "lt": lambda n: "<" * n,
    "gt": lambda n: ">" * n,
    "lt-gt": lambda n: "<>" * (n // 2),
    "quotes": lambda n: '"' * n,
    "parens": lambda n: "(" * n,
    "close-parens": lambda n: ")" * n,
    "colons": lambda n: ":" * n,
    "colon-space": lambda n: ": " * (n // 2),
    "semicolons": lambda n: ";" * n,
    "commas": lambda n: "," * n,
    "brackets": lambda n: "[" * n,
    "slashes": lambda n: "/" * n,
    "hashes": lambda n: "#" * n,
    "stars": lambda n: "*" * n,
    "underscores": lambda n: "_" * n,
    "letters": lambda n: "a" * n,
    "digits": lambda n: "5" * n,
    "digit-dots": lambda n: "5." * (n // 2),
    "code-space": lambda n: "550 " * (n // 4),
    "a-at": lambda n: "a@" * (n // 2),
    "at-dot": lambda n: "@." * (n // 2),
    "addresses": lambda n: "<a@b.c> " * (n // 8),
    "ellipsis": lambda n: "a..." * (n // 4),
    "words": lambda n: "user unknown " * (n // 13),
    "host-said": lambda n: "host a said: " * (n // 13),
    "encoded-words": lambda n: "=?utf-8?q?a?= " * (n // 14),
    "mixed": lambda n: "a-@. <>:=" * (n // 9),
}


def _sendmail(payload: str) -> str:
    return (
        "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.org>\n"
        "To: sender@example.com\n"
        "Subject: Returned mail: see transcript for details\n\n"
        "The original message was received at Thu, 29 Apr 2010 23:34:45 +0900\n\n"
        "   ----- The following addresses had permanent fatal errors -----\n"
        f"<user@example.org>\n{payload}\n\n"
        "   ----- Transcript of session follows -----\n"
        f"{payload}\n"
        "... while talking to mx.example.org.:\n"
        f">>> RCPT To:<user@example.org> {payload}\n"
        f"<<< 550 5.1.1 <user@example.org>... User unknown {payload}\n"
        f"550 5.1.1 {payload}... User unknown\n"
    )


def _postfix(payload: str) -> str:
    return (
        "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n"
        "To: sender@example.com\n"
        "Subject: Undelivered Mail Returned to Sender\n\n"
        "This is the mail system at host mx.example.org.\n\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients.\n\n"
        f"<user@example.org>: host mx.example.net[192.0.2.1] said: 550 {payload}\n"
        f"    (in reply to RCPT TO command) {payload}\n"
        f"{payload}: {payload}\n"
    )


def _exim(payload: str) -> str:
    return (
        "From: Mail Delivery System <Mailer-Daemon@mx.example.org>\n"
        "To: sender@example.com\n"
        "X-Failed-Recipients: user@example.org\n"
        "Subject: Mail delivery failed: returning message to sender\n\n"
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you sent could not be delivered to one or more of its\n"
        "recipients. This is a permanent error. The following address(es) failed:\n\n"
        f"  user@example.org\n  {payload}\n"
        "    SMTP error from remote mail server after RCPT TO:<user@example.org>:\n"
        f"    550 {payload}\n\n"
        "------ This is a copy of the message, including all the headers. ------\n"
    )


def _qmail(payload: str) -> str:
    return (
        "From: MAILER-DAEMON@mx.example.org\n"
        "To: sender@example.com\n"
        "Subject: failure notice\n\n"
        "Hi. This is the qmail-send program at mx.example.org.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        f"<user@example.org>:\n{payload}\n"
        f"Remote host said: 550 {payload}\n\n"
        "--- Below this line is a copy of the message.\n"
    )


def _dsn(payload: str) -> str:
    return (
        "From: MAILER-DAEMON@mx.example.org\n"
        "To: sender@example.com\n"
        "Subject: Delivery Status Notification (Failure)\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\n\n'
        "--b1\nContent-Type: text/plain\n\n"
        f"Delivery to the following recipient failed permanently:\n\n{payload}\n\n"
        "--b1\nContent-Type: message/delivery-status\n\n"
        f"Reporting-MTA: dns; {payload}\n\n"
        f"Final-Recipient: rfc822; {payload}\n"
        f"Original-Recipient: rfc822; {payload}\n"
        "Action: failed\n"
        f"Status: 5.1.1 {payload}\n"
        f"Remote-MTA: dns; {payload}\n"
        f"Diagnostic-Code: smtp; 550 {payload}\n\n"
        "--b1\nContent-Type: message/rfc822\n\n"
        f"From: sender@example.com\nTo: {payload}\nSubject: {payload}\n\nhello\n"
        "--b1--\n"
    )


def _headers(payload: str) -> str:
    return (
        f"From: {payload} <MAILER-DAEMON@mx.example.org>\n"
        f"To: {payload}\n"
        f"Subject: Undeliverable: {payload}\n"
        f"X-Failed-Recipients: {payload}\n"
        f"Received: from {payload} by mx.example.org\n"
        f"Content-Type: text/plain; charset={payload}\n\n"
        "Your message could not be delivered.\n"
    )


def _autoreply(payload: str) -> str:
    return (
        "From: user@example.org\n"
        "To: sender@example.com\n"
        f"Subject: Out of Office: {payload}\n"
        "Auto-Submitted: auto-replied\n\n"
        f"I am out of the office until {payload}.\n{payload}\n"
    )


def _arf(payload: str) -> str:
    return (
        "From: abuse@example.org\n"
        "To: sender@example.com\n"
        "Subject: complaint\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="b1"\n\n'
        f"--b1\nContent-Type: text/plain\n\n{payload}\n"
        "--b1\nContent-Type: message/feedback-report\n\n"
        f"Feedback-Type: abuse\nUser-Agent: {payload}\nOriginal-Rcpt-To: {payload}\n"
        f"Source-IP: {payload}\nReported-Domain: {payload}\n\n"
        "--b1\nContent-Type: message/rfc822\n\n"
        "From: sender@example.com\nTo: user@example.org\n\nhi\n--b1--\n"
    )


TEMPLATES: dict[str, Callable[[str], str]] = {
    "sendmail": _sendmail,
    "postfix": _postfix,
    "exim": _exim,
    "qmail": _qmail,
    "dsn": _dsn,
    "headers": _headers,
    "autoreply": _autoreply,
    "arf": _arf,
}


def templates(size: int) -> Iterator[tuple[str, bytes]]:
    """Every shape of ``size`` characters in every template."""
    for tname, template in TEMPLATES.items():
        for sname, shape in SHAPES.items():
            yield f"{tname}/{sname}/{size}", template(shape(size)).encode()


def in_fixture(message: bytes, payload: str) -> Iterator[tuple[str, bytes]]:
    """A real bounce with ``payload`` as a line in the middle of its body, and after
    each of the fields detectors read."""
    text = message.decode("latin-1")
    head, sep, body = text.partition("\n\n")
    lines = body.split("\n")
    middle = len(lines) // 2
    yield (
        "body",
        (head + sep + "\n".join([*lines[:middle], payload, *lines[middle:]])).encode(
            "latin-1", "replace"
        ),
    )
    out = []
    for line in text.split("\n"):
        name = line.split(":", 1)[0].lower()
        if name in _FIELDS:
            line = f"{line} {payload}"
        out.append(line)
    yield "fields", "\n".join(out).encode("latin-1", "replace")


_FIELDS = {
    "subject",
    "from",
    "to",
    "diagnostic-code",
    "final-recipient",
    "original-recipient",
    "remote-mta",
    "reporting-mta",
    "status",
    "x-failed-recipients",
    "received",
}


# -- the cases found by hand (sizes from the report) --------------------------------


def _multipart(inner: str, depth: int) -> str:
    head = ""
    for level in range(depth):
        head += f'Content-Type: multipart/mixed; boundary="b{level}"\n\n--b{level}\n'
    return head + inner


def named() -> Iterator[tuple[str, bytes]]:
    """The adversarial set the fuzz tests assert on: each shape at the size reported."""
    yield "transcript dash line 2.4 KB", _sendmail("-" * 2400).encode()
    yield "transcript dash line 20 KB", _sendmail("-" * 20_000).encode()
    # Dashes, then a word: a section rule that does not end as one (cubic before).
    yield "transcript line of 2,400 dashes and a word", _sendmail("-" * 2400 + " x").encode()
    yield "transcript line of 50,000 dashes and a word", _sendmail("-" * 50_000 + " x").encode()
    yield "32k at-signs in a Sendmail notice", _sendmail("@" * 32_000).encode()
    yield "32k at-signs in a Postfix notice", _postfix("@" * 32_000).encode()
    yield "64 KB of at-signs in a body", _postfix("@" * 65_536).encode()
    # A line of its own: every detector that reads address lines tries it.
    yield "a line of 32,000 at-signs, Sendmail", (_sendmail("x") + "@" * 32_000 + "\n").encode()
    yield "a line of 64 KB of at-signs, Postfix", (_postfix("x") + "@" * 65_536 + "\n").encode()
    yield "64 KB of at-signs in a DSN", _dsn("@" * 65_536).encode()
    yield "Remote-MTA of 50,000 labels", _dsn("a." * 50_000).encode()
    rcpts = "".join(f"Original-Rcpt-To: user{i}@example.org\n" for i in range(20_000))
    yield (
        "20,000 Original-Rcpt-To lines",
        _arf("x").replace("Original-Rcpt-To: x\n", rcpts).encode(),
    )
    # Each record of an ARF report takes the Subject as its diagnostic.
    yield (
        "1,000 ARF recipients and a 0.5 MB Subject",
        _arf("x")
        .replace("Original-Rcpt-To: x\n", rcpts[: rcpts.index("user1000@")])
        .replace("Subject: complaint", "Subject: " + "<a@b.example> " * 36_000)
        .encode(),
    )
    finals = "".join(
        f"Final-Recipient: rfc822; u{i}@example.org\nAction: failed\nStatus: 5.1.1\n\n"
        for i in range(10_000)
    )
    yield (
        "10,000 DSN recipient groups",
        _dsn("x").replace("Final-Recipient: rfc822; x\n", finals).encode(),
    )
    words = "=?utf-8?q?a=C3=A9?= " * 40_000
    yield (
        "0.8 MB of encoded words in Subject",
        _postfix("x")
        .replace("Subject: Undelivered Mail Returned to Sender", f"Subject: {words}")
        .encode(),
    )
    yield (
        "0.8 MB of encoded words in To",
        _postfix("x").replace("To: sender@example.com", f"To: {words}").encode(),
    )
    params = "".join(f"; p{i}*={i}" for i in range(80_000))[:800_000]
    yield (
        "0.8 MB of MIME parameters",
        _dsn("x").replace('boundary="b1"', f'boundary="b1"{params}').encode(),
    )
    # A bare CR sends the message to the standard library's parser instead of ours.
    yield (
        "0.8 MB of MIME parameters, stdlib parser",
        _dsn("x\rx").replace('boundary="b1"', f'boundary="b1"{params}').encode(),
    )
    yield (
        "0.8 MB of encoded words in Subject, stdlib parser",
        _postfix("x\rx")
        .replace("Subject: Undelivered Mail Returned to Sender", f"Subject: {words}")
        .encode(),
    )
    rfc2231 = "".join(f"; name*{i}*=utf-8''a%C3%A9" for i in range(30_000))
    yield (
        "0.8 MB of RFC 2231 parameter sections",
        _dsn("x").replace('boundary="b1"', f'boundary="b1"{rfc2231}').encode(),
    )
    yield "multipart nested 500 deep", _multipart(_dsn("x"), 500).encode()
    yield "multipart nested 5,000 deep", _multipart("x\n", 5000).encode()
    many = "--b1\nContent-Type: text/plain\n\nx\n" * 4_900
    yield "4,900 MIME parts", _dsn("x").replace("--b1--\n", many + "--b1--\n").encode()
    yield "100,000 boundary-like lines", _dsn("x").replace("hello\n", "--b1x\n" * 100_000).encode()
    yield "0.9 MB body of one line", (_postfix("x") + "z" * 900_000).encode()
    yield "0.9 MB body of short lines", (_postfix("x") + "a b\n" * 225_000).encode()
    yield "0.9 MB of blank lines", (_sendmail("x") + "\n" * 900_000).encode()
    yield "0.9 MB of address lines", (_postfix("x") + "<a@b.c>: x\n" * 80_000).encode()
    yield (
        "Subject of 0.8 MB folded",
        _postfix("x")
        .replace("Subject: Undelivered Mail Returned to Sender", "Subject:" + " a\n" * 260_000)
        .encode(),
    )

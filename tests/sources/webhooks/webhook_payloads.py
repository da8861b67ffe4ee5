"""Provider payloads in each provider's documented format (values made up)."""

from __future__ import annotations

from typing import Any

SES_MAIL: dict[str, Any] = {
    "timestamp": "2026-11-20T09:13:58.000Z",
    "source": "news@news.example.org",
    "sourceArn": "arn:aws:ses:us-west-2:123456789012:identity/news.example.org",
    "sourceIp": "198.51.100.7",
    "sendingAccountId": "123456789012",
    "messageId": "0101019a2b3c4d5e-6f7a8b9c-0d1e-4f2a-9b3c-4d5e6f7a8b9c-000000",
    "destination": ["jane@example.com", "joe@example.net"],
    "headersTruncated": False,
    "headers": [
        {"name": "From", "value": "News <news@news.example.org>"},
        {"name": "To", "value": "jane@example.com, joe@example.net"},
        {"name": "Subject", "value": "November news"},
        {"name": "Message-ID", "value": "<20261120091358.42@news.example.org>"},
        {"name": "X-Bounceback-ID", "value": "bb-42"},
    ],
    "commonHeaders": {
        "from": ["News <news@news.example.org>"],
        "to": ["jane@example.com", "joe@example.net"],
        "messageId": "<20261120091358.42@news.example.org>",
        "subject": "November news",
    },
}

SES_BOUNCE: dict[str, Any] = {
    "notificationType": "Bounce",
    "bounce": {
        "feedbackId": "0101019a2b3c4d60-aaaa-bbbb-cccc-1234567890ab-000000",
        "bounceType": "Permanent",
        "bounceSubType": "General",
        "bouncedRecipients": [
            {
                "emailAddress": "jane@example.com",
                "action": "failed",
                "status": "5.1.1",
                "diagnosticCode": "smtp; 550 5.1.1 <jane@example.com>: Recipient address "
                "rejected: User unknown in virtual mailbox table",
            },
            {
                "emailAddress": "joe@example.net",
                "action": "failed",
                "status": "5.2.2",
                "diagnosticCode": "smtp; 552 5.2.2 Mailbox full",
            },
        ],
        "timestamp": "2026-11-20T09:14:02.000Z",
        "remoteMtaIp": "192.0.2.25",
        "reportingMTA": "dsn; a8-12.smtp-out.us-west-2.amazonses.com",
    },
    "mail": SES_MAIL,
}

SES_SUPPRESSED: dict[str, Any] = {
    "eventType": "Bounce",
    "bounce": {
        "feedbackId": "0101019a2b3c4d61-0000-1111-2222-333344445555-000000",
        "bounceType": "Permanent",
        "bounceSubType": "Suppressed",
        "bouncedRecipients": [
            {
                "emailAddress": "old@example.org",
                "action": "failed",
                "status": "5.1.1",
                "diagnosticCode": "Amazon SES has suppressed sending to this address because "
                "it has a recent history of bouncing as an invalid address.",
            }
        ],
        "timestamp": "2026-11-20T09:14:05.000Z",
        "reportingMTA": "dns; amazonses.com",
    },
    # Event publishing without "include original headers": the id comes from a tag.
    "mail": {
        **{k: v for k, v in SES_MAIL.items() if k != "headers"},
        "destination": ["old@example.org"],
        "tags": {"ses:configuration-set": ["news"], "bounceback_id": ["bb-7"]},
    },
}

SES_COMPLAINT: dict[str, Any] = {
    "notificationType": "Complaint",
    "complaint": {
        "feedbackId": "0101019a2b3c4d62-1111-2222-3333-444455556666-000000",
        "complaintSubType": None,
        "complainedRecipients": [{"emailAddress": "jane@example.com"}],
        "timestamp": "2026-11-20T12:00:00.000Z",
        "userAgent": "Yahoo!-Mail-Feedback/2.0",
        "complaintFeedbackType": "abuse",
        "arrivalDate": "2026-11-20T11:59:00.000Z",
    },
    "mail": SES_MAIL,
}

SES_DELIVERY: dict[str, Any] = {
    "eventType": "Delivery",
    "delivery": {
        "timestamp": "2026-11-20T09:14:01.000Z",
        "processingTimeMillis": 2870,
        "recipients": ["joe@example.net"],
        "smtpResponse": "250 2.6.0 Message received",
        "remoteMtaIp": "192.0.2.30",
        "reportingMTA": "a8-70.smtp-out.us-west-2.amazonses.com",
    },
    "mail": SES_MAIL,
}

SES_DELAY: dict[str, Any] = {
    "eventType": "DeliveryDelay",
    "deliveryDelay": {
        "timestamp": "2026-11-20T10:14:01.000Z",
        "delayType": "MailboxFull",
        "expirationTime": "2026-11-20T23:14:01.000Z",
        "delayedRecipients": [
            {
                "emailAddress": "joe@example.net",
                "status": "4.2.2",
                "diagnosticCode": "smtp; 452 4.2.2 Over quota",
            }
        ],
        "reportingMTA": "a8-70.smtp-out.us-west-2.amazonses.com",
    },
    "mail": SES_MAIL,
}

SENDGRID_EVENTS: list[dict[str, Any]] = [
    {
        "email": "jane@example.com",
        "timestamp": 1763630042,
        "smtp-id": "<20261120091358.42@news.example.org>",
        "event": "bounce",
        "category": ["newsletter"],
        "sg_event_id": "Ym91bmNlLTAtMTIzNDU2Nzg5MA",
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        "reason": "550 5.1.1 The email account that you tried to reach does not exist.",
        "status": "5.1.1",
        "type": "bounce",
        "bounce_classification": "Invalid Address",
        "bounceback_id": "bb-42",
    },
    {
        "email": "joe@example.net",
        "timestamp": 1763630043,
        "smtp-id": "<20261120091358.43@news.example.org>",
        "event": "bounce",
        "sg_event_id": "Ym91bmNlLTEtMTIzNDU2Nzg5MQ",
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.1",
        "reason": "Message rejected",
        "status": "5.0.0",
        "type": "blocked",
        "bounce_classification": "Reputation",
    },
    {
        "email": "gone@example.org",
        "timestamp": 1763630044,
        "event": "dropped",
        "sg_event_id": "ZHJvcHBlZC0yLTEyMzQ1Njc4OTI",
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.2",
        "reason": "Bounced Address",
        "status": "5.0.0",
    },
    {
        "email": "slow@example.com",
        "timestamp": 1763630045,
        "event": "deferred",
        "sg_event_id": "ZGVmZXJyZWQtMy0xMjM0NTY3ODkz",
        "response": "450 4.2.1 The user you are trying to contact is receiving mail too quickly",
        "attempt": "5",
    },
    {
        "email": "ok@example.com",
        "timestamp": 1763630046,
        "event": "delivered",
        "sg_event_id": "ZGVsaXZlcmVkLTQtMTIzNDU2Nzg5NA",
        "response": "250 OK",
    },
    {
        "email": "angry@example.com",
        "timestamp": 1763630047,
        "event": "spamreport",
        "sg_event_id": "c3BhbXJlcG9ydC01LTEyMzQ1Njc4OTU",
    },
    {
        "email": "reader@example.com",
        "timestamp": 1763630048,
        "event": "open",
        "sg_event_id": "b3Blbi02LTEyMzQ1Njc4OTY",
    },
]


def mailgun_failed(severity: str = "permanent", reason: str = "bounce") -> dict[str, Any]:
    return {
        "id": "G9Bn5sl1TC6nu79C8C0bwg" + severity[:1] + reason[:3],
        "timestamp": 1763630042.6,
        "log-level": "error",
        "event": "failed",
        "severity": severity,
        "reason": reason,
        "envelope": {
            "sender": "bounces+ab12@news.example.org",
            "transport": "smtp",
            "targets": "jane@example.com",
        },
        "recipient": "jane@example.com",
        "recipient-domain": "example.com",
        "message": {
            "headers": {
                "to": "jane@example.com",
                "message-id": "20261120091358.42@news.example.org",
                "from": "News <news@news.example.org>",
                "subject": "November news",
            },
            "size": 5120,
        },
        "delivery-status": {
            "attempt-no": 1,
            "code": 550 if severity == "permanent" else 452,
            "enhanced-code": "5.1.1" if severity == "permanent" else "4.2.2",
            "message": "5.1.1 The email account that you tried to reach does not exist."
            if severity == "permanent"
            else "4.2.2 The email account that you tried to reach is over quota.",
            "description": "",
            "mx-host": "mx.example.com",
            "session-seconds": 0.4,
        },
        "user-variables": {"bounceback_id": "bb-42"},
    }


POSTMARK_BOUNCE: dict[str, Any] = {
    "RecordType": "Bounce",
    "MessageStream": "outbound",
    "ID": 4323372036854775807,
    "Type": "HardBounce",
    "TypeCode": 1,
    "Name": "Hard bounce",
    "Tag": "newsletter",
    "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
    "Metadata": {"bounceback_id": "bb-42"},
    "ServerID": 23,
    "Description": "The server was unable to deliver your message (ex: unknown user, "
    "mailbox not found).",
    "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
    "Email": "jane@example.com",
    "From": "news@news.example.org",
    "BouncedAt": "2026-11-20T09:14:02Z",
    "DumpAvailable": True,
    "Inactive": True,
    "CanActivate": True,
    "Subject": "November news",
    "Content": "",
}

POSTMARK_COMPLAINT: dict[str, Any] = {
    **POSTMARK_BOUNCE,
    "RecordType": "SpamComplaint",
    "ID": 4323372036854775808,
    "Type": "SpamComplaint",
    "TypeCode": 512,
    "Name": "Spam complaint",
    "Details": "",
    "Email": "angry@example.com",
}

POSTMARK_DELIVERY: dict[str, Any] = {
    "RecordType": "Delivery",
    "ServerID": 23,
    "MessageStream": "outbound",
    "MessageID": "883953f4-6105-42a2-a16a-77a8eac79484",
    "Recipient": "ok@example.com",
    "Tag": "newsletter",
    "DeliveredAt": "2026-11-20T09:14:01Z",
    "Details": "smtp;250 2.0.0 OK",
    "Metadata": {},
}

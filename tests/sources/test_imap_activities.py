"""An IMAP mailbox with purpose "both": bounces applied, human replies filed, over Dovecot."""

from __future__ import annotations

from dovecot import Dovecot
from mailbox_helpers import HUMAN_REPLY, NOT_A_BOUNCE, eml

from bounceback.ledger import Ledger
from bounceback.ledger.activities import list_activities
from bounceback.sources.imap import ImapSource

FOLDER = "INBOX/Replies and bounces"  # Dovecot's delimiter here is "."
SERVER_FOLDER = "INBOX.Replies and bounces"


def poll(server: Dovecot, ledger: Ledger) -> tuple[int, int]:
    config = server.imap_config(folder=FOLDER, timeout=10, purpose="both")
    source = ImapSource(config)
    try:
        result = source.poll(ledger)
    finally:
        source.close()
    return result.summary.filed, result.summary.matched


def test_replies_are_filed_and_bounces_applied(mailbox: Dovecot, ledger: Ledger) -> None:
    ledger.add_contact("maria.lopez@example.org", "María López")
    mailbox.append(
        [
            eml("reply-human-01.eml"),  # María, a contact
            eml("reply-human-02.eml"),  # a stranger: becomes a contact
            HUMAN_REPLY,  # from kijitora@example.net, a contact of the ledger fixture
            NOT_A_BOUNCE,  # a stranger's invoice is filed too: not a bounce, not automated
            eml("written-postfix-filtered-01.eml"),  # a soft bounce for kijitora@example.net
            eml("rfc3834-01.eml"),  # kijitora@example.net is away: an Away bounce
        ],
        SERVER_FOLDER,
    )
    filed, matched = poll(mailbox, ledger)
    assert (filed, matched) == (4, 2)
    # Filed replies are done with, like applied bounces: all six moved to processed.
    assert len(mailbox.folder_uids(f"{SERVER_FOLDER}.processed")) == 6
    assert mailbox.folder_uids(SERVER_FOLDER) == []

    kijitora = list_activities(ledger.engine, "kijitora@example.net")
    assert kijitora is not None and [a["subject"] for a in kijitora] == [
        "Re: Our spring newsletter"
    ]
    view = ledger.contact_view("kijitora@example.net")
    assert view is not None and view["bounce_counts"].get("Away") == 1
    assert len(view["history"]) == 2  # the bounce and the auto-reply, not the reply
    maria = list_activities(ledger.engine, "maria.lopez@example.org")
    assert maria is not None and len(maria) == 1
    assert list_activities(ledger.engine, "j.okafor@newcomer.example") is not None

    # The same messages again (someone copied them back): nothing is added.
    mailbox.append([eml("reply-human-01.eml"), HUMAN_REPLY], SERVER_FOLDER)
    assert poll(mailbox, ledger) == (0, 0)
    assert len(list_activities(ledger.engine, "kijitora@example.net") or []) == 1

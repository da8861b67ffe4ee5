"""The shapes the HTTP API answers: one response model per JSON body, the OpenAPI
document's reference (request bodies stay next to their routes).

Every model refuses keys it does not declare (``extra="forbid"``): FastAPI would
otherwise drop them from the answer without a word, so a key the ledger starts
returning fails the API tests instead of vanishing. Fields are declared in the order
the ledger builds its rows, which is the order the JSON keeps.

Closed sets are ``Literal`` (or the ``Kind`` enum); the outcome and bulk-mail sets
mirror the ledger's own (``ledger.process.OUTCOMES``, ``contacts.bulk_mail``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bounceback.model import Kind

SuppressionSource = Literal["bounce", "complaint", "manual", "erasure"]
BulkMail = Literal["allowed", "do_not_allow"]
Outcome = Literal["matched", "unmatched", "ignored", "quarantined", "duplicate", "error", "filed"]
RuleForm = Literal["section", "pattern"]
# A pattern rule reads the diagnostic; a section rule one of the first five.
RuleSection = Literal["body", "subject", "from", "to", "rule", "diagnostic"]
RuleType = Literal["hard", "soft", "both", "ignore"]
# What one bounce changed (only what it did: counted, held, suppressed (its source),
# removed, bulk_off, disabled, reset, unverified), in the order it was stored.
Effects = dict[str, bool | str]


class ResponseModel(BaseModel):
    """A JSON body the API answers: every key declared, none dropped."""

    model_config = ConfigDict(extra="forbid")


# --- bounces -------------------------------------------------------------------------------
class BounceItem(ResponseModel):
    """One bounce event in a list (the diagnostic cut to 300 characters)."""

    id: int
    occurred_at: str
    email: str = Field(description="The recipient address at the time.")
    domain: str
    kind: Kind
    reason: str
    bounce_type: str
    hardbounce: bool
    status: str
    reply_code: str
    diagnostic: str
    rule: str = Field(description="The rule that decided the reason.")
    matched: bool = Field(description="Matched to a known address.")
    match_method: str
    verified: bool = Field(
        description="False: it proved no send of ours (signed VERP configured), so it"
        " was kept as evidence and changed nothing."
    )
    contact_id: int | None
    campaign: str | None
    source: str
    undone: bool


class BounceMessage(ResponseModel):
    """The inbound message a bounce event came from."""

    id: int
    key: str = Field(description="Its idempotency key (a digest or the source's own id).")
    ref: str = Field(description="Where it came from: a file name, a queue id, ...")
    outcome: Outcome


class BounceDetail(ResponseModel):
    """Every parsed field of one bounce event, its campaign, message and effects."""

    id: int
    address_id: int | None
    contact_id: int | None
    send_id: int | None
    campaign_id: int | None
    match_method: str
    verified: bool
    email: str = Field(description="The recipient address at the time.")
    domain: str
    source: str
    kind: Kind
    detector: str
    reason: str
    hardbounce: bool
    permanent: bool
    bounce_type: str
    rule: str = Field(description="The rule that decided the reason.")
    status: str
    reply_code: str
    action: str
    diagnostic: str
    remote_mta: str
    reporting_mta: str
    smtp_command: str
    original_message_id: str
    bounceback_id: str
    envelope_id: str
    status_found: str = Field(description="The status as the message gave it (may be empty).")
    diagnostic_type: str
    original_recipient: str
    last_attempt: str
    feedback_type: str
    reason_hint: str
    original_subject: str
    original_from: str
    original_to: str
    original_return_path: str
    occurred_at: str
    effects: Effects = Field(description="What the policy did (for undo).")
    undone_at: str | None
    matched: bool = Field(description="Matched to a known address.")
    undone: bool
    campaign: str | None
    message: BounceMessage | None = Field(description="Null for events without a message.")


# --- a bounce's explanation ------------------------------------------------------------------
class StoredVerdict(ResponseModel):
    """The verdict stored when the bounce was processed, in words too."""

    reason: str
    hardbounce: bool
    permanent: bool
    bounce_type: str
    rule: str
    rule_words: str
    reason_meaning: str
    status: str
    effects: Effects
    undone: bool


class ExplainedMessage(ResponseModel):
    id: int
    ref: str
    source: str
    received_at: str | None
    size: int
    raw_kept: bool = Field(description="False: nothing to read again (report is null).")


class StructurePart(ResponseModel):
    part: str
    found: str


class OriginalMessage(ResponseModel):
    """The returned message's headers, as far as they were found."""

    model_config = ConfigDict(populate_by_name=True)

    message_id: str
    subject: str
    from_: str = Field(alias="from")
    to: str
    bounceback_id: str


class ExplainedReport(ResponseModel):
    """What the parser read in the kept message."""

    model_config = ConfigDict(populate_by_name=True)

    kind: Kind
    detector: str
    read_as: str = Field(description="The detector, in words.")
    error: str
    subject: str
    from_: str = Field(alias="from")
    structure: list[StructurePart]
    original: OriginalMessage


class FoundRecord(ResponseModel):
    """One recipient's record as found in the message."""

    recipient: str
    original_recipient: str
    action: str
    status: str
    status_derived: bool = Field(description="The status was derived, not given.")
    reply_code: str
    smtp_command: str
    remote_mta: str
    reporting_mta: str
    diagnostic: str


class BuiltinDecision(ResponseModel):
    reason: str
    rule: str


class ExplainedRecipient(ResponseModel):
    """One recipient of the message, judged by the rules in force now."""

    this_event: bool = Field(description="The recipient this bounce event is about.")
    found: FoundRecord
    reason: str
    hardbounce: bool
    permanent: bool
    bounce_type: str
    rule: str
    reason_meaning: str
    rule_words: str
    evidence: str = Field(description="The text that decided the reason.")
    builtin: BuiltinDecision | None = Field(
        description="A user rule decided: what the built-in rules alone said."
    )
    hold_after: int | None = Field(description="Bounces of this type before a hold; null: never.")
    counts_toward_hold: bool
    never_counts: str = Field(description="Why it never counts against the address, or empty.")


class Explanation(ResponseModel):
    """What was found where in a bounce and which rule decided, beside the stored verdict."""

    id: int
    email: str
    occurred_at: str
    source: str
    stored: StoredVerdict
    message: ExplainedMessage | None = Field(description="Null: the event has no message.")
    report: ExplainedReport | None = Field(description="Null: no raw message was kept.")
    recipients: list[ExplainedRecipient]
    changed_since: bool | None = Field(
        description="Would today's rules decide otherwise? Null: nothing to read again."
    )


# --- contacts ------------------------------------------------------------------------------
class ContactItem(ResponseModel):
    address_id: int
    contact_id: int
    name: str
    kind: str = Field(description="contact | company | lead")
    email: str | None = Field(description="The current address; null once removed.")
    bounced_address: str | None
    bounced: bool
    on_hold: bool
    hold_type: str | None
    hold_since: str | None
    last_bounce_at: str | None
    bounce_counts: dict[str, int]
    bulk_mail: BulkMail
    disabled: bool


class HistoryEvent(ResponseModel):
    """One bounce of a contact's address, newest first."""

    id: int
    at: str
    email: str = Field(description="The address at the time.")
    kind: Kind
    reason: str
    bounce_type: str
    hardbounce: bool
    status: str
    diagnostic: str
    source: str
    match_method: str
    rule: str
    effects: Effects
    undone: bool


class ContactView(ResponseModel):
    """A contact's bounce information and its address's history."""

    contact_id: int
    name: str
    kind: str = Field(description="contact | company | lead")
    bulk_mail: BulkMail
    disabled: bool
    email: str | None = Field(description="The current address; null once removed.")
    bounced_address: str | None
    bounced: bool
    on_hold: bool
    hold_since: str | None
    hold_type: str | None
    suppressed: bool
    bounce_counts: dict[str, int]
    consecutive_bounces: int
    history: list[HistoryEvent]


class ContactUnheld(ResponseModel):
    email: str
    unheld: bool
    contact: ContactView | None


class AddressChanged(ResponseModel):
    email: str = Field(description="The new address.")
    previous: str
    contact: ContactView | None


class TimelineEvent(ResponseModel):
    id: int
    at: str
    address_at_the_time: str
    kind: Kind
    reason: str
    rule: str = Field(description="The rule that decided the reason.")
    bounce_type: str
    hardbounce: bool
    status: str
    diagnostic: str
    detector: str
    campaign: str | None
    effects: Effects = Field(description="What the policy did (for undo).")
    steps: list[str] = Field(description="The same, in words, or why it did nothing.")
    undone: bool


class Timeline(ResponseModel):
    contact_id: int
    email: str | None
    bounced_address: str | None
    last_reset_at: str | None = Field(description="Last unhold or new address.")
    events: list[TimelineEvent]
    next_cursor: str | None


class ActivityItem(ResponseModel):
    id: int
    contact_id: int
    message_id: int = Field(description="The inbound message row (its raw bytes are kept).")
    header_message_id: str = Field(description="The reply's Message-ID header.")
    date: str = Field(description="The reply's Date (UTC; when it was filed if it had none).")
    sender: str
    sender_name: str
    subject: str
    body: str = Field(description="The decoded text (capped at 100,000 characters).")


# --- holds ---------------------------------------------------------------------------------
class HoldItem(ResponseModel):
    address_id: int
    contact_id: int
    email: str | None = Field(description="The address (or the bounced address it had).")
    name: str
    hold_type: str | None = Field(description="The bounce type that put it on hold.")
    hold_since: str | None
    last_bounce_at: str | None
    bounce_counts: dict[str, int] = Field(description="Bounces counted per bounce type.")


class Unheld(ResponseModel):
    unheld: int = Field(description="How many addresses were taken off hold.")


# --- suppression ---------------------------------------------------------------------------
class SuppressionStatus(ResponseModel):
    email: str
    suppressed: bool
    reason: str | None = None
    source: SuppressionSource | None = None
    since: str | None = None


class SuppressionItem(ResponseModel):
    email: str
    reason: str
    source: SuppressionSource
    since: str | None


class Added(ResponseModel):
    email: str
    suppressed: bool
    added: bool = Field(description="False: it was already on the list.")


class Removed(ResponseModel):
    email: str
    suppressed: bool
    removed: bool


# --- campaigns -----------------------------------------------------------------------------
class CampaignItem(ResponseModel):
    id: int
    name: str
    status: str
    closed: bool = Field(description="A closed status: its counters stop.")
    hard_bounces: int
    soft_bounces: int
    sends: int
    bounce_rate: float | None = Field(description="Bounces per send; null: no sends known.")
    created_at: str | None


class CampaignDay(ResponseModel):
    day: str
    hard: int
    soft: int
    complaint: int
    sends: int


class CampaignDetail(ResponseModel):
    name: str
    status: str
    closed: bool = Field(description="A closed status: its counters stop.")
    sent: int
    hard_bounces: int
    soft_bounces: int
    bounce_rate: float = Field(description="Bounces per send (0 without sends).")
    by_reason: dict[str, int]
    by_type: dict[str, int]
    daily: list[CampaignDay]


# --- stats ---------------------------------------------------------------------------------
# Each row counts the five categories (hard, soft, complaint, delay, other); ``bounces``
# is hard + soft, ``total`` all five. Rates are per send, null where no sends are known.
class DayStats(ResponseModel):
    day: str
    hard: int
    soft: int
    complaint: int
    delay: int
    other: int
    bounces: int
    total: int
    sends: int
    bounce_rate: float | None
    complaint_rate: float | None


class CampaignStats(ResponseModel):
    campaign_id: int | None = Field(description="Null: events without a campaign.")
    name: str
    status: str | None
    closed: bool
    hard: int
    soft: int
    complaint: int
    delay: int
    other: int
    bounces: int
    total: int
    sends: int
    bounce_rate: float | None
    complaint_rate: float | None


class DomainStats(ResponseModel):
    domain: str
    provider: str = Field(description='The mailbox provider, or "other".')
    hard: int
    soft: int
    complaint: int
    delay: int
    other: int
    bounces: int
    total: int
    sends: int
    bounce_rate: float | None
    complaint_rate: float | None


class ReasonStats(ResponseModel):
    reason: str
    hard: int
    soft: int
    complaint: int
    delay: int
    other: int
    bounces: int
    total: int
    share: float | None = Field(description="Its share of every event in the window.")


class DailyPage(ResponseModel):
    since: str
    until: str
    items: list[DayStats]
    next_cursor: str | None = Field(description="Always null: every day is on the page.")


class CampaignStatsPage(ResponseModel):
    since: str
    until: str
    items: list[CampaignStats]
    next_cursor: str | None


class DomainStatsPage(ResponseModel):
    since: str
    until: str
    items: list[DomainStats]
    next_cursor: str | None


class ReasonStatsPage(ResponseModel):
    since: str
    until: str
    items: list[ReasonStats]
    next_cursor: str | None


class StatsWindow(ResponseModel):
    since: str
    until: str


class SeriesDay(ResponseModel):
    day: str
    hard: int
    soft: int
    complaint: int
    delay: int
    sends: int


class Totals(ResponseModel):
    hard: int
    soft: int
    complaint: int
    delay: int
    other: int
    bounces: int
    total: int
    sends: int
    bounce_rate: float | None
    complaint_rate: float | None


class Overview(ResponseModel):
    window: StatsWindow
    days: int
    series: list[SeriesDay]
    totals: Totals
    campaigns: list[CampaignStats]
    domains: list[DomainStats]
    reasons: list[ReasonStats]
    unmatched: int = Field(description="Messages no address was found for.")
    quarantined: int = Field(description="Messages kept aside for a person.")


class HealthLimits(ResponseModel):
    bounce_rate: float
    complaint_rate: float
    min_volume: int = Field(description="Sends in the window before a rate warns.")


class ProviderHealth(ResponseModel):
    provider: str
    hard: int
    soft: int
    complaint: int
    delay: int
    other: int
    domains: int = Field(description="How many recipient domains it serves here.")
    bounces: int
    total: int
    sends: int
    bounce_rate: float | None
    complaint_rate: float | None
    warnings: list[str]


class DomainHealth(DomainStats):
    warnings: list[str]


class DayHealth(DayStats):
    warnings: list[str]


class SenderDomain(ResponseModel):
    """Sender-fault bounces to one domain in the window."""

    domain: str
    count: int
    reasons: dict[str, int]
    last: str
    warning: bool = Field(description="A burst: as many as the burst setting or more.")


class SenderBursts(ResponseModel):
    window_hours: int
    burst: int
    since: str | None
    warnings: list[SenderDomain]
    domains: list[SenderDomain]


class SenderHealth(ResponseModel):
    window: StatsWindow
    limits: HealthLimits
    providers: list[ProviderHealth]
    domains: list[DomainHealth]
    domain_warnings: list[DomainHealth] = Field(description="Flagged domains, most sends first.")
    domain_warning_count: int
    days: list[DayHealth]
    sender: SenderBursts


# --- settings ------------------------------------------------------------------------------
class Settings(ResponseModel):
    closed_campaign_statuses: list[str]
    remove_address_on_hard_bounce: bool
    disable_after: int
    sender_health_burst: int
    sender_health_window_hours: int
    bounce_rate_limit: float
    complaint_rate_limit: float
    health_min_volume: int
    thresholds: dict[str, int | None] = Field(
        description="Bounces of each type before an address is held; null: never held."
    )


class ThresholdOut(ResponseModel):
    bounce_type: str
    threshold: int | None = Field(description="Null: never held.")


# --- rules ---------------------------------------------------------------------------------
class RuleOut(ResponseModel):
    id: int
    rule_id: str = Field(description="The id in a bounce's rule: user:<rule_id>.")
    position: int
    form: RuleForm
    section: RuleSection
    text: str
    type: RuleType
    bounce_type: str
    enabled: bool
    note: str
    created_at: str | None
    updated_at: str | None


class RuleList(ResponseModel):
    items: list[RuleOut]
    version: str = Field(description="Changes with every edit of the rules.")
    next_cursor: str | None = Field(default=None, description="The next page; null: the last.")


class BuiltinRuleOut(ResponseModel):
    id: str = Field(description="The id a bounce's rule names when this rule decided it.")
    stage: str = Field(description="kind, action, format, status, provider, phrase, ...")
    reason: str = Field(description="The reason it gives; empty: it varies (format:, default).")
    hard: Literal["hard", "soft", "depends"]
    matches: str = Field(description="What it looks at, in words.")
    count: int = Field(description="How many phrases, patterns, codes or conditions.")
    examples: list[str] = Field(description="The first few of them.")


class BuiltinRuleList(ResponseModel):
    items: list[BuiltinRuleOut]
    read_only: Literal[True] = Field(
        default=True, description="The pack is part of bounceback: override a rule by id."
    )
    next_cursor: str | None = Field(default=None, description="The next page; null: the last.")


class Verdict(ResponseModel):
    reason: str
    hardbounce: bool
    permanent: bool
    bounce_type: str
    rule: str


class TestedRecipient(Verdict):
    recipient: str
    status: str
    diagnostic: str
    user_rule: str | None = Field(description="The user rule that matched, if any.")
    ignored: bool = Field(
        default=False, description="An ignore rule matched: not a bounce (no verdict)."
    )
    changed: bool = Field(description="The user rules changed hard/soft or the bounce type.")
    builtin: Verdict = Field(description="What the built-in rules alone decide.")


class TestResult(ResponseModel):
    kind: Kind
    detector: str
    subject: str
    error: str
    rules: Literal["given", "in force"]
    recipients: list[TestedRecipient]


# --- sends ---------------------------------------------------------------------------------
class SendStamp(ResponseModel):
    send_id: int
    bounceback_id: str
    return_path: str | None = Field(
        None, description="The envelope sender to use (VERP); null when [verp] is off."
    )


class SendDetail(ResponseModel):
    send_id: int
    email: str
    campaign: str | None
    message_id: str | None
    bounceback_id: str | None
    return_path: str | None
    sent_at: str | None
    contact_id: int | None
    bounces: int = Field(description="How many bounce events were matched to it.")


class Erased(ResponseModel):
    id: int = Field(description="The erasure record's id.")
    erased_at: str
    operator: str = Field(description="Who erased (the API key's name), never whose.")
    counts: dict[str, int] = Field(description="Rows removed per table.")

"""Provides the tenants' mail flow: the messages a message trace lists (one per message, with every
recipient and its delivery status), from the senders, partners and servers of the samples.

Audit records name messages by ``InternetMessageId`` only; the trace gives them their sender,
subject and recipients. Every message a planted or owner record reads, sends or deletes is made
here first, so the two agree.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .ids import random_address, random_guid, stable_guid
from .tenants import EXPORT_START, Person, Tenant

# Partner companies of both tenants (reserved names) and the outside senders of their staff's mail.
PARTNERS = ("partner-logistics.example", "acme-supplies.example", "northwind-freight.test")
BANK = "bank-redacted.example"
VENDORS = ("officesupplies.example", "newsletters.example", "cloudcosts.test", "events.example",
           "travel-booking.test")
# Public mail servers of outside senders and the partners' MX hosts: documentation ranges.
_OUTSIDE_SERVERS = "198.51.100.0/24"
_PARTNER_MX = "203.0.113.0/24"
DELIVERED, FAILED = "Delivered", "Failed"


@dataclass
class Message:
    """One message as the trace shows it: one row per recipient in a cmdlet export."""

    message_id: str
    sender: str
    recipients: list[tuple[str, str]]      # (address, Delivered | Failed)
    subject: str
    size: int
    received: datetime                     # when Exchange Online received it (UTC, whole second)
    from_ip: str                           # the client or SMTP server that handed it over
    direction: str                         # Incoming (from outside) | Originating (from the tenant)
    network_id: str = ""
    trace_id: str = ""
    to_ips: dict[str, str] = field(default_factory=dict)   # recipient -> destination server


class Mailflow:
    """Collects the messages of one tenant, drawing details from its own random stream."""

    def __init__(self, t: Tenant, stream: str):
        self.t = t
        self.rng = random.Random(f"{t.seed}/{t.key}/mailflow/{stream}")
        self.messages: list[Message] = []

    def internal(self, address: str) -> bool:
        """Whether ``address`` is a mailbox of the tenant."""
        return address.lower().endswith("@" + self.t.spec.domain)

    def _ids(self, message: Message) -> Message:
        message.network_id = random_guid(self.rng)
        message.trace_id = message.network_id
        for address, _ in message.recipients:
            if not self.internal(address):
                domain = address.split("@")[1]
                message.to_ips[address] = random_address(
                    random.Random(stable_guid("mx", self.t.key, domain)), _PARTNER_MX)
        self.messages.append(message)
        return message

    def exchange_message_id(self) -> str:
        """An ``InternetMessageId`` as Exchange Online writes it for mail sent from the tenant."""
        server = self.rng.choice(self.t.spec.servers).split(" ")[0]
        return f"<{self.rng.getrandbits(120):030X}@{server}.prod.outlook.com>"

    def inbound(self, recipient: Person, sender: str, subject: str, received: datetime,
                size: int | None = None, message_id: str | None = None) -> Message:
        """Mail from ``sender`` delivered to ``recipient``'s mailbox at ``received``."""
        rng = self.rng
        received = max(received.replace(microsecond=0), EXPORT_START + timedelta(minutes=5))
        if self.internal(sender):
            return self.originating(sender, [(recipient.upn, DELIVERED)], subject, received,
                                    self.t.office_ip, size, message_id)
        domain = sender.split("@")[1]
        mid = message_id or f"<{random_guid(rng)}@mail.{domain}>"
        return self._ids(Message(mid, sender, [(recipient.upn, DELIVERED)], subject,
                                 size or rng.randrange(9_000, 180_000), received,
                                 random_address(random.Random(stable_guid("smtp", self.t.key, domain)),
                                                _OUTSIDE_SERVERS), "Incoming"))

    def originating(self, sender: str, recipients: list[tuple[str, str]], subject: str,
                    received: datetime, client_ip: str, size: int | None = None,
                    message_id: str | None = None) -> Message:
        """Mail sent from the tenant (internal or to the outside) by a client at ``client_ip``."""
        rng = self.rng
        return self._ids(Message(message_id or self.exchange_message_id(), sender, recipients,
                                 subject, size or rng.randrange(6_000, 120_000),
                                 received.replace(microsecond=0), client_ip, "Originating"))

    def received_before(self, moment: datetime, low_hours: float, high_hours: float) -> datetime:
        """A moment ``low_hours`` to ``high_hours`` before ``moment`` (whole seconds)."""
        return moment - timedelta(seconds=self.rng.randrange(int(low_hours * 3600),
                                                             int(high_hours * 3600) + 1))


def outside(t: Tenant, address: str) -> bool:
    """Whether ``address`` is outside tenant ``t``'s domains."""
    return not address.lower().endswith("@" + t.spec.domain)

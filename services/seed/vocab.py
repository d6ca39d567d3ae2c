"""Word lists and small helpers shared by the demo and bulk seeders (pure, no I/O)."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from domain.enums import AgentName, Role

T = TypeVar("T")


def words(text: str, sep: str | None = None) -> tuple[str, ...]:
    """A word list written as one string (keeps long vocabularies readable)."""
    return tuple(w.strip() for w in text.split(sep))


FIRST_NAMES = words(
    "Amelia Noah Lena Mateo Priya Jonas Chloe Tobias Aisha Lucas Hannah Diego Mei Oskar "
    "Fatou Elias Sara Kenji Nora Rafael Ingrid Omar Julia Arjun Clara Mikael Zoe Tariq "
    "Emma Leon Isabel Henrik Yara Felix Marta Ethan Lucia Samuel Anika Pavel"
)
LAST_NAMES = words(
    "Schneider Okafor Bianchi Nakamura Fischer Haddad Kowalski Moreau Jansen Lindberg "
    "Alvarez Novak Andersen Costa Weber Rahman Dubois Kaur Horvath Sato Murphy Bergstrom "
    "Rossi Nguyen Keller Petrov Silva O'Brien Varga Yilmaz Brandt Eriksen Ferreira Lambert "
    "Kim"
)
# (company, email domain, industry)
COMPANIES = (
    ("Nordwind Logistics", "nordwind.example", "logistics"),
    ("Helix Pharma", "helixpharma.example", "pharma"),
    ("Brightline Foods", "brightline.example", "food & beverage"),
    ("Kestrel Aerospace", "kestrel-aero.example", "aerospace"),
    ("Ironbridge Metals", "ironbridge.example", "manufacturing"),
    ("Lumen Retail Group", "lumenretail.example", "retail"),
    ("Cobalt Energy", "cobalt-energy.example", "energy"),
    ("Vantage Medical", "vantagemed.example", "healthcare"),
    ("Orchard & Vine", "orchardvine.example", "food & beverage"),
    ("Silverline Automotive", "silverline-auto.example", "automotive"),
    ("Polaris Packaging", "polarispack.example", "manufacturing"),
    ("Tidewater Shipping", "tidewater.example", "logistics"),
    ("Summit Outdoor", "summitoutdoor.example", "retail"),
    ("Quantum Circuits", "qcircuits.example", "electronics"),
    ("Greenfield Agritech", "greenfield-agri.example", "agriculture"),
    ("Meridian Hotels", "meridianhotels.example", "hospitality"),
    ("Atlas Construction", "atlas-build.example", "construction"),
    ("Bluepeak Software", "bluepeak.example", "software"),
    ("Copperleaf Textiles", "copperleaf.example", "textiles"),
    ("Harborview Foods", "harborview.example", "food & beverage"),
    ("Northstar Furniture", "northstar-furn.example", "manufacturing"),
    ("Redwood Paper", "redwoodpaper.example", "paper & pulp"),
    ("Stellar Batteries", "stellarbatt.example", "electronics"),
    ("Falcon Freight", "falconfreight.example", "logistics"),
    ("Evergreen Pharmacies", "evergreen-rx.example", "retail"),
    ("Granite Tools", "granitetools.example", "manufacturing"),
    ("Aurora Cosmetics", "auroracos.example", "consumer goods"),
    ("Pinnacle Beverages", "pinnaclebev.example", "food & beverage"),
    ("Westwind Wind Power", "westwind.example", "energy"),
    ("Crescent Labs", "crescentlabs.example", "biotech"),
)
TITLES = words(
    "Head of Operations|VP Supply Chain|Plant Manager|Director of Engineering|"
    "Procurement Lead|COO|Warehouse Manager|Head of Automation|CTO|Logistics Manager|"
    "Operations Analyst|Chief Procurement Officer",
    "|",
)
SLA_HOURS = {
    "outreach_email": 24,
    "deal_proposal": 8,
    "counter_offer": 4,
    "contract": 24,
    "dunning_notice": 12,
    "rca_hypothesis": 2,
}
AGENT_OF_KIND = {
    "outreach_email": AgentName.SDR,
    "deal_proposal": AgentName.SALES,
    "counter_offer": AgentName.NEGOTIATION,
    "contract": AgentName.SALES,
    "dunning_notice": AgentName.FINANCE,
    "rca_hypothesis": AgentName.INVESTIGATOR,
}
PROMPT_KEYS: Mapping[AgentName, tuple[str, ...]] = {
    AgentName.SDR: ("sdr.outreach", "sdr.qualify"),
    AgentName.SALES: ("sales.proposal", "sales.contract_summary"),
    AgentName.NEGOTIATION: ("negotiation.counter",),
    AgentName.FINANCE: ("finance.dunning",),
    AgentName.INVESTIGATOR: ("investigator.rca",),
}
MODELS = ("llama3.2", "qwen2.5:7b")
SERVICES = ("checkout", "payments-api", "search", "auth", "inventory", "notifications")
REASON_COMMENTS = {
    "wrong_facts": "The draft quotes last year's pricing; the customer is on the 2026 list.",
    "tone": "Too pushy for a first contact; soften the ask.",
    "policy": "Discount above 15% needs a signed exception from the CFO.",
    "duplicate": "We already sent this customer the same notice yesterday.",
    "not_needed": "Customer paid by bank transfer this morning.",
    "other": "Customer asked us to pause all outreach until the new year.",
}


@dataclass(frozen=True)
class TenantSpec:
    slug: str
    name: str
    domain: str
    staff: Mapping[Role, str]
    products: tuple[str, ...]
    currency_weights: tuple[float, float]  # EUR, USD


DEMO_TENANTS = (
    TenantSpec(
        slug="acme",
        name="Acme Robotics",
        domain="acme.test",
        staff={
            Role.ADMIN: "Alicia Moreno",
            Role.REVIEWER: "Ravi Iyer",
            Role.SDR: "Sofia Lindqvist",
            Role.SALES: "Marcus Bell",
            Role.FINANCE: "Fatima Okafor",
            Role.VIEWER: "Victor Chen",
        },
        products=words(
            "pick-and-place cell|vision inspection kit|AMR fleet (12 units)|palletizing robot|"
            "fleet controller licence|24/7 service plan",
            "|",
        ),
        currency_weights=(0.7, 0.3),
    ),
    TenantSpec(
        slug="globex",
        name="Globex Logistics",
        domain="globex.test",
        staff={
            Role.ADMIN: "Grace Whitfield",
            Role.REVIEWER: "Rosa Delgado",
            Role.SDR: "Samir Haddad",
            Role.SALES: "Elena Petrova",
            Role.FINANCE: "Frank Osei",
            Role.VIEWER: "Wendy Park",
        },
        products=words(
            "route optimisation suite|cold-chain tracking|warehouse WMS licence|"
            "fleet telematics (50 trucks)|customs brokerage add-on|last-mile API plan",
            "|",
        ),
        currency_weights=(0.45, 0.55),
    ),
)


def sha256_hex(*parts: object) -> str:
    """A stable sha256 hex digest of the parts (dicts are hashed as canonical JSON)."""
    h = hashlib.sha256()
    for part in parts:
        text = json.dumps(part, sort_keys=True) if isinstance(part, dict | list) else str(part)
        h.update(text.encode())
        h.update(b"\x1f")
    return h.hexdigest()


def hex_id(rng: random.Random, length: int) -> str:
    """A random lowercase hex string of the given length."""
    return f"{rng.getrandbits(length * 4):0{length}x}"


def between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A random moment in [start, end)."""
    return start + timedelta(seconds=rng.random() * (end - start).total_seconds())


def weighted(rng: random.Random, weights: Mapping[T, float]) -> T:
    """One key, drawn with the given weights."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def spread(rng: random.Random, counts: Mapping[T, int]) -> list[T]:
    """Each key repeated its count times, shuffled: every key with a count appears."""
    out = [key for key, n in counts.items() for _ in range(n)]
    rng.shuffle(out)
    return out


def pick(rng: random.Random, items: Sequence[T]) -> T:
    """One item, uniformly."""
    return items[rng.randrange(len(items))]

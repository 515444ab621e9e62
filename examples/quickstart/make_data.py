"""Writes the quickstart's support-ticket intent data (train.jsonl, eval.jsonl) beside this file.

The texts are ours: short customer messages composed from hand-written openings, requests and
details, so the data is small, varied, free to ship and deterministic (seeded). Run it again to
regenerate the committed files byte for byte:  python examples/quickstart/make_data.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

INTENTS: dict[str, list[str]] = {
    "billing": [
        "I was charged twice for my {plan} subscription this month",
        "why is my invoice higher than last {period}",
        "the {plan} plan price on my bill does not match the website",
        "please update the credit card used for my {plan} payments",
        "my payment failed but the money left my account",
        "can I get a copy of the invoice for last {period}",
        "you billed me after I downgraded to the free plan",
        "how do I change the billing address on my account",
        "there is a charge I do not recognise on my statement",
        "switch my {plan} plan from monthly to yearly billing",
        "the VAT on my invoice is wrong",
        "my company needs invoices sent to our accounts team",
    ],
    "account_access": [
        "I can't log in to my account since {when}",
        "the password reset email never arrives",
        "my two-factor code is always rejected",
        "my account got locked after too many attempts",
        "I lost my phone and cannot get the login code",
        "how do I change the email address I sign in with",
        "the login page keeps sending me back to the start",
        "I forgot my username, can you help me get in",
        "someone else may have accessed my account {when}",
        "single sign-on with our company account stopped working",
        "it says my session expired every few minutes",
        "please unlock my account, I need it for work {when}",
    ],
    "shipping": [
        "where is my order, it was supposed to arrive {when}",
        "the tracking number for my parcel does not work",
        "my package shows delivered but I never got it",
        "can you ship my order to a different address",
        "how long does delivery to {country} usually take",
        "the courier left my parcel at the wrong house",
        "my order has been stuck in customs for a week",
        "do you offer express delivery to {country}",
        "only half of my order arrived {when}",
        "the box arrived damaged and soaked",
        "can I pick the order up instead of delivery",
        "why has my order not shipped yet",
    ],
    "refund": [
        "I want my money back for the {item}",
        "please refund the order I cancelled {when}",
        "how long does a refund take to reach my card",
        "I returned the {item} but have not been refunded",
        "can I return the {item} if I opened it",
        "the {item} is not what I ordered, I want a refund",
        "my refund was only partial, where is the rest",
        "I would like to cancel and get a full refund",
        "the {item} broke after two days, refund please",
        "what is your return policy for the {item}",
        "you promised a refund {when} and nothing happened",
        "send me a return label for the {item}",
    ],
    "technical_issue": [
        "the app crashes every time I open {feature}",
        "{feature} shows an error code 500",
        "the website is extremely slow {when}",
        "I cannot upload files, it just spins forever",
        "notifications stopped working on my phone",
        "the export to CSV produces an empty file",
        "{feature} is blank after the latest update",
        "the sync between my laptop and phone is broken",
        "I get a timeout whenever I save {feature}",
        "the dark mode makes the text unreadable",
        "search returns no results even for exact names",
        "the integration with our calendar fails with an error",
    ],
}

SLOTS: dict[str, list[str]] = {
    "plan": ["Pro", "Team", "Basic", "Enterprise", "Premium"],
    "period": ["month", "quarter", "year", "week"],
    "when": ["yesterday", "this morning", "last week", "two days ago", "since Monday", "today"],
    "country": ["Canada", "Germany", "Japan", "Brazil", "Australia", "Kenya"],
    "item": ["headphones", "jacket", "blender", "keyboard", "phone case", "lamp"],
    "feature": ["the dashboard", "the reports page", "settings", "the editor", "my profile", "the inbox"],
}
OPENINGS = ["", "", "hi, ", "hello, ", "hey team, ", "urgent: ", "good morning, ", "sorry to bother you, "]
CLOSINGS = ["", "", "", " thanks", " please help", " asap", " thank you", "!", " any update?"]


def compose(template: str, rng: random.Random) -> str:
    text = template
    for slot, values in SLOTS.items():
        text = text.replace("{" + slot + "}", rng.choice(values))
    text = rng.choice(OPENINGS) + text + rng.choice(CLOSINGS)
    return text[0].upper() + text[1:]


def make(per_intent: int, seed: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    for intent, templates in INTENTS.items():
        seen: set[str] = set()
        while len(seen) < per_intent:
            seen.add(compose(rng.choice(templates), rng))
        rows += [{"text": text, "label": intent} for text in sorted(seen)]
    rng.shuffle(rows)
    return rows


def main() -> None:
    here = Path(__file__).parent
    rows = make(per_intent=100, seed=7)
    # Hold out by row, stratified: every fifth row of each intent goes to eval.
    train, evaluation = [], []
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["label"]] = counts.get(row["label"], 0) + 1
        (evaluation if counts[row["label"]] % 5 == 0 else train).append(row)
    for name, split in (("train.jsonl", train), ("eval.jsonl", evaluation)):
        with (here / name).open("w") as handle:
            for row in split:
                handle.write(json.dumps(row) + "\n")
    print(f"wrote {len(train)} train and {len(evaluation)} eval rows to {here}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes data/sample/ner: a small tagging task in CoNLL columns, written for
this project (made-up sentences from templates and name lists, seeded), with
its task.json. Rerunning it rewrites the same files.

usage: scripts/make_sample_tagging.py [OUT]   (default data/sample/ner)
"""
import json
import random
import sys
from pathlib import Path

PEOPLE = ["Ada Lovelace", "Marie Curie", "Alan Turing", "Grace Hopper", "Nikola Tesla", "Rosalind Franklin",
          "Carl Gauss", "Emmy Noether", "Niels Bohr", "Lise Meitner", "Claude Shannon", "Barbara Liskov",
          "Edsger Dijkstra", "Katherine Johnson", "John McCarthy", "Hedy Lamarr", "Tim Berners-Lee", "Ken Thompson"]
PLACES = ["Paris", "Berlin", "Lisbon", "Nairobi", "Kyoto", "Toronto", "Lima", "Oslo", "Cairo", "Melbourne",
          "New York", "Buenos Aires", "San Francisco", "Cape Town", "Hong Kong", "Rio de Janeiro", "Vienna", "Dublin"]
ORGS = ["the United Nations", "Red Cross", "Bell Labs", "Acme Corporation", "World Bank", "Nordic Rail",
        "Green Valley Bank", "Blue River Press", "City Council", "Harbor Shipping Company", "Open Source Initiative",
        "Global Health Fund"]
MISC = ["French", "German", "Olympic", "Nobel Prize", "English", "Japanese", "Renaissance", "World Cup", "Brazilian",
        "Irish"]

TEMPLATES = [
    "{PER} moved to {LOC} in 1990 .",
    "{PER} gave a talk at {ORG} in {LOC} .",
    "The {MISC} delegation met {PER} on Monday .",
    "{ORG} opened a new office in {LOC} last year .",
    "According to {PER} , {ORG} will expand into {LOC} .",
    "{PER} and {PER} won the {MISC} last week .",
    "Officials from {ORG} visited {LOC} and {LOC} .",
    "The weather in {LOC} was cold on Tuesday .",
    "{PER} joined {ORG} after studying {MISC} literature .",
    "Nobody expected the results to change so quickly .",
    "A spokesman for {ORG} declined to comment .",
    "{PER} flew from {LOC} to {LOC} for the {MISC} games .",
    "Prices rose sharply in the second quarter .",
    "{ORG} and {ORG} signed an agreement in {LOC} .",
    "The {MISC} film was shown in {LOC} .",
]

SLOT = {"PER": PEOPLE, "LOC": PLACES, "ORG": ORGS, "MISC": MISC}


def sentence(rng):
    rows = []
    for word in rng.choice(TEMPLATES).split():
        if word.startswith("{") and word.endswith("}"):
            kind = word[1:-1]
            name = rng.choice(SLOT[kind]).split()
            if name[0] == "the":  # "the United Nations": the article is not part of the name
                rows.append(("the", "O"))
                name = name[1:]
            rows.extend((w, ("B-" if i == 0 else "I-") + kind) for i, w in enumerate(name))
        else:
            rows.append((word, "O"))
    return rows


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(13)
    for split, n in (("train", 120), ("validation", 30), ("test", 30)):
        with open(out / f"{split}.txt", "w") as f:
            f.write("-DOCSTART- O\n\n")
            for _ in range(n):
                for word, tag in sentence(rng):
                    f.write(f"{word} {tag}\n")
                f.write("\n")
    task = {"format": "conll",
            "questions": {"PER": "Which words are people?", "LOC": "Which words are locations?",
                          "ORG": "Which words are organizations?", "MISC": "Which words are other names?"},
            "separator": "; "}
    (out / "task.json").write_text(json.dumps(task, indent=2) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "data/sample/ner")

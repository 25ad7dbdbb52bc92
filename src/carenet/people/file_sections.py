"""Sections of the elder file (alarms, cases, services, visits) contributed by the apps above people.

people may not import those apps (docs/architecture.md, layers), so each app registers a provider in its
AppConfig.ready():

    from carenet.people import file_sections
    file_sections.register(my_app.elder_file.alarms)     # provider(user, elder) -> Section | None

A provider answers None when the user's role may not see that kind of record; otherwise a Section with the
latest rows (already scoped to the user's area) and the total count. The elder page shows the sections in
`order`, each with an empty message when there is nothing yet, so "no alarms" is visible, not silent.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("carenet.people")

ROWS = 5   # rows shown per section; the total says how many there are


@dataclass
class Row:
    cells: list[str]
    url: str = ""
    danger: bool = False            # shown in red (an open alarm, an overdue re-check)


@dataclass
class Section:
    key: str                        # stable id for tests and anchors, e.g. "alarms"
    title: str                      # translated heading
    headers: list[str]              # translated column headings
    rows: list[Row] = field(default_factory=list)
    total: int = 0
    empty: str = ""                 # translated "nothing yet" text
    more_url: str = ""              # the full list, when there is one for this person
    order: int = 50
    profile_note: str = ""          # translated line for the profile card, e.g. "在办救助：临时救助"


Provider = Callable[[object, object], "Section | None"]
_providers: list[Provider] = []


def register(provider: Provider) -> Provider:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def sections_for(user, elder) -> list[Section]:
    out: list[Section] = []
    for provider in _providers:
        try:
            section = provider(user, elder)
        except Exception:  # one app's failure must not take the elder file down
            log.exception("elder-file provider %s failed", getattr(provider, "__qualname__", provider))
            continue
        if section is not None:
            out.append(section)
    return sorted(out, key=lambda s: (s.order, s.key))

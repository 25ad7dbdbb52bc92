"""Each role's to-do list on its home page, gathered from the apps without core importing them.

An app registers a provider in its AppConfig.ready():

    from carenet.core import todo
    todo.register(my_app.todo.items_for)     # items_for(user) -> list[todo.Item]

The home page shows every provider's items for the user: overdue first, then by deadline.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("carenet.todo")


@dataclass
class Item:
    title: str                       # translated, e.g. "审核：张三 城市低保"
    url: str
    group: str                       # translated heading, e.g. "社会救助"
    deadline: dt.date | dt.datetime | None = None
    overdue: bool = False
    due_soon: bool = False
    detail: str = ""                 # translated, e.g. "剩 2 个工作日"
    count: int | None = None         # for a summary line ("3 条待处理")

    def sort_key(self):
        when = self.deadline
        if isinstance(when, dt.datetime):
            when = when.date()
        return (not self.overdue, not self.due_soon, when or dt.date.max, self.title)


Provider = Callable[[object], list[Item]]
_providers: list[Provider] = []


def register(provider: Provider) -> Provider:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def items_for(user, limit: int = 50) -> list[Item]:
    items: list[Item] = []
    for provider in _providers:
        try:
            items.extend(provider(user))
        except Exception:  # one app's failure must not take the home page down
            log.exception("to-do provider %s failed", getattr(provider, "__qualname__", provider))
    return sorted(items, key=Item.sort_key)[:limit]

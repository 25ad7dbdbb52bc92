"""Emitting alarm signals: raise, repeat (update) and clear, keeping ``state.active`` in step."""
from __future__ import annotations

from typing import cast

from . import events as E
from .config import MonitorConfig
from .events import AlarmSignal, alarm_key
from .state import ElderState

Signals = list[AlarmSignal]


def _sig(state: ElderState, cfg: MonitorConfig, type_: str, action: str, ts: float,
         message: str, details: dict | None = None, device: str | None = None,
         severity: str | None = None) -> AlarmSignal:
    return AlarmSignal(cast("str | int", state.elder_id), type_, severity or cfg.sev(type_), action, ts, message,
                       details or {}, device)


def _raise(state: ElderState, cfg: MonitorConfig, out: Signals, type_: str, ts: float, message: str,
           details: dict | None = None, device: str | None = None, severity: str | None = None) -> None:
    sev = severity or cfg.sev(type_)
    state.active[alarm_key(type_, device)] = [type_, sev, ts]
    out.append(_sig(state, cfg, type_, E.RAISE, ts, message, details, device, sev))


def _update(state: ElderState, out: Signals, type_: str, ts: float, message: str, details: dict,
            device: str | None, severity: str) -> None:
    """Repeat of an active alarm; the severity only ever goes up (critical wins)."""
    rec = state.active.get(alarm_key(type_, device))
    if rec is not None and _RANK.get(severity, 9) < _RANK.get(rec[1], 9):
        rec[1] = severity
    sev = rec[1] if rec is not None else severity
    out.append(AlarmSignal(cast("str | int", state.elder_id), type_, sev, E.UPDATE, ts, message, details, device))


_RANK = {s: i for i, s in enumerate(E.SEVERITIES)}


def _clear(state: ElderState, cfg: MonitorConfig, out: Signals, type_: str, ts: float, message: str,
           details: dict | None = None, device: str | None = None) -> None:
    rec = state.active.pop(alarm_key(type_, device), None)
    if rec is not None:
        out.append(_sig(state, cfg, type_, E.CLEAR, ts, message, details, device, rec[1]))

from django import template

from carenet.monitoring.labels import ROOMS, alarm_type_label, closing_label

register = template.Library()


@register.filter
def alarm_label(code: str) -> str:
    """sos → 一键呼叫按钮; device_offline:E1-pir-… → 设备离线 (E1-pir-…)."""
    kind, _, device = (code or "").partition(":")
    label = alarm_type_label(kind)
    return f"{label} ({device})" if device else label


@register.filter
def closing(code: str) -> str:
    return closing_label(code) if code else ""


@register.filter
def room(code: str) -> str:
    return str(ROOMS.get(code or "", code))

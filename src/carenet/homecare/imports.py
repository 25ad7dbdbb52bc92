"""Home-care registers on the shared import pipeline (core.imports, docs/import.md): service providers (服务商名录)
and helpers (助老员花名册). Staff pages: /imports/homecare.providers/ and /imports/homecare.helpers/.

A user imports only into their own area: every division column is resolved within it, and a helper's provider must
be one the user can see. Rows are written through the registry's own services (homecare.registry.save_provider and
save_helper: permission, area and audit checks as on the management pages); the checks here find in bulk, before
anything is written, every row those services would refuse, so that each comes back with its reason.
Registries are hundreds of rows, not tens of thousands: one service call per record is fine here.
"""
from __future__ import annotations

import datetime as dt
import re

from django.utils.translation import pgettext_lazy

from carenet.core.imports import Column, Importer, Schema
from carenet.core.models import Division
from carenet.core.tabular.header import header_key
from carenet.homecare import models as m
from carenet.homecare import registry

MANAGE = "homecare.manage"

PROVIDERS = Schema([
    Column("name", "服务商名称", required=True, unique=True,
           aliases=("服务商", "服务机构名称", "服务机构", "机构名称", "单位名称", "企业名称", "服务组织名称")),
    Column("division", "注册地", kind="division", required=True,
           aliases=("注册区划", "所属街道", "所在街道", "所属区划", "所属乡镇", "所属社区", "区划代码")),
    Column("areas", "服务区域", kind="divisions", aliases=("服务范围", "覆盖区域", "服务社区", "服务街道", "服务片区")),
    Column("contract_start", "合同开始日期", kind="date", required=True,
           aliases=("合同起始日期", "合同开始", "签约日期", "协议开始日期", "服务期限起", "合同起始时间")),
    Column("contract_end", "合同结束日期", kind="date", required=True,
           aliases=("合同截止日期", "合同到期日期", "合同结束", "协议结束日期", "服务期限止", "合同到期时间")),
    Column("phone", "联系电话", kind="phone", aliases=("服务热线", "负责人电话")),
])

HELPERS = Schema([
    Column("name", "姓名", required=True, aliases=("助老员姓名", "服务人员姓名", "护理员姓名")),
    Column("phone", "联系电话", kind="phone"),
    Column("provider", "所属服务商", required=True,
           aliases=("服务商", "服务商名称", "所属机构", "服务机构", "所属单位", "工作单位")),
    Column("division", "服务区域", kind="division", required=True,
           aliases=("服务社区", "负责社区", "所属社区", "所在社区", "服务片区", "社区")),
    Column("skills", "服务技能", aliases=("服务项目", "技能", "可提供服务", "服务内容")),
    Column("certificates", "资格证书", aliases=("证书", "持证情况", "职业资格", "资格证", "证书情况")),
])


# --- importers ------------------------------------------------------------------------------------------------

def _key(text: str) -> str:
    return header_key(text or "")


def _covers(areas: list[Division], division: Division) -> bool:
    """As homecare.registry checks it: the division is one of the areas or inside one."""
    return any(division.path == a.path or division.path.startswith(a.path + "/") for a in areas)


class ProviderImporter(Importer):
    key = "homecare.providers"
    label = pgettext_lazy("import", "Home-care providers")
    capability = MANAGE
    schema = PROVIDERS
    back_url = "homecare:orders"
    example = {"name": "某某居家养老服务有限公司", "contract_start": "2026-01-01", "contract_end": "2026-12-31",
               "phone": "0556-1234567"}

    def validate(self, rows, ctx):
        names = {_key(r["name"]) for r in rows if r["name"]}
        known = {(_key(n), d) for n, d in m.Provider.objects.values_list("name", "division_id") if _key(n) in names}
        for row in rows:
            start, end = row["contract_start"], row["contract_end"]
            if start and end and end < start:
                row.error(f"合同结束日期（{end}）早于开始日期（{start}）")
            division = row["division"]
            if division is not None and (_key(row["name"]), division.pk) in known:
                row.error(f"服务商“{row['name']}”已在{division.name}登记")
            for area in row["areas"] or []:
                if division is not None and not _covers([division], area) and not _covers([area], division):
                    row.error(f"服务区域“{area.name}”不在注册地{division.name}内")

    def write(self, rows, ctx):
        """Through homecare.registry.save_provider (audited there); the areas default to where it is registered."""
        for r in rows:
            provider = registry.save_provider(ctx.user, None, areas=r["areas"] or [r["division"]], name=r["name"],
                                              division=r["division"], contract_start=r["contract_start"],
                                              contract_end=r["contract_end"], phone=r.get("phone", ""))
            ctx.outcome.setdefault("providers", []).append(provider.pk)


class HelperImporter(Importer):
    key = "homecare.helpers"
    label = pgettext_lazy("import", "Helpers")
    capability = MANAGE
    schema = HELPERS
    back_url = "homecare:orders"
    example = {"name": "李四", "phone": "13800000000", "provider": "某某居家养老服务有限公司", "skills": "助餐、助洁",
               "certificates": "养老护理员（四级）"}

    def validate(self, rows, ctx):
        providers: dict[str, list[m.Provider]] = {}
        for p in m.Provider.objects.visible_to(ctx.user).select_related("division").prefetch_related("areas"):
            providers.setdefault(_key(p.name), []).append(p)
        services = {}
        for s in m.ServiceType.objects.filter(active=True):
            services[_key(s.name)] = s
            services[_key(s.code)] = s
        existing = set(m.Helper.objects.filter(provider__in=[p for ps in providers.values() for p in ps])
                       .values_list("provider_id", "name", "phone"))
        for row in rows:
            found = providers.get(_key(row["provider"])) or []
            if not found:
                row.error(f"服务商“{row['provider']}”不存在或不在您的管辖范围内（请先导入服务商）")
                continue
            if len(found) > 1:
                row.error(f"服务商“{row['provider']}”有重名，请联系管理员")
                continue
            provider = found[0]
            if not provider.active:
                row.error(f"服务商“{provider.name}”已停用")
            division = row["division"]
            areas = list(provider.areas.all())
            if division is not None and not _covers(areas, division):
                row.error(f"服务区域“{division.name}”不在服务商“{provider.name}”的服务范围内")
            if (provider.pk, row["name"], row.get("phone", "")) in existing:
                row.error(f"助老员“{row['name']}”已在“{provider.name}”登记")
            skills = []
            for part in re.split(r"[、，,;；/\s]+", row.get("skills", "")):
                if not part:
                    continue
                service = services.get(_key(part))
                if service is None:
                    names = "、".join(sorted({s.name for s in services.values()}))
                    row.error(f"服务技能“{part}”不在服务项目目录中（可选：{names}）")
                elif service not in skills:
                    skills.append(service)
            row.data.update(provider=provider, skills=skills)

    def write(self, rows, ctx):
        """Through homecare.registry.save_helper (audited there), with the usual working hours."""
        for r in rows:
            helper = registry.save_helper(ctx.user, None, skills=r.data["skills"], provider=r.data["provider"],
                                          name=r["name"], phone=r.get("phone", ""), division=r["division"],
                                          certificates=r.get("certificates", "")[:200],
                                          work_start=dt.time(8), work_end=dt.time(18))
            ctx.outcome.setdefault("helpers", []).append(helper.pk)

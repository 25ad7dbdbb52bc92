"""#18: the audit log names assistance records and fields in Chinese (translated verbose names)."""
import re

from django.apps import apps
from django.utils import translation

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_assistance_model_and_field_has_a_chinese_name():
    missing = []
    with translation.override("zh-hans"):
        for model in apps.get_app_config("assistance").get_models():
            if not CJK.search(str(model._meta.verbose_name)):
                missing.append(model.__name__)
            for field in model._meta.concrete_fields:
                if field.name != "id" and not CJK.search(str(field.verbose_name)):
                    missing.append(f"{model.__name__}.{field.name}")
    assert missing == []

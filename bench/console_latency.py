"""Time from MQTT publish to the alarm row appearing in the operator's browser (the call-center console).

The whole live path runs as in production, on one machine: a device publishes SOS (QoS 1) to the real
broker → the ingest worker (subprocess) stores the event and raises the alarm → the daphne web server
(subprocess) pushes it over the WebSocket /ws/alarms/ → console.js inserts the row in headless Chromium,
where a MutationObserver stamps it with the page's wall clock (performance.timeOrigin + performance.now(),
the same machine clock as time.time() at publish).

    .venv/bin/python bench/console_latency.py                 # 200 alarms, one every 100 ms, fresh SQLite file
    .venv/bin/python bench/console_latency.py --interval 0    # all 200 at once (a flood)
    CARENET_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/carenet_bench_console .venv/bin/python bench/console_latency.py

Needs the mosquitto binary (a private broker is started on a free port; or --mqtt URL for a running one)
and Chromium at /usr/bin/chromium.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _django import percentile, setup  # noqa: E402

OBSERVER = """() => {
  window.__seen = {};
  const stamp = () => performance.timeOrigin + performance.now();
  new MutationObserver((records) => {
    const t = stamp();
    for (const r of records) for (const n of r.addedNodes) {
      const id = n.dataset && n.dataset.alarmId;
      if (id && !(id in window.__seen)) window.__seen[id] = t;
    }
  }).observe(document.getElementById("cc-rows"), {childList: true});
}"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alarms", type=int, default=200)
    ap.add_argument("--interval", type=float, default=0.1, help="seconds between publishes (0 = all at once)")
    ap.add_argument("--mqtt", default="private",
                    help="broker URL, or 'private' (default): a Mosquitto of our own on a free port, so the bench "
                         "neither reads nor disturbs other traffic on the shared broker")
    ap.add_argument("--broker-port", type=int, default=None, help="port of the private Mosquitto (default: free)")
    ap.add_argument("--web-port", type=int, default=None, help="port of daphne (default: a free one)")
    ap.add_argument("--chromium", default=os.environ.get("CARENET_CHROMIUM", "/usr/bin/chromium"))
    args = ap.parse_args()

    db_file = Path(tempfile.gettempdir()) / f"carenet-bench-console-{os.getpid()}.sqlite3"
    url = setup(default_url=f"sqlite:///{db_file}")
    from django.conf import settings
    from django.core.management import call_command

    from carenet.devices.models import Device, demo_token
    from carenet.devices.services import provision_demo_home
    from carenet.monitoring.models import Alarm
    from carenet.people.models import ElderProfile
    from tests.callcenter.live import PrivateMosquitto, Publisher, sos_payload, start_web, start_worker, stop

    if not ElderProfile.objects.exists():
        call_command("seed", elders=max(args.alarms + 50, 300), stdout=open(os.devnull, "w"))
    Alarm.objects.filter(type="sos", status__in=Alarm.ACTIVE).update(status="resolved", closing_code="test")
    elders = list(ElderProfile.objects.order_by("id")[:args.alarms])
    for e in elders:
        if not Device.objects.filter(elder=e, type="sos_button").exists():
            provision_demo_home(e)
    sos = {d.elder_id: d.device_id for d in Device.objects.filter(elder__in=elders, type="sos_button")}

    env = dict(os.environ, CARENET_DATABASE_URL=url, CARENET_SECRET_KEY=settings.SECRET_KEY,
               CARENET_PII_KEY=settings.PII_KEY, PYTHONUNBUFFERED="1", CARENET_LOG_LEVEL="WARNING")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    logs = Path(tempfile.mkdtemp(prefix="carenet-bench-"))
    worker = web = pub = broker = None
    from playwright.sync_api import sync_playwright

    try:
        if args.mqtt == "private":
            broker = PrivateMosquitto(logs, port=args.broker_port).start()
            args.mqtt = broker.url
        env_worker = dict(env, CARENET_LOG_LEVEL="INFO")
        worker = start_worker(env_worker, args.mqtt, f"bench-cc-{uuid.uuid4().hex[:8]}", logs / "worker.log", timeout=120)
        web, base = start_web(env, logs / "daphne.log", timeout=120, port=args.web_port)
        pub = Publisher(args.mqtt)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, headless=True,
                                        args=["--no-sandbox", "--disable-gpu", "--disable-background-timer-throttling"])
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(base + "/login/")
            page.fill("#id_username", "operator")
            from carenet.demo.loader import DEMO_PASSWORD
            page.fill("#id_password", DEMO_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(lambda u: "/login/" not in u)  # "/" may redirect on to the role's home page
            page.goto(base + "/callcenter/")
            page.wait_for_selector("[data-testid=connection][data-state=live]", timeout=15000)
            page.evaluate(OBSERVER)
            time.sleep(1.0)

            published: dict[int, float] = {}
            started = time.time()
            for e in elders:
                device_id = sos[e.pk]
                published[e.pk] = time.time()
                pub.publish(f"carenet/v1/dev/{device_id}/up", sos_payload(device_id, demo_token(device_id)),
                            wait=args.interval > 0)
                if args.interval:
                    time.sleep(args.interval)
            spread = time.time() - started

            deadline = time.time() + 60
            seen = {}
            while time.time() < deadline:
                seen = page.evaluate("window.__seen")
                if len(seen) >= len(elders):
                    break
                time.sleep(0.2)
            browser.close()
    finally:
        if pub:
            pub.close()
        stop(web, worker)
        if broker:
            broker.stop()

    alarms = {a["id"]: a for a in Alarm.objects.filter(type="sos", elder__in=elders, raised_at__gte=_dt(started - 5))
              .values("id", "elder_id", "raised_at")}
    total, to_db, db_to_screen = [], [], []
    for alarm_id, ms in seen.items():
        a = alarms.get(int(alarm_id))
        if a is None:
            continue
        t_pub = published[a["elder_id"]]
        total.append(ms / 1000 - t_pub)
        to_db.append(a["raised_at"].timestamp() - t_pub)
        db_to_screen.append(ms / 1000 - a["raised_at"].timestamp())

    def fmt(values):
        return (f"median {statistics.median(values) * 1000:6.0f} ms   p90 {percentile(values, 90) * 1000:6.0f} ms   "
                f"p99 {percentile(values, 99) * 1000:6.0f} ms   max {max(values) * 1000:6.0f} ms")

    print(f"console latency: {len(elders)} SOS alarms from {len(elders)} homes, published over {spread:.1f} s "
          f"({'all at once' if not args.interval else f'one every {args.interval * 1000:.0f} ms'}), "
          f"database {url.split(':')[0]} (feed: {'LISTEN/NOTIFY' if url.startswith('postgres') and os.environ.get('CARENET_FEED_LISTEN', '1') == '1' else '100 ms poll'}),"
          f" broker {args.mqtt}")
    print(f"rows seen in the browser: {len(total)} of {len(elders)} (alarms raised: {len(alarms)})")
    if total:
        print(f"publish → row in browser  {fmt(total)}")
        print(f"  publish → alarm row     {fmt(to_db)}")
        print(f"  alarm row → browser     {fmt(db_to_screen)}")
    print(f"(logs in {logs})")
    if db_file.exists() and url.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(str(db_file) + suffix).unlink(missing_ok=True)


def _dt(ts: float):
    import datetime as dt
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc)


if __name__ == "__main__":
    main()

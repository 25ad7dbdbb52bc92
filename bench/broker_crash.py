"""How many acknowledged MQTT messages a broker crash (SIGKILL) loses, per Mosquitto autosave setting.

    .venv/bin/python bench/broker_crash.py [--messages 300] [--backlog 20000]

For each setting: a private Mosquitto, an offline persistent session (the ingest worker while it is down),
--messages QoS 1 messages published and acknowledged by the broker, then SIGKILL and a restart; prints how
many the session still receives, and the publish time (each autosave rewrites the whole queue file, so the
cost grows with a long queue: --backlog messages are queued before the measured ones). The shipped setting
is deploy/mosquitto.conf; tests/monitoring/test_broker_crash.py asserts its bound.
"""
import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from carenet.monitoring.localbroker import conf_value, measure_crash_loss, shipped_durability_settings  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--messages", type=int, default=300, help="the first count; the sweep adds up to 100 more")
    p.add_argument("--backlog", type=int, default=20000)
    args = p.parse_args()
    shipped = shipped_durability_settings()
    settings = [
        ("default (autosave every 1800 s)", "max_queued_messages 0\n"),
        ("autosave_on_changes, interval 100", "max_queued_messages 0\nautosave_on_changes true\nautosave_interval 100\n"),
        (f"shipped: deploy/mosquitto.conf (interval {conf_value(shipped, 'autosave_interval')})", shipped),
        ("autosave_on_changes, interval 1", "max_queued_messages 0\nautosave_on_changes true\nautosave_interval 1\n"),
    ]
    print(f"{args.messages}..{args.messages + 99} messages queued for an offline session, broker SIGKILLed, restarted")
    print(f"{'setting':48} {'worst lost':>6} {'publish ms/msg':>15} {'with backlog ' + str(args.backlog):>22}")
    for name, conf in settings:
        runs = []
        for extra in (0, 7, 19, 33, 61, 99):  # where the crash falls between two saves varies with the count
            with tempfile.TemporaryDirectory() as d:
                runs.append(measure_crash_loss(Path(d), conf, args.messages + extra))
        r = max(runs, key=lambda x: x["lost"])
        r["publish_s"] = sum(x["publish_s"] for x in runs) / sum(x["published"] for x in runs) * args.messages
        with tempfile.TemporaryDirectory() as d:
            rb = measure_crash_loss(Path(d), conf, args.messages, backlog=args.backlog) if args.backlog else None
        backlog = f"lost {rb['lost']}, {1000 * rb['publish_s'] / args.messages:.2f} ms/msg" if rb else "-"
        print(f"{name:48} {r['lost']:>6} {1000 * r['publish_s'] / args.messages:>15.2f} {backlog:>22}")


if __name__ == "__main__":
    main()

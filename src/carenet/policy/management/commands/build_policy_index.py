from django.core.management.base import BaseCommand

from carenet.policy.engine.cli import ProgressBar, format_build_report
from carenet.policy.engine.corpus import default_corpus_path
from carenet.policy.engine.index import build_index
import os

from carenet.policy.runtime import building_marker, index_dir, reset


class Command(BaseCommand):
    help = "Build the policy search index from the law corpus (var/policy_index by default)."

    def add_arguments(self, parser):
        parser.add_argument("--corpus", default=None, help="lawrefbook.jsonl.gz (default: CARENET_LAW_CORPUS or data/laws)")
        parser.add_argument("--out", default=None, help="index directory (default: settings.POLICY_INDEX_DIR or var/policy_index)")
        parser.add_argument("--workers", type=int, default=None, help="tokenizer processes (default: one per core)")
        parser.add_argument("--vectors", action="store_true",
                            help="then embed the articles for the dense stage (build_policy_vectors; hours on 2 cores)")

    def handle(self, *args, **opts):
        corpus = opts["corpus"] or default_corpus_path()
        out = opts["out"] or index_dir()
        if not __import__("pathlib").Path(corpus).exists():
            self.stderr.write(f"corpus not found: {corpus}")
            return
        self.stdout.write(f"building policy index from {corpus} into {out}")
        marker = building_marker()
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(str(os.getpid()))  # pages say "building…" while this process lives
        try:
            meta = build_index(corpus, out, workers=opts["workers"], progress=ProgressBar(self.stdout))
        finally:
            marker.unlink(missing_ok=True)
        reset()
        self.stdout.write(self.style.SUCCESS(format_build_report(meta)))
        if opts["vectors"]:
            from django.core.management import call_command

            call_command("build_policy_vectors", stdout=self.stdout, stderr=self.stderr)

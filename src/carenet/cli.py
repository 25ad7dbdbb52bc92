"""`carenet <command>`: Django's management commands with CareNet's settings."""
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carenet.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["carenet", *sys.argv[1:]])


if __name__ == "__main__":
    main()

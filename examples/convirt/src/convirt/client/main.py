"""The ConVirt console."""

import sys


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    print("ConVirt 0.9.0")
    return 0

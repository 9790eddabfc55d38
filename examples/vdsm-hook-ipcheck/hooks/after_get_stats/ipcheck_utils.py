"""Shared by the ipcheck hook and daemon: where the state lives and how a result is reported."""
import json
import os

STATE_DIR = "/run/vdsm/ipcheck"
RESULT = os.path.join(STATE_DIR, "result.json")


def read_result():
    try:
        with open(RESULT) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {}


def add_result(hook_json_path):
    with open(hook_json_path) as fh:
        data = json.load(fh)
    data.setdefault("responses", {})["ipcheck"] = read_result()
    with open(hook_json_path, "w") as fh:
        json.dump(data, fh)

"""Import one Lambda handler the way the Python runtime does and, optionally, invoke it.

Run as a script in a fresh interpreter (the tests give it a clean virtualenv and the built
artifacts): ``python probe_handler.py CODE_DIR module.function [EVENT_JSON]``. Prints one
JSON line: ``{"callable": true, "result": ...}``. Uses the standard library only.
"""

from __future__ import annotations

import importlib
import json
import sys
import uuid
from pathlib import Path
from typing import Any


class Context:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name = "probe"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:probe"
    log_group_name = "/aws/lambda/probe"
    log_stream_name = "probe"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def main(code_dir: str, handler: str, event_path: str | None = None) -> dict[str, Any]:
    sys.path.insert(0, code_dir)  # Lambda puts the function's code first: /var/task
    module_name, function_name = handler.rsplit(".", 1)
    function = getattr(importlib.import_module(module_name), function_name)
    report: dict[str, Any] = {"callable": callable(function)}
    if "lambdagraph" in sys.modules:
        report["package"] = sys.modules["lambdagraph"].__file__
    if event_path:
        event = json.loads(Path(event_path).read_text())
        report["result"] = function(event, Context())
    return report


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:]), default=str))

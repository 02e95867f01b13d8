#!/bin/bash
# Lambda Web Adapter entry point (Handler: run.sh, AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap):
# serve the ASGI app on AWS_LWA_PORT; the adapter waits for AWS_LWA_READINESS_CHECK_PATH.
set -euo pipefail
cd "$(dirname "$0")"
# The managed runtime puts layers on sys.path itself, but not for a process we start;
# python3 is the runtime's interpreter (/var/lang/bin).
export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}/opt/python:$PWD"
exec python3 -m uvicorn app:app \
    --host 127.0.0.1 --port "${AWS_LWA_PORT:-8000}" \
    --no-access-log --no-server-header --timeout-graceful-shutdown 5

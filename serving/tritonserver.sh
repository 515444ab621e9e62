#!/bin/sh
# tritonserver from nvidia-pytriton's wheel with the python backend set up (serving/Dockerfile).
set -a; . /opt/tritonserver/env; set +a
exec "$TRITON_BIN" --backend-directory=/opt/tritonserver/backends "$@"

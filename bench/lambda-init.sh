#!/usr/bin/env bash
# Size and start-up time of the Lambda binaries, measured locally.
#
# Each binary is started against a stand-in for the Lambda runtime API on
# 127.0.0.1; its init time is the time from exec to its first request for
# an invocation (what Lambda reports as Init Duration, minus the sandbox).
# Builds for this machine's architecture; arm64 (cargo lambda build
# --release --arm64) is smaller and starts at much the same speed.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"

# BIN_DIR=folder measures binaries built before (another profile, say)
# instead of building them here.
if [[ -z ${BIN_DIR:-} ]]; then
    cargo build --profile lambda-release -p desk --no-default-features --features aws --bins --quiet
    BIN_DIR="${CARGO_TARGET_DIR:-target}/lambda-release"
fi
export BIN_DIR
python3 - "$runs" <<'PY'
import http.server, os, socket, subprocess, sys, threading, time, statistics

runs = int(sys.argv[1])
first_request = {}

class Runtime(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        first_request.setdefault("t", time.perf_counter())
        # Hold the "next invocation" request; the binary is killed anyway.
        time.sleep(5)
    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Runtime)
threading.Thread(target=server.serve_forever, daemon=True).start()
port = server.server_address[1]

env = dict(os.environ)
for k in list(env):
    if k.startswith(("AWS_", "DESK_")):
        del env[k]
env.update({
    "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
    "AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
    "AWS_LAMBDA_FUNCTION_VERSION": "1", "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "DESK_SITE_ROOT": os.getcwd(),
    "DESK_STORE": "dynamodb", "DESK_TABLE": "bench", "DESK_MAIL": "ses",
    "DESK_MAIL_FROM": "desk@example.org", "RUST_LOG": "warn",
})
print(f"{'binary':<14} {'size':>9} {'init median':>12} {'init max':>9}")
for name in ["desk-submit", "desk-notify"]:
    path = os.path.join(os.environ["BIN_DIR"], name)
    times = []
    for _ in range(runs):
        first_request.clear()
        start = time.perf_counter()
        proc = subprocess.Popen([path], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while "t" not in first_request and proc.poll() is None and time.perf_counter() - start < 10:
            time.sleep(0.0005)
        proc.kill(); proc.wait()
        if "t" not in first_request:
            sys.exit(f"{name} did not reach the runtime API: {proc.stderr.read().decode()[:500]}")
        times.append((first_request["t"] - start) * 1000)
    size = os.path.getsize(path) / 1e6
    print(f"{name:<14} {size:>7.1f}MB {statistics.median(times):>10.1f}ms {max(times):>7.1f}ms")
server.shutdown()
PY

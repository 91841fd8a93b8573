#!/usr/bin/env python3
"""librdkafka's own integration test suite against the bundled broker (issue 17).

Obtains librdkafka 2.12.1 with its tests/ folder from the rdkafka-sys crate on crates.io,
builds the library and tests/test-runner outside the repo (cached between runs), starts the
bundled broker binary three times (3 brokers with 4 partitions for auto-created topics, one
with auto-creation off for the tests that need it, and one requiring SASL/SCRAM with
re-authentication for the SASL tests), writes test.conf, and runs every broker
test number on its own with a per-test timeout. Prints a table of pass, fail and skip, writes
it to target/librdkafka-suite/results.md, and exits non-zero on a failure that is not listed,
with its reason, in known-failures.txt (and on a listed failure that now passes, so that the
list only shrinks).

    tools/librdkafka-suite/run.py [--full] [--timeout S] [TEST ...]

Without --full the tests run in librdkafka's quick mode (-Q), but for those that run nothing
in it (ALWAYS_FULL). TEST narrows the run to some
test numbers (0011 0092 ...); the known-failures check then only judges those.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import urllib.request

CRATE = "rdkafka-sys"
CRATE_VERSION = "4.10.0+2.12.1"
# The broker answers as Kafka 4.x; the tests adapt their expectations to the version claimed.
KAFKA_VERSION_CLAIM = "4.0.0"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CACHE = os.path.join(
    os.environ.get("KAFKA_SDK_CACHE", os.path.expanduser("~/.cache/kafka-sdk")),
    f"librdkafka-{CRATE_VERSION}",
)
# Tests that need a broker that does not create topics on Metadata.
NO_AUTO_CREATE = {"0109"}
# Tests that skip themselves without SASL: they run against a third cluster that requires
# SCRAM-SHA-256 and ends sessions after SASL_REAUTH_MS (KIP-368), with a client configured for it.
SASL_TESTS = {"0135", "0142"}
SASL_USER = ("librdkafka", "librdkafka-secret")
# 0142 runs for about nine of these intervals.
SASL_REAUTH_MS = 4000
# Tests whose every subtest is a full-mode one (SUB_TEST, not SUB_TEST_QUICK): in quick mode they
# pass having run nothing, so they always run in full mode (0089 about 105 s, 0142 about 40 s).
ALWAYS_FULL = {"0089", "0142"}
# 0097 verifies certificates in every encoding librdkafka loads; it runs against a cluster that
# serves TLS and requires client certificates signed by its CA (mutual TLS), with the files
# trivup would make, named by the SSL_* environment variables the test reads.
SSL_TESTS = {"0097"}
SSL_PASSWORD = "librdkafka-suite-keystore"
SASL_CLIENT_CONF = {
    "security.protocol": "SASL_PLAINTEXT",
    "sasl.mechanism": "SCRAM-SHA-256",
    "sasl.username": SASL_USER[0],
    "sasl.password": SASL_USER[1],
}


def log(message):
    print(f"librdkafka-suite: {message}", flush=True)


def librdkafka_dir():
    return os.path.join(CACHE, f"{CRATE}-{CRATE_VERSION}", "librdkafka")


def fetch_and_build():
    """The test runner, built once per machine."""
    source = librdkafka_dir()
    runner = os.path.join(source, "tests", "test-runner")
    if os.path.exists(runner):
        return source
    os.makedirs(CACHE, exist_ok=True)
    archive = os.path.join(CACHE, "crate.tar.gz")
    if not os.path.exists(archive):
        url = f"https://static.crates.io/crates/{CRATE}/{CRATE}-{CRATE_VERSION}.crate"
        log(f"downloading {url}")
        with urllib.request.urlopen(url, timeout=120) as r, open(archive + ".part", "wb") as f:
            shutil.copyfileobj(r, f)
        os.rename(archive + ".part", archive)
    with tarfile.open(archive) as t:
        t.extractall(CACHE, filter="data")
    log("building librdkafka and its test runner (a few minutes, once)")
    started = time.time()
    build_log = os.path.join(CACHE, "build.log")
    with open(build_log, "w") as out:
        for cmd in (
            ["./configure", "--disable-gssapi", "--disable-curl"],
            ["make", "-j2", "libs"],
            ["make", "-C", "tests", "-j2", "build"],
        ):
            if subprocess.call(cmd, cwd=source, stdout=out, stderr=subprocess.STDOUT) != 0:
                sys.exit(f"librdkafka-suite: {' '.join(cmd)} failed; see {build_log}")
    log(f"built in {time.time() - started:.0f}s")
    return source


def broker_tests(source):
    """(number, name) of every test that needs a broker, from the runner's own table."""
    text = open(os.path.join(source, "tests", "test.c")).read()
    table = text[text.index("struct test tests[]") :]
    tests = []
    for m in re.finditer(r"_TEST\((\d{4})_(\w+),([^;]*?)\)\s*,\s*$", table, re.M | re.S):
        number, name, flags = m.group(1), m.group(2), m.group(3)
        if number == "0000" or "TEST_F_LOCAL" in flags or "TEST_F_MANUAL" in flags:
            continue
        tests.append((number, name))
    # Entries whose flags span lines are matched by the looser pattern below too.
    seen = {n for n, _ in tests}
    for m in re.finditer(r"_TEST\((\d{4})_(\w+),", table):
        number, name = m.group(1), m.group(2)
        if number in seen or number == "0000":
            continue
        entry = table[m.start() : table.find("),", m.start()) + 1]
        if "TEST_F_LOCAL" not in entry and "TEST_F_MANUAL" not in entry:
            tests.append((number, name))
            seen.add(number)
    # TESTS=NNNN runs every test of that number: one entry per number.
    first = {}
    for number, name in sorted(set(tests)):
        first.setdefault(number, name)
    return sorted(first.items())


# Kafka's command-line scripts the tests run from $KAFKA_PATH/bin, and the kafka-tools class each
# one runs.
KAFKA_SCRIPTS = {
    "kafka-topics.sh": "org.apache.kafka.tools.TopicCommand",
    "kafka-configs.sh": "org.apache.kafka.tools.ConfigCommand",
    "kafka-acls.sh": "org.apache.kafka.tools.AclCommand",
}


def kafka_path():
    """A directory whose bin/ holds Kafka's scripts for the tests, running kafka-tools' classes
    (from Maven Central, cached by kafka-testkit) against whatever --bootstrap-server they name."""
    out = subprocess.check_output(
        ["cargo", "run", "-q", "-p", "kafka-testkit", "--bin", "real-kafka", "--",
         "--version", "pinned", "--resolve-only", "--tools"],
        cwd=ROOT,
        text=True,
    )
    lib = out.strip().split(" ", 1)[1]
    java = shutil.which("java") or "java"
    home = os.path.join(ROOT, "target", "librdkafka-suite", "kafka")
    os.makedirs(os.path.join(home, "bin"), exist_ok=True)
    for script, main_class in KAFKA_SCRIPTS.items():
        path = os.path.join(home, "bin", script)
        with open(path, "w") as f:
            f.write(
                "#!/bin/sh\n"
                f"exec {java} -Xmx256m -XX:+UseSerialGC -cp '{lib}/*' {main_class} \"$@\"\n"
            )
        os.chmod(path, 0o755)
    return home


class Broker:
    """The bundled broker binary, until stopped."""

    def __init__(self, binary, args):
        self.proc = subprocess.Popen(
            [binary, "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        deadline = time.time() + 30
        self.bootstrap = None
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.startswith("bootstrap: "):
                self.bootstrap = line.split(" ", 1)[1].strip()
                break
        if not self.bootstrap:
            self.stop()
            sys.exit("librdkafka-suite: the bundled broker did not start")

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def ssl_material():
    """A CA, a broker certificate for 127.0.0.1 and a client certificate signed by it, in the
    encodings 0097 loads (PEM, DER, PKCS#12; the client key encrypted with SSL_PASSWORD), made
    with the openssl CLI once per machine. Returns (directory, the test's SSL_* variables)."""
    d = os.path.join(ROOT, "target", "librdkafka-suite", "ssl")
    env = {
        "SSL_password": SSL_PASSWORD,
        "SSL_pkcs": os.path.join(d, "client.p12"),
        "SSL_pub_der": os.path.join(d, "client.der"),
        "SSL_pub_pem": os.path.join(d, "client.pem"),
        "SSL_priv_der": os.path.join(d, "client-key.der"),
        "SSL_priv_pem": os.path.join(d, "client-key.pem"),
        "SSL_ca_der": os.path.join(d, "ca.der"),
        "SSL_all_cas_pem": os.path.join(d, "ca.pem"),
        "SSL_client_auth": "required",
    }
    if all(os.path.exists(f) for k, f in env.items() if k not in ("SSL_password", "SSL_client_auth")):
        return d, env
    os.makedirs(d, exist_ok=True)
    days = "3650"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem", "-out", "ca.pem",
            "-days", days, "-subj", "/CN=librdkafka-suite-ca", cwd=d)
    openssl("x509", "-in", "ca.pem", "-outform", "DER", "-out", "ca.der", cwd=d)
    with open(os.path.join(d, "san.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("broker", "client"):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}-plain-key.pem", "-out", f"{name}.csr",
                "-subj", f"/CN={name}", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial",
                "-out", f"{name}.pem", "-days", days, "-extfile", "san.cnf", cwd=d)
    openssl("x509", "-in", "client.pem", "-outform", "DER", "-out", "client.der", cwd=d)
    openssl("pkey", "-in", "client-plain-key.pem", "-outform", "DER", "-out", "client-key.der", cwd=d)
    openssl("pkey", "-in", "client-plain-key.pem", "-aes256", "-passout", f"pass:{SSL_PASSWORD}",
            "-out", "client-key.pem", cwd=d)
    openssl("pkcs12", "-export", "-in", "client.pem", "-inkey", "client-plain-key.pem", "-certfile", "ca.pem",
            "-passout", f"pass:{SSL_PASSWORD}", "-out", "client.p12", cwd=d)
    return d, env


def run_test(source, number, bootstrap, quick, timeout, kafka_home, client_conf=None, extra_env=None):
    """PASSED, FAILED, SKIPPED or TIMEOUT, and the seconds it took."""
    tests = os.path.join(source, "tests")
    conf = os.path.join(tests, f"test-{number}.conf")
    with open(conf, "w") as f:
        f.write(f"bootstrap.servers={bootstrap}\n")
        for key, value in (client_conf or {}).items():
            f.write(f"{key}={value}\n")
    env = dict(os.environ)
    env.update(
        KAFKA_PATH=kafka_home,
        BROKERS=bootstrap,
        TESTS=number,
        TEST_KAFKA_VERSION=KAFKA_VERSION_CLAIM,
        RDKAFKA_TEST_CONF=conf,
        **(extra_env or {}),
        # The runner links the shared libraries it was built with.
        LD_LIBRARY_PATH=os.pathsep.join(
            [os.path.join(source, "src"), os.path.join(source, "src-cpp")]
            + ([env["LD_LIBRARY_PATH"]] if env.get("LD_LIBRARY_PATH") else [])
        ),
    )
    args = ["./test-runner", "-p1", "-L"] + (["-Q"] if quick else [])
    started = time.time()
    try:
        out = subprocess.run(
            args,
            cwd=tests,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            timeout=timeout,
            start_new_session=True,
        )
    except subprocess.TimeoutExpired as e:
        return "TIMEOUT", time.time() - started, (e.output or "")[-4000:] if isinstance(e.output, str) else ""
    elapsed = time.time() - started
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout)
    statuses = re.findall(rf"\|\s*{number}_\w+\s*\|\s*(PASSED|FAILED|SKIPPED)", text)
    if "FAILED" in statuses or out.returncode != 0:
        return "FAILED", elapsed, text[-4000:]
    if statuses and all(s == "SKIPPED" for s in statuses):
        return "SKIPPED", elapsed, text[-2000:]
    if "PASSED" in statuses:
        return "PASSED", elapsed, ""
    return "SKIPPED", elapsed, text[-2000:]


def listed(name):
    """(test number, the rest of the line) of each entry of a list file beside this script."""
    entries = {}
    for line in open(os.path.join(HERE, name)):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        number, _, rest = line.partition(" ")
        entries[number] = rest.strip()
    return entries


def known_failures():
    """Test number -> reason, from known-failures.txt."""
    return listed("known-failures.txt")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--full", action="store_true", help="not librdkafka's quick mode")
    p.add_argument("--timeout", type=int, default=120, help="seconds per test")
    p.add_argument(
        "--skip-slow",
        action="store_true",
        help="leave out the tests in slow-tests.txt (CI runs them so; run them with no flag)",
    )
    p.add_argument("tests", nargs="*")
    a = p.parse_args()

    source = fetch_and_build()
    log("building the bundled broker")
    subprocess.check_call(["cargo", "build", "-q", "-p", "kafka-broker", "--bin", "kafka-broker"], cwd=ROOT)
    binary = os.path.join(ROOT, "target", "debug", "kafka-broker")
    kafka_home = kafka_path()
    tests = broker_tests(source)
    if a.tests:
        tests = [t for t in tests if t[0] in a.tests]
    if a.skip_slow:
        slow = set(listed("slow-tests.txt"))
        tests = [t for t in tests if t[0] not in slow]
    # ACLs on but open where none is set, as librdkafka's test clusters run: its admin tests
    # create and delete ACLs. Kafka's default initial rebalance delay (3 s, the bundled broker's
    # default is 0): the group tests count on both consumers joining the first generation
    # (0113, 0118 say so), and are racy without it.
    common = [
        "--brokers", "3", "--partitions", "4",
        "--acl", "--allow-everyone-if-no-acl-found",
        "--group-initial-rebalance-delay-ms", "3000",
    ]
    auto = Broker(binary, common)
    plain = Broker(binary, common + ["--no-auto-create"])
    sasl = Broker(
        binary,
        common
        + ["--sasl", "scram-sha-256", "--user", ":".join(SASL_USER)]
        + ["--max-reauth-ms", str(SASL_REAUTH_MS), "--super-user", SASL_USER[0]],
    )
    ssl_dir, ssl_env = ssl_material()
    tls = Broker(
        binary,
        common
        + ["--tls-cert", os.path.join(ssl_dir, "broker.pem")]
        + ["--tls-key", os.path.join(ssl_dir, "broker-plain-key.pem")]
        + ["--tls-client-ca", os.path.join(ssl_dir, "ca.pem")],
    )
    ssl_client_conf = {
        "security.protocol": "ssl",
        "ssl.ca.location": ssl_env["SSL_all_cas_pem"],
        "ssl.certificate.location": ssl_env["SSL_pub_pem"],
        "ssl.key.location": ssl_env["SSL_priv_pem"],
        "ssl.key.password": SSL_PASSWORD,
    }
    log(
        f"{len(tests)} broker tests against {auto.bootstrap} (auto-create off: {plain.bootstrap}; "
        f"SASL/SCRAM for {' '.join(sorted(SASL_TESTS))}: {sasl.bootstrap}; "
        f"mutual TLS for {' '.join(sorted(SSL_TESTS))}: {tls.bootstrap})"
    )
    results = []
    started = time.time()
    try:
        for number, name in tests:
            client_conf, extra_env = None, None
            if number in SSL_TESTS:
                bootstrap, client_conf, extra_env = tls.bootstrap, ssl_client_conf, ssl_env
            elif number in SASL_TESTS:
                bootstrap, client_conf = sasl.bootstrap, SASL_CLIENT_CONF
            elif number in NO_AUTO_CREATE:
                bootstrap = plain.bootstrap
            else:
                bootstrap = auto.bootstrap
            quick = not a.full and number not in ALWAYS_FULL
            timeout = a.timeout if quick else max(a.timeout, 300)
            status, elapsed, output = run_test(
                source, number, bootstrap, quick, timeout, kafka_home, client_conf, extra_env
            )
            results.append((number, name, status, elapsed, output))
            log(f"{number}_{name}: {status} ({elapsed:.1f}s)")
            for broker in (auto, plain, sasl, tls):
                if broker.proc.poll() is not None:
                    sys.exit(f"librdkafka-suite: the bundled broker exited during {number}")
    finally:
        auto.stop()
        plain.stop()
        sasl.stop()
        tls.stop()
    total = time.time() - started

    known = known_failures()
    failed = {n for n, _, s, _, _ in results if s in ("FAILED", "TIMEOUT")}
    ran = {n for n, _, _, _, _ in results}
    unexpected = sorted(failed - set(known))
    fixed = sorted(n for n in known if n in ran and n not in failed)
    counts = {s: sum(1 for r in results if r[2] == s) for s in ("PASSED", "FAILED", "TIMEOUT", "SKIPPED")}
    lines = [
        f"librdkafka {CRATE_VERSION.split('+')[1]} test suite against the bundled broker "
        f"({'full' if a.full else 'quick'} mode, {total:.0f}s): "
        f"{counts['PASSED']} passed, {counts['FAILED'] + counts['TIMEOUT']} failed, {counts['SKIPPED']} skipped",
        "",
        "| test | result | seconds | known failure |",
        "|---|---|---:|---|",
    ]
    for number, name, status, elapsed, _ in results:
        lines.append(f"| {number}_{name} | {status} | {elapsed:.1f} | {known.get(number, '')} |")
    report = "\n".join(lines) + "\n"
    out_dir = os.path.join(ROOT, "target", "librdkafka-suite")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "results.md"), "w") as f:
        f.write(report)
    print(report)
    for number, name, status, _, output in results:
        if number in unexpected:
            print(f"---- {number}_{name} {status}: last output\n{output}\n")
    if unexpected:
        print(f"librdkafka-suite: unexpected failures: {' '.join(unexpected)}")
    if fixed:
        print(f"librdkafka-suite: listed as known failures but passing now (remove them): {' '.join(fixed)}")
    return 1 if unexpected or fixed else 0


if __name__ == "__main__":
    sys.exit(main())

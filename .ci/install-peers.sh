#!/usr/bin/env bash
# Installs the peers the interop and conformance tests drive: kcat (librdkafka's CLI) from Debian,
# confluent-kafka-python and kafka-python from PyPI, and a JDK with Maven for Apache Kafka itself
# and its Java client (their jars come from Maven Central, cached under ~/.cache/kafka-sdk).
# Idempotent: anything already installed is left alone. Fails loudly when an install fails, since
# the interop tests would otherwise only print SKIPPED.
set -euo pipefail

# Versions the interop scripts were written and checked against.
CONFLUENT_KAFKA_VERSION="2.16.1"
KAFKA_PYTHON_VERSION="3.0.12"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if command -v kcat >/dev/null 2>&1; then
  echo "kcat: present ($(command -v kcat))"
else
  echo "kcat: installing"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq kcat >/dev/null
fi

# A C toolchain and OpenSSL's headers: librdkafka's test suite (tools/librdkafka-suite) is
# built from source; its TLS test's certificates are made with the openssl CLI.
if command -v cc >/dev/null 2>&1 && command -v make >/dev/null 2>&1 \
  && command -v openssl >/dev/null 2>&1 \
  && [ -f /usr/include/openssl/ssl.h ] && [ -f /usr/include/zlib.h ]; then
  echo "C toolchain and OpenSSL headers: present"
else
  echo "C toolchain and OpenSSL headers: installing"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq build-essential libssl-dev zlib1g-dev openssl >/dev/null
fi

python_has() {
  python3 - "$1" "$2" <<'PY' >/dev/null 2>&1
import importlib.metadata, sys
sys.exit(0 if importlib.metadata.version(sys.argv[1]) == sys.argv[2] else 1)
PY
}

pip_install() {
  # PEP 668 system interpreters refuse plain `pip install`; fall back to the documented override.
  python3 -m pip install --quiet --disable-pip-version-check "$@" \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$@"
}

if ! command -v python3 >/dev/null 2>&1; then
  echo "python3: missing, installing"
  as_root apt-get update -qq
  as_root apt-get install -y -qq python3 python3-pip >/dev/null
fi

for spec in "confluent-kafka==$CONFLUENT_KAFKA_VERSION" "kafka-python==$KAFKA_PYTHON_VERSION"; do
  name="${spec%%==*}"
  version="${spec##*==}"
  if python_has "$name" "$version"; then
    echo "$name: $version present"
  else
    echo "$name: installing $version"
    pip_install "$spec"
  fi
done

python3 -c "import confluent_kafka, kafka"

# Java 17+ with javac, and Maven: real Kafka (KRaft) and the Java peer (kafka-testkit).
if command -v javac >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1; then
  echo "java: present ($(javac -version 2>&1))"
else
  echo "java/maven: installing"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq openjdk-17-jdk-headless maven >/dev/null
fi
java -version 2>&1 | sed -n 1p  # sed reads to the end: head could SIGPIPE the writer under pipefail
mvn -v 2>/dev/null | sed -n 1p

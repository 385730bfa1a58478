#!/bin/sh
# Makes what the agents need on the stack's Temporal server: the namespace, and the search
# attributes the call workflows set. The `temporal-setup` service of docker-compose.yml, run once
# the server is up; the agents start when it has succeeded. Safe to run again (each `up` does): an
# existing namespace is kept (its retention too), and an attribute that exists with its type is left.
# The `temporal` CLI reads the server's address from TEMPORAL_ADDRESS. SETUP_TRIES: how many times
# a step is tried, 2 s apart, before the setup fails (60).
set -eu
: "${TEMPORAL_ADDRESS:?}" "${NAMESPACE:?}" "${SEARCH_ATTRIBUTES:?}"

# Runs the command until it succeeds, every 2 s, SETUP_TRIES times at most; then shows its last error.
last_error="$(mktemp)"
retry() {
  tries=0
  until "$@" >"$last_error" 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge "${SETUP_TRIES:-60}" ]; then
      echo "failed: $*" >&2
      cat "$last_error" >&2
      exit 1
    fi
    sleep 2
  done
}

retry temporal operator cluster health
if temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE exists"
else
  retry temporal operator namespace create --namespace "$NAMESPACE" --retention "${RETENTION:-72h}"
  echo "namespace $NAMESPACE created (retention ${RETENTION:-72h})"
fi

# SEARCH_ATTRIBUTES: `Name=Type` pairs, separated by spaces. A namespace that has just been created
# can take a few seconds to be known everywhere in the server: hence the retry.
set --
for attribute in $SEARCH_ATTRIBUTES; do
  set -- "$@" --name "${attribute%%=*}" --type "${attribute#*=}"
done
retry temporal operator search-attribute create --namespace "$NAMESPACE" "$@"
listed="$(temporal operator search-attribute list --namespace "$NAMESPACE")"
for attribute in $SEARCH_ATTRIBUTES; do
  if ! printf '%s\n' "$listed" | grep -Eq "^ *${attribute%%=*} +${attribute#*=} *$"; then
    echo "search attribute ${attribute%%=*} (${attribute#*=}) is not in namespace $NAMESPACE:" >&2
    printf '%s\n' "$listed" >&2
    exit 1
  fi
done
echo "search attributes ready in namespace $NAMESPACE: $SEARCH_ATTRIBUTES"

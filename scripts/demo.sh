#!/bin/sh
# Plays the agentroom demo (scripts/demo.ts): two agents in one room, through
# the real CLI, against a throwaway Redis. Installs what is missing first.
#
#   sh scripts/demo.sh
cd "$(dirname -- "$0")/.." || exit 1
AGENTROOM_ROOT=$(pwd)
export AGENTROOM_ROOT
. ./scripts/setup.sh || exit 1
exec deno task demo "$@"

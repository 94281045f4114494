#!/usr/bin/env bash
# Regenerates benchpb from bench.proto: needs protoc (Debian's
# protobuf-compiler) and protoc-gen-go at the version of bench/go.mod:
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
set -euo pipefail
cd "$(dirname "$0")"
protoc --go_out=../benchpb --go_opt=paths=source_relative bench.proto

#!/usr/bin/env bash
# Regenerates benchpb from bench.proto: needs protoc (Debian's
# protobuf-compiler), protoc-gen-go v1.35.2 (later generators store the raw
# descriptor in a string read through package unsafe; Titan keeps unsafe in
# internal/unsafeutil, and the v1.36 runtime of go.mod reads this code the
# same):
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.35.2
# and protovalidate's validate.proto, taken from the Go module cache.
set -euo pipefail
cd "$(dirname "$0")"
pv=$(go mod download -json github.com/bufbuild/protovalidate@v1.2.2 | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
protoc -I . -I "$pv/proto/protovalidate" --go_out=../benchpb --go_opt=paths=source_relative bench.proto

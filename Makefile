# Titan — common tasks. `make help` lists them.
SHELL := /usr/bin/env bash
GO    ?= go

.PHONY: help test race lint fuzz bench ci

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

test: ## Run the tests (the README's test command)
	$(GO) test ./...

race: ## Run the tests with the race detector, as CI does
	$(GO) test -race ./...

lint: ## gofmt, go vet, staticcheck and golangci-lint when installed, go mod tidy -diff
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@if command -v staticcheck >/dev/null; then staticcheck ./...; else echo "staticcheck not installed: skipped"; fi
	@if command -v golangci-lint >/dev/null; then golangci-lint run; else echo "golangci-lint not installed: skipped"; fi
	$(GO) mod tidy -diff

fuzz: ## Run every fuzz target for FUZZTIME each (default 10s)
	@FUZZTIME=$${FUZZTIME:-10s} ./.ci/fuzz

bench: ## Run the Go benchmarks of the main module
	$(GO) test -run='^$$' -bench=. -benchmem ./...

ci: ## What CI runs
	bash .ci/run

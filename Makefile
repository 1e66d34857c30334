# quantlab — the two commands are `make serve` and `make test`; both install what is missing.
SHELL := /bin/bash
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: serve test setup build e2e clean

## Serve the app at http://127.0.0.1:8080 (release build, rebuilt on change).
serve: setup
	trunk serve --release

## Run every test: native engine + CLI, wasm under Node, release build, Chromium end-to-end.
test: setup
	./scripts/test.sh

setup:
	@./scripts/setup.sh

## The static site in dist/ (relative URLs: copy it under any path of any static host).
build: setup
	trunk build --release

## Only the browser tests against the current dist/ (e.g. `make e2e GREP=presenter`).
e2e:
	node tests/e2e/run.mjs $(if $(GREP),--grep "$(GREP)")

clean:
	cargo clean
	rm -rf dist

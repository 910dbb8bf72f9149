# signaling-auth: one Makefile for the whole go.work repository.
SHELL := /bin/bash
MODULES := lifecycle ratelimit settings origin telemetry tokenserver corsproxy webdemo e2e deploy
# deploy (the Helm chart's tests) stays out of go.work, so Helm's dependencies never raise the
# versions the programs are built and tested with; it runs with GOWORK=off, and without -race:
# the Helm SDK compiles slowly and the tests start no goroutines of their own.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
BIN := bin
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
SOAK ?= 5m
# e2e keeps what its tests save with t.ArtifactDir (screenshots of the page) here.
ARTIFACTS := $(CURDIR)/$(BIN)/test-artifacts
E2E_ARTIFACTS := -artifacts -outputdir $(ARTIFACTS)
# go test keeps them under _artifacts/<n>/, one <n> per test; .started marks this run's start.
START_ARTIFACTS := mkdir -p $(ARTIFACTS) && touch $(ARTIFACTS)/.started

# agora-rtm-sdk for make sdk: the version the page is written against (sdk_url's default).
SDK_VERSION := 2.2.2
SDK_DIR := .sdk

.PHONY: help build run up down sdk test e2e screenshots bench soak fmt lint clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

build: ## build every binary into bin/
	@mkdir -p $(BIN)
	cd tokenserver && go build -ldflags "$(LDFLAGS)" -o ../$(BIN)/tokenserver .
	cd corsproxy && go build -ldflags "$(LDFLAGS)" -o ../$(BIN)/corsproxy .
	cd webdemo && go build -ldflags "$(LDFLAGS)" -o ../$(BIN)/webdemo .

# When the script fails its last line already says why (e.g. a port in use). GNU make would
# add "make: *** [Makefile:NN: run] Error 1" below it, for any failed recipe; ending make
# with SIGINT, as Ctrl-C does, leaves the script's line last (make exits 130, not 0). The
# recipe then stays alive for a second: on SIGINT make waits for its running recipe, and
# one that has already exited can be reaped before make's handler waits for it, which
# then fails with "make: *** wait: No child processes.  Stop." (1 run in 3 while building).
run: ## build and start tokenserver, corsproxy and webdemo on 127.0.0.1 (Ctrl-C stops all three)
	@./scripts/run.sh || { kill -INT $$PPID; exec sleep 1; }

sdk: ## fetch agora-rtm-sdk 2.x with npm into .sdk/ (git-ignored); webdemo then serves it, no CDN needed
	@command -v npm >/dev/null 2>&1 || { echo "make sdk: npm is not on PATH: install Node.js (it brings npm)"; exit 1; }
	@rm -rf $(SDK_DIR) && mkdir -p $(SDK_DIR)
	cd $(SDK_DIR) && npm pack --silent agora-rtm-sdk@$(SDK_VERSION) >/dev/null && tar -xzf agora-rtm-sdk-$(SDK_VERSION).tgz --strip-components=1 && rm agora-rtm-sdk-$(SDK_VERSION).tgz
	@echo "make sdk: $(SDK_DIR)/agora-rtm.js (agora-rtm-sdk $(SDK_VERSION)); make run serves it as /sdk/agora-rtm.js"

up: ## the same three in containers: docker compose up --build
	docker compose up --build

down: ## stop and remove the compose containers
	docker compose down

# Images for Kubernetes: nothing is published, so the chart's default signaling-auth/* names
# pull nothing until these are pushed. Each Dockerfile's context is the repository root.
IMAGES := tokenserver corsproxy webdemo
REGISTRY ?= signaling-auth
CONTAINER ?= docker
.PHONY: images push

images: $(IMAGES:%=image-%) ## build the three images from the repository root as $(REGISTRY)/<program>:$(VERSION) (CONTAINER=podman or buildah work too)

image-%:
	$(CONTAINER) build -f $*/Dockerfile --build-arg VERSION=$(VERSION) -t $(REGISTRY)/$*:$(VERSION) .

push: images $(IMAGES:%=push-%) ## build and push them: REGISTRY=registry.example.com/signaling-auth make push

push-%:
	$(CONTAINER) push $(REGISTRY)/$*:$(VERSION)

test: ## go vet + go test -race in every module (deploy: without -race)
	@$(START_ARTIFACTS)
	@set -e; for m in $(MODULES); do \
		echo "== $$m"; \
		extra=; [ $$m = e2e ] && extra="$(E2E_ARTIFACTS)"; \
		race=-race; w=; [ $$m = deploy ] && race= && w=GOWORK=off; \
		start=$$SECONDS; \
		(cd $$m && env $$w go vet ./... && env $$w go test $$race -count=1 $$extra ./...); \
		echo "== $$m took $$((SECONDS - start)) s"; \
	done
	@$(MAKE) --no-print-directory screenshots

e2e: ## cross-program tests only: compose, Dockerfiles, make run, config files, browser
	@$(START_ARTIFACTS)
	cd e2e && go vet ./... && go test -race -count=1 $(E2E_ARTIFACTS) ./...
	@$(MAKE) --no-print-directory screenshots

screenshots: ## list the page screenshots the last make test or make e2e saved
	@n=0; for f in $$(find $(ARTIFACTS)/_artifacts -name '*.png' -newer $(ARTIFACTS)/.started 2>/dev/null | sort); do \
		echo "screenshot: $${f#$(CURDIR)/}"; n=$$((n + 1)); done; \
	echo "$$n screenshots of the page from this run, under $(patsubst $(CURDIR)/%,%,$(ARTIFACTS))/_artifacts/<n>/"

bench: ## report: engine vs Agora's reference, bare vs tokenserver vs corsproxy under load (bench/results/latest.md)
	go run ./e2e/cmd/benchreport

soak: ## steady load through corsproxy; RSS, goroutines, fds at start and end (SOAK=30s for a short run)
	go run ./e2e/cmd/benchreport soak -duration $(SOAK)

fmt: ## gofmt every Go file in place
	gofmt -w $$(git ls-files '*.go')

lint: ## gofmt check, go vet and staticcheck in every module
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@set -e; for m in $(MODULES); do \
		w=; [ $$m = deploy ] && w=GOWORK=off; \
		(cd $$m && env $$w go vet ./... && env $$w go run $(STATICCHECK) ./...); \
	done

clean: ## remove built binaries and test caches
	rm -rf $(BIN)
	go clean -testcache

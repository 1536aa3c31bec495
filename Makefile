# Packages the request desk's Lambda functions for AWS SAM's makefile build
# method (template.yaml: `Metadata: BuildMethod: makefile`). `sam build`
# runs `make build-SubmitFunction` and `make build-NotifyFunction` here with
# ARTIFACTS_DIR set, and zips whatever lands in ARTIFACTS_DIR.
#
# cargo-lambda is a developer tool, needed only on the machine that deploys:
#     pip install cargo-lambda        (or: cargo install cargo-lambda)
# It is not a CI dependency: CI never builds for Lambda. It cross-compiles
# for Graviton (arm64) with Zig, which `pip install cargo-lambda` brings
# along, and adds the aarch64 Rust target with rustup when it is missing.
#
# Use `sam build --build-in-source`: without it SAM first copies the whole
# repository (target/ included) to a scratch folder and rebuilds from cold.
#
# Each function's package is:
#     bootstrap            the binary (provided.al2023 runs ./bootstrap)
#     config.yaml          the site's configuration
#     estate.yaml          the estate's facts (phones, hours, response times)
#     content/forms/       the form definitions and departments.yaml
#     themes/              the theme the desk's pages are rendered with
#     templates/ static/   the site's theme overrides, when it has them
# The functions read these from the Lambda task root (LAMBDA_TASK_ROOT).

CARGO_LAMBDA ?= cargo lambda
# Where cargo-lambda leaves binaries: <target dir>/lambda/<bin>/bootstrap.
LAMBDA_DIR ?= $(or $(CARGO_TARGET_DIR),target)/lambda
SITE_DIRS := content/forms themes $(wildcard templates) $(wildcard static)

build-SubmitFunction: BIN := desk-submit
build-NotifyFunction: BIN := desk-notify

.PHONY: build-SubmitFunction build-NotifyFunction
build-SubmitFunction build-NotifyFunction:
	@if [ -z "$(ARTIFACTS_DIR)" ]; then \
	  echo "error: ARTIFACTS_DIR is not set; this target is run by 'sam build' (or: make $@ ARTIFACTS_DIR=/tmp/pkg)" >&2; \
	  exit 1; \
	fi
	$(CARGO_LAMBDA) build --profile lambda-release --arm64 -p desk --no-default-features --features aws --bin $(BIN)
	mkdir -p "$(ARTIFACTS_DIR)"
	cp "$(LAMBDA_DIR)/$(BIN)/bootstrap" "$(ARTIFACTS_DIR)/bootstrap"
	chmod 755 "$(ARTIFACTS_DIR)/bootstrap"
	cp config.yaml "$(ARTIFACTS_DIR)/config.yaml"
	cp estate.yaml "$(ARTIFACTS_DIR)/estate.yaml"
	for d in $(SITE_DIRS); do \
	  rm -rf "$(ARTIFACTS_DIR)/$$d" && mkdir -p "$(ARTIFACTS_DIR)/$$d" && \
	  cp -R "$$d/." "$(ARTIFACTS_DIR)/$$d/" || exit 1; \
	done

# Two commands do all set-up on a fresh Debian/Ubuntu machine with Swift installed:
#   make run    installs missing system libraries, builds (release), evaluates and samples the sample model
#   make test   installs missing system libraries and runs the test suite
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SAMPLE_MODEL ?= sample-models/shakespeare-char-tiny
DATASET ?= datasets/tinyshakespeare.txt

.PHONY: deps build run test bench clean

deps:
	@pkg-config --exists ncursesw openblas 2>/dev/null || { \
	  echo "Installing libncursesw5-dev, libopenblas-dev, pkg-config (apt-get)..." >&2; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq libncursesw5-dev libopenblas-dev pkg-config; }

build: deps
	swift build -c release

run: build
	.build/release/whittle eval --model $(SAMPLE_MODEL)
	.build/release/whittle generate --model $(SAMPLE_MODEL) --prompt "ROMEO:" --tokens 300 --stats

test: deps
	swift test

clean:
	rm -rf .build

# Two commands do all set-up on a fresh Debian/Ubuntu machine with Swift installed:
#   make run    installs missing system libraries, builds (release) and opens the workbench on the sample model
#   make test   installs missing system libraries and runs the test suite
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SAMPLE_MODEL ?= sample-models/shakespeare-char-tiny
DATASET ?= datasets/tinyshakespeare.txt

.PHONY: deps build run test bench bench-kernels clean

deps:
	@pkg-config --exists ncursesw openblas 2>/dev/null && command -v tmux >/dev/null || { \
	  echo "Installing libncursesw5-dev, libopenblas-dev, pkg-config, tmux (apt-get)..." >&2; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq libncursesw5-dev libopenblas-dev pkg-config tmux; }

build: deps
	swift build -c release

run: build
	.build/release/whittle --model $(SAMPLE_MODEL) $(ARGS)

test: deps
	swift test
	swift build -c release --product whittle   # the end-to-end test drives the release binary: never a stale one
	Tests/e2e/tui.sh

# Kernel micro-benchmarks (single thread, against OpenBLAS), built into .build/bench/:
#   make bench-kernels && .build/bench/sgemm && .build/bench/bf16_gemm && .build/bench/bf16_microkernel && .build/bench/sparse_gemv
#   .build/bench/qgemm (quantized and 16-bit products), .build/bench/attention (prefill attention),
#   .build/bench/decode_products (one decode token's 24 weight products; see its header),
#   .build/bench/int8_step_bound (the AVX2 int8 dot-product step alone: the floor of q8_0/int8 kernels)
KERNEL_CFLAGS := -O3 -march=native -fno-math-errno -ISources/CKernels/include
bench-kernels: deps
	mkdir -p .build/bench
	clang $(KERNEL_CFLAGS) bench/sgemm.c Sources/CKernels/gemm_f32.c -lopenblas -lm -o .build/bench/sgemm
	clang $(KERNEL_CFLAGS) bench/bf16_gemm.c Sources/CKernels/gemm_bf16.c -lopenblas -lm -o .build/bench/bf16_gemm
	if grep -q avx512_bf16 /proc/cpuinfo; then clang $(KERNEL_CFLAGS) bench/bf16_microkernel.c -o .build/bench/bf16_microkernel; \
	else echo "bf16_microkernel skipped: this CPU has no AVX-512 BF16"; fi
	clang $(KERNEL_CFLAGS) bench/sparse_gemv.c -lopenblas -lm -o .build/bench/sparse_gemv
	clang $(KERNEL_CFLAGS) bench/qgemm.c Sources/CKernels/quant_gemm.c Sources/CKernels/half_panel.c Sources/CKernels/thread_pool.c -lm -lpthread -o .build/bench/qgemm
	clang $(KERNEL_CFLAGS) bench/attention.c Sources/CKernels/attention_f32.c Sources/CKernels/thread_pool.c -lm -lpthread -o .build/bench/attention
	clang $(KERNEL_CFLAGS) bench/int8_step_bound.c -o .build/bench/int8_step_bound
	clang $(KERNEL_CFLAGS) bench/decode_products.c Sources/CKernels/gemv_f32.c Sources/CKernels/quant_gemm.c Sources/CKernels/half_panel.c Sources/CKernels/thread_pool.c -lm -lpthread -o .build/bench/decode_products

clean:
	rm -rf .build

# Thin wrapper over CMake/Ninja/ctest. See README.md.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_TSAN ?= build-tsan
BUILD_FUZZ ?= build-fuzz
BUILD_REL  ?= build-release
JOBS       ?= $(shell nproc)
CMAKE_GEN   = -G Ninja
CTEST_ARGS ?= --output-on-failure -j$(JOBS)

.PHONY: all deps build test test-asan test-tsan fuzz release bench demo clean

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j$(JOBS)

test: build
	scripts/test-setup.sh
	cd $(BUILD) && ctest $(CTEST_ARGS)
	$(MAKE) --no-print-directory test-tsan

test-asan: deps
	cmake -S . -B $(BUILD_ASAN) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DJOURNEY_SANITIZE=ON \
	  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
	cmake --build $(BUILD_ASAN) -j$(JOBS)
	scripts/test-setup.sh
	cd $(BUILD_ASAN) && JOURNEY_UNDER_SANITIZER=1 ctest $(CTEST_ARGS) -LE nosan

# ThreadSanitizer build of the concurrency tests (label "concurrency").
test-tsan: deps
	cmake -S . -B $(BUILD_TSAN) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DJOURNEY_TSAN=ON \
	  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
	cmake --build $(BUILD_TSAN) -j$(JOBS) --target journey_tsan_tests
	cd $(BUILD_TSAN) && JOURNEY_UNDER_SANITIZER=1 ctest $(CTEST_ARGS) -L concurrency

fuzz: deps
	cmake -S . -B $(BUILD_FUZZ) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DJOURNEY_FUZZ=ON \
	  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
	cmake --build $(BUILD_FUZZ) -j$(JOBS)
	scripts/fuzz.sh $(BUILD_FUZZ) $${FUZZ_SECONDS:-60}

# The Release build, profile-guided (GCC): an instrumented pass of the binaries the
# training runs, the training (scripts/pgo-train.sh), then the whole build again
# with the profiles.
release: deps
	cmake -S . -B $(BUILD_REL) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DJOURNEY_PGO=generate
	cmake --build $(BUILD_REL) -j$(JOBS) --target journey-bench journeyd
	scripts/pgo-train.sh $(BUILD_REL)
	cmake -S . -B $(BUILD_REL) -DJOURNEY_PGO=use
	cmake --build $(BUILD_REL) -j$(JOBS)

bench: release
	scripts/bench.sh $(BUILD_REL)

demo: build
	scripts/demo.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_TSAN) $(BUILD_FUZZ) $(BUILD_REL)

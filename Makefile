# m2msec: the commands a newcomer needs. `make test` and `make run` work on a fresh Debian 12 machine.
.PHONY: all bootstrap build test test-release test-asan run demo bench fuzz clean

JOBS ?= $(shell nproc)

all: build

bootstrap:
	@scripts/bootstrap

# Release build; binaries at build/bin/m2msec and build/bin/m2msecd.
build: bootstrap
	cmake --preset release
	cmake --build --preset release -j $(JOBS)
	ln -sfn release/bin build/bin

# Every test in the release build, then the same tests under ASan + UBSan.
test: bootstrap test-release test-asan

test-release: build
	ctest --preset release -j $(JOBS)

test-asan: bootstrap
	cmake --preset asan
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -j $(JOBS)

# The main job: m2msecd on its embedded default, in the foreground (Ctrl-C stops it): the MEF and MAF roles on
# https://127.0.0.1:8443 (TLS-PSK), /health and /metrics on http://127.0.0.1:9464, SQLite and the
# key-encryption key in ./var, and a development enrolee created on the first start. It prints the command
# that enrols against it.
run: build
	@echo "m2msecd: embedded default (CLI: build/bin/m2msec; state in ./var)"
	build/bin/m2msecd

# The CLI's self-check: every registered algorithm exercised through OpenSSL, one TS-0003 derivation, then a
# PSK security association over DTLS on loopback whose two ends print the same EXPORTER-oneM2M-Bootstrap
# keying material.
demo: build
	build/bin/m2msec algorithms
	build/bin/m2msec derive export-split --label bootstrap --fqdn mef.example.com \
	  --exported 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f
	@scripts/saef-demo

bench: build
	scripts/bench

fuzz: bootstrap
	scripts/fuzz

clean:
	rm -rf build

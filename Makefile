# Toro: build the kernel library, the self-test image and the tools; run the tests.
# `make` builds; `make test` runs every test; `make run` boots the example.

BUILD   := build
CC      := gcc
PYTHON  := /usr/bin/python3
KCFLAGS := -std=c11 -ffreestanding -fno-pie -fno-pic -mno-red-zone -mgeneral-regs-only \
           -mcmodel=small -fno-stack-protector -fno-omit-frame-pointer \
           -fno-tree-loop-distribute-patterns -fno-asynchronous-unwind-tables \
           -O2 -g -Wall -Wextra -Werror=implicit-function-declaration -MMD -MP

# The kernel library: kernel/, virtio/ and the in-kernel part of MPI.
KERNEL_SRC := $(wildcard kernel/*.c) $(wildcard kernel/*.S) $(wildcard virtio/*.c) $(wildcard mpi/kernel/*.c)
KERNEL_OBJ := $(patsubst %,$(BUILD)/%.o,$(basename $(KERNEL_SRC)))

# The MPI library linked into each rank: ordinary user code (SSE allowed),
# compiled against musl's headers like the application. Every function and
# object gets a section of its own, so that the program's link
# (--gc-sections, scripts/toro-mpicc) keeps only what the program uses; no
# unwind tables in the image (gdb reads .debug_frame from the .debug file).
MUSL_INC := /usr/include/x86_64-linux-musl
MPI_CFLAGS := -std=c11 -D_GNU_SOURCE -nostdinc -isystem $(MUSL_INC) -isystem $(shell $(CC) -print-file-name=include) \
              -fPIE -O2 -g -fno-omit-frame-pointer -fno-asynchronous-unwind-tables -ffunction-sections -fdata-sections \
              -Wall -Wextra -Impi/include -MMD -MP
MPI_SRC := $(wildcard mpi/lib/*.c)
MPI_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(MPI_SRC))

.PHONY: all kernel test run clean deps unit-mpi unit-kernel unit-fuse fuzz
all: $(BUILD)/libtoro.a $(BUILD)/libtorompi.a $(BUILD)/selftest.elf

kernel: $(BUILD)/libtoro.a $(BUILD)/libtorompi.a

# Code off the message path (files, sockets, loading, boot, parsing) is
# built for size: it keeps the images small (README "Image size").
KERNEL_COLD := kernel/acpi.c kernel/boot.c kernel/loader.c kernel/path.c kernel/file.c kernel/poll.c \
               kernel/epoll.c kernel/socket.c kernel/console_file.c kernel/lib.c kernel/panic.c \
               virtio/fs.c virtio/fuse_msg.c virtio/fsops.c virtio/vsock.c virtio/vsock_dev.c virtio/socket.c virtio/mmio.c
$(patsubst %.c,$(BUILD)/%.o,$(KERNEL_COLD)): KCFLAGS += -Os

$(BUILD)/kernel/%.o: kernel/%.c
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -c $< -o $@

$(BUILD)/kernel/%.o: kernel/%.S
	@mkdir -p $(dir $@)
	$(CC) -c $< -o $@

$(BUILD)/virtio/%.o: virtio/%.c
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -c $< -o $@

$(BUILD)/mpi/kernel/%.o: mpi/kernel/%.c
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -c $< -o $@

# Each object gets the profiling interface: its MPI_X become PMPI_X, with
# weak MPI_X aliases (scripts/toro-pmpi). A change of MPI_CFLAGS here
# rebuilds the library.
$(BUILD)/mpi/lib/%.o: mpi/lib/%.c scripts/toro-pmpi Makefile
	@mkdir -p $(dir $@)
	$(CC) $(MPI_CFLAGS) -MT $@ -c $< -o $@.raw
	scripts/toro-pmpi $@.raw $@

# Every MPI function no file of mpi/lib defines is generated as "not
# implemented" (scripts/gen-unsupported), so any MPI program links;
# build/mpi/unsupported.txt lists them.
MPI_GEN := $(BUILD)/mpi/unsupported

$(MPI_GEN).c: $(MPI_OBJ) scripts/gen-unsupported mpi/include/mpi.h mpi/include/mpi_functions.txt
	@mkdir -p $(dir $@)
	$(PYTHON) scripts/gen-unsupported -o $@ --list $(MPI_GEN).txt $(MPI_OBJ)

$(MPI_GEN).o: $(MPI_GEN).c scripts/toro-pmpi
	$(CC) $(MPI_CFLAGS) -Impi/lib -c $< -o $@.raw
	scripts/toro-pmpi $@.raw $@

# The library is one object: all of mpi/lib partially linked, then every
# global except the MPI_ and PMPI_ functions made local, so the library's
# internal names (comm_get, dtype_size, ...) never meet a program's own
# (the weak MPI_ aliases stay weak). tests/test_mpi_link.py checks it.
# Then every weak MPI_X alias is replaced by a trampoline that takes the
# rank lock when the rank has several threads (scripts/gen-mt-wrap).
# `ld -r` keeps the .text.X / .data.X sections apart (it merges only
# sections of the same name), so --gc-sections still works on the result.
$(BUILD)/mpi/torompi.o: $(MPI_OBJ) $(MPI_GEN).o scripts/gen-mt-wrap
	ld -r -o $@.raw $(MPI_OBJ) $(MPI_GEN).o
	$(PYTHON) scripts/gen-mt-wrap $@.raw $(BUILD)/mpi/mt_wrap.S $(BUILD)/mpi/mt_wrap.txt
	$(CC) -c $(BUILD)/mpi/mt_wrap.S -o $(BUILD)/mpi/mt_wrap.o
	objcopy --strip-symbols=$(BUILD)/mpi/mt_wrap.txt $@.raw $@.nowrap
	ld -r -o $@.all $@.nowrap $(BUILD)/mpi/mt_wrap.o
	objcopy -w --keep-global-symbol='MPI_*' --keep-global-symbol='PMPI_*' $@.all $@

$(BUILD)/libtorompi.a: $(BUILD)/mpi/torompi.o
	rm -f $@
	ar rcs $@ $^

$(BUILD)/libtoro.a: $(KERNEL_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/tests/kernel/selftest.o: tests/kernel/selftest.c
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -c $< -o $@

$(BUILD)/selftest.elf: $(BUILD)/tests/kernel/selftest.o $(BUILD)/libtoro.a scripts/toro-link kernel/linker.ld
	scripts/toro-link -o $@ $(BUILD)/tests/kernel/selftest.o $(BUILD)/libtoro.a

# Host unit tests of the MPI library with AddressSanitizer and UBSan: the
# datatype engine compiled for the host (glibc) with tests/unit/mpi_shim.c
# in place of the rest of the library. tests/test_unit_mpi.py runs it.
UNIT_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer -Wall -Wextra -Impi/include -Impi/lib -Itests/unit
UNIT_DT_SRC := $(addprefix mpi/lib/,datatype.c dtype_build.c dtype_array.c dtype_pack.c dtype_query.c check.c) \
               tests/unit/mpi_shim.c tests/unit/datatype_test.c

$(BUILD)/unit/datatype_test: $(UNIT_DT_SRC) $(wildcard mpi/lib/*.h) mpi/include/mpi.h tests/unit/mpi_shim.h
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) $(UNIT_DT_SRC) -o $@

# Matching and the protocols (mpi/lib/match.c) on an in-process bus
# (tests/unit/match_shim.c); tests/test_unit_mpi.py also builds mutants.
UNIT_MATCH_SRC := mpi/lib/match.c tests/unit/match_shim.c tests/unit/match_test.c
$(BUILD)/unit/match_test: $(UNIT_MATCH_SRC) $(wildcard mpi/lib/*.h) mpi/svc.h mpi/include/mpi.h tests/unit/match_shim.h
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) $(UNIT_MATCH_SRC) -o $@

unit-mpi: $(BUILD)/unit/datatype_test $(BUILD)/unit/match_test
	$(BUILD)/unit/datatype_test
	$(BUILD)/unit/match_test

# Host unit tests of the kernel with AddressSanitizer and UBSan: the
# virtqueue (virtio/virtqueue.c) on tests/unit/kshim.c in place of the
# rest of the kernel, driven as both sides by tests/unit/virtqueue_test.c.
# tests/test_unit_kernel.py runs it, and builds mutants of virtqueue.c
# (build/unit/mut/NAME.c, one check taken out) that must fail it.
KUNIT_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer -Wall -Wextra -Ivirtio -Itests/unit
KUNIT_DEPS := tests/unit/kshim.c tests/unit/kshim.h virtio/virtqueue.h virtio/wire.h kernel/types.h

$(BUILD)/unit/virtqueue_test: virtio/virtqueue.c tests/unit/virtqueue_test.c $(KUNIT_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(KUNIT_CFLAGS) $< tests/unit/kshim.c tests/unit/virtqueue_test.c -o $@

$(BUILD)/unit/mut/%: $(BUILD)/unit/mut/%.c tests/unit/virtqueue_test.c $(KUNIT_DEPS)
	$(CC) $(KUNIT_CFLAGS) -Wno-unused-function $< tests/unit/kshim.c tests/unit/virtqueue_test.c -o $@

unit-kernel: $(BUILD)/unit/virtqueue_test $(BUILD)/unit/fuse_test $(BUILD)/unit/fsops_test
	$(BUILD)/unit/virtqueue_test
	$(BUILD)/unit/fuse_test
	$(BUILD)/unit/fsops_test

# The FUSE messages of the virtio-fs client (virtio/fuse_msg.c) through
# the fake transport of tests/unit/fuse_test.c; tests/test_unit_fuse.py
# runs it and its mutants (build/unit/mutfuse/NAME.c).
FUNIT_DEPS := tests/unit/fuse_test.c virtio/fuse_msg.h virtio/fuse.h virtio/fs.h kernel/types.h kernel/errno.h

$(BUILD)/unit/fuse_test: virtio/fuse_msg.c $(FUNIT_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(KUNIT_CFLAGS) $< tests/unit/fuse_test.c -o $@

$(BUILD)/unit/mutfuse/%: $(BUILD)/unit/mutfuse/%.c $(FUNIT_DEPS)
	$(CC) $(KUNIT_CFLAGS) -Ivirtio $< tests/unit/fuse_test.c -o $@

# virtio/fsops.c itself, freestanding against the kernel headers as in the
# kernel, with tests/unit/fsops_test.c as fuse_call and the file server.
FSOPS_DEPS := tests/unit/fsops_test.c virtio/fuse_msg.c $(FUNIT_DEPS) kernel/defs.h kernel/file.h

$(BUILD)/unit/fsops_test: virtio/fsops.c $(FSOPS_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(KUNIT_CFLAGS) -ffreestanding $< tests/unit/fsops_test.c virtio/fuse_msg.c -o $@

$(BUILD)/unit/mutfsops/%: $(BUILD)/unit/mutfsops/%.c $(FSOPS_DEPS)
	$(CC) $(KUNIT_CFLAGS) -ffreestanding -Ivirtio $< tests/unit/fsops_test.c virtio/fuse_msg.c -o $@

unit-fuse: $(BUILD)/unit/fuse_test $(BUILD)/unit/fsops_test
	$(BUILD)/unit/fuse_test
	$(BUILD)/unit/fsops_test

deps:
	@scripts/toro-setup

test: deps all
	$(PYTHON) -m pytest -v tests

$(BUILD)/apps/%.elf: apps/%.c $(BUILD)/libtoro.a scripts/toro-mpicc scripts/toro-link
	@mkdir -p $(dir $@)
	scripts/toro-mpicc -O2 -Wall $< -o $@

run: deps all $(BUILD)/apps/hello.elf
	scripts/toro-run -n 4 $(BUILD)/apps/hello.elf -- from the README

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# The floor for boot-time measurements: QEMU booting a PVH kernel that exits at once.
$(BUILD)/empty_pvh.elf: tests/kernel/empty_pvh.S
	@mkdir -p $(BUILD)
	$(CC) -c $< -o $(BUILD)/empty_pvh.o
	ld -m elf_x86_64 -Ttext=0x100000 -e _start --no-warn-rwx-segments -o $@ $(BUILD)/empty_pvh.o
all: $(BUILD)/empty_pvh.elf

# Host tools: the vhost-user vsock backend QEMU's vhost-user-vsock-device talks to.
VSOCKD_SRC := $(wildcard tools/vsockd/*.c)
$(BUILD)/toro-vsockd: $(VSOCKD_SRC) $(wildcard tools/vsockd/*.h)
	@mkdir -p $(BUILD)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -o $@ $(VSOCKD_SRC)
ifneq ($(VSOCKD_SRC),)
all: $(BUILD)/toro-vsockd
endif

# Benchmarks (scripts/toro-bench): the full comparison, and a quick one (< 10 min here).
.PHONY: bench bench-quick
bench: deps all
	$(PYTHON) scripts/toro-bench --full --out results

bench-quick: deps all
	$(PYTHON) scripts/toro-bench --quick --out results/quick

# libFuzzer targets (clang, with ASan and UBSan): tests/unit/fuzz_virtqueue.c
# feeds virtio/virtqueue.c what a device writes into its rings;
# tests/unit/fuzz_vsockd.c feeds toro-vsockd's chain walk and packet parser
# what a guest puts in its tx queue; tests/unit/fuzz_vhost_user.c feeds
# its vhost-user handler what QEMU sends on the socket. `make fuzz` runs each for FUZZ_TIME
# seconds on a corpus kept in build/fuzz/ (crash files land there too);
# tests/test_fuzz.py runs a fixed number of inputs under make test.
FUZZ_CC := clang
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Wall -Wextra
FUZZ_TIME := 60
VSOCKD_LIB := $(filter-out tools/vsockd/main.c tools/vsockd/vhost_user.c,$(VSOCKD_SRC))

$(BUILD)/fuzz/fuzz_virtqueue: virtio/virtqueue.c tests/unit/fuzz_virtqueue.c $(KUNIT_DEPS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE $(FUZZ_CFLAGS) -Ivirtio -Itests/unit $< tests/unit/kshim.c tests/unit/fuzz_virtqueue.c -o $@

# The same on a mutant of virtqueue.c (tests/test_fuzz.py: it must crash).
$(BUILD)/fuzz/fuzz_virtqueue_%: $(BUILD)/unit/mut/%.c tests/unit/fuzz_virtqueue.c $(KUNIT_DEPS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE $(FUZZ_CFLAGS) -Wno-unused-function -Ivirtio -Itests/unit $< tests/unit/kshim.c tests/unit/fuzz_virtqueue.c -o $@

$(BUILD)/fuzz/fuzz_vsockd: $(VSOCKD_LIB) tests/unit/fuzz_vsockd.c $(wildcard tools/vsockd/*.h) virtio/wire.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 $(FUZZ_CFLAGS) $(VSOCKD_LIB) tests/unit/fuzz_vsockd.c -o $@

# tests/unit/fuzz_vhost_user.c includes vhost_user.c (or, for the mutant
# tests/test_fuzz.py writes to build/unit/mut, a copy of it).
$(BUILD)/fuzz/fuzz_vhost_user: tools/vsockd/vhost_user.c $(VSOCKD_LIB) tests/unit/fuzz_vhost_user.c $(wildcard tools/vsockd/*.h) virtio/wire.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 $(FUZZ_CFLAGS) $(VSOCKD_LIB) tests/unit/fuzz_vhost_user.c -o $@

$(BUILD)/fuzz/fuzz_vhost_user_%: $(BUILD)/unit/mut/%.c $(VSOCKD_LIB) tests/unit/fuzz_vhost_user.c $(wildcard tools/vsockd/*.h) virtio/wire.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 $(FUZZ_CFLAGS) -Itools/vsockd '-DVHOST_USER_C="$(abspath $<)"' $(VSOCKD_LIB) tests/unit/fuzz_vhost_user.c -o $@

fuzz: $(BUILD)/fuzz/fuzz_virtqueue $(BUILD)/fuzz/fuzz_vsockd $(BUILD)/fuzz/fuzz_vhost_user
	@mkdir -p $(BUILD)/fuzz/corpus_virtqueue $(BUILD)/fuzz/corpus_vsockd $(BUILD)/fuzz/corpus_vhost_user
	cd $(BUILD)/fuzz && ./fuzz_virtqueue -max_total_time=$(FUZZ_TIME) corpus_virtqueue
	cd $(BUILD)/fuzz && ./fuzz_vsockd -close_fd_mask=2 -max_total_time=$(FUZZ_TIME) corpus_vsockd
	cd $(BUILD)/fuzz && ./fuzz_vhost_user -close_fd_mask=2 -timeout=10 -max_total_time=$(FUZZ_TIME) corpus_vhost_user

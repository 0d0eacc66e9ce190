# Toro: build the kernel library, the self-test image and the tools; run the tests.
# `make` builds; `make test` runs every test; `make run` boots the example.

BUILD   := build
CC      := gcc
PYTHON  := /usr/bin/python3
KCFLAGS := -std=c11 -ffreestanding -fno-pie -fno-pic -mno-red-zone -mgeneral-regs-only \
           -mcmodel=small -fno-stack-protector -fno-omit-frame-pointer \
           -fno-tree-loop-distribute-patterns -fno-asynchronous-unwind-tables \
           -O2 -g -Wall -Wextra -Werror=implicit-function-declaration -MMD -MP

KERNEL_SRC := $(wildcard kernel/*.c) $(wildcard kernel/*.S)
KERNEL_OBJ := $(patsubst %,$(BUILD)/%.o,$(basename $(KERNEL_SRC)))

.PHONY: all kernel test run clean deps
all: $(BUILD)/libtoro.a $(BUILD)/selftest.elf

kernel: $(BUILD)/libtoro.a

$(BUILD)/kernel/%.o: kernel/%.c
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -c $< -o $@

$(BUILD)/kernel/%.o: kernel/%.S
	@mkdir -p $(dir $@)
	$(CC) -c $< -o $@

$(BUILD)/libtoro.a: $(KERNEL_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/tests/kernel/selftest.o: tests/kernel/selftest.c
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -c $< -o $@

$(BUILD)/selftest.elf: $(BUILD)/tests/kernel/selftest.o $(BUILD)/libtoro.a scripts/toro-link kernel/linker.ld
	scripts/toro-link -o $@ $(BUILD)/tests/kernel/selftest.o $(BUILD)/libtoro.a

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

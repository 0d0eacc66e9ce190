"""The parts of scripts/toro-bench, Toro's benchmark runner (the command
keeps only its command line):

  config   folders, systems, benchmark groups, CSV fields, the modes
  osu      OSU output parsing, floor lines, CSV rows and files
  plots    matplotlib plots, headline ratios, goals table, summary.md
  pinning  host cores, QEMU vCPU thread pinning, mpirun --bind-to none
  env      ENV.md (host facts)
  runner   the run steps (class Runner)

Standard library and matplotlib only; toro_accel (scripts/toro_accel.py)
must be importable, as it is when scripts/ is on sys.path."""

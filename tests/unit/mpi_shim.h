/* The host shim of the MPI library's internals (mpi_shim.c). */
#pragma once
#include "impl.h"

extern int shim_last_class;      /* the class of the last mpi_err call */
extern char shim_last_text[512]; /* "MPI_Xxx: detail" of it */

/* The rank lock for MPI_THREAD_MULTIPLE (thread.c). */
#pragma once
#include <stdbool.h>

int mt_init(int required);     /* the level provided */
bool mt_is_main(void);
int mt_suspend(void);          /* before waiting: let the lock go; returns what to give mt_resume */
void mt_resume(int held);
void mt_progress(void);        /* p2p_progress from a wait_until cond (coll_shm.c) */

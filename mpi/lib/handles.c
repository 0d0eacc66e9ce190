/* Fortran conversions (MPI-3.1 17.2.4, 17.2.5) of requests, messages and
 * statuses. Toro's handles are ints, so a Fortran handle is the C handle;
 * a Fortran status is the five ints of MPI_Status, in the same order
 * (MPI_F_SOURCE, MPI_F_TAG, MPI_F_ERROR, then the count words). */
#include <string.h>
#include "impl.h"

MPI_Fint MPI_Request_c2f(MPI_Request request) { return (MPI_Fint)request; }
MPI_Request MPI_Request_f2c(MPI_Fint request) { return (MPI_Request)request; }
MPI_Fint MPI_Message_c2f(MPI_Message message) { return (MPI_Fint)message; }
MPI_Message MPI_Message_f2c(MPI_Fint message) { return (MPI_Message)message; }

_Static_assert(sizeof(MPI_Status) == MPI_F_STATUS_SIZE * sizeof(MPI_Fint),
	       "a Fortran status is an MPI_Status");

/* 17.2.5: passing MPI_STATUS_IGNORE or MPI_F_STATUS_IGNORE is erroneous. */
int MPI_Status_c2f(const MPI_Status *c_status, MPI_Fint *f_status)
{
	if (!c_status || c_status == MPI_STATUS_IGNORE || !f_status || f_status == MPI_F_STATUS_IGNORE)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, __func__, "an ignored or NULL status");
	memcpy(f_status, c_status, sizeof *c_status);
	return MPI_SUCCESS;
}

int MPI_Status_f2c(const MPI_Fint *f_status, MPI_Status *c_status)
{
	if (!f_status || f_status == MPI_F_STATUS_IGNORE || !c_status || c_status == MPI_STATUS_IGNORE)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, __func__, "an ignored or NULL status");
	memcpy(c_status, f_status, sizeof *c_status);
	return MPI_SUCCESS;
}
